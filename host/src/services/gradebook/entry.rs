//! Entering grades in bulk — a cell, a row, a column or a whole page of
//! the grader report, a CSV import, the API — in one transaction: every
//! cell is checked first and one bad cell writes nothing.

use std::collections::HashSet;

use serde::Serialize;

use super::compute::{Book, View};
use super::{format_grade, load_book, seen_learners, shown};
use crate::domain::*;
use crate::services::SiteServices;
use crate::services::auth::Principal;
use crate::services::course_access::CourseAccess;
use crate::services::error::{ServiceError, ServiceResult};
use crate::storage::site::{SiteTables, prelude::*};

/// The most cells one save may carry (a 10,000-learner column is 10,000).
pub const MAX_CHANGES: usize = 500_000;

/// A grade to set: `value: None` clears it (on a total: removes the
/// override).
#[derive(Copy, Clone, Debug, PartialEq, serde::Deserialize, Serialize)]
pub struct GradeChange {
    pub user: UserId,
    pub item: GradeItemId,
    pub value: Option<f64>,
}

pub use crate::services::error::GradeCellError;

/// What a save did.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct GradesSaved {
    /// Cells whose value changed.
    pub changed: u64,
    /// Cells that already held the value.
    pub unchanged: u64,
}

/// Checks `changes` against the book and the learners the caller may
/// grade; every refusal, not only the first.
pub(crate) fn check_changes(
    book: &Book,
    learners: &HashSet<UserId>,
    changes: &[GradeChange],
) -> Vec<GradeCellError> {
    let mut errors = Vec::new();
    let mut seen = HashSet::with_capacity(changes.len());
    for c in changes {
        let refuse = |message: String| GradeCellError {
            user: c.user,
            item: c.item,
            message,
        };
        let Some(i) = book.position(c.item) else {
            errors.push(refuse(format!(
                "grade item #{} is not in this course",
                c.item
            )));
            continue;
        };
        let item = &book.items[i];
        if !learners.contains(&c.user) {
            errors.push(refuse(format!(
                "user #{} is not a learner you may grade in this course",
                c.user
            )));
            continue;
        }
        if !seen.insert((c.user, c.item)) {
            errors.push(refuse(format!(
                "user #{} has two grades for {:?} in one save",
                c.user, item.name
            )));
            continue;
        }
        if let Some(v) = c.value {
            let max = book.max(View::Staff, i);
            if !v.is_finite() {
                errors.push(refuse(format!(
                    "{:?}: the grade must be a number",
                    item.name
                )));
            } else if v < 0.0 {
                errors.push(refuse(format!(
                    "{:?}: {} is below 0",
                    item.name,
                    format_grade(v)
                )));
            } else if v > max {
                errors.push(refuse(format!(
                    "{:?}: {} is above the maximum {}",
                    item.name,
                    format_grade(v),
                    format_grade(max)
                )));
            }
        }
    }
    errors
}

/// Writes checked `changes`, each changed cell audited with its old and
/// new value; one `GradebookChanged` event for the lot.
pub(crate) fn apply_changes(
    t: &mut SiteTables<'_>,
    actor: Actor,
    course: CourseId,
    book: &Book,
    changes: &[GradeChange],
    why: &str,
) -> ServiceResult<GradesSaved> {
    let mut saved = GradesSaved::default();
    for c in changes {
        let Some(i) = book.position(c.item) else {
            continue;
        };
        let item = &book.items[i];
        let before = t.grade_entry(c.item, c.user)?;
        let old = before.as_ref().and_then(|e| e.value);
        if old == c.value {
            saved.unchanged += 1;
            continue;
        }
        match (c.value, &before) {
            (None, Some(e)) if e.feedback.is_empty() => {
                t.delete_grade_entry(course, c.item, c.user)?;
            }
            _ => {
                let entry = GradeEntry {
                    item: c.item,
                    user: c.user,
                    value: c.value,
                    feedback: before.map(|e| e.feedback).unwrap_or_default(),
                    graded_by: actor,
                    graded_at: t.now,
                };
                t.put_grade_entry(course, &entry)?;
            }
        }
        let what = if item.is_total() { "override" } else { "grade" };
        t.audit_log(
            actor,
            "grade.updated",
            format_args!(
                "user #{} for grade item #{} {:?}",
                c.user, c.item, item.name
            ),
            format_args!(
                "{what} {} → {} of {} ({why})",
                shown(old),
                shown(c.value),
                format_grade(book.max(View::Staff, i))
            ),
        )?;
        saved.changed += 1;
    }
    if saved.changed > 0 {
        t.emit(SiteEvent::GradebookChanged { course })?;
    }
    Ok(saved)
}

impl SiteServices {
    /// Sets grades in `course` (any of its teachers, for the learners they
    /// see): all or nothing. A refused cell answers
    /// [`ServiceError::GradesRejected`] with every refusal.
    pub fn set_grades(
        &self,
        who: &Principal,
        course: CourseId,
        changes: &[GradeChange],
    ) -> ServiceResult<GradesSaved> {
        if changes.len() > MAX_CHANGES {
            return Err(ServiceError::invalid(
                "grades",
                format!("at most {MAX_CHANGES} grades per save"),
            ));
        }
        self.write(|t| {
            let access = CourseAccess::of(&self.site, t, who, course)?;
            access.require_staff()?;
            let book = load_book(t, course)?;
            let learners: HashSet<UserId> = seen_learners(t, &access, None)?.into_iter().collect();
            let errors = check_changes(&book, &learners, changes);
            if !errors.is_empty() {
                return Err(ServiceError::GradesRejected(errors));
            }
            apply_changes(t, access.actor, course, &book, changes, "entered")
        })
    }
}
