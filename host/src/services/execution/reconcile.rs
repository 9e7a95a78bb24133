//! Reconcile: a method brought in line with its sources page by page,
//! on demand, for a whole site or course, after every start-up and on a
//! schedule (`crate::jobs`), or when a plan asks for it; and the dry-run
//! preview of a method not yet added. Each runs the one page loop of
//! [`pager`](super::pager) with its own sink.

use std::cell::RefCell;
use std::collections::HashSet;

use super::apply::{ApplyMode, ApplyOptions, Durability};
use super::pacing::Pacing;
use super::pager::{PageSink, PageSource, Sandbox, run_pages};
use crate::domain::*;
use crate::services::auth::{Need, authorize, authorize_caller};
use crate::services::enrolments::NewMethod;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::ops::courses::load_course;
use crate::services::ops::methods::load_method;
use crate::services::plans::{RefusedAction, Trial};
use crate::services::queries::UsersSeen;
use crate::services::{Principal, Services, SiteServices};
use crate::storage::site::prelude::*;

/// Most actions a dry-run reconcile report lists.
pub const MAX_REPORTED_ACTIONS: usize = 1000;

/// What a reconcile did, or (dry run) would do.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReconcileReport {
    /// Pages the plugin returned.
    pub pages: u64,
    /// Actions over all pages.
    pub actions: u64,
    pub changed: u64,
    pub unchanged: u64,
    /// False for a dry run: nothing was written.
    pub applied: bool,
    /// A dry run's actions, at most 1,000; none (left out of the JSON)
    /// when applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<Vec<PlanAction>>,
    /// Actions a dry run found the host would refuse (0 when applied: a
    /// refusal fails the run).
    #[serde(default)]
    pub refused_actions: u64,
    /// A dry run's refused actions with the reasons, at most 1,000; none
    /// when applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<Vec<RefusedAction>>,
}

/// What adding a method would do ([`SiteServices::preview_method`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct MethodPreview {
    /// Users it would enrol (or re-activate). Like every count here, it
    /// leaves out the actions the host would refuse.
    pub enrolments: u64,
    /// Of those, users whose site account is suspended: enrolled all the
    /// same (suspension changes no enrolment), but not active participants
    /// until their account is re-activated.
    pub suspended_accounts: u64,
    /// Group memberships it would add.
    pub group_memberships: u64,
    /// Names of the groups it would create.
    pub groups_created: Vec<String>,
    /// Actions over all pages the host would apply.
    pub actions: u64,
    /// Reconcile pages the plugin returned.
    pub pages: u64,
    /// The first 1,000 of those actions.
    pub plan: Vec<PlanAction>,
    /// Actions the host would refuse (another course's group, a user who
    /// does not exist, …): adding the method as it is would fail there.
    pub refused_actions: u64,
    /// The first 1,000 of them, with the reasons.
    pub refused: Vec<RefusedAction>,
}

/// One method's part of a site or course reconcile.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MethodReconcile {
    pub method: EnrolmentMethodId,
    pub course: CourseId,
    /// What it changed; absent when it failed.
    pub report: Option<ReconcileReport>,
    /// Why it failed (also recorded as the method's last error).
    pub error: Option<String>,
}

/// Whether a plan may have disabled or deleted its method.
pub(super) fn ends_method(plan: &Plan) -> bool {
    plan.actions
        .iter()
        .any(|a| matches!(a.op, PlanOp::DisableMethod | PlanOp::DeleteMethod))
}

/// The sink of a reconcile: each page's plan applied in its own
/// transaction (a dry run tries each and lists the actions), paced to the
/// disk by [`Pacing`].
pub(super) struct Applied<'a> {
    mode: ApplyMode,
    /// A dry run's checks across pages.
    trial: RefCell<Trial>,
    pacing: Pacing,
    report: ReconcileReport,
    /// Sees the events each applied page caused.
    caused: &'a mut dyn FnMut(&[EventEnvelope]),
}

impl<'a> Applied<'a> {
    pub(super) fn new(
        site: &SiteServices,
        mode: ApplyMode,
        caused: &'a mut dyn FnMut(&[EventEnvelope]),
    ) -> Self {
        Applied {
            mode,
            trial: RefCell::default(),
            pacing: Pacing::new(site.exec.durable_every()),
            report: ReconcileReport {
                applied: mode == ApplyMode::Apply,
                plan: (mode != ApplyMode::Apply).then(Vec::new),
                ..Default::default()
            },
            caused,
        }
    }

