//! Assignments (issue 18): an activity learners submit work to — online
//! text, files, or both — alone or, with group submission, one submission
//! per group; staff list and grade the submissions; grades land in grade
//! entries the gradebook (issue 19) reads.
//!
//! Every rule of who may see or do what goes through
//! [`CourseAccess`](super::course_access::CourseAccess): a learner sees
//! only their own (or their group's) submission, never another's, whatever
//! the group mode; staff see the submissions of the groups the mode lets
//! them see. A submission and its files are written in one transaction
//! (`submit.rs`); grading (`grading.rs`) writes one entry per user graded.
//! Every change is audited with what it was and what it became, and goes
//! to the outbox. This module never renders a page; Markdown (instructions,
//! online text, feedback) is made safe HTML by
//! [`markdown::render_html`](super::announcements::markdown::render_html).

mod files;
mod grading;
mod settings;
mod submit;

pub use files::{
    HOST_MAX_FILE_BYTES, HOST_MAX_FILES, NewFile, download_content_type, human_size, parse_sha256,
};
pub use grading::{GradeInput, GradeScope};
pub use settings::{AssignmentInput, MAX_FEEDBACK_BYTES, MAX_MAX_GRADE, MAX_TEXT_BYTES};
pub use submit::SubmissionInput;

use super::SiteServices;
use super::announcements::markdown::render_html;
use super::auth::{Principal, authorize_caller};
use super::content::ActivityDraft;
use super::course_access::{CourseAccess, activity_for};
use super::error::{ServiceError, ServiceResult};
use super::ops::assignments::{load_assignment, load_submission};
use super::ops::content::{insert_activity_in, load_section, update_activity_in};
use crate::domain::*;
use crate::storage::site::{SiteTables, prelude::*};

/// Where a learner's (or group's) work stands, as pages and the API show
/// it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum SubmissionState {
    NotSubmitted,
    Draft,
    Submitted,
    /// Submitted after the due date.
    Late,
}

impl SubmissionState {
    pub fn of(submission: Option<&Submission>, settings: &AssignmentSettings) -> Self {
        match submission {
            None => SubmissionState::NotSubmitted,
            Some(s) if s.status == SubmissionStatus::Draft => SubmissionState::Draft,
            Some(s) if s.is_late(settings.due_at) => SubmissionState::Late,
            Some(_) => SubmissionState::Submitted,
        }
    }

    /// The stable name (API, element classes).
    pub fn as_str(self) -> &'static str {
        match self {
            SubmissionState::NotSubmitted => "not_submitted",
            SubmissionState::Draft => "draft",
            SubmissionState::Submitted => "submitted",
            SubmissionState::Late => "late",
        }
    }

    /// In words, for pages.
    pub fn label(self) -> &'static str {
        match self {
            SubmissionState::NotSubmitted => "Not submitted",
            SubmissionState::Draft => "Draft (not submitted)",
            SubmissionState::Submitted => "Submitted",
            SubmissionState::Late => "Submitted late",
        }
    }
}

/// A submission with what its pages show beside it.
#[derive(Clone, Debug, PartialEq)]
pub struct SubmissionView {
    pub submission: Submission,
    pub state: SubmissionState,
    /// The owner in words: a user's full name or a group's name.
    pub owner_name: String,
    pub submitted_by_name: String,
    /// The online text as sanitised HTML.
    pub text_html: String,
}

/// A grade as its owner (or staff) sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct GradeView {
    pub entry: GradeEntry,
    pub user_name: String,
    pub max_grade: f64,
    /// The feedback as sanitised HTML.
    pub feedback_html: String,
}

/// What the learner's side of an assignment page shows.
#[derive(Clone, Debug, PartialEq)]
pub struct LearnerPart {
    /// The groups they may submit for (group submission only).
    pub groups: Vec<CourseGroup>,
    /// Whose submission they work on, once it is unambiguous.
    pub owner: Option<SubmissionOwner>,
    /// Why they cannot submit now (no group, cut-off passed, submitted).
    pub blocked: Option<String>,
    pub state: SubmissionState,
    pub submission: Option<SubmissionView>,
    /// Their own grade and feedback, once graded (and the item not hidden).
    pub grade: Option<GradeView>,
}

