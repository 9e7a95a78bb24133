//! What a one-off mass enrolment did: a segment's members, as they were
//! at one moment, enrolled into a course through its manual method (and
//! perhaps put into a group), kept so the action can be shown and undone.
//!
//! Plain data like the rest of the crate, stored with postcard: no
//! `tag`/`content`/`untagged` enums, no `flatten`; a field added here
//! needs a migration.

use serde::{Deserialize, Serialize};

use crate::{
    Actor, CourseGroupId, CourseId, EnrolmentMethodId, MassEnrolmentId, Role, SegmentId, Timestamp,
};

/// One mass enrolment: what was asked and what it did. The users it
/// enrolled and grouped are kept apart ([`MassEnrolmentUsers`]) so that
/// lists of mass enrolments decode no member lists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MassEnrolment {
    pub id: MassEnrolmentId,
    pub segment: SegmentId,
    /// The segment's name when it was applied: a segment may be renamed
    /// or deleted since, and the record must still say what it was.
    pub segment_name: String,
    pub course: CourseId,
    /// The course's manual method the enrolments were made through.
    pub method: EnrolmentMethodId,
    pub role: Role,
    /// The group the enrolled members were put in, if one was chosen.
    pub group: Option<CourseGroupId>,
    /// The group was created by this action (a new group by name).
    pub group_created: bool,
    pub by: Actor,
    /// The time of the applying transaction: every enrolment and group
    /// membership it wrote carries it, which is how an undo recognises
    /// them as still the ones it made.
    pub at: Timestamp,
    pub figures: MassEnrolmentFigures,
    /// Set once the action has been undone; a second undo is refused.
    pub undone: Option<MassEnrolmentUndo>,
}

/// The counts of a mass enrolment, from its preview or as applied. Every
/// member of the segment is in exactly one of `to_enrol`,
/// `already_enrolled`, `suspended_accounts` and `suspended_enrolments`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MassEnrolmentFigures {
    /// Members of the segment at that moment.
    pub members: u64,
    /// Members with an active account and no enrolment in the course that
    /// would stand in the way: enrolled by the action.
    pub to_enrol: u64,
    /// Members with an active account and an active enrolment in the
    /// course by any method: left as they are.
    pub already_enrolled: u64,
    /// Members whose account is suspended: skipped (Moodle's rule).
    pub suspended_accounts: u64,
    /// Members whose manual enrolment in the course is suspended and who
    /// have no active one: skipped, since someone suspended them there on
    /// purpose.
    pub suspended_enrolments: u64,
    /// Members put into the group (enrolled ones and already enrolled
    /// ones not yet in it); 0 without a group.
    pub grouped: u64,
}

/// Who undid a mass enrolment, when, and what the undo did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MassEnrolmentUndo {
    pub by: Actor,
    pub at: Timestamp,
    /// Enrolments the action made that were removed.
    pub removed: u64,
    /// Enrolments the action made that were kept because they were
    /// changed since (a new role or status: someone's later decision).
    pub kept_changed: u64,
    /// Enrolments the action made that were already gone.
    pub already_gone: u64,
    /// Group memberships the action added that were removed.
    pub ungrouped: u64,
}

/// The users a mass enrolment enrolled and grouped, in user id order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MassEnrolmentUsers {
    pub enrolled: Vec<crate::UserId>,
    pub grouped: Vec<crate::UserId>,
}
