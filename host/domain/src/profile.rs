//! Custom user profile fields (Moodle's "User profile fields"): a site
//! admin defines them, and each user's values live in `User::profile`
//! under the field's short name, as text in the field's canonical form.

use serde::{Deserialize, Serialize};

use crate::{ProfileFieldId, Timestamp};

/// A profile field of a site. Stored with postcard: a new field goes last.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileField {
    pub id: ProfileFieldId,
    /// The key of its values in `User::profile`, in CSV headers
    /// (`profile_field_<shortname>`) and in rules: `[a-z0-9_]`, unique in
    /// the site, never changed once made.
    pub shortname: String,
    /// What forms and pages call it, e.g. "Department".
    pub name: String,
    pub kind: ProfileFieldKind,
    /// A person saving a user's form, and a user saving their own, must
    /// give it; uploads and the API may leave it empty (as in Moodle).
    pub required: bool,
    /// Shown to the user on their own profile; otherwise only site admins
    /// see it.
    pub visible_to_user: bool,
    /// Only site admins change it, never the user.
    pub locked: bool,
    /// Forms list fields by this, then by short name.
    pub position: u32,
    pub created_at: Timestamp,
}

/// What a profile field holds. A value is stored as text in the kind's
/// canonical form; an empty value is no value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProfileFieldKind {
    /// One line of text.
    Text,
    /// One of these choices, stored as written here.
    Menu { choices: Vec<String> },
    /// Ticked (`1`) or not (no value).
    Checkbox,
    /// A calendar date, `YYYY-MM-DD`.
    Date,
}

impl ProfileFieldKind {
    /// The kind's name in forms, the API and the CSV docs.
    pub fn as_str(&self) -> &'static str {
        match self {
            ProfileFieldKind::Text => "text",
            ProfileFieldKind::Menu { .. } => "menu",
            ProfileFieldKind::Checkbox => "checkbox",
            ProfileFieldKind::Date => "date",
        }
    }

    /// `value` in the kind's canonical form (`None`: no value), or why it
    /// does not fit. Text is trimmed; a menu takes a choice whatever its
    /// case; a checkbox reads `1/0`, `yes/no`, `true/false`; a date is
    /// `YYYY-MM-DD` and must exist.
    pub fn canonical(&self, value: &str) -> Result<Option<String>, String> {
        let value = value.trim();
        if value.is_empty() {
            return Ok(None);
        }
        match self {
            ProfileFieldKind::Text => Ok(Some(value.to_owned())),
            ProfileFieldKind::Menu { choices } => choices
                .iter()
                .find(|c| c.eq_ignore_ascii_case(value))
                .map(|c| Some(c.clone()))
                .ok_or_else(|| {
                    format!(
                        "{value:?} is not one of its choices: {}",
                        choices
                            .iter()
                            .map(|c| format!("{c:?}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }),
            ProfileFieldKind::Checkbox => match value.to_ascii_lowercase().as_str() {
                "1" | "yes" | "true" | "on" => Ok(Some("1".to_owned())),
                "0" | "no" | "false" | "off" => Ok(None),
                _ => Err(format!("{value:?} is not a checkbox value: use 1 or 0")),
            },
            ProfileFieldKind::Date => {
                if is_date(value) {
                    Ok(Some(value.to_owned()))
                } else {
                    Err(format!("{value:?} is not a date: use YYYY-MM-DD"))
                }
            }
        }
    }
}

/// Whether `v` is an existing date written `YYYY-MM-DD`.
fn is_date(v: &str) -> bool {
    let b = v.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let s = v.get(r)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    y >= 1 && (1..=days).contains(&d)
}

/// The domain of an e-mail address, lower case: what `users-by-email-domain`
/// indexes and a rule on "e-mail domain" compares.
pub fn email_domain(email: &str) -> Option<String> {
    let (_, domain) = email.rsplit_once('@')?;
    (!domain.is_empty()).then(|| domain.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_take_each_kinds_canonical_form() {
        let menu = ProfileFieldKind::Menu {
            choices: vec!["HR".into(), "Finance".into()],
        };
        assert_eq!(menu.canonical(" finance "), Ok(Some("Finance".into())));
        assert!(
            menu.canonical("Sales")
                .unwrap_err()
                .contains(r#""HR", "Finance""#)
        );
        assert_eq!(menu.canonical(""), Ok(None));
        let check = ProfileFieldKind::Checkbox;
        assert_eq!(check.canonical("Yes"), Ok(Some("1".into())));
        assert_eq!(check.canonical("0"), Ok(None));
        assert!(check.canonical("maybe").is_err());
        let date = ProfileFieldKind::Date;
        assert_eq!(date.canonical("2024-02-29"), Ok(Some("2024-02-29".into())));
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "24-01-01",
            "2024-1-01",
            "2024-01-0a",
        ] {
            assert!(date.canonical(bad).is_err(), "{bad}");
        }
        assert_eq!(
            ProfileFieldKind::Text.canonical("  HR  "),
            Ok(Some("HR".into()))
        );
    }

    #[test]
    fn an_email_domain_is_what_follows_the_last_at_in_lower_case() {
        assert_eq!(
            email_domain("Ann@Example.ORG").as_deref(),
            Some("example.org")
        );
        assert_eq!(email_domain("no-at-sign"), None);
        assert_eq!(email_domain("ann@"), None);
    }
}
