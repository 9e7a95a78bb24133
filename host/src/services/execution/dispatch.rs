//! Events to methods: the dispatcher reads the site's outbox after its
//! cursor and delivers each event to the methods it concerns whose
//! plugin asked for its kind, applies their plans, and stops a cascade of
//! plans that would never end (see the `execution` module doc).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::apply::{ApplyMode, ApplyOptions, Durability};
use super::reconcile::ends_method;
use crate::domain::*;
use crate::runtime::Plugin;
use crate::services::SiteServices;
use crate::services::contract::{Ask, HostEvent, Scope};
use crate::services::error::{MethodFailure, ServiceError, ServiceResult};
use crate::storage::site::prelude::*;

/// How many plans deep an event may be caused before it is no longer
/// delivered (see the `execution` module doc).
pub const MAX_CASCADE: u32 = 8;

/// Events read from the outbox per batch.
const DISPATCH_BATCH: usize = 256;

/// Dispatch state shared by every handle of the host: one dispatcher at
/// a time per site, and the cascade depth of events plans caused.
pub(crate) struct Executor {
    sites: Mutex<HashMap<SiteId, Arc<Mutex<SiteDispatch>>>>,
    /// The longest a reconcile's pages go without a durable commit, in
    /// milliseconds (`serve --reconcile-durable-ms`).
    durable_every_ms: std::sync::atomic::AtomicU64,
}

impl Default for Executor {
    fn default() -> Self {
        Self {
            sites: Mutex::default(),
            durable_every_ms: std::sync::atomic::AtomicU64::new(
                super::DEFAULT_DURABLE_EVERY.as_millis() as u64,
            ),
        }
    }
}

#[derive(Default)]
struct SiteDispatch {
    /// Outbox seq → how many plans deep it was caused; absent means 0.
    depths: HashMap<u64, u32>,
}

impl Executor {
    /// Marks outbox event `seq` as caused by a chain of `depth` plans, as
    /// the dispatcher does for the events of the plans it applies.
    #[cfg(test)]
    pub(crate) fn set_depth(&self, site: SiteId, seq: u64, depth: u32) {
        let lock = self.site(site);
        lock.lock()
            .unwrap_or_else(|p| p.into_inner())
            .depths
            .insert(seq, depth);
    }

    pub(crate) fn set_durable_every(&self, every: std::time::Duration) {
        let ms = u64::try_from(every.as_millis()).unwrap_or(u64::MAX);
        self.durable_every_ms
            .store(ms, std::sync::atomic::Ordering::Relaxed);
    }

    pub(super) fn durable_every(&self) -> std::time::Duration {
        std::time::Duration::from_millis(
            self.durable_every_ms
                .load(std::sync::atomic::Ordering::Relaxed),
        )
    }

    fn site(&self, id: SiteId) -> Arc<Mutex<SiteDispatch>> {
        let mut sites = self.sites.lock().unwrap_or_else(|p| p.into_inner());
        sites.entry(id).or_default().clone()
    }
}

/// What one [`SiteServices::dispatch_pending`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DispatchReport {
    /// Outbox events read.
    pub events: u64,
    /// Plugin calls made.
    pub calls: u64,
    /// Plans applied that changed something.
    pub applied: u64,
    /// Calls that failed (recorded on their method).
    pub errors: u64,
    /// The dispatcher's cursor afterwards.
    pub cursor: u64,
}

impl SiteServices {
    /// Runs `f` while this site's dispatcher delivers nothing: a method's
    /// first run then owns the method alone, and the `method-added` event
    /// reaches its plugin after it (finding nothing left to do).
    pub(crate) fn with_dispatch_held<T>(&self, f: impl FnOnce() -> T) -> T {
        let lock = self.exec.site(self.site.id);
        let _held = lock.lock().unwrap_or_else(|p| p.into_inner());
        f()
    }

    #[cfg(test)]
    pub(crate) fn executor(&self) -> &Executor {
        &self.exec
    }

