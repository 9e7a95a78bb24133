//! The rule a site admin writes, parsed once and used the same way by
//! `validate`, the events and the reconcile: a pure type, so what the form
//! accepts is exactly what selects users.
//!
//! One condition per line, `<subject> <operator> [<value>]`; blank lines
//! and lines starting with `#` are skipped. Every problem is reported with
//! its line number (counted over all lines, as the admin sees them in the
//! text box), and all of them at once, so a long rule is fixed in one go.

use charon_sdk::{FieldError, User};
use serde::{Deserialize, Serialize};

/// The config key every rule error is reported on.
pub const FIELD: &str = "rule";

/// The subjects, as the error messages list them.
const SUBJECTS: &str = "use profile.<field>, email-domain or site-role";

/// The operators, as the error messages list them.
const OPERATORS: &str = "use equals, contains, starts-with, is-empty or in-list";

/// Whether a user must meet every condition or one of them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Match {
    /// All conditions (`and`).
    #[default]
    All,
    /// Any condition (`or`).
    Any,
}

/// What a condition looks at in a user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    /// A custom profile field, by short name (`profile.department`).
    Profile(String),
    /// The part of the e-mail address after the `@` (`email-domain`).
    EmailDomain,
    /// `admin` for a site admin, `user` for everyone else (`site-role`).
    SiteRole,
}

/// How a condition compares the subject's value with its own values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operator {
    Equals,
    Contains,
    StartsWith,
    /// No value, or only spaces; takes no value itself.
    IsEmpty,
    /// Equal to one of a comma-separated list.
    InList,
}

impl Operator {
    fn parse(word: &str) -> Option<Operator> {
        Some(match word {
            "equals" => Operator::Equals,
            "contains" => Operator::Contains,
            "starts-with" => Operator::StartsWith,
            "is-empty" => Operator::IsEmpty,
            "in-list" => Operator::InList,
            _ => return None,
        })
    }

    /// The operator as written in a rule.
    fn keyword(self) -> &'static str {
        match self {
            Operator::Equals => "equals",
            Operator::Contains => "contains",
            Operator::StartsWith => "starts-with",
            Operator::IsEmpty => "is-empty",
            Operator::InList => "in-list",
        }
    }
}

/// One line of a rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    pub subject: Subject,
    pub operator: Operator,
    /// The values as written (trimmed): none for `is-empty`, one for
    /// `equals`, `contains` and `starts-with`, one or more for `in-list`.
    pub values: Vec<String>,
}

/// A parsed rule: the users it selects are the segment's members.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// Every condition must hold (else any one).
    pub all: bool,
    /// At least one.
    pub conditions: Vec<Condition>,
}

impl Rule {
    /// Parses a rule's text, reporting every problem on the field
    /// [`FIELD`] with its line number.
    pub fn parse(matching: Match, text: &str) -> Result<Rule, Vec<FieldError>> {
        let mut conditions = Vec::new();
        let mut errors = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            match Condition::parse(line) {
                Ok(condition) => conditions.push(condition),
                Err(problems) => errors.extend(
                    problems
                        .into_iter()
                        .map(|p| FieldError::new(FIELD, format!("line {}: {p}", index + 1))),
                ),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        if conditions.is_empty() {
            return Err(vec![FieldError::new(FIELD, "write at least one condition")]);
        }
        Ok(Rule {
            all: matching == Match::All,
            conditions,
        })
    }

    /// Whether the user meets the rule.
    pub fn matches(&self, user: &User) -> bool {
        let mut each = self.conditions.iter().map(|c| c.matches(user));
        if self.all {
            each.all(|m| m)
        } else {
            each.any(|m| m)
        }
    }

    /// The rule in words, on one line, e.g. `department equals HR and
    /// e-mail domain equals acme.example`.
    pub fn describe(&self) -> String {
        let joint = if self.all { " and " } else { " or " };
        self.conditions
            .iter()
            .map(Condition::describe)
            .collect::<Vec<_>>()
            .join(joint)
    }
}

/// Splits off the first word of `text` (already trimmed at the start).
fn first_word(text: &str) -> (&str, &str) {
    match text.split_once(char::is_whitespace) {
        Some((word, rest)) => (word, rest.trim()),
        None => (text, ""),
    }
}

fn is_short_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl Subject {
    fn parse(word: &str) -> Result<Subject, String> {
        match word {
            "email-domain" => Ok(Subject::EmailDomain),
            "site-role" => Ok(Subject::SiteRole),
            _ => match word.strip_prefix("profile.") {
                Some(name) if is_short_name(name) => Ok(Subject::Profile(name.to_owned())),
                Some(name) => Err(format!(
                    "{name:?} is not a profile field's short name (lowercase letters, digits and _)"
                )),
                None => Err(format!("unknown subject {word:?}; {SUBJECTS}")),
            },
        }
    }

    /// The user's value of the subject, trimmed; `None` when they have
    /// none (a profile field left blank, an address without `@`).
    fn value<'u>(&self, user: &'u User) -> Option<&'u str> {
        match self {
            Subject::Profile(name) => user
                .profile
                .iter()
                .find(|p| p.field.eq_ignore_ascii_case(name))
                .map(|p| p.value.trim()),
            Subject::EmailDomain => user.email.rsplit_once('@').map(|(_, d)| d.trim()),
            Subject::SiteRole => Some(if user.site_admin { "admin" } else { "user" }),
        }
    }

    fn describe(&self) -> &str {
        match self {
            Subject::Profile(name) => name,
            Subject::EmailDomain => "e-mail domain",
            Subject::SiteRole => "site role",
        }
    }
}

