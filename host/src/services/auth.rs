//! Principals and the authorisation rules every service call applies.
//!
//! A service never trusts its caller: it receives the acting [`Principal`]
//! and asks [`authorize`] for the permission it needs, inside the same
//! transaction as the change, so the check and the write see one state.
//! A principal of one site can name nothing of another: the check compares
//! the principal's site with the site the call runs on before anything else.

use super::error::{ServiceError, ServiceResult};
use super::ops::content::{load_activity, load_grouping, load_section};
use super::ops::gradebook::load_grade_item;
use super::ops::groups::load_group;
use super::ops::methods::load_method;
use crate::domain::*;
use crate::storage::site::prelude::*;

/// Who is acting. Built by the HTTP layer from a session or token, by the
/// CLI for operators, and by the plugin runtime for enrolment methods.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal(Kind);

#[derive(Clone, Debug, PartialEq, Eq)]
enum Kind {
    Operator(OperatorId),
    SiteUser {
        site: SiteId,
        user: UserId,
    },
    Method {
        site: SiteId,
        method: EnrolmentMethodId,
    },
    System,
}

impl Principal {
    pub fn operator(id: OperatorId) -> Self {
        Self(Kind::Operator(id))
    }

    pub fn site_user(site: SiteId, user: UserId) -> Self {
        Self(Kind::SiteUser { site, user })
    }

    /// An enrolment method acting on its own course (the plugin runtime).
    pub fn method(site: SiteId, method: EnrolmentMethodId) -> Self {
        Self(Kind::Method { site, method })
    }

    /// The host itself: first-run set-up and demo data. Never built from a
    /// request.
    pub(crate) fn system() -> Self {
        Self(Kind::System)
    }

    pub fn is_operator(&self) -> bool {
        matches!(self.0, Kind::Operator(_) | Kind::System)
    }

    pub fn operator_id(&self) -> Option<OperatorId> {
        match self.0 {
            Kind::Operator(id) => Some(id),
            _ => None,
        }
    }

    /// The site user behind this principal, if it is one.
    pub fn site_user_id(&self, site: SiteId) -> Option<UserId> {
        match self.0 {
            Kind::SiteUser { site: s, user } if s == site => Some(user),
            _ => None,
        }
    }

    pub(crate) fn method_id(&self) -> Option<EnrolmentMethodId> {
        match self.0 {
            Kind::Method { method, .. } => Some(method),
            _ => None,
        }
    }

    /// What the audit log records for this principal.
    pub fn actor(&self) -> Actor {
        match self.0 {
            Kind::Operator(id) => Actor::Operator(id),
            Kind::SiteUser { user, .. } => Actor::User(user),
            Kind::Method { method, .. } => Actor::Method(method),
            Kind::System => Actor::System,
        }
    }
}

/// What a call needs.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Need {
    /// Operators only: the registry and site lifecycle.
    Operator,
    /// Site admin (or operator).
    SiteAdmin,
    /// Change a course's enrolments and group memberships: site admin, or
    /// an editing teacher of the course, or an enrolment method of that
    /// course.
    ManageCourse(CourseId),
    /// Change a course's settings, enrolment methods or groups: site admin
    /// or an editing teacher of the course, never an enrolment method. A
    /// plugin only returns plans of enrolments and memberships (PRODUCT
    /// §3); it must not reconfigure the course or the other methods.
    ConfigureCourse(CourseId),
    /// See a course: anyone who may manage it, or a participant.
    ViewCourse(CourseId),
    /// Teach a course — grade, see its gradebook: site admin or a
    /// teacher of the course, editing or not; never an enrolment method.
    TeachCourse(CourseId),
    /// See one's own record, or a site admin.
    SelfOrAdmin(UserId),
    /// Any active user of the site.
    SiteMember,
    /// Write announcements: a site admin, or a teacher (editing or not)
    /// of some course. Which audiences they reach is the announcement
    /// service's to check.
    Announce,
}

