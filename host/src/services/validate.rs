//! Field rules shared by every service: lengths, characters, formats.
//!
//! Each function returns the cleaned value (trimmed, case-folded where the
//! field is case-insensitive) or an `Invalid` error naming the field.

use super::error::{ServiceError, ServiceResult};

pub const MAX_NAME: usize = 254;
pub const MAX_IDNUMBER: usize = 100;
pub const MAX_DESCRIPTION: usize = 10_000;
/// The largest config an enrolment method may have, as JSON text
/// (what an admin sends, and what its plugin normalises it to).
pub const MAX_CONFIG_BYTES: usize = 64 * 1024;
pub const MAX_USERNAME: usize = 100;

fn no_control(field: &'static str, value: &str) -> ServiceResult<()> {
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(ServiceError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    Ok(())
}

/// A required one-line text of at most `max` characters.
pub fn required_text(field: &'static str, value: &str, max: usize) -> ServiceResult<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(ServiceError::invalid(field, "is required"));
    }
    if v.contains('\n') || v.contains('\r') {
        return Err(ServiceError::invalid(field, "must be one line"));
    }
    optional_text(field, v, max)
}

/// Free text of at most `max` characters (may be empty, may span lines).
pub fn optional_text(field: &'static str, value: &str, max: usize) -> ServiceResult<String> {
    let v = value.trim();
    let len = v.chars().count();
    if len > max {
        return Err(ServiceError::invalid(
            field,
            format!("is {len} characters long; the maximum is {max}"),
        ));
    }
    no_control(field, v)?;
    Ok(v.to_owned())
}

/// A required Markdown text of at most `max_bytes` (an announcement's or a
/// post's body): trimmed, no NUL (it would end the text in some mail
/// clients and C libraries).
pub fn markdown_body(field: &'static str, value: &str, max_bytes: usize) -> ServiceResult<String> {
    let body = value.trim();
    if body.is_empty() {
        return Err(ServiceError::invalid(field, "is required"));
    }
    if body.len() > max_bytes {
        return Err(ServiceError::invalid(
            field,
            format!(
                "is {} KiB long; the maximum is {} KiB",
                body.len().div_ceil(1024),
                max_bytes / 1024
            ),
        ));
    }
    if body.contains('\0') {
        return Err(ServiceError::invalid(
            field,
            "must not contain NUL characters",
        ));
    }
    Ok(body.to_owned())
}

/// An optional external key: blank means none.
pub fn idnumber(field: &'static str, value: Option<&str>) -> ServiceResult<Option<String>> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => Ok(Some(required_text(field, v, MAX_IDNUMBER)?)),
    }
}

/// The name, idnumber and description that label a course group or a user
/// segment, checked: a one-line name, an optional idnumber, free text.
pub struct Labels {
    pub name: String,
    pub idnumber: Option<String>,
    pub description: String,
}

/// Checks the labels of a new record, in field order.
pub fn labels(name: &str, idnumber: Option<&str>, description: &str) -> ServiceResult<Labels> {
    Ok(Labels {
        name: required_text("name", name, MAX_NAME)?,
        idnumber: self::idnumber("idnumber", idnumber)?,
        description: optional_text("description", description, MAX_DESCRIPTION)?,
    })
}

/// The labels an update changes (`None`: left as it is), checked as
/// [`labels`]; an idnumber of `Some("")` clears it.
pub struct LabelChanges {
    pub name: Option<String>,
    pub idnumber: Option<Option<String>>,
    pub description: Option<String>,
}

/// Checks the labels an update changes, in field order.
pub fn label_changes(
    name: Option<&str>,
    idnumber: Option<&str>,
    description: Option<&str>,
) -> ServiceResult<LabelChanges> {
    Ok(LabelChanges {
        name: name
            .map(|v| required_text("name", v, MAX_NAME))
            .transpose()?,
        idnumber: idnumber
            .map(|v| self::idnumber("idnumber", Some(v)))
            .transpose()?,
        description: description
            .map(|v| optional_text("description", v, MAX_DESCRIPTION))
            .transpose()?,
    })
}

