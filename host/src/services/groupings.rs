//! Groupings (issue 18): named sets of a course's groups that restrict who
//! sees an activity (Moodle's groupings as availability restrictions). A
//! group may be in several groupings; deleting a group takes it out of
//! them (`ops::content::remove_group_from_groupings_in`), and the
//! enrolment methods that fill groups never touch groupings.
//!
//! The course's staff see groupings; editing teachers and site admins
//! change them. Deleting a grouping hides the activities restricted to it
//! and lifts the restriction, so nothing that was meant for a few becomes
//! visible to all by accident.

use serde::Serialize;

use super::SiteServices;
use super::auth::{Principal, authorize_caller};
use super::course_access::CourseAccess;
use super::error::{ServiceError, ServiceResult};
use super::ops::content::{MAX_DESCRIPTION, MAX_NAME, audit_activity_change, load_grouping};
use super::validate;
use crate::domain::*;
use crate::storage::site::{SiteTables, prelude::*};

/// Changes to a grouping; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct GroupingUpdate {
    pub name: Option<String>,
    pub description: Option<String>,
    /// Exactly these groups (of the grouping's course) are in it.
    pub groups: Option<Vec<CourseGroupId>>,
}

/// A grouping with its groups, ordered by name.
#[derive(Clone, Debug, Serialize)]
pub struct GroupingSummary {
    pub grouping: Grouping,
    pub groups: Vec<CourseGroup>,
    /// How many activities of the course it restricts.
    pub activities: usize,
}

/// The groupings page of a course: its groupings and the groups they may
/// hold.
#[derive(Clone, Debug)]
pub struct GroupingChoices {
    pub course: Course,
    pub groupings: Vec<GroupingSummary>,
    /// The course's groups by name.
    pub groups: Vec<CourseGroup>,
}

impl SiteServices {
    /// The groupings page of a course (the course's staff).
    pub fn grouping_choices(
        &self,
        who: &Principal,
        course: CourseId,
    ) -> ServiceResult<GroupingChoices> {
        self.read(|t| {
            let access = CourseAccess::of(&self.site, t, who, course)?;
            access.require_staff()?;
            Ok(GroupingChoices {
                groupings: summaries(t, course)?,
                groups: groups_by_name(t, course)?,
                course: access.course,
            })
        })
    }

    /// A grouping's page: it with its groups, and every group of its
    /// course to choose from (the course's staff).
    pub fn grouping_form(
        &self,
        who: &Principal,
        id: GroupingId,
    ) -> ServiceResult<(GroupingSummary, Vec<CourseGroup>)> {
        self.read(|t| {
            let (grouping, _) = grouping_for(&self.site, t, who, id, false)?;
            let all = groups_by_name(t, grouping.course)?;
            let activities = course_activities(t, grouping.course)?;
            Ok((summary(t, grouping, &activities)?, all))
        })
    }

    /// The course's groupings with their groups (the course's staff).
    pub fn list_groupings(
        &self,
        who: &Principal,
        course: CourseId,
    ) -> ServiceResult<Vec<GroupingSummary>> {
        self.read(|t| {
            let access = CourseAccess::of(&self.site, t, who, course)?;
            access.require_staff()?;
            summaries(t, course)
        })
    }

    /// One grouping with its groups (the course's staff).
    pub fn get_grouping(&self, who: &Principal, id: GroupingId) -> ServiceResult<GroupingSummary> {
        self.read(|t| {
            let (grouping, _) = grouping_for(&self.site, t, who, id, false)?;
            let activities = course_activities(t, grouping.course)?;
            summary(t, grouping, &activities)
        })
    }

