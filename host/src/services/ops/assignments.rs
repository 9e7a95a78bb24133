//! Assignments inside a transaction: loading an assignment's settings and
//! a submission, and deleting everything an assignment owns when its
//! activity goes (called from `content::delete_activity_in`).
//!
//! Never authorises (callers do, through `CourseAccess`) and never opens a
//! transaction.

use crate::domain::*;
use crate::services::error::{ServiceError, ServiceResult};
use crate::storage::site::{SiteTables, prelude::*};

/// The settings of the assignment `activity`; not found when the activity
/// is not an assignment.
pub(crate) fn load_assignment(
    t: &impl SiteRead,
    activity: &Activity,
) -> ServiceResult<AssignmentSettings> {
    if activity.kind != ActivityKind::Assignment {
        return Err(ServiceError::not_found(format!(
            "assignment #{}",
            activity.id
        )));
    }
    t.assignment_settings(activity.id)?
        .ok_or_else(|| ServiceError::not_found(format!("assignment #{}", activity.id)))
}

pub(crate) fn load_submission(t: &impl SiteRead, id: SubmissionId) -> ServiceResult<Submission> {
    t.submission(id)?
        .ok_or_else(|| ServiceError::not_found(format!("submission #{id}")))
}

/// Deletes the submissions (and with the last reference their files), the
/// grade item with its entries and the settings of the assignment
/// `activity`, in the caller's transaction; one audit entry says how many
/// went. The activity row itself is the caller's.
pub(crate) fn delete_assignment_of_in(
    t: &mut SiteTables<'_>,
    actor: Actor,
    activity: &Activity,
) -> ServiceResult<()> {
    let Some(settings) = t.assignment_settings(activity.id)? else {
        return Ok(());
    };
    let submissions = t.assignment_submissions_all(activity.id)?;
    for submission in &submissions {
        t.delete_submission_row(submission)?;
    }
    let mut grades = 0;
    if let Some(item) = t.grade_item(settings.grade_item)? {
        grades = t.grade_entries_of(item.id)?.len();
        t.delete_grade_item(&item)?;
    }
    t.delete_assignment_settings(activity.id)?;
    t.audit_log(
        actor,
        "assignment.deleted",
        format_args!("assignment #{} {:?}", activity.id, activity.name),
        format_args!(
            "with its {} submission(s) and {grades} grade(s)",
            submissions.len()
        ),
    )?;
    Ok(())
}

/// Deletes `user`'s own submissions (their files with the last reference)
/// and grade entries in every course, in the caller's transaction (the
/// user is being deleted). Group submissions stay with their group; a
/// user's work in a course they left earlier goes too, so every course is
/// looked at, not only their current ones.
pub(crate) fn delete_user_work_in(t: &mut SiteTables<'_>, user: UserId) -> ServiceResult<()> {
    for course in t.all_courses()? {
        t.delete_user_grade_entries(course.id, user)?;
        for section in t.sections_of_course(course.id)? {
            for activity in t.section_activities(section.id)? {
                if activity.kind != ActivityKind::Assignment {
                    continue;
                }
                if let Some(s) = t.submission_of(activity.id, SubmissionOwner::User(user))? {
                    t.delete_submission_row(&s)?;
                }
            }
        }
    }
    Ok(())
}
