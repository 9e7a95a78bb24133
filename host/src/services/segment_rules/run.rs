//! A segment rule's calls: its reconcile page by page (or a dry run of
//! it), its answer to an event, and each plan applied in one transaction
//! as the rule's own principal.

use std::collections::HashSet;

use crate::domain::*;
use crate::runtime::contract::{Event, RuleContext};
use crate::runtime::{Plugin, PluginError};
use crate::services::SiteServices;
use crate::services::error::{MethodFailure, ServiceError, ServiceResult};
use crate::services::ops::segments::{add_segment_member_in, remove_segment_member_in};
use crate::storage::site::{SiteTables, prelude::*};

/// Why a rule runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RuleTrigger {
    /// Bring the segment in line, page by page, and apply each page.
    Reconcile,
    /// As a reconcile, applying nothing: who would join and leave.
    DryRun,
    /// An event the rule's plugin asked for.
    Event,
}

impl RuleTrigger {
    fn name(self) -> &'static str {
        match self {
            RuleTrigger::Reconcile => "reconcile",
            RuleTrigger::DryRun => "dry-run",
            RuleTrigger::Event => "event",
        }
    }
}

/// Most pages one reconcile may take: 1,000 users a page covers a
/// million-user site many times over; more means a plugin that never ends.
const MAX_PAGES: u32 = 100_000;

impl SiteServices {
    /// Runs the rule of `segment` as `trigger` says. A real run records
    /// what it did (or its failure) as the rule's last run.
    pub(crate) fn run_rule(
        &self,
        segment: SegmentId,
        trigger: RuleTrigger,
    ) -> ServiceResult<RuleOutcome> {
        let Some(rule) = self.read(|t| Ok(t.segment_rule(segment)?))? else {
            return Err(ServiceError::NotFound(format!(
                "segment #{segment} has no rule"
            )));
        };
        let dry = trigger == RuleTrigger::DryRun;
        debug_assert!(
            trigger != RuleTrigger::Event,
            "events go through rule_event"
        );
        if !rule.enabled && !dry {
            return Err(ServiceError::Conflict(format!(
                "the rule of segment #{segment} is paused"
            )));
        }
        let result = self.reconcile_pages(&rule, dry);
        if !dry {
            let (joined, left, error) = match &result {
                Ok(o) => (o.joined.len() as u64, o.left.len() as u64, None),
                Err(e) => (0, 0, Some(e.to_string())),
            };
            self.record_rule_run(segment, trigger, joined, left, error)?;
        }
        result
    }

    fn reconcile_pages(&self, rule: &SegmentRule, dry: bool) -> ServiceResult<RuleOutcome> {
        let plugin = self.plugin_for_rule(&rule.plugin)?;
        let runtime = self.runtime()?;
        let mut outcome = RuleOutcome::default();
        let mut cursor: Option<String> = None;
        let mut cursors = HashSet::new();
        loop {
            if outcome.pages >= MAX_PAGES {
                return Err(rule_failed(
                    MethodFailure::ReconcileEndless,
                    format!("the rule's reconcile did not end after {MAX_PAGES} pages"),
                ));
            }
            let (queries, settings) = self.rule_call_inputs(rule.segment, &plugin)?;
            let ctx = context(rule, settings);
            let step = match runtime.rule_reconcile(&plugin, queries, &ctx, cursor.as_deref()) {
                Ok(Ok(step)) => step,
                Ok(Err(refusal)) => {
                    return Err(rule_failed(
                        MethodFailure::Refused(refusal.code),
                        format!("the rule's plugin refused: {}", refusal.message),
                    ));
                }
                Err(e) => return Err(plugin_failed(e)),
            };
            outcome.pages += 1;
            if dry {
                self.try_plan(rule.segment, &step.plan, &mut outcome)?;
            } else {
                self.apply_rule_plan(rule, &step.plan, &mut outcome, None)?;
            }
            match step.next {
                None => break,
                Some(next) => {
                    if !cursors.insert(next.clone()) {
                        return Err(rule_failed(
                            MethodFailure::ReconcileEndless,
                            format!("the rule's plugin returned cursor {next:?} twice"),
                        ));
                    }
                    cursor = Some(next);
                }
            }
        }
        if !dry {
            // The pages committed lazily; the run is done once on disk.
            self.flush()?;
        }
        Ok(outcome)
    }

    /// What a plan would do, read from one snapshot: who joins, who
    /// leaves, which actions the host would refuse.
    fn try_plan(
        &self,
        segment: SegmentId,
        plan: &SegmentPlan,
        outcome: &mut RuleOutcome,
    ) -> ServiceResult<()> {
        self.read(|t| {
            // A user named twice in one run counts once, as applying would.
            for a in &plan.actions {
                let user = a.op.user();
                let member = t.is_segment_member(segment, user)?;
                let change = RuleChange {
                    user,
                    reason: a.reason.clone(),
                };
                match a.op {
                    SegmentOp::Add(_) if t.user(user)?.is_none() => outcome
                        .refused
                        .push(format!("add user #{user}: not a user of the site")),
                    SegmentOp::Add(_) if !member => outcome.joined.push(change),
                    SegmentOp::Remove(_) if member => outcome.left.push(change),
                    _ => {}
                }
            }
            Ok(())
        })
    }

