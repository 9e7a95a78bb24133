//! Checking and applying the plans enrolment-method plugins return.
//!
//! A plugin never writes; it returns a [`Plan`]. The host applies it here,
//! inside ONE write transaction, checking each action against the
//! instance's scope as it goes: its course, its own enrolments, its own
//! group memberships, existing active users of the site. The first action
//! out of scope rejects the whole plan and the transaction is dropped, so
//! a rejected plan changes nothing. Actions are checked in order against
//! the state the earlier actions left, which is what lets a plan enrol a
//! user and then put them in a group it has just created.
//!
//! Every change is audited with `Actor::Method(instance)` and the action's
//! own reason; an action that changes nothing (enrolling someone already
//! enrolled so, adding a membership that exists) writes nothing.

use std::collections::HashMap;

use super::enrolments::{enrol_existing_user, unenrol_in};
use super::error::ServiceError;
use super::groups::check_unique;
use super::validate;
use crate::domain::*;
use crate::runtime::wit;
use crate::storage::StorageError;
use crate::storage::site::{SiteTables, prelude::*};

/// What applying a plan did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct PlanTally {
    /// Actions that changed something.
    pub changed: u64,
    /// Actions that found the site already as they wanted it.
    pub unchanged: u64,
}

impl PlanTally {
    fn count(&mut self, changed: bool) {
        if changed {
            self.changed += 1;
        } else {
            self.unchanged += 1;
        }
    }
}

/// The action of a plan the host refused, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// Its position in the plan, from 0.
    pub index: usize,
    pub kind: &'static str,
    pub message: String,
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the plan was rejected at action {} ({}): {}",
            self.index + 1,
            self.kind,
            self.message
        )
    }
}

/// Why a plan was not applied.
#[derive(Debug)]
pub(crate) enum ApplyError {
    Rejected(Rejection),
    Service(ServiceError),
}

impl From<StorageError> for ApplyError {
    fn from(e: StorageError) -> Self {
        ApplyError::Service(e.into())
    }
}

impl From<ServiceError> for ApplyError {
    fn from(e: ServiceError) -> Self {
        ApplyError::Service(e)
    }
}

/// Applies `plan` as instance `m` inside `t`. On `Err` the caller must
/// drop the transaction (`SiteStore::write` does).
/// `active`: users known to be active users of the site as this
/// transaction began (see `queries::ActiveSeen`); their enrolments skip
/// reading the user's record.
pub(crate) fn apply_plan(
    t: &mut SiteTables<'_>,
    m: &EnrolmentMethod,
    plan: &Plan,
    active: std::collections::HashSet<UserId>,
) -> Result<PlanTally, ApplyError> {
    let mut known = Known {
        active,
        ..Known::default()
    };
    let mut tally = PlanTally::default();
    let mut deleted = false;
    for (index, action) in plan.actions.iter().enumerate() {
        if deleted {
            return Err(ApplyError::Rejected(Rejection {
                index,
                kind: action.op.kind(),
                message: "an action follows delete-instance, which must be the plan's last".into(),
            }));
        }
        deleted = action.op == PlanOp::DeleteInstance;
        let reject = |message: String| {
            ApplyError::Rejected(Rejection {
                index,
                kind: action.op.kind(),
                message,
            })
        };
        let changed = apply_action(t, m, action, &mut known).map_err(|e| match e {
            Step::Reject(message) => reject(message),
            // A domain rule of the internal fns (a duplicate name, …) is
            // the plan's fault too; only a storage failure is the host's.
            Step::Service(ServiceError::Storage(e)) => ApplyError::Service(e.into()),
            Step::Service(other) => reject(other.to_string()),
        })?;
        tally.count(changed);
    }
    Ok(tally)
}

/// What a plan has established so far, so that later actions need not ask
/// the file again: the groups it named — those it created (by key, and
/// those the instance created earlier), and those already found to be of
/// the course (a plan of 1,000 memberships resolves its group once) — and
/// the users it enrolled.
#[derive(Default)]
struct Known {
    created: HashMap<String, CourseGroupId>,
    checked: HashMap<CourseGroupId, CourseGroup>,
    /// Keys of this plan's own create-group actions.
    planned: std::collections::HashSet<String>,
    /// Users this plan has enrolled (or found enrolled) in the course: a
    /// sync enrols a member and then adds them to the group, and asking
    /// the file again whether they are enrolled is a B-tree search per
    /// member for an answer the plan already has.
    enrolled: std::collections::HashSet<UserId>,
    /// Users active as the transaction began, from the host's own answers
    /// to the plugin (never from the plan): a plan's actions change no
    /// user's status, so they stay active throughout it.
    active: std::collections::HashSet<UserId>,
}

enum Step {
    Reject(String),
    Service(ServiceError),
}

