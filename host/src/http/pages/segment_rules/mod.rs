//! A segment's rule (issue 20): the "Rule" section of the segment page
//! ([`rule_section`]), the form that attaches or changes a rule (`form`:
//! the segment-rule plugin to use and that plugin's config form,
//! generated from its manifest as an enrolment method's is, saved with its
//! first run, "Save and run") and the rule's actions (`actions`: a dry run
//! — a page of who would join and who would leave, with why — run now,
//! pause and resume, and removal after a confirmation saying the members
//! stay).
//!
//! The services decide everything: who may, whether a segment may have a
//! rule, whether the rule is good (its plugin's messages land beside the
//! inputs they name). Nothing here reads a rule's config beyond showing
//! it.

use actix_web::HttpResponse;
use serde_json::{Map, Value};

use super::super::{HttpError, blocking};
use super::page_routes;
use super::session::{Flash, FlashKind, SitePage, redirect_with};
use crate::domain::{PluginConfigField, PluginFieldKind, Segment, SegmentId};
use crate::services::ServiceError;
use crate::services::segment_rules::SegmentRuleView;

mod actions;
mod form;

page_routes! {
    get "/segments/{segment}/rule" => form::form, SiteAdmin;
    post "/segments/{segment}/rule" => form::save, SiteAdmin;
    post "/segments/{segment}/rule/dry-run" => actions::dry_run, SiteAdmin;
    post "/segments/{segment}/rule/run" => actions::run_now, SiteAdmin;
    post "/segments/{segment}/rule/pause" => actions::pause, SiteAdmin;
    post "/segments/{segment}/rule/resume" => actions::resume, SiteAdmin;
    post "/segments/{segment}/rule/remove" => actions::remove, SiteAdmin;
}

#[derive(serde::Deserialize)]
pub(crate) struct IdPath {
    pub(super) segment: u64,
}

pub(super) fn segment_path(id: SegmentId) -> String {
    format!("/segments/{id}")
}

pub(super) fn rule_path(id: SegmentId) -> String {
    format!("/segments/{id}/rule")
}

/// "3 joined, 1 left".
pub(super) fn joined_left(joined: u64, left: u64) -> String {
    format!("{joined} joined, {left} left")
}

/// A flash carries at most 500 characters; a plugin's message may be
/// longer.
fn clipped(text: String) -> String {
    const MAX: usize = 400;
    match text.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

pub(super) fn back_with_error(page: &SitePage, id: SegmentId, text: String) -> HttpResponse {
    redirect_with(
        &page.request,
        page.base(),
        &page.link(&segment_path(id)),
        Flash {
            kind: FlashKind::Error,
            text: clipped(text),
        },
    )
}

/// A run that failed for what the rule's plugin did (or because the rule
/// is paused) is the news the visitor asked for, not an error page; the
/// failure is also the rule's last run on the segment page.
pub(super) fn is_run_failure(e: &HttpError) -> bool {
    matches!(
        e,
        HttpError::Service(
            ServiceError::Refused { .. }
                | ServiceError::PluginFailed { .. }
                | ServiceError::Conflict(_)
        )
    )
}

// ------------------------------------------------ the segment page's part

/// The "Rule" section of the segment page.
pub(crate) struct RuleSection {
    /// The rule, when one is attached.
    pub rule: Option<RuleSummary>,
    /// Another component (an import feed) manages the segment: it cannot
    /// have a rule.
    pub other_manager: Option<String>,
    /// The form attaching a rule.
    pub new_href: String,
}

pub(crate) struct RuleSummary {
    pub plugin_name: String,
    pub paused: bool,
    /// The config's values under their field labels.
    pub settings: Vec<Setting>,
    /// The config as stored, when the plugin's form is unknown (the
    /// plugin is no longer enabled on the site).
    pub raw_config: Option<String>,
    pub last_run: Option<LastRun>,
    pub edit_href: String,
    pub dry_run_action: String,
    pub run_action: String,
    pub toggle_action: String,
    pub toggle_label: &'static str,
    pub remove_action: String,
}

pub(crate) struct Setting {
    pub label: String,
    pub value: String,
    /// Shown as written, in a `<pre>` (a multiline field: the rule's
    /// conditions).
    pub verbatim: bool,
}

pub(crate) struct LastRun {
    pub at: String,
    pub trigger: String,
    pub joined: u64,
    pub left: u64,
    pub error: Option<String>,
}

/// The rule section of segment `segment` as the segment page shows it.
/// Only a managed segment can have a rule, so a segment managed by hand
/// costs no second call.
pub(crate) async fn rule_section(
    page: &SitePage,
    segment: &Segment,
) -> Result<RuleSection, HttpError> {
    let id = segment.id;
    let rule = match &segment.managed_by {
        None => None,
        Some(_) => {
            let services = page.site.services.clone();
            let who = page.principal().clone();
            blocking(move || services.segment_rule(&who, id)).await?
        }
    };
    Ok(RuleSection {
        other_manager: match &rule {
            None => segment.managed_by.clone(),
            Some(_) => None,
        },
        rule: rule.map(|view| rule_summary(page, &view)),
        new_href: page.link(&rule_path(id)),
    })
}

fn rule_summary(page: &SitePage, view: &SegmentRuleView) -> RuleSummary {
    let rule = &view.rule;
    let base = rule_path(rule.segment);
    let config: Map<String, Value> = serde_json::from_str(&rule.config).unwrap_or_default();
    RuleSummary {
        plugin_name: view.plugin_name.clone(),
        paused: !rule.enabled,
        settings: view
            .form
            .iter()
            .filter_map(|f| setting(f, config.get(&f.key)?))
            .collect(),
        raw_config: view.form.is_empty().then(|| rule.config.clone()),
        last_run: rule.last_run.as_ref().map(|r| LastRun {
            at: r.at.to_string(),
            trigger: r.trigger.clone(),
            joined: r.joined,
            left: r.left,
            error: r.error.clone(),
        }),
        edit_href: page.link(&base),
        dry_run_action: page.link(&format!("{base}/dry-run")),
        run_action: page.link(&format!("{base}/run")),
        toggle_action: page.link(&format!(
            "{base}/{}",
            if rule.enabled { "pause" } else { "resume" }
        )),
        toggle_label: if rule.enabled { "Pause" } else { "Resume" },
        remove_action: page.link(&format!("{base}/remove")),
    }
}

/// A config value in words: a choice by its label, text as written. A
/// secret is never shown.
fn setting(f: &PluginConfigField, value: &Value) -> Option<Setting> {
    let text = match value {
        Value::Null => return None,
        Value::String(s) => s.clone(),
        Value::Bool(true) => "Yes".to_owned(),
        Value::Bool(false) => "No".to_owned(),
        other => other.to_string(),
    };
    let value = match &f.kind {
        PluginFieldKind::Secret => return None,
        PluginFieldKind::Choice { choices } => choices
            .iter()
            .find(|c| c.value == text)
            .map_or(text, |c| c.label.clone()),
        _ => text,
    };
    Some(Setting {
        label: f.label.clone(),
        verbatim: matches!(f.kind, PluginFieldKind::Multiline),
        value,
    })
}
