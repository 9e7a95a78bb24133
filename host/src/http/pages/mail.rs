//! The site admin's mail pages: the mail queue (jobs with their next try
//! and last error, failed copies with the server's answer, retry one or
//! all) and the SMTP settings (the password only ever written: a blank
//! field keeps it, a checkbox removes it).

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use askama::Template;

use super::super::{HttpError, blocking};
use super::forms::{FormErrors, PAGE_SIZE, form_outcome, render, status_for, ticked};
use super::session::{SitePage, SitePost};
use super::words::count;
use super::{Layout, Section, page_routes};
use crate::domain::{AnnouncementId, SmtpSecurity, UserId};
use crate::services::mail::settings::SmtpShown;
use crate::services::mail::{SmtpOverview, SmtpSettingsInput, SmtpSource};

page_routes! {
    get "/mail" => queue, SiteAdmin;
    post "/mail/retry" => retry, SiteAdmin;
    post "/mail/retry-all" => retry_all, SiteAdmin;
    get "/mail/settings" => settings_form, SiteAdmin;
    post "/mail/settings" => save_settings, SiteAdmin;
    post "/mail/settings/remove" => remove_settings, SiteAdmin;
}

pub(crate) struct JobRow {
    pub id: String,
    pub subject: String,
    pub remaining: String,
    pub next_try: String,
    pub attempts: u32,
    pub last_error: String,
}

pub(crate) struct FailureRow {
    pub subject: String,
    pub recipient: String,
    pub at: String,
    pub error: String,
    pub announcement: u64,
    pub user: u64,
}

#[derive(Template)]
#[template(path = "pages/mail/queue.html")]
pub(crate) struct QueuePage {
    pub layout: Layout,
    pub csrf: String,
    pub configured: bool,
    pub summary: Vec<(String, String)>,
    pub jobs: Vec<JobRow>,
    pub failures: Vec<FailureRow>,
    pub retry_action: String,
    pub retry_all_action: String,
    pub settings_href: String,
}

async fn queue(page: SitePage) -> Result<HttpResponse, HttpError> {
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let q = blocking(move || services.mail_queue(&who, None, None, PAGE_SIZE)).await?;
    let subject = |id: AnnouncementId| {
        q.subjects
            .get(&id)
            .cloned()
            .unwrap_or_else(|| format!("announcement #{id}"))
    };
    let c = q.counts;
    let view = QueuePage {
        layout: Layout::signed_in(&page, "Mail queue", Section::Mail),
        csrf: page.csrf().to_owned(),
        configured: q.configured,
        summary: vec![
            ("Copies waiting".into(), c.copies.to_string()),
            ("Jobs".into(), c.jobs.to_string()),
            (
                "Jobs waiting after a failure".into(),
                c.backing_off.to_string(),
            ),
            ("Failed copies".into(), c.failures.to_string()),
        ],
        jobs: q
            .jobs
            .items
            .iter()
            .map(|j| JobRow {
                id: j.id.to_string(),
                subject: subject(j.announcement),
                remaining: count(j.remaining() as u64, "copy", "copies"),
                next_try: j.not_before.to_string(),
                attempts: j.attempts,
                last_error: j.last_error.clone().unwrap_or_default(),
            })
            .collect(),
        failures: q
            .failures
            .items
            .iter()
            .map(|f| FailureRow {
                subject: subject(f.announcement),
                recipient: q
                    .recipients
                    .get(&f.recipient)
                    .cloned()
                    .unwrap_or_else(|| format!("user #{}", f.recipient)),
                at: f.at.to_string(),
                error: f.error.clone(),
                announcement: f.announcement.0,
                user: f.recipient.0,
            })
            .collect(),
        retry_action: page.link("/mail/retry"),
        retry_all_action: page.link("/mail/retry-all"),
        settings_href: page.link("/mail/settings"),
    };
    render(&view, StatusCode::OK)
}

#[derive(serde::Deserialize)]
pub(crate) struct RetryForm {
    #[serde(default)]
    announcement: String,
    #[serde(default)]
    user: String,
}

async fn retry(post: SitePost<RetryForm>) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    // Unparsable ids name no failure: the service still checks who asks
    // first, then answers not found.
    let announcement = AnnouncementId(form.announcement.trim().parse().unwrap_or(0));
    let user = UserId(form.user.trim().parse().unwrap_or(0));
    let services = page.site.services.clone();
    let who = page.principal().clone();
    blocking(move || services.retry_mail_failure(&who, announcement, user)).await?;
    Ok(page.done("/mail", "The copy is queued again."))
}

#[derive(serde::Deserialize)]
pub(crate) struct Empty {}

async fn retry_all(post: SitePost<Empty>) -> Result<HttpResponse, HttpError> {
    let page = post.page;
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let n = blocking(move || services.retry_all_mail_failures(&who)).await?;
    Ok(page.done(
        "/mail",
        format!("{} queued again.", count(n, "failed copy", "failed copies")),
    ))
}