impl From<StorageError> for Step {
    fn from(e: StorageError) -> Self {
        Step::Service(e.into())
    }
}

impl From<ServiceError> for Step {
    fn from(e: ServiceError) -> Self {
        Step::Service(e)
    }
}

fn reject<T>(message: impl Into<String>) -> Result<T, Step> {
    Err(Step::Reject(message.into()))
}

fn apply_action(
    t: &mut SiteTables<'_>,
    m: &EnrolmentMethod,
    action: &PlanAction,
    known: &mut Known,
) -> Result<bool, Step> {
    let actor = Actor::Method(m.id);
    let reason = action.reason.as_str();
    match &action.op {
        PlanOp::Enrol { user, role } => {
            if !known.active.contains(user) {
                match t.user_status(*user)? {
                    Some(UserStatus::Active) => {}
                    Some(_) => return reject(format!("user #{user} is suspended")),
                    None => return reject(format!("user #{user} is not a user of this site")),
                }
            }
            let changed = enrol_existing_user(t, actor, m, *user, *role, Some(reason))?.1;
            known.enrolled.insert(*user);
            Ok(changed)
        }
        PlanOp::Suspend { user } => {
            let mut e = own_enrolment(t, m, *user)?;
            if e.status == EnrolmentStatus::Suspended {
                return Ok(false);
            }
            e.status = EnrolmentStatus::Suspended;
            save_enrolment(t, actor, m, e, "enrolment.suspended", reason)
        }
        PlanOp::Unenrol { user } => {
            own_enrolment(t, m, *user)?;
            // Another method may still enrol them: ask the file again.
            known.enrolled.remove(user);
            Ok(unenrol_in(t, actor, m.course, *user, m.id, reason)?)
        }
        PlanOp::SetRole { user, role } => {
            let mut e = own_enrolment(t, m, *user)?;
            if e.role == *role {
                return Ok(false);
            }
            e.role = *role;
            save_enrolment(t, actor, m, e, "enrolment.role_set", reason)
        }
        PlanOp::AddToGroup { user, group } => {
            let g = resolve_group(t, m, known, group)?;
            // Any method's enrolment will do, including one made earlier
            // in this plan: the transaction already holds it. Enrolled
            // implies a user of the site; only a refusal says which is
            // missing.
            if !known.enrolled.contains(user) && !t.has_enrolment_in(m.course, *user)? {
                if !t.user_exists(*user)? {
                    return reject(format!("user #{user} is not a user of this site"));
                }
                return reject(format!(
                    "user #{user} is not enrolled in course #{}; a group member must be",
                    m.course
                ));
            }
            let added = t.add_group_member_if_absent(
                g.course,
                &GroupMembership {
                    group: g.id,
                    user: *user,
                    owner: MembershipOwner::Method(m.id),
                    added_at: t.now,
                },
            )?;
            if !added {
                // Whoever owns it keeps it: a manual membership stays manual.
                return Ok(false);
            }
            t.audit_log(
                actor,
                "group.member_added",
                AuditTarget::GroupMember {
                    user: *user,
                    group: g.id,
                },
                reason,
            )?;
            t.emit(SiteEvent::GroupMemberAdded {
                group: g.id,
                user: *user,
            })?;
            Ok(true)
        }
        PlanOp::RemoveFromGroup { user, group } => {
            let g = resolve_group(t, m, known, group)?;
            let Some(membership) = t.group_membership(g.id, *user)? else {
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
            t.delete_group_member(g.course, g.id, *user)?;
            t.audit_log(
                actor,
                "group.member_removed",
                AuditTarget::GroupMember {
                    user: *user,
                    group: g.id,
                },
                reason,
            )?;
            t.emit(SiteEvent::GroupMemberRemoved {
                group: g.id,
                user: *user,
            })?;
            Ok(true)
        }
        PlanOp::CreateGroup {
            key,
            name,
            idnumber,
        } => {
            if key.is_empty() {
                return reject("a created group needs a key");
            }
            if key.len() > validate::MAX_IDNUMBER {
                return reject(format!(
                    "a group key is at most {} bytes",
                    validate::MAX_IDNUMBER
                ));
            }
            if !known.planned.insert(key.clone()) {
                return reject(format!("the plan creates two groups with the key {key:?}"));
            }
            // Asked again (every call of a method may ask): the group the
            // instance made earlier under this key, if it still exists.
            if let Some(existing) = t.method_group(m.id, key)?
                && t.group(existing)?.is_some_and(|g| g.course == m.course)
            {
                known.created.insert(key.clone(), existing);
                return Ok(false);
            }
            let group = CourseGroup {
                id: t.new_group_id()?,
                course: m.course,
                name: validate::required_text("name", name, validate::MAX_NAME)?,
                idnumber: validate::idnumber("idnumber", idnumber.as_deref())?,
                description: String::new(),
                created_at: t.now,
            };
            check_unique(t, &group)?;
            t.put_group(&group)?;
            t.audit_log(
                actor,
                "group.created",
                format!(
                    "group #{} {:?} in course #{}",
                    group.id, group.name, m.course
                ),
                reason.to_owned(),
            )?;
            t.put_method_group(m.id, key, group.id)?;
            known.created.insert(key.clone(), group.id);
            Ok(true)
        }
        PlanOp::DisableInstance => {
            let Some(mut current) = t.method(m.id)? else {
                return Ok(false);
            };
            Ok(super::plugins::disable_method_in(
                t,
                actor,
                &mut current,
                reason,
            )?)
        }
        PlanOp::DeleteInstance => {
            super::enrolments::delete_method_in(t, actor, m)?;
            t.audit_log(
                actor,
                "method.deleted",
                format!("enrolment method #{} {:?}", m.id, m.name),
                reason.to_owned(),
            )?;
            Ok(true)
        }
        // Acted on by the caller once the plan is committed.
        PlanOp::Reconcile => Ok(false),
    }
}

fn enrolment_target(m: &EnrolmentMethod, user: UserId) -> AuditTarget {
    AuditTarget::Enrolment {
        user,
        course: m.course,
        method: m.id,
    }
}

/// The instance's own enrolment of `user`; an instance changes no other.
fn own_enrolment(t: &SiteTables<'_>, m: &EnrolmentMethod, user: UserId) -> Result<Enrolment, Step> {
    match t.enrolment(m.course, user, m.id)? {
        Some(e) => Ok(e),
        None => reject(format!(
            "user #{user} has no enrolment through this instance; it changes only its own"
        )),
    }
}

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
                        "the instance has created no group with the key {key:?}"
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
            "group #{id} belongs to another course; an instance acts on its own course #{} only",
            m.course
        )),
        None => reject(format!("group #{id} does not exist")),
    }
}

