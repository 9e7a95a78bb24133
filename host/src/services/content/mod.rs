//! What a course teaches (issue 18): its sections, and the activities in
//! them as people see them. Editing teachers and site admins add, edit,
//! reorder, hide, show and delete sections and activities of every kind;
//! page activities (Markdown) are created here, discussions and
//! assignments by their own services through the same
//! `ops::content::insert_activity_in`.
//!
//! Who sees what is `CourseAccess`'s to say: a learner's course page and
//! every read here leave out hidden sections and activities and those
//! restricted to a grouping none of their groups is in; asking for one by
//! id answers "not found".

use serde::Serialize;

use super::SiteServices;
use super::announcements::markdown::render_html;
use super::auth::{Principal, authorize_caller};
use super::course_access::{CourseAccess, GroupingCache, activity_for};
use super::error::{ServiceError, ServiceResult};
use super::ops::content::{
    MAX_DESCRIPTION, MAX_NAME, audit_activity_change, delete_activity_in, delete_section_in,
    insert_activity_in, load_section, update_activity_in,
};
use super::validate;
use crate::domain::*;
use crate::storage::site::{SiteTables, prelude::*};

pub use super::ops::content::ActivityDraft;

/// What a person fills in for a section.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SectionDraft {
    pub name: String,
    /// Markdown.
    pub summary: String,
    pub visible: bool,
}

/// Changes to a section; `None` leaves a field as it is.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SectionUpdate {
    pub name: Option<String>,
    pub summary: Option<String>,
    pub visible: Option<bool>,
}

/// Changes to the fields every kind of activity has; `None` leaves a
/// field as it is.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ActivityUpdate {
    pub name: Option<String>,
    pub description: Option<String>,
    pub visible: Option<bool>,
    /// `Some(None)`: the course's mode.
    pub group_mode: Option<Option<GroupMode>>,
    /// `Some(None)`: no restriction.
    pub grouping: Option<Option<GroupingId>>,
}

impl ActivityUpdate {
    /// Every field as `draft` has it (a form sends them all).
    pub fn all(draft: ActivityDraft) -> Self {
        Self {
            name: Some(draft.name),
            description: Some(draft.description),
            visible: Some(draft.visible),
            group_mode: Some(draft.group_mode),
            grouping: Some(draft.grouping),
        }
    }

    fn applied_to(&self, a: &Activity) -> ActivityDraft {
        ActivityDraft {
            name: self.name.clone().unwrap_or_else(|| a.name.clone()),
            description: self
                .description
                .clone()
                .unwrap_or_else(|| a.description.clone()),
            visible: self.visible.unwrap_or(a.visible),
            group_mode: self.group_mode.unwrap_or(a.group_mode),
            grouping: self.grouping.unwrap_or(a.grouping),
        }
    }
}

/// A course's content as one caller sees it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CourseContent {
    pub sections: Vec<SectionContent>,
    /// The caller may add, edit and reorder.
    pub can_edit: bool,
    /// The caller is staff (sees hidden things, marked as such).
    pub is_staff: bool,
}

/// One section with the activities the caller sees, in page order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SectionContent {
    pub section: CourseSection,
    /// The summary rendered (sanitised HTML).
    pub summary_html: String,
    pub activities: Vec<Activity>,
}

/// One activity for its page: the record, its description rendered, and
/// what the caller may do with it.
#[derive(Clone, Debug, Serialize)]
pub struct ActivityPage {
    pub activity: Activity,
    pub section: CourseSection,
    pub course: Course,
    /// The description rendered (sanitised HTML).
    pub html: String,
    /// The group mode that holds for it.
    pub group_mode: GroupMode,
    pub can_edit: bool,
    pub grouping: Option<Grouping>,
}

/// What an activity's form offers: where it goes and the course's
/// groupings to restrict it to; the activity itself when editing.
#[derive(Clone, Debug)]
pub struct ActivityForm {
    pub course: Course,
    pub section: CourseSection,
    pub activity: Option<Activity>,
    pub groupings: Vec<Grouping>,
}

/// The course page's content as `access` sees it: every section and
/// activity they may see, in page order. Shared with the course overview.
pub(crate) fn course_content_in(
    t: &impl SiteRead,
    access: &CourseAccess,
) -> ServiceResult<CourseContent> {
    let mut sections = Vec::new();
    let mut groupings = GroupingCache::default();
    for section in t.sections_of_course(access.course.id)? {
        if !section.visible && !access.is_staff() {
            continue;
        }
        let mut activities = Vec::new();
        for activity in t.section_activities(section.id)? {
            if access.sees_activity_in(t, section.visible, &activity, &mut groupings)? {
                activities.push(activity);
            }
        }
        sections.push(SectionContent {
            summary_html: render_html(&section.summary),
            section,
            activities,
        });
    }
    Ok(CourseContent {
        sections,
        can_edit: access.can_edit(),
        is_staff: access.is_staff(),
    })
}

