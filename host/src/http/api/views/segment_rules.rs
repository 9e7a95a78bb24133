//! Rule-based segments: a segment's rule with its last run, what setting
//! one did first, and what a run (or a dry run) changes.

use serde::{Deserialize, Serialize};

use super::{Mirror, SegmentIdView, TimestampView, UserIdView, mirror_struct};
use crate::domain::{RuleChange, RuleOutcome, RuleRun};
use crate::services::segment_rules::SegmentRuleView as RuleWithPlugin;

/// The rule of a segment: the segment-rule plugin that keeps its members,
/// with its config. While a rule is attached the segment is managed by
/// the plugin (`managed_by`) and its members cannot be changed by hand.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = SegmentRule)]
pub struct SegmentRuleView {
    pub segment: SegmentIdView,
    /// The segment-rule plugin's id, e.g. `profile-field-rules`.
    pub plugin: String,
    /// The plugin's name, or its id when the site can no longer load it.
    pub plugin_name: String,
    /// The config as the plugin accepted it (its form's keys).
    #[schema(value_type = Object)]
    pub config: serde_json::Value,
    /// A paused rule hears no event and runs no reconcile; the segment
    /// stays managed until the rule is removed.
    pub enabled: bool,
    pub created_at: TimestampView,
    pub updated_at: TimestampView,
    /// What its last reconcile or event did; absent before its first run.
    pub last_run: Option<RuleRunView>,
}

impl From<RuleWithPlugin> for SegmentRuleView {
    fn from(v: RuleWithPlugin) -> Self {
        let r = v.rule;
        Self {
            segment: r.segment.mirror(),
            plugin: r.plugin,
            plugin_name: v.plugin_name,
            // Stored as the JSON text the plugin returned; text that is
            // not JSON (never written by the host) is shown as it is.
            config: serde_json::from_str(&r.config).unwrap_or(serde_json::Value::String(r.config)),
            enabled: r.enabled,
            created_at: r.created_at.mirror(),
            updated_at: r.updated_at.mirror(),
            last_run: r.last_run.mirror(),
        }
    }
}

/// What one run of a rule did to its segment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = RuleRun)]
pub struct RuleRunView {
    pub at: TimestampView,
    /// `reconcile` (when attached, resumed, run or on the schedule) or
    /// `event` (a user change the plugin follows).
    pub trigger: String,
    /// Users who became members.
    pub joined: u64,
    /// Users who stopped being members.
    pub left: u64,
    /// Why it failed; the segment is as it was before the failed plan.
    pub error: Option<String>,
}

mirror_struct!(
    RuleRun,
    RuleRunView {
        at,
        trigger,
        joined,
        left,
        error,
    }
);

/// One user a rule adds to or removes from its segment, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = RuleChange)]
pub struct RuleChangeView {
    pub user: UserIdView,
    /// The plugin's reason, e.g. the condition that matched.
    pub reason: String,
}

mirror_struct!(RuleChange, RuleChangeView { user, reason });

/// What a rule's run did or, in a dry run, would do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = RuleOutcome)]
pub struct RuleOutcomeView {
    /// Users who join the segment.
    pub joined: Vec<RuleChangeView>,
    /// Users who leave it.
    pub left: Vec<RuleChangeView>,
    /// Actions of the plugin the host refuses (a user that does not
    /// exist), with why.
    pub refused: Vec<String>,
    /// Pages the plugin answered.
    pub pages: u32,
}

mirror_struct!(
    RuleOutcome,
    RuleOutcomeView {
        joined,
        left,
        refused,
        pages,
    }
);

/// How the first run of a rule just set went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = RuleFirstRunOutcome)]
pub enum RuleFirstRunOutcomeView {
    /// It ran: `joined` and `left` say what it changed.
    Done,
    /// It failed: `error` says why (also the rule's last run). The rule
    /// stays attached.
    Failed,
}

/// The first reconcile of a rule just set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = RuleFirstRun)]
pub struct RuleFirstRunView {
    pub outcome: RuleFirstRunOutcomeView,
    /// Users who became members.
    pub joined: u64,
    /// Users who stopped being members.
    pub left: u64,
    /// Why it failed.
    pub error: Option<String>,
}

impl From<Result<RuleOutcome, String>> for RuleFirstRunView {
    fn from(outcome: Result<RuleOutcome, String>) -> Self {
        match outcome {
            Ok(o) => Self {
                outcome: RuleFirstRunOutcomeView::Done,
                joined: o.joined.len() as u64,
                left: o.left.len() as u64,
                error: None,
            },
            Err(e) => Self {
                outcome: RuleFirstRunOutcomeView::Failed,
                joined: 0,
                left: 0,
                error: Some(e),
            },
        }
    }
}

/// A rule just attached or changed, and how its first run went.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = SegmentRuleSet)]
pub struct SegmentRuleSetView {
    pub rule: SegmentRuleView,
    pub first_run: RuleFirstRunView,
}

impl From<(RuleWithPlugin, Result<RuleOutcome, String>)> for SegmentRuleSetView {
    fn from((rule, outcome): (RuleWithPlugin, Result<RuleOutcome, String>)) -> Self {
        Self {
            rule: rule.into(),
            first_run: outcome.into(),
        }
    }
}
