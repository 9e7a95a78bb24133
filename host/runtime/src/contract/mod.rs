//! The plugin contract as the host sees it, whatever version a plugin was
//! built against: the version-neutral API of every call, over domain types,
//! and the dispatch to the module of each supported version.
//!
//! A caller (the services, the plugin harness) speaks only the types of
//! this module: it passes a [`Context`] and an [`Event`], a [`Request`] or a
//! reconcile cursor, answers the plugin's queries through a [`Queries`]
//! object in domain types, and gets a domain [`charon_domain::Plan`] (or a
//! [`ReconcileStep`]), a [`Refusal`] or [`FieldError`]s back. The plugin's
//! self-description is a neutral [`Manifest`].
//!
//! The neutral names are the latest contract's: an **enrolment method** is
//! a `method` ([`Context::method`], [`Event::MethodAdded`],
//! [`Queries::method_enrolments`], …) where contract 0.1.0 says
//! `instance`; `v0_1_0.rs` converts between the two words.
//!
//! Each released contract version has a module of its own here
//! (`v0_1_0.rs`, `v0_2_0.rs`; Zed's `extension_host` `wit/since_v*.rs`
//! being the model): its `bindgen!` of the frozen WIT folder and every
//! conversion between its generated types and the neutral ones, its host
//! interface for the linker and its calls of the plugin's exports (a
//! `MethodCalls`). A [`Plugin`](crate::Plugin) keeps, as a `Bindings` arm,
//! which version it speaks (read from its custom section at load); each
//! call is dispatched on it. What holds for every version stays neutral
//! and is written once: the capability checks and page caps of the queries
//! (`queries.rs`), the plan size limits (`limits.rs`), the manifest checks
//! (`inspect.rs`).
//!
//! Adding contract version X.Y.Z takes: the WIT in `sdk/wit/since_vX.Y.Z/`
//! and its line in `charon-contract` (`released!` and `SUPPORTED`); a module
//! `vX_Y_Z.rs` here like `v0_2_0.rs`; one arm of `Bindings` (the compiler
//! then points at the two `match`es to extend) and the module's
//! `add_to_linker` call in this module's `add_to_linker`. What the new
//! version adds to the vocabulary is added to the neutral types, which
//! older versions' modules then convert from (or leave out). A released
//! version's module never changes but for what the neutral types it
//! converts to become.
//!
//! Never touches storage or the services: it converts and calls, nothing
//! more.

mod queries;
mod v0_1_0;
mod v0_2_0;
mod v0_3_0;
mod v0_4_0;

use charon_domain::{
    CourseGroupId, CourseId, EnrolmentMethodId, Plan, PluginConfigField, PluginManifest, Role,
    SegmentId, SegmentPlan, Timestamp, UserChanges, UserId,
};
use wasmtime::Store;
use wasmtime::component::{
    Component, ComponentExportIndex, ComponentNamedList, Instance, InstancePre, Lift, Linker, Lower,
};

use crate::PluginError;
use crate::state::CallState;

pub(crate) use queries::Guarded;
pub use queries::{Page, Queries, SegmentMember, no_queries};

// ------------------------------------------------------------------ calls

/// What every call of an enrolment method receives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Context {
    pub method: EnrolmentMethodId,
    pub course: CourseId,
    /// The method's config as JSON, validated by the plugin.
    pub config: String,
    /// The plugin's site-wide settings as a JSON object, every field of
    /// the manifest's `settings` with its default where the site set none.
    pub settings: String,
    pub enabled: bool,
    /// The host's clock at the start of the call.
    pub now: Timestamp,
}

/// What every call of a segment rule receives (contract 0.4.0 on).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleContext {
    /// The segment the rule manages: its only segment in scope.
    pub segment: SegmentId,
    /// The rule's config as JSON, validated by the plugin.
    pub config: String,
    /// The plugin's site-wide settings as a JSON object.
    pub settings: String,
    /// The host's clock at the start of the call.
    pub now: Timestamp,
}

/// A step of a segment rule's reconcile: the plan of one page and the
/// cursor of the next (`None` once the segment is in line).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentStep {
    pub plan: SegmentPlan,
    pub next: Option<String>,
}