impl SiteServices {
    /// The course page's content for the caller: every section and
    /// activity they may see, in page order.
    pub fn course_content(
        &self,
        who: &Principal,
        course: CourseId,
    ) -> ServiceResult<CourseContent> {
        self.read(|t| {
            let access = CourseAccess::of(&self.site, t, who, course)?;
            course_content_in(t, &access)
        })
    }

    /// The form of a new activity in `section` (those who edit the course).
    pub fn new_activity_form(
        &self,
        who: &Principal,
        section: CourseSectionId,
    ) -> ServiceResult<ActivityForm> {
        self.read(|t| {
            let (section, access) = section_for(&self.site, t, who, section)?;
            access.require_edit()?;
            Ok(ActivityForm {
                groupings: t.groupings_of_course(section.course)?,
                course: access.course,
                section,
                activity: None,
            })
        })
    }

    /// The form of an existing activity (those who edit the course).
    pub fn edit_activity_form(
        &self,
        who: &Principal,
        id: ActivityId,
    ) -> ServiceResult<ActivityForm> {
        self.read(|t| {
            let (activity, access) = activity_for(&self.site, t, who, id)?;
            access.require_edit()?;
            Ok(ActivityForm {
                groupings: t.groupings_of_course(activity.course)?,
                section: load_section(t, activity.section)?,
                course: access.course,
                activity: Some(activity),
            })
        })
    }

    /// One section (hidden ones for staff only).
    pub fn get_section(
        &self,
        who: &Principal,
        id: CourseSectionId,
    ) -> ServiceResult<CourseSection> {
        self.read(|t| {
            let (section, _) = section_for(&self.site, t, who, id)?;
            Ok(section)
        })
    }

    /// Adds a section at the end of `course`.
    pub fn create_section(
        &self,
        who: &Principal,
        course: CourseId,
        draft: &SectionDraft,
    ) -> ServiceResult<CourseSection> {
        self.write(|t| {
            let access = CourseAccess::of(&self.site, t, who, course)?;
            access.require_edit()?;
            let (name, summary) = checked_section(draft)?;
            let section = CourseSection {
                id: t.new_course_section_id()?,
                course,
                name,
                summary,
                visible: draft.visible,
                created_at: t.now,
            };
            t.put_course_section(&section)?;
            t.audit_log(
                access.actor,
                "section.created",
                format_args!(
                    "section #{} {:?} of course #{course}",
                    section.id, section.name
                ),
                "",
            )?;
            t.emit(SiteEvent::SectionCreated {
                course,
                section: section.id,
            })?;
            Ok(section)
        })
    }

    /// Renames a section, changes its summary, shows or hides it.
    pub fn update_section(
        &self,
        who: &Principal,
        id: CourseSectionId,
        update: &SectionUpdate,
    ) -> ServiceResult<CourseSection> {
        self.write(|t| {
            let (mut section, access) = section_for(&self.site, t, who, id)?;
            access.require_edit()?;
            let draft = SectionDraft {
                name: update.name.clone().unwrap_or_else(|| section.name.clone()),
                summary: update
                    .summary
                    .clone()
                    .unwrap_or_else(|| section.summary.clone()),
                visible: update.visible.unwrap_or(section.visible),
            };
            let (name, summary) = checked_section(&draft)?;
            let before = section.clone();
            section.name = name;
            section.summary = summary;
            section.visible = draft.visible;
            if section != before {
                t.put_course_section(&section)?;
                let mut changed = Vec::new();
                if before.name != section.name {
                    changed.push(format!("name {:?} → {:?}", before.name, section.name));
                }
                if before.summary != section.summary {
                    changed.push("summary".to_owned());
                }
                if before.visible != section.visible {
                    changed.push(if section.visible { "shown" } else { "hidden" }.to_owned());
                }
                section_changed(t, access.actor, &section, &changed.join(", "))?;
            }
            Ok(section)
        })
    }

    /// Moves a section to `position` (0 first; clamped) in its course.
    pub fn move_section(
        &self,
        who: &Principal,
        id: CourseSectionId,
        position: usize,
    ) -> ServiceResult<(CourseSection, Vec<CourseSectionId>)> {
        self.write(|t| {
            let (section, access) = section_for(&self.site, t, who, id)?;
            access.require_edit()?;
            let mut order = t.course_section_ids(section.course)?;
            let from = order.iter().position(|&s| s == id);
            order.retain(|&s| s != id);
            let to = position.min(order.len());
            order.insert(to, id);
            if from != Some(to) {
                t.set_course_section_order(section.course, &order)?;
                section_changed(
                    t,
                    access.actor,
                    &section,
                    &format!("moved to position {}", to + 1),
                )?;
            }
            Ok((section, order))
        })
    }

    /// Deletes a section with its activities (and their discussions,
    /// submissions and grades).
    pub fn delete_section(
        &self,
        who: &Principal,
        id: CourseSectionId,
    ) -> ServiceResult<CourseSection> {
        self.write(|t| {
            let (section, access) = section_for(&self.site, t, who, id)?;
            access.require_edit()?;
            delete_section_in(t, access.actor, &section)?;
            Ok(section)
        })
    }

