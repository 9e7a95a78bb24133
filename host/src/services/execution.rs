//! Running enrolment-method instances: events, requests, reconcile.
//!
//! Three paths call a plugin, and all end the same way: the plugin returns
//! a plan, `plans::apply_plan` checks and applies it in one transaction as
//! `Actor::Method(instance)`, or rejects it whole.
//!
//! - **Events.** [`SiteServices::dispatch_pending`] reads the site's outbox
//!   after the dispatcher's cursor and delivers each event to the instances
//!   it concerns whose plugin asked for its kind: course events to the
//!   enabled instances of that course, segment and user events to every
//!   enabled instance of the site, an instance's own lifecycle events
//!   (added, enabled, disabled, updated) to that instance whatever its
//!   status. `instance-deleted` is NOT delivered: the host deletes the
//!   instance, its enrolments and its memberships in one transaction, so
//!   when the event is read there is no instance left to call (the
//!   contract's "about to be deleted" would need a call inside that
//!   transaction, which a plugin that may run for its whole deadline must
//!   not hold). [`run_dispatcher`] drives it from the event bus on the
//!   blocking pool, off the HTTP workers.
//! - **Requests** ([`SiteServices::method_request`]): authorised before
//!   the plugin is called; a plugin's refusal becomes
//!   `ServiceError::Refused`.
//! - **Reconcile** ([`SiteServices::reconcile_method`]): page by page, each
//!   page's plan in its own transaction, so an interrupted reconcile keeps
//!   what it did and the next run resumes from the state it left.
//!
//! A plugin that fails (timeout, memory, crash, a plan too large) or whose
//! plan is rejected gets the failure recorded as its instance's last error,
//! with a running count, in a small transaction of its own
//! (`method-runs-v1`); the failure is logged and the host carries on.
//!
//! Plans cause events, which are dispatched too (that is how "segment
//! members to group" reacts to enrolments another instance makes). Plugins
//! must be idempotent so this converges; as a guard against two instances
//! that undo each other forever, an event caused by a chain of
//! [`MAX_CASCADE`] plans is not delivered and the instances it would have
//! reached get a `cascade_limit` error.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use super::auth::{Need, authorize, authorize_caller};
use super::enrolments::load_method;
use super::error::{ServiceError, ServiceResult};
use super::plans::{ApplyError, PlanTally, apply_plan};
use super::queries::{ActiveSeen, wit_role};
use super::{Principal, Services, SiteServices};
use crate::domain::*;
use crate::runtime::wit::{self, EventKind};
use crate::runtime::{Plugin, PluginError, Queries, Runtime};
use crate::storage::StorageError;
use crate::storage::site::prelude::*;

/// How many plans deep an event may be caused before it is no longer
/// delivered (see the module doc).
pub const MAX_CASCADE: u32 = 8;

/// Most pages one reconcile runs; a plugin whose cursor never ends is
/// stopped here.
pub const MAX_RECONCILE_PAGES: u64 = 100_000;

/// Most actions a dry-run reconcile report lists.
pub const MAX_REPORTED_ACTIONS: usize = 1000;

/// A reconcile page waits for the disk when the last one that did is this
/// old. Every page waiting costs a disk sync per 1,000 users (most of a
/// 100,000-member sync on a slow disk); none waiting would let a crash
/// take back everything a long reconcile had shown. A crash loses at most
/// this much work, in whole pages, and the start-up reconcile redoes it.
const DURABLE_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

/// Guards a reconcile's paging against a plugin whose cursor never ends:
/// at most [`MAX_RECONCILE_PAGES`] pages, and no cursor twice.
#[derive(Default)]
struct Cursors {
    pages: u64,
    seen: HashSet<String>,
}

impl Cursors {
    /// Counts the page about to be asked for; why not, past the limit.
    fn page(&mut self) -> Result<(), String> {
        if self.pages >= MAX_RECONCILE_PAGES {
            return Err(format!(
                "reconcile did not finish in {MAX_RECONCILE_PAGES} pages"
            ));
        }
        self.pages += 1;
        Ok(())
    }

    /// The plugin's next cursor, or why it would never finish.
    fn next(&mut self, next: String) -> Result<String, String> {
        if self.seen.insert(next.clone()) {
            Ok(next)
        } else {
            Err(format!(
                "reconcile returned the cursor {next:?} twice; it would never finish"
            ))
        }
    }
}

fn endless(message: String) -> ServiceError {
    ServiceError::PluginFailed {
        code: "reconcile_endless".into(),
        message,
    }
}

/// When a reconcile's pages commit durably (see [`DURABLE_EVERY`]).
struct Pacing {
    last_durable: std::time::Instant,
    /// A page committed without waiting since the last durable one.
    pending: bool,
}

impl Pacing {
    fn new() -> Self {
        Pacing {
            last_durable: std::time::Instant::now(),
            pending: false,
        }
    }

    /// Whether this page's commit waits for the disk.
    fn durable(&mut self, plan: &Plan, dry_run: bool, last: bool) -> bool {
        if dry_run || plan.actions.is_empty() {
            // No commit at all.
            return false;
        }
        if last || self.last_durable.elapsed() >= DURABLE_EVERY {
            self.last_durable = std::time::Instant::now();
            self.pending = false;
            true
        } else {
            self.pending = true;
            false
        }
    }

    /// Makes the pages that did not wait durable (e.g. when the last page
    /// changed nothing).
    fn finish(&self, site: &SiteServices) -> ServiceResult<()> {
        if self.pending { site.flush() } else { Ok(()) }
    }
}

/// Events read from the outbox per batch.
const DISPATCH_BATCH: usize = 256;

