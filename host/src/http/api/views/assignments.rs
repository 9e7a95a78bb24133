//! Assignments, submissions and grades as the API shows them.

use serde::{Deserialize, Serialize};

use super::{
    ActivityIdView, ActorView, CourseGroupIdView, CourseIdView, CourseSectionIdView, GroupModeView,
    GroupingIdView, Mirror, SubmissionIdView, TimestampView, UserIdView,
};
use crate::domain::{AssignmentSettings, SubmissionOwner, SubmittedFile, Timestamp};
use crate::services::assignments::{
    AssignmentInput, AssignmentView as Assignment, GradeView as Grade, LearnerPart,
    SubmissionCounts, SubmissionDetail, SubmissionList, SubmissionState, SubmissionView as Sub,
};

/// An assignment's own settings (also what a create or update sends).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AssignmentSettings)]
pub struct AssignmentSettingsView {
    /// Submissions after it are late; absent: none.
    pub due_at: Option<TimestampView>,
    /// No submissions after it; absent: none.
    pub cutoff_at: Option<TimestampView>,
    /// Grades lie within `0..=max_grade` (above 0, at most 10,000).
    pub max_grade: f64,
    pub online_text: bool,
    pub file_submissions: bool,
    /// The largest file accepted, in bytes (at most the host's 64 MiB).
    pub max_file_bytes: u64,
    /// The most files one submission holds (1 to 20).
    pub max_files: u32,
    /// One submission per group, shared by its members.
    pub group_submission: bool,
}

impl From<&AssignmentSettings> for AssignmentSettingsView {
    fn from(s: &AssignmentSettings) -> Self {
        Self {
            due_at: s.due_at.mirror(),
            cutoff_at: s.cutoff_at.mirror(),
            max_grade: s.max_grade,
            online_text: s.online_text,
            file_submissions: s.file_submissions,
            max_file_bytes: s.max_file_bytes,
            max_files: s.max_files,
            group_submission: s.group_submission,
        }
    }
}

impl From<AssignmentSettingsView> for AssignmentInput {
    fn from(v: AssignmentSettingsView) -> Self {
        Self {
            due_at: v.due_at.map(|t| Timestamp(t.0)),
            cutoff_at: v.cutoff_at.map(|t| Timestamp(t.0)),
            max_grade: v.max_grade,
            online_text: v.online_text,
            file_submissions: v.file_submissions,
            max_file_bytes: v.max_file_bytes,
            max_files: v.max_files,
            group_submission: v.group_submission,
        }
    }
}

/// Where a learner's (or group's) work stands.
#[derive(Copy, Clone, Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = SubmissionState)]
pub enum SubmissionStateView {
    NotSubmitted,
    Draft,
    Submitted,
    /// Submitted after the due date.
    Late,
}

impl From<SubmissionState> for SubmissionStateView {
    fn from(s: SubmissionState) -> Self {
        match s {
            SubmissionState::NotSubmitted => Self::NotSubmitted,
            SubmissionState::Draft => Self::Draft,
            SubmissionState::Submitted => Self::Submitted,
            SubmissionState::Late => Self::Late,
        }
    }
}

/// Whose a submission is: a `user`'s or, for group submission, a
/// `group`'s (exactly one of them).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = SubmissionOwner)]
pub struct SubmissionOwnerView {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<UserIdView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<CourseGroupIdView>,
}

impl From<SubmissionOwner> for SubmissionOwnerView {
    fn from(o: SubmissionOwner) -> Self {
        match o {
            SubmissionOwner::User(u) => Self {
                user: Some(u.mirror()),
                group: None,
            },
            SubmissionOwner::Group(g) => Self {
                user: None,
                group: Some(g.mirror()),
            },
        }
    }
}

/// A file of a submission; download it at
/// `/submissions/{id}/files/{sha256}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = SubmittedFile)]
pub struct SubmittedFileView {
    pub name: String,
    /// 64 hex digits.
    pub sha256: String,
    pub bytes: u64,
    pub content_type: String,
}

impl From<&SubmittedFile> for SubmittedFileView {
    fn from(f: &SubmittedFile) -> Self {
        Self {
            name: f.name.clone(),
            sha256: f.sha256_hex(),
            bytes: f.bytes,
            content_type: f.content_type.clone(),
        }
    }
}

/// A submission.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Submission)]
pub struct SubmissionView {
    pub id: SubmissionIdView,
    pub assignment: ActivityIdView,
    pub owner: SubmissionOwnerView,
    /// The owner in words (a user's name or a group's).
    pub owner_name: String,
    pub state: SubmissionStateView,
    /// Online text, Markdown as written.
    pub text: String,
    /// The text as sanitised HTML.
    pub text_html: String,
    pub files: Vec<SubmittedFileView>,
    /// Who last changed it.
    pub submitted_by: UserIdView,
    pub submitted_at: Option<TimestampView>,
    pub created_at: TimestampView,
    pub updated_at: TimestampView,
}

impl From<Sub> for SubmissionView {
    fn from(v: Sub) -> Self {
        let s = v.submission;
        Self {
            id: s.id.mirror(),
            assignment: s.assignment.mirror(),
            owner: s.owner.into(),
            owner_name: v.owner_name,
            state: v.state.into(),
            text: s.text,
            text_html: v.text_html,
            files: s.files.iter().map(SubmittedFileView::from).collect(),
            submitted_by: s.submitted_by.mirror(),
            submitted_at: s.submitted_at.mirror(),
            created_at: s.created_at.mirror(),
            updated_at: s.updated_at.mirror(),
        }
    }
}