/// What a plugin is for: which interface the host calls.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum PluginKind {
    /// Attached to courses as enrolment methods (every plugin before
    /// contract 0.4.0).
    #[default]
    EnrolmentMethod,
    /// Attached to a segment, whose members it alone manages.
    SegmentRule,
}

impl PluginKind {
    /// The contract's name of the kind.
    pub fn name(self) -> &'static str {
        match self {
            PluginKind::EnrolmentMethod => "enrolment-method",
            PluginKind::SegmentRule => "segment-rule",
        }
    }
}

/// Something that happened in the site, as an enrolment method receives
/// it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    UserEnrolled {
        user: UserId,
        method: EnrolmentMethodId,
    },
    UserUnenrolled {
        user: UserId,
        method: EnrolmentMethodId,
    },
    EnrolmentUpdated {
        user: UserId,
        method: EnrolmentMethodId,
    },
    SegmentMemberAdded {
        user: UserId,
        segment: SegmentId,
    },
    SegmentMemberRemoved {
        user: UserId,
        segment: SegmentId,
    },
    SegmentDeleted(SegmentId),
    GroupMemberAdded {
        user: UserId,
        group: CourseGroupId,
    },
    GroupMemberRemoved {
        user: UserId,
        group: CourseGroupId,
    },
    GroupDeleted(CourseGroupId),
    UserSuspended(UserId),
    UserReactivated(UserId),
    UserDeleted(UserId),
    /// Contract 0.3.0 on: a user was added to the site.
    UserCreated(UserId),
    /// Contract 0.3.0 on: a user's details changed, and which.
    UserUpdated {
        user: UserId,
        changes: UserChanges,
    },
    /// The called method itself was added, enabled, disabled or
    /// reconfigured. (Nothing says it is about to be deleted: the host
    /// deletes a method with no call, see [`EventKind::MethodDeleted`].)
    MethodAdded,
    MethodEnabled,
    MethodDisabled,
    MethodUpdated,
}

impl Event {
    /// The kind a manifest asks for to receive this event.
    pub fn kind(&self) -> EventKind {
        use EventKind as K;
        match self {
            Event::UserEnrolled { .. } => K::UserEnrolled,
            Event::UserUnenrolled { .. } => K::UserUnenrolled,
            Event::EnrolmentUpdated { .. } => K::EnrolmentUpdated,
            Event::SegmentMemberAdded { .. } => K::SegmentMemberAdded,
            Event::SegmentMemberRemoved { .. } => K::SegmentMemberRemoved,
            Event::SegmentDeleted(_) => K::SegmentDeleted,
            Event::GroupMemberAdded { .. } => K::GroupMemberAdded,
            Event::GroupMemberRemoved { .. } => K::GroupMemberRemoved,
            Event::GroupDeleted(_) => K::GroupDeleted,
            Event::UserSuspended(_) => K::UserSuspended,
            Event::UserReactivated(_) => K::UserReactivated,
            Event::UserDeleted(_) => K::UserDeleted,
            Event::UserCreated(_) => K::UserCreated,
            Event::UserUpdated { .. } => K::UserUpdated,
            Event::MethodAdded => K::MethodAdded,
            Event::MethodEnabled => K::MethodEnabled,
            Event::MethodDisabled => K::MethodDisabled,
            Event::MethodUpdated => K::MethodUpdated,
        }
    }
}

/// The kinds of [`Event`] a plugin can ask to receive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventKind {
    UserEnrolled,
    UserUnenrolled,
    EnrolmentUpdated,
    SegmentMemberAdded,
    SegmentMemberRemoved,
    SegmentDeleted,
    GroupMemberAdded,
    GroupMemberRemoved,
    GroupDeleted,
    UserSuspended,
    UserReactivated,
    UserDeleted,
    UserCreated,
    UserUpdated,
    MethodAdded,
    MethodEnabled,
    MethodDisabled,
    MethodUpdated,
    /// Contract 0.1.0's `instance-deleted`, which a 0.1.0 plugin may ask
    /// for but which is never sent: no [`Event`] has this kind. The host
    /// deletes a method, its enrolments and its memberships in one
    /// transaction, which a plugin call must not hold open; 0.2.0 dropped
    /// the kind.
    MethodDeleted,
}

