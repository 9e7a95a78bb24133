//! How the services speak to a method's plugin: the one function that
//! makes a call, the context every call gets, which methods a site event
//! concerns and in what form they receive it, and the requests people make
//! through a method.
//!
//! Everything here is the runtime's version-neutral contract API
//! (`runtime::contract`) over domain types: which contract version a
//! plugin speaks, and every conversion to and from that version's types,
//! is the runtime's business, so the services do not change when a new
//! contract version comes. The services ask with an [`Ask`] (a
//! [`HostEvent`], a [`HostRequest`] or a reconcile cursor) and get an
//! [`Answer`] (a domain [`Plan`] and the next cursor) or a [`Refusal`].
//!
//! Never reads or writes the site: it builds what a call takes and calls,
//! nothing more. Never names a contract version's generated (`wit`) types.

use super::error::ServiceError;
use crate::domain::*;
use crate::runtime::contract::{Context, Event, ReconcileStep, Request};
use crate::runtime::{Plugin, PluginError, Queries, Runtime};

pub(crate) use crate::runtime::contract::{Refusal, RequestKind};

// ------------------------------------------------------------------ calls

/// What the host asks of a method's plugin in one call.
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

impl From<ReconcileStep> for Answer {
    fn from(step: ReconcileStep) -> Self {
        Answer {
            plan: step.plan,
            next: step.next,
        }
    }
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

/// Calls `plugin` for method `m`, with `queries` and the plugin's
/// effective site `settings` (JSON). `Err` is the runtime's: the plugin
/// misbehaved or the sandbox failed.
pub(crate) fn call(
    runtime: &Runtime,
    plugin: &Plugin,
    queries: Box<dyn Queries>,
    m: &EnrolmentMethod,
    settings: String,
    ask: Ask<'_>,
) -> Result<Result<Answer, Refusal>, PluginError> {
    let ctx = context(m, settings);
    let plan_only = |plan: Plan| Answer { plan, next: None };
    Ok(match ask {
        Ask::Event(e) => runtime
            .handle_event(plugin, queries, &ctx, &e.event)?
            .map(plan_only),
        Ask::Request(r) => runtime
            .handle_request(plugin, queries, &ctx, &r.0)?
            .map(plan_only),
        Ask::Reconcile(cursor) => runtime
            .reconcile(plugin, queries, &ctx, cursor)?
            .map(Answer::from),
    })
}

/// The context of every call of method `m`.
pub(crate) fn context(m: &EnrolmentMethod, settings: String) -> Context {
    Context {
        method: m.id,
        course: m.course,
        config: m.config.clone(),
        settings,
        enabled: m.status == EnrolmentMethodStatus::Enabled,
        now: Timestamp::now(),
    }
}

// ----------------------------------------------------------------- events

/// Which methods an event concerns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scope {
    /// Every method of the site.
    Site,
    /// The methods of this course.
    Course(CourseId),
    /// The methods of the group's course.
    Group(CourseGroupId),
    /// This method, whatever its status (its own lifecycle).
    Method(EnrolmentMethodId),
}

/// A site event in the contract's form, for the plugins that ask for its
/// kind.
pub(crate) struct HostEvent {
    event: Event,
}

impl HostEvent {
    /// The event in the contract's words.
    pub(crate) fn event(&self) -> &Event {
        &self.event
    }

    /// Whether `plugin`'s manifest asks for events of this kind.
    pub(crate) fn wanted_by(&self, plugin: &Plugin) -> bool {
        plugin.manifest.events.contains(&self.event.kind())
    }

