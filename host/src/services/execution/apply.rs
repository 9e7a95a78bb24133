//! A plugin's plan applied as its method: checked and written in one
//! transaction (or, for a dry run, checked, counted and rolled back), a
//! rejected plan recorded as the method's last error.

use crate::domain::*;
use crate::services::SiteServices;
use crate::services::error::{MethodFailure, ServiceError, ServiceResult};
use crate::services::plans::{ApplyError, PlanTally, Trial, apply_plan};
use crate::services::queries::UsersSeen;
use crate::storage::StorageError;
use crate::storage::site::{SiteTables, prelude::*};

/// Whether a plan is written or only tried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ApplyMode {
    Apply,
    /// Checked and counted, then rolled back: nothing is written, and a
    /// rejection is not recorded.
    DryRun,
}

impl ApplyMode {
    pub(crate) fn of(dry_run: bool) -> Self {
        if dry_run {
            ApplyMode::DryRun
        } else {
            ApplyMode::Apply
        }
    }
}

/// Whether a plan's commit waits for the disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Durability {
    Durable,
    /// Committed without an fsync (see `SiteStore::write_lazy`): for
    /// derived writes a crash would have redone anyway.
    Lazy,
}

/// How [`SiteServices::apply_method_plan_with`] applies a plan.
#[derive(Clone, Copy)]
pub(crate) struct ApplyOptions<'a> {
    pub(crate) mode: ApplyMode,
    pub(crate) durability: Durability,
    /// The users the plan's plugin call found (users of the site, active
    /// or suspended), trusted without
    /// reading their records again if nothing changed since (see
    /// [`UsersSeen`]).
    pub(crate) seen: Option<&'a UsersSeen>,
    /// A dry run that lists every refused action there instead of
    /// failing at the first (see [`Trial`]).
    pub(crate) trial: Option<&'a std::cell::RefCell<Trial>>,
    /// The method is not in the file yet (a preview of adding it): the
    /// plan is tried as `m` says rather than as the file has it.
    pub(crate) unsaved: bool,
}

/// Why a plan's transaction did not commit.
enum TxError {
    Apply(ApplyError),
    /// A dry run: applied, counted, and rolled back on purpose.
    DryRun(PlanTally),
}

impl From<StorageError> for TxError {
    fn from(e: StorageError) -> Self {
        TxError::Apply(e.into())
    }
}

impl SiteServices {
    /// Checks and applies `plan` as method `m` in one durable
    /// transaction (or, for a dry run, checks and counts and then rolls
    /// back). A rejected plan is recorded as the method's last error
    /// unless it was a dry run. Returns the events the plan caused.
    pub(crate) fn apply_method_plan(
        &self,
        m: &EnrolmentMethod,
        plan: &Plan,
        dry_run: bool,
    ) -> ServiceResult<(PlanTally, Vec<EventEnvelope>)> {
        let options = ApplyOptions {
            mode: ApplyMode::of(dry_run),
            durability: Durability::Durable,
            seen: None,
            trial: None,
            unsaved: false,
        };
        self.apply_method_plan_with(m, plan, options)
    }

    /// As [`apply_method_plan`](Self::apply_method_plan), as `options`
    /// say.
    pub(crate) fn apply_method_plan_with(
        &self,
        m: &EnrolmentMethod,
        plan: &Plan,
        options: ApplyOptions<'_>,
    ) -> ServiceResult<(PlanTally, Vec<EventEnvelope>)> {
        // Nothing to change: no write transaction (and no disk sync), which
        // is what keeps a reconcile of a converged method cheap.
        if plan.actions.is_empty() {
            if let Some(trial) = options.trial {
                trial.borrow_mut().next_page();
            }
            return Ok((PlanTally::default(), Vec::new()));
        }
        let dry_run = options.mode == ApplyMode::DryRun;
        let apply = |t: &mut SiteTables<'_>| {
            // The method may have gone or changed course while its
            // plugin ran; apply as it is now.
            let current = if options.unsaved {
                Some(m.clone())
            } else {
                t.method(m.id)?
            };
            let Some(current) = current else {
                return Err(TxError::Apply(ApplyError::Service(ServiceError::Conflict(
                    format!(
                        "enrolment method #{} was deleted while its plugin ran",
                        m.id
                    ),
                ))));
            };
            let users = match options.seen {
                Some(seen) => seen.still_users(t.changes()?),
                None => Default::default(),
            };
            let mut trial = options.trial.map(|trial| trial.borrow_mut());
            let tally = apply_plan(t, &current, plan, users, trial.as_deref_mut())
                .map_err(TxError::Apply)?;
            if dry_run {
                return Err(TxError::DryRun(tally));
            }
            Ok(tally)
        };
        let result = match options.durability {
            Durability::Durable => self.store.write(apply),
            Durability::Lazy => self.store.write_lazy(apply),
        };
        match result {
            Ok((tally, events)) => {
                self.bus.publish(events.clone());
                Ok((tally, events))
            }
            Err(TxError::DryRun(tally)) => Ok((tally, Vec::new())),
            Err(TxError::Apply(ApplyError::Rejected(r))) => {
                let code = MethodFailure::PlanRejected;
                let message = r.to_string();
                if !dry_run {
                    self.record_method_error(m.id, &code, &message);
                }
                Err(ServiceError::PluginFailed {
                    code,
                    message: format!("enrolment method {:?}: {message}", m.name),
                })
            }
            Err(TxError::Apply(ApplyError::Service(e))) => Err(e),
        }
    }

    /// Makes every commit so far durable (the lazy ones of the dispatcher
    /// and of reconcile pages) with one durable commit of nothing.
    pub fn flush(&self) -> ServiceResult<()> {
        Ok(self.store.sync()?)
    }
}

