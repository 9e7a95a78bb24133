//! Rule-based segments (PRODUCT §3, "automation"): a segment-rule plugin
//! attached to one segment with a config (the rule) keeps its members
//! equal to the users the rule selects. While a rule is attached, the
//! segment's `managed_by` names its plugin and nobody else changes the
//! members.

use serde::{Deserialize, Serialize};

use crate::{SegmentId, Timestamp, UserId};

/// The rule of a segment. Stored with postcard: a new field goes last.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentRule {
    pub segment: SegmentId,
    /// The segment-rule plugin's id.
    pub plugin: String,
    /// The config as JSON, as the plugin's `validate-rule` returned it.
    pub config: String,
    /// A paused rule receives no event and runs no reconcile; the segment
    /// stays managed (by hand changes stay refused) until it is detached.
    pub enabled: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// What its last reconcile or event did.
    pub last_run: Option<RuleRun>,
}

/// What one run of a rule did to its segment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleRun {
    pub at: Timestamp,
    /// `reconcile`, `event` or `dry-run`.
    pub trigger: String,
    /// Users who became members.
    pub joined: u64,
    /// Users who stopped being members.
    pub left: u64,
    /// Why it failed (the plugin crashed, refused, or asked for what the
    /// host refused); the segment is as it was before the failed plan.
    pub error: Option<String>,
}

/// What a rule's reconcile did or, in a dry run, would do: every user who
/// joins or leaves, with the plugin's reason.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleOutcome {
    pub joined: Vec<RuleChange>,
    pub left: Vec<RuleChange>,
    /// Actions the host refused (a user that does not exist), with why.
    pub refused: Vec<String>,
    /// Pages the plugin answered.
    pub pages: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleChange {
    pub user: UserId,
    pub reason: String,
}
