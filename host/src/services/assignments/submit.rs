//! A learner's side of an assignment: whose submission they work on (their
//! own, or with group submission one of their groups'), and saving it —
//! text and files, as a draft or submitted — in one transaction.
//!
//! Rules (Moodle's): only the course's learners submit; after the cut-off
//! nothing is saved; a submitted submission no longer changes; any member
//! of a group edits the group's draft; a learner in no group cannot make a
//! group submission, and one in several picks the group. Files are checked
//! and digested before the transaction opens; a file over the limit
//! writes nothing.

use std::collections::BTreeSet;

use super::files::{CheckedFile, check_file};
use super::settings::{MAX_TEXT_BYTES, checked_markdown};
use super::{
    LearnerPart, NewFile, SubmissionState, SubmissionView, grade_view, store_submission_in,
    submission_view,
};
use crate::domain::*;
use crate::services::SiteServices;
use crate::services::auth::Principal;
use crate::services::course_access::{CourseAccess, CourseStanding, activity_for};
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::ops::assignments::load_assignment;
use crate::storage::site::prelude::*;

/// What a learner sends: for which group (group submission, when they are
/// in several), the online text (`None`: unchanged), files to add (one of
/// the same name replaces it) and to remove (by name), and whether to
/// submit it for grading now.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SubmissionInput {
    pub group: Option<CourseGroupId>,
    pub text: Option<String>,
    pub add_files: Vec<NewFile>,
    pub remove_files: Vec<String>,
    pub submit: bool,
}

/// The groups `access` may submit for in `activity`: their own groups,
/// only those in its grouping when it has one.
fn submission_groups(
    t: &impl SiteRead,
    access: &CourseAccess,
    activity: &Activity,
) -> ServiceResult<Vec<CourseGroupId>> {
    let mut out = Vec::new();
    for &g in &access.groups {
        let in_grouping = match activity.grouping {
            None => true,
            Some(grouping) => t.grouping_has_group(grouping, g)?,
        };
        if in_grouping {
            out.push(g);
        }
    }
    Ok(out)
}

/// The message a learner in no group gets, as Moodle says it.
const NO_GROUP: &str = "You are not a member of any group of this assignment, so you cannot \
                        submit to it: it takes one submission per group. Ask your teacher to add \
                        you to a group.";

/// Whose submission a learner works on.
fn resolve_owner(
    t: &impl SiteRead,
    access: &CourseAccess,
    activity: &Activity,
    settings: &AssignmentSettings,
    me: UserId,
    group: Option<CourseGroupId>,
) -> ServiceResult<SubmissionOwner> {
    if !settings.group_submission {
        return Ok(SubmissionOwner::User(me));
    }
    let groups = submission_groups(t, access, activity)?;
    match group {
        Some(g) if groups.contains(&g) => Ok(SubmissionOwner::Group(g)),
        _ if groups.is_empty() => Err(ServiceError::Conflict(NO_GROUP.into())),
        Some(g) => Err(ServiceError::invalid(
            "group",
            format!("you are not a member of group #{g} here; submit for one of your groups"),
        )),
        None if groups.len() == 1 => Ok(SubmissionOwner::Group(groups[0])),
        None => Err(ServiceError::invalid(
            "group",
            "you are in several groups; choose the group you submit for",
        )),
    }
}

/// Why nothing may be saved to `existing` now, if so.
fn blocked(
    settings: &AssignmentSettings,
    existing: Option<&Submission>,
    now: Timestamp,
) -> Option<String> {
    if let Some(cutoff) = settings.cutoff_at
        && now >= cutoff
    {
        return Some(format!(
            "The cut-off date ({cutoff}) has passed: this assignment takes no more submissions."
        ));
    }
    if let Some(s) = existing
        && s.status == SubmissionStatus::Submitted
    {
        return Some(format!(
            "This submission was submitted{}; it can no longer be changed.",
            s.submitted_at
                .map(|at| format!(" on {at}"))
                .unwrap_or_default()
        ));
    }
    None
}