#[cfg(test)]
mod active_seen_tests {
    use std::sync::Arc;

    use super::*;
    use crate::services::ops::methods::load_method;
    use crate::services::testing::TestSite;

    fn enrol(user: UserId) -> Plan {
        Plan {
            actions: vec![PlanAction {
                op: PlanOp::Enrol {
                    user,
                    role: Role::Learner,
                },
                reason: "test".into(),
            }],
        }
    }

    /// Applies as a reconcile page does, trusting `seen`.
    fn durable_with(seen: &UsersSeen) -> ApplyOptions<'_> {
        ApplyOptions {
            mode: ApplyMode::Apply,
            durability: Durability::Durable,
            seen: Some(seen),
            trial: None,
            unsaved: false,
        }
    }

    /// The users a plugin call's queries found active: `(method, seen)`
    /// after the call asked for `segment`'s members.
    fn queried(fx: &TestSite, segment: SegmentId) -> (EnrolmentMethod, Arc<UsersSeen>) {
        let m = fx.site.read(|t| load_method(t, fx.manual)).unwrap();
        let plugin = fx.site.plugin(&m.plugin).unwrap();
        let (mut queries, _, seen) = fx
            .site
            .method_call_inputs_in(&m, &plugin, crate::services::queries::SiteView::AsIs)
            .unwrap();
        queries.segment_members(segment, None, 100).unwrap();
        (m, seen)
    }

    /// A new user who has just joined the finance segment.
    fn newcomer_in_finance(fx: &TestSite) -> UserId {
        let newcomer = fx.user("newcomer");
        fx.site
            .add_segment_members(&fx.admin, fx.finance, &[newcomer])
            .unwrap();
        newcomer
    }

    #[test]
    fn a_user_the_query_showed_and_who_was_deleted_since_is_refused() {
        let fx = TestSite::new();
        let newcomer = newcomer_in_finance(&fx);
        let (m, seen) = queried(&fx, fx.finance);
        assert!(seen.users.lock().unwrap().contains(&newcomer));
        fx.site.delete_user(&fx.admin, newcomer).unwrap();
        let refused = fx
            .site
            .apply_method_plan_with(&m, &enrol(newcomer), durable_with(&seen));
        assert!(
            matches!(&refused, Err(ServiceError::PluginFailed { message, .. }) if message.contains("not a user")),
            "{refused:?}"
        );
    }

    #[test]
    fn with_nothing_changed_since_the_query_its_users_are_enrolled_suspended_or_not() {
        let fx = TestSite::new();
        let newcomer = newcomer_in_finance(&fx);
        fx.site.suspend_user(&fx.admin, fx.learners[4]).unwrap();
        let (m, seen) = queried(&fx, fx.finance);
        // Suspension changes no enrolment: a suspended member is seen too.
        assert!(seen.users.lock().unwrap().contains(&fx.learners[4]));
        let mut plan = enrol(newcomer);
        plan.actions.extend(enrol(fx.learners[4]).actions);
        let (tally, _) = fx
            .site
            .apply_method_plan_with(&m, &plan, durable_with(&seen))
            .unwrap();
        assert_eq!(tally.changed, 2);
    }
}