/// Submission figures for staff.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct SubmissionCounts {
    pub drafts: u64,
    pub submitted: u64,
    pub late: u64,
}

/// An assignment page.
#[derive(Clone, Debug, PartialEq)]
pub struct AssignmentView {
    pub activity: Activity,
    pub settings: AssignmentSettings,
    pub course: Course,
    /// The instructions as sanitised HTML.
    pub instructions_html: String,
    pub group_mode: GroupMode,
    pub can_edit: bool,
    pub is_staff: bool,
    /// Learners only.
    pub learner: Option<LearnerPart>,
    /// Staff only: the submissions they may see, counted.
    pub counts: Option<SubmissionCounts>,
}

/// What an assignment's create or edit form needs: the course (its group
/// mode), the section it goes in, the course's groupings, and the
/// assignment as it is when editing.
#[derive(Clone, Debug, PartialEq)]
pub struct AssignmentEditor {
    pub course: Course,
    pub section: CourseSectionId,
    pub groupings: Vec<Grouping>,
    pub current: Option<(Activity, AssignmentSettings)>,
}

/// A submission's page: it, its assignment and its grades.
#[derive(Clone, Debug, PartialEq)]
pub struct SubmissionDetail {
    pub view: SubmissionView,
    pub activity: Activity,
    pub settings: AssignmentSettings,
    /// The users its grade goes to (the owner, or the group's learners),
    /// with their names.
    pub graded_users: Vec<(UserId, String)>,
    /// Their grades so far (only the caller's own for a learner).
    pub grades: Vec<GradeView>,
    /// Whether the caller may grade it.
    pub can_grade: bool,
}

/// A staff list of an assignment's submissions.
#[derive(Clone, Debug, PartialEq)]
pub struct SubmissionList {
    pub activity: Activity,
    pub settings: AssignmentSettings,
    /// The groups the caller may filter by (those they may see).
    pub groups: Vec<CourseGroup>,
    pub rows: Vec<SubmissionRow>,
}

/// One row of [`SubmissionList`].
#[derive(Clone, Debug, PartialEq)]
pub struct SubmissionRow {
    pub submission: Submission,
    pub state: SubmissionState,
    pub owner_name: String,
    /// The grade of the owner (a user) or of the member who submitted (a
    /// group, graded as a whole by default).
    pub grade: Option<f64>,
}

impl SiteServices {
    /// Adds an assignment at the end of `section`: the activity, its
    /// settings and its grade item, in one transaction (editing teachers
    /// and site admins).
    pub fn create_assignment(
        &self,
        who: &Principal,
        section: CourseSectionId,
        draft: ActivityDraft,
        input: AssignmentInput,
    ) -> ServiceResult<Activity> {
        self.write(|t| {
            authorize_caller(&self.site, t, who)?;
            let section = load_section(t, section)?;
            let access = CourseAccess::of(&self.site, t, who, section.course)?;
            access.require_edit()?;
            // Checked before anything is written, so a bad field is
            // reported whatever else is wrong.
            input.checked(ActivityId(0), section.course, GradeItemId(0))?;
            let actor = access.actor;
            let activity =
                insert_activity_in(t, actor, &section, ActivityKind::Assignment, &draft)?;
            let item = GradeItem::new(
                t.new_grade_item_id()?,
                section.course,
                GradeSource::Assignment(activity.id),
                activity.name.clone(),
                input.max_grade,
                t.now,
            );
            t.put_grade_item(&item)?;
            let settings = input.checked(activity.id, section.course, item.id)?;
            t.put_assignment_settings(&settings)?;
            t.audit_log(
                actor,
                "assignment.created",
                format_args!("assignment #{} {:?}", activity.id, activity.name),
                describe_settings(&settings).as_str(),
            )?;
            Ok(activity)
        })
    }

    /// The form for a new assignment in `section` (editing teachers and
    /// site admins).
    pub fn new_assignment_form(
        &self,
        who: &Principal,
        section: CourseSectionId,
    ) -> ServiceResult<AssignmentEditor> {
        self.read(|t| {
            authorize_caller(&self.site, t, who)?;
            let section = load_section(t, section)?;
            let access = CourseAccess::of(&self.site, t, who, section.course)?;
            access.require_edit()?;
            Ok(AssignmentEditor {
                groupings: t.groupings_of_course(section.course)?,
                course: access.course,
                section: section.id,
                current: None,
            })
        })
    }

