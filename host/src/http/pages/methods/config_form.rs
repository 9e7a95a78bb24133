//! The config part of an enrolment method's form, generated from its
//! plugin's manifest: one input per config field, chosen by the field's
//! kind, and the typed values turned back into the config JSON the plugin
//! checks.
//!
//! Config inputs are named `config.{key}` after the plugin's config keys,
//! so they never clash with the method's own fields (`name`, `plugin`,
//! `enabled`) whatever keys a plugin chooses.
//!
//! A segment's rule is a plugin's config form too: `segment_rules` builds
//! its inputs and reads them back with the same functions
//! ([`inputs_of`], [`json_of`], [`config_values`]), so a field of one kind
//! looks and reads the same on both forms.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::domain::{
    CourseGroup, PluginConfigField, PluginFieldKind, PluginManifest, ProfileField, Segment,
};
use crate::http::pages::forms::ticked;
use crate::services::plugins::MethodForm;

/// What the inputs of a config form may offer beyond the manifest: the
/// choices of its segment, group and profile-field fields, and the saved
/// config (whose secrets are kept unless cleared).
#[derive(Default)]
pub(crate) struct FieldChoices<'a> {
    pub segments: &'a [Segment],
    pub groups: &'a [CourseGroup],
    pub profile_fields: &'a [ProfileField],
    /// The saved config as JSON, when the form edits one.
    pub saved: Option<&'a str>,
}

impl<'a> FieldChoices<'a> {
    /// The choices of an enrolment method's form.
    pub(crate) fn of_method(data: &'a MethodForm) -> Self {
        Self {
            segments: &data.segments,
            groups: &data.groups,
            profile_fields: &data.profile_fields,
            saved: data.method.as_ref().map(|m| m.config.as_str()),
        }
    }
}

/// One input of a plugin's config form, ready for the form macros.
pub(crate) struct ConfigInput {
    /// `config.{key}`.
    pub name: String,
    pub label: String,
    pub hint: String,
    pub required: bool,
    /// `text`, `textarea`, `checkbox`, `select` or `group-texts`.
    pub widget: &'static str,
    /// The `type` of a `text` widget.
    pub input_type: &'static str,
    pub value: String,
    pub checked: bool,
    /// `(value, label)` of a `select`.
    pub options: Vec<(String, String)>,
    /// The inputs of a `group-texts` field, one per course group.
    pub rows: Vec<GroupTextInput>,
}

pub(crate) struct GroupTextInput {
    pub name: String,
    pub label: String,
    pub value: String,
}

/// What was typed (or is saved): the method's own fields and every
/// `config.…` input by name.
#[derive(Clone, Default)]
pub(crate) struct Typed {
    pub(super) plugin: String,
    pub(super) name: String,
    pub(super) enabled: bool,
    pub(super) config: BTreeMap<String, String>,
}

impl Typed {
    /// A posted form, as typed: a checkbox left out is unticked.
    pub(super) fn from_pairs(pairs: &[(String, String)]) -> Self {
        let mut typed = Typed::default();
        let mut enabled = None;
        for (k, v) in pairs {
            match k.as_str() {
                "plugin" => typed.plugin = v.trim().to_owned(),
                "name" => typed.name = v.clone(),
                "enabled" => enabled = Some(v.clone()),
                k if k.starts_with("config.") => {
                    typed.config.insert(k.to_owned(), v.clone());
                }
                _ => {}
            }
        }
        typed.enabled = ticked(&enabled);
        typed
    }

    /// The form of a new method: the manifest's defaults.
    pub(super) fn defaults(manifest: &PluginManifest) -> Self {
        Typed {
            plugin: manifest.id.clone(),
            name: manifest.name.clone(),
            enabled: true,
            config: config_values(&manifest.config, &Map::new(), true),
        }
    }

