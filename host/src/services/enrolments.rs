//! Enrolment methods of a course and the enrolments made through them.

use super::auth::{Need, authorize, authorize_caller};
use super::courses::load_course;
use super::error::{ServiceError, ServiceResult};
use super::segments::MembershipChange;
use super::users::load_user;
use super::{Page, Principal, SiteServices, clamp_limit, validate};
use crate::domain::*;
use crate::storage::site::{SiteTables, prelude::*};

#[derive(Clone, Debug)]
pub struct NewMethod {
    pub plugin: String,
    /// Blank means the plugin id.
    pub name: String,
    /// A JSON object; the plugin checks it and may normalise it.
    pub config: serde_json::Value,
    pub enabled: bool,
}

#[derive(Clone, Debug, Default)]
pub struct MethodUpdate {
    pub name: Option<String>,
    pub config: Option<serde_json::Value>,
}

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
    /// Active through at least one enrolment.
    pub fn is_active(&self) -> bool {
        self.enrolments
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
    /// Active through at least one enrolment.
    pub fn is_active(&self) -> bool {
        self.enrolments
            .iter()
            .any(|e| e.enrolment.status == EnrolmentStatus::Active)
    }
}

/// A page of a course's participants, with the course they belong to.
#[derive(Clone, Debug, PartialEq)]
pub struct CourseParticipants {
    pub course: Course,
    pub participants: Page<ParticipantDetail, UserId>,
}

pub(crate) fn load_method(
    t: &impl SiteRead,
    id: EnrolmentMethodId,
) -> ServiceResult<EnrolmentMethod> {
    t.method(id)?
        .ok_or_else(|| ServiceError::not_found(format!("enrolment method #{id}")))
}

/// The largest config an instance may have, as JSON text.
pub(crate) const MAX_CONFIG_BYTES: usize = 64 * 1024;