    /// The form of assignment `id` as it is (editing teachers and site
    /// admins).
    pub fn edit_assignment_form(
        &self,
        who: &Principal,
        id: ActivityId,
    ) -> ServiceResult<AssignmentEditor> {
        self.read(|t| {
            let (activity, access) = activity_for(&self.site, t, who, id)?;
            let settings = load_assignment(t, &activity)?;
            access.require_edit()?;
            Ok(AssignmentEditor {
                groupings: t.groupings_of_course(activity.course)?,
                course: access.course,
                section: activity.section,
                current: Some((activity, settings)),
            })
        })
    }

    /// Changes an assignment's common fields and settings (editing teachers
    /// and site admins); the grade item follows its name and maximum.
    pub fn update_assignment(
        &self,
        who: &Principal,
        id: ActivityId,
        draft: ActivityDraft,
        input: AssignmentInput,
    ) -> ServiceResult<Activity> {
        self.write(|t| {
            let (mut activity, access) = activity_for(&self.site, t, who, id)?;
            let before = load_assignment(t, &activity)?;
            access.require_edit()?;
            let after = input.checked(id, activity.course, before.grade_item)?;
            let actor = access.actor;
            update_activity_in(t, actor, &mut activity, &draft)?;
            if after != before {
                t.put_assignment_settings(&after)?;
                t.audit_log(
                    actor,
                    "assignment.updated",
                    format_args!("assignment #{} {:?}", id, activity.name),
                    format_args!(
                        "{} → {}",
                        describe_settings(&before),
                        describe_settings(&after)
                    ),
                )?;
            }
            if let Some(mut item) = t.grade_item(before.grade_item)?
                && (item.name != activity.name || item.max_grade != after.max_grade)
            {
                item.name = activity.name.clone();
                item.max_grade = after.max_grade;
                t.put_grade_item(&item)?;
            }
            Ok(activity)
        })
    }

    /// An assignment's page for `who`: learners their own submission (for
    /// `group` when they submit for one of several groups), grade and
    /// feedback; staff the figures of the submissions they may see.
    pub fn assignment(
        &self,
        who: &Principal,
        id: ActivityId,
        group: Option<CourseGroupId>,
    ) -> ServiceResult<AssignmentView> {
        self.read(|t| {
            let (activity, access) = activity_for(&self.site, t, who, id)?;
            let settings = load_assignment(t, &activity)?;
            let mode = access.group_mode(Some(&activity));
            let (learner, counts) = if access.is_staff() {
                let mut counts = SubmissionCounts::default();
                for s in visible_submissions(t, &access, &activity, &settings, None)? {
                    match SubmissionState::of(Some(&s), &settings) {
                        SubmissionState::Draft => counts.drafts += 1,
                        SubmissionState::Late => {
                            counts.late += 1;
                            counts.submitted += 1;
                        }
                        _ => counts.submitted += 1,
                    }
                }
                (None, Some(counts))
            } else {
                let part = submit::learner_part(t, &access, &activity, &settings, group)?;
                (Some(part), None)
            };
            Ok(AssignmentView {
                instructions_html: render_html(&activity.description),
                group_mode: mode,
                can_edit: access.can_edit(),
                is_staff: access.is_staff(),
                course: access.course.clone(),
                activity,
                settings,
                learner,
                counts,
            })
        })
    }

