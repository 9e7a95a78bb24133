//! How methods are doing: a method's run status and last error, and
//! a course's methods as its enrolment methods page shows them.

use crate::domain::*;
use crate::services::auth::{Need, authorize, authorize_caller};
use crate::services::error::ServiceResult;
use crate::services::ops::courses::load_course;
use crate::services::ops::methods::{load_method, shown_warning};
use crate::services::{Principal, SiteServices};
use crate::storage::site::prelude::*;

/// How a method is doing.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct MethodRunStatus {
    pub method: EnrolmentMethodId,
    pub course: CourseId,
    pub status: EnrolmentMethodStatus,
    pub plugin: String,
    /// The loaded plugin's version; absent when the plugin is not
    /// available on this host.
    pub plugin_version: Option<String>,
    /// The last failure of a plugin call, if any.
    pub last_error: Option<MethodError>,
    /// Failed calls since the method was added.
    pub error_count: u64,
    /// What its course's staff must act on (its group was deleted),
    /// unless dismissed.
    pub warning: Option<MethodWarning>,
}

/// One method as its course's enrolment methods page shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct MethodOverview {
    pub method: EnrolmentMethod,
    /// Its enrolments, of any status.
    pub enrolments: u64,
    /// How its plugin calls went (the last error, if any).
    pub run: MethodRun,
    /// What its course's staff must act on, unless dismissed.
    pub warning: Option<MethodWarning>,
}

/// A course's enrolment methods, and the plugins one could add to it.
#[derive(Clone, Debug, PartialEq)]
pub struct CourseMethods {
    pub course: Course,
    pub methods: Vec<MethodOverview>,
    /// The plugins the site may use, with their config forms.
    pub plugins: Vec<PluginManifest>,
}

impl SiteServices {
    pub fn method_status(
        &self,
        who: &Principal,
        method_id: EnrolmentMethodId,
    ) -> ServiceResult<MethodRunStatus> {
        let (m, run, warning) = self.read(|t| {
            authorize_caller(&self.site, t, who)?;
            let m = load_method(t, method_id)?;
            authorize(&self.site, t, who, Need::ManageCourse(m.course))?;
            let run = t.method_run(m.id)?.unwrap_or_default();
            let warning = shown_warning(t, m.id)?;
            Ok((m, run, warning))
        })?;
        let plugin_version = self
            .plugin(&m.plugin)
            .ok()
            .map(|p| p.manifest.version.clone());
        Ok(MethodRunStatus {
            method: m.id,
            course: m.course,
            status: m.status,
            plugin: m.plugin,
            plugin_version,
            last_error: run.last_error,
            error_count: run.error_count,
            warning,
        })
    }

    /// A course's methods, each with its enrolment count and last
    /// error, and the plugins the site may use: what the people who
    /// configure the course see of its enrolment methods.
    pub fn course_methods(
        &self,
        who: &Principal,
        course: CourseId,
    ) -> ServiceResult<CourseMethods> {
        let (course, methods) = self.read(|t| {
            authorize(&self.site, t, who, Need::ConfigureCourse(course))?;
            let course = load_course(t, course)?;
            let counts = t.method_enrolment_counts(course.id)?;
            let mut methods = Vec::new();
            for method in t.course_methods_list(course.id)? {
                methods.push(MethodOverview {
                    enrolments: counts.get(&method.id).copied().unwrap_or(0),
                    run: t.method_run(method.id)?.unwrap_or_default(),
                    warning: shown_warning(t, method.id)?,
                    method,
                });
            }
            Ok((course, methods))
        })?;
        Ok(CourseMethods {
            course,
            methods,
            plugins: self.enabled_manifests()?,
        })
    }

    /// One method with its enrolment count and last error, for those who
    /// may configure its course (e.g. before deleting it).
    pub fn method_overview(
        &self,
        who: &Principal,
        id: EnrolmentMethodId,
    ) -> ServiceResult<MethodOverview> {
        self.read(|t| {
            authorize_caller(&self.site, t, who)?;
            let method = load_method(t, id)?;
            authorize(&self.site, t, who, Need::ConfigureCourse(method.course))?;
            Ok(MethodOverview {
                enrolments: t
                    .method_enrolment_counts(method.course)?
                    .get(&id)
                    .copied()
                    .unwrap_or(0),
                run: t.method_run(id)?.unwrap_or_default(),
                warning: shown_warning(t, id)?,
                method,
            })
        })
    }
}
