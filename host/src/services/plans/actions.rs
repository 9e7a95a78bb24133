//! One function per kind of plan action: what it checks against the
//! method's scope, and the `ops` write it makes as `Actor::Method`.
//! [`apply_action`] only picks the function.

use super::{Known, Step, reject};
use crate::domain::*;
use crate::services::ops::enrolments::{enrol_existing_user, unenrol_in};
use crate::services::ops::groups::{
    insert_group_in, insert_group_member_in, remove_group_member_in,
};
use crate::services::ops::methods::{delete_method_in, disable_method_in};
use crate::services::validate;
use crate::storage::site::{SiteTables, prelude::*};

/// Applies one action of method `m`'s plan; whether it changed anything.
pub(super) fn apply_action(
    t: &mut SiteTables<'_>,
    m: &EnrolmentMethod,
    action: &PlanAction,
    known: &mut Known,
) -> Result<bool, Step> {
    let reason = action.reason.as_str();
    match &action.op {
        PlanOp::Enrol { user, role } => enrol(t, m, *user, *role, reason, known),
        PlanOp::Suspend { user } => suspend(t, m, *user, reason),
        PlanOp::Unenrol { user } => unenrol(t, m, *user, reason, known),
        PlanOp::SetRole { user, role } => set_role(t, m, *user, *role, reason),
        PlanOp::AddToGroup { user, group } => add_to_group(t, m, *user, group, reason, known),
        PlanOp::RemoveFromGroup { user, group } => {
            remove_from_group(t, m, *user, group, reason, known)
        }
        PlanOp::CreateGroup {
            key,
            name,
            idnumber,
        } => create_group(t, m, key, name, idnumber.as_deref(), reason, known),
        PlanOp::DisableMethod => disable_method(t, m, reason),
        PlanOp::DeleteMethod => delete_method(t, m, reason),
        // Acted on by the caller once the plan is committed.
        PlanOp::Reconcile => Ok(false),
    }
}

fn enrol(
    t: &mut SiteTables<'_>,
    m: &EnrolmentMethod,
    user: UserId,
    role: Role,
    reason: &str,
    known: &mut Known,
) -> Result<bool, Step> {
    // A suspended account is enrolled like any other (Moodle's rule:
    // suspension stops sign-in and changes no enrolment), so both orders
    // of suspending and syncing end the same.
    if !known.users.contains(&user) && !t.user_exists(user)? {
        return reject(format!("user #{user} is not a user of this site"));
    }
    let changed = enrol_existing_user(t, Actor::Method(m.id), m, user, role, Some(reason))?.1;
    known.enrolled.insert(user);
    Ok(changed)
}

fn suspend(
    t: &mut SiteTables<'_>,
    m: &EnrolmentMethod,
    user: UserId,
    reason: &str,
) -> Result<bool, Step> {
    let mut e = own_enrolment(t, m, user)?;
    if e.status == EnrolmentStatus::Suspended {
        return Ok(false);
    }
    e.status = EnrolmentStatus::Suspended;
    save_enrolment(t, m, e, "enrolment.suspended", reason)
}

fn unenrol(
    t: &mut SiteTables<'_>,
    m: &EnrolmentMethod,
    user: UserId,
    reason: &str,
    known: &mut Known,
) -> Result<bool, Step> {
    own_enrolment(t, m, user)?;
    // Another method may still enrol them: ask the file again.
    known.enrolled.remove(&user);
    Ok(unenrol_in(
        t,
        Actor::Method(m.id),
        m.course,
        user,
        m.id,
        reason,
    )?)
}

fn set_role(
    t: &mut SiteTables<'_>,
    m: &EnrolmentMethod,
    user: UserId,
    role: Option<Role>,
    reason: &str,
) -> Result<bool, Step> {
    let mut e = own_enrolment(t, m, user)?;
    if e.role == role {
        return Ok(false);
    }
    e.role = role;
    save_enrolment(t, m, e, "enrolment.role_set", reason)
}

fn add_to_group(
    t: &mut SiteTables<'_>,
    m: &EnrolmentMethod,
    user: UserId,
    group: &PlanGroup,
    reason: &str,
    known: &mut Known,
) -> Result<bool, Step> {
    if known.lost(group) {
        return Ok(false);
    }
    let g = resolve_group(t, m, known, group)?;
    // Any method's enrolment will do, including one made earlier in this
    // plan: the transaction already holds it. Enrolled implies a user of
    // the site; only a refusal says which is missing.
    if !known.enrolled.contains(&user) && !t.has_enrolment_in(m.course, user)? {
        if !t.user_exists(user)? {
            return reject(format!("user #{user} is not a user of this site"));
        }
        return reject(format!(
            "user #{user} is not enrolled in course #{}; a group member must be",
            m.course
        ));
    }
    let owner = MembershipOwner::Method(m.id);
    Ok(insert_group_member_in(
        t,
        Actor::Method(m.id),
        owner,
        &g,
        user,
        reason,
    )?)
}