impl EventKind {
    /// The kind's name in the latest contract that has it (a plugin's own
    /// version may spell it otherwise: see [`Manifest::to_registry`]).
    pub fn name(self) -> &'static str {
        use EventKind as K;
        match self {
            K::UserEnrolled => "user-enrolled",
            K::UserUnenrolled => "user-unenrolled",
            K::EnrolmentUpdated => "enrolment-updated",
            K::SegmentMemberAdded => "segment-member-added",
            K::SegmentMemberRemoved => "segment-member-removed",
            K::SegmentDeleted => "segment-deleted",
            K::GroupMemberAdded => "group-member-added",
            K::GroupMemberRemoved => "group-member-removed",
            K::GroupDeleted => "group-deleted",
            K::UserSuspended => "user-suspended",
            K::UserReactivated => "user-reactivated",
            K::UserDeleted => "user-deleted",
            K::UserCreated => "user-created",
            K::UserUpdated => "user-updated",
            K::MethodAdded => "method-added",
            K::MethodEnabled => "method-enabled",
            K::MethodDisabled => "method-disabled",
            K::MethodUpdated => "method-updated",
            K::MethodDeleted => "instance-deleted",
        }
    }
}

/// A request a person makes through an enrolment method; the caller has
/// already checked that they may make it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// An admin or teacher enrols users (manual enrolment).
    EnrolUsers {
        users: Vec<UserId>,
        role: Option<Role>,
        group: Option<CourseGroupId>,
        /// The site user who asked; `None` for an operator.
        requested_by: Option<UserId>,
    },
    /// An admin or teacher unenrols users from the method.
    UnenrolUsers(Vec<UserId>),
    /// A user enrols themselves, with the enrolment key they typed.
    SelfEnrol { user: UserId, key: Option<String> },
    /// A user leaves the course.
    SelfUnenrol(UserId),
}

impl Request {
    /// The kind a manifest lists to say it answers this request.
    pub fn kind(&self) -> RequestKind {
        match self {
            Request::EnrolUsers { .. } => RequestKind::EnrolUsers,
            Request::UnenrolUsers(_) => RequestKind::UnenrolUsers,
            Request::SelfEnrol { .. } => RequestKind::SelfEnrol,
            Request::SelfUnenrol(_) => RequestKind::SelfUnenrol,
        }
    }
}

/// The kinds of [`Request`] a plugin can say it answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RequestKind {
    EnrolUsers,
    UnenrolUsers,
    SelfEnrol,
    SelfUnenrol,
}

impl RequestKind {
    /// Every kind: what a plugin of a contract that cannot say which it
    /// answers (0.1.0) counts as answering.
    pub const ALL: [RequestKind; 4] = [
        RequestKind::EnrolUsers,
        RequestKind::UnenrolUsers,
        RequestKind::SelfEnrol,
        RequestKind::SelfUnenrol,
    ];
}

/// A step of a reconcile: the plan of one page and the cursor of the next
/// (`None` once the method is reconciled).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReconcileStep {
    pub plan: Plan,
    pub next: Option<String>,
}

/// A plugin's "no" to a call: its own stable code, a message for the person
/// who asked, and the field of the request it concerns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub code: String,
    pub message: String,
    pub field: Option<String>,
}

/// A config value a plugin refuses: the config key (empty for the whole
/// config) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Why a host query failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostError {
    /// The manifest does not declare the capability the query needs.
    Denied(String),
    /// What was asked for is outside the method's scope (e.g. a group of
    /// another course).
    OutOfScope(String),
    /// The host could not answer; the call will be retried later.
    Unavailable(String),
}

/// How loud a plugin's log line is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogLevel {
    Debug,
    Info,
    Warn,
    Error,
}

// -------------------------------------------------------------- manifests

/// What a plugin may ask the host for; the manifest lists what it needs,
/// and a query outside that list is denied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Capability {
    ReadUsers,
    ReadSegments,
    ReadEnrolments,
    ReadGroups,
    /// A running WASI clock; without it the clock reads the epoch.
    Clock,
}

impl Capability {
    /// The contract's name of the capability, as the registry keeps it.
    pub fn name(self) -> &'static str {
        match self {
            Capability::ReadUsers => "read-users",
            Capability::ReadSegments => "read-segments",
            Capability::ReadEnrolments => "read-enrolments",
            Capability::ReadGroups => "read-groups",
            Capability::Clock => "clock",
        }
    }
}

