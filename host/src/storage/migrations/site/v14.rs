//! Site schema version 14: custom profile fields. Their definitions get a
//! table; every profile key users already hold (the demo's `department`)
//! becomes a text field of that short name; and two indexes are built:
//! users by e-mail domain and users by profile value, for rules and
//! plugin queries that must not scan every user.

use std::collections::{BTreeMap, BTreeSet};

use redb::{ReadableTable, TableDefinition, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::v1;
use crate::storage::{Result, decode, encode};

pub(super) const USERS_BY_EMAIL_DOMAIN: TableDefinition<(&str, u64), ()> =
    TableDefinition::new("users-by-email-domain-v1");
pub(super) const PROFILE_FIELDS: TableDefinition<u64, &[u8]> =
    TableDefinition::new("profile-fields-v1");
pub(super) const PROFILE_VALUES: TableDefinition<(&str, &str, u64), ()> =
    TableDefinition::new("profile-values-v1");

/// Frozen copies of the records this migration reads and writes.
mod frozen {
    use super::*;

    /// A user's leading fields up to its profile (postcard is positional
    /// and ignores what follows). Enums are read as their variant index.
    #[derive(Deserialize)]
    pub(super) struct UserHead {
        pub id: u64,
        pub _username: String,
        pub email: String,
        pub _firstname: String,
        pub _lastname: String,
        pub _status: u32,
        pub _site_role: u32,
        pub profile: BTreeMap<String, String>,
    }

    /// Only the first kind, `text`, is written here.
    #[derive(Serialize)]
    pub(super) enum KindV1 {
        Text,
    }

    #[derive(Serialize)]
    pub(super) struct ProfileFieldV1 {
        pub id: u64,
        pub shortname: String,
        pub name: String,
        pub kind: KindV1,
        pub required: bool,
        pub visible_to_user: bool,
        pub locked: bool,
        pub position: u32,
        pub created_at: i64,
    }
}

/// "cost_centre" → "Cost centre".
fn name_of(shortname: &str) -> String {
    let spaced = shortname.replace('_', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => spaced,
    }
}

fn domain_of(email: &str) -> Option<String> {
    let (_, domain) = email.rsplit_once('@')?;
    (!domain.is_empty()).then(|| domain.to_ascii_lowercase())
}

pub(super) fn add_profile_fields(tx: &WriteTransaction) -> Result<()> {
    let mut keys = BTreeSet::new();
    {
        let users = tx.open_table(v1::USERS)?;
        let mut by_domain = tx.open_table(USERS_BY_EMAIL_DOMAIN)?;
        let mut values = tx.open_table(PROFILE_VALUES)?;
        for row in users.iter()? {
            let (_, v) = row?;
            let user: frozen::UserHead = decode("users", v.value())?;
            if let Some(domain) = domain_of(&user.email) {
                by_domain.insert((domain.as_str(), user.id), ())?;
            }
            for (field, value) in &user.profile {
                let value = value.to_lowercase();
                values.insert((field.as_str(), value.as_str(), user.id), ())?;
                keys.insert(field.clone());
            }
        }
    }
    let mut fields = tx.open_table(PROFILE_FIELDS)?;
    let created_at = crate::domain::Timestamp::now().0;
    let mut id = 0;
    for shortname in keys {
        id += 1;
        let field = frozen::ProfileFieldV1 {
            id,
            name: name_of(&shortname),
            shortname,
            kind: frozen::KindV1::Text,
            required: false,
            visible_to_user: true,
            locked: false,
            position: u32::try_from(id).unwrap_or(u32::MAX),
            created_at,
        };
        fields.insert(id, encode(&field).as_slice())?;
    }
    if id > 0 {
        tx.open_table(v1::META)?
            .insert("next.profile_field", id + 1)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testing::Migrated;
    use super::*;
    use crate::domain::*;
    use crate::storage::site::prelude::*;

    /// A version-13 user as that version wrote it.
    fn user(id: u64, email: &str, profile: &[(&str, &str)]) -> User {
        User {
            id: UserId(id),
            username: format!("u{id}"),
            email: email.into(),
            firstname: "F".into(),
            lastname: "L".into(),
            status: UserStatus::Active,
            site_role: SiteRole::User,
            profile: profile
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            password_hash: None,
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
        }
    }

    #[test]
    fn migration_14_defines_a_text_field_per_key_in_use_and_indexes_users() {
        let file = Migrated::from(13, |tx| {
            let mut users = tx.open_table(v1::USERS).unwrap();
            for u in [
                user(1, "ann@Acme.example", &[("department", "HR")]),
                user(
                    2,
                    "bob@acme.example",
                    &[("department", "Finance"), ("cost_centre", "7")],
                ),
                user(3, "cy@other.example", &[]),
            ] {
                users.insert(u.id.0, encode(&u).as_slice()).unwrap();
            }
        });
        assert_eq!(file.applied, vec![14, 15]);
        let t = file.tables();
        let fields = t.all_profile_fields().unwrap();
        assert_eq!(
            fields
                .iter()
                .map(|f| (f.id.0, f.shortname.as_str(), f.name.as_str(), &f.kind))
                .collect::<Vec<_>>(),
            [
                (1, "cost_centre", "Cost centre", &ProfileFieldKind::Text),
                (2, "department", "Department", &ProfileFieldKind::Text),
            ]
        );
        assert!(
            fields
                .iter()
                .all(|f| f.visible_to_user && !f.required && !f.locked)
        );
        assert_eq!(
            t.user_ids_by_email_domain("acme.example", None, 10)
                .unwrap(),
            [UserId(1), UserId(2)]
        );
        assert_eq!(
            t.user_ids_by_profile_value("department", "hr", None, 10)
                .unwrap(),
            [UserId(1)]
        );
        assert_eq!(
            t.user_ids_with_profile_field("department").unwrap(),
            [UserId(2), UserId(1)],
            "in value order: finance, hr"
        );
    }
}
