//! Moves values between the SDK's types (a scenario's `MockHost` site, the
//! plans and refusals a test compares) and the runtime's version-neutral
//! contract API, which speaks domain types. The SDK's types are the guest
//! side of one contract version; the runtime converts the neutral ones to
//! whichever version the component speaks.
//!
//! The runtime asks for records (a `User`, an `Enrolment`, …) where the SDK
//! keeps only what a plugin sees; what the site would add (the course,
//! timestamps, the password hash) is filled with what a plugin cannot see.

use charon_domain as domain;
use charon_runtime::contract as neutral;
use charon_sdk as sdk;
use domain::{CourseGroupId, CourseId, EnrolmentMethodId, SegmentId, Timestamp, UserId};

/// What the scenario's course is, for records that name it.
#[derive(Clone, Copy)]
pub(crate) struct Scope {
    pub(crate) course: CourseId,
}

// ------------------------------------------------------- what is sent in

pub(crate) fn role(r: sdk::Role) -> domain::Role {
    match r {
        sdk::Role::Learner => domain::Role::Learner,
        sdk::Role::NonEditingTeacher => domain::Role::NonEditingTeacher,
        sdk::Role::Teacher => domain::Role::Teacher,
    }
}

pub(crate) fn context(c: &sdk::bindings::charon::enrolment::types::Context) -> neutral::Context {
    neutral::Context {
        method: EnrolmentMethodId(c.method),
        course: CourseId(c.course),
        config: c.config.clone(),
        settings: c.settings.clone(),
        enabled: c.enabled,
        now: Timestamp(c.now),
    }
}

pub(crate) fn request(r: sdk::Request) -> neutral::Request {
    let ids = |users: Vec<u64>| users.into_iter().map(UserId).collect();
    match r {
        sdk::Request::EnrolUsers(e) => neutral::Request::EnrolUsers {
            users: ids(e.users),
            role: e.role.map(role),
            group: e.group.map(CourseGroupId),
            // The contract's 0 is "an operator asked".
            requested_by: (e.requested_by != 0).then_some(UserId(e.requested_by)),
        },
        sdk::Request::UnenrolUsers(users) => neutral::Request::UnenrolUsers(ids(users)),
        sdk::Request::SelfEnrol(s) => neutral::Request::SelfEnrol {
            user: UserId(s.user),
            key: s.key,
        },
        sdk::Request::SelfUnenrol(user) => neutral::Request::SelfUnenrol(UserId(user)),
    }
}

pub(crate) fn event(e: sdk::Event) -> neutral::Event {
    use neutral::Event as N;
    use sdk::Event as S;
    let method = |e: &sdk::EnrolmentEvent| (UserId(e.user), EnrolmentMethodId(e.method));
    match e {
        S::UserEnrolled(e) => {
            let (user, method) = method(&e);
            N::UserEnrolled { user, method }
        }
        S::UserUnenrolled(e) => {
            let (user, method) = method(&e);
            N::UserUnenrolled { user, method }
        }
        S::EnrolmentUpdated(e) => {
            let (user, method) = method(&e);
            N::EnrolmentUpdated { user, method }
        }
        S::SegmentMemberAdded(e) => N::SegmentMemberAdded {
            user: UserId(e.user),
            segment: SegmentId(e.segment),
        },
        S::SegmentMemberRemoved(e) => N::SegmentMemberRemoved {
            user: UserId(e.user),
            segment: SegmentId(e.segment),
        },
        S::SegmentDeleted(s) => N::SegmentDeleted(SegmentId(s)),
        S::GroupMemberAdded(e) => N::GroupMemberAdded {
            user: UserId(e.user),
            group: CourseGroupId(e.group),
        },
        S::GroupMemberRemoved(e) => N::GroupMemberRemoved {
            user: UserId(e.user),
            group: CourseGroupId(e.group),
        },
        S::GroupDeleted(g) => N::GroupDeleted(CourseGroupId(g)),
        S::UserSuspended(u) => N::UserSuspended(UserId(u)),
        S::UserReactivated(u) => N::UserReactivated(UserId(u)),
        S::UserDeleted(u) => N::UserDeleted(UserId(u)),
        S::UserCreated(u) => N::UserCreated(UserId(u)),
        S::UserUpdated(u) => N::UserUpdated {
            user: UserId(u.user),
            changes: domain::UserChanges {
                username: u.changes.contains(sdk::UserChanges::USERNAME),
                email: u.changes.contains(sdk::UserChanges::EMAIL),
                name: u.changes.contains(sdk::UserChanges::NAME),
                profile: u.changes.contains(sdk::UserChanges::PROFILE),
                site_role: u.changes.contains(sdk::UserChanges::SITE_ROLE),
            },
        },
        S::MethodAdded => N::MethodAdded,
        S::MethodEnabled => N::MethodEnabled,
        S::MethodDisabled => N::MethodDisabled,
        S::MethodUpdated => N::MethodUpdated,
    }
}

