//! Contract 0.4.0 (`sdk/wit/since_v0.4.0`): its bindings, its host
//! interface, its calls of a plugin's exports, and every conversion
//! between its generated types and the neutral ones of [`super`].
//!
//! Frozen with the WIT it binds once released. What it adds to 0.3.0: the
//! plugin's kind in its manifest, and the `segment-rule` interface (a
//! [`RuleCalls`](super::RuleCalls), which no earlier version has) that a
//! segment-rule plugin answers with a segment plan. Every 0.4.0 component
//! exports both `method` and `segment-rule` (world `plugin`).

use charon_contract::v0_4_0 as names;
use charon_domain::{
    CourseGroup, CourseGroupId, Enrolment, EnrolmentMethod, EnrolmentMethodStatus, EnrolmentStatus,
    GroupMembership, MembershipOwner, Plan, PlanAction, PlanGroup, PlanOp, PluginChoice,
    PluginConfigField, PluginFieldKind, Role, SegmentAction, SegmentId, SegmentOp, SegmentPlan,
    SiteRole, User, UserId, UserStatus,
};
use wasmtime::Store;
use wasmtime::component::{ComponentExportIndex, Instance};
use wasmtime::component::{HasSelf, InstancePre, Linker};

use super::{
    Capability, Context, Event, EventKind, ExportIndexes, FieldError, HostError, LogLevel,
    Manifest, PluginKind, Refusal, Request, RequestKind, RuleCalls, RuleContext, SegmentStep,
    call_export,
};
use crate::PluginError;
use crate::state::CallState;

/// The generated host side of the 0.4.0 WIT.
mod wit {
    wasmtime::component::bindgen!({
        path: "../../sdk/wit/since_v0.4.0",
        world: "plugin",
    });

    pub(super) use charon::enrolment::types::*;
}

/// Links 0.4.0's `host` (and `types`) interface, answered by [`CallState`].
pub(super) fn add_to_linker(linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
    wit::Plugin::add_to_linker::<CallState, HasSelf<CallState>>(linker, |s| s)
}

// ------------------------------------------------------------------ calls

/// Where 0.4.0's `method` functions are in a component (`.0`), and its
/// `segment-rule` functions (`.1`).
pub(crate) struct Exports(ExportIndexes, RuleIndexes);

pub(crate) struct RuleIndexes {
    /// `method.migrate-config`, new in 0.4.0 (not in [`ExportIndexes`],
    /// which every version shares).
    migrate_config: ComponentExportIndex,
    validate_rule: ComponentExportIndex,
    rule_event: ComponentExportIndex,
    rule_reconcile: ComponentExportIndex,
}

impl Exports {
    /// Typechecks the component's exports against 0.4.0's `method` and
    /// `segment-rule` interfaces once, at load, and notes where each
    /// function is.
    pub(super) fn find(pre: &InstancePre<CallState>) -> Result<Self, PluginError> {
        wit::PluginPre::new(pre.clone()).map_err(|e| {
            PluginError::Invalid(format!(
                "the component does not export the 0.4.0 plugin contract: {e}"
            ))
        })?;
        let component = pre.component();
        let method = ExportIndexes::find(component, names::METHOD)?;
        let missing = |what: &str| {
            PluginError::Invalid(format!(
                "the component does not export {what} of the segment-rule contract"
            ))
        };
        let interface = component
            .get_export_index(None, charon_contract::SEGMENT_RULE_V0_4_0)
            .ok_or_else(|| missing(charon_contract::SEGMENT_RULE_V0_4_0))?;
        let func = |name: &str| {
            component
                .get_export_index(Some(&interface), name)
                .ok_or_else(|| missing(name))
        };
        let method_interface = component
            .get_export_index(None, names::METHOD)
            .ok_or_else(|| missing(names::METHOD))?;
        let migrate_config = component
            .get_export_index(Some(&method_interface), "migrate-config")
            .ok_or_else(|| missing("migrate-config"))?;
        let rule = RuleIndexes {
            migrate_config,
            validate_rule: func("validate-rule")?,
            rule_event: func("rule-event")?,
            rule_reconcile: func("rule-reconcile")?,
        };
        Ok(Self(method, rule))
    }
}

super::method_calls!();