    /// Creates a grouping in `course`, with `groups` of that course in it.
    pub fn create_grouping(
        &self,
        who: &Principal,
        course: CourseId,
        name: &str,
        description: &str,
        groups: &[CourseGroupId],
    ) -> ServiceResult<GroupingSummary> {
        self.write(|t| {
            let access = CourseAccess::of(&self.site, t, who, course)?;
            access.require_edit()?;
            let grouping = Grouping {
                id: t.new_grouping_id()?,
                course,
                name: validate::required_text("name", name, MAX_NAME)?,
                description: validate::optional_text("description", description, MAX_DESCRIPTION)?,
                created_at: t.now,
            };
            check_unique_name(t, &grouping)?;
            check_groups(t, course, groups)?;
            t.put_grouping(&grouping)?;
            for &g in groups {
                t.add_grouping_group(grouping.id, g)?;
            }
            t.audit_log(
                access.actor,
                "grouping.created",
                format_args!(
                    "grouping #{} {:?} in course #{course}",
                    grouping.id, grouping.name
                ),
                format_args!("groups {}", ids(groups)),
            )?;
            t.emit(SiteEvent::GroupingCreated {
                course,
                grouping: grouping.id,
            })?;
            // A new grouping restricts no activity yet.
            summary(t, grouping, &[])
        })
    }

    /// Renames a grouping, changes its description, and with `groups`
    /// sets exactly which of the course's groups are in it — one
    /// transaction, one audit entry naming what changed.
    pub fn update_grouping(
        &self,
        who: &Principal,
        id: GroupingId,
        update: &GroupingUpdate,
    ) -> ServiceResult<GroupingSummary> {
        self.write(|t| {
            let (mut grouping, access) = grouping_for(&self.site, t, who, id, true)?;
            let before = grouping.clone();
            if let Some(name) = &update.name {
                grouping.name = validate::required_text("name", name, MAX_NAME)?;
            }
            if let Some(description) = &update.description {
                grouping.description =
                    validate::optional_text("description", description, MAX_DESCRIPTION)?;
            }
            let mut changed = Vec::new();
            if grouping != before {
                check_unique_name(t, &grouping)?;
                t.put_grouping(&grouping)?;
                if before.name != grouping.name {
                    changed.push(format!("name {:?} → {:?}", before.name, grouping.name));
                }
                if before.description != grouping.description {
                    changed.push("description".to_owned());
                }
            }
            if let Some(groups) = &update.groups {
                check_groups(t, grouping.course, groups)?;
                let current = t.grouping_group_ids(id)?;
                let added: Vec<CourseGroupId> = groups
                    .iter()
                    .filter(|g| !current.contains(g))
                    .copied()
                    .collect();
                let removed: Vec<CourseGroupId> = current
                    .iter()
                    .filter(|g| !groups.contains(g))
                    .copied()
                    .collect();
                for &g in &added {
                    t.add_grouping_group(id, g)?;
                }
                for &g in &removed {
                    t.remove_grouping_group(id, g)?;
                }
                if !added.is_empty() {
                    changed.push(format!("added groups {}", ids(&added)));
                }
                if !removed.is_empty() {
                    changed.push(format!("removed groups {}", ids(&removed)));
                }
            }
            if !changed.is_empty() {
                grouping_changed(t, access.actor, &grouping, &changed.join(", "))?;
            }
            let activities = course_activities(t, grouping.course)?;
            summary(t, grouping, &activities)
        })
    }

    /// Deletes a grouping. The activities restricted to it are hidden and
    /// lose the restriction (audited each), so none becomes visible to
    /// every participant; the teacher shows them again when ready.
    pub fn delete_grouping(&self, who: &Principal, id: GroupingId) -> ServiceResult<Grouping> {
        self.write(|t| {
            let (grouping, access) = grouping_for(&self.site, t, who, id, true)?;
            for mut activity in course_activities(t, grouping.course)? {
                if activity.grouping != Some(id) {
                    continue;
                }
                let before = activity.clone();
                activity.grouping = None;
                activity.visible = false;
                activity.updated_at = t.now;
                t.put_activity(&activity)?;
                audit_activity_change(t, access.actor, &before, &activity)?;
            }
            t.delete_grouping_row(&grouping)?;
            t.audit_log(
                access.actor,
                "grouping.deleted",
                format_args!(
                    "grouping #{} {:?} of course #{}",
                    grouping.id, grouping.name, grouping.course
                ),
                "",
            )?;
            t.emit(SiteEvent::GroupingDeleted {
                course: grouping.course,
                grouping: id,
            })?;
            Ok(grouping)
        })
    }
}

