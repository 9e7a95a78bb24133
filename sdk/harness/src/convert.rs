//! The SDK's (guest) types and the runtime's (host) types are generated
//! from the same WIT by two bindgens, so they are distinct Rust types with
//! the same shape: these functions move values across.

use charon_host::runtime::wit;
use charon_sdk as sdk;

pub(crate) fn role(r: sdk::Role) -> wit::Role {
    match r {
        sdk::Role::Learner => wit::Role::Learner,
        sdk::Role::NonEditingTeacher => wit::Role::NonEditingTeacher,
        sdk::Role::Teacher => wit::Role::Teacher,
    }
}

pub(crate) fn role_back(r: wit::Role) -> sdk::Role {
    match r {
        wit::Role::Learner => sdk::Role::Learner,
        wit::Role::NonEditingTeacher => sdk::Role::NonEditingTeacher,
        wit::Role::Teacher => sdk::Role::Teacher,
    }
}

pub(crate) fn user(u: sdk::User) -> wit::User {
    wit::User {
        id: u.id,
        username: u.username,
        firstname: u.firstname,
        lastname: u.lastname,
        email: u.email,
        suspended: u.suspended,
    }
}

pub(crate) fn enrolment(e: sdk::Enrolment) -> wit::Enrolment {
    wit::Enrolment {
        user: e.user,
        instance: e.instance,
        role: e.role.map(role),
        status: match e.status {
            sdk::EnrolmentStatus::Active => wit::EnrolmentStatus::Active,
            sdk::EnrolmentStatus::Suspended => wit::EnrolmentStatus::Suspended,
        },
    }
}

pub(crate) fn group(g: sdk::CourseGroup) -> wit::CourseGroup {
    wit::CourseGroup {
        id: g.id,
        name: g.name,
        idnumber: g.idnumber,
    }
}

pub(crate) fn member(m: sdk::GroupMember) -> wit::GroupMember {
    wit::GroupMember {
        user: m.user,
        owner: match m.owner {
            sdk::MembershipOwner::Manual => wit::MembershipOwner::Manual,
            sdk::MembershipOwner::Instance(i) => wit::MembershipOwner::Instance(i),
        },
    }
}

pub(crate) fn segment_member_page(p: sdk::SegmentMemberPage) -> wit::SegmentMemberPage {
    wit::SegmentMemberPage {
        members: p
            .members
            .into_iter()
            .map(|m| wit::SegmentMember {
                user: m.user,
                suspended: m.suspended,
            })
            .collect(),
        next: p.next,
    }
}

pub(crate) fn sibling(s: sdk::Sibling) -> wit::Sibling {
    wit::Sibling {
        instance: s.instance,
        config: s.config,
        enabled: s.enabled,
    }
}

pub(crate) fn enrolment_page(p: sdk::EnrolmentPage) -> wit::EnrolmentPage {
    wit::EnrolmentPage {
        enrolments: p.enrolments.into_iter().map(enrolment).collect(),
        next: p.next,
    }
}

pub(crate) fn member_page(p: sdk::MemberPage) -> wit::MemberPage {
    wit::MemberPage {
        members: p.members.into_iter().map(member).collect(),
        next: p.next,
    }
}

pub(crate) fn host_error(e: sdk::HostError) -> wit::HostError {
    match e {
        sdk::HostError::Denied(m) => wit::HostError::Denied(m),
        sdk::HostError::OutOfScope(m) => wit::HostError::OutOfScope(m),
        sdk::HostError::Unavailable(m) => wit::HostError::Unavailable(m),
    }
}

pub(crate) fn log_level_back(l: wit::LogLevel) -> sdk::LogLevel {
    match l {
        wit::LogLevel::Debug => sdk::LogLevel::Debug,
        wit::LogLevel::Info => sdk::LogLevel::Info,
        wit::LogLevel::Warn => sdk::LogLevel::Warn,
        wit::LogLevel::Error => sdk::LogLevel::Error,
    }
}

pub(crate) fn request(r: sdk::Request) -> wit::Request {
    match r {
        sdk::Request::EnrolUsers(e) => wit::Request::EnrolUsers(wit::EnrolUsers {
            users: e.users,
            role: e.role.map(role),
            group: e.group,
            requested_by: e.requested_by,
        }),
        sdk::Request::UnenrolUsers(users) => wit::Request::UnenrolUsers(users),
        sdk::Request::SelfEnrol(s) => wit::Request::SelfEnrol(wit::SelfEnrol {
            user: s.user,
            key: s.key,
        }),
        sdk::Request::SelfUnenrol(user) => wit::Request::SelfUnenrol(user),
    }
}

