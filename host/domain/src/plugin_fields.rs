//! What a plugin's form fields allow: the values a field of each kind
//! takes, and the rules a manifest's fields must keep (checked when a
//! plugin is loaded, so a default that does not fit its own field, or an
//! integer field nobody could fill, never reaches an admin's form).

use serde_json::Value;

use crate::{PluginConfigField, PluginFieldKind};

impl PluginFieldKind {
    /// Whether `v` is a value of a field of this kind, as far as it can be
    /// told without a course or a site (a group or segment id is a number;
    /// whether it exists is the caller's to check). The error says what
    /// the value must be, for the field's form.
    pub fn check_value(&self, v: &Value) -> Result<(), String> {
        use PluginFieldKind as K;
        let fits = match self {
            K::Text | K::Multiline | K::Secret => v.is_string(),
            K::ProfileField => v.as_str().is_some_and(|s| !s.is_empty()),
            K::Boolean => v.is_boolean(),
            K::Integer { min, max } => {
                let n = v.as_i64().ok_or("must be a whole number")?;
                if min.is_some_and(|m| n < m) || max.is_some_and(|m| n > m) {
                    return Err(match (min, max) {
                        (Some(a), Some(b)) => format!("must be between {a} and {b}"),
                        (Some(a), None) => format!("must be at least {a}"),
                        (None, Some(b)) => format!("must be at most {b}"),
                        (None, None) => "must be a whole number".to_owned(),
                    });
                }
                true
            }
            K::Datetime => v.as_i64().is_some(),
            K::Choice { choices } => {
                let s = v.as_str().unwrap_or_default();
                if !choices.iter().any(|c| c.value == s) {
                    return Err(format!(
                        "must be one of {}",
                        choices
                            .iter()
                            .map(|c| format!("{:?}", c.value))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
                true
            }
            K::Role => matches!(
                v.as_str(),
                Some("learner" | "non-editing-teacher" | "teacher")
            ),
            K::Segment | K::Group => v.as_u64().is_some(),
            K::GroupChoice { none, new } => match v {
                Value::String(s) => (*none && s == "none") || (*new && s == "new"),
                v => v.as_u64().is_some(),
            },
            K::GroupTexts => v.as_object().is_some_and(|m| {
                m.iter()
                    .all(|(k, t)| k.parse::<u64>().is_ok() && t.is_string())
            }),
        };
        if fits { Ok(()) } else { Err(self.expects()) }
    }

    /// What a value of this kind must be, in words.
    fn expects(&self) -> String {
        use PluginFieldKind as K;
        match self {
            K::Text | K::Multiline | K::Secret => "must be text".into(),
            K::Boolean => "must be true or false".into(),
            K::Integer { .. } => "must be a whole number".into(),
            K::Datetime => "must be a date (epoch milliseconds)".into(),
            K::Choice { .. } => "must be one of the choices".into(),
            K::Role => "must be learner, non-editing-teacher or teacher".into(),
            K::Segment => "must be a segment id".into(),
            K::Group => "must be a group id".into(),
            K::GroupChoice { none, new } => {
                let mut words = vec!["a group id"];
                if *none {
                    words.push("\"none\"");
                }
                if *new {
                    words.push("\"new\"");
                }
                format!("must be {}", words.join(" or "))
            }
            K::GroupTexts => "must map group ids to text".into(),
            K::ProfileField => "must be the short name of a profile field".into(),
        }
    }

    /// Whether the kind names a group of a course, which a site-wide
    /// setting (no course) cannot.
    pub fn names_course_group(&self) -> bool {
        matches!(
            self,
            PluginFieldKind::Group
                | PluginFieldKind::GroupChoice { .. }
                | PluginFieldKind::GroupTexts
        )
    }
}

impl PluginConfigField {
    /// The rules a manifest's field keeps: its kind can be filled (an
    /// integer's minimum is not above its maximum, a choice has choices,
    /// each value once) and its default, if any, is JSON that fits it.
    /// The error names the field.
    pub fn check_declaration(&self) -> Result<(), String> {
        let key = &self.key;
        match &self.kind {
            PluginFieldKind::Integer {
                min: Some(min),
                max: Some(max),
            } if min > max => {
                return Err(format!(
                    "field {key:?}: its minimum {min} is above its maximum {max}"
                ));
            }
            PluginFieldKind::Choice { choices } => {
                if choices.is_empty() {
                    return Err(format!("field {key:?}: a choice field needs choices"));
                }
                let mut seen = std::collections::HashSet::new();
                if let Some(c) = choices.iter().find(|c| !seen.insert(c.value.as_str())) {
                    return Err(format!(
                        "field {key:?}: the choice {:?} is listed twice",
                        c.value
                    ));
                }
            }
            _ => {}
        }
        if let Some(text) = &self.default {
            let value: Value = serde_json::from_str(text)
                .map_err(|_| format!("field {key:?}: its default {text} is not JSON"))?;
            self.kind
                .check_value(&value)
                .map_err(|why| format!("field {key:?}: its default {text} {why}"))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::PluginChoice;

    fn field(kind: PluginFieldKind, default: Option<&str>) -> PluginConfigField {
        PluginConfigField {
            key: "k".into(),
            label: "K".into(),
            help: String::new(),
            kind,
            required: false,
            default: default.map(str::to_owned),
        }
    }

    #[test]
    fn values_are_checked_against_their_kind() {
        use PluginFieldKind as K;
        let cases = [
            (K::Text, json!("x"), true),
            (K::Text, json!(1), false),
            (K::Boolean, json!("yes"), false),
            (K::Boolean, json!(true), true),
            (
                K::Integer {
                    min: Some(1),
                    max: Some(5),
                },
                json!(5),
                true,
            ),
            (
                K::Integer {
                    min: Some(1),
                    max: Some(5),
                },
                json!(6),
                false,
            ),
            (
                K::Integer {
                    min: None,
                    max: None,
                },
                json!(1.5),
                false,
            ),
            (K::Role, json!("teacher"), true),
            (K::Role, json!("admin"), false),
            (K::Group, json!(4), true),
            (
                K::GroupChoice {
                    none: true,
                    new: false,
                },
                json!("none"),
                true,
            ),
            (
                K::GroupChoice {
                    none: true,
                    new: false,
                },
                json!("new"),
                false,
            ),
            (
                K::GroupChoice {
                    none: false,
                    new: true,
                },
                json!(3),
                true,
            ),
            (K::GroupTexts, json!({"3": "key"}), true),
            (K::GroupTexts, json!({"three": "key"}), false),
        ];
        for (kind, value, ok) in cases {
            assert_eq!(kind.check_value(&value).is_ok(), ok, "{kind:?} {value}");
        }
        let choice = K::Choice {
            choices: vec![PluginChoice {
                value: "a".into(),
                label: "A".into(),
            }],
        };
        assert!(choice.check_value(&json!("a")).is_ok());
        assert_eq!(
            choice.check_value(&json!("b")).unwrap_err(),
            r#"must be one of "a""#
        );
    }

    #[test]
    fn a_declaration_nobody_could_fill_is_refused_by_field() {
        use PluginFieldKind as K;
        let e = field(K::Boolean, Some(r#""yes""#))
            .check_declaration()
            .unwrap_err();
        assert_eq!(e, r#"field "k": its default "yes" must be true or false"#);
        let e = field(
            K::Integer {
                min: Some(10),
                max: Some(1),
            },
            None,
        )
        .check_declaration()
        .unwrap_err();
        assert!(e.contains("minimum 10 is above its maximum 1"), "{e}");
        let e = field(K::Choice { choices: vec![] }, None)
            .check_declaration()
            .unwrap_err();
        assert!(e.contains("needs choices"), "{e}");
        let twice = PluginChoice {
            value: "a".into(),
            label: "A".into(),
        };
        let e = field(
            K::Choice {
                choices: vec![twice.clone(), twice],
            },
            None,
        )
        .check_declaration()
        .unwrap_err();
        assert!(e.contains("listed twice"), "{e}");
        let e = field(K::Text, Some("not json"))
            .check_declaration()
            .unwrap_err();
        assert!(e.contains("is not JSON"), "{e}");
        assert!(
            field(
                K::Integer {
                    min: Some(1),
                    max: Some(9)
                },
                Some("3")
            )
            .check_declaration()
            .is_ok()
        );
        assert!(
            field(
                K::GroupChoice {
                    none: true,
                    new: true
                },
                Some(r#""new""#)
            )
            .check_declaration()
            .is_ok()
        );
    }
}