/// The grouping `id` and the caller's access to its course: staff only;
/// `edit` asks for an editing teacher or a site admin.
fn grouping_for(
    site: &Site,
    t: &impl SiteRead,
    who: &Principal,
    id: GroupingId,
    edit: bool,
) -> ServiceResult<(Grouping, CourseAccess)> {
    authorize_caller(site, t, who)?;
    let grouping = load_grouping(t, id)?;
    let access = CourseAccess::of(site, t, who, grouping.course)?;
    if edit {
        access.require_edit()?;
    } else {
        access.require_staff()?;
    }
    Ok((grouping, access))
}

fn summary(
    t: &impl SiteRead,
    grouping: Grouping,
    activities: &[Activity],
) -> ServiceResult<GroupingSummary> {
    let mut groups = Vec::new();
    for g in t.grouping_group_ids(grouping.id)? {
        if let Some(group) = t.group(g)? {
            groups.push(group);
        }
    }
    groups.sort_by_key(|g| g.name.to_lowercase());
    Ok(GroupingSummary {
        activities: activities
            .iter()
            .filter(|a| a.grouping == Some(grouping.id))
            .count(),
        grouping,
        groups,
    })
}

/// The course's groupings with their groups, by name.
fn summaries(t: &impl SiteRead, course: CourseId) -> ServiceResult<Vec<GroupingSummary>> {
    let activities = course_activities(t, course)?;
    let mut out = Vec::new();
    for grouping in t.groupings_of_course(course)? {
        out.push(summary(t, grouping, &activities)?);
    }
    out.sort_by(|a, b| {
        a.grouping
            .name
            .to_lowercase()
            .cmp(&b.grouping.name.to_lowercase())
    });
    Ok(out)
}

fn groups_by_name(t: &impl SiteRead, course: CourseId) -> ServiceResult<Vec<CourseGroup>> {
    let mut all = t.course_group_list(course)?;
    all.sort_by_key(|g| g.name.to_lowercase());
    Ok(all)
}

/// Every activity of `course`, section by section.
fn course_activities(t: &impl SiteRead, course: CourseId) -> ServiceResult<Vec<Activity>> {
    let mut out = Vec::new();
    for section in t.course_section_ids(course)? {
        out.extend(t.section_activities(section)?);
    }
    Ok(out)
}

fn check_unique_name(t: &impl SiteRead, grouping: &Grouping) -> ServiceResult<()> {
    let name = grouping.name.to_lowercase();
    for other in t.groupings_of_course(grouping.course)? {
        if other.id != grouping.id && other.name.to_lowercase() == name {
            return Err(ServiceError::duplicate(
                "name",
                format!("the course already has a grouping named {:?}", other.name),
            ));
        }
    }
    Ok(())
}

/// Refuses a group that is not one of `course`'s.
fn check_groups(
    t: &impl SiteRead,
    course: CourseId,
    groups: &[CourseGroupId],
) -> ServiceResult<()> {
    for &g in groups {
        match t.group(g)? {
            Some(group) if group.course == course => {}
            _ => {
                return Err(ServiceError::invalid(
                    "groups",
                    format!("group #{g} is not a group of course #{course}"),
                ));
            }
        }
    }
    Ok(())
}

fn grouping_changed(
    t: &mut SiteTables<'_>,
    actor: Actor,
    grouping: &Grouping,
    what: &str,
) -> ServiceResult<()> {
    t.audit_log(
        actor,
        "grouping.updated",
        format_args!(
            "grouping #{} {:?} of course #{}",
            grouping.id, grouping.name, grouping.course
        ),
        what,
    )?;
    t.emit(SiteEvent::GroupingUpdated {
        course: grouping.course,
        grouping: grouping.id,
    })?;
    Ok(())
}

fn ids(groups: &[CourseGroupId]) -> String {
    groups
        .iter()
        .map(|g| format!("#{g}"))
        .collect::<Vec<_>>()
        .join(", ")
}
