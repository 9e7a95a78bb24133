//! Course groups, their members and who owns each membership.

use serde::Serialize;

use super::{
    CourseGroupIdView, CourseIdView, EnrolmentMethodIdView, Mirror, TimestampView, UserView,
};
use crate::domain::MembershipOwner;
use crate::services::groups::{GroupMember, GroupSummary};

/// A course group with its member count.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GroupView {
    pub id: CourseGroupIdView,
    pub course: CourseIdView,
    /// Unique in the course.
    pub name: String,
    /// Optional, unique in the course; CSV files name groups by it.
    pub idnumber: Option<String>,
    pub description: String,
    pub members: u64,
    pub created_at: TimestampView,
}

impl From<GroupSummary> for GroupView {
    fn from(s: GroupSummary) -> Self {
        let g = s.group;
        Self {
            id: g.id.mirror(),
            course: g.course.mirror(),
            name: g.name,
            idnumber: g.idnumber,
            description: g.description,
            members: s.members,
            created_at: g.created_at.mirror(),
        }
    }
}

/// Who owns a membership, and so who may remove it: `{"kind":"manual"}`
/// (a person; never removed by a sync) or `{"kind":"method","method":3}`
/// (that enrolment method alone removes it).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OwnerView {
    Manual,
    Method { method: EnrolmentMethodIdView },
}

impl From<MembershipOwner> for OwnerView {
    fn from(o: MembershipOwner) -> Self {
        match o {
            MembershipOwner::Manual => OwnerView::Manual,
            MembershipOwner::Method(method) => OwnerView::Method {
                method: method.mirror(),
            },
        }
    }
}

/// A member of a group: the user and their membership.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GroupMemberView {
    pub user: UserView,
    pub owner: OwnerView,
    pub added_at: TimestampView,
}

impl From<GroupMember> for GroupMemberView {
    fn from(m: GroupMember) -> Self {
        Self {
            user: m.user.into(),
            owner: m.membership.owner.into(),
            added_at: m.membership.added_at.mirror(),
        }
    }
}