/// Dispatch state shared by every handle of the host: one dispatcher at
/// a time per site, and the cascade depth of events plans caused.
#[derive(Default)]
pub(crate) struct Executor {
    sites: Mutex<HashMap<SiteId, Arc<Mutex<SiteDispatch>>>>,
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

    fn site(&self, id: SiteId) -> Arc<Mutex<SiteDispatch>> {
        let mut sites = self.sites.lock().unwrap_or_else(|p| p.into_inner());
        sites.entry(id).or_default().clone()
    }
}

/// A person's request through an instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MethodRequest {
    /// Enrol these users (manual enrolment); needs to manage the course.
    EnrolUsers {
        users: Vec<UserId>,
        role: Option<Role>,
        group: Option<CourseGroupId>,
    },
    /// Unenrol these users from the instance; needs to manage the course.
    UnenrolUsers { users: Vec<UserId> },
    /// The caller enrols themselves. `user`, when given, must be the
    /// caller.
    SelfEnrol {
        user: Option<UserId>,
        key: Option<String>,
    },
    /// The caller leaves the course.
    SelfUnenrol { user: Option<UserId> },
}

/// What a request did, or (dry run) would do.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct RequestOutcome {
    /// The plan the plugin returned.
    pub plan: Plan,
    /// False for a dry run: nothing was written.
    pub applied: bool,
    /// Actions that changed (or would change) something.
    pub changed: u64,
    /// Actions that found the site already as they wanted it.
    pub unchanged: u64,
}

/// What a reconcile did, or (dry run) would do.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
pub struct ReconcileReport {
    /// Pages the plugin returned.
    pub pages: u64,
    /// Actions over all pages.
    pub actions: u64,
    pub changed: u64,
    pub unchanged: u64,
    /// False for a dry run: nothing was written.
    pub applied: bool,
    /// A dry run's actions, at most 1,000; empty when applied.
    pub plan: Vec<PlanAction>,
}

/// What adding an instance would do ([`SiteServices::preview_method`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct MethodPreview {
    /// Users it would enrol (or re-activate).
    pub enrolments: u64,
    /// Group memberships it would add.
    pub group_memberships: u64,
    /// Names of the groups it would create.
    pub groups_created: Vec<String>,
    /// Actions over all pages.
    pub actions: u64,
    /// Reconcile pages the plugin returned.
    pub pages: u64,
    /// The first 1,000 actions.
    pub plan: Vec<PlanAction>,
}

/// One instance's part of a site or course reconcile.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct InstanceReconcile {
    pub method: EnrolmentMethodId,
    pub course: CourseId,
    /// What it changed; absent when it failed.
    pub report: Option<ReconcileReport>,
    /// Why it failed (also recorded as the instance's last error).
    pub error: Option<String>,
}

/// How an instance is doing.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct MethodRunStatus {
    pub method: EnrolmentMethodId,
    pub course: CourseId,
    pub status: EnrolmentMethodStatus,
    pub plugin: String,
    /// The loaded plugin's version; absent when the plugin is not
    /// available on this host.
    pub plugin_version: Option<String>,
    /// The last failure of a plugin call, if any.
    pub last_error: Option<MethodError>,
    /// Failed calls since the instance was added.
    pub error_count: u64,
}

/// One instance as its course's enrolment methods page shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct MethodOverview {
    pub method: EnrolmentMethod,
    /// Its enrolments, of any status.
    pub enrolments: u64,
    /// How its plugin calls went (the last error, if any).
    pub run: MethodRun,
}

/// A course's enrolment methods, and the plugins one could add to it.
#[derive(Clone, Debug, PartialEq)]
pub struct CourseMethods {
    pub course: Course,
    pub methods: Vec<MethodOverview>,
    /// The plugins the site may use, with their config forms.
    pub plugins: Vec<PluginManifest>,
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
    /// Calls that failed (recorded on their instance).
    pub errors: u64,
    /// The dispatcher's cursor afterwards.
    pub cursor: u64,
}

/// Which instances an event concerns.
enum Scope {
    Site,
    Course(CourseId),
    Group(CourseGroupId),
    Instance(EnrolmentMethodId),
}

