//! Assignments (issue 18): an activity of kind `Assignment` with its
//! settings, the learners' (or groups') submissions with their files, and
//! the grade items and entries a grade lands in.
//!
//! Grades are kept apart from assignments on purpose: an assignment
//! creates its [`crate::GradeItem`] in the gradebook (`gradebook.rs`) and
//! grading writes [`crate::GradeEntry`] rows there. Plain data; no rule is
//! decided here.

use serde::{Deserialize, Serialize};

use crate::{ActivityId, CourseGroupId, CourseId, GradeItemId, SubmissionId, Timestamp, UserId};

/// What an assignment asks for and until when; stored under its
/// activity's id (the name, instructions, visibility and group mode are
/// the activity's).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AssignmentSettings {
    pub activity: ActivityId,
    pub course: CourseId,
    /// Submissions after it are late (still accepted until `cutoff_at`).
    pub due_at: Option<Timestamp>,
    /// No submission or edit after it.
    pub cutoff_at: Option<Timestamp>,
    /// Grades lie within `0..=max_grade`.
    pub max_grade: f64,
    /// Whether a submission carries text typed in.
    pub online_text: bool,
    /// Whether a submission carries files.
    pub file_submissions: bool,
    /// The largest file accepted, in bytes.
    pub max_file_bytes: u64,
    /// The most files one submission holds.
    pub max_files: u32,
    /// One submission per group, shared by its members (Moodle's "students
    /// submit in groups").
    pub group_submission: bool,
    /// Where its grades go.
    pub grade_item: GradeItemId,
}

/// Whose a submission is.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubmissionOwner {
    User(UserId),
    /// A group submission: every member of the group may edit it until it
    /// is submitted, and shares its grade.
    Group(CourseGroupId),
}

/// Where a submission is. "Not submitted" has no row; "late" is
/// `Submitted` after the due date, derived where it is shown.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubmissionStatus {
    Draft,
    Submitted,
}

/// A file of a submission. Its bytes are stored once per content, by
/// SHA-256, whatever the number of submissions naming it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmittedFile {
    /// The name the uploader gave it (no path).
    pub name: String,
    pub sha256: [u8; 32],
    pub bytes: u64,
    /// What the uploader said it is; downloads never trust it to render.
    pub content_type: String,
}

impl SubmittedFile {
    /// The digest as 64 lower-case hex digits (what URLs name a file by).
    pub fn sha256_hex(&self) -> String {
        let mut out = String::with_capacity(64);
        for b in self.sha256 {
            out.push_str(&format!("{b:02x}"));
        }
        out
    }
}

/// A learner's (or a group's) work for an assignment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Submission {
    pub id: SubmissionId,
    pub assignment: ActivityId,
    pub owner: SubmissionOwner,
    pub status: SubmissionStatus,
    /// Online text, Markdown as written.
    pub text: String,
    pub files: Vec<SubmittedFile>,
    /// Who last changed it (a member of the group for a group submission).
    pub submitted_by: UserId,
    /// When it was submitted (not a draft any more).
    pub submitted_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Submission {
    /// Submitted after `due_at`.
    pub fn is_late(&self, due_at: Option<Timestamp>) -> bool {
        matches!((self.submitted_at, due_at), (Some(at), Some(due)) if at > due)
    }
}