    /// Every field as the hidden inputs of the preview page.
    pub(super) fn hidden(&self) -> Vec<(String, String)> {
        let mut out = vec![
            ("plugin".to_owned(), self.plugin.clone()),
            ("name".to_owned(), self.name.clone()),
        ];
        if self.enabled {
            out.push(("enabled".to_owned(), "1".to_owned()));
        }
        out.extend(self.config.iter().map(|(k, v)| (k.clone(), v.clone())));
        out
    }
}

pub(crate) fn input_name(key: &str) -> String {
    format!("config.{key}")
}

/// A saved (or default) config as input values. `defaults` fills the
/// fields the config leaves out with the manifest's defaults.
pub(crate) fn config_values(
    fields: &[PluginConfigField],
    config: &Map<String, Value>,
    defaults: bool,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for f in fields {
        let default = || {
            f.default
                .as_deref()
                .filter(|_| defaults)
                .and_then(|d| serde_json::from_str::<Value>(d).ok())
        };
        // A secret never goes back to the browser (issue 16, finding 14):
        // its input stays blank, and blank keeps the stored value.
        if let PluginFieldKind::Secret = f.kind {
            continue;
        }
        let Some(value) = config.get(&f.key).cloned().or_else(default) else {
            continue;
        };
        let name = input_name(&f.key);
        match (&f.kind, value) {
            (PluginFieldKind::GroupTexts, Value::Object(map)) => {
                for (group, text) in map {
                    let text = match text {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    out.insert(format!("{name}.{group}"), text);
                }
            }
            (PluginFieldKind::Boolean, v) => {
                if v.as_bool() == Some(true) {
                    out.insert(name, "1".to_owned());
                }
            }
            (PluginFieldKind::Datetime, Value::Number(n)) => {
                let text = n
                    .as_i64()
                    .and_then(datetime_local)
                    .unwrap_or_else(|| n.to_string());
                out.insert(name, text);
            }
            (_, Value::String(s)) => {
                out.insert(name, s);
            }
            (_, Value::Null) => {}
            (_, other) => {
                out.insert(name, other.to_string());
            }
        }
    }
    out
}

/// Epoch milliseconds as a `datetime-local` value (UTC).
pub(super) fn datetime_local(ms: i64) -> Option<String> {
    let format = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()?
        .format(&format)
        .ok()
}

/// A `datetime-local` value (`YYYY-MM-DDTHH:MM`, seconds optional) read as
/// UTC, in epoch milliseconds.
pub(super) fn parse_datetime_local(text: &str) -> Option<i64> {
    let (date, clock) = text.trim().split_once('T')?;
    let mut d = date.split('-');
    let year: i32 = d.next()?.parse().ok()?;
    let month: u8 = d.next()?.parse().ok()?;
    let day: u8 = d.next()?.parse().ok()?;
    let mut c = clock.split(':');
    let hour: u8 = c.next()?.parse().ok()?;
    let minute: u8 = c.next()?.parse().ok()?;
    let second: u8 = match c.next() {
        Some(s) => s.split('.').next()?.parse().ok()?,
        None => 0,
    };
    let date =
        time::Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()?;
    let clock = time::Time::from_hms(hour, minute, second).ok()?;
    let at = time::PrimitiveDateTime::new(date, clock).assume_utc();
    Some(at.unix_timestamp() * 1000)
}

/// The config JSON of what was typed. A blank input is left out, so the
/// plugin applies its default or says the field is required; text that
/// should be a number is passed as typed, for the plugin to refuse beside
/// its field.
pub(super) fn config_json(fields: &[PluginConfigField], typed: &Typed) -> Value {
    json_of(fields, &typed.config)
}

/// The config JSON of the `config.…` inputs `values` (see [`config_json`]).
pub(crate) fn json_of(fields: &[PluginConfigField], values: &BTreeMap<String, String>) -> Value {
    let mut out = Map::new();
    for f in fields {
        let name = input_name(&f.key);
        if let PluginFieldKind::Boolean = f.kind {
            let on = values.get(&name).cloned();
            out.insert(f.key.clone(), Value::Bool(ticked(&on)));
            continue;
        }
        if let PluginFieldKind::GroupTexts = f.kind {
            let prefix = format!("{name}.");
            let map: Map<String, Value> = values
                .iter()
                .filter_map(|(k, v)| {
                    let group = k.strip_prefix(&prefix)?;
                    let v = v.trim();
                    (!v.is_empty()).then(|| (group.to_owned(), Value::String(v.to_owned())))
                })
                .collect();
            out.insert(f.key.clone(), Value::Object(map));
            continue;
        }
        if let PluginFieldKind::Secret = f.kind
            && ticked(&values.get(&clear_secret_name(f)).cloned())
        {
            // `null` clears a stored secret; left out, it is kept.
            out.insert(f.key.clone(), Value::Null);
            continue;
        }
        let Some(raw) = values.get(&name) else {
            continue;
        };
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            continue;
        }
        let value = match &f.kind {
            PluginFieldKind::Integer { .. }
            | PluginFieldKind::Segment
            | PluginFieldKind::Group
            | PluginFieldKind::GroupChoice { .. } => trimmed
                .parse::<i64>()
                .map(Value::from)
                .unwrap_or_else(|_| Value::String(trimmed.to_owned())),
            PluginFieldKind::Datetime => parse_datetime_local(trimmed)
                .map(Value::from)
                .unwrap_or_else(|| Value::String(trimmed.to_owned())),
            // Text is the plugin's to judge, spaces and all.
            PluginFieldKind::Text | PluginFieldKind::Multiline | PluginFieldKind::Secret => {
                Value::String(raw.clone())
            }
            _ => Value::String(trimmed.to_owned()),
        };
        out.insert(f.key.clone(), value);
    }
    Value::Object(out)
}