// ---------------------------------------------- what the site answers

pub(crate) fn host_error(e: sdk::HostError) -> neutral::HostError {
    match e {
        sdk::HostError::Denied(m) => neutral::HostError::Denied(m),
        sdk::HostError::OutOfScope(m) => neutral::HostError::OutOfScope(m),
        sdk::HostError::Unavailable(m) => neutral::HostError::Unavailable(m),
    }
}

pub(crate) fn user(u: sdk::User) -> domain::User {
    domain::User {
        id: UserId(u.id),
        username: u.username,
        email: u.email,
        firstname: u.firstname,
        lastname: u.lastname,
        status: if u.suspended {
            domain::UserStatus::Suspended
        } else {
            domain::UserStatus::Active
        },
        site_role: if u.site_admin {
            domain::SiteRole::SiteAdmin
        } else {
            domain::SiteRole::User
        },
        profile: u.profile.into_iter().map(|p| (p.field, p.value)).collect(),
        password_hash: None,
        created_at: Timestamp(0),
        updated_at: Timestamp(0),
    }
}

pub(crate) fn user_page(p: sdk::UserPage) -> neutral::Page<domain::User> {
    neutral::Page {
        items: p.users.into_iter().map(user).collect(),
        next: p.next.map(UserId),
    }
}

pub(crate) fn segment_member_page(
    p: sdk::SegmentMemberPage,
) -> neutral::Page<neutral::SegmentMember> {
    neutral::Page {
        items: p
            .members
            .into_iter()
            .map(|m| neutral::SegmentMember {
                user: UserId(m.user),
                suspended: m.suspended,
            })
            .collect(),
        next: p.next.map(UserId),
    }
}

pub(crate) fn enrolment(scope: Scope, e: sdk::Enrolment) -> domain::Enrolment {
    domain::Enrolment {
        course: scope.course,
        user: UserId(e.user),
        method: EnrolmentMethodId(e.method),
        role: e.role.map(role),
        status: match e.status {
            sdk::EnrolmentStatus::Active => domain::EnrolmentStatus::Active,
            sdk::EnrolmentStatus::Suspended => domain::EnrolmentStatus::Suspended,
        },
        created_at: Timestamp(0),
        updated_at: Timestamp(0),
    }
}

pub(crate) fn enrolment_page(
    scope: Scope,
    p: sdk::EnrolmentPage,
) -> neutral::Page<domain::Enrolment> {
    neutral::Page {
        items: p
            .enrolments
            .into_iter()
            .map(|e| enrolment(scope, e))
            .collect(),
        next: p.next.map(UserId),
    }
}

/// Another enrolment method of the plugin in the scenario's course.
pub(crate) fn sibling(scope: Scope, plugin: &str, s: sdk::Sibling) -> domain::EnrolmentMethod {
    domain::EnrolmentMethod {
        id: EnrolmentMethodId(s.method),
        course: scope.course,
        plugin: plugin.to_owned(),
        name: String::new(),
        status: if s.enabled {
            domain::EnrolmentMethodStatus::Enabled
        } else {
            domain::EnrolmentMethodStatus::Disabled
        },
        config: s.config,
        created_at: Timestamp(0),
    }
}

pub(crate) fn group(scope: Scope, g: sdk::CourseGroup) -> domain::CourseGroup {
    domain::CourseGroup {
        id: CourseGroupId(g.id),
        course: scope.course,
        name: g.name,
        idnumber: g.idnumber,
        description: String::new(),
        created_at: Timestamp(0),
    }
}