impl super::MigrateCalls for Exports {
    fn migrate_config(
        &self,
        i: &Instance,
        s: &mut Store<CallState>,
        course: charon_domain::CourseId,
        from_version: &str,
        config: &str,
    ) -> wasmtime::Result<Result<String, Vec<FieldError>>> {
        let out = call_export::<(u64, &str, &str), Result<String, Vec<wit::FieldError>>>(
            i,
            s,
            &self.1.migrate_config,
            (course.0, from_version, config),
        )?;
        Ok(out.map_err(|errors| errors.into_iter().map(Into::into).collect()))
    }
}

impl RuleCalls for Exports {
    fn validate_rule(
        &self,
        i: &Instance,
        s: &mut Store<CallState>,
        segment: SegmentId,
        config: &str,
    ) -> wasmtime::Result<Result<String, Vec<FieldError>>> {
        let out = call_export::<(u64, &str), Result<String, Vec<wit::FieldError>>>(
            i,
            s,
            &self.1.validate_rule,
            (segment.0, config),
        )?;
        Ok(out.map_err(|errors| errors.into_iter().map(Into::into).collect()))
    }

    fn rule_event(
        &self,
        i: &Instance,
        s: &mut Store<CallState>,
        ctx: &RuleContext,
        event: &Event,
    ) -> wasmtime::Result<Result<SegmentPlan, Refusal>> {
        let out = call_export::<
            (&wit::RuleContext, &wit::Event),
            Result<wit::SegmentPlan, wit::Refusal>,
        >(
            i,
            s,
            &self.1.rule_event,
            (&ctx.into(), &wit::Event::try_from(event)?),
        )?;
        Ok(out.map(segment_plan).map_err(Into::into))
    }

    fn rule_reconcile(
        &self,
        i: &Instance,
        s: &mut Store<CallState>,
        ctx: &RuleContext,
        cursor: Option<&str>,
    ) -> wasmtime::Result<Result<SegmentStep, Refusal>> {
        let out = call_export::<
            (&wit::RuleContext, Option<&str>),
            Result<wit::SegmentStep, wit::Refusal>,
        >(i, s, &self.1.rule_reconcile, (&ctx.into(), cursor))?;
        Ok(out
            .map(|step| SegmentStep {
                plan: segment_plan(step.plan),
                next: step.next,
            })
            .map_err(Into::into))
    }
}

impl From<&RuleContext> for wit::RuleContext {
    fn from(c: &RuleContext) -> Self {
        wit::RuleContext {
            segment: c.segment.0,
            config: c.config.clone(),
            settings: c.settings.clone(),
            now: c.now.0,
        }
    }
}

fn segment_plan(plan: wit::SegmentPlan) -> SegmentPlan {
    SegmentPlan {
        actions: plan
            .actions
            .into_iter()
            .map(|a| SegmentAction {
                op: match a.op {
                    wit::SegmentOperation::Add(u) => SegmentOp::Add(UserId(u)),
                    wit::SegmentOperation::Remove(u) => SegmentOp::Remove(UserId(u)),
                },
                reason: a.reason,
            })
            .collect(),
    }
}

// ----------------------------------------------------- what the host sends

impl From<&Context> for wit::Context {
    fn from(c: &Context) -> Self {
        wit::Context {
            method: c.method.0,
            course: c.course.0,
            config: c.config.clone(),
            settings: c.settings.clone(),
            enabled: c.enabled,
            now: c.now.0,
        }
    }
}

/// The event in this version's words (every neutral event has them).
impl TryFrom<&Event> for wit::Event {
    type Error = wasmtime::Error;

