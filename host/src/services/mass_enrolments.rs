//! One-off mass enrolment (Moodle's "enrol cohort" of the manual method):
//! every active member of a segment, as it is at that moment, enrolled
//! into a course through the course's manual method with a chosen role,
//! and optionally put into a group (an existing one or a new one). Unlike
//! a segment-sync method it does not follow the segment afterwards.
//!
//! It owns the preview (the figures before anything is written), the
//! apply (one transaction that re-checks everything, writes through `ops`
//! as the CSV import does, and records what it did), the undo of exactly
//! what it did, and the lists of what was done. It never enrols through a
//! method other than the manual one, never changes an enrolment a member
//! already has, and never writes on a refused call.
//!
//! Rules decided here:
//! - a member is, in this order: skipped for a suspended account; already
//!   enrolled (an active enrolment in the course by any method, left as it
//!   is); skipped for a suspended manual enrolment (someone suspended them
//!   there on purpose); else enrolled;
//! - with a group, every member enrolled in the course after the action
//!   (the newly enrolled and the already enrolled, active accounts only)
//!   and not yet in the group is added to it, as a manual membership
//!   (Moodle's cohort-to-group adds all the enrolled);
//! - an undo removes the memberships it added that are still the ones it
//!   added, and the enrolments it made that are unchanged since; an
//!   enrolment someone changed since (role, status) is kept, and the
//!   count says so. A group it created is kept (deleting a group is a
//!   decision of its own, with consequences for the methods naming it).

use super::auth::{Need, authorize, authorize_role_assignment};
use super::error::{ServiceError, ServiceResult};
use super::ops::courses::{MANUAL_PLUGIN, load_course};
use super::ops::enrolments::{enrol_existing_user, unenrol_in};
use super::ops::groups::{insert_group_in, insert_group_member_in, remove_group_member_in};
use super::{Principal, SiteServices, validate};
use crate::domain::*;
use crate::storage::site::{SiteTables, prelude::*};

/// How far a member page of the segment is read at once.
const MEMBER_PAGE: usize = 4096;

/// The group a mass enrolment puts its members in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MassGroupChoice {
    None,
    /// An existing group of the course.
    Existing(CourseGroupId),
    /// A group created by the action, with this name.
    New(String),
}

/// What a mass enrolment is asked to do (its segment is named apart).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MassEnrolmentRequest {
    pub course: CourseId,
    pub role: Role,
    pub group: MassGroupChoice,
}

/// The group of a preview: one that exists, or one that will be created.
#[derive(Clone, Debug, PartialEq)]
pub enum PreviewGroup {
    None,
    Existing(CourseGroup),
    /// Will be created with this name (checked to be free).
    New(String),
}

/// What applying would do, computed before anything is written.
#[derive(Clone, Debug, PartialEq)]
pub struct MassEnrolmentPreview {
    pub segment: Segment,
    pub course: Course,
    /// The manual method the enrolments would be made through.
    pub method: EnrolmentMethod,
    pub role: Role,
    pub group: PreviewGroup,
    pub figures: MassEnrolmentFigures,
}

/// A mass enrolment with the names its pages show (the course, and the
/// group if it still exists).
#[derive(Clone, Debug, PartialEq)]
pub struct MassEnrolmentDetail {
    pub record: MassEnrolment,
    pub course: Course,
    /// `None` without a group, or when the group was deleted since.
    pub group: Option<CourseGroup>,
}

/// What the form of a segment's mass enrolment offers, and what was done
/// with the segment before.
#[derive(Clone, Debug, PartialEq)]
pub struct MassEnrolmentChoices {
    pub segment: Segment,
    pub members: u64,
    /// Every course (by short name), each with its groups (by name).
    pub courses: Vec<(Course, Vec<CourseGroup>)>,
    /// The segment's earlier mass enrolments, newest first.
    pub earlier: Vec<MassEnrolmentDetail>,
}

