//! `/mail/…` and `/me/preferences`: a site's SMTP settings (the password
//! written, never answered), its mail queue in figures with its failed
//! copies and their retry, and the calling user's message preferences.

use actix_web::{HttpResponse, delete, get, post, put, web};
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

use super::JsonBody;
use super::views::{
    MailQueueView, MailRequeuedView, MailSettingsView, MessagePreferencesView, Mirror,
    SmtpSecurityView,
};
use super::{ApiResult, SiteApi};
use crate::domain::{AnnouncementId, MessagePreferences, UserId};
use crate::http::{ErrorBody, blocking};
use crate::services::mail::SmtpSettingsInput;
use crate::services::{Ask, Need, ServiceError};

/// Jobs and failed copies the queue answer lists (the page lists more).
const QUEUE_LISTED: usize = 100;

pub(super) fn routes(cfg: &mut ServiceConfig) {
    cfg.service(get_mail_settings)
        .service(put_mail_settings)
        .service(delete_mail_settings)
        .service(get_mail_queue)
        .service(retry_mail_failure)
        .service(retry_all_mail_failures)
        .service(get_my_preferences)
        .service(put_my_preferences);
}

/// A site's own SMTP settings.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutMailSettings {
    pub host: String,
    /// 1–65535.
    pub port: u32,
    pub security: SmtpSecurityView,
    pub username: Option<String>,
    /// Absent or empty keeps the stored password. Never answered.
    pub password: Option<String>,
    /// Clears the stored password. Default false.
    #[serde(default)]
    pub remove_password: bool,
    pub from_address: String,
}

/// The site's mail settings: its own (without the password), the
/// operator's default and which applies. Site admins.
#[utoipa::path(
    tag = "mail",
    responses((status = 200, body = MailSettingsView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody))
)]
#[get("/mail/settings")]
async fn get_mail_settings(api: SiteApi) -> ApiResult<web::Json<MailSettingsView>> {
    let SiteApi { who, site } = api;
    let o = blocking(move || site.smtp_overview(&who)).await?;
    Ok(web::Json(o.into()))
}

/// Saves the site's own SMTP settings. Site admins; audited without the
/// password.
#[utoipa::path(
    tag = "mail",
    request_body = PutMailSettings,
    responses(
        (status = 200, body = MailSettingsView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, description = "a field is missing, unknown or invalid (host, port 1–65535, from address)", body = ErrorBody),
    )
)]
#[put("/mail/settings")]
async fn put_mail_settings(
    api: SiteApi,
    body: JsonBody<PutMailSettings>,
) -> ApiResult<web::Json<MailSettingsView>> {
    let b = body
        .read(api.authorise(Ask::Site(Need::SiteAdmin)).await?)
        .await?;
    let SiteApi { who, site } = api;
    let input = SmtpSettingsInput {
        host: b.host,
        port: b.port,
        security: Some(b.security.mirror()),
        username: b.username.unwrap_or_default(),
        password: b.password.unwrap_or_default(),
        remove_password: b.remove_password,
        from_address: b.from_address,
    };
    let o = blocking(move || site.save_smtp_settings(&who, input)).await?;
    Ok(web::Json(o.into()))
}

/// Removes the site's own settings: the operator's default applies, if
/// any. Site admins.
#[utoipa::path(
    tag = "mail",
    responses((status = 200, body = MailSettingsView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody))
)]
#[delete("/mail/settings")]
async fn delete_mail_settings(api: SiteApi) -> ApiResult<web::Json<MailSettingsView>> {
    let SiteApi { who, site } = api;
    let o = blocking(move || site.remove_smtp_settings(&who)).await?;
    Ok(web::Json(o.into()))
}

/// The site's mail queue: figures, the first 100 jobs and the first 100
/// failed copies with the server's answers. Site admins.
#[utoipa::path(
    tag = "mail",
    responses((status = 200, body = MailQueueView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody))
)]
#[get("/mail/queue")]
async fn get_mail_queue(api: SiteApi) -> ApiResult<web::Json<MailQueueView>> {
    let SiteApi { who, site } = api;
    let q = blocking(move || site.mail_queue(&who, None, None, QUEUE_LISTED)).await?;
    Ok(web::Json(q.into()))
}

#[derive(Debug, Deserialize)]
struct FailurePath {
    announcement: u64,
    user: u64,
}

/// Queues a failed copy again (a new job, due now). Site admins; audited.
#[utoipa::path(
    tag = "mail",
    params(("announcement" = u64, Path, description = "announcement id"), ("user" = u64, Path, description = "recipient's user id")),
    responses((status = 204, description = "queued again"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[post("/mail/failures/{announcement}/{user}/retry")]
async fn retry_mail_failure(api: SiteApi, path: web::Path<FailurePath>) -> ApiResult<HttpResponse> {
    let SiteApi { who, site } = api;
    let (a, u) = (AnnouncementId(path.announcement), UserId(path.user));
    blocking(move || site.retry_mail_failure(&who, a, u)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Queues every failed copy again. Site admins; audited.
#[utoipa::path(
    tag = "mail",
    responses((status = 200, body = MailRequeuedView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody))
)]
#[post("/mail/failures/retry")]
async fn retry_all_mail_failures(api: SiteApi) -> ApiResult<web::Json<MailRequeuedView>> {
    let SiteApi { who, site } = api;
    let requeued = blocking(move || site.retry_all_mail_failures(&who)).await?;
    Ok(web::Json(MailRequeuedView { requeued }))
}

/// The user the token acts as; an operator's token has none here.
fn me(api: &SiteApi) -> Result<UserId, ServiceError> {
    api.who.site_user_id(api.site.site().id).ok_or_else(|| {
        ServiceError::Forbidden(
            "an operator's token has no preferences on a site; use a user's token".into(),
        )
    })
}

/// The calling user's message preferences (a user's token).
#[utoipa::path(
    tag = "mail",
    responses((status = 200, body = MessagePreferencesView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody))
)]
#[get("/me/preferences")]
async fn get_my_preferences(api: SiteApi) -> ApiResult<web::Json<MessagePreferencesView>> {
    let me = me(&api).map_err(crate::http::HttpError::from)?;
    let SiteApi { who, site } = api;
    let p = blocking(move || site.message_preferences(&who, me)).await?;
    Ok(web::Json(p.into()))
}

/// Saves the calling user's message preferences (a user's token).
#[utoipa::path(
    tag = "mail",
    request_body = MessagePreferencesView,
    responses(
        (status = 200, body = MessagePreferencesView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, description = "a field is missing or unknown", body = ErrorBody),
    )
)]
#[put("/me/preferences")]
async fn put_my_preferences(
    api: SiteApi,
    body: JsonBody<MessagePreferencesView>,
) -> ApiResult<web::Json<MessagePreferencesView>> {
    let me = me(&api).map_err(crate::http::HttpError::from)?;
    let b = body
        .read(api.authorise(Ask::Site(Need::SelfOrAdmin(me))).await?)
        .await?;
    let SiteApi { who, site } = api;
    let prefs = MessagePreferences {
        announcement_emails: b.announcement_emails,
    };
    let p = blocking(move || site.set_message_preferences(&who, me, prefs)).await?;
    Ok(web::Json(p.into()))
}