    /// Delivers every outbox event after the dispatcher's cursor, and the
    /// events the resulting plans cause, until the outbox is drained. One
    /// dispatcher per site runs at a time; tests call this to wait for the
    /// dispatcher deterministically.
    pub fn dispatch_pending(&self) -> ServiceResult<DispatchReport> {
        let lock = self.exec.site(self.site.id);
        let mut state = lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut report = DispatchReport::default();
        loop {
            let (cursor, events) = self.read(|t| {
                let cursor = t.dispatch_cursor()?;
                Ok((
                    cursor,
                    t.events_after(self.site.id, cursor, DISPATCH_BATCH)?,
                ))
            })?;
            report.cursor = cursor;
            let Some(last) = events.last().map(|e| e.seq) else {
                return Ok(report);
            };
            let mut known = Targets::default();
            for envelope in &events {
                report.events += 1;
                self.dispatch_one(envelope, &mut state, &mut known, &mut report)?;
            }
            // Without waiting for the disk: after a crash the events are
            // delivered again, and methods are idempotent.
            self.store.set_dispatch_cursor_lazy(last)?;
        }
    }

    /// Moves the dispatcher past every pending event without delivering
    /// it: what a crash between a commit and its delivery looks like
    /// (tests), or a benchmark that runs the sync itself.
    #[cfg(any(test, feature = "bench"))]
    pub fn skip_pending_events(&self) -> ServiceResult<()> {
        let last = self.read(|t| {
            let mut cursor = t.dispatch_cursor()?;
            loop {
                let batch = t.events_after(self.site.id, cursor, DISPATCH_BATCH)?;
                match batch.last() {
                    Some(e) => cursor = e.seq,
                    None => return Ok(cursor),
                }
            }
        })?;
        Ok(self.store.set_dispatch_cursor_lazy(last)?)
    }

    fn dispatch_one(
        &self,
        envelope: &EventEnvelope,
        state: &mut SiteDispatch,
        known: &mut Targets,
        report: &mut DispatchReport,
    ) -> ServiceResult<()> {
        let depth = state.depths.remove(&envelope.seq).unwrap_or(0);
        if matches!(
            envelope.event,
            SiteEvent::MethodAdded { .. }
                | SiteEvent::MethodEnabled { .. }
                | SiteEvent::MethodDisabled { .. }
                | SiteEvent::MethodUpdated { .. }
                | SiteEvent::MethodDeleted { .. }
        ) {
            known.methods = None;
        }
        let Some((event, scope)) = HostEvent::of(&envelope.event) else {
            return Ok(());
        };
        if scope == Scope::Site {
            self.dispatch_to_rules(&event, depth, state, known, report)?;
        }
        let lifecycle = matches!(scope, Scope::Method(_));
        let course = match scope {
            Scope::Course(c) => Some(c),
            Scope::Group(g) => match known.group_course(self, g)? {
                Some(c) => Some(c),
                None => return Ok(()),
            },
            Scope::Site | Scope::Method(_) => None,
        };
        let targets: Vec<EnrolmentMethod> = known
            .methods(self)?
            .iter()
            .filter(|m| match scope {
                Scope::Method(id) => m.id == id,
                _ => course.is_none_or(|c| m.course == c),
            })
            .cloned()
            .collect();
        for m in targets {
            if !lifecycle && m.status != EnrolmentMethodStatus::Enabled {
                continue;
            }
            let Some(plugin) = known.plugin(self, &m.plugin) else {
                continue;
            };
            if !event.wanted_by(&plugin) {
                continue;
            }
            if depth >= MAX_CASCADE {
                report.errors += 1;
                self.record_method_error(
                    m.id,
                    &MethodFailure::CascadeLimit,
                    &format!(
                        "event #{} was caused by a chain of {depth} plans; it was not delivered \
                         (do two enrolment methods undo each other?)",
                        envelope.seq
                    ),
                );
                continue;
            }
            report.calls += 1;
            let outcome = self.call_plugin(&m, Ask::Event(&event)).map(|(out, _)| out);
            let plan = match outcome {
                Ok(Ok(answer)) => answer.plan,
                Ok(Err(refusal)) => {
                    report.errors += 1;
                    self.record_refusal(m.id, &refusal);
                    continue;
                }
                Err(e) => {
                    report.errors += 1;
                    fail_unless_host(e)?;
                    continue;
                }
            };
            if plan.actions.is_empty() {
                continue;
            }
            // Derived state: the event that caused it is durable in the
            // outbox, so the plan's commit need not wait for the disk. A
            // crash before the next durable commit loses it together with
            // the cursor moving past its event (commits persist in order),
            // and the event is delivered again. `flush` bounds the window.
            let options = ApplyOptions {
                mode: ApplyMode::Apply,
                durability: Durability::Lazy,
                seen: None,
                trial: None,
                unsaved: false,
            };
            match self.apply_method_plan_with(&m, &plan, options) {
                Ok((tally, caused)) => {
                    if tally.changed > 0 {
                        report.applied += 1;
                    }
                    for e in caused {
                        state.depths.insert(e.seq, depth + 1);
                    }
                }
                Err(e) => {
                    report.errors += 1;
                    fail_unless_host(e)?;
                    continue;
                }
            }
            let mut mark = |events: &[EventEnvelope]| {
                for e in events {
                    state.depths.insert(e.seq, depth + 1);
                }
            };
            if let Err(e) = self.reconcile_if_asked(&m, &plan, &mut mark) {
                report.errors += 1;
                fail_unless_host(e)?;
            }
            if ends_method(&plan) {
                known.methods = None;
            }
        }
        Ok(())
    }
}

