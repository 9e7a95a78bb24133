//! Enrolments through a course's enrolment methods, and the participants
//! they make; the methods themselves are `methods`'.

mod methods;
mod participants;
pub mod secrets;

use super::auth::{Need, authorize, authorize_role_assignment, authorized_method};
use super::error::{ServiceError, ServiceResult};
use super::ops::enrolments::{enrol_in, unenrol_in};
use super::ops::users::require_user;
use super::{MembershipChange, Page, Principal, SiteServices};
use crate::domain::*;
use crate::storage::site::{SiteTables, prelude::*};

pub use methods::{MethodUpdate, NewMethod};

/// Changes to one enrolment; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct EnrolmentUpdate {
    pub status: Option<EnrolmentStatus>,
    /// `Some(None)` drops the role ("suspend and remove role").
    pub role: Option<Option<Role>>,
}

/// A user of a course with every enrolment they have in it.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Participant {
    pub user: User,
    pub enrolments: Vec<Enrolment>,
}

impl Participant {
    /// An active participant: an active account and at least one active
    /// enrolment. Suspending an account changes no enrolment (Moodle's
    /// rule) but stops it taking part, so it stops counting here.
    pub fn is_active(&self) -> bool {
        self.user.status == UserStatus::Active
            && self
                .enrolments
                .iter()
                .any(|e| e.status == EnrolmentStatus::Active)
    }
}

/// One enrolment of a participant with the method it came through.
#[derive(Clone, Debug, PartialEq)]
pub struct EnrolmentVia {
    pub enrolment: Enrolment,
    pub method: EnrolmentMethod,
}

/// A participant as the course's staff see them: how they are enrolled.
#[derive(Clone, Debug, PartialEq)]
pub struct ParticipantDetail {
    pub user: User,
    pub enrolments: Vec<EnrolmentVia>,
}

impl ParticipantDetail {
    /// An active participant, as [`Participant::is_active`].
    pub fn is_active(&self) -> bool {
        self.user.status == UserStatus::Active
            && self
                .enrolments
                .iter()
                .any(|e| e.enrolment.status == EnrolmentStatus::Active)
    }
}

/// A page of a course's participants, with the course they belong to.
#[derive(Clone, Debug, PartialEq)]
pub struct CourseParticipants {
    pub course: Course,
    pub participants: Page<ParticipantDetail, UserId>,
    /// The caller manages enrolments (the methods are theirs to see).
    pub manages: bool,
    /// The caller sees e-mail addresses (staff, or the site lets learners).
    pub shows_emails: bool,
    /// The group mode of the course's people, and whether the list is
    /// limited to the caller's groups by it.
    pub limited_to_groups: bool,
    /// The names of each listed participant's groups the caller may see,
    /// in the order of `participants`.
    pub groups: Vec<Vec<String>>,
}

/// An enrolment method acting as a principal may only change its own
/// enrolments.
fn check_own_method(who: &Principal, method: EnrolmentMethodId) -> ServiceResult<()> {
    match who.method_id() {
        Some(m) if m != method => Err(ServiceError::Forbidden(format!(
            "enrolment method #{m} cannot change enrolments of method #{method}"
        ))),
        _ => Ok(()),
    }
}

/// The checks every enrolment through `method` needs: the caller may
/// manage the method's course, a method principal acts only for itself,
/// and the method is enabled. Returns the actor and the method.
fn authorize_enrolling(
    site: &Site,
    t: &SiteTables<'_>,
    who: &Principal,
    method: EnrolmentMethodId,
) -> ServiceResult<(Actor, EnrolmentMethod)> {
    let (m, actor) = authorized_method(site, t, who, method, Need::ManageCourse)?;
    check_own_method(who, method)?;
    if m.status != EnrolmentMethodStatus::Enabled {
        return Err(ServiceError::Conflict(format!(
            "enrolment method {:?} is disabled; enable it first",
            m.name
        )));
    }
    Ok((actor, m))
}

impl SiteServices {
    /// Enrols a user through a method, or re-activates (and re-roles) an
    /// enrolment they already have through it.
    pub fn enrol(
        &self,
        who: &Principal,
        method: EnrolmentMethodId,
        user: UserId,
        role: Role,
    ) -> ServiceResult<Enrolment> {
        self.write(|t| {
            let (actor, m) = authorize_enrolling(&self.site, t, who, method)?;
            authorize_role_assignment(&self.site, t, who, role)?;
            Ok(enrol_in(t, actor, &m, user, role, None)?.0)
        })
    }