impl Condition {
    /// Parses one non-blank, non-comment line (trimmed); the problems
    /// come without the line number.
    fn parse(line: &str) -> Result<Condition, Vec<String>> {
        let (word, rest) = first_word(line);
        let (operator, value) = first_word(rest);
        let mut problems = Vec::new();
        let subject = Subject::parse(word).map_err(|p| problems.push(p)).ok();
        let operator = if operator.is_empty() {
            problems.push(format!("no operator after {word:?}; {OPERATORS}"));
            None
        } else {
            let parsed = Operator::parse(operator);
            if parsed.is_none() {
                problems.push(format!("unknown operator {operator:?}; {OPERATORS}"));
            }
            parsed
        };
        let values = match operator {
            Some(op) => Self::values(op, value).map_err(|p| problems.push(p)).ok(),
            None => None,
        };
        match (subject, operator, values) {
            (Some(subject), Some(operator), Some(values)) if problems.is_empty() => Ok(Condition {
                subject,
                operator,
                values,
            }),
            _ => Err(problems),
        }
    }

    fn values(operator: Operator, value: &str) -> Result<Vec<String>, String> {
        let keyword = operator.keyword();
        match operator {
            Operator::IsEmpty if value.is_empty() => Ok(Vec::new()),
            Operator::IsEmpty => Err(format!("{keyword:?} takes no value (found {value:?})")),
            _ if value.is_empty() => Err(format!("{keyword:?} needs a value")),
            Operator::InList => {
                let items: Vec<String> = value
                    .split(',')
                    .map(str::trim)
                    .filter(|item| !item.is_empty())
                    .map(str::to_owned)
                    .collect();
                if items.is_empty() {
                    Err(format!(
                        "{keyword:?} needs at least one value, separated by commas"
                    ))
                } else {
                    Ok(items)
                }
            }
            _ => Ok(vec![value.to_owned()]),
        }
    }

    /// Whether the user meets the condition. Both sides are compared in
    /// ASCII lowercase, as the host's profile index compares them.
    pub fn matches(&self, user: &User) -> bool {
        let value = self
            .subject
            .value(user)
            .filter(|v| !v.is_empty())
            .map(str::to_ascii_lowercase);
        let Some(value) = value else {
            return self.operator == Operator::IsEmpty;
        };
        let wanted = || self.values.iter().map(|v| v.to_ascii_lowercase());
        match self.operator {
            Operator::IsEmpty => false,
            Operator::Equals | Operator::InList => wanted().any(|w| w == value),
            Operator::Contains => wanted().any(|w| value.contains(&w)),
            Operator::StartsWith => wanted().any(|w| value.starts_with(&w)),
        }
    }

    /// The condition in words, e.g. `department is one of HR, Sales`.
    pub fn describe(&self) -> String {
        let subject = self.subject.describe();
        let values = self.values.join(", ");
        match self.operator {
            Operator::Equals => format!("{subject} equals {values}"),
            Operator::Contains => format!("{subject} contains {values}"),
            Operator::StartsWith => format!("{subject} starts with {values}"),
            Operator::IsEmpty => format!("{subject} is empty"),
            Operator::InList => format!("{subject} is one of {values}"),
        }
    }
}

#[cfg(test)]
mod tests;