    /// Applies one plan of the rule in one transaction, lazily (a crash
    /// loses it together with what caused it: the event is delivered
    /// again, the reconcile runs again). `event` records the run on the
    /// rule in the same transaction. Returns the events it caused.
    fn apply_rule_plan(
        &self,
        rule: &SegmentRule,
        plan: &SegmentPlan,
        outcome: &mut RuleOutcome,
        event: Option<&str>,
    ) -> ServiceResult<Vec<EventEnvelope>> {
        if plan.actions.is_empty() {
            return Ok(Vec::new());
        }
        let result = self.store.write_lazy(|t| {
            let actor = authorize_rule(t, rule)?;
            let mut done = RuleOutcome::default();
            for (i, a) in plan.actions.iter().enumerate() {
                let user = a.op.user();
                let change = RuleChange {
                    user,
                    reason: a.reason.clone(),
                };
                match a.op {
                    SegmentOp::Add(_) => {
                        if t.user(user)?.is_none() {
                            return Err(rule_failed(
                                MethodFailure::PlanRejected,
                                format!(
                                    "the rule's plan was refused at action {}: user #{user} \
                                     is not a user of the site; nothing was applied",
                                    i + 1
                                ),
                            ));
                        }
                        if add_segment_member_in(t, actor, rule.segment, user, &a.reason)? {
                            done.joined.push(change);
                        }
                    }
                    SegmentOp::Remove(_) => {
                        if remove_segment_member_in(t, actor, rule.segment, user, &a.reason)? {
                            done.left.push(change);
                        }
                    }
                }
            }
            if let Some(trigger) = event
                && let Some(mut current) = t.segment_rule(rule.segment)?
            {
                current.last_run = Some(RuleRun {
                    at: t.now,
                    trigger: trigger.to_owned(),
                    joined: done.joined.len() as u64,
                    left: done.left.len() as u64,
                    error: None,
                });
                t.put_segment_rule(&current)?;
            }
            Ok::<_, ServiceError>(done)
        });
        match result {
            Ok((done, events)) => {
                self.bus.publish(events.clone());
                outcome.joined.extend(done.joined);
                outcome.left.extend(done.left);
                Ok(events)
            }
            Err(e) => Err(e),
        }
    }

    /// Delivers `event` to the rule of a segment: the plugin's plan
    /// applied, or its failure recorded as the rule's last run. Returns
    /// the events the plan caused.
    pub(crate) fn rule_event(
        &self,
        rule: &SegmentRule,
        plugin: &Plugin,
        event: &Event,
    ) -> ServiceResult<Vec<EventEnvelope>> {
        let (queries, settings) = self.rule_call_inputs(rule.segment, plugin)?;
        let ctx = context(rule, settings);
        let failure = match self.runtime()?.rule_event(plugin, queries, &ctx, event) {
            Ok(Ok(plan)) => {
                let mut outcome = RuleOutcome::default();
                match self.apply_rule_plan(rule, &plan, &mut outcome, Some("event")) {
                    Ok(events) => return Ok(events),
                    Err(e) => e,
                }
            }
            Ok(Err(refusal)) => rule_failed(
                MethodFailure::Refused(refusal.code),
                format!("the rule's plugin refused: {}", refusal.message),
            ),
            Err(e) => plugin_failed(e),
        };
        if matches!(failure, ServiceError::Storage(_)) {
            return Err(failure);
        }
        self.record_rule_run(
            rule.segment,
            RuleTrigger::Event,
            0,
            0,
            Some(failure.to_string()),
        )?;
        Err(failure)
    }

    /// Applies `plan` as the rule would (tests of the checks).
    #[cfg(test)]
    pub(crate) fn apply_rule_plan_for_test(
        &self,
        rule: &SegmentRule,
        plan: &SegmentPlan,
    ) -> ServiceResult<RuleOutcome> {
        let mut outcome = RuleOutcome::default();
        self.apply_rule_plan(rule, plan, &mut outcome, None)?;
        Ok(outcome)
    }

    fn record_rule_run(
        &self,
        segment: SegmentId,
        trigger: RuleTrigger,
        joined: u64,
        left: u64,
        error: Option<String>,
    ) -> ServiceResult<()> {
        if let Some(e) = &error {
            tracing::warn!(site = %self.site.slug, %segment, "segment rule failed: {e}");
        }
        self.write(|t| {
            if let Some(mut rule) = t.segment_rule(segment)? {
                rule.last_run = Some(RuleRun {
                    at: t.now,
                    trigger: trigger.name().to_owned(),
                    joined,
                    left,
                    error,
                });
                t.put_segment_rule(&rule)?;
            }
            Ok(())
        })
    }
}

/// The rule's principal: it may change its own segment's members while
/// it is attached, enabled and of the same plugin — checked in the
/// transaction that applies its plan.
fn authorize_rule(t: &SiteTables<'_>, rule: &SegmentRule) -> ServiceResult<Actor> {
    let current = t.segment_rule(rule.segment)?;
    let segment = t.segment(rule.segment)?;
    match (current, segment) {
        (Some(c), Some(s))
            if c.enabled
                && c.plugin == rule.plugin
                && s.managed_by.as_deref() == Some(&c.plugin) =>
        {
            Ok(Actor::Rule(rule.segment))
        }
        _ => Err(ServiceError::Conflict(format!(
            "the rule of segment #{} was removed, paused or changed while its plugin ran",
            rule.segment
        ))),
    }
}

fn context(rule: &SegmentRule, settings: String) -> RuleContext {
    RuleContext {
        segment: rule.segment,
        config: rule.config.clone(),
        settings,
        now: Timestamp::now(),
    }
}

fn rule_failed(code: MethodFailure, message: String) -> ServiceError {
    ServiceError::PluginFailed { code, message }
}

fn plugin_failed(e: PluginError) -> ServiceError {
    match e {
        PluginError::Host(m) => ServiceError::Internal(format!("the plugin runtime failed: {m}")),
        e => rule_failed(
            MethodFailure::from(&e),
            format!("the rule's plugin failed: {e}"),
        ),
    }
}
