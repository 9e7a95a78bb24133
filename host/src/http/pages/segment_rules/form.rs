//! The form attaching a rule to a segment or changing it: the
//! segment-rule plugin (a picker when the site has several, the only one
//! chosen otherwise) and its config form, generated from the manifest by
//! the enrolment methods' `config_form`; saved with its first run, whose
//! outcome the segment page's flash says. A refused rule comes back on the
//! form, each message beside its input and what was typed kept.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde_json::{Map, Value};

use super::{IdPath, back_with_error, joined_left, rule_path, segment_path};
use crate::domain::{PluginManifest, Segment, SegmentId};
use crate::http::pages::forms::{FormErrors, render, status_for};
use crate::http::pages::methods::config_form::{
    ConfigInput, FieldChoices, config_values, input_name, inputs_of, json_of,
};
use crate::http::pages::session::{SitePage, SitePost};
use crate::http::pages::{Layout, Section};
use crate::http::{HttpError, blocking};
use crate::services::ServiceError;
use crate::services::segment_rules::{RuleSet, SegmentRuleView};

#[derive(serde::Deserialize)]
pub(crate) struct PluginQuery {
    plugin: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/segments/rule_form.html")]
pub(crate) struct FormPage {
    pub layout: Layout,
    pub heading: String,
    pub segment_href: String,
    /// Why no rule can be attached, instead of the form.
    pub blocked: Option<String>,
    /// `(plugin id, plugin name)`; the picker is shown when there is a
    /// choice to make.
    pub plugins: Vec<(String, String)>,
    pub picker_action: String,
    /// The chosen plugin's id, or empty while none is.
    pub plugin: String,
    pub plugin_name: String,
    pub description: String,
    /// Changing a rule rather than attaching one.
    pub editing: bool,
    pub action: String,
    pub csrf: String,
    pub inputs: Vec<ConfigInput>,
    pub errors: FormErrors,
}

/// What the form needs: the segment, the plugins that may rule it and
/// its current rule.
struct FormData {
    segment: Segment,
    plugins: Vec<PluginManifest>,
    rule: Option<SegmentRuleView>,
}

async fn form_data(page: &SitePage, id: SegmentId) -> Result<FormData, HttpError> {
    let services = page.site.services.clone();
    let who = page.principal().clone();
    blocking(move || {
        // The rule's view first: it refuses anyone but a site admin, and
        // a missing segment, before the rest is read.
        let rule = services.segment_rule(&who, id)?;
        let segment = services.get_segment(&who, id)?.segment;
        let plugins = services.rule_plugins(&who)?;
        Ok(FormData {
            segment,
            plugins,
            rule,
        })
    })
    .await
}

/// The plugin whose form to show: the one asked for, else the rule's,
/// else the only one there is.
fn chosen_plugin(data: &FormData, asked: Option<&str>) -> Option<String> {
    let asked = asked.map(str::trim).filter(|p| !p.is_empty());
    asked
        .map(str::to_owned)
        .or_else(|| data.rule.as_ref().map(|r| r.rule.plugin.clone()))
        .or_else(|| match data.plugins.as_slice() {
            [only] => Some(only.id.clone()),
            _ => None,
        })
}

/// The saved config's inputs when the form shows the rule's own plugin,
/// else the plugin's defaults.
fn initial_values(data: &FormData, manifest: &PluginManifest) -> BTreeMap<String, String> {
    let saved: Map<String, Value> = match &data.rule {
        Some(view) if view.rule.plugin == manifest.id => {
            serde_json::from_str(&view.rule.config).unwrap_or_default()
        }
        _ => Map::new(),
    };
    config_values(&manifest.config, &saved, true)
}

fn form_page(
    page: &SitePage,
    data: &FormData,
    plugin: Option<&str>,
    values: Option<&BTreeMap<String, String>>,
    errors: FormErrors,
) -> FormPage {
    let id = data.segment.id;
    let name = &data.segment.name;
    let editing = data.rule.is_some();
    let heading = if editing {
        format!("Edit the rule of {name}")
    } else {
        format!("Manage the members of {name} by a rule")
    };
    let mut plugins: Vec<(String, String)> = data
        .plugins
        .iter()
        .map(|m| (m.id.clone(), m.name.clone()))
        .collect();
    plugins.sort_by_key(|p| p.1.to_lowercase());
    let manifest = plugin.and_then(|p| data.plugins.iter().find(|m| m.id == p));
    let blocked = match (&data.segment.managed_by, &data.rule) {
        (Some(other), None) => Some(format!(
            "The plugin “{other}” manages this segment: its members change only through it, so it cannot also have a rule."
        )),
        _ if data.plugins.is_empty() => Some(
            "No segment-rule plugin is enabled on this site. An operator enables plugins for a site."
                .to_owned(),
        ),
        _ => None,
    };
    let (inputs, plugin_name, description) = match manifest {
        Some(m) => {
            let saved = data
                .rule
                .as_ref()
                .filter(|r| r.rule.plugin == m.id)
                .map(|r| r.rule.config.as_str());
            let choices = FieldChoices {
                saved,
                ..FieldChoices::default()
            };
            let initial;
            let values = match values {
                Some(v) => v,
                None => {
                    initial = initial_values(data, m);
                    &initial
                }
            };
            (
                inputs_of(&m.config, &choices, values),
                m.name.clone(),
                m.description.clone(),
            )
        }
        None => (Vec::new(), String::new(), String::new()),
    };
    FormPage {
        layout: Layout::signed_in(page, &heading, Section::Segments),
        heading,
        segment_href: page.link(&segment_path(id)),
        blocked,
        plugins,
        picker_action: page.link(&rule_path(id)),
        plugin: manifest.map(|m| m.id.clone()).unwrap_or_default(),
        plugin_name,
        description,
        editing,
        action: page.link(&rule_path(id)),
        csrf: page.csrf().to_owned(),
        inputs,
        errors,
    }
}

pub(super) async fn form(
    page: SitePage,
    path: web::Path<IdPath>,
    query: web::Query<PluginQuery>,
) -> Result<HttpResponse, HttpError> {
    let id = SegmentId(path.segment);
    let data = form_data(&page, id).await?;
    let plugin = chosen_plugin(&data, query.plugin.as_deref());
    let view = form_page(&page, &data, plugin.as_deref(), None, FormErrors::none());
    render(&view, StatusCode::OK)
}

/// The rule form as posted: the plugin and every `config.…` input.
fn typed_of(pairs: &[(String, String)]) -> (String, BTreeMap<String, String>) {
    let mut plugin = String::new();
    let mut values = BTreeMap::new();
    for (k, v) in pairs {
        if k == "plugin" {
            plugin = v.trim().to_owned();
        } else if k.starts_with("config.") {
            values.insert(k.clone(), v.clone());
        }
    }
    (plugin, values)
}

/// A refusal of the rule as form messages beside their inputs: the
/// plugin's fields are the `config.…` inputs, and the several problems a
/// plugin reports on one field (each line of a rule) are shown together.
fn rule_errors(e: ServiceError) -> Result<FormErrors, HttpError> {
    let e = match e {
        ServiceError::ConfigRejected { context, errors } => {
            let mut merged: Vec<crate::services::error::ConfigFieldError> = Vec::new();
            for mut fe in errors {
                if !fe.field.is_empty() && fe.field != "plugin" {
                    fe.field = input_name(&fe.field);
                }
                match merged.iter_mut().find(|m| m.field == fe.field) {
                    Some(m) if !fe.field.is_empty() => {
                        m.message = format!("{}; {}", m.message, fe.message);
                    }
                    _ => merged.push(fe),
                }
            }
            ServiceError::ConfigRejected {
                context,
                errors: merged,
            }
        }
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

pub(super) async fn save(
    post: SitePost<Vec<(String, String)>>,
    path: web::Path<IdPath>,
) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let id = SegmentId(path.segment);
    let (plugin, values) = typed_of(&form);
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let chosen = plugin.clone();
    let typed = values.clone();
    // The plugin's form says how to read the inputs; the service checks
    // the config against it again, and an unknown plugin is its refusal.
    let result = blocking(move || {
        let fields = services
            .rule_plugins(&who)?
            .into_iter()
            .find(|m| m.id == chosen)
            .map(|m| m.config)
            .unwrap_or_default();
        let config = json_of(&fields, &typed);
        Ok(services.set_segment_rule(&who, id, &chosen, &config))
    })
    .await?;
    match result {
        Ok(set) => Ok(saved(&page, id, &set)),
        Err(e) => {
            let errors = rule_errors(e)?;
            let data = form_data(&page, id).await?;
            let view = form_page(&page, &data, Some(&plugin), Some(&values), errors);
            render(&view, status_for(&view.errors))
        }
    }
}

/// Where saving leads: the segment, saying what the rule's first run did
/// (its failure as an error: the rule is saved, and did not run).
fn saved(page: &SitePage, id: SegmentId, set: &RuleSet) -> HttpResponse {
    match &set.outcome {
        Ok(o) => page.done(
            &segment_path(id),
            format!(
                "Rule saved and run: {}.",
                joined_left(o.joined.len() as u64, o.left.len() as u64)
            ),
        ),
        Err(e) => back_with_error(
            page,
            id,
            format!("Rule saved, but its first run failed: {e}"),
        ),
    }
}