/// Checks that `who` may do what `need` says on `site`, and returns the
/// actor to audit. Runs inside the caller's transaction.
pub fn authorize(
    site: &Site,
    t: &impl SiteRead,
    who: &Principal,
    need: Need,
) -> ServiceResult<Actor> {
    let (site_id, user) = match &who.0 {
        Kind::Operator(_) | Kind::System => return Ok(who.actor()),
        Kind::SiteUser { site, user } => (*site, Some(*user)),
        Kind::Method { site, .. } => (*site, None),
    };
    if site_id != site.id {
        return Err(ServiceError::Forbidden(format!(
            "you act for another site and cannot touch site {:?}",
            site.slug
        )));
    }
    if site.status == SiteStatus::Suspended {
        return Err(ServiceError::Forbidden(format!(
            "site {:?} is suspended",
            site.slug
        )));
    }
    if need == Need::Operator {
        return Err(ServiceError::Forbidden(
            "only an operator may do this".into(),
        ));
    }
    if let Some(method) = who.method_id() {
        return authorize_method(t, method, need).map(|()| who.actor());
    }
    let Some(user_id) = user else {
        return Err(ServiceError::Forbidden("unknown principal".into()));
    };
    let Some(user) = t.user(user_id)? else {
        return Err(ServiceError::Forbidden(
            "your account no longer exists".into(),
        ));
    };
    if user.status != UserStatus::Active {
        return Err(ServiceError::Forbidden("your account is suspended".into()));
    }
    if user.site_role == SiteRole::SiteAdmin {
        return Ok(who.actor());
    }
    let allowed = match need {
        Need::Operator | Need::SiteAdmin => false,
        Need::SiteMember => true,
        Need::SelfOrAdmin(u) => u == user.id,
        Need::ManageCourse(c) | Need::ConfigureCourse(c) => {
            has_active_role(t, c, user.id, |r| r == Role::Teacher)?
        }
        Need::ViewCourse(c) => has_active_role(t, c, user.id, |_| true)?,
        Need::TeachCourse(c) => has_active_role(t, c, user.id, Role::teaches)?,
        Need::Announce => t
            .user_enrolment_list(user.id)?
            .iter()
            .any(|e| e.status == EnrolmentStatus::Active && e.role.is_some_and(Role::teaches)),
    };
    if allowed {
        Ok(who.actor())
    } else {
        Err(ServiceError::Forbidden(match need {
            Need::ManageCourse(c) | Need::ConfigureCourse(c) => {
                format!("you do not teach course #{c}")
            }
            Need::ViewCourse(c) => format!("you are not a participant of course #{c}"),
            Need::TeachCourse(c) => format!("you do not teach course #{c}"),
            Need::Announce => "only site admins and teachers write announcements".into(),
            _ => "this needs the site admin role".into(),
        }))
    }
}

/// Checks that `who` may give (or take away) `role` in a course they may
/// manage: Moodle's default "allow role assignments", where an editing
/// teacher gives the non-editing teacher and learner roles only and the
/// editing teacher role is a site admin's to give. Operators, site admins
/// and enrolment methods (whose config an authorised person chose) pass.
/// Runs after the `ManageCourse` check, inside the same transaction.
pub fn authorize_role_assignment(
    site: &Site,
    t: &impl SiteRead,
    who: &Principal,
    role: Role,
) -> ServiceResult<()> {
    let Kind::SiteUser { user, .. } = &who.0 else {
        return Ok(());
    };
    let is_admin = t
        .user(*user)?
        .is_some_and(|u| u.site_role == SiteRole::SiteAdmin);
    if role != Role::Teacher || is_admin {
        return Ok(());
    }
    Err(ServiceError::Forbidden(format!(
        "an editing teacher may give the non-editing teacher and learner roles only; \
         ask a site admin of {:?} to give or take the editing teacher role",
        site.slug
    )))
}

/// Refuses everyone but operators (and the host itself): the registry,
/// the sites' lifecycle and the plugins installed on the host.
pub fn authorize_operator(who: &Principal) -> ServiceResult<()> {
    match who.0 {
        Kind::Operator(_) | Kind::System => Ok(()),
        _ => Err(ServiceError::Forbidden(
            "only an operator may do this".into(),
        )),
    }
}

/// Checks that `who` may ask this site anything at all: a principal of
/// this site, the site not suspended, an account that exists and is
/// active. A call that must look something up before it knows which
/// permission it needs (a group's course, a method's course, a user by
/// name) runs this first, so that a refusal never depends on whether the
/// named thing exists: otherwise "not found" versus "forbidden" would tell
/// a stranger what another site holds.
pub fn authorize_caller(site: &Site, t: &impl SiteRead, who: &Principal) -> ServiceResult<()> {
    authorize(site, t, who, Need::SiteMember).map(drop)
}

/// The group `id`, looked up only once [`authorize_caller`] has passed, and
/// the actor `who` is for `need` of its course (`Need::ManageCourse`, …).
pub fn authorized_group(
    site: &Site,
    t: &impl SiteRead,
    who: &Principal,
    id: CourseGroupId,
    need: fn(CourseId) -> Need,
) -> ServiceResult<(CourseGroup, Actor)> {
    authorize_caller(site, t, who)?;
    let group = load_group(t, id)?;
    let actor = authorize(site, t, who, need(group.course))?;
    Ok((group, actor))
}

