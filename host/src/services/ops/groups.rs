//! Course groups inside a transaction: looking one up, its unique name and
//! idnumber, deleting it, and writing or removing one membership with its
//! audit entry and event, shared by `groups`, `courses`, the enrolment
//! writes, plans and the CSV import.
//!
//! Never authorises (callers do, with their principal) and never opens a
//! transaction: every write takes the caller's `SiteTables`.

use super::users::require_user;
use crate::domain::*;
use crate::services::error::{ServiceError, ServiceResult};
use crate::storage::site::{AuditText, SiteTables, prelude::*};

pub(crate) fn load_group(t: &impl SiteRead, id: CourseGroupId) -> ServiceResult<CourseGroup> {
    t.group(id)?
        .ok_or_else(|| ServiceError::not_found(format!("course group #{id}")))
}

/// Refuses a name or idnumber another group of the course has.
pub(crate) fn check_unique(t: &SiteTables<'_>, g: &CourseGroup) -> ServiceResult<()> {
    if let Some(other) = t.group_id_by_name(g.course, &g.name)?
        && other != g.id
    {
        return Err(ServiceError::duplicate(
            "name",
            format!("the course already has a group named {:?}", g.name),
        ));
    }
    if let Some(idn) = &g.idnumber
        && let Some(other) = t.group_id_by_idnumber(g.course, idn)?
        && other != g.id
    {
        return Err(ServiceError::duplicate(
            "idnumber",
            format!("group #{other} of this course already has the idnumber {idn:?}"),
        ));
    }
    Ok(())
}

/// Writes a new group (refused when its name or idnumber is taken in the
/// course), audited.
pub(crate) fn insert_group_in(
    t: &mut SiteTables<'_>,
    actor: Actor,
    group: &CourseGroup,
    reason: &str,
) -> ServiceResult<()> {
    check_unique(t, group)?;
    t.put_group(group)?;
    t.audit_log(
        actor,
        "group.created",
        format_args!(
            "group #{} {:?} in course #{}",
            group.id, group.name, group.course
        ),
        reason,
    )?;
    Ok(())
}

/// Deletes a group with its memberships (used by course deletion too).
pub(crate) fn delete_group_in(t: &mut SiteTables<'_>, group: &CourseGroup) -> ServiceResult<()> {
    loop {
        let batch = t.group_members_page(group.id, None, 4096)?;
        if batch.is_empty() {
            break;
        }
        for m in batch {
            t.delete_group_member(group.course, group.id, m.user)?;
        }
    }
    super::content::remove_group_from_groupings_in(t, group)?;
    t.delete_group_row(group)?;
    t.emit(SiteEvent::GroupDeleted {
        course: group.course,
        group: group.id,
    })?;
    Ok(())
}

/// Adds `user` to `group`, audited and evented, owned by `owner`; `false`
/// when they already were a member (the membership keeps its owner).
/// Refused unless the user exists and is enrolled in the group's course.
/// Shared by `SiteServices::add_group_members` and the CSV import.
pub(crate) fn add_group_member_in(
    t: &mut SiteTables<'_>,
    actor: Actor,
    owner: MembershipOwner,
    group: &CourseGroup,
    user: UserId,
    reason: &str,
) -> ServiceResult<bool> {
    require_user(t, user)?;
    if t.user_course_enrolments(group.course, user)?.is_empty() {
        return Err(ServiceError::NotEnrolled {
            user,
            course: group.course,
        });
    }
    insert_group_member_in(t, actor, owner, group, user, reason)
}

/// Writes `user`'s membership of `group`, owned by `owner`, audited and
/// evented; `false` when they already were a member (whoever owns that
/// membership keeps it: a manual one stays manual). Checks nothing else:
/// the caller has found the user enrolled in the group's course.
pub(crate) fn insert_group_member_in(
    t: &mut SiteTables<'_>,
    actor: Actor,
    owner: MembershipOwner,
    group: &CourseGroup,
    user: UserId,
    reason: impl AuditText,
) -> ServiceResult<bool> {
    let added = t.add_group_member_if_absent(
        group.course,
        &GroupMembership {
            group: group.id,
            user,
            owner,
            added_at: t.now,
        },
    )?;
    if !added {
        return Ok(false);
    }
    t.audit_log(
        actor,
        "group.member_added",
        AuditTarget::GroupMember {
            user,
            group: group.id,
        },
        reason,
    )?;
    t.emit(SiteEvent::GroupMemberAdded {
        group: group.id,
        user,
    })?;
    Ok(true)
}

/// Removes `user` from `group` of `course`, audited and evented. Checks
/// nothing: the caller has found the membership and may remove it.
pub(crate) fn remove_group_member_in(
    t: &mut SiteTables<'_>,
    actor: Actor,
    course: CourseId,
    group: CourseGroupId,
    user: UserId,
    reason: impl AuditText,
) -> ServiceResult<()> {
    t.delete_group_member(course, group, user)?;
    t.audit_log(
        actor,
        "group.member_removed",
        AuditTarget::GroupMember { user, group },
        reason,
    )?;
    t.emit(SiteEvent::GroupMemberRemoved { group, user })?;
    Ok(())
}
