//! The inputs of a site's custom profile fields, as the user form (a site
//! admin editing anyone) and a user's own profile page show them: one input
//! per field, chosen by its kind, named `profile_field_{shortname}` (the
//! users CSV calls its column the same), and the typed values read back.
//!
//! Every field shown is sent on save, an empty value meaning "no value":
//! a checkbox left unticked is absent from the post and so sent empty.

use std::collections::BTreeMap;

use crate::domain::{ProfileField, ProfileFieldKind};

/// The prefix of a profile field's input name.
const PREFIX: &str = "profile_field_";

/// One profile field's input, ready for `components/profile_inputs.html`.
pub(crate) struct ProfileInput {
    /// `profile_field_{shortname}`.
    pub name: String,
    pub label: String,
    pub hint: String,
    pub required: bool,
    /// `text`, `date`, `select` or `checkbox`.
    pub widget: &'static str,
    pub value: String,
    pub checked: bool,
    /// `(value, label)` of a `select`, the first one empty.
    pub options: Vec<(String, String)>,
    /// The refusal about the profile names this field.
    pub invalid: bool,
    /// The ids of its hint and of the refusal, for `aria-describedby`.
    pub describedby: String,
}

/// The input name of the field `shortname`.
pub(crate) fn input_name(shortname: &str) -> String {
    format!("{PREFIX}{shortname}")
}

/// The profile values of a posted form, by short name: each
/// `profile_field_{shortname}` input, as typed.
pub(crate) fn typed_values(pairs: &[(String, String)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix(PREFIX)
                .filter(|s| !s.is_empty())
                .map(|s| (s.to_owned(), v.clone()))
        })
        .collect()
}

/// What to save for `fields`: each one's typed value, or an empty one
/// (which removes a value) when the form left it out.
pub(crate) fn values_to_save<'a>(
    fields: impl IntoIterator<Item = &'a ProfileField>,
    typed: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    fields
        .into_iter()
        .map(|f| {
            let value = typed.get(&f.shortname).cloned().unwrap_or_default();
            (f.shortname.clone(), value.trim().to_owned())
        })
        .collect()
}

/// Whether the refusal `message` is about `field`: the services word it
/// "{name}: …" or "{name} is required".
fn names(message: &str, field: &ProfileField) -> bool {
    message
        .strip_prefix(field.name.as_str())
        .is_some_and(|rest| rest.starts_with(':') || rest.starts_with(" is required"))
}

/// The id of the message shown above the profile inputs.
pub(crate) const ERROR_ID: &str = "profile-error";

/// The inputs of `fields` holding `values` (by short name). `for_admin`
/// says, in the hints, which fields the user does not see or change;
/// `error` is a refusal about the profile, shown above the inputs.
pub(crate) fn inputs(
    fields: &[&ProfileField],
    values: &BTreeMap<String, String>,
    for_admin: bool,
    error: Option<&str>,
) -> Vec<ProfileInput> {
    fields
        .iter()
        .map(|f| {
            let name = input_name(&f.shortname);
            let value = values.get(&f.shortname).cloned().unwrap_or_default();
            let mut hint = Vec::new();
            if for_admin {
                if !f.visible_to_user {
                    hint.push("Not shown to the user.");
                } else if f.locked {
                    hint.push("The user sees it but cannot change it.");
                }
            }
            if matches!(f.kind, ProfileFieldKind::Date) {
                hint.push("A date such as 2026-09-01.");
            }
            let hint = hint.join(" ");
            let invalid = error.is_some_and(|m| names(m, f));
            let mut describedby = Vec::new();
            if invalid {
                describedby.push(ERROR_ID.to_owned());
            }
            if !hint.is_empty() {
                describedby.push(format!("f-{name}-hint"));
            }
            let mut input = ProfileInput {
                label: f.name.clone(),
                hint,
                required: f.required,
                widget: "text",
                checked: false,
                options: Vec::new(),
                invalid,
                describedby: describedby.join(" "),
                value,
                name,
            };
            match &f.kind {
                ProfileFieldKind::Text => {}
                ProfileFieldKind::Date => input.widget = "date",
                ProfileFieldKind::Checkbox => {
                    input.widget = "checkbox";
                    input.checked = ProfileFieldKind::Checkbox
                        .canonical(&input.value)
                        .is_ok_and(|v| v.is_some());
                }
                ProfileFieldKind::Menu { choices } => {
                    input.widget = "select";
                    input.options.push((
                        String::new(),
                        if f.required { "Choose…" } else { "Not set" }.to_owned(),
                    ));
                    input
                        .options
                        .extend(choices.iter().map(|c| (c.clone(), c.clone())));
                    // A value typed in another case is still its choice.
                    if let Some(c) = choices
                        .iter()
                        .find(|c| c.eq_ignore_ascii_case(&input.value))
                    {
                        input.value = c.clone();
                    }
                }
            }
            input
        })
        .collect()
}

/// A stored value as text, for a field shown but not editable.
pub(crate) fn display_value(field: &ProfileField, value: Option<&str>) -> String {
    match (&field.kind, value.filter(|v| !v.is_empty())) {
        (ProfileFieldKind::Checkbox, Some(_)) => "Yes".to_owned(),
        (ProfileFieldKind::Checkbox, None) => "No".to_owned(),
        (_, Some(v)) => v.to_owned(),
        (_, None) => "Not set".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ProfileFieldId, Timestamp};

    fn field(shortname: &str, name: &str, kind: ProfileFieldKind) -> ProfileField {
        ProfileField {
            id: ProfileFieldId(1),
            shortname: shortname.into(),
            name: name.into(),
            kind,
            required: false,
            visible_to_user: true,
            locked: false,
            position: 1,
            created_at: Timestamp(0),
        }
    }

    #[test]
    fn posted_profile_inputs_are_read_by_short_name_and_a_missing_one_is_sent_empty() {
        let pairs = vec![
            ("csrf".to_owned(), "t".to_owned()),
            ("profile_field_department".to_owned(), " HR ".to_owned()),
            ("profile_field_".to_owned(), "x".to_owned()),
        ];
        let typed = typed_values(&pairs);
        assert_eq!(typed.len(), 1);
        let fields = [
            field("department", "Department", ProfileFieldKind::Text),
            field("badge", "Badge", ProfileFieldKind::Checkbox),
        ];
        let saved = values_to_save(&fields, &typed);
        assert_eq!(saved["department"], "HR");
        assert_eq!(saved["badge"], "");
    }

    #[test]
    fn a_refusal_marks_the_input_of_the_field_it_names() {
        let menu = field(
            "department",
            "Department",
            ProfileFieldKind::Menu {
                choices: vec!["HR".into(), "Finance".into()],
            },
        );
        let other = field("dept", "Dept", ProfileFieldKind::Text);
        let values = BTreeMap::from([("department".to_owned(), "hr".to_owned())]);
        let shown = inputs(
            &[&menu, &other],
            &values,
            true,
            Some("Department: \"West\" is not one of its choices"),
        );
        assert!(shown[0].invalid && !shown[1].invalid);
        assert_eq!(shown[0].describedby, ERROR_ID);
        assert_eq!(shown[0].widget, "select");
        assert_eq!(shown[0].value, "HR", "the choice as written");
        assert_eq!(shown[0].options[0].0, "");
    }
}