    fn try_from(e: &Event) -> Result<Self, Self::Error> {
        use wit::Event as W;
        let enrolment =
            |user: &UserId, method: &charon_domain::EnrolmentMethodId| wit::EnrolmentEvent {
                user: user.0,
                method: method.0,
            };
        let membership = |user: &UserId, segment: &SegmentId| wit::MembershipEvent {
            user: user.0,
            segment: segment.0,
        };
        let group = |user: &UserId, group: &CourseGroupId| wit::GroupEvent {
            user: user.0,
            group: group.0,
        };
        Ok(match e {
            Event::UserEnrolled { user, method } => W::UserEnrolled(enrolment(user, method)),
            Event::UserUnenrolled { user, method } => W::UserUnenrolled(enrolment(user, method)),
            Event::EnrolmentUpdated { user, method } => {
                W::EnrolmentUpdated(enrolment(user, method))
            }
            Event::SegmentMemberAdded { user, segment } => {
                W::SegmentMemberAdded(membership(user, segment))
            }
            Event::SegmentMemberRemoved { user, segment } => {
                W::SegmentMemberRemoved(membership(user, segment))
            }
            Event::SegmentDeleted(s) => W::SegmentDeleted(s.0),
            Event::GroupMemberAdded { user, group: g } => W::GroupMemberAdded(group(user, g)),
            Event::GroupMemberRemoved { user, group: g } => W::GroupMemberRemoved(group(user, g)),
            Event::GroupDeleted(g) => W::GroupDeleted(g.0),
            Event::UserSuspended(u) => W::UserSuspended(u.0),
            Event::UserReactivated(u) => W::UserReactivated(u.0),
            Event::UserDeleted(u) => W::UserDeleted(u.0),
            Event::MethodAdded => W::MethodAdded,
            Event::MethodEnabled => W::MethodEnabled,
            Event::MethodDisabled => W::MethodDisabled,
            Event::MethodUpdated => W::MethodUpdated,
            Event::UserCreated(u) => W::UserCreated(u.0),
            Event::UserUpdated { user, changes } => W::UserUpdated(wit::UserUpdate {
                user: user.0,
                changes: user_changes(*changes),
            }),
        })
    }
}

fn user_changes(c: charon_domain::UserChanges) -> wit::UserChanges {
    let mut out = wit::UserChanges::empty();
    for (changed, flag) in [
        (c.username, wit::UserChanges::USERNAME),
        (c.email, wit::UserChanges::EMAIL),
        (c.name, wit::UserChanges::NAME),
        (c.profile, wit::UserChanges::PROFILE),
        (c.site_role, wit::UserChanges::SITE_ROLE),
    ] {
        if changed {
            out |= flag;
        }
    }
    out
}

impl From<&Request> for wit::Request {
    fn from(r: &Request) -> Self {
        let ids = |users: &[UserId]| users.iter().map(|u| u.0).collect();
        match r {
            Request::EnrolUsers {
                users,
                role,
                group,
                requested_by,
            } => wit::Request::EnrolUsers(wit::EnrolUsers {
                users: ids(users),
                role: role.map(wit::Role::from),
                group: group.map(|g| g.0),
                // 0.1.0 says "0 when an operator (no user of the site) asked".
                requested_by: requested_by.map_or(0, |u| u.0),
            }),
            Request::UnenrolUsers(users) => wit::Request::UnenrolUsers(ids(users)),
            Request::SelfEnrol { user, key } => wit::Request::SelfEnrol(wit::SelfEnrol {
                user: user.0,
                key: key.clone(),
            }),
            Request::SelfUnenrol(user) => wit::Request::SelfUnenrol(user.0),
        }
    }
}

impl From<Role> for wit::Role {
    fn from(role: Role) -> Self {
        match role {
            Role::Learner => wit::Role::Learner,
            Role::NonEditingTeacher => wit::Role::NonEditingTeacher,
            Role::Teacher => wit::Role::Teacher,
        }
    }
}

// ------------------------------------------------- what the plugin returns

impl From<wit::Role> for Role {
    fn from(role: wit::Role) -> Self {
        match role {
            wit::Role::Learner => Role::Learner,
            wit::Role::NonEditingTeacher => Role::NonEditingTeacher,
            wit::Role::Teacher => Role::Teacher,
        }
    }
}

