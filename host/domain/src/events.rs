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
}

/// An event with its place in the site's stream.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventEnvelope {
    pub site: SiteId,
    /// Position in the site's outbox; strictly increasing per site.
    pub seq: u64,
    pub event: SiteEvent,
}
