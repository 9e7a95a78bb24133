//! Enrolment methods of a course: the list with each instance's status,
//! enrolments and last error; the add form, generated from the plugin's
//! config form, with a dry-run preview before anything is saved; the edit
//! form; enable, disable, "Reconcile now" and delete.
//!
//! Config inputs are named `config.{key}` after the plugin's config keys,
//! so they never clash with the instance's own fields (`name`, `plugin`,
//! `enabled`) whatever keys a plugin chooses; the plugin's field errors
//! are renamed the same way to land beside their inputs.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde_json::{Map, Value};

use super::super::{HttpError, blocking};
use super::forms::{ConfirmPage, FormErrors, render, status_for, ticked};
use super::session::{Flash, FlashKind, SitePage, SitePost, redirect_with};
use super::{Layout, Section, page_routes};
use crate::domain::{
    CourseId, EnrolmentMethodId, EnrolmentMethodStatus, PluginConfigField, PluginFieldKind,
    PluginManifest,
};
use crate::services::ServiceError;
use crate::services::enrolments::{MethodUpdate, NewMethod};
use crate::services::execution::{MethodOverview, MethodPreview, ReconcileReport};
use crate::services::plugins::MethodForm;

page_routes! {
    get "/courses/{course}/methods" => list, CourseStaff;
    get "/courses/{course}/methods/new" => new_form, CourseStaff;
    post "/courses/{course}/methods/new" => back_to_form, CourseStaff;
    post "/courses/{course}/methods/preview" => preview, CourseStaff;
    post "/courses/{course}/methods" => create, CourseStaff;
    get "/courses/{course}/methods/{method}" => edit_form, CourseStaff;
    post "/courses/{course}/methods/{method}" => update, CourseStaff;
    post "/courses/{course}/methods/{method}/enable" => enable, CourseStaff;
    post "/courses/{course}/methods/{method}/disable" => disable, CourseStaff;
    post "/courses/{course}/methods/{method}/reconcile" => reconcile, CourseStaff;
    get "/courses/{course}/methods/{method}/delete" => confirm_delete, CourseStaff;
    post "/courses/{course}/methods/{method}/delete" => delete, CourseStaff;
}

#[derive(serde::Deserialize)]
pub(crate) struct CoursePath {
    course: u64,
}

#[derive(serde::Deserialize)]
pub(crate) struct MethodPath {
    course: u64,
    method: u64,
}

#[derive(serde::Deserialize)]
pub(crate) struct NewQuery {
    plugin: Option<String>,
}

#[derive(serde::Deserialize)]
pub(crate) struct Empty {}

/// Group fields that also take `"none"` and `"new"` (a group the instance
/// creates, named after its segment): segment sync's convention, which a
/// field kind cannot express, so the form offers those choices by name.
const NONE_OR_NEW_GROUP: &[(&str, &str)] = &[("segment-sync", "group")];

fn methods_path(course: CourseId) -> String {
    format!("/courses/{course}/methods")
}

fn method_path(course: CourseId, method: EnrolmentMethodId) -> String {
    format!("/courses/{course}/methods/{method}")
}

fn count(n: u64, one: &str, many: &str) -> String {
    match n {
        1 => format!("1 {one}"),
        n => format!("{n} {many}"),
    }
}

// ------------------------------------------------------------------ list

pub(crate) struct MethodRow {
    pub name: String,
    pub plugin: String,
    pub enabled: bool,
    pub enrolments: String,
    /// The last failure of its plugin: when, what, and how many so far.
    pub last_error: Option<String>,
    pub edit_href: String,
    pub toggle_action: String,
    pub toggle_label: &'static str,
    pub reconcile_action: String,
    pub delete_href: String,
}

#[derive(Template)]
#[template(path = "pages/methods/list.html")]
pub(crate) struct ListPage {
    pub layout: Layout,
    pub heading: String,
    pub course_href: String,
    pub rows: Vec<MethodRow>,
    pub csrf: String,
    pub new_action: String,
    /// `(plugin id, plugin name)` of the plugins the site may use.
    pub plugins: Vec<(String, String)>,
}

fn plugin_options(plugins: &[PluginManifest]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = plugins
        .iter()
        .map(|m| (m.id.clone(), m.name.clone()))
        .collect();
    out.sort_by_key(|p| p.1.to_lowercase());
    out
}