// ------------------------------------------------- from the contract's types

fn role_of(role: wit::Role) -> Role {
    match role {
        wit::Role::Learner => Role::Learner,
        wit::Role::NonEditingTeacher => Role::NonEditingTeacher,
        wit::Role::Teacher => Role::Teacher,
    }
}

fn group_of(group: wit::GroupRef) -> PlanGroup {
    match group {
        wit::GroupRef::Existing(id) => PlanGroup::Existing(CourseGroupId(id)),
        wit::GroupRef::Created(key) => PlanGroup::Created(key),
    }
}

impl From<wit::Plan> for Plan {
    fn from(plan: wit::Plan) -> Self {
        let actions = plan
            .actions
            .into_iter()
            .map(|a| PlanAction {
                op: match a.op {
                    wit::Operation::Enrol(e) => PlanOp::Enrol {
                        user: UserId(e.user),
                        role: role_of(e.role),
                    },
                    wit::Operation::Suspend(u) => PlanOp::Suspend { user: UserId(u) },
                    wit::Operation::Unenrol(u) => PlanOp::Unenrol { user: UserId(u) },
                    wit::Operation::SetRole(r) => PlanOp::SetRole {
                        user: UserId(r.user),
                        role: r.role.map(role_of),
                    },
                    wit::Operation::AddToGroup(g) => PlanOp::AddToGroup {
                        user: UserId(g.user),
                        group: group_of(g.group),
                    },
                    wit::Operation::RemoveFromGroup(g) => PlanOp::RemoveFromGroup {
                        user: UserId(g.user),
                        group: group_of(g.group),
                    },
                    wit::Operation::CreateGroup(c) => PlanOp::CreateGroup {
                        key: c.key,
                        name: c.name,
                        idnumber: c.idnumber,
                    },
                    wit::Operation::DisableInstance => PlanOp::DisableInstance,
                    wit::Operation::DeleteInstance => PlanOp::DeleteInstance,
                    wit::Operation::Reconcile => PlanOp::Reconcile,
                },
                reason: a.reason,
            })
            .collect();
        Plan { actions }
    }
}

/// Writes a changed enrolment of the instance with its audit entry and
/// event (suspend and set-role differ only in what they changed).
fn save_enrolment(
    t: &mut SiteTables<'_>,
    actor: Actor,
    m: &EnrolmentMethod,
    mut e: Enrolment,
    action: &str,
    reason: &str,
) -> Result<bool, Step> {
    e.updated_at = t.now;
    t.put_enrolment(&e)?;
    t.audit_log(
        actor,
        action,
        enrolment_target(m, e.user),
        reason.to_owned(),
    )?;
    t.emit(SiteEvent::EnrolmentUpdated {
        course: m.course,
        user: e.user,
        method: m.id,
    })?;
    Ok(true)
}
