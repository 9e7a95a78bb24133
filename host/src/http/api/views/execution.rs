//! Running enrolment methods: plans, what a request, a reconcile or a
//! preview did, and how an enrolment method is doing.

use serde::{Deserialize, Serialize};

use super::{
    CourseGroupIdView, CourseIdView, EnrolmentMethodIdView, EnrolmentMethodStatusView, Mirror,
    RoleView, TimestampView, UserIdView, mirror_enum, mirror_struct,
};
use crate::domain::{
    MethodError, MethodWarning, MethodWarningKind, Plan, PlanAction, PlanGroup, PlanOp,
};
use crate::services::execution::{
    MethodPreview, MethodReconcile, MethodRunStatus, ReconcileReport, RefusedAction, RequestOutcome,
};

/// A group a plan action names: one that exists, or one created earlier in
/// the same plan by the `key` of its `create_group` action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = PlanGroup)]
pub enum PlanGroupView {
    Existing(CourseGroupIdView),
    Created(String),
}

mirror_enum!(PlanGroup, PlanGroupView { Existing(id), Created(key) });

/// One change a plugin asks for. Enrolments are always the method's
/// own; memberships it adds are owned by it, and only those it removes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = PlanOp)]
pub enum PlanOpView {
    /// Enrol, or re-activate and set the role of the method's enrolment.
    Enrol {
        user: UserIdView,
        role: RoleView,
    },
    Suspend {
        user: UserIdView,
    },
    Unenrol {
        user: UserIdView,
    },
    SetRole {
        user: UserIdView,
        role: Option<RoleView>,
    },
    AddToGroup {
        user: UserIdView,
        group: PlanGroupView,
    },
    RemoveFromGroup {
        user: UserIdView,
        group: PlanGroupView,
    },
    /// `key` names the group for later actions and later plans of the
    /// enrolment method; when the method already created a group under it that
    /// still exists, nothing is created.
    CreateGroup {
        key: String,
        name: String,
        idnumber: Option<String>,
    },
    /// Disable the enrolment method; its enrolments stay.
    // The API keeps contract 0.1.0's word on the wire (`disable_instance`,
    // with the descriptions the document has always had).
    #[serde(rename = "disable_instance")]
    DisableMethod,
    /// Delete the enrolment method with its enrolments and owned memberships; the
    /// plan's last action.
    #[serde(rename = "delete_instance")]
    DeleteMethod,
    /// Reconcile the enrolment method once the plan is applied.
    Reconcile,
}

mirror_enum!(
    PlanOp,
    PlanOpView {
        Enrol { user, role },
        Suspend { user },
        Unenrol { user },
        SetRole { user, role },
        AddToGroup { user, group },
        RemoveFromGroup { user, group },
        CreateGroup { key, name, idnumber },
        DisableMethod,
        DeleteMethod,
        Reconcile,
    }
);

/// One action of a plan with the plugin's reason, kept in the audit log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = PlanAction)]
pub struct PlanActionView {
    pub op: PlanOpView,
    pub reason: String,
}

mirror_struct!(PlanAction, PlanActionView { op, reason });

/// What a plugin asks the host to change, in order. Applied whole or not
/// at all.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = Plan)]
pub struct PlanView {
    pub actions: Vec<PlanActionView>,
}

mirror_struct!(Plan, PlanView { actions });

/// What a request did, or (dry run) would do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = RequestOutcome)]
pub struct RequestOutcomeView {
    /// The plan the plugin returned.
    pub plan: PlanView,
    /// False for a dry run: nothing was written.
    pub applied: bool,
    /// Actions that changed (or would change) something.
    pub changed: u64,
    /// Actions that found the site already as they wanted it.
    pub unchanged: u64,
}

mirror_struct!(
    RequestOutcome,
    RequestOutcomeView {
        plan,
        applied,
        changed,
        unchanged,
    }
);

/// An action a dry run or preview found the host would refuse, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = RefusedAction)]
pub struct RefusedActionView {
    /// The reconcile page it came in, from 1.
    pub page: u64,
    /// Its position in that page's plan, from 1.
    pub position: u64,
    pub action: PlanActionView,
    /// Why the host would refuse it.
    pub reason: String,
}

mirror_struct!(
    RefusedAction,
    RefusedActionView {
        page,
        position,
        action,
        reason,
    }
);

/// What a reconcile did, or (dry run) would do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = ReconcileReport)]
pub struct ReconcileReportView {
    /// Pages the plugin returned.
    pub pages: u64,
    /// Actions over all pages.
    pub actions: u64,
    pub changed: u64,
    pub unchanged: u64,
    /// False for a dry run: nothing was written.
    pub applied: bool,
    /// A dry run's actions, at most 1,000; left out when applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<Vec<PlanActionView>>,
    /// Actions a dry run found the host would refuse (0 when applied: a
    /// refused action fails a real run, and nothing of its page is
    /// written).
    #[serde(default)]
    pub refused_actions: u64,
    /// A dry run's refused actions with the reasons, at most 1,000; left
    /// out when applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<Vec<RefusedActionView>>,
}

mirror_struct!(
    ReconcileReport,
    ReconcileReportView {
        pages,
        actions,
        changed,
        unchanged,
        applied,
        plan,
        refused_actions,
        refused,
    }
);

