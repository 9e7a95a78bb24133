//! Course content inside a transaction: looking up a section, an activity
//! or a grouping, and writing or deleting an activity with its audit entry
//! and event — shared by `content` (pages and the generic activity
//! routes), the kinds' own services (discussions, assignments), course
//! deletion and group deletion.
//!
//! Never authorises (callers do, through `CourseAccess`) and never opens a
//! transaction.

use crate::domain::*;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::validate;
use crate::storage::site::{SiteTables, prelude::*};

/// The longest name of a section, an activity or a grouping.
pub(crate) const MAX_NAME: usize = 255;
/// The longest Markdown text of a section summary, an activity's
/// description or a grouping's description, in characters.
pub(crate) const MAX_DESCRIPTION: usize = 100_000;

/// What a person fills in for any kind of activity; each kind's own
/// settings travel beside it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ActivityDraft {
    pub name: String,
    /// Markdown.
    pub description: String,
    pub visible: bool,
    /// `None`: the course's.
    pub group_mode: Option<GroupMode>,
    pub grouping: Option<GroupingId>,
}

pub(crate) fn load_section(t: &impl SiteRead, id: CourseSectionId) -> ServiceResult<CourseSection> {
    t.course_section(id)?
        .ok_or_else(|| ServiceError::not_found(format!("course section #{id}")))
}

pub(crate) fn load_activity(t: &impl SiteRead, id: ActivityId) -> ServiceResult<Activity> {
    t.activity(id)?
        .ok_or_else(|| ServiceError::not_found(format!("activity #{id}")))
}

pub(crate) fn load_grouping(t: &impl SiteRead, id: GroupingId) -> ServiceResult<Grouping> {
    t.grouping(id)?
        .ok_or_else(|| ServiceError::not_found(format!("grouping #{id}")))
}

/// The draft's fields checked for an activity of `course`: a name, a
/// description within bounds, a grouping of this course.
fn checked(
    t: &impl SiteRead,
    course: CourseId,
    draft: &ActivityDraft,
) -> ServiceResult<ActivityDraft> {
    let name = validate::required_text("name", &draft.name, MAX_NAME)?;
    let description = validate::optional_text("description", &draft.description, MAX_DESCRIPTION)?;
    if let Some(id) = draft.grouping {
        match t.grouping(id)? {
            Some(g) if g.course == course => {}
            _ => {
                return Err(ServiceError::invalid(
                    "grouping",
                    format!("grouping #{id} is not a grouping of course #{course}"),
                ));
            }
        }
    }
    Ok(ActivityDraft {
        name,
        description,
        ..draft.clone()
    })
}

/// Writes a new activity of `kind` at the end of `section`, audited and
/// evented. The kind's own rows are the caller's to write in the same
/// transaction.
pub(crate) fn insert_activity_in(
    t: &mut SiteTables<'_>,
    actor: Actor,
    section: &CourseSection,
    kind: ActivityKind,
    draft: &ActivityDraft,
) -> ServiceResult<Activity> {
    let draft = checked(t, section.course, draft)?;
    let activity = Activity {
        id: t.new_activity_id()?,
        course: section.course,
        section: section.id,
        kind,
        name: draft.name,
        description: draft.description,
        visible: draft.visible,
        group_mode: draft.group_mode,
        grouping: draft.grouping,
        created_at: t.now,
        updated_at: t.now,
    };
    t.put_activity(&activity)?;
    t.audit_log(
        actor,
        "activity.created",
        format_args!(
            "{} #{} {:?} in course #{} section #{}",
            kind.label().to_lowercase(),
            activity.id,
            activity.name,
            activity.course,
            activity.section
        ),
        "",
    )?;
    t.emit(SiteEvent::ActivityCreated {
        course: activity.course,
        activity: activity.id,
    })?;
    Ok(activity)
}

/// Applies `draft` to `activity`, audited and evented; `false` when
/// nothing changed (then nothing is written).
pub(crate) fn update_activity_in(
    t: &mut SiteTables<'_>,
    actor: Actor,
    activity: &mut Activity,
    draft: &ActivityDraft,
) -> ServiceResult<bool> {
    let draft = checked(t, activity.course, draft)?;
    let before = activity.clone();
    activity.name = draft.name;
    activity.description = draft.description;
    activity.visible = draft.visible;
    activity.group_mode = draft.group_mode;
    activity.grouping = draft.grouping;
    if *activity == before {
        return Ok(false);
    }
    activity.updated_at = t.now;
    t.put_activity(activity)?;
    audit_activity_change(t, actor, &before, activity)?;
    Ok(true)
}