/// One user's grade for an assignment.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Grade)]
pub struct GradeView {
    pub user: UserIdView,
    pub user_name: String,
    /// Absent: feedback without a grade.
    pub grade: Option<f64>,
    pub max_grade: f64,
    /// Markdown as written.
    pub feedback: String,
    /// The feedback as sanitised HTML.
    pub feedback_html: String,
    pub graded_by: ActorView,
    pub graded_at: TimestampView,
}

impl From<Grade> for GradeView {
    fn from(g: Grade) -> Self {
        Self {
            user: g.entry.user.mirror(),
            user_name: g.user_name,
            grade: g.entry.value,
            max_grade: g.max_grade,
            feedback: g.entry.feedback,
            feedback_html: g.feedback_html,
            graded_by: g.entry.graded_by.into(),
            graded_at: g.entry.graded_at.mirror(),
        }
    }
}

/// A learner's side of an assignment: where their (or their group's)
/// work stands, why they cannot submit if so, and their grade.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = MySubmission)]
pub struct MySubmissionView {
    pub state: SubmissionStateView,
    /// Why nothing can be submitted now (no group, cut-off passed,
    /// already submitted).
    pub blocked: Option<String>,
    /// With group submission: the groups they may submit for.
    pub groups: Vec<CourseGroupIdView>,
    /// The group chosen (or their only one).
    pub group: Option<CourseGroupIdView>,
    pub submission: Option<SubmissionView>,
    pub grade: Option<GradeView>,
}

impl From<LearnerPart> for MySubmissionView {
    fn from(p: LearnerPart) -> Self {
        Self {
            state: p.state.into(),
            blocked: p.blocked,
            groups: p.groups.iter().map(|g| g.id.mirror()).collect(),
            group: match p.owner {
                Some(SubmissionOwner::Group(g)) => Some(g.mirror()),
                _ => None,
            },
            submission: p.submission.map(Into::into),
            grade: p.grade.map(Into::into),
        }
    }
}

/// How many submissions staff may see, by state.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = SubmissionCounts)]
pub struct SubmissionCountsView {
    pub drafts: u64,
    /// Late ones included.
    pub submitted: u64,
    pub late: u64,
}

impl From<SubmissionCounts> for SubmissionCountsView {
    fn from(c: SubmissionCounts) -> Self {
        Self {
            drafts: c.drafts,
            submitted: c.submitted,
            late: c.late,
        }
    }
}

/// An assignment: its activity fields, settings, and the caller's side
/// (`mine` for learners, `counts` for staff).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Assignment)]
pub struct AssignmentView {
    pub id: ActivityIdView,
    pub course: CourseIdView,
    pub section: CourseSectionIdView,
    pub name: String,
    /// Markdown as written.
    pub instructions: String,
    /// The instructions as sanitised HTML.
    pub instructions_html: String,
    pub visible: bool,
    /// Absent: the course's.
    pub group_mode: Option<GroupModeView>,
    /// The mode that holds (the course's when it forces its own).
    pub effective_group_mode: GroupModeView,
    pub grouping: Option<GroupingIdView>,
    pub settings: AssignmentSettingsView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mine: Option<MySubmissionView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counts: Option<SubmissionCountsView>,
}

impl From<Assignment> for AssignmentView {
    fn from(v: Assignment) -> Self {
        let a = v.activity;
        Self {
            id: a.id.mirror(),
            course: a.course.mirror(),
            section: a.section.mirror(),
            name: a.name,
            instructions: a.description,
            instructions_html: v.instructions_html,
            visible: a.visible,
            group_mode: a.group_mode.map(Into::into),
            effective_group_mode: v.group_mode.into(),
            grouping: a.grouping.mirror(),
            settings: (&v.settings).into(),
            mine: v.learner.map(Into::into),
            counts: v.counts.map(Into::into),
        }
    }
}

/// One row of an assignment's submission list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = SubmissionRow)]
pub struct SubmissionRowView {
    pub id: SubmissionIdView,
    pub owner: SubmissionOwnerView,
    pub owner_name: String,
    pub state: SubmissionStateView,
    pub updated_at: TimestampView,
    /// The owner's grade (for a group, the submitting member's).
    pub grade: Option<f64>,
}

/// The submissions of an assignment the caller (staff) may see.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = SubmissionList)]
pub struct SubmissionListView {
    /// The groups the caller may filter by.
    pub groups: Vec<CourseGroupIdView>,
    pub submissions: Vec<SubmissionRowView>,
}

impl From<SubmissionList> for SubmissionListView {
    fn from(l: SubmissionList) -> Self {
        Self {
            groups: l.groups.iter().map(|g| g.id.mirror()).collect(),
            submissions: l
                .rows
                .into_iter()
                .map(|r| SubmissionRowView {
                    id: r.submission.id.mirror(),
                    owner: r.submission.owner.into(),
                    owner_name: r.owner_name,
                    state: r.state.into(),
                    updated_at: r.submission.updated_at.mirror(),
                    grade: r.grade,
                })
                .collect(),
        }
    }
}

/// A submission with the users its grade goes to and the grades the
/// caller may see.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = SubmissionDetail)]
pub struct SubmissionDetailView {
    pub submission: SubmissionView,
    /// The owner, or the learners of the owning group.
    pub graded_users: Vec<UserIdView>,
    pub grades: Vec<GradeView>,
    pub can_grade: bool,
}

impl From<SubmissionDetail> for SubmissionDetailView {
    fn from(d: SubmissionDetail) -> Self {
        Self {
            submission: d.view.into(),
            graded_users: d.graded_users.iter().map(|(u, _)| u.mirror()).collect(),
            grades: d.grades.into_iter().map(Into::into).collect(),
            can_grade: d.can_grade,
        }
    }
}
