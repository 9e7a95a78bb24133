//! Enrolments inside a transaction: enrolling (or re-activating) a user
//! through a method and unenrolling them with the group memberships that
//! go with the enrolment, shared by `enrolments`, the deletion of an
//! method, plans and the CSV import.
//!
//! Never authorises (callers do, with their principal) and never opens a
//! transaction: every write takes the caller's `SiteTables`.

use super::groups::remove_group_member_in;
use super::users::load_user;
use crate::domain::*;
use crate::services::error::ServiceResult;
use crate::storage::site::{SiteTables, prelude::*};

/// Enrols `user` through `m`, or re-activates (and re-roles) the enrolment
/// they have through it. Returns the enrolment and whether it changed.
/// `reason` is audited; `None` says the role ("enrolled as Learner").
pub(crate) fn enrol_in(
    t: &mut SiteTables<'_>,
    actor: Actor,
    m: &EnrolmentMethod,
    user: UserId,
    role: Role,
    reason: Option<&str>,
) -> ServiceResult<(Enrolment, bool)> {
    load_user(t, user)?;
    enrol_existing_user(t, actor, m, user, role, reason)
}

/// [`enrol_in`] for a user the caller has already found: a plan's enrol
/// checks the user's status itself, and reading the record twice per user
/// is measurable in a 100,000-member sync.
pub(crate) fn enrol_existing_user(
    t: &mut SiteTables<'_>,
    actor: Actor,
    m: &EnrolmentMethod,
    user: UserId,
    role: Role,
    reason: Option<&str>,
) -> ServiceResult<(Enrolment, bool)> {
    let method = m.id;
    let fresh = Enrolment {
        course: m.course,
        user,
        method,
        role: Some(role),
        status: EnrolmentStatus::Active,
        created_at: t.now,
        updated_at: t.now,
    };
    // Written at once when new (the common case, one B-tree descent);
    // an existing enrolment is left in place and looked at below.
    let enrolment = match t.insert_enrolment_if_absent(&fresh)? {
        None => {
            audit_enrolment(t, actor, "enrolment.created", m, user, role, reason)?;
            t.emit(SiteEvent::UserEnrolled {
                course: m.course,
                user,
                method,
            })?;
            fresh
        }
        Some(mut e) => {
            if e.status == EnrolmentStatus::Active && e.role == Some(role) {
                return Ok((e, false));
            }
            // An active enrolment whose role changes is a role change, as
            // `set-role` audits it; only a suspended one is re-activated.
            let action = if e.status == EnrolmentStatus::Active {
                "enrolment.role_set"
            } else {
                "enrolment.reactivated"
            };
            e.status = EnrolmentStatus::Active;
            e.role = Some(role);
            e.updated_at = t.now;
            t.put_enrolment(&e)?;
            audit_enrolment(t, actor, action, m, user, role, reason)?;
            t.emit(SiteEvent::EnrolmentUpdated {
                course: m.course,
                user,
                method,
            })?;
            e
        }
    };
    Ok((enrolment, true))
}

/// Audits an enrolment `enrol_existing_user` made, re-activated or gave
/// another role, with the caller's reason or else the role it gives.
/// Printed straight into the entry: a sync audits 100,000 of these.
fn audit_enrolment(
    t: &mut SiteTables<'_>,
    actor: Actor,
    action: &str,
    m: &EnrolmentMethod,
    user: UserId,
    role: Role,
    reason: Option<&str>,
) -> ServiceResult<()> {
    let (course, method) = (m.course, m.id);
    match reason {
        Some(reason) => t.audit_log(
            actor,
            action,
            AuditTarget::Enrolment {
                user,
                course,
                method,
            },
            reason,
        )?,
        None => t.audit_log(
            actor,
            action,
            AuditTarget::Enrolment {
                user,
                course,
                method,
            },
            format_args!(
                "{} {}",
                if action == "enrolment.role_set" {
                    "role set to"
                } else {
                    "enrolled as"
                },
                role.label()
            ),
        )?,
    };
    Ok(())
}

/// Removes one enrolment; when it was the user's last in the course, also
/// their group memberships there (a non-participant is in no group).
pub(crate) fn unenrol_in(
    t: &mut SiteTables<'_>,
    actor: Actor,
    course: CourseId,
    user: UserId,
    method: EnrolmentMethodId,
    reason: &str,
) -> ServiceResult<bool> {
    if !t.delete_enrolment_row(course, user, method)? {
        return Ok(false);
    }
    t.audit_log(
        actor,
        "enrolment.deleted",
        AuditTarget::Enrolment {
            user,
            course,
            method,
        },
        reason.to_owned(),
    )?;
    t.emit(SiteEvent::UserUnenrolled {
        course,
        user,
        method,
    })?;
    if !t.has_enrolment_in(course, user)? {
        for group in t.user_group_ids_in(course, user)? {
            remove_group_member_in(
                t,
                actor,
                course,
                group,
                user,
                "no longer enrolled in the course",
            )?;
        }
    } else {
        // Memberships this method owned go with its enrolment.
        for group in t.user_group_ids_in(course, user)? {
            if let Some(m) = t.group_membership(group, user)?
                && m.owner == MembershipOwner::Method(method)
            {
                remove_group_member_in(t, actor, course, group, user, reason)?;
            }
        }
    }
    Ok(true)
}