/// The page's name for a field: the site's vocabulary where the plugin
/// uses the bare kind ("Segment" is a "User segment" everywhere else).
pub(super) fn label_of(f: &PluginConfigField) -> String {
    match f.kind {
        PluginFieldKind::Segment if f.label.eq_ignore_ascii_case("segment") => {
            "User segment".to_owned()
        }
        PluginFieldKind::Group | PluginFieldKind::GroupChoice { .. }
            if f.label.eq_ignore_ascii_case("group") =>
        {
            "Course group".to_owned()
        }
        _ => f.label.clone(),
    }
}

pub(super) const ROLES: [(&str, &str); 3] = [
    ("learner", "Learner"),
    ("non-editing-teacher", "Non-editing teacher"),
    ("teacher", "Teacher"),
];

pub(super) fn config_inputs(data: &MethodForm, typed: &Typed) -> Vec<ConfigInput> {
    inputs_of(
        &data.manifest.config,
        &FieldChoices::of_method(data),
        &typed.config,
    )
}

/// The inputs of config form `fields` holding `values` (the `config.…`
/// inputs by name, as typed or saved).
pub(crate) fn inputs_of(
    fields: &[PluginConfigField],
    choices: &FieldChoices<'_>,
    values: &BTreeMap<String, String>,
) -> Vec<ConfigInput> {
    let mut out = Vec::new();
    for f in fields {
        out.push(config_input(choices, values, f));
        if let PluginFieldKind::Secret = f.kind
            && secret_is_set(choices, f)
        {
            out.push(clear_secret_input(values, f));
        }
    }
    out
}

/// Whether the method being edited holds a value for the secret field
/// `f`; only then is there something to keep or clear.
fn secret_is_set(choices: &FieldChoices<'_>, f: &PluginConfigField) -> bool {
    let Some(saved) = choices.saved else {
        return false;
    };
    let config: Map<String, Value> = serde_json::from_str(saved).unwrap_or_default();
    config
        .get(&f.key)
        .is_some_and(|v| v.as_str().is_none_or(|s| !s.trim().is_empty()) && !v.is_null())
}