/// Lower case letters, digits and `. _ - @`, as Moodle allows by default.
pub fn username(value: &str) -> ServiceResult<String> {
    let v = required_text("username", value, MAX_USERNAME)?.to_lowercase();
    if let Some(c) = v
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@')))
    {
        return Err(ServiceError::invalid(
            "username",
            format!("may contain only letters, digits and . _ - @ (found {c:?})"),
        ));
    }
    Ok(v)
}

/// A plausible e-mail address: one `@`, a dot in the domain, no spaces.
pub fn email(value: &str) -> ServiceResult<String> {
    let v = required_text("email", value, MAX_NAME)?;
    let ok = match v.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !v.contains(char::is_whitespace)
        }
        None => false,
    };
    if !ok {
        return Err(ServiceError::invalid(
            "email",
            format!("{v:?} is not an e-mail address"),
        ));
    }
    Ok(v)
}

/// A site slug: 1–63 of `a-z 0-9 -`, not starting or ending with `-`.
pub fn slug(value: &str) -> ServiceResult<String> {
    let v = value.trim().to_lowercase();
    let ok = !v.is_empty()
        && v.len() <= 63
        && v.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !v.starts_with('-')
        && !v.ends_with('-');
    if !ok {
        return Err(ServiceError::invalid(
            "slug",
            "must be 1 to 63 lower-case letters, digits or hyphens, not starting or ending with a hyphen",
        ));
    }
    Ok(v)
}

/// A host name as it appears in a `Host` header, without port.
pub fn hostname(value: &str) -> ServiceResult<String> {
    let v = value.trim().to_lowercase();
    let ok = !v.is_empty()
        && v.len() <= 253
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if !ok {
        return Err(ServiceError::invalid(
            "hostnames",
            format!("{value:?} is not a host name"),
        ));
    }
    Ok(v)
}

/// `#rrggbb`.
pub fn colour(value: &str) -> ServiceResult<String> {
    let v = value.trim().to_lowercase();
    let ok = v.len() == 7 && v.starts_with('#') && v[1..].chars().all(|c| c.is_ascii_hexdigit());
    if !ok {
        return Err(ServiceError::invalid(
            "brand_colour",
            "must be a colour like #1f6feb",
        ));
    }
    Ok(v)
}

/// A profile field name: `a-z 0-9 _`, as used in `profile_field_<name>`.
pub fn profile_field_name(value: &str) -> ServiceResult<String> {
    let v = value.trim().to_lowercase();
    let ok = !v.is_empty()
        && v.len() <= 64
        && v.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !ok {
        return Err(ServiceError::invalid(
            "profile",
            format!("{value:?} is not a profile field name (a-z, 0-9, _)"),
        ));
    }
    Ok(v)
}

/// Passwords: at least 8 characters; the upper bound keeps hashing cheap.
pub fn password(value: &str) -> ServiceResult<()> {
    let len = value.chars().count();
    if len < 8 {
        return Err(ServiceError::invalid(
            "password",
            "must be at least 8 characters long",
        ));
    }
    if len > 1024 {
        return Err(ServiceError::invalid(
            "password",
            "must be at most 1024 characters long",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn over_long_names_are_refused_with_their_length() {
        let err = required_text("name", &"x".repeat(MAX_NAME + 1), MAX_NAME).unwrap_err();
        assert_eq!(
            err.to_string(),
            "name: is 255 characters long; the maximum is 254"
        );
    }

    #[test]
    fn blank_idnumber_means_none() {
        assert_eq!(idnumber("idnumber", Some("  ")).unwrap(), None);
        assert_eq!(
            idnumber("idnumber", Some(" HR ")).unwrap(),
            Some("HR".into())
        );
    }

    #[test]
    fn usernames_fold_case_and_refuse_spaces() {
        assert_eq!(username("Alice.B").unwrap(), "alice.b");
        assert!(username("a b").is_err());
    }

    #[test]
    fn emails_need_a_domain_with_a_dot() {
        assert!(email("a@example.org").is_ok());
        for bad in ["a", "a@b", "@b.c", "a@@b.c", "a b@c.d", "a@.c"] {
            assert!(email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn slugs_and_hosts() {
        assert_eq!(slug("Default").unwrap(), "default");
        assert!(slug("-x").is_err());
        assert!(slug("a/b").is_err());
        assert_eq!(hostname("LMS.Example.org").unwrap(), "lms.example.org");
        assert!(hostname("a b").is_err());
    }
}