impl From<wit::GroupRef> for PlanGroup {
    fn from(group: wit::GroupRef) -> Self {
        match group {
            wit::GroupRef::Existing(id) => PlanGroup::Existing(CourseGroupId(id)),
            wit::GroupRef::Created(key) => PlanGroup::Created(key),
        }
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
                        role: e.role.into(),
                    },
                    wit::Operation::Suspend(u) => PlanOp::Suspend { user: UserId(u) },
                    wit::Operation::Unenrol(u) => PlanOp::Unenrol { user: UserId(u) },
                    wit::Operation::SetRole(r) => PlanOp::SetRole {
                        user: UserId(r.user),
                        role: r.role.map(Role::from),
                    },
                    wit::Operation::AddToGroup(g) => PlanOp::AddToGroup {
                        user: UserId(g.user),
                        group: g.group.into(),
                    },
                    wit::Operation::RemoveFromGroup(g) => PlanOp::RemoveFromGroup {
                        user: UserId(g.user),
                        group: g.group.into(),
                    },
                    wit::Operation::CreateGroup(c) => PlanOp::CreateGroup {
                        key: c.key,
                        name: c.name,
                        idnumber: c.idnumber,
                    },
                    wit::Operation::DisableMethod => PlanOp::DisableMethod,
                    wit::Operation::DeleteMethod => PlanOp::DeleteMethod,
                    wit::Operation::Reconcile => PlanOp::Reconcile,
                },
                reason: a.reason,
            })
            .collect();
        Plan { actions }
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

impl From<wit::FieldError> for FieldError {
    fn from(e: wit::FieldError) -> Self {
        FieldError {
            field: e.field,
            message: e.message,
        }
    }
}

impl From<wit::Manifest> for Manifest {
    fn from(m: wit::Manifest) -> Self {
        Manifest {
            id: m.id,
            kind: match m.kind {
                wit::PluginKind::EnrolmentMethod => PluginKind::EnrolmentMethod,
                wit::PluginKind::SegmentRule => PluginKind::SegmentRule,
            },
            name: m.name,
            version: m.version,
            description: m.description,
            config: m.config.into_iter().map(config_field).collect(),
            settings: m.settings.into_iter().map(config_field).collect(),
            events: m.events.into_iter().map(event_kind).collect(),
            requests: m.requests.into_iter().map(request_kind).collect(),
            capabilities: m.capabilities.into_iter().map(capability).collect(),
        }
    }
}

fn config_field(f: wit::ConfigField) -> PluginConfigField {
    PluginConfigField {
        key: f.key,
        label: f.label,
        help: f.help,
        kind: match f.kind {
            wit::FieldKind::Text => PluginFieldKind::Text,
            wit::FieldKind::Multiline => PluginFieldKind::Multiline,
            wit::FieldKind::Secret => PluginFieldKind::Secret,
            wit::FieldKind::Integer((min, max)) => PluginFieldKind::Integer { min, max },
            wit::FieldKind::Boolean => PluginFieldKind::Boolean,
            wit::FieldKind::Datetime => PluginFieldKind::Datetime,
            wit::FieldKind::Choice(choices) => PluginFieldKind::Choice {
                choices: choices
                    .into_iter()
                    .map(|c| PluginChoice {
                        value: c.value,
                        label: c.label,
                    })
                    .collect(),
            },
            wit::FieldKind::Segment => PluginFieldKind::Segment,
            wit::FieldKind::Group => PluginFieldKind::Group,
            wit::FieldKind::GroupChoice(o) => PluginFieldKind::GroupChoice {
                none: o.none,
                new: o.new,
            },
            wit::FieldKind::Role => PluginFieldKind::Role,
            wit::FieldKind::GroupTexts => PluginFieldKind::GroupTexts,
            wit::FieldKind::ProfileField => PluginFieldKind::ProfileField,
        },
        required: f.required,
        default: f.default,
    }
}

fn event_kind(e: wit::EventKind) -> EventKind {
    use EventKind as K;
    use wit::EventKind as W;
    match e {
        W::UserEnrolled => K::UserEnrolled,
        W::UserUnenrolled => K::UserUnenrolled,
        W::EnrolmentUpdated => K::EnrolmentUpdated,
        W::SegmentMemberAdded => K::SegmentMemberAdded,
        W::SegmentMemberRemoved => K::SegmentMemberRemoved,
        W::SegmentDeleted => K::SegmentDeleted,
        W::GroupMemberAdded => K::GroupMemberAdded,
        W::GroupMemberRemoved => K::GroupMemberRemoved,
        W::GroupDeleted => K::GroupDeleted,
        W::UserSuspended => K::UserSuspended,
        W::UserReactivated => K::UserReactivated,
        W::UserDeleted => K::UserDeleted,
        W::UserCreated => K::UserCreated,
        W::UserUpdated => K::UserUpdated,
        W::MethodAdded => K::MethodAdded,
        W::MethodEnabled => K::MethodEnabled,
        W::MethodDisabled => K::MethodDisabled,
        W::MethodUpdated => K::MethodUpdated,
    }
}