/// What adding an enrolment method would do ([`SiteServices::preview_method`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = MethodPreview)]
pub struct MethodPreviewView {
    /// Users it would enrol (or re-activate). Like every count here, it
    /// leaves out the actions the host would refuse.
    pub enrolments: u64,
    /// Of those, users whose site account is suspended: enrolled all the
    /// same, not active participants until re-activated.
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
    pub plan: Vec<PlanActionView>,
    /// Actions the host would refuse (another course's group, a user who
    /// does not exist, …): adding the enrolment method as it is would fail there.
    pub refused_actions: u64,
    /// The first 1,000 of them, with the reasons.
    pub refused: Vec<RefusedActionView>,
}

mirror_struct!(
    MethodPreview,
    MethodPreviewView {
        enrolments,
        suspended_accounts,
        group_memberships,
        groups_created,
        actions,
        pages,
        plan,
        refused_actions,
        refused,
    }
);

/// How an enrolment method's first run went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FirstRunOutcomeView {
    /// Its first reconcile ran: `report` says what it did.
    Done,
    /// Its first reconcile failed: `error` says why (also the method's
    /// last error, on its status and pages). The method stays added.
    Failed,
    /// Added disabled: nothing runs until it is enabled.
    NotRun,
    /// Asked not to wait (`wait_for_first_run: false`): the dispatcher runs
    /// it; `GET /methods/{id}/status` tells how it went.
    Deferred,
}

/// An enrolment method's first run, as adding it reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FirstRunView {
    pub outcome: FirstRunOutcomeView,
    /// What it did, when it ran.
    pub report: Option<ReconcileReportView>,
    /// Why it failed.
    pub error: Option<MethodErrorView>,
}

impl From<crate::services::execution::FirstRun> for FirstRunView {
    fn from(run: crate::services::execution::FirstRun) -> Self {
        use crate::services::execution::FirstRun;
        let (outcome, report, error) = match run {
            FirstRun::Done(report) => (FirstRunOutcomeView::Done, Some(report.mirror()), None),
            FirstRun::Failed(error) => (FirstRunOutcomeView::Failed, None, Some(error.mirror())),
            FirstRun::NotRun => (FirstRunOutcomeView::NotRun, None, None),
        };
        FirstRunView {
            outcome,
            report,
            error,
        }
    }
}

/// One enrolment method's part of a site or course reconcile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = MethodReconcile)]
pub struct MethodReconcileView {
    pub method: EnrolmentMethodIdView,
    pub course: CourseIdView,
    /// What it changed; absent when it failed.
    pub report: Option<ReconcileReportView>,
    /// Why it failed (also recorded as the method's last error).
    pub error: Option<String>,
}

mirror_struct!(
    MethodReconcile,
    MethodReconcileView {
        method,
        course,
        report,
        error,
    }
);

/// Why an enrolment method's last plugin call failed: the plugin misbehaved
/// (timeout, memory, crash, a plan too large), refused an event, or
/// returned a plan the host rejected.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = MethodError)]
pub struct MethodErrorView {
    /// A stable code, e.g. `plugin_timeout`, `plan_rejected`.
    pub code: String,
    pub message: String,
    pub at: TimestampView,
}

mirror_struct!(MethodError, MethodErrorView { code, message, at });

/// What a [`MethodWarningView`] is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = MethodWarningKind)]
pub enum MethodWarningKindView {
    /// The group the method put its members in (named in its config, or
    /// created by it) was deleted; the host cleared the method's group, so
    /// it groups no one until its config is saved with a group again.
    GroupDeleted {
        group: CourseGroupIdView,
        /// The group's name when it was deleted.
        name: String,
        /// The key the method had created it under, if it created it.
        key: Option<String>,
    },
}

mirror_enum!(MethodWarningKind, MethodWarningKindView { GroupDeleted { group, name, key } });

/// Something about an enrolment method its course's staff must act on:
/// shown until dismissed, kept until the method's config is saved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = MethodWarning)]
pub struct MethodWarningView {
    pub kind: MethodWarningKindView,
    /// When it happened.
    pub at: TimestampView,
    /// Hidden from the pages by a person.
    pub dismissed: bool,
}

mirror_struct!(
    MethodWarning,
    MethodWarningView {
        kind,
        at,
        dismissed
    }
);

/// How an enrolment method is doing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = MethodRunStatus)]
pub struct MethodRunStatusView {
    pub method: EnrolmentMethodIdView,
    pub course: CourseIdView,
    pub status: EnrolmentMethodStatusView,
    pub plugin: String,
    /// The loaded plugin's version; absent when the plugin is not
    /// available on this host.
    pub plugin_version: Option<String>,
    /// The last failure of a plugin call, if any.
    pub last_error: Option<MethodErrorView>,
    /// Failed calls since the method was added.
    pub error_count: u64,
    /// What its course's staff must act on (its group was deleted),
    /// absent when there is nothing or it was dismissed.
    pub warning: Option<MethodWarningView>,
}

mirror_struct!(
    MethodRunStatus,
    MethodRunStatusView {
        method,
        course,
        status,
        plugin,
        plugin_version,
        last_error,
        error_count,
        warning,
    }
);