    /// Runs method `m`'s reconcile from `source` into this sink.
    pub(super) fn run(
        mut self,
        site: &SiteServices,
        m: &EnrolmentMethod,
        source: &mut impl PageSource,
    ) -> ServiceResult<ReconcileReport> {
        let record = self.mode == ApplyMode::Apply;
        let out = run_pages(site, m, source, &mut self, record);
        // Also when a page failed: what the earlier pages did stays.
        self.pacing.finish(site)?;
        out?;
        if self.mode == ApplyMode::DryRun {
            let trial = self.trial.into_inner();
            self.report.refused_actions = trial.refused_count;
            self.report.refused = Some(trial.refused);
        }
        Ok(self.report)
    }
}

impl PageSink for Applied<'_> {
    fn take(
        &mut self,
        site: &SiteServices,
        m: &EnrolmentMethod,
        plan: Plan,
        seen: &UsersSeen,
        last: bool,
    ) -> ServiceResult<bool> {
        let dry_run = self.mode == ApplyMode::DryRun;
        let durability = if self.pacing.durable(&plan, dry_run, last) {
            Durability::Durable
        } else {
            Durability::Lazy
        };
        let options = ApplyOptions {
            mode: self.mode,
            durability,
            seen: Some(seen),
            trial: dry_run.then_some(&self.trial),
            unsaved: false,
        };
        let (tally, events) = site.apply_method_plan_with(m, &plan, options)?;
        if !dry_run && !plan.actions.is_empty() {
            crate::failpoints::reconcile_page_committed(durability == Durability::Durable);
        }
        (self.caused)(&events);
        let report = &mut self.report;
        report.pages += 1;
        report.actions += plan.actions.len() as u64;
        report.changed += tally.changed;
        report.unchanged += tally.unchanged;
        if dry_run {
            let shown = report.plan.get_or_insert_default();
            let room = MAX_REPORTED_ACTIONS.saturating_sub(shown.len());
            shown.extend(plan.actions.into_iter().take(room));
            return Ok(false);
        }
        Ok(ends_method(&plan))
    }
}

/// The sink of a preview: every page's plan tried (rolled back) and
/// counted, the refused actions listed.
#[derive(Default)]
struct Previewed {
    preview: MethodPreview,
    trial: RefCell<Trial>,
    /// Keys of the groups counted, so a group created on two pages counts
    /// once.
    groups: HashSet<String>,
}