fn request_kind(r: wit::RequestKind) -> RequestKind {
    match r {
        wit::RequestKind::EnrolUsers => RequestKind::EnrolUsers,
        wit::RequestKind::UnenrolUsers => RequestKind::UnenrolUsers,
        wit::RequestKind::SelfEnrol => RequestKind::SelfEnrol,
        wit::RequestKind::SelfUnenrol => RequestKind::SelfUnenrol,
    }
}

fn capability(c: wit::Capability) -> Capability {
    match c {
        wit::Capability::ReadUsers => Capability::ReadUsers,
        wit::Capability::ReadSegments => Capability::ReadSegments,
        wit::Capability::ReadEnrolments => Capability::ReadEnrolments,
        wit::Capability::ReadGroups => Capability::ReadGroups,
        wit::Capability::Clock => Capability::Clock,
    }
}

// ------------------------------------------------------ the host's answers

impl From<HostError> for wit::HostError {
    fn from(e: HostError) -> Self {
        match e {
            HostError::Denied(m) => wit::HostError::Denied(m),
            HostError::OutOfScope(m) => wit::HostError::OutOfScope(m),
            HostError::Unavailable(m) => wit::HostError::Unavailable(m),
        }
    }
}

fn user(u: User) -> wit::User {
    wit::User {
        id: u.id.0,
        suspended: u.status != UserStatus::Active,
        site_admin: u.site_role == SiteRole::SiteAdmin,
        profile: u
            .profile
            .into_iter()
            .map(|(field, value)| wit::ProfileValue { field, value })
            .collect(),
        username: u.username,
        firstname: u.firstname,
        lastname: u.lastname,
        email: u.email,
    }
}

fn user_page(p: super::Page<User>) -> wit::UserPage {
    wit::UserPage {
        users: p.items.into_iter().map(user).collect(),
        next: p.next.map(|u| u.0),
    }
}

fn enrolment(e: Enrolment) -> wit::Enrolment {
    wit::Enrolment {
        user: e.user.0,
        method: e.method.0,
        role: e.role.map(wit::Role::from),
        status: match e.status {
            EnrolmentStatus::Active => wit::EnrolmentStatus::Active,
            EnrolmentStatus::Suspended => wit::EnrolmentStatus::Suspended,
        },
    }
}

fn enrolment_page(p: super::Page<Enrolment>) -> wit::EnrolmentPage {
    wit::EnrolmentPage {
        enrolments: p.items.into_iter().map(enrolment).collect(),
        next: p.next.map(|u| u.0),
    }
}

fn member(m: GroupMembership) -> wit::GroupMember {
    wit::GroupMember {
        user: m.user.0,
        owner: match m.owner {
            MembershipOwner::Manual => wit::MembershipOwner::Manual,
            MembershipOwner::Method(id) => wit::MembershipOwner::Method(id.0),
        },
    }
}

fn course_group(g: CourseGroup) -> wit::CourseGroup {
    wit::CourseGroup {
        id: g.id.0,
        name: g.name,
        idnumber: g.idnumber,
    }
}

fn sibling(m: EnrolmentMethod) -> wit::Sibling {
    wit::Sibling {
        method: m.id.0,
        enabled: m.status == EnrolmentMethodStatus::Enabled,
        config: m.config,
    }
}

