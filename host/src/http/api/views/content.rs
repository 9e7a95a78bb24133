//! Course content (issue 18) as the API shows it: sections, activities,
//! groupings and the site's privacy settings.

use serde::{Deserialize, Serialize};

use super::{
    ActivityIdView, CourseGroupIdView, CourseIdView, CourseSectionIdView, GroupModeView,
    GroupingIdView, Mirror, TimestampView,
};
use crate::domain::{Activity, ActivityKind, CourseSection, SitePrivacy};
use crate::services::content::{ActivityPage, CourseContent, SectionContent};
use crate::services::groupings::GroupingSummary;

#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = ActivityKind)]
pub enum ActivityKindView {
    /// A page of Markdown.
    Page,
    /// A discussion forum.
    Discussion,
    /// An assignment learners submit to and teachers grade.
    Assignment,
}

impl From<ActivityKind> for ActivityKindView {
    fn from(k: ActivityKind) -> Self {
        match k {
            ActivityKind::Page => Self::Page,
            ActivityKind::Discussion => Self::Discussion,
            ActivityKind::Assignment => Self::Assignment,
        }
    }
}

/// A section of a course page.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = CourseSection)]
pub struct SectionView {
    pub id: CourseSectionIdView,
    pub course: CourseIdView,
    pub name: String,
    /// Markdown.
    pub summary: String,
    /// A hidden section hides its activities from learners.
    pub visible: bool,
    pub created_at: TimestampView,
}

impl From<CourseSection> for SectionView {
    fn from(s: CourseSection) -> Self {
        Self {
            id: s.id.mirror(),
            course: s.course.mirror(),
            name: s.name,
            summary: s.summary,
            visible: s.visible,
            created_at: s.created_at.mirror(),
        }
    }
}

/// An activity of a course.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Activity)]
pub struct ActivityView {
    pub id: ActivityIdView,
    pub course: CourseIdView,
    pub section: CourseSectionIdView,
    pub kind: ActivityKindView,
    pub name: String,
    /// Markdown: a page's body, a forum's introduction, an assignment's
    /// instructions.
    pub description: String,
    /// A hidden activity is seen by the course's staff only.
    pub visible: bool,
    /// `null`: the course's group mode.
    pub group_mode: Option<GroupModeView>,
    /// Only members of a group in this grouping (and staff) see it.
    pub grouping: Option<GroupingIdView>,
    pub created_at: TimestampView,
    pub updated_at: TimestampView,
}

impl From<Activity> for ActivityView {
    fn from(a: Activity) -> Self {
        Self {
            id: a.id.mirror(),
            course: a.course.mirror(),
            section: a.section.mirror(),
            kind: a.kind.into(),
            name: a.name,
            description: a.description,
            visible: a.visible,
            group_mode: a.group_mode.map(Mirror::mirror),
            grouping: a.grouping.map(Mirror::mirror),
            created_at: a.created_at.mirror(),
            updated_at: a.updated_at.mirror(),
        }
    }
}

/// An activity as its page shows it: the record, its description rendered
/// as sanitised HTML, and the group mode that holds for it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = ActivityDetail)]
pub struct ActivityDetailView {
    pub activity: ActivityView,
    /// The description as sanitised HTML.
    pub html: String,
    /// The group mode that holds (the course's when forced or unset).
    pub effective_group_mode: GroupModeView,
}

impl From<ActivityPage> for ActivityDetailView {
    fn from(p: ActivityPage) -> Self {
        Self {
            html: p.html,
            effective_group_mode: p.group_mode.mirror(),
            activity: p.activity.into(),
        }
    }
}

/// A section with the activities the caller sees, in page order.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = SectionContent)]
pub struct SectionContentView {
    pub section: SectionView,
    pub activities: Vec<ActivityView>,
}

impl From<SectionContent> for SectionContentView {
    fn from(s: SectionContent) -> Self {
        Self {
            section: s.section.into(),
            activities: s.activities.into_iter().map(Into::into).collect(),
        }
    }
}

/// A course's content as the caller sees it: hidden sections and
/// activities, and those restricted to a grouping none of their groups is
/// in, are left out for learners.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = CourseContent)]
pub struct CourseContentView {
    pub sections: Vec<SectionContentView>,
    /// The caller may add, edit and reorder.
    pub can_edit: bool,
}

impl From<CourseContent> for CourseContentView {
    fn from(c: CourseContent) -> Self {
        Self {
            sections: c.sections.into_iter().map(Into::into).collect(),
            can_edit: c.can_edit,
        }
    }
}

/// A grouping with its groups.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Grouping)]
pub struct GroupingView {
    pub id: GroupingIdView,
    pub course: CourseIdView,
    /// Unique in the course.
    pub name: String,
    pub description: String,
    /// Its groups, by name.
    pub groups: Vec<CourseGroupIdView>,
    /// How many activities of the course it restricts.
    pub activities: u64,
    pub created_at: TimestampView,
}

impl From<GroupingSummary> for GroupingView {
    fn from(s: GroupingSummary) -> Self {
        let g = s.grouping;
        Self {
            id: g.id.mirror(),
            course: g.course.mirror(),
            name: g.name,
            description: g.description,
            groups: s.groups.into_iter().map(|g| g.id.mirror()).collect(),
            activities: s.activities as u64,
            created_at: g.created_at.mirror(),
        }
    }
}

/// What the site lets participants see of each other.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SitePrivacy)]
pub struct PrivacyView {
    /// Learners see the e-mail addresses of the participants they see
    /// (staff always do). Off by default.
    pub learners_see_emails: bool,
}

impl From<SitePrivacy> for PrivacyView {
    fn from(p: SitePrivacy) -> Self {
        Self {
            learners_see_emails: p.learners_see_emails,
        }
    }
}
