//! The events of a site's outbox: what happened, delivered to enrolment
//! methods (those the contract knows) in order, after commit.

use serde::{Deserialize, Serialize};

use crate::*;

/// Something that happened in a site, delivered to enrolment methods.
///
/// Events are written to the site's outbox in the same transaction as the
/// change, so a consumer that was down can catch up from a sequence number.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
// Externally tagged (serde's default): postcard, the store's encoding, is
// not self-describing and cannot decode internally or adjacently tagged
// enums. A JSON API that wants another shape maps it at its own boundary.
#[serde(rename_all = "snake_case")]
pub enum SiteEvent {
    UserCreated {
        user: UserId,
    },
    UserUpdated {
        user: UserId,
    },
    UserSuspended {
        user: UserId,
    },
    UserReactivated {
        user: UserId,
    },
    UserDeleted {
        user: UserId,
    },
    SegmentMemberAdded {
        segment: SegmentId,
        user: UserId,
    },
    SegmentMemberRemoved {
        segment: SegmentId,
        user: UserId,
    },
    SegmentDeleted {
        segment: SegmentId,
    },
    UserEnrolled {
        course: CourseId,
        user: UserId,
        method: EnrolmentMethodId,
    },
    EnrolmentUpdated {
        course: CourseId,
        user: UserId,
        method: EnrolmentMethodId,
    },
    UserUnenrolled {
        course: CourseId,
        user: UserId,
        method: EnrolmentMethodId,
    },
    GroupMemberAdded {
        group: CourseGroupId,
        user: UserId,
    },
    GroupMemberRemoved {
        group: CourseGroupId,
        user: UserId,
    },
    GroupDeleted {
        course: CourseId,
        group: CourseGroupId,
    },
    CourseDeleted {
        course: CourseId,
    },
    MethodAdded {
        course: CourseId,
        method: EnrolmentMethodId,
    },
    MethodEnabled {
        course: CourseId,
        method: EnrolmentMethodId,
    },
    MethodDisabled {
        course: CourseId,
        method: EnrolmentMethodId,
    },
    MethodUpdated {
        course: CourseId,
        method: EnrolmentMethodId,
    },
    MethodDeleted {
        course: CourseId,
        method: EnrolmentMethodId,
    },
    SectionCreated {
        course: CourseId,
        section: CourseSectionId,
    },
    /// Renamed, shown or hidden, or moved in the course's order.
    SectionUpdated {
        course: CourseId,
        section: CourseSectionId,
    },
    SectionDeleted {
        course: CourseId,
        section: CourseSectionId,
    },
    ActivityCreated {
        course: CourseId,
        activity: ActivityId,
    },
    /// Edited, shown or hidden, or moved.
    ActivityUpdated {
        course: CourseId,
        activity: ActivityId,
    },
    ActivityDeleted {
        course: CourseId,
        activity: ActivityId,
    },
    GroupingCreated {
        course: CourseId,
        grouping: GroupingId,
    },
    /// Renamed, or a group added to or removed from it.
    GroupingUpdated {
        course: CourseId,
        grouping: GroupingId,
    },
    GroupingDeleted {
        course: CourseId,
        grouping: GroupingId,
    },
    DiscussionStarted {
        course: CourseId,
        forum: ActivityId,
        discussion: DiscussionId,
    },
    DiscussionDeleted {
        course: CourseId,
        forum: ActivityId,
        discussion: DiscussionId,
    },
    PostCreated {
        course: CourseId,
        discussion: DiscussionId,
        post: PostId,
    },
    PostUpdated {
        course: CourseId,
        discussion: DiscussionId,
        post: PostId,
    },
    PostDeleted {
        course: CourseId,
        discussion: DiscussionId,
        post: PostId,
    },
    SubscriptionChanged {
        course: CourseId,
        target: SubscriptionTarget,
        user: UserId,
        subscribed: bool,
    },
    /// A submission's draft was saved (text or files changed).
    SubmissionSaved {
        course: CourseId,
        assignment: ActivityId,
        submission: SubmissionId,
    },
    /// A submission was submitted for grading.
    SubmissionSubmitted {
        course: CourseId,
        assignment: ActivityId,
        submission: SubmissionId,
    },
    /// A user's grade or feedback for an assignment was set.
    SubmissionGraded {
        course: CourseId,
        assignment: ActivityId,
        user: UserId,
    },
    /// A course's gradebook changed: grades entered or imported, an item
    /// or category added, changed or deleted.
    GradebookChanged {
        course: CourseId,
    },
    /// A user's details changed, saying which: what a plugin of contract
    /// 0.3.0 receives as `user-updated`. (`UserUpdated`, which says
    /// nothing of what changed, is kept for events stored before it.)
    UserChanged {
        user: UserId,
        changes: UserChanges,
    },
}

/// What changed in a user's record (a [`SiteEvent::UserChanged`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct UserChanges {
    pub username: bool,
    pub email: bool,
    /// First or last name.
    pub name: bool,
    /// Any profile field value.
    pub profile: bool,
    pub site_role: bool,
}

impl UserChanges {
    /// What differs between two versions of a user's record (status and
    /// password are not among them: status has events of its own).
    pub fn between(before: &User, after: &User) -> Self {
        UserChanges {
            username: before.username != after.username,
            email: before.email != after.email,
            name: before.firstname != after.firstname || before.lastname != after.lastname,
            profile: before.profile != after.profile,
            site_role: before.site_role != after.site_role,
        }
    }

    pub fn any(self) -> bool {
        self.username || self.email || self.name || self.profile || self.site_role
    }
}

/// An event with its place in the site's stream.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventEnvelope {
    pub site: SiteId,
    /// Position in the site's outbox; strictly increasing per site.
    pub seq: u64,
    pub event: SiteEvent,
}
