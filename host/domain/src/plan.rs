//! What running an enrolment method leaves in the site: its last run and
//! error, and the plan a plugin answers with, in the host's words (each
//! contract version's adapter converts its own plan into this one).
//!
//! Plain data like the rest of the crate: stored with postcard, so the same
//! serde rules hold (no `tag`/`content`/`untagged` enums, no `flatten`).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{CourseGroupId, Role, Timestamp, UserId};

/// Why an enrolment method's last plugin call failed: the plugin misbehaved
/// (timeout, memory, crash, a plan too large), refused an event, or
/// returned a plan the host rejected.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MethodError {
    /// A stable code, e.g. `plugin_timeout`, `plan_rejected`.
    pub code: String,
    pub message: String,
    pub at: Timestamp,
}

/// How an enrolment method's plugin calls went. Stored per method; written only
/// when a call fails, so a call that changes nothing writes nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MethodRun {
    pub last_error: Option<MethodError>,
    /// Failed calls since the method was added.
    pub error_count: u64,
}

/// Something about an enrolment method that its course's staff must act
/// on, shown on its page, its course's methods list and the dashboard
/// until dismissed, and kept (hidden once dismissed) until a person saves
/// the method's config: while it is kept, the host holds the method to it
/// (a deleted group is not created again). Stored per method, one at a
/// time: a newer one replaces it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MethodWarning {
    pub kind: MethodWarningKind,
    /// When it happened.
    pub at: Timestamp,
    /// A person has seen it and hid it; the host still holds the method
    /// to it.
    pub dismissed: bool,
}

/// What a [`MethodWarning`] is about. Externally tagged (serde's default)
/// for postcard; a new kind goes last.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MethodWarningKind {
    /// The group the method put its members in (named in its config, or
    /// created by it) was deleted; the host cleared the method's group so
    /// it groups no one until a person chooses again.
    GroupDeleted {
        group: CourseGroupId,
        /// The group's name when it was deleted.
        name: String,
        /// The key the method had created it under (a plan's
        /// `create-group`), if it created it: the host creates no group
        /// under that key for the method while the warning is kept.
        key: Option<String>,
    },
}

impl MethodWarning {
    /// The warning in words for the course's staff, e.g. "its group 'HR
    /// segment' was deleted on 2026-12-07 10:30 UTC; choose a group or
    /// create a new one".
    pub fn message(&self) -> String {
        match &self.kind {
            MethodWarningKind::GroupDeleted { name, .. } => format!(
                "its group '{name}' was deleted on {}; choose a group or create a new one",
                self.at
            ),
        }
    }
}

/// A group a plan action names: one that exists, or one created earlier in
/// the same plan by the `key` of its `create_group` action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanGroup {
    Existing(CourseGroupId),
    Created(String),
}

impl fmt::Display for PlanGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlanGroup::Existing(id) => write!(f, "group #{id}"),
            PlanGroup::Created(key) => write!(f, "the group created as {key:?}"),
        }
    }
}

/// One change a plugin asks for. Enrolments are always the method's
/// own; memberships it adds are owned by it, and only those it removes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanOp {
    /// Enrol, or re-activate and set the role of the method's enrolment.
    Enrol {
        user: UserId,
        role: Role,
    },
    Suspend {
        user: UserId,
    },
    Unenrol {
        user: UserId,
    },
    SetRole {
        user: UserId,
        role: Option<Role>,
    },
    AddToGroup {
        user: UserId,
        group: PlanGroup,
    },
    RemoveFromGroup {
        user: UserId,
        group: PlanGroup,
    },
    /// `key` names the group for later actions and later plans of the
    /// method; when the method already created a group under it that
    /// still exists, nothing is created.
    CreateGroup {
        key: String,
        name: String,
        idnumber: Option<String>,
    },
    /// Disable the method; its enrolments stay.
    // The serialised names are contract 0.1.0's, as the JSON API and the
    // commands' `--json` output have always written them.
    #[serde(rename = "disable_instance")]
    DisableMethod,
    /// Delete the method with its enrolments and owned memberships; the
    /// plan's last action.
    #[serde(rename = "delete_instance")]
    DeleteMethod,
    /// Reconcile the method once the plan is applied.
    Reconcile,
}

impl PlanOp {
    /// The action's name as the contract spells it.
    pub fn kind(&self) -> &'static str {
        match self {
            PlanOp::Enrol { .. } => "enrol",
            PlanOp::Suspend { .. } => "suspend",
            PlanOp::Unenrol { .. } => "unenrol",
            PlanOp::SetRole { .. } => "set-role",
            PlanOp::AddToGroup { .. } => "add-to-group",
            PlanOp::RemoveFromGroup { .. } => "remove-from-group",
            PlanOp::CreateGroup { .. } => "create-group",
            PlanOp::DisableMethod => "disable-method",
            PlanOp::DeleteMethod => "delete-method",
            PlanOp::Reconcile => "reconcile",
        }
    }
}

/// The action in words, e.g. "enrol user #9 as Learner", "add user #9 to
/// group #4".
impl fmt::Display for PlanOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlanOp::Enrol { user, role } => write!(f, "enrol user #{user} as {}", role.label()),
            PlanOp::Suspend { user } => write!(f, "suspend user #{user}'s enrolment"),
            PlanOp::Unenrol { user } => write!(f, "unenrol user #{user}"),
            PlanOp::SetRole { user, role: None } => write!(f, "remove user #{user}'s role"),
            PlanOp::SetRole {
                user,
                role: Some(role),
            } => write!(f, "give user #{user} the role {}", role.label()),
            PlanOp::AddToGroup { user, group } => write!(f, "add user #{user} to {group}"),
            PlanOp::RemoveFromGroup { user, group } => {
                write!(f, "remove user #{user} from {group}")
            }
            PlanOp::CreateGroup { key, name, .. } => {
                write!(f, "create the group {name:?} as {key:?}")
            }
            PlanOp::DisableMethod => f.write_str("disable the enrolment method"),
            PlanOp::DeleteMethod => f.write_str("delete the enrolment method"),
            PlanOp::Reconcile => f.write_str("reconcile the enrolment method"),
        }
    }
}

/// One action of a plan with the plugin's reason, kept in the audit log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanAction {
    pub op: PlanOp,
    pub reason: String,
}

/// What a plugin asks the host to change, in order. Applied whole or not
/// at all.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub actions: Vec<PlanAction>,
}

/// One change a segment rule asks for on the segment it manages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "op", content = "user")]
pub enum SegmentOp {
    /// Make the user a member (nothing if they are one).
    Add(UserId),
    /// Take the user out (nothing if they are not a member).
    Remove(UserId),
}

impl SegmentOp {
    pub fn user(self) -> UserId {
        match self {
            SegmentOp::Add(u) | SegmentOp::Remove(u) => u,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentAction {
    pub op: SegmentOp,
    /// Why, in the plugin's words: audited and shown by a dry run.
    pub reason: String,
}

/// What a segment rule asks the host to change in its segment, in order.
/// Applied whole or not at all.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentPlan {
    pub actions: Vec<SegmentAction>,
}