    /// Enrols many users through a method in one transaction, as
    /// [`enrol`](Self::enrol) does one: all or none. An unknown user fails
    /// the whole call; users already enrolled with this role and active are
    /// counted unchanged.
    pub fn enrol_users(
        &self,
        who: &Principal,
        method: EnrolmentMethodId,
        users: &[UserId],
        role: Role,
    ) -> ServiceResult<MembershipChange> {
        self.write(|t| {
            let (actor, m) = authorize_enrolling(&self.site, t, who, method)?;
            authorize_role_assignment(&self.site, t, who, role)?;
            MembershipChange::tally(
                users,
                |user| Ok(enrol_in(t, actor, &m, user, role, None)?.1),
            )
        })
    }

    /// Changes the status and/or role of one enrolment in one transaction.
    /// A change that changes nothing writes nothing.
    pub fn update_enrolment(
        &self,
        who: &Principal,
        method: EnrolmentMethodId,
        user: UserId,
        update: EnrolmentUpdate,
    ) -> ServiceResult<Enrolment> {
        self.write(|t| {
            let (m, actor) = authorized_method(&self.site, t, who, method, Need::ManageCourse)?;
            check_own_method(who, method)?;
            let mut e = t.enrolment(m.course, user, method)?.ok_or_else(|| {
                ServiceError::not_found(format!("enrolment of user #{user} via method #{method}"))
            })?;
            let target = AuditTarget::Enrolment {
                user,
                course: m.course,
                method,
            };
            let mut changed = false;
            if let Some(status) = update.status
                && status != e.status
            {
                e.status = status;
                let action = match status {
                    EnrolmentStatus::Active => "enrolment.reactivated",
                    EnrolmentStatus::Suspended => "enrolment.suspended",
                };
                t.audit_log(
                    actor,
                    action,
                    target,
                    action.replace("enrolment.", "enrolment "),
                )?;
                changed = true;
            }
            if let Some(role) = update.role
                && role != e.role
            {
                // Taking the editing teacher role away is giving it back
                // in reverse: the same people may do it.
                for touched in [e.role, role].into_iter().flatten() {
                    authorize_role_assignment(&self.site, t, who, touched)?;
                }
                e.role = role;
                let label = role.map_or("no role", Role::label);
                t.audit_log(
                    actor,
                    "enrolment.role_set",
                    target,
                    format!("role set to {label}"),
                )?;
                changed = true;
            }
            if changed {
                e.updated_at = t.now;
                t.put_enrolment(&e)?;
                t.emit(SiteEvent::EnrolmentUpdated {
                    course: m.course,
                    user,
                    method,
                })?;
            }
            Ok(e)
        })
    }

    /// Suspends or re-activates one enrolment; `remove_role` also drops the
    /// role ("suspend and remove role").
    pub fn set_enrolment_status(
        &self,
        who: &Principal,
        method: EnrolmentMethodId,
        user: UserId,
        status: EnrolmentStatus,
        remove_role: bool,
    ) -> ServiceResult<Enrolment> {
        let update = EnrolmentUpdate {
            status: Some(status),
            role: remove_role.then_some(None),
        };
        self.update_enrolment(who, method, user, update)
    }

    pub fn set_enrolment_role(
        &self,
        who: &Principal,
        method: EnrolmentMethodId,
        user: UserId,
        role: Option<Role>,
    ) -> ServiceResult<Enrolment> {
        let update = EnrolmentUpdate {
            status: None,
            role: Some(role),
        };
        self.update_enrolment(who, method, user, update)
    }

    pub fn unenrol(
        &self,
        who: &Principal,
        method: EnrolmentMethodId,
        user: UserId,
    ) -> ServiceResult<()> {
        self.write(|t| {
            let (m, actor) = authorized_method(&self.site, t, who, method, Need::ManageCourse)?;
            check_own_method(who, method)?;
            if !unenrol_in(t, actor, m.course, user, method, "unenrolled")? {
                return Err(ServiceError::not_found(format!(
                    "enrolment of user #{user} via method #{method}"
                )));
            }
            Ok(())
        })
    }

    /// Every enrolment of one user, in any course.
    pub fn user_enrolments(&self, who: &Principal, user: UserId) -> ServiceResult<Vec<Enrolment>> {
        self.read(|t| {
            authorize(&self.site, t, who, Need::SelfOrAdmin(user))?;
            require_user(t, user)?;
            Ok(t.user_enrolment_list(user)?)
        })
    }
}
