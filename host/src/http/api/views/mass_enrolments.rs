//! One-off mass enrolments of a segment into a course: a preview's
//! figures, and what an applied one did (and its undo).

use serde::{Deserialize, Serialize};

use super::{
    ActorView, CourseGroupIdView, CourseIdView, EnrolmentMethodIdView, MassEnrolmentIdView, Mirror,
    RoleView, SegmentIdView, TimestampView, mirror_struct,
};
use crate::domain::{MassEnrolment, MassEnrolmentFigures, MassEnrolmentUndo};
use crate::services::mass_enrolments::{MassEnrolmentPreview, PreviewGroup};

/// The counts of a mass enrolment. Every member of the segment is in
/// exactly one of `to_enrol`, `already_enrolled`, `suspended_accounts`
/// and `suspended_enrolments`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = MassEnrolmentFigures)]
pub struct MassEnrolmentFiguresView {
    /// Members of the segment.
    pub members: u64,
    /// Active accounts not enrolled in the course: enrolled through its
    /// manual method.
    pub to_enrol: u64,
    /// Active accounts with an active enrolment in the course by any
    /// method: left as they are.
    pub already_enrolled: u64,
    /// Suspended accounts: skipped.
    pub suspended_accounts: u64,
    /// A suspended manual enrolment in the course and no active one:
    /// skipped, left suspended.
    pub suspended_enrolments: u64,
    /// Members put into the group: the enrolled and the already enrolled
    /// not yet in it (0 without a group).
    pub grouped: u64,
}

mirror_struct!(
    MassEnrolmentFigures,
    MassEnrolmentFiguresView {
        members,
        to_enrol,
        already_enrolled,
        suspended_accounts,
        suspended_enrolments,
        grouped,
    }
);

/// What applying a mass enrolment would do, before anything is written.
/// It enrols today's members once; unlike a segment-sync enrolment method
/// it does not follow the segment afterwards.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = MassEnrolmentPreview)]
pub struct MassEnrolmentPreviewView {
    pub segment: SegmentIdView,
    pub segment_name: String,
    pub course: CourseIdView,
    pub course_shortname: String,
    /// The course's manual method the enrolments would be made through.
    pub method: EnrolmentMethodIdView,
    pub role: RoleView,
    /// The existing group chosen, if any.
    pub group: Option<CourseGroupIdView>,
    /// The group's name: the existing one's, or the new one's.
    pub group_name: Option<String>,
    /// A new group of this name would be created.
    pub group_created: bool,
    pub figures: MassEnrolmentFiguresView,
}

impl From<MassEnrolmentPreview> for MassEnrolmentPreviewView {
    fn from(p: MassEnrolmentPreview) -> Self {
        let (group, group_name, group_created) = match p.group {
            PreviewGroup::None => (None, None, false),
            PreviewGroup::Existing(g) => (Some(g.id.mirror()), Some(g.name), false),
            PreviewGroup::New(name) => (None, Some(name), true),
        };
        Self {
            segment: p.segment.id.mirror(),
            segment_name: p.segment.name,
            course: p.course.id.mirror(),
            course_shortname: p.course.shortname,
            method: p.method.id.mirror(),
            role: p.role.mirror(),
            group,
            group_name,
            group_created,
            figures: p.figures.mirror(),
        }
    }
}

/// Who undid a mass enrolment, when, and what the undo did.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = MassEnrolmentUndo)]
pub struct MassEnrolmentUndoView {
    pub by: ActorView,
    pub at: TimestampView,
    /// Enrolments it had made that were removed.
    pub removed: u64,
    /// Enrolments it had made that were kept: changed since (a new role
    /// or status).
    pub kept_changed: u64,
    /// Enrolments it had made that were already gone.
    pub already_gone: u64,
    /// Group memberships it had added that were removed.
    pub ungrouped: u64,
}

/// A mass enrolment as applied: what was asked, the figures it applied,
/// and its undo if it was undone.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = MassEnrolment)]
pub struct MassEnrolmentView {
    pub id: MassEnrolmentIdView,
    pub segment: SegmentIdView,
    /// The segment's name when it was applied.
    pub segment_name: String,
    pub course: CourseIdView,
    /// The course's manual method the enrolments were made through.
    pub method: EnrolmentMethodIdView,
    pub role: RoleView,
    pub group: Option<CourseGroupIdView>,
    /// The group was created by this mass enrolment.
    pub group_created: bool,
    pub by: ActorView,
    pub at: TimestampView,
    pub figures: MassEnrolmentFiguresView,
    pub undone: Option<MassEnrolmentUndoView>,
}

mirror_struct!(
    MassEnrolmentUndo,
    MassEnrolmentUndoView {
        by,
        at,
        removed,
        kept_changed,
        already_gone,
        ungrouped,
    }
);

mirror_struct!(
    MassEnrolment,
    MassEnrolmentView {
        id,
        segment,
        segment_name,
        course,
        method,
        role,
        group,
        group_created,
        by,
        at,
        figures,
        undone,
    }
);