async fn list(page: SitePage, path: web::Path<CoursePath>) -> Result<HttpResponse, HttpError> {
    let course = CourseId(path.course);
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let found = blocking(move || services.course_methods(&who, course)).await?;
    let names: BTreeMap<&str, &str> = found
        .plugins
        .iter()
        .map(|m| (m.id.as_str(), m.name.as_str()))
        .collect();
    let rows = found
        .methods
        .iter()
        .map(|o| row(&page, o, names.get(o.method.plugin.as_str()).copied()))
        .collect();
    let heading = format!("Enrolment methods of {}", found.course.fullname);
    let view = ListPage {
        layout: Layout::signed_in(&page, &heading, Section::Courses),
        heading,
        course_href: page.link(&format!("/courses/{course}")),
        rows,
        csrf: page.csrf().to_owned(),
        new_action: page.link(&format!("{}/new", methods_path(course))),
        plugins: plugin_options(&found.plugins),
    };
    render(&view, StatusCode::OK)
}

fn row(page: &SitePage, o: &MethodOverview, plugin_name: Option<&str>) -> MethodRow {
    let m = &o.method;
    let base = method_path(m.course, m.id);
    let enabled = m.status == EnrolmentMethodStatus::Enabled;
    MethodRow {
        name: m.name.clone(),
        plugin: match plugin_name {
            Some(name) => name.to_owned(),
            None => format!("{} (not enabled on this site)", m.plugin),
        },
        enabled,
        enrolments: count(o.enrolments, "enrolment", "enrolments"),
        last_error: o.run.last_error.as_ref().map(|e| {
            format!(
                "{}: {} ({} so far)",
                e.at,
                e.message,
                count(o.run.error_count, "failure", "failures")
            )
        }),
        edit_href: page.link(&base),
        toggle_action: page.link(&format!(
            "{base}/{}",
            if enabled { "disable" } else { "enable" }
        )),
        toggle_label: if enabled { "Disable" } else { "Enable" },
        reconcile_action: page.link(&format!("{base}/reconcile")),
        delete_href: page.link(&format!("{base}/delete")),
    }
}

// ------------------------------------------------------------------ form

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

/// What was typed (or is saved): the instance's own fields and every
/// `config.…` input by name.
#[derive(Clone, Default)]
pub(crate) struct Typed {
    plugin: String,
    name: String,
    enabled: bool,
    config: BTreeMap<String, String>,
}