/// A plugin's description of itself (`describe`), checked at load.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Manifest {
    /// Stable id: `[a-z0-9-]`, e.g. `self`.
    pub id: String,
    /// Which interface the host calls; an enrolment method for every
    /// contract before 0.4.0.
    pub kind: PluginKind,
    pub name: String,
    /// `MAJOR.MINOR.PATCH`.
    pub version: String,
    pub description: String,
    /// The form of a method's config, in the plugin's order.
    pub config: Vec<PluginConfigField>,
    /// The form of the plugin's site-wide settings, in its order.
    pub settings: Vec<PluginConfigField>,
    /// The events it asks to receive.
    pub events: Vec<EventKind>,
    /// The requests it answers (every kind for a 0.1.0 plugin, whose
    /// manifest cannot say).
    pub requests: Vec<RequestKind>,
    /// The host queries it needs.
    pub capabilities: Vec<Capability>,
}

impl Manifest {
    /// Whether the plugin says it answers requests of this kind.
    pub fn answers(&self, kind: RequestKind) -> bool {
        self.requests.contains(&kind)
    }
}

impl Manifest {
    /// What the registry keeps of a manifest: events and capabilities by
    /// their names in the contract the plugin speaks (a 0.1.0 plugin's
    /// `instance-added` stays `instance-added`, as it always was kept), so
    /// a later contract may add some without a migration. (The requests it
    /// answers are read from the loaded component, which every call needs
    /// anyway.)
    pub(crate) fn to_registry(&self, bindings: &Bindings) -> PluginManifest {
        PluginManifest {
            id: self.id.clone(),
            name: self.name.clone(),
            version: self.version.clone(),
            description: self.description.clone(),
            config: self.config.clone(),
            events: self
                .events
                .iter()
                .map(|&e| bindings.event_name(e).to_owned())
                .collect(),
            capabilities: self
                .capabilities
                .iter()
                .map(|c| c.name().to_owned())
                .collect(),
        }
    }
}

// --------------------------------------------------------------- versions

/// The contract version a loaded plugin speaks, with where its exports are.
/// One arm per supported version; every call is dispatched on it.
pub(crate) enum Bindings {
    V0_1_0(v0_1_0::Exports),
    V0_2_0(v0_2_0::Exports),
    V0_3_0(v0_3_0::Exports),
    V0_4_0(v0_4_0::Exports),
}

/// Gives the linker the host interface of every supported version: a
/// plugin imports its own version's.
pub(crate) fn add_to_linker(linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
    v0_1_0::add_to_linker(linker)?;
    v0_2_0::add_to_linker(linker)?;
    v0_3_0::add_to_linker(linker)?;
    v0_4_0::add_to_linker(linker)
}

impl Bindings {
    /// The name of an event kind in this version of the contract.
    fn event_name(&self, kind: EventKind) -> &'static str {
        match self {
            Bindings::V0_1_0(_) => v0_1_0::event_name(kind),
            Bindings::V0_2_0(_) | Bindings::V0_3_0(_) | Bindings::V0_4_0(_) => kind.name(),
        }
    }

    /// The bindings of contract `version` for a component, refused when
    /// the component does not export that version's `method` interface.
    pub(crate) fn of(version: &str, pre: &InstancePre<CallState>) -> Result<Self, PluginError> {
        match version {
            charon_contract::V0_1_0 => v0_1_0::Exports::find(pre).map(Bindings::V0_1_0),
            charon_contract::V0_2_0 => v0_2_0::Exports::find(pre).map(Bindings::V0_2_0),
            charon_contract::V0_3_0 => v0_3_0::Exports::find(pre).map(Bindings::V0_3_0),
            charon_contract::V0_4_0 => v0_4_0::Exports::find(pre).map(Bindings::V0_4_0),
            other => Err(PluginError::Invalid(format!(
                "this host has no bindings of contract version {other:?}"
            ))),
        }
    }

    /// The calls of the plugin's version.
    pub(crate) fn calls(&self) -> &dyn MethodCalls {
        match self {
            Bindings::V0_1_0(exports) => exports,
            Bindings::V0_2_0(exports) => exports,
            Bindings::V0_3_0(exports) => exports,
            Bindings::V0_4_0(exports) => exports,
        }
    }

    /// The config migration of the plugin's version, `None` before 0.4.0
    /// (an older plugin's config is only re-checked).
    pub(crate) fn migrate_calls(&self) -> Option<&dyn MigrateCalls> {
        match self {
            Bindings::V0_1_0(_) | Bindings::V0_2_0(_) | Bindings::V0_3_0(_) => None,
            Bindings::V0_4_0(exports) => Some(exports),
        }
    }

    /// The segment-rule calls of the plugin's version, `None` before
    /// 0.4.0.
    pub(crate) fn rule_calls(&self) -> Option<&dyn RuleCalls> {
        match self {
            Bindings::V0_1_0(_) | Bindings::V0_2_0(_) | Bindings::V0_3_0(_) => None,
            Bindings::V0_4_0(exports) => Some(exports),
        }
    }
}

