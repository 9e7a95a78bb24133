//! What a course teaches (issue 18): its sections, the activities in them,
//! and the groupings that restrict who sees an activity.
//!
//! The order of sections and of the activities in a section is stored
//! apart from the records (one list per course or section), so moving one
//! rewrites one short list rather than renumbering every record.

use serde::{Deserialize, Serialize};

use crate::{ActivityId, CourseId, CourseSectionId, GroupMode, GroupingId, Timestamp};

/// A section of a course page (Moodle: a topic).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CourseSection {
    pub id: CourseSectionId,
    pub course: CourseId,
    pub name: String,
    /// Markdown, shown under the section's name.
    pub summary: String,
    /// A hidden section hides every activity in it from learners.
    pub visible: bool,
    pub created_at: Timestamp,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivityKind {
    /// A page of Markdown.
    Page,
    /// A discussion forum.
    Discussion,
    /// An assignment learners submit to and teachers grade.
    Assignment,
}

impl ActivityKind {
    pub const ALL: [ActivityKind; 3] = [Self::Page, Self::Discussion, Self::Assignment];

    pub fn label(self) -> &'static str {
        match self {
            Self::Page => "Page",
            Self::Discussion => "Discussion forum",
            Self::Assignment => "Assignment",
        }
    }
}

/// One activity of a course, in one of its sections.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    pub id: ActivityId,
    pub course: CourseId,
    pub section: CourseSectionId,
    pub kind: ActivityKind,
    pub name: String,
    /// Markdown: a page's body, a forum's introduction or an assignment's
    /// instructions.
    pub description: String,
    /// A hidden activity is seen by the course's staff only.
    pub visible: bool,
    /// `None`: the course's group mode. Ignored when the course forces
    /// its mode.
    pub group_mode: Option<GroupMode>,
    /// When set, only members of a group in this grouping (and the
    /// course's staff) see the activity.
    pub grouping: Option<GroupingId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A named set of a course's groups (Moodle: grouping). A group may be in
/// several groupings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Grouping {
    pub id: GroupingId,
    pub course: CourseId,
    /// Unique in the course (compared case-insensitively).
    pub name: String,
    pub description: String,
    pub created_at: Timestamp,
}

/// What a site lets its participants see of each other (issue 18). The
/// default hides e-mail addresses from learners, as Moodle's "show user
/// identity" does.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SitePrivacy {
    /// Learners see the e-mail addresses of the participants they see.
    pub learners_see_emails: bool,
}
