//! The services' side of the plugin contract: every conversion between the
//! host's domain types and the contract's (`runtime::wit`), and the one
//! function that makes a call of an instance's plugin.
//!
//! The rest of the services speak domain types only: they ask with an
//! [`Ask`] (a [`HostEvent`], a [`HostRequest`] or a reconcile cursor) and
//! get an [`Answer`] (a domain [`Plan`] and the next cursor) or a
//! [`Refusal`]. A plugin's manifest is read through [`manifest_of`] and
//! [`settings_fields`]. Whatever a new contract version changes is handled
//! here (and in `queries`, which answers the contract's queries), so the
//! services above do not change with it.
//!
//! Never reads or writes the site: it converts and calls, nothing more.

use super::error::ServiceError;
use crate::domain::*;
use crate::runtime::wit::{self, EventKind};
use crate::runtime::{Plugin, PluginError, Queries, Runtime};

// ------------------------------------------------------------------ calls

/// What the host asks of an instance's plugin in one call.
#[derive(Clone, Copy)]
pub(crate) enum Ask<'a> {
    Event(&'a HostEvent),
    Request(&'a HostRequest),
    /// The reconcile page after this cursor (`None`: the first page).
    Reconcile(Option<&'a str>),
}

/// A plugin's answer: the plan it wants applied and, for a reconcile page,
/// the cursor of the next page (`None`: that was the last).
pub(crate) struct Answer {
    pub(crate) plan: Plan,
    pub(crate) next: Option<String>,
}

/// A plugin's "no" to a call: its own stable code, a message for the person
/// who asked, and the field of the request it concerns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) code: String,
    pub(crate) message: String,
    pub(crate) field: Option<String>,
}

impl From<Refusal> for ServiceError {
    /// The one place a plugin's refusal becomes the caller's error.
    fn from(r: Refusal) -> Self {
        ServiceError::Refused {
            code: r.code,
            message: r.message,
            field: r.field,
        }
    }
}

impl From<wit::Refusal> for Refusal {
    fn from(r: wit::Refusal) -> Self {
        Refusal {
            code: r.code,
            message: r.message,
            field: r.field,
        }
    }
}

/// Calls `plugin` for instance `m`, with `queries` and the plugin's
/// effective site `settings` (JSON), and turns its answer into domain
/// types. `Err` is the runtime's: the plugin misbehaved or the sandbox
/// failed.
pub(crate) fn call(
    runtime: &Runtime,
    plugin: &Plugin,
    queries: Box<dyn Queries>,
    m: &EnrolmentMethod,
    settings: String,
    ask: Ask<'_>,
) -> Result<Result<Answer, Refusal>, PluginError> {
    let ctx = context(m, settings);
    let plan_only = |plan: wit::Plan| Answer {
        plan: plan.into(),
        next: None,
    };
    Ok(match ask {
        Ask::Event(e) => runtime
            .handle_event(plugin, queries, &ctx, &e.event)?
            .map(plan_only),
        Ask::Request(r) => runtime
            .handle_request(plugin, queries, &ctx, &r.0)?
            .map(plan_only),
        Ask::Reconcile(cursor) => runtime
            .reconcile(plugin, queries, &ctx, cursor)?
            .map(answer_of),
    }
    .map_err(Refusal::from))
}

/// The context of every call of instance `m`.
pub(crate) fn context(m: &EnrolmentMethod, settings: String) -> wit::Context {
    wit::Context {
        instance: m.id.0,
        course: m.course.0,
        config: m.config.clone(),
        settings,
        enabled: m.status == EnrolmentMethodStatus::Enabled,
        now: Timestamp::now().0,
    }
}

/// A reconcile page as the host applies it.
pub(crate) fn answer_of(step: wit::ReconcileStep) -> Answer {
    Answer {
        plan: step.plan.into(),
        next: step.next,
    }
}

// ----------------------------------------------------------------- events

/// Which instances an event concerns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scope {
    /// Every instance of the site.
    Site,
    /// The instances of this course.
    Course(CourseId),
    /// The instances of the group's course.
    Group(CourseGroupId),
    /// This instance, whatever its status (its own lifecycle).
    Instance(EnrolmentMethodId),
}

/// A site event in the contract's form, for the plugins that ask for its
/// kind.
pub(crate) struct HostEvent {
    kind: EventKind,
    event: wit::Event,
}

impl HostEvent {
    /// Whether `plugin`'s manifest asks for events of this kind.
    pub(crate) fn wanted_by(&self, plugin: &Plugin) -> bool {
        plugin.manifest.events.contains(&self.kind)
    }

    /// The contract's form of `event` and which instances it concerns, or
    /// `None` for events plugins cannot ask for (user created or updated,
    /// course deleted) and for `instance-deleted` (see `execution`).
    pub(crate) fn of(event: &SiteEvent) -> Option<(HostEvent, Scope)> {
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
        let (kind, event, scope) = match event {
            S::UserCreated { .. } | S::UserUpdated { .. } | S::CourseDeleted { .. } => {
                return None;
            }
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
            S::UserDeleted { user } => {
                (EventKind::UserDeleted, E::UserDeleted(user.0), Scope::Site)
            }
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
        };
        Some((HostEvent { kind, event }, scope))
    }
}