/// The enrolment method `id`, looked up only once [`authorize_caller`] has
/// passed, and the actor `who` is for `need` of its course.
pub fn authorized_method(
    site: &Site,
    t: &impl SiteRead,
    who: &Principal,
    id: EnrolmentMethodId,
    need: fn(CourseId) -> Need,
) -> ServiceResult<(EnrolmentMethod, Actor)> {
    authorize_caller(site, t, who)?;
    let method = load_method(t, id)?;
    let actor = authorize(site, t, who, need(method.course))?;
    Ok((method, actor))
}

/// What a call asks of a site, named before its input is read: the HTTP
/// layer has the caller authorised with it before it parses a request's
/// body, so that whoever may not make a call hears "forbidden", never the
/// rules of a body they may not send (issue 16, finding 8). The service
/// called next authorises again inside its transaction; this check only
/// decides who learns anything about the input.
#[derive(Copy, Clone, Debug)]
pub enum Ask {
    /// A need on the site or on a course the request names.
    Site(Need),
    /// A need on the course of the group the request names.
    Group(CourseGroupId, fn(CourseId) -> Need),
    /// A need on the course of the enrolment method the request names.
    Method(EnrolmentMethodId, fn(CourseId) -> Need),
    /// A need on the course of the section the request names.
    Section(CourseSectionId, fn(CourseId) -> Need),
    /// A need on the course of the activity the request names.
    Activity(ActivityId, fn(CourseId) -> Need),
    /// A need on the course of the grouping the request names.
    Grouping(GroupingId, fn(CourseId) -> Need),
    /// A need on the course of the grade item the request names.
    GradeItem(GradeItemId, fn(CourseId) -> Need),
}

impl super::SiteServices {
    /// Refuses `who` unless they may make a call that [`Ask`]s this, in a
    /// snapshot of the site. A group or method is looked up only once the
    /// caller is one of the site's, as in [`authorized_group`].
    pub fn authorize_ask(&self, who: &Principal, ask: Ask) -> ServiceResult<()> {
        self.read(|t| match ask {
            Ask::Site(need) => authorize(self.site(), t, who, need).map(drop),
            Ask::Group(id, need) => authorized_group(self.site(), t, who, id, need).map(drop),
            Ask::Method(id, need) => authorized_method(self.site(), t, who, id, need).map(drop),
            Ask::Section(id, need) => {
                authorize_caller(self.site(), t, who)?;
                let course = load_section(t, id)?.course;
                authorize(self.site(), t, who, need(course)).map(drop)
            }
            Ask::Activity(id, need) => {
                authorize_caller(self.site(), t, who)?;
                let course = load_activity(t, id)?.course;
                authorize(self.site(), t, who, need(course)).map(drop)
            }
            Ask::Grouping(id, need) => {
                authorize_caller(self.site(), t, who)?;
                let course = load_grouping(t, id)?.course;
                authorize(self.site(), t, who, need(course)).map(drop)
            }
            Ask::GradeItem(id, need) => {
                authorize_caller(self.site(), t, who)?;
                let course = load_grade_item(t, id, None)?.course;
                authorize(self.site(), t, who, need(course)).map(drop)
            }
        })
    }
}

fn has_active_role(
    t: &impl SiteRead,
    course: CourseId,
    user: UserId,
    ok: impl Fn(Role) -> bool,
) -> ServiceResult<bool> {
    Ok(t.user_course_enrolments(course, user)?
        .iter()
        .any(|e| e.status == EnrolmentStatus::Active && e.role.is_some_and(&ok)))
}

/// An enrolment method may act on its own course only.
fn authorize_method(t: &impl SiteRead, method: EnrolmentMethodId, need: Need) -> ServiceResult<()> {
    let Some(m) = t.method(method)? else {
        return Err(ServiceError::Forbidden(format!(
            "enrolment method #{method} no longer exists"
        )));
    };
    match need {
        Need::ManageCourse(c) | Need::ViewCourse(c) if c == m.course => Ok(()),
        Need::SiteMember => Ok(()),
        Need::ConfigureCourse(_) => Err(ServiceError::Forbidden(
            "an enrolment method cannot change the course, its enrolment methods or its groups"
                .into(),
        )),
        _ => Err(ServiceError::Forbidden(format!(
            "enrolment method #{method} may only act on its own course #{}",
            m.course
        ))),
    }
}
