//! Enrolment methods of a course: the list with each method's status,
//! enrolments and last error; the add form, generated from the plugin's
//! config form, with a dry-run preview before anything is saved; the edit
//! form; enable, disable, "Reconcile now" and delete.
//!
//! The add and edit forms are in `form`, the config inputs generated from a
//! plugin's manifest in `config_form`.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::super::{HttpError, blocking};
use super::forms::{ConfirmPage, render};
use super::session::{Flash, FlashKind, SitePage, SitePost, redirect_with};
use super::{Layout, Section, page_routes};
use crate::domain::{CourseId, EnrolmentMethodId, EnrolmentMethodStatus, PluginManifest};
use crate::services::ServiceError;
use crate::services::execution::{MethodOverview, ReconcileReport};

pub(super) mod config_form;
mod form;

page_routes! {
    get "/courses/{course}/methods" => list, CourseStaff;
    get "/courses/{course}/methods/new" => form::new_form, CourseStaff;
    post "/courses/{course}/methods/new" => form::back_to_form, CourseStaff;
    post "/courses/{course}/methods/preview" => form::preview, CourseStaff;
    post "/courses/{course}/methods" => form::create, CourseStaff;
    get "/courses/{course}/methods/{method}" => form::edit_form, CourseStaff;
    post "/courses/{course}/methods/{method}" => form::update, CourseStaff;
    post "/courses/{course}/methods/{method}/enable" => enable, CourseStaff;
    post "/courses/{course}/methods/{method}/disable" => disable, CourseStaff;
    post "/courses/{course}/methods/{method}/reconcile" => reconcile, CourseStaff;
    post "/courses/{course}/methods/{method}/dismiss-warning" => dismiss_warning, CourseStaff;
    get "/courses/{course}/methods/{method}/delete" => confirm_delete, CourseStaff;
    post "/courses/{course}/methods/{method}/delete" => delete, CourseStaff;
}

#[derive(serde::Deserialize)]
pub(crate) struct CoursePath {
    course: u64,
}

#[derive(serde::Deserialize)]
pub(crate) struct MethodPath {
    course: u64,
    method: u64,
}

#[derive(serde::Deserialize)]
pub(crate) struct NewQuery {
    plugin: Option<String>,
}

#[derive(serde::Deserialize)]
pub(crate) struct Empty {}

pub(super) fn methods_path(course: CourseId) -> String {
    format!("/courses/{course}/methods")
}

pub(super) fn method_path(course: CourseId, method: EnrolmentMethodId) -> String {
    format!("/courses/{course}/methods/{method}")
}

pub(super) fn count(n: u64, one: &str, many: &str) -> String {
    match n {
        1 => format!("1 {one}"),
        n => format!("{n} {many}"),
    }
}

// ------------------------------------------------------------------ list

pub(crate) struct MethodRow {
    pub name: String,
    pub plugin: String,
    pub enabled: bool,
    pub enrolments: String,
    /// The last failure of its plugin: when, what, and how many so far.
    pub last_error: Option<String>,
    /// What its staff must act on (its group was deleted), unless
    /// dismissed.
    pub warning: Option<String>,
    pub dismiss_action: String,
    pub edit_href: String,
    pub toggle_action: String,
    pub toggle_label: &'static str,
    pub reconcile_action: String,
    pub delete_href: String,
}

#[derive(Template)]
#[template(path = "pages/methods/list.html")]
pub(crate) struct ListPage {
    pub layout: Layout,
    pub heading: String,
    pub course_href: String,
    pub rows: Vec<MethodRow>,
    pub csrf: String,
    pub new_action: String,
    /// `(plugin id, plugin name)` of the plugins the site may use.
    pub plugins: Vec<(String, String)>,
}

pub(super) fn plugin_options(plugins: &[PluginManifest]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = plugins
        .iter()
        .map(|m| (m.id.clone(), m.name.clone()))
        .collect();
    out.sort_by_key(|p| p.1.to_lowercase());
    out
}

async fn list(page: SitePage, path: web::Path<CoursePath>) -> Result<HttpResponse, HttpError> {
    let course = CourseId(path.course);
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let found = blocking(move || services.course_methods(&who, course)).await?;
    let names: BTreeMap<&str, &str> = found
        .plugins
        .iter()
        .map(|m| (m.id.as_str(), m.name.as_str()))
        .collect();
    let rows = found
        .methods
        .iter()
        .map(|o| row(&page, o, names.get(o.method.plugin.as_str()).copied()))
        .collect();
    let heading = format!("Enrolment methods of {}", found.course.fullname);
    let view = ListPage {
        layout: Layout::signed_in(&page, &heading, Section::Courses),
        heading,
        course_href: page.link(&format!("/courses/{course}")),
        rows,
        csrf: page.csrf().to_owned(),
        new_action: page.link(&format!("{}/new", methods_path(course))),
        plugins: plugin_options(&found.plugins),
    };
    render(&view, StatusCode::OK)
}

fn row(page: &SitePage, o: &MethodOverview, plugin_name: Option<&str>) -> MethodRow {
    let m = &o.method;
    let base = method_path(m.course, m.id);
    let enabled = m.status == EnrolmentMethodStatus::Enabled;
    MethodRow {
        name: m.name.clone(),
        plugin: match plugin_name {
            Some(name) => name.to_owned(),
            None => format!("{} (not enabled on this site)", m.plugin),
        },
        enabled,
        enrolments: count(o.enrolments, "enrolment", "enrolments"),
        last_error: o.run.last_error.as_ref().map(|e| {
            format!(
                "{}: {} ({} so far)",
                e.at,
                e.message,
                count(o.run.error_count, "failure", "failures")
            )
        }),
        warning: o.warning.as_ref().map(|w| w.message()),
        dismiss_action: page.link(&format!("{base}/dismiss-warning")),
        edit_href: page.link(&base),
        toggle_action: page.link(&format!(
            "{base}/{}",
            if enabled { "disable" } else { "enable" }
        )),
        toggle_label: if enabled { "Disable" } else { "Enable" },
        reconcile_action: page.link(&format!("{base}/reconcile")),
        delete_href: page.link(&format!("{base}/delete")),
    }
}

