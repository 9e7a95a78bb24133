//! Users inside a transaction: looking one up, and the checks and rows of
//! a new account, shared by `users` and the CSV import.
//!
//! Never authorises (callers do, with their principal) and never opens a
//! transaction: every write takes the caller's `SiteTables`.

use std::collections::BTreeMap;

use super::profile::ProfileRules;
use crate::domain::*;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::{password, validate};
use crate::storage::site::{SiteTables, prelude::*};

#[derive(Clone, Debug, Default)]
pub struct NewUser {
    pub username: String,
    pub email: String,
    pub firstname: String,
    pub lastname: String,
    pub password: Option<String>,
    pub site_admin: bool,
    pub profile: BTreeMap<String, String>,
}

/// Whether a change must leave every required profile field filled in:
/// a person saving a form must (Moodle's rule); an upload, the API or a
/// plugin may leave one empty.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProfileCheck {
    AsGiven,
    Complete,
}

/// Checks profile field names and the values' length (their kinds are
/// checked against the site's fields inside the transaction, see
/// `ops::profile`); an empty value stands for "remove the field".
pub(crate) fn clean_profile(
    profile: &BTreeMap<String, String>,
) -> ServiceResult<BTreeMap<String, Option<String>>> {
    let mut out = BTreeMap::new();
    for (k, v) in profile {
        let name = validate::profile_field_name(k)?;
        let value = validate::optional_text("profile", v, validate::MAX_NAME)?;
        out.insert(name, (!value.is_empty()).then_some(value));
    }
    Ok(out)
}

/// Refuses a username or e-mail another user has.
pub(crate) fn check_unique(t: &SiteTables<'_>, user: &User) -> ServiceResult<()> {
    if let Some(other) = t.user_id_by_username(&user.username)?
        && other != user.id
    {
        return Err(ServiceError::duplicate(
            "username",
            format!("username {:?} is taken", user.username),
        ));
    }
    if let Some(other) = t.user_id_by_email(&user.email)?
        && other != user.id
    {
        return Err(ServiceError::duplicate(
            "email",
            format!("e-mail {:?} is taken", user.email),
        ));
    }
    Ok(())
}

/// Fails with `NotFound` unless the user exists (without decoding it).
pub(crate) fn require_user(t: &impl SiteRead, id: UserId) -> ServiceResult<()> {
    if t.user_exists(id)? {
        Ok(())
    } else {
        Err(ServiceError::not_found(format!("user #{id}")))
    }
}

pub(crate) fn load_user(t: &impl SiteRead, id: UserId) -> ServiceResult<User> {
    t.user(id)?
        .ok_or_else(|| ServiceError::not_found(format!("user #{id}")))
}

/// A `NewUser` whose fields passed validation, ready to insert.
pub(crate) struct PreparedUser {
    pub(crate) username: String,
    pub(crate) email: String,
    pub(crate) firstname: String,
    pub(crate) lastname: String,
    site_role: SiteRole,
    profile: BTreeMap<String, String>,
    /// Set by the caller when it hashes apart from the checks (the CSV
    /// import checks a whole file before it hashes anything).
    pub(crate) password_hash: Option<String>,
}

/// Validates outside the transaction: hashing a password is slow and must
/// not hold the site's write lock.
pub(crate) fn prepare_user(n: NewUser) -> ServiceResult<PreparedUser> {
    let password_hash = match &n.password {
        Some(pw) => {
            validate::password(pw)?;
            Some(password::hash(pw))
        }
        None => None,
    };
    Ok(PreparedUser {
        username: validate::username(&n.username)?,
        email: validate::email(&n.email)?,
        firstname: validate::required_text("firstname", &n.firstname, validate::MAX_NAME)?,
        lastname: validate::required_text("lastname", &n.lastname, validate::MAX_NAME)?,
        site_role: if n.site_admin {
            SiteRole::SiteAdmin
        } else {
            SiteRole::User
        },
        profile: clean_profile(&n.profile)?
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .collect(),
        password_hash,
    })
}

pub(crate) fn insert_user(
    t: &mut SiteTables<'_>,
    actor: Actor,
    p: PreparedUser,
    reason: &str,
    rules: &ProfileRules,
    check: ProfileCheck,
) -> ServiceResult<User> {
    let mut profile = BTreeMap::new();
    rules.apply(
        &mut profile,
        p.profile.into_iter().map(|(k, v)| (k, Some(v))),
    )?;
    if check == ProfileCheck::Complete {
        rules.require_complete(&profile)?;
    }
    let user = User {
        id: t.new_user_id()?,
        username: p.username,
        email: p.email,
        firstname: p.firstname,
        lastname: p.lastname,
        status: UserStatus::Active,
        site_role: p.site_role,
        profile,
        password_hash: p.password_hash,
        created_at: t.now,
        updated_at: t.now,
    };
    check_unique(t, &user)?;
    t.put_user(&user)?;
    t.audit_log(
        actor,
        "user.created",
        format!("user #{} {:?}", user.id, user.username),
        reason.to_owned(),
    )?;
    t.emit(SiteEvent::UserCreated { user: user.id })?;
    Ok(user)
}