    /// Adds a page (Markdown) at the end of `section`.
    pub fn create_page(
        &self,
        who: &Principal,
        section: CourseSectionId,
        draft: &ActivityDraft,
    ) -> ServiceResult<Activity> {
        self.write(|t| {
            let (section, access) = section_for(&self.site, t, who, section)?;
            access.require_edit()?;
            insert_activity_in(t, access.actor, &section, ActivityKind::Page, draft)
        })
    }

    /// One activity for its page, if the caller may see it (else not
    /// found).
    pub fn activity_page(&self, who: &Principal, id: ActivityId) -> ServiceResult<ActivityPage> {
        self.read(|t| {
            let (activity, access) = activity_for(&self.site, t, who, id)?;
            let section = load_section(t, activity.section)?;
            let grouping = match activity.grouping {
                Some(g) => t.grouping(g)?,
                None => None,
            };
            Ok(ActivityPage {
                html: render_html(&activity.description),
                group_mode: access.group_mode(Some(&activity)),
                can_edit: access.can_edit(),
                grouping,
                section,
                course: access.course,
                activity,
            })
        })
    }

    /// Changes the fields every kind of activity has.
    pub fn update_activity(
        &self,
        who: &Principal,
        id: ActivityId,
        update: &ActivityUpdate,
    ) -> ServiceResult<Activity> {
        self.write(|t| {
            let (mut activity, access) = activity_for(&self.site, t, who, id)?;
            access.require_edit()?;
            let draft = update.applied_to(&activity);
            update_activity_in(t, access.actor, &mut activity, &draft)?;
            Ok(activity)
        })
    }

    /// Shows or hides an activity.
    pub fn set_activity_visible(
        &self,
        who: &Principal,
        id: ActivityId,
        visible: bool,
    ) -> ServiceResult<Activity> {
        self.write(|t| {
            let (mut activity, access) = activity_for(&self.site, t, who, id)?;
            access.require_edit()?;
            if activity.visible != visible {
                let before = activity.clone();
                activity.visible = visible;
                activity.updated_at = t.now;
                t.put_activity(&activity)?;
                audit_activity_change(t, access.actor, &before, &activity)?;
            }
            Ok(activity)
        })
    }

    /// Moves an activity to `position` (0 first; clamped) of `section`,
    /// which must be a section of the same course.
    pub fn move_activity(
        &self,
        who: &Principal,
        id: ActivityId,
        section: CourseSectionId,
        position: usize,
    ) -> ServiceResult<Activity> {
        self.write(|t| {
            let (mut activity, access) = activity_for(&self.site, t, who, id)?;
            access.require_edit()?;
            let target = match t.course_section(section)? {
                Some(s) if s.course == activity.course => s,
                _ => {
                    return Err(ServiceError::invalid(
                        "section",
                        format!(
                            "section #{section} is not a section of course {:?}",
                            access.course.shortname
                        ),
                    ));
                }
            };
            let before = activity.clone();
            let order = t.section_activity_ids(target.id)?;
            let current = order.iter().position(|&a| a == id);
            if target.id == activity.section && current == Some(position.min(order.len() - 1)) {
                return Ok(activity);
            }
            t.move_activity(&mut activity, target.id, position)?;
            audit_activity_change(t, access.actor, &before, &activity)?;
            Ok(activity)
        })
    }

    /// Deletes an activity with everything of its kind.
    pub fn delete_activity(&self, who: &Principal, id: ActivityId) -> ServiceResult<Activity> {
        self.write(|t| {
            let (activity, access) = activity_for(&self.site, t, who, id)?;
            access.require_edit()?;
            delete_activity_in(t, access.actor, &activity)?;
            Ok(activity)
        })
    }
}

/// The section `id` with the caller's access to its course; not found for
/// a hidden section unless the caller is staff.
fn section_for(
    site: &Site,
    t: &impl SiteRead,
    who: &Principal,
    id: CourseSectionId,
) -> ServiceResult<(CourseSection, CourseAccess)> {
    authorize_caller(site, t, who)?;
    let section = load_section(t, id)?;
    let access = CourseAccess::of(site, t, who, section.course)?;
    if !section.visible && !access.is_staff() {
        return Err(ServiceError::not_found(format!("course section #{id}")));
    }
    Ok((section, access))
}

fn checked_section(draft: &SectionDraft) -> ServiceResult<(String, String)> {
    Ok((
        validate::required_text("name", &draft.name, MAX_NAME)?,
        validate::optional_text("summary", &draft.summary, MAX_DESCRIPTION)?,
    ))
}

fn section_changed(
    t: &mut SiteTables<'_>,
    actor: Actor,
    section: &CourseSection,
    what: &str,
) -> ServiceResult<()> {
    t.audit_log(
        actor,
        "section.updated",
        format_args!(
            "section #{} {:?} of course #{}",
            section.id, section.name, section.course
        ),
        what,
    )?;
    t.emit(SiteEvent::SectionUpdated {
        course: section.course,
        section: section.id,
    })?;
    Ok(())
}