/// `method.migrate-config` (0.4.0 on), in neutral types.
pub(crate) trait MigrateCalls {
    fn migrate_config(
        &self,
        i: &Instance,
        s: &mut Store<CallState>,
        course: CourseId,
        from_version: &str,
        config: &str,
    ) -> wasmtime::Result<Result<String, Vec<FieldError>>>;
}

/// The functions of a version's `segment-rule` interface (0.4.0 on), in
/// neutral types.
pub(crate) trait RuleCalls {
    fn validate_rule(
        &self,
        i: &Instance,
        s: &mut Store<CallState>,
        segment: SegmentId,
        config: &str,
    ) -> wasmtime::Result<Result<String, Vec<FieldError>>>;

    fn rule_event(
        &self,
        i: &Instance,
        s: &mut Store<CallState>,
        ctx: &RuleContext,
        event: &Event,
    ) -> wasmtime::Result<Result<SegmentPlan, Refusal>>;

    fn rule_reconcile(
        &self,
        i: &Instance,
        s: &mut Store<CallState>,
        ctx: &RuleContext,
        cursor: Option<&str>,
    ) -> wasmtime::Result<Result<SegmentStep, Refusal>>;
}

/// The functions of a version's `method` interface, called in neutral
/// types: what every version's module implements, converting to and from
/// its own types around the call.
pub(crate) trait MethodCalls {
    fn describe(&self, i: &Instance, s: &mut Store<CallState>) -> wasmtime::Result<Manifest>;

    fn validate_config(
        &self,
        i: &Instance,
        s: &mut Store<CallState>,
        course: CourseId,
        config: &str,
    ) -> wasmtime::Result<Result<String, Vec<FieldError>>>;

    fn handle_event(
        &self,
        i: &Instance,
        s: &mut Store<CallState>,
        ctx: &Context,
        event: &Event,
    ) -> wasmtime::Result<Result<Plan, Refusal>>;

    fn handle_request(
        &self,
        i: &Instance,
        s: &mut Store<CallState>,
        ctx: &Context,
        request: &Request,
    ) -> wasmtime::Result<Result<Plan, Refusal>>;

    fn reconcile(
        &self,
        i: &Instance,
        s: &mut Store<CallState>,
        ctx: &Context,
        cursor: Option<&str>,
    ) -> wasmtime::Result<Result<ReconcileStep, Refusal>>;
}

/// Where the functions of a version's `method` interface are in a
/// component, found once at load: a call then looks up and typechecks only
/// the function it runs (the generated bindings would typecheck all of
/// them on every instantiation, a measurable share of a no-op call). The
/// functions' names are the same in every version so far.
pub(crate) struct ExportIndexes {
    pub(crate) describe: ComponentExportIndex,
    pub(crate) validate_config: ComponentExportIndex,
    pub(crate) handle_event: ComponentExportIndex,
    pub(crate) handle_request: ComponentExportIndex,
    pub(crate) reconcile: ComponentExportIndex,
}

impl ExportIndexes {
    /// The functions of `interface` (a version's full `method` name).
    pub(crate) fn find(component: &Component, interface: &str) -> Result<Self, PluginError> {
        let interface = component
            .get_export_index(None, interface)
            .ok_or_else(|| missing_export(interface))?;
        let func = |name: &str| {
            component
                .get_export_index(Some(&interface), name)
                .ok_or_else(|| missing_export(name))
        };
        Ok(Self {
            describe: func("describe")?,
            validate_config: func("validate-config")?,
            handle_event: func("handle-event")?,
            handle_request: func("handle-request")?,
            reconcile: func("reconcile")?,
        })
    }
}