fn remove_from_group(
    t: &mut SiteTables<'_>,
    m: &EnrolmentMethod,
    user: UserId,
    group: &PlanGroup,
    reason: &str,
    known: &mut Known,
) -> Result<bool, Step> {
    // Its memberships went with it.
    if known.lost(group) {
        return Ok(false);
    }
    let g = resolve_group(t, m, known, group)?;
    let Some(membership) = t.group_membership(g.id, user)? else {
        return Ok(false);
    };
    if membership.owner != MembershipOwner::Method(m.id) {
        let by = match membership.owner {
            MembershipOwner::Manual => "by hand".to_owned(),
            MembershipOwner::Method(other) => format!("by enrolment method #{other}"),
        };
        return reject(format!(
            "user #{user} was added to group #{} {by}: a membership it does not own",
            g.id
        ));
    }
    remove_group_member_in(t, Actor::Method(m.id), g.course, g.id, user, reason)?;
    Ok(true)
}

fn create_group(
    t: &mut SiteTables<'_>,
    m: &EnrolmentMethod,
    key: &str,
    name: &str,
    idnumber: Option<&str>,
    reason: &str,
    known: &mut Known,
) -> Result<bool, Step> {
    if key.is_empty() {
        return reject("a created group needs a key");
    }
    if key.len() > validate::MAX_IDNUMBER {
        return reject(format!(
            "a group key is at most {} bytes",
            validate::MAX_IDNUMBER
        ));
    }
    if !known.planned.insert(key.to_owned()) {
        return reject(format!("the plan creates two groups with the key {key:?}"));
    }
    // The group made under this key was deleted: only a person saving the
    // method's config lets it be made again (Moodle makes the "new" group
    // once, when the method is saved).
    if known.lost(&PlanGroup::Created(key.to_owned())) {
        return Ok(false);
    }
    // Asked again (every call of a method may ask): the group the method
    // made earlier under this key, if it still exists.
    if let Some(existing) = t.method_group(m.id, key)?
        && t.group(existing)?.is_some_and(|g| g.course == m.course)
    {
        known.created.insert(key.to_owned(), existing);
        return Ok(false);
    }
    let group = CourseGroup {
        id: t.new_group_id()?,
        course: m.course,
        name: validate::required_text("name", name, validate::MAX_NAME)?,
        idnumber: validate::idnumber("idnumber", idnumber)?,
        description: String::new(),
        created_at: t.now,
    };
    insert_group_in(t, Actor::Method(m.id), &group, reason)?;
    t.put_method_group(m.id, key, group.id)?;
    known.created.insert(key.to_owned(), group.id);
    Ok(true)
}

fn disable_method(t: &mut SiteTables<'_>, m: &EnrolmentMethod, reason: &str) -> Result<bool, Step> {
    let Some(mut current) = t.method(m.id)? else {
        return Ok(false);
    };
    Ok(disable_method_in(
        t,
        Actor::Method(m.id),
        &mut current,
        reason,
    )?)
}

fn delete_method(t: &mut SiteTables<'_>, m: &EnrolmentMethod, reason: &str) -> Result<bool, Step> {
    let actor = Actor::Method(m.id);
    delete_method_in(t, actor, m)?;
    t.audit_log(
        actor,
        "method.deleted",
        format!("enrolment method #{} {:?}", m.id, m.name),
        reason.to_owned(),
    )?;
    Ok(true)
}

/// The method's own enrolment of `user`; a method changes no other.
fn own_enrolment(t: &SiteTables<'_>, m: &EnrolmentMethod, user: UserId) -> Result<Enrolment, Step> {
    match t.enrolment(m.course, user, m.id)? {
        Some(e) => Ok(e),
        None => reject(format!(
            "user #{user} has no enrolment through this enrolment method; it changes only its own"
        )),
    }
}

/// The group an action names, of the method's course only: one that
/// exists, or one the method created (in this plan or earlier) by key.
fn resolve_group(
    t: &SiteTables<'_>,
    m: &EnrolmentMethod,
    known: &mut Known,
    group: &PlanGroup,
) -> Result<CourseGroup, Step> {
    let id = match group {
        PlanGroup::Existing(id) => *id,
        PlanGroup::Created(key) => match known.created.get(key) {
            Some(id) => *id,
            None => match t.method_group(m.id, key)? {
                Some(id) => {
                    known.created.insert(key.clone(), id);
                    id
                }
                None => {
                    return reject(format!(
                        "the enrolment method has created no group with the key {key:?}"
                    ));
                }
            },
        },
    };
    if let Some(g) = known.checked.get(&id) {
        return Ok(g.clone());
    }
    match t.group(id)? {
        Some(g) if g.course == m.course => {
            known.checked.insert(id, g.clone());
            Ok(g)
        }
        Some(_) => reject(format!(
            "group #{id} belongs to another course; an enrolment method acts on its own course #{} only",
            m.course
        )),
        None => reject(format!("group #{id} does not exist")),
    }
}

/// Writes a changed enrolment of the method with its audit entry and
/// event (suspend and set-role differ only in what they changed).
fn save_enrolment(
    t: &mut SiteTables<'_>,
    m: &EnrolmentMethod,
    mut e: Enrolment,
    action: &str,
    reason: &str,
) -> Result<bool, Step> {
    e.updated_at = t.now;
    t.put_enrolment(&e)?;
    t.audit_log(
        Actor::Method(m.id),
        action,
        AuditTarget::Enrolment {
            user: e.user,
            course: m.course,
            method: m.id,
        },
        reason.to_owned(),
    )?;
    t.emit(SiteEvent::EnrolmentUpdated {
        course: m.course,
        user: e.user,
        method: m.id,
    })?;
    Ok(true)
}
