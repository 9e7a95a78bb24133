//! An assignment's own settings as a teacher writes them, checked; and a
//! grade and its feedback, checked against the assignment.
//!
//! Pure checks: nothing here reads the store or decides who may act.

use super::files::{HOST_MAX_FILE_BYTES, HOST_MAX_FILES, human_size};
use crate::domain::{ActivityId, AssignmentSettings, CourseId, GradeItemId, Timestamp};
use crate::services::error::{ServiceError, ServiceResult};

/// The highest maximum grade an assignment may have.
pub const MAX_MAX_GRADE: f64 = 10_000.0;
/// The largest feedback, in bytes of Markdown.
pub const MAX_FEEDBACK_BYTES: usize = 64 * 1024;
/// The largest online text, in bytes of Markdown.
pub const MAX_TEXT_BYTES: usize = 256 * 1024;

/// What a teacher sets for an assignment besides the common activity
/// fields.
#[derive(Clone, Debug, PartialEq)]
pub struct AssignmentInput {
    pub due_at: Option<Timestamp>,
    pub cutoff_at: Option<Timestamp>,
    pub max_grade: f64,
    pub online_text: bool,
    pub file_submissions: bool,
    pub max_file_bytes: u64,
    pub max_files: u32,
    pub group_submission: bool,
}

impl Default for AssignmentInput {
    /// Moodle's defaults, near enough: out of 100, text and files, up to
    /// 20 MiB and 5 files, individual submissions, no dates.
    fn default() -> Self {
        Self {
            due_at: None,
            cutoff_at: None,
            max_grade: 100.0,
            online_text: true,
            file_submissions: true,
            max_file_bytes: 20 * 1024 * 1024,
            max_files: 5,
            group_submission: false,
        }
    }
}

impl AssignmentInput {
    /// The input checked, as the settings of `activity` grading into
    /// `grade_item`.
    pub(crate) fn checked(
        &self,
        activity: ActivityId,
        course: CourseId,
        grade_item: GradeItemId,
    ) -> ServiceResult<AssignmentSettings> {
        if !self.max_grade.is_finite() || self.max_grade <= 0.0 || self.max_grade > MAX_MAX_GRADE {
            return Err(ServiceError::invalid(
                "max_grade",
                format!("must be a number above 0 and at most {MAX_MAX_GRADE}"),
            ));
        }
        if let (Some(due), Some(cutoff)) = (self.due_at, self.cutoff_at)
            && cutoff < due
        {
            return Err(ServiceError::invalid(
                "cutoff_at",
                format!("{cutoff} is before the due date {due}; the cut-off ends late submissions"),
            ));
        }
        if !self.online_text && !self.file_submissions {
            return Err(ServiceError::invalid(
                "online_text",
                "an assignment takes online text, files or both",
            ));
        }
        if self.max_file_bytes == 0 || self.max_file_bytes > HOST_MAX_FILE_BYTES {
            return Err(ServiceError::invalid(
                "max_file_bytes",
                format!(
                    "must be between 1 byte and {} (this host's limit)",
                    human_size(HOST_MAX_FILE_BYTES)
                ),
            ));
        }
        if self.max_files == 0 || self.max_files > HOST_MAX_FILES {
            return Err(ServiceError::invalid(
                "max_files",
                format!("must be between 1 and {HOST_MAX_FILES}"),
            ));
        }
        Ok(AssignmentSettings {
            activity,
            course,
            due_at: self.due_at,
            cutoff_at: self.cutoff_at,
            max_grade: self.max_grade,
            online_text: self.online_text,
            file_submissions: self.file_submissions,
            max_file_bytes: self.max_file_bytes,
            max_files: self.max_files,
            group_submission: self.group_submission,
            grade_item,
        })
    }
}

impl From<&AssignmentSettings> for AssignmentInput {
    fn from(s: &AssignmentSettings) -> Self {
        Self {
            due_at: s.due_at,
            cutoff_at: s.cutoff_at,
            max_grade: s.max_grade,
            online_text: s.online_text,
            file_submissions: s.file_submissions,
            max_file_bytes: s.max_file_bytes,
            max_files: s.max_files,
            group_submission: s.group_submission,
        }
    }
}

/// A grade within `0..=max` (`None`: feedback only), checked.
pub(crate) fn checked_grade(value: Option<f64>, max: f64) -> ServiceResult<Option<f64>> {
    match value {
        None => Ok(None),
        Some(v) if v.is_finite() && (0.0..=max).contains(&v) => Ok(Some(v)),
        Some(v) => Err(ServiceError::invalid(
            "grade",
            format!("{v} is not a grade here: grades lie between 0 and {max}"),
        )),
    }
}

/// Markdown of at most `max` bytes without NUL characters, trimmed.
pub(crate) fn checked_markdown(
    field: &'static str,
    text: &str,
    max: usize,
) -> ServiceResult<String> {
    let text = text.trim();
    if text.len() > max {
        return Err(ServiceError::invalid(
            field,
            format!(
                "is {} long; the maximum is {}",
                human_size(text.len() as u64),
                human_size(max as u64)
            ),
        ));
    }
    if text.contains('\0') {
        return Err(ServiceError::invalid(
            field,
            "must not contain NUL characters",
        ));
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grades_outside_zero_to_max_are_refused() {
        assert_eq!(checked_grade(Some(10.0), 10.0).unwrap(), Some(10.0));
        assert_eq!(checked_grade(Some(0.0), 10.0).unwrap(), Some(0.0));
        assert_eq!(checked_grade(None, 10.0).unwrap(), None);
        for bad in [10.5, -1.0, f64::NAN, f64::INFINITY] {
            let err = checked_grade(Some(bad), 10.0).unwrap_err();
            assert_eq!(err.field(), Some("grade"), "{bad}");
        }
    }

    #[test]
    fn settings_are_checked_field_by_field() {
        let ok = AssignmentInput::default();
        assert!(
            ok.checked(ActivityId(1), CourseId(1), GradeItemId(1))
                .is_ok()
        );
        let cases: [(&str, AssignmentInput); 5] = [
            (
                "max_grade",
                AssignmentInput {
                    max_grade: 0.0,
                    ..ok.clone()
                },
            ),
            (
                "cutoff_at",
                AssignmentInput {
                    due_at: Some(Timestamp(2_000)),
                    cutoff_at: Some(Timestamp(1_000)),
                    ..ok.clone()
                },
            ),
            (
                "online_text",
                AssignmentInput {
                    online_text: false,
                    file_submissions: false,
                    ..ok.clone()
                },
            ),
            (
                "max_file_bytes",
                AssignmentInput {
                    max_file_bytes: HOST_MAX_FILE_BYTES + 1,
                    ..ok.clone()
                },
            ),
            (
                "max_files",
                AssignmentInput {
                    max_files: 0,
                    ..ok.clone()
                },
            ),
        ];
        for (field, input) in cases {
            let err = input
                .checked(ActivityId(1), CourseId(1), GradeItemId(1))
                .unwrap_err();
            assert_eq!(err.field(), Some(field));
        }
    }
}