/// `config.{key}.clear`: the explicit way to remove a stored secret, since
/// a blank input keeps it.
fn clear_secret_name(f: &PluginConfigField) -> String {
    format!("{}.clear", input_name(&f.key))
}

fn clear_secret_input(values: &BTreeMap<String, String>, f: &PluginConfigField) -> ConfigInput {
    let name = clear_secret_name(f);
    ConfigInput {
        label: format!("Clear the stored {}", label_of(f).to_lowercase()),
        hint: String::new(),
        required: false,
        widget: "checkbox",
        input_type: "checkbox",
        value: String::new(),
        checked: ticked(&values.get(&name).cloned()),
        options: Vec::new(),
        rows: Vec::new(),
        name,
    }
}

fn config_input(
    choices: &FieldChoices<'_>,
    values: &BTreeMap<String, String>,
    f: &PluginConfigField,
) -> ConfigInput {
    let name = input_name(&f.key);
    let value = values.get(&name).cloned().unwrap_or_default();
    let mut input = ConfigInput {
        label: label_of(f),
        hint: f.help.clone(),
        required: f.required,
        widget: "select",
        input_type: "text",
        checked: false,
        options: Vec::new(),
        rows: Vec::new(),
        value,
        name,
    };
    // A select of an optional field with no default needs a way
    // to choose nothing.
    let blank =
        |what: &str| (!f.required && f.default.is_none()).then(|| (String::new(), what.to_owned()));
    match &f.kind {
        PluginFieldKind::Text => input.widget = "text",
        PluginFieldKind::Secret => {
            input.widget = "text";
            input.input_type = "password";
            // Not even what was just typed: the page never holds a secret.
            input.value.clear();
            if secret_is_set(choices, f) {
                input.hint = format!("Leave blank to keep the current value. {}", f.help)
                    .trim_end()
                    .to_owned();
            }
        }
        PluginFieldKind::Integer { .. } => {
            input.widget = "text";
            input.input_type = "number";
        }
        PluginFieldKind::Datetime => {
            input.widget = "text";
            input.input_type = "datetime-local";
            if input.hint.is_empty() {
                input.hint = "In UTC.".to_owned();
            }
        }
        PluginFieldKind::Multiline => input.widget = "textarea",
        PluginFieldKind::Boolean => {
            input.widget = "checkbox";
            input.checked = ticked(&Some(input.value.clone()));
        }
        PluginFieldKind::Choice { choices } => {
            input.options.extend(blank("None"));
            input
                .options
                .extend(choices.iter().map(|c| (c.value.clone(), c.label.clone())));
        }
        PluginFieldKind::Role => {
            input.options.extend(blank("No role"));
            input.options.extend(
                ROLES
                    .iter()
                    .map(|(v, l)| ((*v).to_owned(), (*l).to_owned())),
            );
        }
        PluginFieldKind::ProfileField => {
            input.options.push((
                String::new(),
                if f.required {
                    "Choose a profile field"
                } else {
                    "No profile field"
                }
                .to_owned(),
            ));
            input.options.extend(
                choices
                    .profile_fields
                    .iter()
                    .map(|p| (p.shortname.clone(), p.name.clone())),
            );
        }
        PluginFieldKind::Segment => {
            input.options.push((
                String::new(),
                if f.required {
                    "Choose a user segment"
                } else {
                    "No user segment"
                }
                .to_owned(),
            ));
            let mut segments: Vec<_> = choices.segments.iter().collect();
            segments.sort_by_key(|s| s.name.to_lowercase());
            input.options.extend(
                segments
                    .into_iter()
                    .map(|s| (s.id.to_string(), s.name.clone())),
            );
        }
        PluginFieldKind::Group => {
            input.options.push(no_group_chosen(f));
            input.options.extend(group_options(choices));
        }
        PluginFieldKind::GroupChoice { none, new } => {
            // The plugin's own "no group" is a value it stores (`"none"`);
            // without it, choosing nothing leaves the field out.
            if *none {
                input
                    .options
                    .push(("none".to_owned(), "No group".to_owned()));
            } else {
                input.options.push(no_group_chosen(f));
            }
            if *new {
                input
                    .options
                    .push(("new".to_owned(), "Create new group".to_owned()));
            }
            input.options.extend(group_options(choices));
        }
        PluginFieldKind::GroupTexts => {
            input.widget = "group-texts";
            input.rows = choices
                .groups
                .iter()
                .map(|g| {
                    let name = format!("{}.{}", input.name, g.id);
                    GroupTextInput {
                        value: values.get(&name).cloned().unwrap_or_default(),
                        label: g.name.clone(),
                        name,
                    }
                })
                .collect();
        }
    }
    input
}