// --------------------------------------------------------------- actions

async fn set_status(
    post: SitePost<Empty>,
    path: web::Path<MethodPath>,
    status: EnrolmentMethodStatus,
) -> Result<HttpResponse, HttpError> {
    let page = post.page;
    let course = CourseId(path.course);
    let id = EnrolmentMethodId(path.method);
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let m = blocking(move || services.set_method_status(&who, id, status)).await?;
    let message = match m.status {
        EnrolmentMethodStatus::Enabled => format!("“{}” is enabled.", m.name),
        EnrolmentMethodStatus::Disabled => format!(
            "“{}” is disabled: its enrolments stay, and it enrols no one until enabled again.",
            m.name
        ),
    };
    Ok(page.done(&methods_path(course), message))
}

async fn enable(
    post: SitePost<Empty>,
    path: web::Path<MethodPath>,
) -> Result<HttpResponse, HttpError> {
    set_status(post, path, EnrolmentMethodStatus::Enabled).await
}

async fn disable(
    post: SitePost<Empty>,
    path: web::Path<MethodPath>,
) -> Result<HttpResponse, HttpError> {
    set_status(post, path, EnrolmentMethodStatus::Disabled).await
}

fn reconciled(report: &ReconcileReport) -> String {
    match (report.changed, report.unchanged) {
        (0, 0) => "Reconciled: nothing to do.".to_owned(),
        (0, same) => format!(
            "Reconciled: nothing needed changing ({} already as it should be).",
            count(same, "item", "items")
        ),
        (changed, 0) => format!("Reconciled: {} made.", count(changed, "change", "changes")),
        (changed, same) => format!(
            "Reconciled: {} made, {} already as it should be.",
            count(changed, "change", "changes"),
            count(same, "item", "items")
        ),
    }
}

async fn reconcile(
    post: SitePost<Empty>,
    path: web::Path<MethodPath>,
) -> Result<HttpResponse, HttpError> {
    let page = post.page;
    let course = CourseId(path.course);
    let id = EnrolmentMethodId(path.method);
    let services = page.site.services.clone();
    let who = page.principal().clone();
    match blocking(move || services.reconcile_method(&who, id, false)).await {
        Ok(report) => Ok(page.done(&methods_path(course), reconciled(&report))),
        // A plugin that fails or refuses is the news the visitor asked
        // for; its error is also recorded and shown in the list.
        Err(HttpError::Service(
            e @ (ServiceError::Refused { .. }
            | ServiceError::PluginFailed { .. }
            | ServiceError::Conflict(_)),
        )) => Ok(redirect_with(
            &page.request,
            page.base(),
            &page.link(&methods_path(course)),
            Flash {
                kind: FlashKind::Error,
                text: format!("Reconcile failed: {e}"),
            },
        )),
        Err(e) => Err(e),
    }
}

async fn dismiss_warning(
    post: SitePost<Empty>,
    path: web::Path<MethodPath>,
) -> Result<HttpResponse, HttpError> {
    let page = post.page;
    let course = CourseId(path.course);
    let id = EnrolmentMethodId(path.method);
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let dismissed = blocking(move || services.dismiss_method_warning(&who, id)).await?;
    Ok(page.done(
        &methods_path(course),
        if dismissed {
            "Warning dismissed. The method groups no one until you choose a group in its settings."
        } else {
            "The method has no warning to dismiss."
        },
    ))
}

async fn confirm_delete(
    page: SitePage,
    path: web::Path<MethodPath>,
) -> Result<HttpResponse, HttpError> {
    let course = CourseId(path.course);
    let id = EnrolmentMethodId(path.method);
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let o = blocking(move || services.method_overview(&who, id)).await?;
    if o.method.course != course {
        return Err(HttpError::NoSuchPage);
    }
    let heading = format!("Delete enrolment method “{}”?", o.method.name);
    let view = ConfirmPage {
        layout: Layout::signed_in(&page, &heading, Section::Courses),
        heading,
        effects: vec![
            format!(
                "Delete the enrolment method “{}” ({}).",
                o.method.name, o.method.plugin
            ),
            match o.enrolments {
                0 => "It has no enrolments.".to_owned(),
                n => format!(
                    "Remove its {}: users enrolled only through it leave the course, with their group memberships in it.",
                    count(n, "enrolment", "enrolments")
                ),
            },
            "Remove the group memberships it added. Groups themselves stay.".to_owned(),
            "This cannot be undone.".to_owned(),
        ],
        action: page.link(&format!("{}/delete", method_path(course, id))),
        csrf: page.csrf().to_owned(),
        button: "Delete enrolment method".to_owned(),
        cancel: page.link(&methods_path(course)),
    };
    render(&view, StatusCode::OK)
}

async fn delete(
    post: SitePost<Empty>,
    path: web::Path<MethodPath>,
) -> Result<HttpResponse, HttpError> {
    let page = post.page;
    let course = CourseId(path.course);
    let id = EnrolmentMethodId(path.method);
    let services = page.site.services.clone();
    let who = page.principal().clone();
    blocking(move || services.delete_method(&who, id)).await?;
    Ok(page.done(
        &methods_path(course),
        "Enrolment method deleted, with its enrolments.",
    ))
}
