//! Grading a submission: a number within `0..=max_grade` and Markdown
//! feedback, written as one grade entry per user graded — the owner, or
//! for a group submission every learner of the group (Moodle's "apply
//! grades and feedback to entire group") unless the teacher grades one
//! member individually.
//!
//! Staff who may see the submission grade it; a bad grade writes nothing.
//! Each entry changed is audited with its old and new value and evented.

use super::settings::{MAX_FEEDBACK_BYTES, checked_grade, checked_markdown};
use super::{GradeView, grade_view, user_name};
use crate::domain::*;
use crate::services::SiteServices;
use crate::services::auth::Principal;
use crate::services::error::{ServiceError, ServiceResult};
use crate::storage::site::prelude::*;

/// Who a grade goes to.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum GradeScope {
    /// The owner, or every learner of the owning group.
    #[default]
    Submission,
    /// One member of the owning group only (an individual override).
    Member(UserId),
}

/// A teacher's grade: the number (`None`: feedback only), the feedback
/// (Markdown) and who it goes to.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GradeInput {
    pub value: Option<f64>,
    pub feedback: String,
    pub scope: GradeScope,
}

/// The users `submission`'s grade goes to, with their names: its owner, or
/// the learners among its group's members (a teacher who is a member is
/// not graded).
pub(super) fn graded_users(
    t: &impl SiteRead,
    submission: &Submission,
) -> ServiceResult<Vec<(UserId, String)>> {
    let users = match submission.owner {
        SubmissionOwner::User(u) => vec![u],
        SubmissionOwner::Group(g) => {
            let Some(group) = t.group(g)? else {
                return Ok(Vec::new());
            };
            let mut users = Vec::new();
            let mut after = None;
            loop {
                let page = t.group_members_page(g, after, 1_000)?;
                let Some(last) = page.last() else { break };
                after = Some(last.user);
                for m in page {
                    let learner = t
                        .user_course_enrolments(group.course, m.user)?
                        .iter()
                        .any(|e| e.role == Some(Role::Learner));
                    if learner {
                        users.push(m.user);
                    }
                }
            }
            users
        }
    };
    users
        .into_iter()
        .map(|u| Ok((u, user_name(t, u)?)))
        .collect()
}

impl SiteServices {
    /// Grades submission `id`: one entry per user it goes to, each audited
    /// with the old and new value. Staff who may see the submission only.
    pub fn grade_submission(
        &self,
        who: &Principal,
        id: SubmissionId,
        input: GradeInput,
    ) -> ServiceResult<Vec<GradeView>> {
        self.write(|t| {
            let (submission, activity, access, settings) = self.seen_submission(t, who, id)?;
            access.require_staff()?;
            let value = checked_grade(input.value, settings.max_grade)?;
            let feedback = checked_markdown("feedback", &input.feedback, MAX_FEEDBACK_BYTES)?;
            let members = graded_users(t, &submission)?;
            let targets: Vec<UserId> = match input.scope {
                GradeScope::Submission => members.iter().map(|(u, _)| *u).collect(),
                GradeScope::Member(u) if members.iter().any(|(m, _)| *m == u) => vec![u],
                GradeScope::Member(u) => {
                    return Err(ServiceError::invalid(
                        "user",
                        format!("user #{u} is not graded by submission #{id}"),
                    ));
                }
            };
            if targets.is_empty() {
                return Err(ServiceError::Conflict(format!(
                    "submission #{id} has nobody to grade: its group has no learners"
                )));
            }
            let actor = access.actor;
            let mut out = Vec::with_capacity(targets.len());
            for user in targets {
                let before = t.grade_entry(settings.grade_item, user)?;
                let entry = GradeEntry {
                    item: settings.grade_item,
                    user,
                    value,
                    feedback: feedback.clone(),
                    graded_by: actor,
                    graded_at: t.now,
                };
                let unchanged = before
                    .as_ref()
                    .is_some_and(|b| b.value == entry.value && b.feedback == entry.feedback);
                if !unchanged {
                    t.put_grade_entry(activity.course, &entry)?;
                    let shown =
                        |v: Option<f64>| v.map_or_else(|| "none".to_owned(), |v| v.to_string());
                    let old = before.as_ref().and_then(|b| b.value);
                    let feedback_changed =
                        before.as_ref().map_or("", |b| b.feedback.as_str()) != entry.feedback;
                    t.audit_log(
                        actor,
                        "grade.updated",
                        format_args!("user #{user} for assignment #{}", activity.id),
                        format_args!(
                            "grade {} → {} of {}{} (submission #{id})",
                            shown(old),
                            shown(entry.value),
                            settings.max_grade,
                            if feedback_changed {
                                ", feedback changed"
                            } else {
                                ""
                            }
                        ),
                    )?;
                    t.emit(SiteEvent::SubmissionGraded {
                        course: activity.course,
                        assignment: activity.id,
                        user,
                    })?;
                }
                out.push(grade_view(t, entry, settings.max_grade)?);
            }
            Ok(out)
        })
    }

    /// The grades of assignment `id` that `who` may see: staff those of the
    /// users they may see under its group mode, a learner their own (unless
    /// the item is hidden).
    pub fn assignment_grades(
        &self,
        who: &Principal,
        id: ActivityId,
    ) -> ServiceResult<Vec<GradeView>> {
        self.read(|t| {
            let (activity, access) =
                crate::services::course_access::activity_for(&self.site, t, who, id)?;
            let settings = crate::services::ops::assignments::load_assignment(t, &activity)?;
            let filter = access.group_filter(access.group_mode(Some(&activity)));
            let hidden = t.grade_item(settings.grade_item)?.is_none_or(|i| i.hidden);
            let mut out = Vec::new();
            for entry in t.grade_entries_of(settings.grade_item)? {
                let sees = if access.is_staff() {
                    match filter {
                        None => true,
                        Some(f) => t
                            .user_group_ids_in(activity.course, entry.user)?
                            .iter()
                            .any(|g| f.contains(g)),
                    }
                } else {
                    access.user == Some(entry.user) && !hidden
                };
                if sees {
                    out.push(grade_view(t, entry, settings.max_grade)?);
                }
            }
            Ok(out)
        })
    }
}