/// The contract's form of an event, or `None` for events plugins cannot
/// ask for (user created or updated, course deleted) and for
/// `instance-deleted` (see the module doc).
fn wit_event(event: &SiteEvent) -> Option<(EventKind, wit::Event, Scope)> {
    use SiteEvent as S;
    use wit::Event as E;
    let enrolment = |user: &UserId, method: &EnrolmentMethodId| wit::EnrolmentEvent {
        user: user.0,
        instance: method.0,
    };
    let segment = |user: &UserId, segment: &SegmentId| wit::MembershipEvent {
        user: user.0,
        segment: segment.0,
    };
    let group = |user: &UserId, group: &CourseGroupId| wit::GroupEvent {
        user: user.0,
        group: group.0,
    };
    Some(match event {
        S::UserCreated { .. } | S::UserUpdated { .. } | S::CourseDeleted { .. } => return None,
        S::MethodDeleted { .. } => return None,
        S::UserSuspended { user } => (
            EventKind::UserSuspended,
            E::UserSuspended(user.0),
            Scope::Site,
        ),
        S::UserReactivated { user } => (
            EventKind::UserReactivated,
            E::UserReactivated(user.0),
            Scope::Site,
        ),
        S::UserDeleted { user } => (EventKind::UserDeleted, E::UserDeleted(user.0), Scope::Site),
        S::SegmentMemberAdded { segment: s, user } => (
            EventKind::SegmentMemberAdded,
            E::SegmentMemberAdded(segment(user, s)),
            Scope::Site,
        ),
        S::SegmentMemberRemoved { segment: s, user } => (
            EventKind::SegmentMemberRemoved,
            E::SegmentMemberRemoved(segment(user, s)),
            Scope::Site,
        ),
        S::SegmentDeleted { segment: s } => (
            EventKind::SegmentDeleted,
            E::SegmentDeleted(s.0),
            Scope::Site,
        ),
        S::UserEnrolled {
            course,
            user,
            method,
        } => (
            EventKind::UserEnrolled,
            E::UserEnrolled(enrolment(user, method)),
            Scope::Course(*course),
        ),
        S::EnrolmentUpdated {
            course,
            user,
            method,
        } => (
            EventKind::EnrolmentUpdated,
            E::EnrolmentUpdated(enrolment(user, method)),
            Scope::Course(*course),
        ),
        S::UserUnenrolled {
            course,
            user,
            method,
        } => (
            EventKind::UserUnenrolled,
            E::UserUnenrolled(enrolment(user, method)),
            Scope::Course(*course),
        ),
        S::GroupMemberAdded { group: g, user } => (
            EventKind::GroupMemberAdded,
            E::GroupMemberAdded(group(user, g)),
            Scope::Group(*g),
        ),
        S::GroupMemberRemoved { group: g, user } => (
            EventKind::GroupMemberRemoved,
            E::GroupMemberRemoved(group(user, g)),
            Scope::Group(*g),
        ),
        S::GroupDeleted { course, group: g } => (
            EventKind::GroupDeleted,
            E::GroupDeleted(g.0),
            Scope::Course(*course),
        ),
        S::MethodAdded { method, .. } => (
            EventKind::InstanceAdded,
            E::InstanceAdded,
            Scope::Instance(*method),
        ),
        S::MethodEnabled { method, .. } => (
            EventKind::InstanceEnabled,
            E::InstanceEnabled,
            Scope::Instance(*method),
        ),
        S::MethodDisabled { method, .. } => (
            EventKind::InstanceDisabled,
            E::InstanceDisabled,
            Scope::Instance(*method),
        ),
        S::MethodUpdated { method, .. } => (
            EventKind::InstanceUpdated,
            E::InstanceUpdated,
            Scope::Instance(*method),
        ),
    })
}

fn context(m: &EnrolmentMethod, settings: String) -> wit::Context {
    wit::Context {
        instance: m.id.0,
        course: m.course.0,
        config: m.config.clone(),
        settings,
        enabled: m.status == EnrolmentMethodStatus::Enabled,
        now: Timestamp::now().0,
    }
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

/// Keeps a plugin's message from growing the run-state record without end.
fn bounded(message: &str) -> String {
    const MAX: usize = 2000;
    if message.len() <= MAX {
        return message.to_owned();
    }
    let mut end = MAX;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &message[..end])
}

impl SiteServices {
    /// Records a failed call as the instance's last error, in its own
    /// transaction. Never fails the caller: the failure it records is what
    /// the caller reports.
    fn record_method_error(&self, id: EnrolmentMethodId, code: &str, message: &str) {
        tracing::warn!(site = %self.site.slug, method = %id, code, "enrolment method failed: {message}");
        let recorded = self.write(|t| {
            if t.method(id)?.is_none() {
                return Ok(());
            }
            let mut run = t.method_run(id)?.unwrap_or_default();
            run.error_count += 1;
            run.last_error = Some(MethodError {
                code: code.to_owned(),
                message: bounded(message),
                at: t.now,
            });
            t.put_method_run(id, &run)?;
            Ok(())
        });
        if let Err(e) = recorded {
            tracing::error!(error = %e, method = %id, "could not record an enrolment method's error");
        }
    }

    /// One plugin call for instance `m`, with queries over a fresh
    /// snapshot, and the users those queries found active (for
    /// [`apply_method_plan_with`](Self::apply_method_plan_with)). A
    /// misbehaving plugin is recorded and reported as `PluginFailed`.
    fn call_plugin<T>(
        &self,
        m: &EnrolmentMethod,
        call: impl FnOnce(
            &Runtime,
            &Plugin,
            Box<dyn Queries>,
            &wit::Context,
        ) -> Result<Result<T, wit::Refusal>, PluginError>,
    ) -> ServiceResult<(Result<T, wit::Refusal>, Arc<ActiveSeen>)> {
        let plugin = self.plugin(&m.plugin)?;
        let runtime = self.runtime()?;
        let (queries, settings, seen) = self.method_call_inputs(m, &plugin.manifest)?;
        let out = call(runtime, &plugin, queries, &context(m, settings)).map_err(|e| {
            let (code, message) = (e.code(), e.to_string());
            self.record_method_error(m.id, code, &message);
            ServiceError::PluginFailed {
                code: code.to_owned(),
                message: format!("enrolment method {:?}: {message}", m.name),
            }
        })?;
        Ok((out, seen))
    }

    /// Checks and applies `plan` as instance `m` in one transaction (or,
    /// for a dry run, checks and counts and then rolls back). A rejected
    /// plan is recorded as the instance's last error unless it was a dry
    /// run. Returns the events the plan caused.
    pub(crate) fn apply_method_plan(
        &self,
        m: &EnrolmentMethod,
        plan: &Plan,
        dry_run: bool,
    ) -> ServiceResult<(PlanTally, Vec<EventEnvelope>)> {
        self.apply_method_plan_with(m, plan, dry_run, true, None)
    }