    /// The submissions of an assignment that `who` (staff) may see,
    /// optionally of one group: in separate-groups mode a non-editing
    /// teacher sees only their own groups' members and group submissions.
    pub fn assignment_submissions(
        &self,
        who: &Principal,
        id: ActivityId,
        group: Option<CourseGroupId>,
    ) -> ServiceResult<SubmissionList> {
        self.read(|t| {
            let (activity, access) = activity_for(&self.site, t, who, id)?;
            let settings = load_assignment(t, &activity)?;
            access.require_staff()?;
            let mode = access.group_mode(Some(&activity));
            let filter = access.group_filter(mode);
            let groups: Vec<CourseGroup> = t
                .course_group_list(activity.course)?
                .into_iter()
                .filter(|g| filter.is_none_or(|f| f.contains(&g.id)))
                .collect();
            if let Some(g) = group
                && !groups.iter().any(|mine| mine.id == g)
            {
                return Err(ServiceError::invalid(
                    "group",
                    format!("group #{g} is not one of this course's groups you may see"),
                ));
            }
            let item = settings.grade_item;
            let mut rows = Vec::new();
            for s in visible_submissions(t, &access, &activity, &settings, group)? {
                let graded = match s.owner {
                    SubmissionOwner::User(u) => u,
                    SubmissionOwner::Group(_) => s.submitted_by,
                };
                rows.push(SubmissionRow {
                    state: SubmissionState::of(Some(&s), &settings),
                    owner_name: owner_name(t, s.owner)?,
                    grade: t.grade_entry(item, graded)?.and_then(|e| e.value),
                    submission: s,
                });
            }
            Ok(SubmissionList {
                activity,
                settings,
                groups,
                rows,
            })
        })
    }

    /// One submission, for its owner (a group's members) and the staff who
    /// may see it; anyone else is told it does not exist.
    pub fn submission(&self, who: &Principal, id: SubmissionId) -> ServiceResult<SubmissionDetail> {
        self.read(|t| {
            let (submission, activity, access, settings) = self.seen_submission(t, who, id)?;
            let graded_users = grading::graded_users(t, &submission)?;
            let item = t.grade_item(settings.grade_item)?;
            let mut grades = Vec::new();
            for (user, _) in &graded_users {
                if !access.is_staff()
                    && (access.user != Some(*user) || item.as_ref().is_none_or(|i| i.hidden))
                {
                    continue;
                }
                if let Some(entry) = t.grade_entry(settings.grade_item, *user)? {
                    grades.push(grade_view(t, entry, settings.max_grade)?);
                }
            }
            Ok(SubmissionDetail {
                view: submission_view(t, submission, &settings)?,
                can_grade: access.is_staff(),
                activity,
                settings,
                graded_users,
                grades,
            })
        })
    }

    /// A file of a submission, with its bytes, for those who may see the
    /// submission.
    pub fn submission_file(
        &self,
        who: &Principal,
        id: SubmissionId,
        sha256: &[u8; 32],
    ) -> ServiceResult<(SubmittedFile, Vec<u8>)> {
        self.read(|t| {
            let (submission, ..) = self.seen_submission(t, who, id)?;
            let file = submission
                .files
                .into_iter()
                .find(|f| f.sha256 == *sha256)
                .ok_or_else(|| ServiceError::not_found(format!("file of submission #{id}")))?;
            let content = t
                .file_content(sha256)?
                .ok_or_else(|| ServiceError::not_found(format!("file of submission #{id}")))?;
            Ok((file, content))
        })
    }

    /// The submission `id` if `who` may see it, with its assignment and the
    /// caller's access. Not found for the course's participants who may
    /// not: a learner learns nothing of another's work, not even that it
    /// exists.
    fn seen_submission(
        &self,
        t: &impl SiteRead,
        who: &Principal,
        id: SubmissionId,
    ) -> ServiceResult<(Submission, Activity, CourseAccess, AssignmentSettings)> {
        authorize_caller(&self.site, t, who)?;
        let submission = load_submission(t, id)?;
        // A participant of another course hears "forbidden", as for the
        // course's other things; a participant of this one who may not see
        // it hears "not found".
        let (activity, access) = activity_for(&self.site, t, who, submission.assignment)?;
        let settings = load_assignment(t, &activity)?;
        if !sees_submission(t, &access, &activity, &submission)? {
            return Err(ServiceError::not_found(format!("submission #{id}")));
        }
        Ok((submission, activity, access, settings))
    }
}