/// The caller as a learner of the course, or why they cannot submit.
fn learner_of(access: &CourseAccess) -> ServiceResult<UserId> {
    match (access.standing, access.user) {
        (CourseStanding::Learner, Some(me)) => Ok(me),
        _ => Err(ServiceError::Forbidden(
            "only the course's learners submit; teachers and admins grade submissions".into(),
        )),
    }
}

/// The learner's part of an assignment page.
pub(super) fn learner_part(
    t: &impl SiteRead,
    access: &CourseAccess,
    activity: &Activity,
    settings: &AssignmentSettings,
    group: Option<CourseGroupId>,
) -> ServiceResult<LearnerPart> {
    let me = learner_of(access)?;
    let groups = if settings.group_submission {
        let mut out = Vec::new();
        for g in submission_groups(t, access, activity)? {
            if let Some(group) = t.group(g)? {
                out.push(group);
            }
        }
        out
    } else {
        Vec::new()
    };
    let owner = resolve_owner(t, access, activity, settings, me, group);
    let (owner, existing, blocked) = match owner {
        Ok(owner) => {
            let existing = t.submission_of(activity.id, owner)?;
            let why = blocked(settings, existing.as_ref(), crate::domain::Timestamp::now());
            (Some(owner), existing, why)
        }
        Err(ServiceError::Conflict(why)) => (None, None, Some(why)),
        Err(ServiceError::Invalid { .. }) => (None, None, None),
        Err(e) => return Err(e),
    };
    let item = t.grade_item(settings.grade_item)?;
    let grade = match (item, t.grade_entry(settings.grade_item, me)?) {
        (Some(item), Some(entry)) if !item.hidden => {
            Some(grade_view(t, entry, settings.max_grade)?)
        }
        _ => None,
    };
    Ok(LearnerPart {
        groups,
        owner,
        blocked,
        state: SubmissionState::of(existing.as_ref(), settings),
        submission: existing
            .map(|s| submission_view(t, s, settings))
            .transpose()?,
        grade,
    })
}

/// The files of a submission after `input`: the old ones without those
/// removed or replaced, then the new ones; within the assignment's count.
fn merged_files(
    settings: &AssignmentSettings,
    old: &[SubmittedFile],
    remove: &[String],
    added: &[CheckedFile],
) -> ServiceResult<Vec<SubmittedFile>> {
    let replaced: BTreeSet<&str> = added.iter().map(|f| f.meta.name.as_str()).collect();
    let mut files: Vec<SubmittedFile> = old
        .iter()
        .filter(|f| !remove.contains(&f.name) && !replaced.contains(f.name.as_str()))
        .cloned()
        .collect();
    for f in added {
        if let Some(same) = files.iter_mut().find(|x| x.name == f.meta.name) {
            *same = f.meta.clone();
        } else {
            files.push(f.meta.clone());
        }
    }
    if files.len() > settings.max_files as usize {
        return Err(ServiceError::invalid(
            "file",
            format!(
                "a submission holds at most {} file(s); remove one before adding another",
                settings.max_files
            ),
        ));
    }
    Ok(files)
}