/// The blank first option of a group select: a prompt when the field is
/// required, else "no group" (the field left out of the config).
fn no_group_chosen(f: &PluginConfigField) -> (String, String) {
    let label = if f.required {
        "Choose a course group"
    } else {
        "No group"
    };
    (String::new(), label.to_owned())
}

/// The course's groups as select options (id, name).
fn group_options<'a>(
    choices: &FieldChoices<'a>,
) -> impl Iterator<Item = (String, String)> + use<'a> {
    choices
        .groups
        .iter()
        .map(|g| (g.id.to_string(), g.name.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetime_local_values_round_trip_in_utc() {
        let ms = parse_datetime_local("2025-09-01T08:30").unwrap();
        assert_eq!(ms, 1_756_715_400_000);
        assert_eq!(datetime_local(ms).as_deref(), Some("2025-09-01T08:30"));
        assert_eq!(
            parse_datetime_local("2025-09-01T08:30:15"),
            Some(ms + 15_000)
        );
        assert_eq!(parse_datetime_local("yesterday"), None);
        assert_eq!(parse_datetime_local("2025-13-01T08:30"), None);
    }

    fn field(key: &str, kind: PluginFieldKind) -> PluginConfigField {
        PluginConfigField {
            key: key.into(),
            label: key.into(),
            help: String::new(),
            kind,
            required: false,
            default: None,
        }
    }

    #[test]
    fn typed_values_become_the_config_the_plugin_reads() {
        let fields = vec![
            field("segment", PluginFieldKind::Segment),
            field("group", PluginFieldKind::Group),
            field(
                "cap",
                PluginFieldKind::Integer {
                    min: None,
                    max: None,
                },
            ),
            field("open", PluginFieldKind::Boolean),
            field("label", PluginFieldKind::Text),
            field("keys", PluginFieldKind::GroupTexts),
            field("blank", PluginFieldKind::Text),
        ];
        let typed = Typed::from_pairs(&[
            ("plugin".into(), "x".into()),
            ("config.segment".into(), " 3 ".into()),
            ("config.group".into(), "new".into()),
            ("config.cap".into(), "ten".into()),
            ("config.label".into(), " as typed ".into()),
            ("config.keys.7".into(), "secret".into()),
            ("config.keys.8".into(), "".into()),
            ("config.blank".into(), "  ".into()),
        ]);
        assert_eq!(
            config_json(&fields, &typed),
            serde_json::json!({
                "segment": 3, "group": "new", "cap": "ten", "open": false,
                "label": " as typed ", "keys": {"7": "secret"},
            })
        );
        // And back: a saved config fills the same inputs.
        let saved = config_values(
            &fields,
            serde_json::json!({"segment": 3, "group": "new", "open": true, "keys": {"7": "k"}})
                .as_object()
                .unwrap(),
            false,
        );
        assert_eq!(saved.get("config.segment").map(String::as_str), Some("3"));
        assert_eq!(saved.get("config.group").map(String::as_str), Some("new"));
        assert_eq!(saved.get("config.open").map(String::as_str), Some("1"));
        assert_eq!(saved.get("config.keys.7").map(String::as_str), Some("k"));
    }
}