impl wit::charon::enrolment::host::Host for CallState {
    fn get_user(&mut self, id: u64) -> Result<Option<wit::User>, wit::HostError> {
        Ok(self.queries.user(UserId(id))?.map(user))
    }
    fn list_users(
        &mut self,
        after: Option<u64>,
        limit: u32,
    ) -> Result<wit::UserPage, wit::HostError> {
        Ok(user_page(
            self.queries.list_users(after.map(UserId), limit)?,
        ))
    }
    fn users_by_email_domain(
        &mut self,
        domain: String,
        after: Option<u64>,
        limit: u32,
    ) -> Result<wit::UserPage, wit::HostError> {
        let page = self
            .queries
            .users_by_email_domain(&domain, after.map(UserId), limit)?;
        Ok(user_page(page))
    }
    fn users_by_profile_field(
        &mut self,
        field: String,
        value: String,
        after: Option<u64>,
        limit: u32,
    ) -> Result<wit::UserPage, wit::HostError> {
        let page = self
            .queries
            .users_by_profile_value(&field, &value, after.map(UserId), limit)?;
        Ok(user_page(page))
    }
    fn segment_exists(&mut self, segment: u64) -> Result<Option<String>, wit::HostError> {
        Ok(self.queries.segment_exists(SegmentId(segment))?)
    }
    fn segment_members(
        &mut self,
        segment: u64,
        after: Option<u64>,
        limit: u32,
    ) -> Result<wit::SegmentMemberPage, wit::HostError> {
        let page = self
            .queries
            .segment_members(SegmentId(segment), after.map(UserId), limit)?;
        Ok(wit::SegmentMemberPage {
            members: page
                .items
                .into_iter()
                .map(|m| wit::SegmentMember {
                    user: m.user.0,
                    suspended: m.suspended,
                })
                .collect(),
            next: page.next.map(|u| u.0),
        })
    }
    fn is_segment_member(&mut self, segment: u64, user: u64) -> Result<bool, wit::HostError> {
        Ok(self
            .queries
            .is_segment_member(SegmentId(segment), UserId(user))?)
    }
    fn course_enrolments(
        &mut self,
        after: Option<u64>,
        limit: u32,
    ) -> Result<wit::EnrolmentPage, wit::HostError> {
        let page = self.queries.course_enrolments(after.map(UserId), limit)?;
        Ok(enrolment_page(page))
    }
    fn user_enrolments(&mut self, user: u64) -> Result<Vec<wit::Enrolment>, wit::HostError> {
        let list = self.queries.user_enrolments(UserId(user))?;
        Ok(list.into_iter().map(enrolment).collect())
    }
    fn method_enrolments(
        &mut self,
        after: Option<u64>,
        limit: u32,
    ) -> Result<wit::EnrolmentPage, wit::HostError> {
        let page = self.queries.method_enrolments(after.map(UserId), limit)?;
        Ok(enrolment_page(page))
    }
    fn method_enrolment_count(&mut self) -> Result<u64, wit::HostError> {
        Ok(self.queries.method_enrolment_count()?)
    }
    fn sibling_methods(&mut self) -> Result<Vec<wit::Sibling>, wit::HostError> {
        let list = self.queries.sibling_methods()?;
        Ok(list.into_iter().map(sibling).collect())
    }
    fn course_groups(&mut self) -> Result<Vec<wit::CourseGroup>, wit::HostError> {
        let list = self.queries.course_groups()?;
        Ok(list.into_iter().map(course_group).collect())
    }
    fn group_members(
        &mut self,
        group: u64,
        after: Option<u64>,
        limit: u32,
    ) -> Result<wit::MemberPage, wit::HostError> {
        let page = self
            .queries
            .group_members(CourseGroupId(group), after.map(UserId), limit)?;
        Ok(wit::MemberPage {
            members: page.items.into_iter().map(member).collect(),
            next: page.next.map(|u| u.0),
        })
    }
    fn group_membership(
        &mut self,
        group: u64,
        user: u64,
    ) -> Result<Option<wit::GroupMember>, wit::HostError> {
        let found = self
            .queries
            .group_membership(CourseGroupId(group), UserId(user))?;
        Ok(found.map(member))
    }
    fn method_group(&mut self, key: String) -> Result<Option<u64>, wit::HostError> {
        Ok(self.queries.method_group(&key)?.map(|g| g.0))
    }
    fn log(&mut self, level: wit::LogLevel, message: String) {
        let level = match level {
            wit::LogLevel::Debug => LogLevel::Debug,
            wit::LogLevel::Info => LogLevel::Info,
            wit::LogLevel::Warn => LogLevel::Warn,
            wit::LogLevel::Error => LogLevel::Error,
        };
        self.queries.log(level, &message);
    }
}

impl wit::charon::enrolment::types::Host for CallState {}