/// A mass enrolment checked against the site: who falls where.
struct Plan {
    preview: MassEnrolmentPreview,
    to_enrol: Vec<UserId>,
    to_group: Vec<UserId>,
}

/// The manual method `course` enrols through: its first `manual` method,
/// enabled (as the CSV import's user upload finds it).
fn manual_method(t: &impl SiteRead, course: &Course) -> ServiceResult<EnrolmentMethod> {
    let found = t
        .course_methods_list(course.id)?
        .into_iter()
        .find(|m| m.plugin == MANUAL_PLUGIN);
    match found {
        Some(m) if m.status == EnrolmentMethodStatus::Enabled => Ok(m),
        Some(m) => Err(ServiceError::invalid(
            "course",
            format!(
                "the manual enrolment method {:?} of course {} is disabled; enable it first",
                m.name, course.shortname
            ),
        )),
        None => Err(ServiceError::invalid(
            "course",
            format!(
                "course {} has no manual enrolment method to enrol through; add one first",
                course.shortname
            ),
        )),
    }
}

/// The group `choice` names, checked against `course`.
fn check_group(
    t: &impl SiteRead,
    course: &Course,
    choice: &MassGroupChoice,
) -> ServiceResult<PreviewGroup> {
    match choice {
        MassGroupChoice::None => Ok(PreviewGroup::None),
        MassGroupChoice::Existing(id) => {
            let group = t.group(*id)?.ok_or_else(|| {
                ServiceError::invalid("group", format!("there is no group #{id}"))
            })?;
            if group.course != course.id {
                return Err(ServiceError::invalid(
                    "group",
                    format!(
                        "group {:?} belongs to another course, not to {}",
                        group.name, course.shortname
                    ),
                ));
            }
            Ok(PreviewGroup::Existing(group))
        }
        MassGroupChoice::New(name) => {
            let name = validate::required_text("new_group", name, validate::MAX_NAME)?;
            if t.group_id_by_name(course.id, &name)?.is_some() {
                return Err(ServiceError::duplicate(
                    "new_group",
                    format!(
                        "course {} already has a group named {name:?}; choose it as an existing group or give another name",
                        course.shortname
                    ),
                ));
            }
            Ok(PreviewGroup::New(name))
        }
    }
}

/// Checks a mass enrolment of `segment` against the site as `t` sees it
/// and sorts its members (see the module's rules). Shared by the preview
/// and, inside its transaction, the apply: both see the same rules.
fn plan(
    site: &Site,
    t: &impl SiteRead,
    who: &Principal,
    segment: SegmentId,
    request: &MassEnrolmentRequest,
) -> ServiceResult<Plan> {
    let segment = t
        .segment(segment)?
        .ok_or_else(|| ServiceError::not_found(format!("segment #{segment}")))?;
    let course = match t.course(request.course)? {
        Some(c) => c,
        None => {
            return Err(ServiceError::invalid(
                "course",
                format!("there is no course #{}", request.course),
            ));
        }
    };
    authorize_role_assignment(site, t, who, request.role)?;
    let method = manual_method(t, &course)?;
    let group = check_group(t, &course, &request.group)?;
    let grouping = match &group {
        PreviewGroup::None => None,
        PreviewGroup::Existing(g) => Some(Some(g.id)),
        PreviewGroup::New(_) => Some(None),
    };
    let mut figures = MassEnrolmentFigures::default();
    let (mut to_enrol, mut to_group) = (Vec::new(), Vec::new());
    let mut after = None;
    loop {
        let members = t.segment_member_ids(segment.id, after, MEMBER_PAGE)?;
        let Some(&last) = members.last() else { break };
        after = Some(last);
        for user in members {
            figures.members += 1;
            if t.user_status(user)? != Some(UserStatus::Active) {
                figures.suspended_accounts += 1;
                continue;
            }
            let enrolments = t.user_course_enrolments(course.id, user)?;
            if enrolments
                .iter()
                .any(|e| e.status == EnrolmentStatus::Active)
            {
                figures.already_enrolled += 1;
            } else if enrolments.iter().any(|e| e.method == method.id) {
                figures.suspended_enrolments += 1;
                continue;
            } else {
                figures.to_enrol += 1;
                to_enrol.push(user);
            }
            match grouping {
                None => {}
                Some(Some(g)) if t.group_membership(g, user)?.is_some() => {}
                Some(_) => to_group.push(user),
            }
        }
    }
    figures.grouped = to_group.len() as u64;
    Ok(Plan {
        preview: MassEnrolmentPreview {
            segment,
            course,
            method,
            role: request.role,
            group,
            figures,
        },
        to_enrol,
        to_group,
    })
}