impl Typed {
    /// A posted form, as typed: a checkbox left out is unticked.
    fn from_pairs(pairs: &[(String, String)]) -> Self {
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

    /// The form of a new instance: the manifest's defaults.
    fn defaults(manifest: &PluginManifest) -> Self {
        Typed {
            plugin: manifest.id.clone(),
            name: manifest.name.clone(),
            enabled: true,
            config: config_values(&manifest.config, &Map::new(), true),
        }
    }

    /// Every field as the hidden inputs of the preview page.
    fn hidden(&self) -> Vec<(String, String)> {
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

fn input_name(key: &str) -> String {
    format!("config.{key}")
}

/// A saved (or default) config as input values. `defaults` fills the
/// fields the config leaves out with the manifest's defaults.
fn config_values(
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
fn datetime_local(ms: i64) -> Option<String> {
    let format = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()?
        .format(&format)
        .ok()
}

/// A `datetime-local` value (`YYYY-MM-DDTHH:MM`, seconds optional) read as
/// UTC, in epoch milliseconds.
fn parse_datetime_local(text: &str) -> Option<i64> {
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
fn config_json(fields: &[PluginConfigField], typed: &Typed) -> Value {
    let mut out = Map::new();
    for f in fields {
        let name = input_name(&f.key);
        if let PluginFieldKind::Boolean = f.kind {
            let on = typed.config.get(&name).cloned();
            out.insert(f.key.clone(), Value::Bool(ticked(&on)));
            continue;
        }
        if let PluginFieldKind::GroupTexts = f.kind {
            let prefix = format!("{name}.");
            let map: Map<String, Value> = typed
                .config
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
        let Some(raw) = typed.config.get(&name) else {
            continue;
        };
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            continue;
        }
        let value = match &f.kind {
            PluginFieldKind::Integer { .. } | PluginFieldKind::Segment | PluginFieldKind::Group => {
                trimmed
                    .parse::<i64>()
                    .map(Value::from)
                    .unwrap_or_else(|_| Value::String(trimmed.to_owned()))
            }
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
fn label_of(f: &PluginConfigField) -> String {
    match f.kind {
        PluginFieldKind::Segment if f.label.eq_ignore_ascii_case("segment") => {
            "User segment".to_owned()
        }
        PluginFieldKind::Group if f.label.eq_ignore_ascii_case("group") => {
            "Course group".to_owned()
        }
        _ => f.label.clone(),
    }
}

const ROLES: [(&str, &str); 3] = [
    ("learner", "Learner"),
    ("non-editing-teacher", "Non-editing teacher"),
    ("teacher", "Teacher"),
];

fn config_inputs(data: &MethodForm, typed: &Typed) -> Vec<ConfigInput> {
    data.manifest
        .config
        .iter()
        .map(|f| config_input(data, typed, f))
        .collect()
}

fn config_input(data: &MethodForm, typed: &Typed, f: &PluginConfigField) -> ConfigInput {
    let plugin = data.manifest.id.as_str();
    let name = input_name(&f.key);
    let value = typed.config.get(&name).cloned().unwrap_or_default();
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
            let mut segments: Vec<_> = data.segments.iter().collect();
            segments.sort_by_key(|s| s.name.to_lowercase());
            input.options.extend(
                segments
                    .into_iter()
                    .map(|s| (s.id.to_string(), s.name.clone())),
            );
        }
        PluginFieldKind::Group => {
            if NONE_OR_NEW_GROUP.contains(&(plugin, f.key.as_str())) {
                input
                    .options
                    .push(("none".to_owned(), "No group".to_owned()));
                input
                    .options
                    .push(("new".to_owned(), "Create new group".to_owned()));
                input.hint = "“Create new group” makes a group named after the user segment (e.g. “HR segment”) and adds its members to it.".to_owned();
            } else if f.required {
                input
                    .options
                    .push((String::new(), "Choose a course group".to_owned()));
            } else {
                input.options.push((String::new(), "No group".to_owned()));
            }
            input.options.extend(
                data.groups
                    .iter()
                    .map(|g| (g.id.to_string(), g.name.clone())),
            );
        }
        PluginFieldKind::GroupTexts => {
            input.widget = "group-texts";
            input.rows = data
                .groups
                .iter()
                .map(|g| {
                    let name = format!("{}.{}", input.name, g.id);
                    GroupTextInput {
                        value: typed.config.get(&name).cloned().unwrap_or_default(),
                        label: g.name.clone(),
                        name,
                    }
                })
                .collect();
        }
    }
    input
}

#[derive(Template)]
#[template(path = "pages/methods/form.html")]
pub(crate) struct FormPage {
    pub layout: Layout,
    pub heading: String,
    pub description: String,
    pub action: String,
    pub csrf: String,
    pub plugin: String,
    /// The instance's name as typed (`name` is the macros' own parameter).
    pub method_name: String,
    /// Only a new instance has the checkbox; an existing one is enabled
    /// or disabled from the list.
    pub new: bool,
    pub enabled: bool,
    pub inputs: Vec<ConfigInput>,
    pub errors: FormErrors,
    pub button: &'static str,
    pub cancel: String,
}

fn form_page(page: &SitePage, data: &MethodForm, typed: &Typed, errors: FormErrors) -> FormPage {
    let course = data.course.id;
    let (heading, action, button, new) = match &data.method {
        Some(m) => (
            format!("Edit enrolment method “{}”", m.name),
            page.link(&method_path(course, m.id)),
            "Save changes",
            false,
        ),
        None => (
            format!("Add {} to {}", data.manifest.name, data.course.fullname),
            page.link(&format!("{}/preview", methods_path(course))),
            "Preview",
            true,
        ),
    };
    FormPage {
        layout: Layout::signed_in(page, &heading, Section::Courses),
        heading,
        description: data.manifest.description.clone(),
        action,
        csrf: page.csrf().to_owned(),
        plugin: data.manifest.id.clone(),
        method_name: typed.name.clone(),
        new,
        enabled: typed.enabled,
        inputs: config_inputs(data, typed),
        errors,
        button,
        cancel: page.link(&methods_path(course)),
    }
}

/// The plugin's field errors renamed after their inputs; the instance's
/// own fields (`name`, `plugin`) keep their names.
fn form_errors(e: ServiceError) -> Result<FormErrors, HttpError> {
    let e = match e {
        ServiceError::ConfigRejected { context, errors } => ServiceError::ConfigRejected {
            context,
            errors: errors
                .into_iter()
                .map(|mut fe| {
                    if !fe.field.is_empty() {
                        fe.field = input_name(&fe.field);
                    }
                    fe
                })
                .collect(),
        },
        ServiceError::Refused {
            code,
            message,
            field,
        } => ServiceError::Refused {
            code,
            message,
            field: field.map(|f| input_name(&f)),
        },
        other => other,
    };
    FormErrors::from_service(e)
}

async fn load_new_form(
    page: &SitePage,
    course: CourseId,
    plugin: String,
) -> Result<MethodForm, HttpError> {
    let services = page.site.services.clone();
    let who = page.principal().clone();
    blocking(move || services.new_method_form(&who, course, &plugin)).await
}

/// Which plugin to add, when the link named none.
#[derive(Template)]
#[template(path = "pages/methods/choose.html")]
pub(crate) struct ChoosePage {
    pub layout: Layout,
    pub heading: String,
    pub action: String,
    pub plugins: Vec<(String, String)>,
    pub cancel: String,
}

async fn new_form(
    page: SitePage,
    path: web::Path<CoursePath>,
    query: web::Query<NewQuery>,
) -> Result<HttpResponse, HttpError> {
    let course = CourseId(path.course);
    let plugin = query.plugin.clone().unwrap_or_default();
    if plugin.trim().is_empty() {
        let services = page.site.services.clone();
        let who = page.principal().clone();
        let found = blocking(move || services.course_methods(&who, course)).await?;
        let heading = format!("Add an enrolment method to {}", found.course.fullname);
        let view = ChoosePage {
            layout: Layout::signed_in(&page, &heading, Section::Courses),
            heading,
            action: page.link(&format!("{}/new", methods_path(course))),
            plugins: plugin_options(&found.plugins),
            cancel: page.link(&methods_path(course)),
        };
        return render(&view, StatusCode::OK);
    }
    let data = load_new_form(&page, course, plugin).await?;
    let typed = Typed::defaults(&data.manifest);
    render(
        &form_page(&page, &data, &typed, FormErrors::none()),
        StatusCode::OK,
    )
}

/// "Back to the form" from the preview: the form again, as typed.
async fn back_to_form(
    post: SitePost<Vec<(String, String)>>,
    path: web::Path<CoursePath>,
) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let typed = Typed::from_pairs(&form);
    let data = load_new_form(&page, CourseId(path.course), typed.plugin.clone()).await?;
    render(
        &form_page(&page, &data, &typed, FormErrors::none()),
        StatusCode::OK,
    )
}

/// The refused form again, with the messages and the values as typed.
async fn refused_form(
    page: &SitePage,
    e: ServiceError,
    typed: &Typed,
    load: impl std::future::Future<Output = Result<MethodForm, HttpError>>,
) -> Result<HttpResponse, HttpError> {
    let errors = form_errors(e)?;
    let data = load.await?;
    let view = form_page(page, &data, typed, errors);
    render(&view, status_for(&view.errors))
}

fn new_method(typed: &Typed, fields: &[PluginConfigField]) -> NewMethod {
    NewMethod {
        plugin: typed.plugin.clone(),
        name: typed.name.clone(),
        config: config_json(fields, typed),
        enabled: typed.enabled,
    }
}

#[derive(Template)]
#[template(path = "pages/methods/preview.html")]
pub(crate) struct PreviewPage {
    pub layout: Layout,
    pub heading: String,
    /// What saving would do, one line each.
    pub effects: Vec<String>,
    pub csrf: String,
    pub hidden: Vec<(String, String)>,
    pub save_action: String,
    pub back_action: String,
    pub cancel: String,
}

fn effects_of(preview: &MethodPreview, enabled: bool) -> Vec<String> {
    let mut out = Vec::new();
    out.push(match preview.enrolments {
        0 => "No one would be enrolled now.".to_owned(),
        1 => "1 user would be enrolled.".to_owned(),
        n => format!("{n} users would be enrolled."),
    });
    for name in &preview.groups_created {
        out.push(format!("The course group “{name}” would be created."));
    }
    if preview.group_memberships > 0 {
        out.push(format!(
            "{} would be added.",
            count(
                preview.group_memberships,
                "group membership",
                "group memberships"
            )
        ));
    }
    let other = preview
        .actions
        .saturating_sub(preview.enrolments + preview.group_memberships)
        .saturating_sub(preview.groups_created.len() as u64);
    if other > 0 {
        out.push(format!(
            "{} in all.",
            count(preview.actions, "change", "changes")
        ));
    }
    if !enabled {
        out.push(
            "The method would be saved disabled: it enrols no one until it is enabled.".to_owned(),
        );
    }
    out
}

async fn preview(
    post: SitePost<Vec<(String, String)>>,
    path: web::Path<CoursePath>,
) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let course = CourseId(path.course);
    let typed = Typed::from_pairs(&form);
    // The form's fields say how to read what was typed; the service call
    // that follows checks everything again.
    let data = load_new_form(&page, course, typed.plugin.clone()).await?;
    let new = new_method(&typed, &data.manifest.config);
    let services = page.site.services.clone();
    let who = page.principal().clone();
    match blocking(move || services.preview_method(&who, course, new)).await {
        Ok(preview) => {
            let heading = format!(
                "Preview: {} in {}",
                data.manifest.name, data.course.fullname
            );
            let view = PreviewPage {
                layout: Layout::signed_in(&page, &heading, Section::Courses),
                heading,
                effects: effects_of(&preview, typed.enabled),
                csrf: page.csrf().to_owned(),
                hidden: typed.hidden(),
                save_action: page.link(&methods_path(course)),
                back_action: page.link(&format!("{}/new", methods_path(course))),
                cancel: page.link(&methods_path(course)),
            };
            render(&view, StatusCode::OK)
        }
        Err(HttpError::Service(e)) => {
            let errors = form_errors(e)?;
            let view = form_page(&page, &data, &typed, errors);
            render(&view, status_for(&view.errors))
        }
        Err(e) => Err(e),
    }
}

async fn create(
    post: SitePost<Vec<(String, String)>>,
    path: web::Path<CoursePath>,
) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let course = CourseId(path.course);
    let typed = Typed::from_pairs(&form);
    let data = load_new_form(&page, course, typed.plugin.clone()).await?;
    let new = new_method(&typed, &data.manifest.config);
    let services = page.site.services.clone();
    let who = page.principal().clone();
    match blocking(move || services.add_method(&who, course, new)).await {
        Ok(m) => Ok(page.done(
            &methods_path(course),
            format!("Enrolment method “{}” added.", m.name),
        )),
        Err(HttpError::Service(e)) => {
            let errors = form_errors(e)?;
            let view = form_page(&page, &data, &typed, errors);
            render(&view, status_for(&view.errors))
        }
        Err(e) => Err(e),
    }
}

async fn load_form(page: &SitePage, path: &MethodPath) -> Result<MethodForm, HttpError> {
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let id = EnrolmentMethodId(path.method);
    let data = blocking(move || services.method_form(&who, id)).await?;
    // A method is addressed under its own course only.
    if data.course.id != CourseId(path.course) {
        return Err(HttpError::NoSuchPage);
    }
    Ok(data)
}

async fn edit_form(page: SitePage, path: web::Path<MethodPath>) -> Result<HttpResponse, HttpError> {
    let data = load_form(&page, &path).await?;
    let Some(m) = &data.method else {
        return Err(HttpError::NoSuchPage);
    };
    let config: Map<String, Value> = serde_json::from_str(&m.config).unwrap_or_default();
    let typed = Typed {
        plugin: m.plugin.clone(),
        name: m.name.clone(),
        enabled: m.status == EnrolmentMethodStatus::Enabled,
        config: config_values(&data.manifest.config, &config, true),
    };
    render(
        &form_page(&page, &data, &typed, FormErrors::none()),
        StatusCode::OK,
    )
}

async fn update(
    post: SitePost<Vec<(String, String)>>,
    path: web::Path<MethodPath>,
) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let data = load_form(&page, &path).await?;
    let mut typed = Typed::from_pairs(&form);
    typed.plugin = data.manifest.id.clone();
    let update = MethodUpdate {
        name: Some(typed.name.clone()),
        config: Some(config_json(&data.manifest.config, &typed)),
    };
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let id = EnrolmentMethodId(path.method);
    match blocking(move || services.update_method(&who, id, update)).await {
        Ok(m) => Ok(page.done(
            &methods_path(m.course),
            format!("Changes to “{}” saved.", m.name),
        )),
        Err(HttpError::Service(e)) => refused_form(&page, e, &typed, async { Ok(data) }).await,
        Err(e) => Err(e),
    }
}

// --------------------------------------------------------------- actions

async fn set_status(
    post: SitePost<Empty>,
    path: web::Path<MethodPath>,
    status: EnrolmentMethodStatus,
) -> Result<HttpResponse, HttpError> {
    let page = post.page;
    let course = CourseId(path.course);
    let id = EnrolmentMethodId(path.method);
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let m = blocking(move || services.set_method_status(&who, id, status)).await?;
    let message = match m.status {
        EnrolmentMethodStatus::Enabled => format!("“{}” is enabled.", m.name),
        EnrolmentMethodStatus::Disabled => format!(
            "“{}” is disabled: its enrolments stay, and it enrols no one until enabled again.",
            m.name
        ),
    };
    Ok(page.done(&methods_path(course), message))
}

async fn enable(
    post: SitePost<Empty>,
    path: web::Path<MethodPath>,
) -> Result<HttpResponse, HttpError> {
    set_status(post, path, EnrolmentMethodStatus::Enabled).await
}

async fn disable(
    post: SitePost<Empty>,
    path: web::Path<MethodPath>,
) -> Result<HttpResponse, HttpError> {
    set_status(post, path, EnrolmentMethodStatus::Disabled).await
}

fn reconciled(report: &ReconcileReport) -> String {
    match (report.changed, report.unchanged) {
        (0, 0) => "Reconciled: nothing to do.".to_owned(),
        (0, same) => format!(
            "Reconciled: nothing needed changing ({} already as it should be).",
            count(same, "item", "items")
        ),
        (changed, 0) => format!("Reconciled: {} made.", count(changed, "change", "changes")),
        (changed, same) => format!(
            "Reconciled: {} made, {} already as it should be.",
            count(changed, "change", "changes"),
            count(same, "item", "items")
        ),
    }
}

async fn reconcile(
    post: SitePost<Empty>,
    path: web::Path<MethodPath>,
) -> Result<HttpResponse, HttpError> {
    let page = post.page;
    let course = CourseId(path.course);
    let id = EnrolmentMethodId(path.method);
    let services = page.site.services.clone();
    let who = page.principal().clone();
    match blocking(move || services.reconcile_method(&who, id, false)).await {
        Ok(report) => Ok(page.done(&methods_path(course), reconciled(&report))),
        // A plugin that fails or refuses is the news the visitor asked
        // for; its error is also recorded and shown in the list.
        Err(HttpError::Service(
            e @ (ServiceError::Refused { .. }
            | ServiceError::PluginFailed { .. }
            | ServiceError::Conflict(_)),
        )) => Ok(redirect_with(
            &page.request,
            page.base(),
            &page.link(&methods_path(course)),
            Flash {
                kind: FlashKind::Error,
                text: format!("Reconcile failed: {e}"),
            },
        )),
        Err(e) => Err(e),
    }
}

async fn confirm_delete(
    page: SitePage,
    path: web::Path<MethodPath>,
) -> Result<HttpResponse, HttpError> {
    let course = CourseId(path.course);
    let id = EnrolmentMethodId(path.method);
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let o = blocking(move || services.method_overview(&who, id)).await?;
    if o.method.course != course {
        return Err(HttpError::NoSuchPage);
    }
    let heading = format!("Delete enrolment method “{}”?", o.method.name);
    let view = ConfirmPage {
        layout: Layout::signed_in(&page, &heading, Section::Courses),
        heading,
        effects: vec![
            format!(
                "Delete the enrolment method “{}” ({}).",
                o.method.name, o.method.plugin
            ),
            match o.enrolments {
                0 => "It has no enrolments.".to_owned(),
                n => format!(
                    "Remove its {}: users enrolled only through it leave the course, with their group memberships in it.",
                    count(n, "enrolment", "enrolments")
                ),
            },
            "Remove the group memberships it added. Groups themselves stay.".to_owned(),
            "This cannot be undone.".to_owned(),
        ],
        action: page.link(&format!("{}/delete", method_path(course, id))),
        csrf: page.csrf().to_owned(),
        button: "Delete enrolment method".to_owned(),
        cancel: page.link(&methods_path(course)),
    };
    render(&view, StatusCode::OK)
}

async fn delete(
    post: SitePost<Empty>,
    path: web::Path<MethodPath>,
) -> Result<HttpResponse, HttpError> {
    let page = post.page;
    let course = CourseId(path.course);
    let id = EnrolmentMethodId(path.method);
    let services = page.site.services.clone();
    let who = page.principal().clone();
    blocking(move || services.delete_method(&who, id)).await?;
    Ok(page.done(
        &methods_path(course),
        "Enrolment method deleted, with its enrolments.",
    ))
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