impl SiteServices {
    /// Saves the caller's submission to assignment `id` (a learner's own,
    /// or their group's), as a draft or submitted; its files are stored in
    /// the same transaction.
    pub fn save_submission(
        &self,
        who: &Principal,
        id: ActivityId,
        input: SubmissionInput,
    ) -> ServiceResult<SubmissionView> {
        // The assignment's limits, read first so that the files are
        // checked and digested outside the write transaction.
        let settings = self.read(|t| {
            let (activity, access) = activity_for(&self.site, t, who, id)?;
            learner_of(&access)?;
            load_assignment(t, &activity)
        })?;
        let mut added = Vec::with_capacity(input.add_files.len());
        for file in input.add_files {
            added.push(check_file(&settings, file)?);
        }
        self.write(|t| {
            let (activity, access) = activity_for(&self.site, t, who, id)?;
            let me = learner_of(&access)?;
            let settings = load_assignment(t, &activity)?;
            for f in &added {
                if f.meta.bytes > settings.max_file_bytes {
                    return Err(ServiceError::invalid(
                        "file",
                        format!(
                            "“{}” is over this assignment's limit of {}",
                            f.meta.name,
                            super::human_size(settings.max_file_bytes)
                        ),
                    ));
                }
            }
            let owner = resolve_owner(t, &access, &activity, &settings, me, input.group)?;
            let existing = t.submission_of(id, owner)?;
            if let Some(why) = blocked(&settings, existing.as_ref(), t.now) {
                return Err(ServiceError::Conflict(why));
            }
            let text = match &input.text {
                Some(text) if !settings.online_text && !text.trim().is_empty() => {
                    return Err(ServiceError::invalid(
                        "text",
                        "this assignment takes no online text; add a file instead",
                    ));
                }
                Some(text) => checked_markdown("text", text, MAX_TEXT_BYTES)?,
                None => existing
                    .as_ref()
                    .map(|s| s.text.clone())
                    .unwrap_or_default(),
            };
            let old_files = existing.as_ref().map_or(&[][..], |s| &s.files[..]);
            let files = merged_files(&settings, old_files, &input.remove_files, &added)?;
            if input.submit && text.is_empty() && files.is_empty() {
                return Err(ServiceError::invalid(
                    "text",
                    "an empty submission cannot be submitted; add text or a file first",
                ));
            }
            let submission = Submission {
                id: match &existing {
                    Some(s) => s.id,
                    None => t.new_submission_id()?,
                },
                assignment: id,
                owner,
                status: if input.submit {
                    SubmissionStatus::Submitted
                } else {
                    SubmissionStatus::Draft
                },
                text,
                files,
                submitted_by: me,
                submitted_at: input.submit.then_some(t.now),
                created_at: existing.as_ref().map_or(t.now, |s| s.created_at),
                updated_at: t.now,
            };
            if existing.as_ref().is_some_and(|old| {
                old.text == submission.text
                    && old.files == submission.files
                    && old.status == submission.status
            }) {
                return submission_view(t, submission, &settings);
            }
            store_submission_in(t, &submission, existing.as_ref(), &added)?;
            audit_submission(t, me, &activity, existing.as_ref(), &submission)?;
            submission_view(t, submission, &settings)
        })
    }
}

/// The audit entry and event of a saved submission, naming what changed.
fn audit_submission(
    t: &mut crate::storage::site::SiteTables<'_>,
    me: UserId,
    activity: &Activity,
    before: Option<&Submission>,
    after: &Submission,
) -> ServiceResult<()> {
    let mut changed = Vec::new();
    let status = |s: Option<&Submission>| match s.map(|s| s.status) {
        None => "not submitted",
        Some(SubmissionStatus::Draft) => "draft",
        Some(SubmissionStatus::Submitted) => "submitted",
    };
    if before.map(|b| b.status) != Some(after.status) {
        changed.push(format!("{} → {}", status(before), status(Some(after))));
    }
    if before.map_or("", |b| b.text.as_str()) != after.text {
        changed.push(format!("text {} bytes", after.text.len()));
    }
    let names = |s: Option<&Submission>| -> Vec<String> {
        s.map(|s| s.files.iter().map(|f| f.name.clone()).collect())
            .unwrap_or_default()
    };
    let (old, new) = (names(before), names(Some(after)));
    if before.map(|b| &b.files) != Some(&after.files) {
        changed.push(format!("files {old:?} → {new:?}"));
    }
    let owner = match after.owner {
        SubmissionOwner::User(u) => format!("user #{u}"),
        SubmissionOwner::Group(g) => format!("group #{g}"),
    };
    let submitted = after.status == SubmissionStatus::Submitted;
    t.audit_log(
        Actor::User(me),
        if submitted {
            "submission.submitted"
        } else {
            "submission.saved"
        },
        format_args!(
            "submission #{} of {owner} to assignment #{}",
            after.id, activity.id
        ),
        changed.join("; ").as_str(),
    )?;
    let (course, assignment, submission) = (activity.course, activity.id, after.id);
    t.emit(if submitted {
        SiteEvent::SubmissionSubmitted {
            course,
            assignment,
            submission,
        }
    } else {
        SiteEvent::SubmissionSaved {
            course,
            assignment,
            submission,
        }
    })?;
    Ok(())
}