fn config_text(config: &serde_json::Value) -> ServiceResult<String> {
    if !config.is_object() {
        return Err(ServiceError::invalid("config", "must be a JSON object"));
    }
    let text = config.to_string();
    if text.len() > MAX_CONFIG_BYTES {
        return Err(ServiceError::invalid("config", "is larger than 64 KiB"));
    }
    Ok(text)
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

/// Removes one enrolment; when it was the user's last in the course, also
/// their group memberships there (a non-participant is in no group).
pub(crate) fn unenrol_in(
    t: &mut SiteTables<'_>,
    actor: Actor,
    course: CourseId,
    user: UserId,
    method: EnrolmentMethodId,
    reason: &str,
) -> ServiceResult<bool> {
    if !t.delete_enrolment_row(course, user, method)? {
        return Ok(false);
    }
    t.audit_log(
        actor,
        "enrolment.deleted",
        AuditTarget::Enrolment {
            user,
            course,
            method,
        },
        reason.to_owned(),
    )?;
    t.emit(SiteEvent::UserUnenrolled {
        course,
        user,
        method,
    })?;
    if !t.has_enrolment_in(course, user)? {
        for group in t.user_group_ids_in(course, user)? {
            t.delete_group_member(course, group, user)?;
            t.audit_log(
                actor,
                "group.member_removed",
                AuditTarget::GroupMember { user, group },
                "no longer enrolled in the course",
            )?;
            t.emit(SiteEvent::GroupMemberRemoved { group, user })?;
        }
    } else {
        // Memberships this method owned go with its enrolment.
        for group in t.user_group_ids_in(course, user)? {
            if let Some(m) = t.group_membership(group, user)?
                && m.owner == MembershipOwner::Method(method)
            {
                t.delete_group_member(course, group, user)?;
                t.audit_log(
                    actor,
                    "group.member_removed",
                    AuditTarget::GroupMember { user, group },
                    reason.to_owned(),
                )?;
                t.emit(SiteEvent::GroupMemberRemoved { group, user })?;
            }
        }
    }
    Ok(true)
}

/// Deletes a method with its enrolments (used by course deletion too).
/// `actor` is who deleted it: the audit log records them, not the method,
/// on every enrolment and membership that goes with it.
pub(crate) fn delete_method_in(
    t: &mut SiteTables<'_>,
    actor: Actor,
    method: &EnrolmentMethod,
) -> ServiceResult<()> {
    let reason = format!("enrolment method {:?} deleted", method.name);
    loop {
        let batch = t.method_enrolment_user_ids(method.course, method.id, None, 4096)?;
        if batch.is_empty() {
            break;
        }
        for user in batch {
            unenrol_in(t, actor, method.course, user, method.id, &reason)?;
        }
    }
    // A method may own memberships of users it did not enrol ("segment
    // members to group" enrols nobody); they go with it too, or they would
    // be left owned by a method that no longer exists and that alone may
    // remove them.
    let owner = MembershipOwner::Method(method.id);
    for group in t.course_group_list(method.course)? {
        let mut after = None;
        loop {
            let page = t.group_members_page(group.id, after, 4096)?;
            let Some(last) = page.last() else {
                break;
            };
            after = Some(last.user);
            for m in page.iter().filter(|m| m.owner == owner) {
                t.delete_group_member(method.course, group.id, m.user)?;
                t.audit_log(
                    actor,
                    "group.member_removed",
                    AuditTarget::GroupMember {
                        user: m.user,
                        group: group.id,
                    },
                    reason.clone(),
                )?;
                t.emit(SiteEvent::GroupMemberRemoved {
                    group: group.id,
                    user: m.user,
                })?;
            }
        }
    }
    t.delete_method_row(method)?;
    t.emit(SiteEvent::MethodDeleted {
        course: method.course,
        method: method.id,
    })?;
    Ok(())
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
    authorize_caller(site, t, who)?;
    let m = load_method(t, method)?;
    let actor = authorize(site, t, who, Need::ManageCourse(m.course))?;
    check_own_method(who, method)?;
    if m.status != EnrolmentMethodStatus::Enabled {
        return Err(ServiceError::Conflict(format!(
            "enrolment method {:?} is disabled; enable it first",
            m.name
        )));
    }
    Ok((actor, m))
}

/// Enrols `user` through `m`, or re-activates (and re-roles) the enrolment
/// they have through it. Returns the enrolment and whether it changed.
/// `reason` is audited; `None` says the role ("enrolled as Learner").
pub(crate) fn enrol_in(
    t: &mut SiteTables<'_>,
    actor: Actor,
    m: &EnrolmentMethod,
    user: UserId,
    role: Role,
    reason: Option<&str>,
) -> ServiceResult<(Enrolment, bool)> {
    load_user(t, user)?;
    enrol_existing_user(t, actor, m, user, role, reason)
}

/// [`enrol_in`] for a user the caller has already found: a plan's enrol
/// checks the user's status itself, and reading the record twice per user
/// is measurable in a 100,000-member sync.
pub(crate) fn enrol_existing_user(
    t: &mut SiteTables<'_>,
    actor: Actor,
    m: &EnrolmentMethod,
    user: UserId,
    role: Role,
    reason: Option<&str>,
) -> ServiceResult<(Enrolment, bool)> {
    let method = m.id;
    let fresh = Enrolment {
        course: m.course,
        user,
        method,
        role: Some(role),
        status: EnrolmentStatus::Active,
        created_at: t.now,
        updated_at: t.now,
    };
    // Written at once when new (the common case, one B-tree descent);
    // an existing enrolment is left in place and looked at below.
    let enrolment = match t.insert_enrolment_if_absent(&fresh)? {
        None => {
            audit_enrolment(t, actor, "enrolment.created", m, user, role, reason)?;
            t.emit(SiteEvent::UserEnrolled {
                course: m.course,
                user,
                method,
            })?;
            fresh
        }
        Some(mut e) => {
            if e.status == EnrolmentStatus::Active && e.role == Some(role) {
                return Ok((e, false));
            }
            e.status = EnrolmentStatus::Active;
            e.role = Some(role);
            e.updated_at = t.now;
            t.put_enrolment(&e)?;
            audit_enrolment(t, actor, "enrolment.reactivated", m, user, role, reason)?;
            t.emit(SiteEvent::EnrolmentUpdated {
                course: m.course,
                user,
                method,
            })?;
            e
        }
    };
    Ok((enrolment, true))
}

/// Audits an enrolment `enrol_existing_user` made or re-activated, with
/// the caller's reason or else the role it gives. Printed straight into the
/// entry: a sync audits 100,000 of these.
fn audit_enrolment(
    t: &mut SiteTables<'_>,
    actor: Actor,
    action: &str,
    m: &EnrolmentMethod,
    user: UserId,
    role: Role,
    reason: Option<&str>,
) -> ServiceResult<()> {
    let (course, method) = (m.course, m.id);
    match reason {
        Some(reason) => t.audit_log(
            actor,
            action,
            AuditTarget::Enrolment {
                user,
                course,
                method,
            },
            reason,
        )?,
        None => t.audit_log(
            actor,
            action,
            AuditTarget::Enrolment {
                user,
                course,
                method,
            },
            format_args!("enrolled as {}", role.label()),
        )?,
    };
    Ok(())
}

impl SiteServices {
    /// Adds an instance of a plugin to a course. The plugin must be enabled
    /// on the site; it checks the config (and may normalise it) before
    /// anything is written, and its field errors come back as
    /// [`ServiceError::ConfigRejected`]. Calls the plugin: HTTP handlers run
    /// this on the blocking pool.
    pub fn add_method(
        &self,
        who: &Principal,
        course: CourseId,
        new: NewMethod,
    ) -> ServiceResult<EnrolmentMethod> {
        let name = match new.name.trim() {
            "" => new.plugin.trim().to_owned(),
            n => validate::required_text("name", n, validate::MAX_NAME)?,
        };
        let (plugin_id, config) = self.checked_new_method(who, course, &new)?;
        self.write(|t| {
            let actor = authorize(&self.site, t, who, Need::ConfigureCourse(course))?;
            load_course(t, course)?;
            let method = EnrolmentMethod {
                id: t.new_method_id()?,
                course,
                plugin: plugin_id,
                name,
                status: if new.enabled {
                    EnrolmentMethodStatus::Enabled
                } else {
                    EnrolmentMethodStatus::Disabled
                },
                config,
                created_at: t.now,
            };
            t.put_method(&method)?;
            t.audit_log(
                actor,
                "method.added",
                format!("enrolment method #{} in course #{course}", method.id),
                format!("{:?} added", method.name),
            )?;
            t.emit(SiteEvent::MethodAdded {
                course,
                method: method.id,
            })?;
            Ok(method)
        })
    }

    /// The plugin id and the config as the plugin normalised it, for a new
    /// instance in `course`, once the caller may configure the course.
    pub(crate) fn checked_new_method(
        &self,
        who: &Principal,
        course: CourseId,
        new: &NewMethod,
    ) -> ServiceResult<(String, String)> {
        let plugin_id = validate::required_text("plugin", &new.plugin, validate::MAX_IDNUMBER)?;
        let config = config_text(&new.config)?;
        // Who may ask, and about what, is settled before the plugin runs:
        // a refusal must not depend on which plugins the site has.
        self.read(|t| {
            authorize(&self.site, t, who, Need::ConfigureCourse(course))?;
            load_course(t, course).map(drop)
        })?;
        let plugin = self.plugin_for_instance(&plugin_id)?;
        let config = self.validate_instance_config(&plugin, course, None, &config)?;
        Ok((plugin_id, config))
    }

    /// Renames an instance and/or replaces its config; a new config is
    /// checked by the plugin first, as in [`add_method`](Self::add_method).
    pub fn update_method(
        &self,
        who: &Principal,
        id: EnrolmentMethodId,
        update: MethodUpdate,
    ) -> ServiceResult<EnrolmentMethod> {
        let name = update
            .name
            .as_deref()
            .map(|v| validate::required_text("name", v, validate::MAX_NAME))
            .transpose()?;
        let config = update.config.as_ref().map(config_text).transpose()?;
        let config = match config {
            Some(config) => {
                let checked = self.read(|t| {
                    authorize_caller(&self.site, t, who)?;
                    let method = load_method(t, id)?;
                    authorize(&self.site, t, who, Need::ConfigureCourse(method.course))?;
                    Ok(method)
                })?;
                let plugin = self.plugin_for_instance(&checked.plugin)?;
                let config =
                    self.validate_instance_config(&plugin, checked.course, Some(id), &config)?;
                Some((checked.plugin, config))
            }
            None => None,
        };
        self.write(|t| {
            authorize_caller(&self.site, t, who)?;
            let mut method = load_method(t, id)?;
            let actor = authorize(&self.site, t, who, Need::ConfigureCourse(method.course))?;
            if let Some(v) = name {
                method.name = v;
            }
            if let Some((plugin, v)) = config {
                // The plugin of an instance never changes; the check holds
                // for the instance that is written.
                if plugin != method.plugin {
                    return Err(ServiceError::Conflict(format!(
                        "enrolment method #{id} changed while its config was checked; try again"
                    )));
                }
                method.config = v;
            }
            t.put_method(&method)?;
            t.audit_log(
                actor,
                "method.updated",
                format!("enrolment method #{id}"),
                "settings changed",
            )?;
            t.emit(SiteEvent::MethodUpdated {
                course: method.course,
                method: id,
            })?;
            Ok(method)
        })
    }

    pub fn set_method_status(
        &self,
        who: &Principal,
        id: EnrolmentMethodId,
        status: EnrolmentMethodStatus,
    ) -> ServiceResult<EnrolmentMethod> {
        self.write(|t| {
            authorize_caller(&self.site, t, who)?;
            let mut method = load_method(t, id)?;
            let actor = authorize(&self.site, t, who, Need::ConfigureCourse(method.course))?;
            if method.status == status {
                return Ok(method);
            }
            method.status = status;
            t.put_method(&method)?;
            let (action, event) = match status {
                EnrolmentMethodStatus::Enabled => (
                    "method.enabled",
                    SiteEvent::MethodEnabled {
                        course: method.course,
                        method: id,
                    },
                ),
                EnrolmentMethodStatus::Disabled => (
                    "method.disabled",
                    SiteEvent::MethodDisabled {
                        course: method.course,
                        method: id,
                    },
                ),
            };
            t.audit_log(
                actor,
                action,
                format!("enrolment method #{id}"),
                action.replace("method.", "method "),
            )?;
            t.emit(event)?;
            Ok(method)
        })
    }

    pub fn delete_method(&self, who: &Principal, id: EnrolmentMethodId) -> ServiceResult<()> {
        self.write(|t| {
            authorize_caller(&self.site, t, who)?;
            let method = load_method(t, id)?;
            let actor = authorize(&self.site, t, who, Need::ConfigureCourse(method.course))?;
            delete_method_in(t, actor, &method)?;
            t.audit_log(
                actor,
                "method.deleted",
                format!("enrolment method #{id} in course #{}", method.course),
                format!("{:?} deleted", method.name),
            )?;
            Ok(())
        })
    }

    pub fn list_methods(
        &self,
        who: &Principal,
        course: CourseId,
    ) -> ServiceResult<Vec<EnrolmentMethod>> {
        self.read(|t| {
            authorize(&self.site, t, who, Need::ManageCourse(course))?;
            load_course(t, course)?;
            Ok(t.course_methods_list(course)?)
        })
    }

    pub fn get_method(
        &self,
        who: &Principal,
        id: EnrolmentMethodId,
    ) -> ServiceResult<EnrolmentMethod> {
        self.read(|t| {
            authorize_caller(&self.site, t, who)?;
            let method = load_method(t, id)?;
            authorize(&self.site, t, who, Need::ManageCourse(method.course))?;
            Ok(method)
        })
    }

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
            let mut change = MembershipChange::default();
            for &user in users {
                if enrol_in(t, actor, &m, user, role, None)?.1 {
                    change.changed += 1;
                } else {
                    change.unchanged += 1;
                }
            }
            Ok(change)
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
            authorize_caller(&self.site, t, who)?;
            let m = load_method(t, method)?;
            let actor = authorize(&self.site, t, who, Need::ManageCourse(m.course))?;
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
            authorize_caller(&self.site, t, who)?;
            let m = load_method(t, method)?;
            let actor = authorize(&self.site, t, who, Need::ManageCourse(m.course))?;
            check_own_method(who, method)?;
            if !unenrol_in(t, actor, m.course, user, method, "unenrolled")? {
                return Err(ServiceError::not_found(format!(
                    "enrolment of user #{user} via method #{method}"
                )));
            }
            Ok(())
        })
    }

    /// Participants of a course in user-id order, each with all their
    /// enrolments in it.
    pub fn participants(
        &self,
        who: &Principal,
        course: CourseId,
        after: Option<UserId>,
        limit: usize,
    ) -> ServiceResult<Page<Participant, UserId>> {
        self.read(|t| {
            authorize(&self.site, t, who, Need::ViewCourse(course))?;
            load_course(t, course)?;
            let limit = clamp_limit(limit);
            let mut out: Vec<Participant> = Vec::new();
            let mut cursor = after;
            // Fetch until limit + 1 distinct users are collected.
            'outer: loop {
                let rows = t.course_enrolments_page(course, cursor, 256)?;
                if rows.is_empty() {
                    break;
                }
                for e in rows {
                    cursor = Some(e.user);
                    match out.last_mut() {
                        Some(p) if p.user.id == e.user => p.enrolments.push(e),
                        _ => {
                            if out.len() > limit {
                                break 'outer;
                            }
                            out.push(Participant {
                                user: load_user(t, e.user)?,
                                enrolments: vec![e],
                            });
                        }
                    }
                }
            }
            Ok(super::page_of(out, limit, |p| p.user.id))
        })
    }

    /// Participants of a course in user-id order, each with every
    /// enrolment they have in it and the method behind it; searched by
    /// name, username and e-mail. For the course's staff: how people are
    /// enrolled is theirs to manage.
    pub fn course_participants(
        &self,
        who: &Principal,
        course: CourseId,
        query: Option<&str>,
        after: Option<UserId>,
        limit: usize,
    ) -> ServiceResult<CourseParticipants> {
        self.read(|t| {
            authorize(&self.site, t, who, Need::ManageCourse(course))?;
            let found = load_course(t, course)?;
            let limit = clamp_limit(limit);
            let methods: std::collections::BTreeMap<EnrolmentMethodId, EnrolmentMethod> = t
                .course_methods_list(course)?
                .into_iter()
                .map(|m| (m.id, m))
                .collect();
            let mut out: Vec<ParticipantDetail> = Vec::new();
            let mut cursor = after;
            // A search may skip many rows: read on until limit + 1 match.
            'outer: loop {
                let rows = t.course_enrolments_page(course, cursor, 256)?;
                let Some(last) = rows.last() else { break };
                cursor = Some(last.user);
                // A page never cuts one user's enrolments (storage's rule).
                let mut by_user: Vec<(UserId, Vec<Enrolment>)> = Vec::new();
                for e in rows {
                    match by_user.last_mut() {
                        Some((u, list)) if *u == e.user => list.push(e),
                        _ => by_user.push((e.user, vec![e])),
                    }
                }
                for (user, enrolments) in by_user {
                    let user = load_user(t, user)?;
                    if !super::matches_query(
                        query,
                        &[&user.full_name(), &user.username, &user.email],
                    ) {
                        continue;
                    }
                    let enrolments = enrolments
                        .into_iter()
                        .map(|enrolment| {
                            let method = match methods.get(&enrolment.method) {
                                Some(m) => m.clone(),
                                None => load_method(t, enrolment.method)?,
                            };
                            Ok(EnrolmentVia { enrolment, method })
                        })
                        .collect::<ServiceResult<_>>()?;
                    out.push(ParticipantDetail { user, enrolments });
                    if out.len() > limit {
                        break 'outer;
                    }
                }
            }
            Ok(CourseParticipants {
                course: found,
                participants: super::page_of(out, limit, |p| p.user.id),
            })
        })
    }

    /// Every enrolment of one user, in any course.
    pub fn user_enrolments(&self, who: &Principal, user: UserId) -> ServiceResult<Vec<Enrolment>> {
        self.read(|t| {
            authorize(&self.site, t, who, Need::SelfOrAdmin(user))?;
            super::users::require_user(t, user)?;
            Ok(t.user_enrolment_list(user)?)
        })
    }
}
