//! Actors and the audit log's entries.

use serde::{Deserialize, Serialize};

use super::{
    AuditIdView, EnrolmentMethodIdView, Mirror, OperatorIdView, SegmentIdView, TimestampView,
    UserIdView, mirror_enum,
};
use crate::domain::{Actor, AuditEntry};

/// Who made a change: `{"kind":"user","id":5}`, `{"kind":"operator","id":1}`,
/// `{"kind":"method","id":3}` (an enrolment method), `{"kind":"rule","segment":4}`
/// (the rule that manages segment #4) or `{"kind":"system"}`.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ActorView {
    Operator { id: OperatorIdView },
    User { id: UserIdView },
    Method { id: EnrolmentMethodIdView },
    System,
    Rule { segment: SegmentIdView },
}

impl From<Actor> for ActorView {
    fn from(a: Actor) -> Self {
        match a {
            Actor::Operator(id) => ActorView::Operator { id: id.mirror() },
            Actor::User(id) => ActorView::User { id: id.mirror() },
            Actor::Method(id) => ActorView::Method { id: id.mirror() },
            Actor::System => ActorView::System,
            Actor::Rule(segment) => ActorView::Rule {
                segment: segment.mirror(),
            },
        }
    }
}

impl Mirror<ActorView> for Actor {
    fn mirror(self) -> ActorView {
        self.into()
    }
}

impl Mirror<Actor> for ActorView {
    fn mirror(self) -> Actor {
        self.into()
    }
}

impl From<ActorView> for Actor {
    fn from(a: ActorView) -> Self {
        match a {
            ActorView::Operator { id } => Actor::Operator(id.mirror()),
            ActorView::User { id } => Actor::User(id.mirror()),
            ActorView::Method { id } => Actor::Method(id.mirror()),
            ActorView::System => Actor::System,
            ActorView::Rule { segment } => Actor::Rule(segment.mirror()),
        }
    }
}

// The document's `Actor`: who installed a plugin version, in the form the
// API has always shown it there (`{"operator":1}`, `"system"`). The audit
// log and the tokens show actors as [`ActorView`].
/// Who made a change, as the audit log records it.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = Actor)]
pub enum InstalledByView {
    Operator(OperatorIdView),
    User(UserIdView),
    Method(EnrolmentMethodIdView),
    /// The host itself (first-run set-up, demo data, migrations).
    System,
    /// The rule that manages a segment.
    Rule(SegmentIdView),
}

mirror_enum!(
    Actor,
    InstalledByView {
        Operator(id),
        User(id),
        Method(id),
        System,
        Rule(id),
    }
);

/// One change: who, what, when and why.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditEntryView {
    pub id: AuditIdView,
    pub at: TimestampView,
    pub actor: ActorView,
    /// A stable dotted name such as `group.member_added`.
    pub action: String,
    /// What was changed, e.g. `user #7 in group #2`.
    pub target: String,
    /// Why, in words a site admin understands.
    pub reason: String,
}

impl From<AuditEntry> for AuditEntryView {
    fn from(e: AuditEntry) -> Self {
        Self {
            id: e.id.mirror(),
            at: e.at.mirror(),
            actor: e.actor.into(),
            action: e.action,
            target: e.target,
            reason: e.reason,
        }
    }
}