pub(crate) fn member(group: CourseGroupId, m: sdk::GroupMember) -> domain::GroupMembership {
    domain::GroupMembership {
        group,
        user: UserId(m.user),
        owner: match m.owner {
            sdk::MembershipOwner::Manual => domain::MembershipOwner::Manual,
            sdk::MembershipOwner::Method(m) => {
                domain::MembershipOwner::Method(EnrolmentMethodId(m))
            }
        },
        added_at: Timestamp(0),
    }
}

pub(crate) fn member_page(
    group: CourseGroupId,
    p: sdk::MemberPage,
) -> neutral::Page<domain::GroupMembership> {
    neutral::Page {
        items: p.members.into_iter().map(|m| member(group, m)).collect(),
        next: p.next.map(UserId),
    }
}

// ------------------------------------------------ what comes back out

fn role_back(r: domain::Role) -> sdk::Role {
    match r {
        domain::Role::Learner => sdk::Role::Learner,
        domain::Role::NonEditingTeacher => sdk::Role::NonEditingTeacher,
        domain::Role::Teacher => sdk::Role::Teacher,
    }
}

pub(crate) fn log_level_back(l: neutral::LogLevel) -> sdk::LogLevel {
    match l {
        neutral::LogLevel::Debug => sdk::LogLevel::Debug,
        neutral::LogLevel::Info => sdk::LogLevel::Info,
        neutral::LogLevel::Warn => sdk::LogLevel::Warn,
        neutral::LogLevel::Error => sdk::LogLevel::Error,
    }
}

fn group_ref_back(g: domain::PlanGroup) -> sdk::GroupRef {
    match g {
        domain::PlanGroup::Existing(id) => sdk::GroupRef::Existing(id.0),
        domain::PlanGroup::Created(key) => sdk::GroupRef::Created(key),
    }
}

pub(crate) fn plan_back(p: domain::Plan) -> sdk::Plan {
    use domain::PlanOp as D;
    let mut plan = sdk::Plan::new();
    for a in p.actions {
        let op = match a.op {
            D::Enrol { user, role } => sdk::Operation::Enrol(sdk::EnrolAction {
                user: user.0,
                role: role_back(role),
            }),
            D::Suspend { user } => sdk::Operation::Suspend(user.0),
            D::Unenrol { user } => sdk::Operation::Unenrol(user.0),
            D::SetRole { user, role } => sdk::Operation::SetRole(sdk::RoleAction {
                user: user.0,
                role: role.map(role_back),
            }),
            D::AddToGroup { user, group } => sdk::Operation::AddToGroup(sdk::GroupAction {
                user: user.0,
                group: group_ref_back(group),
            }),
            D::RemoveFromGroup { user, group } => {
                sdk::Operation::RemoveFromGroup(sdk::GroupAction {
                    user: user.0,
                    group: group_ref_back(group),
                })
            }
            D::CreateGroup {
                key,
                name,
                idnumber,
            } => sdk::Operation::CreateGroup(sdk::CreateGroupAction {
                key,
                name,
                idnumber,
            }),
            D::DisableMethod => sdk::Operation::DisableMethod,
            D::DeleteMethod => sdk::Operation::DeleteMethod,
            D::Reconcile => sdk::Operation::Reconcile,
        };
        plan.push(op, a.reason);
    }
    plan
}

pub(crate) fn refusal_back(r: neutral::Refusal) -> sdk::Refusal {
    sdk::Refusal {
        code: r.code,
        message: r.message,
        field: r.field,
    }
}

pub(crate) fn field_error_back(e: neutral::FieldError) -> sdk::FieldError {
    sdk::FieldError {
        field: e.field,
        message: e.message,
    }
}

/// The manifest as the SDK spells it, as the plugin's `describe` wrote it
/// (after the runtime checked it).
pub(crate) fn manifest_back(m: &neutral::Manifest) -> sdk::Manifest {
    sdk::Manifest {
        id: m.id.clone(),
        kind: match m.kind {
            neutral::PluginKind::EnrolmentMethod => sdk::PluginKind::EnrolmentMethod,
            neutral::PluginKind::SegmentRule => sdk::PluginKind::SegmentRule,
        },
        name: m.name.clone(),
        version: m.version.clone(),
        description: m.description.clone(),
        config: m.config.iter().map(config_field_back).collect(),
        // A component this harness loads speaks the SDK's contract, whose
        // event kinds the neutral ones all are (but 0.1.0's never-sent
        // `instance-deleted`, which no SDK component can ask for).
        events: m
            .events
            .iter()
            .filter_map(|e| event_kind_back(*e))
            .collect(),
        requests: m.requests.iter().map(|r| request_kind_back(*r)).collect(),
        capabilities: m.capabilities.iter().map(|c| capability_back(*c)).collect(),
        settings: m.settings.iter().map(config_field_back).collect(),
    }
}