/// The fields of the settings form, as typed.
#[derive(serde::Deserialize, Default, Clone)]
pub(crate) struct SettingsForm {
    #[serde(default)]
    host: String,
    #[serde(default)]
    port: String,
    #[serde(default)]
    security: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    remove_password: Option<String>,
    #[serde(default)]
    from_address: String,
}

const SECURITY: &[(&str, &str, SmtpSecurity)] = &[
    (
        "starttls",
        "STARTTLS (required), usually port 587",
        SmtpSecurity::StartTls,
    ),
    (
        "tls",
        "TLS from the start (SMTPS), usually port 465",
        SmtpSecurity::Tls,
    ),
    (
        "none",
        "None: plain SMTP to a relay on a trusted network",
        SmtpSecurity::None,
    ),
];

fn security_value(s: SmtpSecurity) -> &'static str {
    SECURITY
        .iter()
        .find(|(_, _, v)| *v == s)
        .map_or("starttls", |(k, _, _)| k)
}

impl SettingsForm {
    fn of(s: &SmtpShown) -> Self {
        Self {
            host: s.host.clone(),
            port: s.port.to_string(),
            security: security_value(s.security).to_owned(),
            username: s.username.clone().unwrap_or_default(),
            password: String::new(),
            remove_password: None,
            from_address: s.from_address.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "pages/mail/settings.html")]
pub(crate) struct SettingsPage {
    pub layout: Layout,
    pub csrf: String,
    pub action: String,
    pub remove_action: String,
    pub queue_href: String,
    pub form: SettingsForm,
    pub errors: FormErrors,
    pub securities: Vec<(String, String)>,
    /// Which settings apply, in a sentence.
    pub applies: String,
    pub has_own: bool,
    pub password_set: bool,
}

fn settings_page(
    page: &SitePage,
    overview: &SmtpOverview,
    form: SettingsForm,
    errors: FormErrors,
) -> SettingsPage {
    let applies = match (overview.applies, &overview.operator_default) {
        (SmtpSource::Site, _) => "This site's mail goes out with the settings below.".to_owned(),
        (SmtpSource::OperatorDefault, Some(d)) => format!(
            "This site has no settings of its own: its mail goes out through the host's default server {}:{} from {}. Settings saved here take its place.",
            d.host, d.port, d.from_address
        ),
        _ => "E-mail is not configured: announcements reach inboxes only. Save settings here to send e-mail copies.".to_owned(),
    };
    SettingsPage {
        layout: Layout::signed_in(page, "Mail settings", Section::Mail),
        csrf: page.csrf().to_owned(),
        action: page.link("/mail/settings"),
        remove_action: page.link("/mail/settings/remove"),
        queue_href: page.link("/mail"),
        form: SettingsForm {
            // A password is never sent back into a page.
            password: String::new(),
            ..form
        },
        errors,
        securities: SECURITY
            .iter()
            .map(|(v, l, _)| ((*v).to_owned(), (*l).to_owned()))
            .collect(),
        applies,
        has_own: overview.own.is_some(),
        password_set: overview.own.as_ref().is_some_and(|o| o.password_set),
    }
}

async fn overview(page: &SitePage) -> Result<SmtpOverview, HttpError> {
    let services = page.site.services.clone();
    let who = page.principal().clone();
    blocking(move || services.smtp_overview(&who)).await
}

async fn settings_form(page: SitePage) -> Result<HttpResponse, HttpError> {
    let o = overview(&page).await?;
    let form = o
        .own
        .as_ref()
        .map(SettingsForm::of)
        .unwrap_or(SettingsForm {
            port: "587".into(),
            security: "starttls".into(),
            ..Default::default()
        });
    render(
        &settings_page(&page, &o, form, FormErrors::none()),
        StatusCode::OK,
    )
}

async fn save_settings(post: SitePost<SettingsForm>) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let input = SmtpSettingsInput {
        host: form.host.clone(),
        // Not a number: 0, which the service refuses as the port field.
        port: form.port.trim().parse().unwrap_or(0),
        security: SECURITY
            .iter()
            .find(|(k, _, _)| *k == form.security)
            .map(|(_, _, s)| *s),
        username: form.username.clone(),
        password: form.password.clone(),
        remove_password: ticked(&form.remove_password),
        from_address: form.from_address.clone(),
    };
    let services = page.site.services.clone();
    let who = page.principal().clone();
    match form_outcome(blocking(move || services.save_smtp_settings(&who, input)).await)? {
        Ok(_) => Ok(page.done("/mail/settings", "Mail settings saved.")),
        Err(errors) => {
            let o = overview(&page).await?;
            let view = settings_page(&page, &o, form, errors);
            render(&view, status_for(&view.errors))
        }
    }
}

async fn remove_settings(post: SitePost<Empty>) -> Result<HttpResponse, HttpError> {
    let page = post.page;
    let services = page.site.services.clone();
    let who = page.principal().clone();
    blocking(move || services.remove_smtp_settings(&who)).await?;
    Ok(page.done("/mail/settings", "This site's mail settings are removed."))
}