pub(crate) fn event(e: sdk::Event) -> wit::Event {
    use sdk::Event as S;
    use wit::Event as W;
    let enrolment = |e: sdk::EnrolmentEvent| wit::EnrolmentEvent {
        user: e.user,
        instance: e.instance,
    };
    let membership = |e: sdk::MembershipEvent| wit::MembershipEvent {
        user: e.user,
        segment: e.segment,
    };
    let group = |e: sdk::GroupEvent| wit::GroupEvent {
        user: e.user,
        group: e.group,
    };
    match e {
        S::UserEnrolled(e) => W::UserEnrolled(enrolment(e)),
        S::UserUnenrolled(e) => W::UserUnenrolled(enrolment(e)),
        S::EnrolmentUpdated(e) => W::EnrolmentUpdated(enrolment(e)),
        S::SegmentMemberAdded(e) => W::SegmentMemberAdded(membership(e)),
        S::SegmentMemberRemoved(e) => W::SegmentMemberRemoved(membership(e)),
        S::SegmentDeleted(s) => W::SegmentDeleted(s),
        S::GroupMemberAdded(e) => W::GroupMemberAdded(group(e)),
        S::GroupMemberRemoved(e) => W::GroupMemberRemoved(group(e)),
        S::GroupDeleted(g) => W::GroupDeleted(g),
        S::UserSuspended(u) => W::UserSuspended(u),
        S::UserReactivated(u) => W::UserReactivated(u),
        S::UserDeleted(u) => W::UserDeleted(u),
        S::InstanceAdded => W::InstanceAdded,
        S::InstanceEnabled => W::InstanceEnabled,
        S::InstanceDisabled => W::InstanceDisabled,
        S::InstanceUpdated => W::InstanceUpdated,
        S::InstanceDeleted => W::InstanceDeleted,
    }
}

fn group_ref_back(g: wit::GroupRef) -> sdk::GroupRef {
    match g {
        wit::GroupRef::Existing(id) => sdk::GroupRef::Existing(id),
        wit::GroupRef::Created(key) => sdk::GroupRef::Created(key),
    }
}

pub(crate) fn plan_back(p: wit::Plan) -> sdk::Plan {
    let mut plan = sdk::Plan::new();
    for a in p.actions {
        let op = match a.op {
            wit::Operation::Enrol(e) => sdk::Operation::Enrol(sdk::EnrolAction {
                user: e.user,
                role: role_back(e.role),
            }),
            wit::Operation::Suspend(u) => sdk::Operation::Suspend(u),
            wit::Operation::Unenrol(u) => sdk::Operation::Unenrol(u),
            wit::Operation::SetRole(r) => sdk::Operation::SetRole(sdk::RoleAction {
                user: r.user,
                role: r.role.map(role_back),
            }),
            wit::Operation::AddToGroup(g) => sdk::Operation::AddToGroup(sdk::GroupAction {
                user: g.user,
                group: group_ref_back(g.group),
            }),
            wit::Operation::RemoveFromGroup(g) => {
                sdk::Operation::RemoveFromGroup(sdk::GroupAction {
                    user: g.user,
                    group: group_ref_back(g.group),
                })
            }
            wit::Operation::CreateGroup(c) => sdk::Operation::CreateGroup(sdk::CreateGroupAction {
                key: c.key,
                name: c.name,
                idnumber: c.idnumber,
            }),
            wit::Operation::DisableInstance => sdk::Operation::DisableInstance,
            wit::Operation::DeleteInstance => sdk::Operation::DeleteInstance,
            wit::Operation::Reconcile => sdk::Operation::Reconcile,
        };
        plan.push(op, a.reason);
    }
    plan
}

pub(crate) fn refusal_back(r: wit::Refusal) -> sdk::Refusal {
    sdk::Refusal {
        code: r.code,
        message: r.message,
        field: r.field,
    }
}

pub(crate) fn field_error_back(e: wit::FieldError) -> sdk::FieldError {
    sdk::FieldError {
        field: e.field,
        message: e.message,
    }
}