/// The group a plan puts members in, created now if it is a new one.
fn group_for(
    t: &mut SiteTables<'_>,
    actor: Actor,
    preview: &MassEnrolmentPreview,
    reason: &str,
) -> ServiceResult<Option<CourseGroup>> {
    match &preview.group {
        PreviewGroup::None => Ok(None),
        PreviewGroup::Existing(g) => Ok(Some(g.clone())),
        PreviewGroup::New(name) => {
            let group = CourseGroup {
                id: t.new_group_id()?,
                course: preview.course.id,
                name: name.clone(),
                idnumber: None,
                description: String::new(),
                created_at: t.now,
            };
            insert_group_in(t, actor, &group, reason)?;
            Ok(Some(group))
        }
    }
}

fn load_mass_enrolment(t: &impl SiteRead, id: MassEnrolmentId) -> ServiceResult<MassEnrolment> {
    t.mass_enrolment(id)?
        .ok_or_else(|| ServiceError::not_found(format!("mass enrolment #{id}")))
}

/// `records` with their courses and groups.
fn details_of(
    t: &impl SiteRead,
    records: Vec<MassEnrolment>,
) -> ServiceResult<Vec<MassEnrolmentDetail>> {
    records.into_iter().map(|r| detail_of(t, r)).collect()
}

fn detail_of(t: &impl SiteRead, record: MassEnrolment) -> ServiceResult<MassEnrolmentDetail> {
    let course = load_course(t, record.course)?;
    let group = match record.group {
        Some(g) => t.group(g)?,
        None => None,
    };
    Ok(MassEnrolmentDetail {
        record,
        course,
        group,
    })
}

impl SiteServices {
    /// What enrolling `segment`'s members as `request` says would do,
    /// before anything is written. Site admins (and operators) only.
    pub fn preview_mass_enrolment(
        &self,
        who: &Principal,
        segment: SegmentId,
        request: &MassEnrolmentRequest,
    ) -> ServiceResult<MassEnrolmentPreview> {
        self.read(|t| {
            authorize(&self.site, t, who, Need::SiteAdmin)?;
            Ok(plan(&self.site, t, who, segment, request)?.preview)
        })
    }