impl PageSink for Previewed {
    fn take(
        &mut self,
        site: &SiteServices,
        m: &EnrolmentMethod,
        plan: Plan,
        seen: &UsersSeen,
        _last: bool,
    ) -> ServiceResult<bool> {
        let options = ApplyOptions {
            mode: ApplyMode::DryRun,
            durability: Durability::Lazy,
            seen: Some(seen),
            trial: Some(&self.trial),
            unsaved: true,
        };
        site.apply_method_plan_with(m, &plan, options)?;
        let refused: HashSet<usize> = self.trial.borrow().latest.iter().copied().collect();
        let accepted = || {
            plan.actions
                .iter()
                .enumerate()
                .filter(|(i, _)| !refused.contains(i))
                .map(|(_, a)| a)
        };
        let enrolled: Vec<UserId> = accepted()
            .filter_map(|a| match a.op {
                PlanOp::Enrol { user, .. } => Some(user),
                _ => None,
            })
            .collect();
        let preview = &mut self.preview;
        preview.suspended_accounts += site.read(|t| {
            let mut suspended = 0;
            for user in enrolled {
                if t.user_status(user)? == Some(UserStatus::Suspended) {
                    suspended += 1;
                }
            }
            Ok(suspended)
        })?;
        preview.pages += 1;
        for action in accepted() {
            match &action.op {
                PlanOp::Enrol { .. } => preview.enrolments += 1,
                PlanOp::AddToGroup { .. } => preview.group_memberships += 1,
                PlanOp::CreateGroup { key, name, .. } => {
                    if self.groups.insert(key.clone()) {
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
        // Nothing was applied: the method is as it was.
        Ok(false)
    }
}

impl SiteServices {
    /// Brings a method in line with its sources: the plugin's reconcile,
    /// page by page, each page's plan applied in its own transaction (a
    /// dry run applies none and lists the actions).
    pub fn reconcile_method(
        &self,
        who: &Principal,
        method_id: EnrolmentMethodId,
        dry_run: bool,
    ) -> ServiceResult<ReconcileReport> {
        let m = self.read(|t| {
            authorize_caller(&self.site, t, who)?;
            let m = load_method(t, method_id)?;
            authorize(&self.site, t, who, Need::ManageCourse(m.course))?;
            Ok(m)
        })?;
        self.run_reconcile(&m, dry_run, &mut |_| {})
    }

    /// Reconciles one method page by page, each page's plan in its own
    /// transaction (see the module doc); `caused` sees the events each
    /// applied page caused. Authorisation is the caller's.
    pub(crate) fn run_reconcile(
        &self,
        m: &EnrolmentMethod,
        dry_run: bool,
        caused: &mut dyn FnMut(&[EventEnvelope]),
    ) -> ServiceResult<ReconcileReport> {
        Applied::new(self, ApplyMode::of(dry_run), caused).run(self, m, &mut Sandbox)
    }

    /// Runs the reconcile a committed plan asked for (its `reconcile`
    /// action), on the method as the plan left it.
    pub(super) fn reconcile_if_asked(
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

    /// Reconciles every method of the site (or of one course): site
    /// admins for the site, course managers for a course. A method that
    /// fails is reported (and its error recorded) and the others go on.
    pub fn reconcile_site(
        &self,
        who: &Principal,
        course: Option<CourseId>,
        dry_run: bool,
    ) -> ServiceResult<Vec<MethodReconcile>> {
        let methods = self.read(|t| {
            authorize_caller(&self.site, t, who)?;
            match course {
                Some(c) => {
                    authorize(&self.site, t, who, Need::ManageCourse(c))?;
                    load_course(t, c)?;
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

    /// The start-up and scheduled reconcile of every method whose plugin
    /// this host has (no principal: the host's own job).
    pub(crate) fn reconcile_all(&self) -> ServiceResult<Vec<MethodReconcile>> {
        let methods = self.read(|t| Ok(t.all_methods()?))?;
        Ok(self.reconcile_each(methods, false))
    }

    fn reconcile_each(&self, methods: Vec<EnrolmentMethod>, dry_run: bool) -> Vec<MethodReconcile> {
        let mut out = Vec::with_capacity(methods.len());
        for m in methods {
            if self.plugin(&m.plugin).is_err() {
                continue;
            }
            let outcome = self.run_reconcile(&m, dry_run, &mut |_| {});
            out.push(match outcome {
                Ok(report) => MethodReconcile {
                    method: m.id,
                    course: m.course,
                    report: Some(report),
                    error: None,
                },
                Err(e) => MethodReconcile {
                    method: m.id,
                    course: m.course,
                    report: None,
                    error: Some(e.to_string()),
                },
            });
        }
        out
    }

    /// What adding a method would do, without adding it: the plugin
    /// checks the config as for [`add_method`](Self::add_method), then its
    /// reconcile runs against the site as it is, for a method that does
    /// not exist yet (it owns nothing), and the plans are counted, not
    /// applied. Same authorisation as adding.
    pub fn preview_method(
        &self,
        who: &Principal,
        course: CourseId,
        new: NewMethod,
    ) -> ServiceResult<MethodPreview> {
        let (plugin_id, config) = self.checked_new_method(who, course, &new)?;
        let m = EnrolmentMethod {
            // No method has id 0: queries about "its own" rows find none.
            id: EnrolmentMethodId(0),
            course,
            plugin: plugin_id,
            // As it would be named, so that errors name it as they would
            // after adding (an unnamed method takes its plugin's id).
            name: new.checked_name()?,
            // As it would be added: a disabled method's reconcile
            // enrols nobody.
            status: if new.enabled {
                EnrolmentMethodStatus::Enabled
            } else {
                EnrolmentMethodStatus::Disabled
            },
            config,
            created_at: Timestamp::now(),
        };
        let mut sink = Previewed::default();
        run_pages(self, &m, &mut Sandbox, &mut sink, false)?;
        let trial = sink.trial.into_inner();
        sink.preview.refused_actions = trial.refused_count;
        sink.preview.refused = trial.refused;
        Ok(sink.preview)
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
    ) -> ServiceResult<Vec<MethodReconcile>> {
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