/// Whether `access` may see `submission` of `activity`: its owner (a
/// member of its group), or staff who see one of the owner's groups under
/// the activity's mode. Learners never see another's work, in any mode.
pub(crate) fn sees_submission(
    t: &impl SiteRead,
    access: &CourseAccess,
    activity: &Activity,
    submission: &Submission,
) -> ServiceResult<bool> {
    let filter = access.group_filter(access.group_mode(Some(activity)));
    Ok(match submission.owner {
        SubmissionOwner::User(u) if access.user == Some(u) => true,
        SubmissionOwner::Group(g) if !access.is_staff() => access.groups.contains(&g),
        _ if !access.is_staff() => false,
        SubmissionOwner::Group(g) => filter.is_none_or(|f| f.contains(&g)),
        SubmissionOwner::User(u) => match filter {
            None => true,
            Some(f) => t
                .user_group_ids_in(activity.course, u)?
                .iter()
                .any(|g| f.contains(g)),
        },
    })
}

/// The submissions to `activity` staff `access` may see, of `group` only
/// when one is given (its members' own and its group submission).
fn visible_submissions(
    t: &impl SiteRead,
    access: &CourseAccess,
    activity: &Activity,
    settings: &AssignmentSettings,
    group: Option<CourseGroupId>,
) -> ServiceResult<Vec<Submission>> {
    let all = t.assignment_submissions_all(settings.activity)?;
    let mut out = Vec::with_capacity(all.len());
    for s in all {
        let in_group = match (group, s.owner) {
            (None, _) => true,
            (Some(g), SubmissionOwner::Group(owner)) => owner == g,
            (Some(g), SubmissionOwner::User(u)) => {
                t.user_group_ids_in(activity.course, u)?.contains(&g)
            }
        };
        if in_group && sees_submission(t, access, activity, &s)? {
            out.push(s);
        }
    }
    Ok(out)
}

/// A user's full name, or `user #id` when they are gone.
pub(crate) fn user_name(t: &impl SiteRead, user: UserId) -> ServiceResult<String> {
    Ok(t.user(user)?
        .map_or_else(|| format!("user #{user}"), |u| u.full_name()))
}

/// The owner of a submission in words.
pub(crate) fn owner_name(t: &impl SiteRead, owner: SubmissionOwner) -> ServiceResult<String> {
    match owner {
        SubmissionOwner::User(u) => user_name(t, u),
        SubmissionOwner::Group(g) => Ok(t
            .group(g)?
            .map_or_else(|| format!("group #{g}"), |g| g.name)),
    }
}

pub(crate) fn submission_view(
    t: &impl SiteRead,
    submission: Submission,
    settings: &AssignmentSettings,
) -> ServiceResult<SubmissionView> {
    Ok(SubmissionView {
        state: SubmissionState::of(Some(&submission), settings),
        owner_name: owner_name(t, submission.owner)?,
        submitted_by_name: user_name(t, submission.submitted_by)?,
        text_html: render_html(&submission.text),
        submission,
    })
}

pub(crate) fn grade_view(
    t: &impl SiteRead,
    entry: GradeEntry,
    max_grade: f64,
) -> ServiceResult<GradeView> {
    Ok(GradeView {
        user_name: user_name(t, entry.user)?,
        feedback_html: render_html(&entry.feedback),
        max_grade,
        entry,
    })
}

/// The settings in words, for the audit log.
fn describe_settings(s: &AssignmentSettings) -> String {
    let when = |t: Option<Timestamp>| t.map_or_else(|| "none".to_owned(), |t| t.to_string());
    format!(
        "due {}, cut-off {}, out of {}, text {}, files {} (up to {} of {}), group submission {}",
        when(s.due_at),
        when(s.cutoff_at),
        s.max_grade,
        s.online_text,
        s.file_submissions,
        s.max_files,
        human_size(s.max_file_bytes),
        s.group_submission
    )
}

/// Writes `t`'s submission row and the files it names, in the caller's
/// transaction (shared by submit and tests of the store).
pub(crate) fn store_submission_in(
    t: &mut SiteTables<'_>,
    submission: &Submission,
    previous: Option<&Submission>,
    new_files: &[files::CheckedFile],
) -> ServiceResult<()> {
    for f in new_files {
        t.store_file_content(&f.meta.sha256, &f.content)?;
    }
    t.put_submission(submission, previous)?;
    Ok(())
}
