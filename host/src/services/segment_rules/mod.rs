//! Rule-based segments (issue 20, PRODUCT §3 "automation"): a site admin
//! attaches a segment-rule plugin to a segment with a config (the rule);
//! from then on the segment is *managed*: its `managed_by` names the
//! plugin, people's changes to its members are refused, and the plugin
//! keeps the members equal to the users the rule selects — on every user
//! event it asks for, and on a reconcile (when attached, on demand, and
//! with the site's scheduled runs).
//!
//! The plugin acts as the rule's own principal (`Actor::Rule`): its plan
//! may add and remove members of that one segment and nothing else, and
//! each change is audited and evented like a person's, so a segment
//! synced into a course moves people between groups live. `run.rs` holds
//! the calls, the pages of a reconcile and the plans applied; the
//! dispatcher (`execution::dispatch`) delivers events through it.

mod run;

use super::auth::{Need, authorize};
use super::error::{ServiceError, ServiceResult};
use super::ops::segments::load_segment;
use super::{Principal, SiteServices};
use crate::domain::*;
use crate::runtime::contract::PluginKind;
use crate::storage::site::prelude::*;

pub(crate) use run::RuleTrigger;

/// A segment's rule as pages and the API show it.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct SegmentRuleView {
    pub rule: SegmentRule,
    /// The plugin's name (its manifest's), or its id when the site can no
    /// longer load it.
    pub plugin_name: String,
    /// The plugin's config form, to edit the rule; empty when the plugin
    /// is not enabled on the site.
    pub form: Vec<PluginConfigField>,
}

/// What attaching or changing a rule did: the rule, and its first
/// reconcile's outcome (or why it failed: the rule stays attached, its
/// last run says the error).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct RuleSet {
    pub rule: SegmentRule,
    pub outcome: Result<RuleOutcome, String>,
}

impl SiteServices {
    /// The rule of a segment, if one is attached: site admins.
    pub fn segment_rule(
        &self,
        who: &Principal,
        segment: SegmentId,
    ) -> ServiceResult<Option<SegmentRuleView>> {
        let rule = self.read(|t| {
            authorize(&self.site, t, who, Need::SiteAdmin)?;
            load_segment(t, segment)?;
            Ok(t.segment_rule(segment)?)
        })?;
        let Some(rule) = rule else {
            return Ok(None);
        };
        let (plugin_name, form) = match self.plugin(&rule.plugin) {
            Ok(p) => (p.manifest.name.clone(), p.manifest.config.clone()),
            Err(_) => (rule.plugin.clone(), Vec::new()),
        };
        Ok(Some(SegmentRuleView {
            rule,
            plugin_name,
            form,
        }))
    }

    /// The segment-rule plugins a site admin may attach.
    pub fn rule_plugins(&self, who: &Principal) -> ServiceResult<Vec<PluginManifest>> {
        self.read(|t| authorize(&self.site, t, who, Need::SiteAdmin).map(drop))?;
        self.enabled_manifests_of(PluginKind::SegmentRule)
    }

    /// Attaches rule `config` of plugin `plugin` to a segment, or changes
    /// the segment's rule, then runs its first reconcile. The config is
    /// checked against the plugin's form and by the plugin first; a
    /// segment managed by another component (an import feed) is refused.
    /// The members a segment had by hand are the rule's from then on: the
    /// reconcile removes those it does not select.
    pub fn set_segment_rule(
        &self,
        who: &Principal,
        segment: SegmentId,
        plugin: &str,
        config: &serde_json::Value,
    ) -> ServiceResult<RuleSet> {
        self.read(|t| {
            authorize(&self.site, t, who, Need::SiteAdmin)?;
            load_segment(t, segment).map(drop)
        })?;
        let component = self.plugin_for_rule(plugin)?;
        if !config.is_object() {
            return Err(ServiceError::invalid(
                "config",
                "a rule's config is a JSON object",
            ));
        }
        let config = self.validate_rule_config(&component, segment, &config.to_string())?;
        let rule = self.write(|t| {
            let actor = authorize(&self.site, t, who, Need::SiteAdmin)?;
            let mut seg = load_segment(t, segment)?;
            let before = t.segment_rule(segment)?;
            if let (Some(other), None) = (&seg.managed_by, &before) {
                return Err(ServiceError::Conflict(format!(
                    "segment {:?} is managed by {other:?}; it cannot also have a rule",
                    seg.name
                )));
            }
            let rule = SegmentRule {
                segment,
                plugin: plugin.to_owned(),
                config: config.clone(),
                enabled: true,
                created_at: before.as_ref().map_or(t.now, |r| r.created_at),
                updated_at: t.now,
                last_run: before.as_ref().and_then(|r| r.last_run.clone()),
            };
            t.put_segment_rule(&rule)?;
            if seg.managed_by.as_deref() != Some(plugin) {
                seg.managed_by = Some(plugin.to_owned());
                t.put_segment(&seg)?;
            }
            let action = if before.is_some() {
                "segment.rule_updated"
            } else {
                "segment.rule_set"
            };
            t.audit_log(
                actor,
                action,
                format!("segment #{segment} {:?}", seg.name),
                format!("rule of plugin {plugin:?}: {config}"),
            )?;
            Ok(rule)
        })?;
        let outcome = self
            .run_rule(segment, RuleTrigger::Reconcile)
            .map_err(|e| e.to_string());
        let rule = self.read(|t| Ok(t.segment_rule(segment)?))?.unwrap_or(rule);
        Ok(RuleSet { rule, outcome })
    }