// --------------------------------------------------------------- requests

/// A person's request through an instance, in the contract's form. Built
/// once the caller is authorised for it.
pub(crate) struct HostRequest(wit::Request);

impl HostRequest {
    pub(crate) fn enrol_users(
        users: &[UserId],
        role: Option<Role>,
        group: Option<CourseGroupId>,
        requested_by: Option<UserId>,
    ) -> Self {
        HostRequest(wit::Request::EnrolUsers(wit::EnrolUsers {
            users: users.iter().map(|u| u.0).collect(),
            role: role.map(wit_role),
            group: group.map(|g| g.0),
            requested_by: requested_by.map_or(0, |u| u.0),
        }))
    }

    pub(crate) fn unenrol_users(users: &[UserId]) -> Self {
        HostRequest(wit::Request::UnenrolUsers(
            users.iter().map(|u| u.0).collect(),
        ))
    }

    pub(crate) fn self_enrol(user: UserId, key: Option<String>) -> Self {
        HostRequest(wit::Request::SelfEnrol(wit::SelfEnrol {
            user: user.0,
            key,
        }))
    }

    pub(crate) fn self_unenrol(user: UserId) -> Self {
        HostRequest(wit::Request::SelfUnenrol(user.0))
    }
}

// ------------------------------------------------------------------ plans

pub(crate) fn wit_role(role: Role) -> wit::Role {
    match role {
        Role::Learner => wit::Role::Learner,
        Role::NonEditingTeacher => wit::Role::NonEditingTeacher,
        Role::Teacher => wit::Role::Teacher,
    }
}

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

// -------------------------------------------------------------- manifests

/// What a plugin says of itself, as the registry keeps it.
pub(crate) fn manifest_of(m: &wit::Manifest) -> PluginManifest {
    PluginManifest {
        id: m.id.clone(),
        name: m.name.clone(),
        version: m.version.clone(),
        description: m.description.clone(),
        config: m.config.iter().map(config_field).collect(),
        events: m.events.iter().map(|e| event_name(*e).to_owned()).collect(),
        capabilities: m
            .capabilities
            .iter()
            .map(|c| capability_name(*c).to_owned())
            .collect(),
    }
}

/// The form of a plugin's site-wide settings, in its order.
pub(crate) fn settings_fields(m: &wit::Manifest) -> Vec<PluginConfigField> {
    m.settings.iter().map(config_field).collect()
}

/// One field of a plugin's form (config or settings) as the host keeps it.
fn config_field(f: &wit::ConfigField) -> PluginConfigField {
    PluginConfigField {
        key: f.key.clone(),
        label: f.label.clone(),
        help: f.help.clone(),
        kind: field_kind(&f.kind),
        required: f.required,
        default: f.default.clone(),
    }
}

fn field_kind(k: &wit::FieldKind) -> PluginFieldKind {
    match k {
        wit::FieldKind::Text => PluginFieldKind::Text,
        wit::FieldKind::Multiline => PluginFieldKind::Multiline,
        wit::FieldKind::Secret => PluginFieldKind::Secret,
        wit::FieldKind::Integer((min, max)) => PluginFieldKind::Integer {
            min: *min,
            max: *max,
        },
        wit::FieldKind::Boolean => PluginFieldKind::Boolean,
        wit::FieldKind::Datetime => PluginFieldKind::Datetime,
        wit::FieldKind::Choice(choices) => PluginFieldKind::Choice {
            choices: choices
                .iter()
                .map(|c| PluginChoice {
                    value: c.value.clone(),
                    label: c.label.clone(),
                })
                .collect(),
        },
        wit::FieldKind::Segment => PluginFieldKind::Segment,
        wit::FieldKind::Group => PluginFieldKind::Group,
        wit::FieldKind::Role => PluginFieldKind::Role,
        wit::FieldKind::GroupTexts => PluginFieldKind::GroupTexts,
    }
}

/// The contract's name of an event kind.
fn event_name(e: EventKind) -> &'static str {
    use EventKind as K;
    match e {
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
        K::InstanceAdded => "instance-added",
        K::InstanceEnabled => "instance-enabled",
        K::InstanceDisabled => "instance-disabled",
        K::InstanceUpdated => "instance-updated",
        K::InstanceDeleted => "instance-deleted",
    }
}

/// The contract's name of a capability.
fn capability_name(c: wit::Capability) -> &'static str {
    use wit::Capability as C;
    match c {
        C::ReadUsers => "read-users",
        C::ReadSegments => "read-segments",
        C::ReadEnrolments => "read-enrolments",
        C::ReadGroups => "read-groups",
        C::Clock => "clock",
    }
}