/// The audit entry and event of a changed activity, naming what changed.
pub(crate) fn audit_activity_change(
    t: &mut SiteTables<'_>,
    actor: Actor,
    before: &Activity,
    after: &Activity,
) -> ServiceResult<()> {
    let mut changed = Vec::new();
    if before.name != after.name {
        changed.push(format!("name {:?} → {:?}", before.name, after.name));
    }
    if before.description != after.description {
        changed.push("description".to_owned());
    }
    if before.visible != after.visible {
        changed.push(if after.visible { "shown" } else { "hidden" }.to_owned());
    }
    if before.group_mode != after.group_mode {
        changed.push(format!(
            "group mode {:?} → {:?}",
            before.group_mode, after.group_mode
        ));
    }
    if before.grouping != after.grouping {
        changed.push(format!(
            "grouping {:?} → {:?}",
            before.grouping.map(|g| g.0),
            after.grouping.map(|g| g.0)
        ));
    }
    if before.section != after.section {
        changed.push(format!("section #{} → #{}", before.section, after.section));
    }
    t.audit_log(
        actor,
        "activity.updated",
        format_args!("activity #{} {:?}", after.id, after.name),
        changed.join(", ").as_str(),
    )?;
    t.emit(SiteEvent::ActivityUpdated {
        course: after.course,
        activity: after.id,
    })?;
    Ok(())
}

/// Deletes `activity` and everything of its kind (a forum's discussions,
/// an assignment's submissions and grades), audited and evented.
pub(crate) fn delete_activity_in(
    t: &mut SiteTables<'_>,
    actor: Actor,
    activity: &Activity,
) -> ServiceResult<()> {
    match activity.kind {
        ActivityKind::Page => {}
        ActivityKind::Discussion => {
            crate::services::ops::discussions::delete_discussions_of_in(t, actor, activity)?;
        }
        ActivityKind::Assignment => {
            super::assignments::delete_assignment_of_in(t, actor, activity)?;
        }
    }
    t.delete_activity_row(activity)?;
    t.audit_log(
        actor,
        "activity.deleted",
        format_args!(
            "{} #{} {:?} in course #{}",
            activity.kind.label().to_lowercase(),
            activity.id,
            activity.name,
            activity.course
        ),
        "",
    )?;
    t.emit(SiteEvent::ActivityDeleted {
        course: activity.course,
        activity: activity.id,
    })?;
    Ok(())
}

/// Deletes `section` with its activities, audited and evented.
pub(crate) fn delete_section_in(
    t: &mut SiteTables<'_>,
    actor: Actor,
    section: &CourseSection,
) -> ServiceResult<()> {
    for activity in t.section_activities(section.id)? {
        delete_activity_in(t, actor, &activity)?;
    }
    t.delete_course_section_row(section)?;
    t.audit_log(
        actor,
        "section.deleted",
        format_args!(
            "section #{} {:?} of course #{}",
            section.id, section.name, section.course
        ),
        "",
    )?;
    t.emit(SiteEvent::SectionDeleted {
        course: section.course,
        section: section.id,
    })?;
    Ok(())
}

/// Deletes what `course` teaches: its sections with their activities, and
/// its groupings (course deletion).
pub(crate) fn delete_course_content_in(
    t: &mut SiteTables<'_>,
    actor: Actor,
    course: CourseId,
) -> ServiceResult<()> {
    for section in t.sections_of_course(course)? {
        delete_section_in(t, actor, &section)?;
    }
    for grouping in t.groupings_of_course(course)? {
        t.delete_grouping_row(&grouping)?;
    }
    Ok(())
}

/// Takes a group out of every grouping it is in (group deletion).
pub(crate) fn remove_group_from_groupings_in(
    t: &mut SiteTables<'_>,
    group: &CourseGroup,
) -> ServiceResult<()> {
    for grouping in t.group_grouping_ids(group.id)? {
        t.remove_grouping_group(grouping, group.id)?;
        t.emit(SiteEvent::GroupingUpdated {
            course: group.course,
            grouping,
        })?;
    }
    Ok(())
}