    /// The contract's form of `event` and which methods it concerns, or
    /// `None` for events plugins cannot ask for (user created or updated,
    /// course deleted).
    pub(crate) fn of(event: &SiteEvent) -> Option<(HostEvent, Scope)> {
        use SiteEvent as S;
        let (event, scope) = match *event {
            // Stored before `UserChanged` said what changed: a plugin is
            // told of the user when the change is next made.
            S::UserUpdated { .. } | S::CourseDeleted { .. } => {
                return None;
            }
            S::UserCreated { user } => (Event::UserCreated(user), Scope::Site),
            S::UserChanged { user, changes } => (Event::UserUpdated { user, changes }, Scope::Site),
            S::MethodDeleted { .. } => return None,
            // Course content is not part of the plugin contract (yet): the
            // events are in the outbox for a later contract version.
            S::SectionCreated { .. }
            | S::SectionUpdated { .. }
            | S::SectionDeleted { .. }
            | S::ActivityCreated { .. }
            | S::ActivityUpdated { .. }
            | S::ActivityDeleted { .. }
            | S::GroupingCreated { .. }
            | S::GroupingUpdated { .. }
            | S::GroupingDeleted { .. } => return None,
            // Forums are not in the plugin contract yet (issue 18).
            S::DiscussionStarted { .. }
            | S::DiscussionDeleted { .. }
            | S::PostCreated { .. }
            | S::PostUpdated { .. }
            | S::PostDeleted { .. }
            | S::SubscriptionChanged { .. } => return None,
            // Teaching events have no contract counterpart yet: enrolment
            // methods do not hear of them.
            S::SubmissionSaved { .. }
            | S::SubmissionSubmitted { .. }
            | S::SubmissionGraded { .. }
            | S::GradebookChanged { .. } => {
                return None;
            }
            S::UserSuspended { user } => (Event::UserSuspended(user), Scope::Site),
            S::UserReactivated { user } => (Event::UserReactivated(user), Scope::Site),
            S::UserDeleted { user } => (Event::UserDeleted(user), Scope::Site),
            S::SegmentMemberAdded { segment, user } => {
                (Event::SegmentMemberAdded { user, segment }, Scope::Site)
            }
            S::SegmentMemberRemoved { segment, user } => {
                (Event::SegmentMemberRemoved { user, segment }, Scope::Site)
            }
            S::SegmentDeleted { segment } => (Event::SegmentDeleted(segment), Scope::Site),
            S::UserEnrolled {
                course,
                user,
                method,
            } => (Event::UserEnrolled { user, method }, Scope::Course(course)),
            S::EnrolmentUpdated {
                course,
                user,
                method,
            } => (
                Event::EnrolmentUpdated { user, method },
                Scope::Course(course),
            ),
            S::UserUnenrolled {
                course,
                user,
                method,
            } => (
                Event::UserUnenrolled { user, method },
                Scope::Course(course),
            ),
            S::GroupMemberAdded { group, user } => {
                (Event::GroupMemberAdded { user, group }, Scope::Group(group))
            }
            S::GroupMemberRemoved { group, user } => (
                Event::GroupMemberRemoved { user, group },
                Scope::Group(group),
            ),
            S::GroupDeleted { course, group } => {
                (Event::GroupDeleted(group), Scope::Course(course))
            }
            S::MethodAdded { method, .. } => (Event::MethodAdded, Scope::Method(method)),
            S::MethodEnabled { method, .. } => (Event::MethodEnabled, Scope::Method(method)),
            S::MethodDisabled { method, .. } => (Event::MethodDisabled, Scope::Method(method)),
            S::MethodUpdated { method, .. } => (Event::MethodUpdated, Scope::Method(method)),
        };
        Some((HostEvent { event }, scope))
    }
}

// --------------------------------------------------------------- requests

/// A person's request through a method, in the contract's form. Built
/// once the caller is authorised for it.
pub(crate) struct HostRequest(Request);

impl HostRequest {
    pub(crate) fn enrol_users(
        users: &[UserId],
        role: Option<Role>,
        group: Option<CourseGroupId>,
        requested_by: Option<UserId>,
    ) -> Self {
        HostRequest(Request::EnrolUsers {
            users: users.to_vec(),
            role,
            group,
            requested_by,
        })
    }

    pub(crate) fn unenrol_users(users: &[UserId]) -> Self {
        HostRequest(Request::UnenrolUsers(users.to_vec()))
    }

    pub(crate) fn self_enrol(user: UserId, key: Option<String>) -> Self {
        HostRequest(Request::SelfEnrol { user, key })
    }

    pub(crate) fn self_unenrol(user: UserId) -> Self {
        HostRequest(Request::SelfUnenrol(user))
    }
}
