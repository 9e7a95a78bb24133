//! The dashboard: the site at a glance for admins, one's courses for all.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use askama::Template;

use super::super::{HttpError, blocking};
use super::forms::render;
use super::session::SitePage;
use super::words::method_name;
use super::{Layout, Section, page_routes};
use crate::domain::AuditEntry;

page_routes! {
    get "/dashboard" => show, SignedIn;
}

pub(crate) struct Count {
    pub label: &'static str,
    pub value: u64,
    pub href: String,
}

pub(crate) struct Failing {
    pub method: String,
    pub course: String,
    pub href: String,
    pub message: String,
    pub at: String,
    pub count: u64,
}

/// A method with a warning its course's staff must act on.
pub(crate) struct Attention {
    pub method: String,
    pub course: String,
    /// The method's page, where the admin chooses a group again.
    pub href: String,
    pub message: String,
    pub dismiss_action: String,
}

pub(crate) struct CourseLink {
    pub name: String,
    pub shortname: String,
    pub href: String,
}

/// An audit entry as a table row.
pub(crate) struct AuditRow {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub reason: String,
}

impl From<AuditEntry> for AuditRow {
    fn from(e: AuditEntry) -> Self {
        Self {
            at: e.at.to_string(),
            actor: e.actor.to_string(),
            action: e.action,
            target: e.target,
            reason: e.reason,
        }
    }
}

#[derive(Template)]
#[template(path = "pages/dashboard.html")]
pub(crate) struct DashboardPage {
    pub layout: Layout,
    pub greeting: String,
    pub is_admin: bool,
    pub counts: Vec<Count>,
    pub failing: Vec<Failing>,
    pub attention: Vec<Attention>,
    pub csrf: String,
    pub recent: Vec<AuditRow>,
    pub audit_href: String,
    pub imports_href: String,
    pub privacy_href: String,
    pub courses: Vec<CourseLink>,
}

async fn show(page: SitePage) -> Result<HttpResponse, HttpError> {
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let dashboard = blocking(move || services.dashboard(&who)).await?;
    let courses = dashboard
        .my_courses
        .into_iter()
        .map(|c| CourseLink {
            href: page.link(&format!("/courses/{}", c.id)),
            name: c.fullname,
            shortname: c.shortname,
        })
        .collect();
    let (counts, failing, attention, recent) = match dashboard.admin {
        Some(o) => (
            vec![
                Count {
                    label: "Users",
                    value: o.users,
                    href: page.link("/users"),
                },
                Count {
                    label: "User segments",
                    value: o.segments,
                    href: page.link("/segments"),
                },
                Count {
                    label: "Courses",
                    value: o.courses,
                    href: page.link("/courses"),
                },
                Count {
                    label: "Enrolment methods",
                    value: o.methods,
                    href: page.link("/courses"),
                },
            ],
            o.failing
                .into_iter()
                .map(|f| Failing {
                    href: page.link(&format!("/courses/{}/methods", f.course.id)),
                    method: method_name(&f.method).to_owned(),
                    course: f.course.fullname,
                    message: f.error.message,
                    at: f.error.at.to_string(),
                    count: f.error_count,
                })
                .collect(),
            o.warned
                .into_iter()
                .map(|w| {
                    let base = format!("/courses/{}/methods/{}", w.course.id, w.method.id);
                    Attention {
                        href: page.link(&base),
                        dismiss_action: page.link(&format!("{base}/dismiss-warning")),
                        method: method_name(&w.method).to_owned(),
                        course: w.course.fullname,
                        message: w.warning.message(),
                    }
                })
                .collect(),
            o.recent.into_iter().map(AuditRow::from).collect(),
        ),
        None => (Vec::new(), Vec::new(), Vec::new(), Vec::new()),
    };
    let view = DashboardPage {
        layout: Layout::signed_in(&page, "Dashboard", Section::Dashboard),
        greeting: format!("Welcome, {}", page.session.display_name),
        is_admin: page.session.is_site_admin,
        counts,
        failing,
        attention,
        csrf: page.csrf().to_owned(),
        recent,
        audit_href: page.link("/audit"),
        imports_href: page.link("/imports"),
        privacy_href: page.link("/settings/privacy"),
        courses,
    };
    render(&view, StatusCode::OK)
}