impl SiteServices {
    /// Delivers a site-wide event (a user's) to every enabled segment rule
    /// whose plugin asks for its kind; the membership events their plans
    /// cause are one plan deeper.
    fn dispatch_to_rules(
        &self,
        event: &HostEvent,
        depth: u32,
        state: &mut SiteDispatch,
        known: &mut Targets,
        report: &mut DispatchReport,
    ) -> ServiceResult<()> {
        if known.rules.is_none() {
            known.rules = Some(self.read(|t| Ok(t.all_segment_rules()?))?);
        }
        let rules: Vec<SegmentRule> = known
            .rules
            .iter()
            .flatten()
            .filter(|r| r.enabled)
            .cloned()
            .collect();
        for rule in rules {
            let Some(plugin) = known.plugin(self, &rule.plugin) else {
                continue;
            };
            if !event.wanted_by(&plugin) || depth >= MAX_CASCADE {
                continue;
            }
            report.calls += 1;
            match self.rule_event(&rule, &plugin, event.event()) {
                Ok(caused) => {
                    if !caused.is_empty() {
                        report.applied += 1;
                    }
                    for e in caused {
                        state.depths.insert(e.seq, depth + 1);
                    }
                }
                Err(e) => {
                    report.errors += 1;
                    fail_unless_host(e)?;
                }
            }
        }
        Ok(())
    }
}

/// The site's methods, the course of each group asked about and the
/// loaded plugins, read once per batch of events instead of once per event
/// (a 100,000-member change is 100,000 events). Methods are read again
/// after an event or a plan that may have changed them.
#[derive(Default)]
struct Targets {
    methods: Option<Vec<EnrolmentMethod>>,
    /// The site's segment rules, for user events.
    rules: Option<Vec<SegmentRule>>,
    groups: HashMap<CourseGroupId, Option<CourseId>>,
    plugins: HashMap<String, Option<Arc<Plugin>>>,
}

impl Targets {
    fn methods(&mut self, site: &SiteServices) -> ServiceResult<&[EnrolmentMethod]> {
        if self.methods.is_none() {
            self.methods = Some(site.read(|t| Ok(t.all_methods()?))?);
        }
        Ok(self.methods.as_deref().unwrap_or_default())
    }

    fn group_course(
        &mut self,
        site: &SiteServices,
        group: CourseGroupId,
    ) -> ServiceResult<Option<CourseId>> {
        if let Some(c) = self.groups.get(&group) {
            return Ok(*c);
        }
        let course = site.read(|t| Ok(t.group(group)?.map(|g| g.course)))?;
        self.groups.insert(group, course);
        Ok(course)
    }

    fn plugin(&mut self, site: &SiteServices, id: &str) -> Option<Arc<Plugin>> {
        self.plugins
            .entry(id.to_owned())
            .or_insert_with(|| match site.plugin(id) {
                Ok(p) => Some(p),
                Err(e) => {
                    tracing::debug!(plugin = %id, error = %e, "no plugin to deliver an event to");
                    None
                }
            })
            .clone()
    }
}

/// In dispatch, a plugin's failure is its method's (already recorded);
/// only the host's own storage failure stops the dispatcher, so that the
/// cursor does not pass events that were not delivered.
fn fail_unless_host(e: ServiceError) -> ServiceResult<()> {
    match e {
        ServiceError::Storage(_) => Err(e),
        other => {
            tracing::debug!(error = %other, "event delivery failed");
            Ok(())
        }
    }
}