    /// Enrols `segment`'s active members as `request` says, in one
    /// transaction that checks everything again; audited as
    /// `segment.mass_enrolled` besides each enrolment's and membership's
    /// own entries and events. Refused when it would change nothing.
    pub fn apply_mass_enrolment(
        &self,
        who: &Principal,
        segment: SegmentId,
        request: &MassEnrolmentRequest,
    ) -> ServiceResult<MassEnrolment> {
        self.write(|t| {
            let actor = authorize(&self.site, t, who, Need::SiteAdmin)?;
            let Plan {
                preview,
                to_enrol,
                to_group,
            } = plan(&self.site, t, who, segment, request)?;
            let new_group = matches!(preview.group, PreviewGroup::New(_));
            if to_enrol.is_empty() && to_group.is_empty() && !new_group {
                return Err(ServiceError::Conflict(format!(
                    "nothing to do: no active member of segment {:?} is left to enrol in {}{}",
                    preview.segment.name,
                    preview.course.shortname,
                    if matches!(preview.group, PreviewGroup::None) {
                        ""
                    } else {
                        " or to add to the group"
                    }
                )));
            }
            let id = t.new_mass_enrolment_id()?;
            let reason = format!(
                "mass enrolment #{id} of segment {:?}",
                preview.segment.name
            );
            let group = group_for(t, actor, &preview, &reason)?;
            for &user in &to_enrol {
                enrol_existing_user(
                    t,
                    actor,
                    &preview.method,
                    user,
                    preview.role,
                    Some(&reason),
                )?;
            }
            if let Some(g) = &group {
                for &user in &to_group {
                    insert_group_member_in(
                        t,
                        actor,
                        MembershipOwner::Manual,
                        g,
                        user,
                        reason.as_str(),
                    )?;
                }
            }
            let record = MassEnrolment {
                id,
                segment: preview.segment.id,
                segment_name: preview.segment.name.clone(),
                course: preview.course.id,
                method: preview.method.id,
                role: preview.role,
                group: group.as_ref().map(|g| g.id),
                group_created: new_group,
                by: actor,
                at: t.now,
                figures: preview.figures,
                undone: None,
            };
            t.insert_mass_enrolment(
                &record,
                &MassEnrolmentUsers {
                    enrolled: to_enrol,
                    grouped: to_group,
                },
            )?;
            let f = &record.figures;
            t.audit_log(
                actor,
                "segment.mass_enrolled",
                format_args!(
                    "segment #{} into course #{} (mass enrolment #{id})",
                    record.segment, record.course
                ),
                format_args!(
                    "{} of {} members enrolled as {}; {} already enrolled, {} suspended accounts and {} suspended enrolments skipped{}",
                    f.to_enrol,
                    f.members,
                    record.role.label(),
                    f.already_enrolled,
                    f.suspended_accounts,
                    f.suspended_enrolments,
                    match &group {
                        Some(g) => format!("; {} added to group {:?}", f.grouped, g.name),
                        None => String::new(),
                    }
                ),
            )?;
            Ok(record)
        })
    }

    /// Removes what mass enrolment `id` did, in one transaction: the group
    /// memberships it added and the enrolments it made that are still as
    /// it left them (see the module's rules). Audited as
    /// `segment.mass_enrolment_undone`; a second undo is refused.
    pub fn undo_mass_enrolment(
        &self,
        who: &Principal,
        id: MassEnrolmentId,
    ) -> ServiceResult<MassEnrolment> {
        self.write(|t| {
            let actor = authorize(&self.site, t, who, Need::SiteAdmin)?;
            let mut record = load_mass_enrolment(t, id)?;
            if let Some(undo) = &record.undone {
                return Err(ServiceError::Conflict(format!(
                    "mass enrolment #{id} was already undone on {} by {}",
                    undo.at, undo.by
                )));
            }
            let users = t.mass_enrolment_user_lists(id)?.unwrap_or_default();
            let reason = format!("mass enrolment #{id} undone");
            let mut undo = MassEnrolmentUndo {
                by: actor,
                at: t.now,
                removed: 0,
                kept_changed: 0,
                already_gone: 0,
                ungrouped: 0,
            };
            // Memberships first: removing an enrolment may take the
            // memberships with it, under another reason.
            if let Some(group) = record.group {
                for &user in &users.grouped {
                    let ours = t.group_membership(group, user)?.is_some_and(|m| {
                        m.owner == MembershipOwner::Manual && m.added_at == record.at
                    });
                    if ours {
                        remove_group_member_in(t, actor, record.course, group, user, &*reason)?;
                        undo.ungrouped += 1;
                    }
                }
            }
            for &user in &users.enrolled {
                match t.enrolment(record.course, user, record.method)? {
                    // Gone, or made again since by someone else.
                    None => undo.already_gone += 1,
                    Some(e) if e.created_at != record.at => undo.already_gone += 1,
                    Some(e) if e.updated_at != record.at => undo.kept_changed += 1,
                    Some(_) => {
                        unenrol_in(t, actor, record.course, user, record.method, &reason)?;
                        undo.removed += 1;
                    }
                }
            }
            record.undone = Some(undo);
            t.put_mass_enrolment(&record)?;
            t.audit_log(
                actor,
                "segment.mass_enrolment_undone",
                format_args!(
                    "segment #{} into course #{} (mass enrolment #{id})",
                    record.segment, record.course
                ),
                format_args!(
                    "{} enrolments removed, {} kept as changed since, {} already gone; {} group memberships removed",
                    undo.removed, undo.kept_changed, undo.already_gone, undo.ungrouped
                ),
            )?;
            Ok(record)
        })
    }

