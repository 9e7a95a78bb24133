//! A person's request through a method (enrol or unenrol users, enrol
//! or unenrol oneself) and self enrolment into a course: authorised before
//! the plugin is called, the plugin's refusal passed on as
//! `ServiceError::Refused`.

use crate::domain::*;
use crate::services::auth::{Need, authorize, authorize_caller};
use crate::services::contract::{Ask, HostRequest, RequestKind};
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::ops::courses::load_course;
use crate::services::ops::methods::load_method;
use crate::services::{Principal, SiteServices};
use crate::storage::site::prelude::*;

/// A person's request through a method.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MethodRequest {
    /// Enrol these users (manual enrolment); needs to manage the course.
    EnrolUsers {
        users: Vec<UserId>,
        role: Option<Role>,
        group: Option<CourseGroupId>,
    },
    /// Unenrol these users from the method; needs to manage the course.
    UnenrolUsers { users: Vec<UserId> },
    /// The caller enrols themselves. `user`, when given, must be the
    /// caller.
    SelfEnrol {
        user: Option<UserId>,
        key: Option<String>,
    },
    /// The caller leaves the course.
    SelfUnenrol { user: Option<UserId> },
}

/// What a request did, or (dry run) would do.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RequestOutcome {
    /// The plan the plugin returned.
    pub plan: Plan,
    /// False for a dry run: nothing was written.
    pub applied: bool,
    /// Actions that changed (or would change) something.
    pub changed: u64,
    /// Actions that found the site already as they wanted it.
    pub unchanged: u64,
}

impl SiteServices {
    /// A person's request through enrolment method `method_id`: enrol or unenrol
    /// users (needs to manage the course), or enrol or unenrol oneself (an
    /// active user of the site, for themselves only). Authorised before
    /// the plugin runs; the plugin's refusal is `Refused`, its failure
    /// `PluginFailed`. A dry run returns the plan, checked and counted,
    /// and writes nothing.
    pub fn method_request(
        &self,
        who: &Principal,
        method_id: EnrolmentMethodId,
        request: MethodRequest,
        dry_run: bool,
    ) -> ServiceResult<RequestOutcome> {
        let (m, request) = self.read(|t| {
            authorize_caller(&self.site, t, who)?;
            let m = load_method(t, method_id)?;
            let request = match request {
                MethodRequest::EnrolUsers { users, role, group } => {
                    authorize(&self.site, t, who, Need::ManageCourse(m.course))?;
                    let by = who.site_user_id(self.site.id);
                    HostRequest::enrol_users(&users, role, group, by)
                }
                MethodRequest::UnenrolUsers { users } => {
                    authorize(&self.site, t, who, Need::ManageCourse(m.course))?;
                    HostRequest::unenrol_users(&users)
                }
                MethodRequest::SelfEnrol { user, key } => {
                    let me = self.acting_for_self(t, who, user)?;
                    HostRequest::self_enrol(me, key)
                }
                MethodRequest::SelfUnenrol { user } => {
                    let me = self.acting_for_self(t, who, user)?;
                    HostRequest::self_unenrol(me)
                }
            };
            if m.status != EnrolmentMethodStatus::Enabled {
                return Err(ServiceError::Conflict(format!(
                    "enrolment method {:?} is disabled",
                    m.name
                )));
            }
            Ok((m, request))
        })?;
        let plan = self
            .call_plugin(&m, Ask::Request(&request))?
            .0
            .map_err(ServiceError::from)?
            .plan;
        let (tally, _) = self.apply_method_plan(&m, &plan, dry_run)?;
        if !dry_run {
            self.reconcile_if_asked(&m, &plan, &mut |_| {})?;
        }
        Ok(RequestOutcome {
            plan,
            applied: !dry_run,
            changed: tally.changed,
            unchanged: tally.unchanged,
        })
    }

    /// The user a self-service request is for: the caller, an active user
    /// of this site, who may name only themselves.
    fn acting_for_self(
        &self,
        t: &impl SiteRead,
        who: &Principal,
        named: Option<UserId>,
    ) -> ServiceResult<UserId> {
        authorize(&self.site, t, who, Need::SiteMember)?;
        let Some(me) = who.site_user_id(self.site.id) else {
            return Err(ServiceError::Forbidden(
                "only a user of this site can enrol or unenrol themselves".into(),
            ));
        };
        match named {
            Some(other) if other != me => Err(ServiceError::Forbidden(
                "you can enrol or unenrol only yourself".into(),
            )),
            _ => Ok(me),
        }
    }

    /// Self enrolment into `course`: through `method` when given (it must
    /// be an enrolment method of that course), else through the course's
    /// first enabled method whose plugin says it answers self enrolment.
    pub fn self_enrol(
        &self,
        who: &Principal,
        course: CourseId,
        method: Option<EnrolmentMethodId>,
        key: Option<String>,
        dry_run: bool,
    ) -> ServiceResult<RequestOutcome> {
        let candidates = self.read(|t| {
            authorize(&self.site, t, who, Need::SiteMember)?;
            load_course(t, course)?;
            Ok(match method {
                Some(id) => t
                    .method(id)?
                    .filter(|m| m.course == course)
                    .into_iter()
                    .collect(),
                None => t
                    .course_methods_list(course)?
                    .into_iter()
                    .filter(|m| m.status == EnrolmentMethodStatus::Enabled)
                    .collect::<Vec<_>>(),
            })
        })?;
        let mut found = None;
        for m in candidates {
            // A method named by the caller is asked whatever its plugin
            // says, so its own refusal reaches them.
            if method.is_some() || self.plugin_answers(&m.plugin, RequestKind::SelfEnrol)? {
                found = Some(m.id);
                break;
            }
        }
        let chosen = found.ok_or_else(|| {
            ServiceError::not_found(format!("self enrolment in course #{course}"))
        })?;
        self.method_request(
            who,
            chosen,
            MethodRequest::SelfEnrol { user: None, key },
            dry_run,
        )
    }
}
