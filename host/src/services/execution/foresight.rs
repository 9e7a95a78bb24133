//! What deleting a segment would do to each enrolment method, found out by
//! asking its plugin: a dry run of its answer to `segment-deleted` (and of
//! the reconcile that answer asks for), with the plugin's queries answering
//! as if the segment were already gone, each plan checked and counted as a
//! plan is, nothing written and no failure recorded.
//!
//! The host knows no plugin by name here: what an admin is told before
//! deleting a segment is made from the plans, not from prose about bundled
//! plugins. Never applies anything.

use std::collections::HashSet;
use std::sync::Arc;

use super::apply::{ApplyMode, ApplyOptions, Durability};
use super::pager::{PageSink, PageSource, run_pages};
use crate::domain::*;
use crate::services::SiteServices;
use crate::services::contract::{Answer, Ask, HostEvent, Refusal};
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::queries::{SiteView, UsersSeen};
use crate::storage::site::prelude::*;

/// What an event, and the reconcile it asks for, would do to a method.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Foreseen {
    /// Not told: the method is disabled, or its plugin does not ask for
    /// the event.
    NotTold { disabled: bool },
    /// Its plans, counted.
    Plans(ForeseenCounts),
    /// The method would be deleted, with its enrolments (that many).
    Deleted { enrolments: u64 },
    /// Its plugin refuses, in its own words.
    Refused(String),
    /// Its plugin failed, or its plan would be rejected.
    Failed(String),
}

/// Actions of a method's plans, by kind.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ForeseenCounts {
    pub disables: bool,
    pub enrols: u64,
    pub unenrols: u64,
    pub suspends: u64,
    pub roles_removed: u64,
    pub roles_set: u64,
    pub memberships_added: u64,
    pub memberships_removed: u64,
    pub groups_created: u64,
}

/// Plans being counted.
#[derive(Default)]
struct Tally {
    counts: ForeseenCounts,
    /// Keys of the groups counted, so a group created on two pages counts
    /// once.
    group_keys: HashSet<String>,
    deletes: bool,
}

impl Tally {
    fn add(&mut self, plan: &Plan) {
        let c = &mut self.counts;
        for action in &plan.actions {
            match &action.op {
                PlanOp::Enrol { .. } => c.enrols += 1,
                PlanOp::Suspend { .. } => c.suspends += 1,
                PlanOp::Unenrol { .. } => c.unenrols += 1,
                PlanOp::SetRole { role: None, .. } => c.roles_removed += 1,
                PlanOp::SetRole { role: Some(_), .. } => c.roles_set += 1,
                PlanOp::AddToGroup { .. } => c.memberships_added += 1,
                PlanOp::RemoveFromGroup { .. } => c.memberships_removed += 1,
                PlanOp::CreateGroup { key, .. } => {
                    if self.group_keys.insert(key.clone()) {
                        c.groups_created += 1;
                    }
                }
                PlanOp::DisableMethod => c.disables = true,
                PlanOp::DeleteMethod => self.deletes = true,
                PlanOp::Reconcile => {}
            }
        }
    }
}

/// `n thing` or `n things`.
fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl std::fmt::Display for Foreseen {
    /// In words for the admin about to delete the segment.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Foreseen::NotTold { disabled: true } => {
                f.write_str("No change: it is disabled, so it is not told.")
            }
            Foreseen::NotTold { disabled: false } => {
                f.write_str("No change: its plugin does not ask to be told.")
            }
            Foreseen::Deleted { enrolments } => write!(
                f,
                "Deletes this enrolment method and its {}, with the group memberships it added.",
                count(*enrolments, "enrolment", "enrolments")
            ),
            Foreseen::Refused(message) => write!(f, "Its plugin refuses: {message}"),
            Foreseen::Failed(message) => write!(f, "Its plugin fails: {message}"),
            Foreseen::Plans(c) => {
                let mut parts = Vec::new();
                if c.disables {
                    parts.push("disables this enrolment method".to_owned());
                }
                let counted = [
                    (c.enrols, "enrols", "user", "users"),
                    (c.unenrols, "unenrols", "user", "users"),
                    (c.suspends, "suspends", "enrolment", "enrolments"),
                    (
                        c.roles_removed,
                        "removes the role of",
                        "enrolment",
                        "enrolments",
                    ),
                    (
                        c.roles_set,
                        "changes the role of",
                        "enrolment",
                        "enrolments",
                    ),
                    (
                        c.memberships_added,
                        "adds",
                        "group membership",
                        "group memberships",
                    ),
                    (
                        c.memberships_removed,
                        "removes",
                        "group membership",
                        "group memberships",
                    ),
                    (c.groups_created, "creates", "group", "groups"),
                ];
                for (n, verb, one, many) in counted {
                    if n > 0 {
                        parts.push(format!("{verb} {}", count(n, one, many)));
                    }
                }
                let Some((first, rest)) = parts.split_first() else {
                    return f.write_str("No change.");
                };
                let mut text = first.clone();
                if let Some(c) = text.get(..1) {
                    text.replace_range(..1, &c.to_uppercase());
                }
                for part in rest {
                    text.push_str(", ");
                    text.push_str(part);
                }
                write!(f, "{text}.")
            }
        }
    }
}

