//! The audit log: every change of the site, newest first, filtered by
//! kind of action, by who made it and by text.

use actix_web::{HttpResponse, web};
use askama::Template;

use super::super::{HttpError, blocking};
use super::dashboard::AuditRow;
use super::forms::{FormErrors, PAGE_SIZE, cursor, render, status_for};
use super::session::{SitePage, url_escape};
use super::{Layout, Section, page_routes};
use crate::domain::AuditId;
use crate::services::AuditFilter;

page_routes! {
    get "/audit" => show, SiteAdmin;
}

/// The action prefixes the services write (`user.created`,
/// `segment.member_added`, …), with what the select shows for each.
const ACTIONS: &[(&str, &str)] = &[
    ("", "All actions"),
    ("user.", "Users (user.…)"),
    ("segment.", "User segments (segment.…)"),
    ("course.", "Courses (course.…)"),
    ("enrolment.", "Enrolments (enrolment.…)"),
    ("group.", "Course groups (group.…)"),
    ("method.", "Enrolment methods (method.…)"),
    ("plugin.", "Plugins (plugin.…)"),
    ("site.", "The site (site.…)"),
    ("token.", "API tokens (token.…)"),
];

#[derive(serde::Deserialize, Default, Clone)]
pub(crate) struct AuditQuery {
    #[serde(default)]
    action: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    q: String,
    before: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/audit.html")]
pub(crate) struct AuditPage {
    pub layout: Layout,
    pub action: String,
    pub filter: AuditQuery,
    pub actions: Vec<(String, String)>,
    pub errors: FormErrors,
    pub filtered: bool,
    /// The rows, named as `components/audit_table.html` expects.
    pub recent: Vec<AuditRow>,
    pub first: Option<String>,
    pub next: Option<String>,
}

fn non_empty(v: &str) -> Option<String> {
    Some(v.trim()).filter(|v| !v.is_empty()).map(str::to_owned)
}

async fn show(page: SitePage, query: web::Query<AuditQuery>) -> Result<HttpResponse, HttpError> {
    let query = query.into_inner();
    let before = cursor(&query.before).map(AuditId);
    // Only a known prefix filters; anything else shows every action.
    let prefix = ACTIONS
        .iter()
        .find(|(p, _)| !p.is_empty() && *p == query.action)
        .map(|(p, _)| (*p).to_owned());
    let filter = AuditFilter {
        action_prefix: prefix.clone(),
        actor: None,
        text: non_empty(&query.q),
    };
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let actor = non_empty(&query.actor);
    let found = blocking(move || {
        services.audit_log_by_name(&who, &filter, actor.as_deref(), before, PAGE_SIZE)
    })
    .await;
    let (found, errors) = match found {
        Ok(found) => (Some(found), FormErrors::none()),
        Err(HttpError::Service(e)) => (None, FormErrors::from_service(e)?),
        Err(e) => return Err(e),
    };
    let href = |before: Option<AuditId>| {
        let mut href = format!(
            "{}?action={}&actor={}&q={}",
            page.link("/audit"),
            url_escape(prefix.as_deref().unwrap_or("")),
            url_escape(query.actor.trim()),
            url_escape(query.q.trim()),
        );
        if let Some(b) = before {
            href.push_str(&format!("&before={b}"));
        }
        href
    };
    let (recent, next) = match found {
        Some(found) => (
            found.items.into_iter().map(AuditRow::from).collect(),
            found.next.map(|n| href(Some(n))),
        ),
        None => (Vec::new(), None),
    };
    let view = AuditPage {
        layout: Layout::signed_in(&page, "Audit log", Section::Audit),
        action: page.link("/audit"),
        actions: ACTIONS
            .iter()
            .map(|(v, l)| ((*v).to_owned(), (*l).to_owned()))
            .collect(),
        filtered: prefix.is_some()
            || non_empty(&query.actor).is_some()
            || non_empty(&query.q).is_some(),
        first: before.map(|_| href(None)),
        next,
        recent,
        filter: AuditQuery {
            action: prefix.unwrap_or_default(),
            ..query
        },
        errors,
    };
    render(&view, status_for(&view.errors))
}
