//! Enrolment methods inside a transaction: looking one up,
//! deleting one with everything it holds, and disabling one, shared by
//! `enrolments`, `courses`, `plugins` and plans (a method may disable or
//! delete itself).
//!
//! Never authorises (callers do, with their principal) and never opens a
//! transaction: every write takes the caller's `SiteTables`.

use super::enrolments::unenrol_in;
use super::groups::remove_group_member_in;
use crate::domain::*;
use crate::services::error::{ServiceError, ServiceResult};
use crate::storage::site::{SiteTables, prelude::*};

pub(crate) fn load_method(
    t: &impl SiteRead,
    id: EnrolmentMethodId,
) -> ServiceResult<EnrolmentMethod> {
    t.method(id)?
        .ok_or_else(|| ServiceError::not_found(format!("enrolment method #{id}")))
}

/// Deletes a method with its enrolments (used by course deletion too).
/// `actor` is who deleted it: the audit log records them, not the method,
/// on every enrolment and membership that goes with it.
pub(crate) fn delete_method_in(
    t: &mut SiteTables<'_>,
    actor: Actor,
    method: &EnrolmentMethod,
) -> ServiceResult<()> {
    let reason = format!("enrolment method {:?} deleted", method.name);
    loop {
        let batch = t.method_enrolment_user_ids(method.course, method.id, None, 4096)?;
        if batch.is_empty() {
            break;
        }
        for user in batch {
            unenrol_in(t, actor, method.course, user, method.id, &reason)?;
        }
    }
    // A method may own memberships of users it did not enrol ("segment
    // members to group" enrols nobody); they go with it too, or they would
    // be left owned by a method that no longer exists and that alone may
    // remove them.
    let owner = MembershipOwner::Method(method.id);
    for group in t.course_group_list(method.course)? {
        let mut after = None;
        loop {
            let page = t.group_members_page(group.id, after, 4096)?;
            let Some(last) = page.last() else {
                break;
            };
            after = Some(last.user);
            for m in page.iter().filter(|m| m.owner == owner) {
                remove_group_member_in(t, actor, method.course, group.id, m.user, &reason)?;
            }
        }
    }
    t.delete_method_row(method)?;
    t.emit(SiteEvent::MethodDeleted {
        course: method.course,
        method: method.id,
    })?;
    Ok(())
}

/// Disables `m` (audited, evented) unless it already is; whether it
/// changed. Its enrolments stay.
pub(crate) fn disable_method_in(
    t: &mut SiteTables<'_>,
    actor: Actor,
    m: &mut EnrolmentMethod,
    reason: &str,
) -> ServiceResult<bool> {
    if m.status == EnrolmentMethodStatus::Disabled {
        return Ok(false);
    }
    m.status = EnrolmentMethodStatus::Disabled;
    t.put_method(m)?;
    t.audit_log(
        actor,
        "method.disabled",
        format!("enrolment method #{}", m.id),
        reason.to_owned(),
    )?;
    t.emit(SiteEvent::MethodDisabled {
        course: m.course,
        method: m.id,
    })?;
    Ok(true)
}