    /// As [`apply_method_plan`](Self::apply_method_plan); `durable: false`
    /// commits without waiting for the disk (see `SiteStore::write_lazy`),
    /// for reconcile pages a crash would have redone anyway. `seen`: the
    /// users the plan's plugin call found active, trusted without reading
    /// their records again if nothing changed since (see [`ActiveSeen`]).
    fn apply_method_plan_with(
        &self,
        m: &EnrolmentMethod,
        plan: &Plan,
        dry_run: bool,
        durable: bool,
        seen: Option<&ActiveSeen>,
    ) -> ServiceResult<(PlanTally, Vec<EventEnvelope>)> {
        // Nothing to change: no write transaction (and no disk sync), which
        // is what keeps a reconcile of a converged instance cheap.
        if plan.actions.is_empty() {
            return Ok((PlanTally::default(), Vec::new()));
        }
        let apply = |t: &mut crate::storage::site::SiteTables<'_>| {
            // The instance may have gone or changed course while its
            // plugin ran; apply as it is now.
            let Some(current) = t.method(m.id)? else {
                return Err(TxError::Apply(ApplyError::Service(ServiceError::Conflict(
                    format!(
                        "enrolment method #{} was deleted while its plugin ran",
                        m.id
                    ),
                ))));
            };
            let active = match seen {
                Some(seen) => seen.still_active(t.changes()?),
                None => Default::default(),
            };
            let tally = apply_plan(t, &current, plan, active).map_err(TxError::Apply)?;
            if dry_run {
                return Err(TxError::DryRun(tally));
            }
            Ok(tally)
        };
        let result = if durable {
            self.store.write(apply)
        } else {
            self.store.write_lazy(apply)
        };
        match result {
            Ok((tally, events)) => {
                self.bus.publish(events.clone());
                Ok((tally, events))
            }
            Err(TxError::DryRun(tally)) => Ok((tally, Vec::new())),
            Err(TxError::Apply(ApplyError::Rejected(r))) => {
                let message = r.to_string();
                if !dry_run {
                    self.record_method_error(m.id, "plan_rejected", &message);
                }
                Err(ServiceError::PluginFailed {
                    code: "plan_rejected".into(),
                    message: format!("enrolment method {:?}: {message}", m.name),
                })
            }
            Err(TxError::Apply(ApplyError::Service(e))) => Err(e),
        }
    }

    /// A person's request through instance `instance`: enrol or unenrol
    /// users (needs to manage the course), or enrol or unenrol oneself (an
    /// active user of the site, for themselves only). Authorised before
    /// the plugin runs; the plugin's refusal is `Refused`, its failure
    /// `PluginFailed`. A dry run returns the plan, checked and counted,
    /// and writes nothing.
    pub fn method_request(
        &self,
        who: &Principal,
        instance: EnrolmentMethodId,
        request: MethodRequest,
        dry_run: bool,
    ) -> ServiceResult<RequestOutcome> {
        let (m, request) = self.read(|t| {
            authorize_caller(&self.site, t, who)?;
            let m = load_method(t, instance)?;
            let request = match request {
                MethodRequest::EnrolUsers { users, role, group } => {
                    authorize(&self.site, t, who, Need::ManageCourse(m.course))?;
                    wit::Request::EnrolUsers(wit::EnrolUsers {
                        users: users.iter().map(|u| u.0).collect(),
                        role: role.map(wit_role),
                        group: group.map(|g| g.0),
                        requested_by: who.site_user_id(self.site.id).map_or(0, |u| u.0),
                    })
                }
                MethodRequest::UnenrolUsers { users } => {
                    authorize(&self.site, t, who, Need::ManageCourse(m.course))?;
                    wit::Request::UnenrolUsers(users.iter().map(|u| u.0).collect())
                }
                MethodRequest::SelfEnrol { user, key } => {
                    let me = self.acting_for_self(t, who, user)?;
                    wit::Request::SelfEnrol(wit::SelfEnrol { user: me.0, key })
                }
                MethodRequest::SelfUnenrol { user } => {
                    let me = self.acting_for_self(t, who, user)?;
                    wit::Request::SelfUnenrol(me.0)
                }
            };
            if m.status != EnrolmentMethodStatus::Enabled {
                return Err(ServiceError::Conflict(format!(
                    "enrolment method {:?} is disabled",
                    m.name
                )));
            }
            Ok((m, request))
        })?;
        let plan: Plan = self
            .call_plugin(&m, |rt, p, q, ctx| rt.handle_request(p, q, ctx, &request))?
            .0
            .map_err(|r| ServiceError::Refused {
                code: r.code,
                message: r.message,
                field: r.field,
            })?
            .into();
        let (tally, _) = self.apply_method_plan(&m, &plan, dry_run)?;
        if !dry_run {
            self.reconcile_if_asked(&m, &plan, &mut |_| {})?;
        }
        Ok(RequestOutcome {
            plan,
            applied: !dry_run,
            changed: tally.changed,
            unchanged: tally.unchanged,
        })
    }

    /// The user a self-service request is for: the caller, an active user
    /// of this site, who may name only themselves.
    fn acting_for_self(
        &self,
        t: &impl SiteRead,
        who: &Principal,
        named: Option<UserId>,
    ) -> ServiceResult<UserId> {
        authorize(&self.site, t, who, Need::SiteMember)?;
        let Some(me) = who.site_user_id(self.site.id) else {
            return Err(ServiceError::Forbidden(
                "only a user of this site can enrol or unenrol themselves".into(),
            ));
        };
        match named {
            Some(other) if other != me => Err(ServiceError::Forbidden(
                "you can enrol or unenrol only yourself".into(),
            )),
            _ => Ok(me),
        }
    }

    /// Self enrolment into `course`: through `method` when given (it must
    /// be an instance of that course), else through the course's first
    /// enabled `self` instance.
    pub fn self_enrol(
        &self,
        who: &Principal,
        course: CourseId,
        method: Option<EnrolmentMethodId>,
        key: Option<String>,
        dry_run: bool,
    ) -> ServiceResult<RequestOutcome> {
        let instance = self.read(|t| {
            authorize(&self.site, t, who, Need::SiteMember)?;
            super::courses::load_course(t, course)?;
            let found = match method {
                Some(id) => t.method(id)?.filter(|m| m.course == course),
                None => t
                    .course_methods_list(course)?
                    .into_iter()
                    .find(|m| m.plugin == "self" && m.status == EnrolmentMethodStatus::Enabled),
            };
            found.map(|m| m.id).ok_or_else(|| {
                ServiceError::not_found(format!("self enrolment in course #{course}"))
            })
        })?;
        self.method_request(
            who,
            instance,
            MethodRequest::SelfEnrol { user: None, key },
            dry_run,
        )
    }

    /// Brings an instance in line with its sources: the plugin's reconcile,
    /// page by page, each page's plan applied in its own transaction (a
    /// dry run applies none and lists the actions).
    pub fn reconcile_method(
        &self,
        who: &Principal,
        instance: EnrolmentMethodId,
        dry_run: bool,
    ) -> ServiceResult<ReconcileReport> {
        let m = self.read(|t| {
            authorize_caller(&self.site, t, who)?;
            let m = load_method(t, instance)?;
            authorize(&self.site, t, who, Need::ManageCourse(m.course))?;
            Ok(m)
        })?;
        self.run_reconcile(&m, dry_run, &mut |_| {})
    }

    /// Reconciles one instance page by page, each page's plan in its own
    /// transaction (see the module doc); `caused` sees the events each
    /// applied page caused. Authorisation is the caller's.
    pub(crate) fn run_reconcile(
        &self,
        m: &EnrolmentMethod,
        dry_run: bool,
        caused: &mut dyn FnMut(&[EventEnvelope]),
    ) -> ServiceResult<ReconcileReport> {
        let mut pacing = Pacing::new();
        let out = self.reconcile_pages(m, dry_run, caused, &mut pacing);
        // Also when a page failed: what the earlier pages did stays.
        pacing.finish(self)?;
        out
    }

    fn reconcile_pages(
        &self,
        m: &EnrolmentMethod,
        dry_run: bool,
        caused: &mut dyn FnMut(&[EventEnvelope]),
        pacing: &mut Pacing,
    ) -> ServiceResult<ReconcileReport> {
        let mut report = ReconcileReport {
            applied: !dry_run,
            ..Default::default()
        };
        let mut cursor: Option<String> = None;
        let mut cursors = Cursors::default();
        // A page may disable the instance: later pages see it as it is.
        let mut m = m.clone();
        loop {
            if let Err(message) = cursors.page() {
                self.record_method_error(m.id, "reconcile_endless", &message);
                return Err(endless(message));
            }
            let (step, seen) = self.call_plugin(&m, |rt, p, q, ctx| {
                rt.reconcile(p, q, ctx, cursor.as_deref())
            })?;
            let step = step.map_err(|r| {
                if !dry_run {
                    self.record_method_error(m.id, &r.code, &r.message);
                }
                ServiceError::Refused {
                    code: r.code,
                    message: r.message,
                    field: r.field,
                }
            })?;
            let plan: Plan = step.plan.into();
            let durable = pacing.durable(&plan, dry_run, step.next.is_none());
            let (tally, events) =
                self.apply_method_plan_with(&m, &plan, dry_run, durable, Some(&seen))?;
            caused(&events);
            report.pages += 1;
            report.actions += plan.actions.len() as u64;
            report.changed += tally.changed;
            report.unchanged += tally.unchanged;
            let ends_instance = plan
                .actions
                .iter()
                .any(|a| matches!(a.op, PlanOp::DisableInstance | PlanOp::DeleteInstance));
            if dry_run {
                let room = MAX_REPORTED_ACTIONS.saturating_sub(report.plan.len());
                report.plan.extend(plan.actions.into_iter().take(room));
            }
            let next = match step.next {
                None => return Ok(report),
                Some(next) => next,
            };
            if ends_instance && !dry_run {
                match self.read(|t| Ok(t.method(m.id)?))? {
                    Some(now) => m = now,
                    // Deleted by its own plan: nothing left to reconcile.
                    None => return Ok(report),
                }
            }
            match cursors.next(next) {
                Ok(next) => cursor = Some(next),
                Err(message) => {
                    if !dry_run {
                        self.record_method_error(m.id, "reconcile_endless", &message);
                    }
                    return Err(endless(message));
                }
            }
        }
    }

    /// Runs the reconcile a committed plan asked for (its `reconcile`
    /// action), on the instance as the plan left it.
    fn reconcile_if_asked(
        &self,
        m: &EnrolmentMethod,
        plan: &Plan,
        caused: &mut dyn FnMut(&[EventEnvelope]),
    ) -> ServiceResult<Option<ReconcileReport>> {
        if !plan.actions.iter().any(|a| a.op == PlanOp::Reconcile) {
            return Ok(None);
        }
        let Some(current) = self.read(|t| Ok(t.method(m.id)?))? else {
            return Ok(None);
        };
        self.run_reconcile(&current, false, caused).map(Some)
    }

    /// Reconciles every instance of the site (or of one course): site
    /// admins for the site, course managers for a course. An instance that
    /// fails is reported (and its error recorded) and the others go on.
    pub fn reconcile_site(
        &self,
        who: &Principal,
        course: Option<CourseId>,
        dry_run: bool,
    ) -> ServiceResult<Vec<InstanceReconcile>> {
        let methods = self.read(|t| {
            authorize_caller(&self.site, t, who)?;
            match course {
                Some(c) => {
                    authorize(&self.site, t, who, Need::ManageCourse(c))?;
                    super::courses::load_course(t, c)?;
                    Ok(t.course_methods_list(c)?)
                }
                None => {
                    authorize(&self.site, t, who, Need::SiteAdmin)?;
                    Ok(t.all_methods()?)
                }
            }
        })?;
        Ok(self.reconcile_each(methods, dry_run))
    }

    /// The start-up and scheduled reconcile of every instance whose plugin
    /// this host has (no principal: the host's own job).
    pub(crate) fn reconcile_all(&self) -> ServiceResult<Vec<InstanceReconcile>> {
        let methods = self.read(|t| Ok(t.all_methods()?))?;
        Ok(self.reconcile_each(methods, false))
    }

    fn reconcile_each(
        &self,
        methods: Vec<EnrolmentMethod>,
        dry_run: bool,
    ) -> Vec<InstanceReconcile> {
        let mut out = Vec::with_capacity(methods.len());
        for m in methods {
            if self.plugin(&m.plugin).is_err() {
                continue;
            }
            let outcome = self.run_reconcile(&m, dry_run, &mut |_| {});
            out.push(match outcome {
                Ok(report) => InstanceReconcile {
                    method: m.id,
                    course: m.course,
                    report: Some(report),
                    error: None,
                },
                Err(e) => InstanceReconcile {
                    method: m.id,
                    course: m.course,
                    report: None,
                    error: Some(e.to_string()),
                },
            });
        }
        out
    }

    /// What adding an instance would do, without adding it: the plugin
    /// checks the config as for [`add_method`](Self::add_method), then its
    /// reconcile runs against the site as it is, for an instance that does
    /// not exist yet (it owns nothing), and the plans are counted, not
    /// applied. Same authorisation as adding.
    pub fn preview_method(
        &self,
        who: &Principal,
        course: CourseId,
        new: super::enrolments::NewMethod,
    ) -> ServiceResult<MethodPreview> {
        let (plugin_id, config) = self.checked_new_method(who, course, &new)?;
        let m = EnrolmentMethod {
            // No instance has id 0: queries about "its own" rows find none.
            id: EnrolmentMethodId(0),
            course,
            plugin: plugin_id,
            name: new.name.clone(),
            // As it would be added: a disabled instance's reconcile
            // enrols nobody.
            status: if new.enabled {
                EnrolmentMethodStatus::Enabled
            } else {
                EnrolmentMethodStatus::Disabled
            },
            config,
            created_at: Timestamp::now(),
        };
        let mut preview = MethodPreview::default();
        let mut cursor: Option<String> = None;
        let mut cursors = Cursors::default();
        let mut groups = HashSet::new();
        loop {
            cursors.page().map_err(endless)?;
            let step = self
                .call_plugin(&m, |rt, p, q, ctx| {
                    rt.reconcile(p, q, ctx, cursor.as_deref())
                })?
                .0
                .map_err(|r| ServiceError::Refused {
                    code: r.code,
                    message: r.message,
                    field: r.field,
                })?;
            preview.pages += 1;
            let plan: Plan = step.plan.into();
            for action in &plan.actions {
                match &action.op {
                    PlanOp::Enrol { .. } => preview.enrolments += 1,
                    PlanOp::AddToGroup { .. } => preview.group_memberships += 1,
                    PlanOp::CreateGroup { key, name, .. } => {
                        if groups.insert(key.clone()) {
                            preview.groups_created.push(name.clone());
                        } else {
                            continue;
                        }
                    }
                    _ => {}
                }
                preview.actions += 1;
                if preview.plan.len() < MAX_REPORTED_ACTIONS {
                    preview.plan.push(action.clone());
                }
            }
            match step.next {
                None => return Ok(preview),
                Some(next) => cursor = Some(cursors.next(next).map_err(endless)?),
            }
        }
    }

    pub fn method_status(
        &self,
        who: &Principal,
        instance: EnrolmentMethodId,
    ) -> ServiceResult<MethodRunStatus> {
        let (m, run) = self.read(|t| {
            authorize_caller(&self.site, t, who)?;
            let m = load_method(t, instance)?;
            authorize(&self.site, t, who, Need::ManageCourse(m.course))?;
            let run = t.method_run(m.id)?.unwrap_or_default();
            Ok((m, run))
        })?;
        let plugin_version = self
            .plugin(&m.plugin)
            .ok()
            .map(|p| p.manifest.version.clone());
        Ok(MethodRunStatus {
            method: m.id,
            course: m.course,
            status: m.status,
            plugin: m.plugin,
            plugin_version,
            last_error: run.last_error,
            error_count: run.error_count,
        })
    }

    /// A course's instances, each with its enrolment count and last
    /// error, and the plugins the site may use: what the people who
    /// configure the course see of its enrolment methods.
    pub fn course_methods(
        &self,
        who: &Principal,
        course: CourseId,
    ) -> ServiceResult<CourseMethods> {
        let (course, methods) = self.read(|t| {
            authorize(&self.site, t, who, Need::ConfigureCourse(course))?;
            let course = super::courses::load_course(t, course)?;
            let counts = t.method_enrolment_counts(course.id)?;
            let mut methods = Vec::new();
            for method in t.course_methods_list(course.id)? {
                methods.push(MethodOverview {
                    enrolments: counts.get(&method.id).copied().unwrap_or(0),
                    run: t.method_run(method.id)?.unwrap_or_default(),
                    method,
                });
            }
            Ok((course, methods))
        })?;
        Ok(CourseMethods {
            course,
            methods,
            plugins: self.enabled_manifests()?,
        })
    }

    /// One instance with its enrolment count and last error, for those who
    /// may configure its course (e.g. before deleting it).
    pub fn method_overview(
        &self,
        who: &Principal,
        id: EnrolmentMethodId,
    ) -> ServiceResult<MethodOverview> {
        self.read(|t| {
            authorize_caller(&self.site, t, who)?;
            let method = load_method(t, id)?;
            authorize(&self.site, t, who, Need::ConfigureCourse(method.course))?;
            Ok(MethodOverview {
                enrolments: t
                    .method_enrolment_counts(method.course)?
                    .get(&id)
                    .copied()
                    .unwrap_or(0),
                run: t.method_run(id)?.unwrap_or_default(),
                method,
            })
        })
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

    /// Makes every commit so far durable (the lazy ones of the dispatcher
    /// and of reconcile pages) with one durable commit of nothing.
    pub fn flush(&self) -> ServiceResult<()> {
        Ok(self.store.sync()?)
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
        let Some((kind, event, scope)) = wit_event(&envelope.event) else {
            return Ok(());
        };
        let lifecycle = matches!(scope, Scope::Instance(_));
        let course = match scope {
            Scope::Course(c) => Some(c),
            Scope::Group(g) => match known.group_course(self, g)? {
                Some(c) => Some(c),
                None => return Ok(()),
            },
            Scope::Site | Scope::Instance(_) => None,
        };
        let targets: Vec<EnrolmentMethod> = known
            .methods(self)?
            .iter()
            .filter(|m| match scope {
                Scope::Instance(id) => m.id == id,
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
            if !plugin.manifest.events.contains(&kind) {
                continue;
            }
            if depth >= MAX_CASCADE {
                report.errors += 1;
                self.record_method_error(
                    m.id,
                    "cascade_limit",
                    &format!(
                        "event #{} was caused by a chain of {depth} plans; it was not delivered \
                         (do two enrolment methods undo each other?)",
                        envelope.seq
                    ),
                );
                continue;
            }
            report.calls += 1;
            let outcome = self
                .call_plugin(&m, |rt, p, q, ctx| rt.handle_event(p, q, ctx, &event))
                .map(|(out, _)| out);
            let plan: Plan = match outcome {
                Ok(Ok(plan)) => plan.into(),
                Ok(Err(refusal)) => {
                    report.errors += 1;
                    self.record_method_error(m.id, &refusal.code, &refusal.message);
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
            match self.apply_method_plan_with(&m, &plan, false, false, None) {
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
            if plan
                .actions
                .iter()
                .any(|a| matches!(a.op, PlanOp::DisableInstance | PlanOp::DeleteInstance))
            {
                known.methods = None;
            }
        }
        Ok(())
    }
}

/// The site's instances, the course of each group asked about and the
/// loaded plugins, read once per batch of events instead of once per event
/// (a 100,000-member change is 100,000 events). Instances are read again
/// after an event or a plan that may have changed them.
#[derive(Default)]
struct Targets {
    methods: Option<Vec<EnrolmentMethod>>,
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

/// In dispatch, a plugin's failure is its instance's (already recorded);
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

/// Delivers committed events to the instances as they are published, on
/// the blocking pool (plugin calls never run on an HTTP worker). Catches up
/// every site's outbox first, and again whenever the bus overflowed.
/// Runs until its task is aborted.
pub async fn run_dispatcher(services: Services) {
    let mut rx = services.events().subscribe();
    let mut all_sites = true;
    loop {
        let sites: Vec<SiteId> = if all_sites {
            let s = services.clone();
            match tokio::task::spawn_blocking(move || s.list_sites(&Principal::system())).await {
                Ok(Ok(sites)) => sites.into_iter().map(|s| s.id).collect(),
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "the event dispatcher cannot list the sites");
                    Vec::new()
                }
                Err(e) => {
                    tracing::error!(error = %e, "the event dispatcher cannot list the sites");
                    Vec::new()
                }
            }
        } else {
            Vec::new()
        };
        let mut wanted: HashSet<SiteId> = sites.into_iter().collect();
        all_sites = false;
        if wanted.is_empty() {
            match rx.recv().await {
                Ok(e) => {
                    wanted.insert(e.site);
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    all_sites = true;
                    continue;
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            }
        }
        // Whatever else arrived meanwhile is handled by the same pass.
        loop {
            match rx.try_recv() {
                Ok(e) => {
                    wanted.insert(e.site);
                }
                Err(tokio::sync::broadcast::error::TryRecvError::Lagged(_)) => all_sites = true,
                Err(_) => break,
            }
        }
        for site in wanted {
            let s = services.clone();
            let done = tokio::task::spawn_blocking(move || {
                let site = s.site(site)?;
                let report = site.dispatch_pending()?;
                // What the round committed lazily is made durable now, a
                // few milliseconds behind the live path.
                if report.events > 0 {
                    site.flush()?;
                }
                Ok::<_, ServiceError>(report)
            })
            .await;
            match done {
                Ok(Ok(r)) if r.calls > 0 => {
                    tracing::debug!(site = %site, events = r.events, calls = r.calls, applied = r.applied, errors = r.errors, "dispatched events")
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::error!(site = %site, error = %e, "event dispatch failed"),
                Err(e) => tracing::error!(site = %site, error = %e, "event dispatch panicked"),
            }
        }
    }
}

/// Reconciles every instance of every site once now (after a start, to
/// finish what a stopped or killed process left half done), then every
/// `every` if set. Each site runs on the blocking pool; a failure is
/// logged and recorded on its instance, and the job goes on.
pub async fn run_reconciler(services: Services, every: Option<std::time::Duration>) {
    loop {
        let s = services.clone();
        let done = tokio::task::spawn_blocking(move || -> ServiceResult<(usize, usize)> {
            let mut instances = 0;
            let mut failed = 0;
            for site in s.list_sites(&Principal::system())? {
                if site.status != SiteStatus::Active {
                    continue;
                }
                let results = s.site(site.id)?.reconcile_all()?;
                instances += results.len();
                failed += results.iter().filter(|r| r.error.is_some()).count();
            }
            Ok((instances, failed))
        })
        .await;
        match done {
            Ok(Ok((instances, failed))) => {
                tracing::info!(instances, failed, "reconciled every enrolment method")
            }
            Ok(Err(e)) => tracing::error!(error = %e, "the reconcile job failed"),
            Err(e) => tracing::error!(error = %e, "the reconcile job panicked"),
        }
        match every {
            Some(every) => tokio::time::sleep(every).await,
            None => return,
        }
    }
}

impl Services {
    /// A reconcile of the site named `key` (slug or host name), or of one
    /// of its courses by id or shortname: the CLI's `charon sync
    /// reconcile`.
    pub fn reconcile_site_by_key(
        &self,
        who: &Principal,
        key: &str,
        course: Option<&str>,
        dry_run: bool,
    ) -> ServiceResult<Vec<InstanceReconcile>> {
        let site = self.site(self.find_site(who, key)?.id)?;
        let course = match course {
            None => None,
            Some(c) => Some(match c.parse::<u64>() {
                Ok(id) => CourseId(id),
                Err(_) => site
                    .read(|t| Ok(t.course_id_by_shortname(c)?))?
                    .ok_or_else(|| ServiceError::not_found(format!("course {c:?}")))?,
            }),
        };
        site.reconcile_site(who, course, dry_run)
    }
}

/// For the sync benchmarks only (`--features bench`): the same reconcile
/// with each page computed natively instead of in the sandbox, from the
/// same queries and context a plugin gets, and applied the same way; the
/// difference between the two is what the sandbox costs.
#[cfg(feature = "bench")]
impl SiteServices {
    /// The first page of `id`'s reconcile computed and returned but not
    /// applied, in the sandbox (`native: None`) or natively: the plugin's
    /// part of a page alone. Returns the number of actions.
    #[allow(clippy::type_complexity)]
    pub fn bench_reconcile_page(
        &self,
        id: EnrolmentMethodId,
        native: Option<
            &mut dyn FnMut(&wit::Context, Option<String>, Box<dyn Queries>) -> wit::ReconcileStep,
        >,
    ) -> ServiceResult<usize> {
        let m = self.read(|t| load_method(t, id))?;
        let plan = match native {
            None => {
                let (step, _) =
                    self.call_plugin(&m, |rt, p, q, ctx| rt.reconcile(p, q, ctx, None))?;
                step.map_err(|r| ServiceError::Refused {
                    code: r.code,
                    message: r.message,
                    field: r.field,
                })?
                .plan
            }
            Some(step) => {
                let plugin = self.plugin(&m.plugin)?;
                let (queries, settings, _) = self.method_call_inputs(&m, &plugin.manifest)?;
                step(&context(&m, settings), None, queries).plan
            }
        };
        Ok(Plan::from(plan).actions.len())
    }

    pub fn bench_native_reconcile(
        &self,
        id: EnrolmentMethodId,
        mut step: impl FnMut(&wit::Context, Option<String>, Box<dyn Queries>) -> wit::ReconcileStep,
    ) -> ServiceResult<ReconcileReport> {
        let m = self.read(|t| load_method(t, id))?;
        let plugin = self.plugin(&m.plugin)?;
        let mut report = ReconcileReport {
            applied: true,
            ..Default::default()
        };
        let mut cursor = None;
        let mut pacing = Pacing::new();
        loop {
            let (queries, settings, seen) = self.method_call_inputs(&m, &plugin.manifest)?;
            let ctx = context(&m, settings);
            let out = step(&ctx, cursor.take(), queries);
            let plan: Plan = out.plan.into();
            let durable = pacing.durable(&plan, false, out.next.is_none());
            let (tally, _) = self.apply_method_plan_with(&m, &plan, false, durable, Some(&seen))?;
            report.pages += 1;
            report.actions += plan.actions.len() as u64;
            report.changed += tally.changed;
            report.unchanged += tally.unchanged;
            match out.next {
                None => {
                    pacing.finish(self)?;
                    return Ok(report);
                }
                Some(next) => cursor = Some(next),
            }
        }
    }
}

#[cfg(test)]
mod active_seen_tests {
    use super::*;
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

    /// The users a plugin call's queries found active: `(instance, seen)`
    /// after the call asked for `segment`'s members.
    fn queried(fx: &TestSite, segment: SegmentId) -> (EnrolmentMethod, Arc<ActiveSeen>) {
        let m = fx.site.read(|t| load_method(t, fx.manual)).unwrap();
        let plugin = fx.site.plugin(&m.plugin).unwrap();
        let (mut queries, _, seen) = fx.site.method_call_inputs(&m, &plugin.manifest).unwrap();
        queries.segment_members(segment.0, None, 100).unwrap();
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
    fn a_user_the_query_showed_active_and_who_was_suspended_since_is_refused() {
        let fx = TestSite::new();
        let newcomer = newcomer_in_finance(&fx);
        let (m, seen) = queried(&fx, fx.finance);
        assert!(seen.users.lock().unwrap().contains(&newcomer));
        fx.site.suspend_user(&fx.admin, newcomer).unwrap();
        let refused =
            fx.site
                .apply_method_plan_with(&m, &enrol(newcomer), false, true, Some(&seen));
        assert!(
            matches!(&refused, Err(ServiceError::PluginFailed { message, .. }) if message.contains("suspended")),
            "{refused:?}"
        );
    }

    #[test]
    fn with_nothing_changed_since_the_query_its_active_users_are_enrolled() {
        let fx = TestSite::new();
        let newcomer = newcomer_in_finance(&fx);
        let (m, seen) = queried(&fx, fx.finance);
        let (tally, _) = fx
            .site
            .apply_method_plan_with(&m, &enrol(newcomer), false, true, Some(&seen))
            .unwrap();
        assert_eq!(tally.changed, 1);
        // A suspended member is never in the set: the apply reads them.
        fx.site.suspend_user(&fx.admin, fx.learners[4]).unwrap();
        let (_, seen) = queried(&fx, fx.finance);
        assert!(!seen.users.lock().unwrap().contains(&fx.learners[4]));
    }
}