impl Foreseen {
    /// Whether the method would be left as it is.
    pub fn changes_nothing(&self) -> bool {
        match self {
            Foreseen::NotTold { .. } => true,
            Foreseen::Plans(c) => *c == ForeseenCounts::default(),
            _ => false,
        }
    }
}

/// A reconcile's pages as the plugin answers them with the site seen as
/// `view`: a dry run's source.
struct Hypothetical(SiteView);

impl PageSource for Hypothetical {
    fn page(
        &mut self,
        site: &SiteServices,
        m: &EnrolmentMethod,
        cursor: Option<&str>,
    ) -> ServiceResult<(Result<Answer, Refusal>, Arc<UsersSeen>)> {
        site.call_plugin_in(m, Ask::Reconcile(cursor), self.0)
    }
}

/// Each page's plan checked (applied and rolled back) and counted.
struct Counted<'a>(&'a mut Tally);

impl PageSink for Counted<'_> {
    fn take(
        &mut self,
        site: &SiteServices,
        m: &EnrolmentMethod,
        plan: Plan,
        seen: &UsersSeen,
        _last: bool,
    ) -> ServiceResult<bool> {
        site.check_plan(m, &plan, seen)?;
        self.0.add(&plan);
        // Nothing was applied: the method is as it was.
        Ok(false)
    }
}

impl SiteServices {
    /// Applies `plan` as `m` and rolls it back: a rejection is
    /// `PluginFailed`, nothing is written or recorded.
    fn check_plan(&self, m: &EnrolmentMethod, plan: &Plan, seen: &UsersSeen) -> ServiceResult<()> {
        let options = ApplyOptions {
            mode: ApplyMode::DryRun,
            durability: Durability::Lazy,
            seen: Some(seen),
            trial: None,
            unsaved: false,
        };
        self.apply_method_plan_with(m, plan, options).map(drop)
    }

    /// What deleting `segment` would do to method `m`: its plugin's answer
    /// to `segment-deleted` and the reconcile that answer asks for, run dry
    /// with the site seen as it will be without the segment (which still
    /// exists). Storage failures are errors; the plugin's refusal or
    /// failure is what is foreseen.
    pub(crate) fn foresee_segment_deletion(
        &self,
        m: &EnrolmentMethod,
        segment: SegmentId,
    ) -> ServiceResult<Foreseen> {
        let outcome = self.foresee(m, segment);
        match outcome {
            Ok(foreseen) => Ok(foreseen),
            Err(ServiceError::Refused { message, .. }) => Ok(Foreseen::Refused(message)),
            Err(ServiceError::PluginFailed { message, .. }) => Ok(Foreseen::Failed(message)),
            // The plugin is not enabled on the site (any more).
            Err(ServiceError::Conflict(message)) => Ok(Foreseen::Failed(message)),
            Err(e) => Err(e),
        }
    }

    fn foresee(&self, m: &EnrolmentMethod, segment: SegmentId) -> ServiceResult<Foreseen> {
        // Segment events reach enabled methods only (see `dispatch`).
        if m.status != EnrolmentMethodStatus::Enabled {
            return Ok(Foreseen::NotTold { disabled: true });
        }
        let (event, _) =
            HostEvent::of(&SiteEvent::SegmentDeleted { segment }).ok_or_else(|| {
                ServiceError::Internal("segment-deleted has no contract event".into())
            })?;
        let plugin = self.plugin(&m.plugin)?;
        if !event.wanted_by(&plugin) {
            return Ok(Foreseen::NotTold { disabled: false });
        }
        let view = SiteView::WithoutSegment(segment);
        let (answer, seen) = self.call_plugin_in(m, Ask::Event(&event), view)?;
        let plan = answer.map_err(ServiceError::from)?.plan;
        self.check_plan(m, &plan, &seen)?;
        let mut tally = Tally::default();
        tally.add(&plan);
        if !tally.deletes && plan.actions.iter().any(|a| a.op == PlanOp::Reconcile) {
            // The reconcile runs after the plan: on the method as the plan
            // leaves it.
            let mut after = m.clone();
            if tally.counts.disables {
                after.status = EnrolmentMethodStatus::Disabled;
            }
            run_pages(
                self,
                &after,
                &mut Hypothetical(view),
                &mut Counted(&mut tally),
                false,
            )?;
        }
        if tally.deletes {
            let enrolments = self.read(|t| {
                Ok(t.method_enrolment_counts(m.course)?
                    .get(&m.id)
                    .copied()
                    .unwrap_or(0))
            })?;
            return Ok(Foreseen::Deleted { enrolments });
        }
        Ok(Foreseen::Plans(tally.counts))
    }
}
