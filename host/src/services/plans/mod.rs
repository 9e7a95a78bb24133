//! Checking and applying the plans enrolment-method plugins return.
//!
//! A plugin never writes; it returns a [`Plan`]. The host applies it here,
//! inside ONE write transaction, checking each action against the
//! method's scope as it goes: its course, its own enrolments, its own
//! group memberships, existing users of the site. The first action
//! out of scope rejects the whole plan and the transaction is dropped, so
//! a rejected plan changes nothing. Actions are checked in order against
//! the state the earlier actions left, which is what lets a plan enrol a
//! user and then put them in a group it has just created.
//!
//! Every change is audited with `Actor::Method(method)` and the action's
//! own reason; an action that changes nothing (enrolling someone already
//! enrolled so, adding a membership that exists) writes nothing.

mod actions;

use std::collections::HashMap;

use super::error::ServiceError;
use crate::domain::*;
use crate::storage::StorageError;
use crate::storage::site::{SiteTables, prelude::*};

/// What applying a plan did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
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

/// An action a dry run found the host would refuse: where it is, what it
/// asked, and why. A real run stops at the first; a dry run lists them
/// all, so an author or admin sees every problem of a plan at once.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RefusedAction {
    /// The reconcile page it came in, from 1 (1 for a single plan).
    pub page: u64,
    /// Its position in that page's plan, from 1.
    pub position: u64,
    pub action: PlanAction,
    pub reason: String,
}

/// "page 1, action 3 (add user #9 to group #4): group #4 belongs to
/// another course; …"
impl std::fmt::Display for RefusedAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "page {}, action {} ({}): {}",
            self.page, self.position, self.action.op, self.reason
        )
    }
}

/// Most refused actions a dry run lists (all are counted).
pub const MAX_LISTED_REFUSALS: usize = 1000;

/// A dry run's checks across the plans of its pages. Each page is tried
/// in its own rolled-back transaction, so what earlier pages would have
/// done is carried here: the groups they created (replayed, uncounted,
/// at the start of each later page, since a later page may put members
/// in them) and the users they enrolled (a later page may group them).
#[derive(Debug, Default)]
pub(crate) struct Trial {
    pub(crate) refused: Vec<RefusedAction>,
    /// Every refused action, listed or not.
    pub(crate) refused_count: u64,
    /// Pages tried so far.
    pub(crate) pages: u64,
    /// Positions (from 0) of the latest page's refused actions.
    pub(crate) latest: Vec<usize>,
    created: Vec<PlanAction>,
    enrolled: std::collections::HashSet<UserId>,
}

impl Trial {
    /// Starts the checks of the next page.
    pub(crate) fn next_page(&mut self) {
        self.pages += 1;
        self.latest.clear();
    }

    fn refuse(&mut self, position: usize, action: &PlanAction, reason: String) {
        self.refused_count += 1;
        self.latest.push(position);
        if self.refused.len() < MAX_LISTED_REFUSALS {
            self.refused.push(RefusedAction {
                page: self.pages,
                position: position as u64 + 1,
                action: action.clone(),
                reason,
            });
        }
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

/// Applies `plan` as method `m` inside `t`. On `Err` the caller must
/// drop the transaction (`SiteStore::write` does).
/// `users`: users known to be users of the site as this transaction
/// began (see `queries::UsersSeen`); their enrolments skip reading the
/// user's record.
/// `trial`: a dry run's checks. With it, a refused action is listed there
/// and the plan goes on with the next one (the caller rolls back anyway);
/// without it, the first refusal rejects the plan.
pub(crate) fn apply_plan(
    t: &mut SiteTables<'_>,
    m: &EnrolmentMethod,
    plan: &Plan,
    users: std::collections::HashSet<UserId>,
    mut trial: Option<&mut Trial>,
) -> Result<PlanTally, ApplyError> {
    let mut known = Known {
        users,
        lost: t
            .method_warning(m.id)
            .map_err(ServiceError::from)?
            .map(|w| match w.kind {
                MethodWarningKind::GroupDeleted { group, key, .. } => (group, key),
            }),
        ..Known::default()
    };
    if let Some(trial) = trial.as_deref_mut() {
        trial.next_page();
        // What the earlier pages would have left: replayed, not counted.
        for action in &trial.created {
            if let Err(step) = actions::apply_action(t, m, action, &mut known) {
                step_error(step)?;
            }
        }
        known.planned.clear();
        known.enrolled.extend(trial.enrolled.iter().copied());
    }
    let mut tally = PlanTally::default();
    let mut deleted = false;
    for (index, action) in plan.actions.iter().enumerate() {
        let outcome = if deleted {
            Err(Step::Reject(
                "an action follows delete-method, which must be the plan's last".into(),
            ))
        } else {
            actions::apply_action(t, m, action, &mut known)
        };
        deleted |= action.op == PlanOp::DeleteMethod;
        let changed = match outcome {
            Ok(changed) => changed,
            Err(step) => {
                let message = step_error(step)?;
                match trial.as_deref_mut() {
                    Some(trial) => {
                        trial.refuse(index, action, message);
                        continue;
                    }
                    None => {
                        return Err(ApplyError::Rejected(Rejection {
                            index,
                            kind: action.op.kind(),
                            message,
                        }));
                    }
                }
            }
        };
        tally.count(changed);
    }
    if let Some(trial) = trial {
        trial.enrolled.extend(known.enrolled.iter().copied());
        for action in &plan.actions {
            if let PlanOp::CreateGroup { key, .. } = &action.op
                && known.created.contains_key(key)
                && !trial.created.iter().any(|a| a.op == action.op)
            {
                trial.created.push(action.clone());
            }
        }
    }
    Ok(tally)
}

/// Sorts an action's failure: `Ok` with the reason when the plan is at
/// fault (a domain rule of the internal fns, a duplicate name, … is the
/// plan's fault too), `Err` when the host is (only a storage failure).
fn step_error(e: Step) -> Result<String, ApplyError> {
    match e {
        Step::Reject(message) => Ok(message),
        Step::Service(ServiceError::Storage(e)) => Err(ApplyError::Service(e.into())),
        Step::Service(other) => Ok(other.to_string()),
    }
}

/// What a plan has established so far, so that later actions need not ask
/// the file again: the groups it named — those it created (by key, and
/// those the method created earlier), and those already found to be of
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
    /// Users of the site as the transaction began, from the host's own
    /// answers to the plugin (never from the plan): a plan's actions
    /// delete no user, so they stay users throughout it.
    users: std::collections::HashSet<UserId>,
    /// The group the method lost (deleted under it) and the key it had
    /// created it under, while its warning is kept: the method stops
    /// grouping into it, whatever its plugin asks.
    lost: Option<(CourseGroupId, Option<String>)>,
}

impl Known {
    /// Whether `group` is the one the method lost: an action into it
    /// changes nothing (the method keeps enrolling, ungrouped).
    fn lost(&self, group: &PlanGroup) -> bool {
        match (&self.lost, group) {
            (Some((lost, _)), PlanGroup::Existing(id)) => lost == id,
            (Some((_, Some(lost))), PlanGroup::Created(key)) => lost == key,
            _ => false,
        }
    }
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
