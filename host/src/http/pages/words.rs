//! How the pages word what they count and what they name: "1 member" but
//! "3 members", and the name an enrolment method goes by.
//!
//! Plain text only, never markup: the templates escape it.

use crate::domain::EnrolmentMethod;

/// `n` things in words: `count(1, "member", "members")` is "1 member",
/// `count(3, …)` "3 members" (and "0 members").
pub(crate) fn count(n: u64, one: &str, many: &str) -> String {
    match n {
        1 => format!("1 {one}"),
        n => format!("{n} {many}"),
    }
}

/// What the pages call an enrolment method: its name, or its
/// plugin's id when it has none.
pub(crate) fn method_name(m: &EnrolmentMethod) -> &str {
    if m.name.is_empty() {
        &m.plugin
    } else {
        &m.name
    }
}

#[cfg(test)]
mod tests {
    use super::count;

    #[test]
    fn one_thing_is_singular_and_any_other_number_plural() {
        assert_eq!(count(1, "member", "members"), "1 member");
        assert_eq!(count(0, "member", "members"), "0 members");
        assert_eq!(
            count(12, "course group", "course groups"),
            "12 course groups"
        );
    }
}
