//! The operator's mail page: the host-wide queue in figures (each active
//! site's queue, the totals) and what the send worker did since start.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use askama::Template;

use super::super::{HttpError, blocking};
use super::forms::render;
use super::session::OperatorPage;
use super::{Layout, page_routes};
use crate::services::mail::SiteMailFigures;

page_routes! {
    get "/operator/mail" => figures, Operator;
}

pub(crate) struct SiteRow {
    pub name: String,
    pub slug: String,
    pub jobs: u64,
    pub copies: u64,
    pub backing_off: u64,
    pub failures: u64,
    pub next_due: String,
}

#[derive(Template)]
#[template(path = "pages/operator/mail.html")]
pub(crate) struct MailFiguresPage {
    pub layout: Layout,
    pub rows: Vec<SiteRow>,
    pub total: SiteRow,
    pub worker: Vec<(String, String)>,
    pub default_server: Option<String>,
}

fn row(f: SiteMailFigures) -> SiteRow {
    SiteRow {
        name: f.name,
        slug: f.slug,
        jobs: f.counts.jobs,
        copies: f.counts.copies,
        backing_off: f.counts.backing_off,
        failures: f.counts.failures,
        next_due: f.counts.next_due.map(|t| t.to_string()).unwrap_or_default(),
    }
}

async fn figures(page: OperatorPage) -> Result<HttpResponse, HttpError> {
    let services = page.services.clone();
    let who = page.principal().clone();
    let sites = blocking(move || services.mail_figures(&who)).await?;
    let rows: Vec<SiteRow> = sites.into_iter().map(row).collect();
    let total = SiteRow {
        name: "All sites".into(),
        slug: String::new(),
        jobs: rows.iter().map(|r| r.jobs).sum(),
        copies: rows.iter().map(|r| r.copies).sum(),
        backing_off: rows.iter().map(|r| r.backing_off).sum(),
        failures: rows.iter().map(|r| r.failures).sum(),
        next_due: String::new(),
    };
    let mail = page.services.mail();
    let stats = mail.stats();
    let view = MailFiguresPage {
        layout: Layout::operator(&page, "Mail"),
        rows,
        total,
        worker: vec![
            ("Passes since start".into(), stats.passes.to_string()),
            ("Copies sent since start".into(), stats.sent.to_string()),
            ("Copies failed since start".into(), stats.failed.to_string()),
            ("Jobs put back to wait".into(), stats.deferred.to_string()),
            (
                "Last pass".into(),
                stats
                    .last_pass_at
                    .map(|t| t.to_string())
                    .unwrap_or_else(|| "none yet".into()),
            ),
            (
                "Last temporary failure".into(),
                stats.last_error.unwrap_or_default(),
            ),
        ],
        default_server: mail
            .default_settings()
            .map(|d| format!("{}:{} from {}", d.host, d.port, d.from_address)),
    };
    render(&view, StatusCode::OK)
}