fn config_field_back(f: &domain::PluginConfigField) -> sdk::ConfigField {
    use domain::PluginFieldKind as K;
    sdk::ConfigField {
        key: f.key.clone(),
        label: f.label.clone(),
        help: f.help.clone(),
        kind: match &f.kind {
            K::Text => sdk::FieldKind::Text,
            K::Multiline => sdk::FieldKind::Multiline,
            K::Secret => sdk::FieldKind::Secret,
            K::Integer { min, max } => sdk::FieldKind::Integer((*min, *max)),
            K::Boolean => sdk::FieldKind::Boolean,
            K::Datetime => sdk::FieldKind::Datetime,
            K::Choice { choices } => sdk::FieldKind::Choice(
                choices
                    .iter()
                    .map(|c| sdk::Choice {
                        value: c.value.clone(),
                        label: c.label.clone(),
                    })
                    .collect(),
            ),
            K::Segment => sdk::FieldKind::Segment,
            K::Group => sdk::FieldKind::Group,
            K::Role => sdk::FieldKind::Role,
            K::GroupTexts => sdk::FieldKind::GroupTexts,
            K::GroupChoice { none, new } => sdk::FieldKind::GroupChoice(sdk::GroupChoiceOptions {
                none: *none,
                new: *new,
            }),
            K::ProfileField => sdk::FieldKind::ProfileField,
        },
        required: f.required,
        default: f.default.clone(),
    }
}

fn event_kind_back(e: neutral::EventKind) -> Option<sdk::EventKind> {
    use neutral::EventKind as N;
    use sdk::EventKind as S;
    Some(match e {
        N::UserEnrolled => S::UserEnrolled,
        N::UserUnenrolled => S::UserUnenrolled,
        N::EnrolmentUpdated => S::EnrolmentUpdated,
        N::SegmentMemberAdded => S::SegmentMemberAdded,
        N::SegmentMemberRemoved => S::SegmentMemberRemoved,
        N::SegmentDeleted => S::SegmentDeleted,
        N::GroupMemberAdded => S::GroupMemberAdded,
        N::GroupMemberRemoved => S::GroupMemberRemoved,
        N::GroupDeleted => S::GroupDeleted,
        N::UserSuspended => S::UserSuspended,
        N::UserReactivated => S::UserReactivated,
        N::UserDeleted => S::UserDeleted,
        N::UserCreated => S::UserCreated,
        N::UserUpdated => S::UserUpdated,
        N::MethodAdded => S::MethodAdded,
        N::MethodEnabled => S::MethodEnabled,
        N::MethodDisabled => S::MethodDisabled,
        N::MethodUpdated => S::MethodUpdated,
        N::MethodDeleted => return None,
    })
}

fn request_kind_back(r: neutral::RequestKind) -> sdk::RequestKind {
    match r {
        neutral::RequestKind::EnrolUsers => sdk::RequestKind::EnrolUsers,
        neutral::RequestKind::UnenrolUsers => sdk::RequestKind::UnenrolUsers,
        neutral::RequestKind::SelfEnrol => sdk::RequestKind::SelfEnrol,
        neutral::RequestKind::SelfUnenrol => sdk::RequestKind::SelfUnenrol,
    }
}

fn capability_back(c: neutral::Capability) -> sdk::Capability {
    match c {
        neutral::Capability::ReadUsers => sdk::Capability::ReadUsers,
        neutral::Capability::ReadSegments => sdk::Capability::ReadSegments,
        neutral::Capability::ReadEnrolments => sdk::Capability::ReadEnrolments,
        neutral::Capability::ReadGroups => sdk::Capability::ReadGroups,
        neutral::Capability::Clock => sdk::Capability::Clock,
    }
}
