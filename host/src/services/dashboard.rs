//! The first page after sign-in: a site admin's overview of the site, and
//! everyone's own courses.

use super::SiteServices;
use super::auth::{self, Need, Principal};
use super::error::ServiceResult;
use crate::domain::{
    AuditEntry, Course, EnrolmentMethod, EnrolmentStatus, MethodError, MethodWarning, SiteRole,
};
use crate::storage::site::prelude::*;

/// What the dashboard shows. `admin` is set for site admins and operators.
#[derive(Clone, Debug)]
pub struct Dashboard {
    pub admin: Option<SiteOverview>,
    /// The courses the principal takes part in, active enrolments only.
    pub my_courses: Vec<Course>,
}

#[derive(Clone, Debug)]
pub struct SiteOverview {
    pub users: u64,
    pub segments: u64,
    pub courses: u64,
    pub methods: u64,
    /// The newest audit entries, newest first.
    pub recent: Vec<AuditEntry>,
    /// Methods whose last plugin call failed, with their course.
    pub failing: Vec<FailingMethod>,
    /// Methods with a warning not dismissed (their group was deleted),
    /// with their course, newest first.
    pub warned: Vec<WarnedMethod>,
}

#[derive(Clone, Debug)]
pub struct WarnedMethod {
    pub method: EnrolmentMethod,
    pub course: Course,
    pub warning: MethodWarning,
}

#[derive(Clone, Debug)]
pub struct FailingMethod {
    pub method: EnrolmentMethod,
    pub course: Course,
    pub error: MethodError,
    pub error_count: u64,
}

/// How many audit entries the dashboard lists.
const RECENT: usize = 10;

impl SiteServices {
    pub fn dashboard(&self, who: &Principal) -> ServiceResult<Dashboard> {
        self.read(|t| {
            auth::authorize_caller(&self.site, t, who)?;
            let user = match who.site_user_id(self.site.id) {
                Some(id) => t.user(id)?,
                None => None,
            };
            let is_admin = who.is_operator()
                || user
                    .as_ref()
                    .is_some_and(|u| u.site_role == SiteRole::SiteAdmin);
            let mut my_courses = Vec::new();
            if let Some(u) = &user {
                let mut seen = std::collections::BTreeSet::new();
                for e in t.user_enrolment_list(u.id)? {
                    if e.status == EnrolmentStatus::Active
                        && seen.insert(e.course)
                        && let Some(c) = t.course(e.course)?
                    {
                        my_courses.push(c);
                    }
                }
                my_courses.sort_by_key(|c| c.fullname.to_lowercase());
            }
            let admin = if is_admin {
                auth::authorize(&self.site, t, who, Need::SiteAdmin)?;
                let courses = t.all_courses()?;
                let methods = t.all_methods()?;
                let mut failing = Vec::new();
                for m in &methods {
                    if let Some(run) = t.method_run(m.id)?
                        && let Some(error) = run.last_error
                        && let Some(course) = courses.iter().find(|c| c.id == m.course)
                    {
                        failing.push(FailingMethod {
                            method: m.clone(),
                            course: course.clone(),
                            error,
                            error_count: run.error_count,
                        });
                    }
                }
                failing.sort_by_key(|f| std::cmp::Reverse(f.error.at.0));
                let mut warned = Vec::new();
                for (id, warning) in t.all_method_warnings()? {
                    if warning.dismissed {
                        continue;
                    }
                    if let Some(method) = methods.iter().find(|m| m.id == id)
                        && let Some(course) = courses.iter().find(|c| c.id == method.course)
                    {
                        warned.push(WarnedMethod {
                            method: method.clone(),
                            course: course.clone(),
                            warning,
                        });
                    }
                }
                warned.sort_by_key(|w| std::cmp::Reverse(w.warning.at.0));
                Some(SiteOverview {
                    users: t.user_count()?,
                    segments: t.all_segments()?.len() as u64,
                    courses: courses.len() as u64,
                    methods: methods.len() as u64,
                    recent: t.audit_page(None, RECENT, |_| true)?,
                    failing,
                    warned,
                })
            } else {
                None
            };
            Ok(Dashboard { admin, my_courses })
        })
    }
}