    /// Detaches a segment's rule: its members stay as they are and may be
    /// changed by hand again.
    pub fn remove_segment_rule(&self, who: &Principal, segment: SegmentId) -> ServiceResult<()> {
        self.write(|t| {
            let actor = authorize(&self.site, t, who, Need::SiteAdmin)?;
            let mut seg = load_segment(t, segment)?;
            let Some(rule) = t.segment_rule(segment)? else {
                return Err(ServiceError::NotFound(format!(
                    "segment {:?} has no rule",
                    seg.name
                )));
            };
            t.delete_segment_rule_row(segment)?;
            seg.managed_by = None;
            t.put_segment(&seg)?;
            t.audit_log(
                actor,
                "segment.rule_removed",
                format!("segment #{segment} {:?}", seg.name),
                format!("rule of plugin {:?} detached; members kept", rule.plugin),
            )?;
            Ok(())
        })
    }

    /// Pauses or resumes a segment's rule. Resuming runs a reconcile, so
    /// what changed while it was paused is caught up.
    pub fn set_segment_rule_enabled(
        &self,
        who: &Principal,
        segment: SegmentId,
        enabled: bool,
    ) -> ServiceResult<SegmentRule> {
        let rule = self.write(|t| {
            let actor = authorize(&self.site, t, who, Need::SiteAdmin)?;
            let seg = load_segment(t, segment)?;
            let Some(mut rule) = t.segment_rule(segment)? else {
                return Err(ServiceError::NotFound(format!(
                    "segment {:?} has no rule",
                    seg.name
                )));
            };
            if rule.enabled == enabled {
                return Ok(rule);
            }
            rule.enabled = enabled;
            rule.updated_at = t.now;
            t.put_segment_rule(&rule)?;
            t.audit_log(
                actor,
                if enabled {
                    "segment.rule_enabled"
                } else {
                    "segment.rule_paused"
                },
                format!("segment #{segment} {:?}", seg.name),
                "",
            )?;
            Ok(rule)
        })?;
        if enabled {
            // Its failure is recorded as the rule's last run, which the
            // page shows; resuming itself succeeded.
            let _ = self.run_rule(segment, RuleTrigger::Reconcile);
            return Ok(self.read(|t| Ok(t.segment_rule(segment)?))?.unwrap_or(rule));
        }
        Ok(rule)
    }

    /// Runs a segment's rule now: a reconcile, or a dry run that applies
    /// nothing and says who would join and who would leave, with why.
    pub fn run_segment_rule(
        &self,
        who: &Principal,
        segment: SegmentId,
        dry_run: bool,
    ) -> ServiceResult<RuleOutcome> {
        let seg = self.read(|t| {
            authorize(&self.site, t, who, Need::SiteAdmin)?;
            load_segment(t, segment)
        })?;
        let rule = self.read(|t| Ok(t.segment_rule(segment)?))?;
        if rule.is_none() {
            return Err(ServiceError::NotFound(format!(
                "segment {:?} has no rule",
                seg.name
            )));
        }
        let trigger = if dry_run {
            RuleTrigger::DryRun
        } else {
            RuleTrigger::Reconcile
        };
        self.run_rule(segment, trigger)
    }

    /// Reconciles every enabled rule of the site (after start-up and on
    /// the reconcile schedule); a failure is recorded on its rule.
    pub fn reconcile_segment_rules(&self) -> ServiceResult<u32> {
        let rules = self.read(|t| Ok(t.all_segment_rules()?))?;
        let mut ran = 0;
        for rule in rules.into_iter().filter(|r| r.enabled) {
            ran += 1;
            // A plugin's failure is recorded on its rule; only the
            // host's own storage failure stops the job.
            if let Err(e @ ServiceError::Storage(_)) =
                self.run_rule(rule.segment, RuleTrigger::Reconcile)
            {
                return Err(e);
            }
        }
        Ok(ran)
    }
}