/// The [`MethodCalls`] of a version's module, written once: each call
/// converts the neutral arguments into the module's `wit` types, runs the
/// export and converts the answer back, through the `From` conversions
/// the module defines (`&Context` → `wit::Context`, `wit::Plan` → `Plan`,
/// …). Expanded inside the module, where `wit` and `Exports` (a newtype
/// of [`ExportIndexes`]) are its own.
macro_rules! method_calls {
    () => {
        impl $crate::contract::MethodCalls for Exports {
            fn describe(
                &self,
                i: &wasmtime::component::Instance,
                s: &mut wasmtime::Store<$crate::state::CallState>,
            ) -> wasmtime::Result<$crate::contract::Manifest> {
                $crate::contract::call_export::<(), wit::Manifest>(i, s, &self.0.describe, ())
                    .map(Into::into)
            }

            fn validate_config(
                &self,
                i: &wasmtime::component::Instance,
                s: &mut wasmtime::Store<$crate::state::CallState>,
                course: charon_domain::CourseId,
                config: &str,
            ) -> wasmtime::Result<Result<String, Vec<$crate::contract::FieldError>>> {
                let out = $crate::contract::call_export::<
                    (u64, &str),
                    Result<String, Vec<wit::FieldError>>,
                >(i, s, &self.0.validate_config, (course.0, config))?;
                Ok(out.map_err(|errors| errors.into_iter().map(Into::into).collect()))
            }

            fn handle_event(
                &self,
                i: &wasmtime::component::Instance,
                s: &mut wasmtime::Store<$crate::state::CallState>,
                ctx: &$crate::contract::Context,
                event: &$crate::contract::Event,
            ) -> wasmtime::Result<Result<charon_domain::Plan, $crate::contract::Refusal>> {
                let out = $crate::contract::call_export::<
                    (&wit::Context, &wit::Event),
                    Result<wit::Plan, wit::Refusal>,
                >(
                    i,
                    s,
                    &self.0.handle_event,
                    (&ctx.into(), &wit::Event::try_from(event)?),
                )?;
                Ok(out.map(Into::into).map_err(Into::into))
            }

            fn handle_request(
                &self,
                i: &wasmtime::component::Instance,
                s: &mut wasmtime::Store<$crate::state::CallState>,
                ctx: &$crate::contract::Context,
                request: &$crate::contract::Request,
            ) -> wasmtime::Result<Result<charon_domain::Plan, $crate::contract::Refusal>> {
                let out = $crate::contract::call_export::<
                    (&wit::Context, &wit::Request),
                    Result<wit::Plan, wit::Refusal>,
                >(i, s, &self.0.handle_request, (&ctx.into(), &request.into()))?;
                Ok(out.map(Into::into).map_err(Into::into))
            }

            fn reconcile(
                &self,
                i: &wasmtime::component::Instance,
                s: &mut wasmtime::Store<$crate::state::CallState>,
                ctx: &$crate::contract::Context,
                cursor: Option<&str>,
            ) -> wasmtime::Result<Result<$crate::contract::ReconcileStep, $crate::contract::Refusal>>
            {
                let out = $crate::contract::call_export::<
                    (&wit::Context, Option<&str>),
                    Result<wit::ReconcileStep, wit::Refusal>,
                >(i, s, &self.0.reconcile, (&ctx.into(), cursor))?;
                Ok(out
                    .map(|step| $crate::contract::ReconcileStep {
                        plan: step.plan.into(),
                        next: step.next,
                    })
                    .map_err(Into::into))
            }
        }
    };
}

use method_calls;

fn missing_export(what: &str) -> PluginError {
    PluginError::Invalid(format!(
        "the component does not export {what} of the enrolment-method contract"
    ))
}

/// Runs one exported function with its types checked here (a mismatch is
/// an error, never undefined behaviour). The call's post-return cleanup
/// happens inside `call` in wasmtime 48.
pub(crate) fn call_export<P, R>(
    instance: &Instance,
    store: &mut Store<CallState>,
    index: &ComponentExportIndex,
    params: P,
) -> wasmtime::Result<R>
where
    P: ComponentNamedList + Lower,
    R: Lift + 'static,
{
    let func = instance.get_typed_func::<P, (R,)>(&mut *store, index)?;
    let (out,) = func.call(&mut *store, params)?;
    Ok(out)
}