    /// One mass enrolment with its course and group.
    pub fn mass_enrolment(
        &self,
        who: &Principal,
        id: MassEnrolmentId,
    ) -> ServiceResult<MassEnrolmentDetail> {
        self.read(|t| {
            authorize(&self.site, t, who, Need::SiteAdmin)?;
            let record = load_mass_enrolment(t, id)?;
            detail_of(t, record)
        })
    }

    /// The users mass enrolment `id` enrolled and grouped.
    pub fn mass_enrolment_users(
        &self,
        who: &Principal,
        id: MassEnrolmentId,
    ) -> ServiceResult<MassEnrolmentUsers> {
        self.read(|t| {
            authorize(&self.site, t, who, Need::SiteAdmin)?;
            load_mass_enrolment(t, id)?;
            Ok(t.mass_enrolment_user_lists(id)?.unwrap_or_default())
        })
    }

    /// What the mass-enrolment form of `segment` offers: the courses and
    /// their groups, and the segment's earlier mass enrolments.
    pub fn mass_enrolment_choices(
        &self,
        who: &Principal,
        segment: SegmentId,
    ) -> ServiceResult<MassEnrolmentChoices> {
        self.read(|t| {
            authorize(&self.site, t, who, Need::SiteAdmin)?;
            let found = t
                .segment(segment)?
                .ok_or_else(|| ServiceError::not_found(format!("segment #{segment}")))?;
            let mut courses = t.all_courses()?;
            courses.sort_by_cached_key(|c| (c.shortname.to_lowercase(), c.id));
            let courses = courses
                .into_iter()
                .map(|c| {
                    let mut groups = t.course_group_list(c.id)?;
                    groups.sort_by_cached_key(|g| (g.name.to_lowercase(), g.id));
                    Ok((c, groups))
                })
                .collect::<ServiceResult<_>>()?;
            let earlier = details_of(t, t.segment_mass_enrolment_list(segment)?)?;
            Ok(MassEnrolmentChoices {
                members: t.segment_member_count(segment)?,
                segment: found,
                courses,
                earlier,
            })
        })
    }

    /// The mass enrolments into `course`, newest first.
    pub fn course_mass_enrolments(
        &self,
        who: &Principal,
        course: CourseId,
    ) -> ServiceResult<(Course, Vec<MassEnrolmentDetail>)> {
        self.read(|t| {
            authorize(&self.site, t, who, Need::SiteAdmin)?;
            let found = load_course(t, course)?;
            let list = details_of(t, t.course_mass_enrolment_list(course)?)?;
            Ok((found, list))
        })
    }

    /// The mass enrolments of `segment`'s members, newest first.
    pub fn segment_mass_enrolments(
        &self,
        who: &Principal,
        segment: SegmentId,
    ) -> ServiceResult<(Segment, Vec<MassEnrolmentDetail>)> {
        self.read(|t| {
            authorize(&self.site, t, who, Need::SiteAdmin)?;
            let found = t
                .segment(segment)?
                .ok_or_else(|| ServiceError::not_found(format!("segment #{segment}")))?;
            let list = details_of(t, t.segment_mass_enrolment_list(segment)?)?;
            Ok((found, list))
        })
    }
}
