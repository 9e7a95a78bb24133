//! `/announcements`, `/courses/{id}/announcements` and `/me/inbox`:
//! announcing to a segment, a course or some of its groups, and reading
//! one's own inbox.

use actix_web::{HttpResponse, get, patch, post, web};
use serde::{Deserialize, Serialize};
use utoipa_actix_web::service_config::ServiceConfig;

use super::views::{
    AnnouncementPreviewView, AnnouncementView, AudienceView, InboxMessageView, InboxPageView,
    TimestampView,
};
use super::{ApiResult, IdPath, JsonBody, Page, PageQuery, SiteApi};
use crate::domain::{AnnouncementId, CourseId, Timestamp};
use crate::http::{ErrorBody, HttpError, blocking};
use crate::services::announcements::AnnouncementDraft;
use crate::services::{Ask, Need};

pub(super) fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_announcements)
        .service(create_announcement)
        .service(preview_announcement)
        .service(get_announcement)
        .service(update_announcement)
        .service(withdraw_announcement)
        .service(list_course_announcements)
        .service(my_inbox)
        .service(open_message)
        .service(mark_message)
        .service(mark_all_read);
}

/// An announcement to write (or preview).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WriteAnnouncement {
    pub audience: AudienceView,
    /// One line, at most 200 characters.
    pub subject: String,
    /// Markdown, at most 64 KiB; HTML in it is not kept.
    pub body: String,
    /// When to send it; absent: now.
    pub send_at: Option<TimestampView>,
}

impl WriteAnnouncement {
    fn draft(self) -> Result<AnnouncementDraft, HttpError> {
        let audience = self.audience.audience().map_err(|m| HttpError::BadField {
            field: Some("audience".into()),
            message: m.into(),
        })?;
        Ok(AnnouncementDraft {
            audience,
            subject: self.subject,
            body: self.body,
            send_at: self.send_at.map(|t| Timestamp(t.0)),
        })
    }
}

/// Changes to a scheduled announcement; absent fields stay as they are.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAnnouncement {
    pub audience: Option<AudienceView>,
    pub subject: Option<String>,
    pub body: Option<String>,
    /// A new time; to send it now, give the current time.
    pub send_at: Option<TimestampView>,
}

/// The site's announcements, newest first (site admins).
#[utoipa::path(
    tag = "announcements",
    params(PageQuery),
    responses((status = 200, description = "a page of announcements", body = Page<AnnouncementView>),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody))
)]
#[get("/announcements")]
async fn list_announcements(
    api: SiteApi,
    query: web::Query<PageQuery>,
) -> ApiResult<web::Json<Page<AnnouncementView>>> {
    let before = query.cursor_id::<u64>()?.map(AnnouncementId);
    let limit = query.limit()?;
    let SiteApi { who, site } = api;
    let page = blocking(move || site.site_announcements(&who, before, limit)).await?;
    Ok(web::Json(Page::from_service(page, AnnouncementView::from)))
}

/// Announces: sent now (its recipients fixed and their inbox copies
/// written, e-mail copies queued) or, with a future `send_at`, scheduled.
#[utoipa::path(
    tag = "announcements",
    request_body = WriteAnnouncement,
    responses((status = 201, description = "sent or scheduled", body = AnnouncementView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody))
)]
#[post("/announcements")]
async fn create_announcement(
    api: SiteApi,
    body: JsonBody<WriteAnnouncement>,
) -> ApiResult<HttpResponse> {
    let body = body
        .read(api.authorise(Ask::Site(Need::Announce)).await?)
        .await?;
    let draft = body.draft()?;
    let SiteApi { who, site } = api;
    let created = blocking(move || {
        let a = site.create_announcement(&who, draft)?;
        site.announcement(&who, a.id)
    })
    .await?;
    Ok(HttpResponse::Created().json(AnnouncementView::from(created)))
}

/// What announcing this now would do — the recipient count and the
/// rendered body — without writing anything.
#[utoipa::path(
    tag = "announcements",
    request_body = WriteAnnouncement,
    responses((status = 200, body = AnnouncementPreviewView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody))
)]
#[post("/announcements/preview")]
async fn preview_announcement(
    api: SiteApi,
    body: JsonBody<WriteAnnouncement>,
) -> ApiResult<web::Json<AnnouncementPreviewView>> {
    let body = body
        .read(api.authorise(Ask::Site(Need::Announce)).await?)
        .await?;
    let draft = body.draft()?;
    let SiteApi { who, site } = api;
    let preview = blocking(move || site.preview_announcement(&who, &draft)).await?;
    Ok(web::Json(preview.into()))
}

/// One announcement with its delivery figures (its author, site admins
/// and the teachers it reaches).
#[utoipa::path(
    tag = "announcements",
    params(("id" = u64, Path, description = "announcement id")),
    responses((status = 200, body = AnnouncementView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[get("/announcements/{id}")]
async fn get_announcement(
    api: SiteApi,
    path: web::Path<IdPath>,
) -> ApiResult<web::Json<AnnouncementView>> {
    let SiteApi { who, site } = api;
    let id = AnnouncementId(path.id);
    let found = blocking(move || site.announcement(&who, id)).await?;
    Ok(web::Json(found.into()))
}

/// Changes a scheduled announcement (409 once sent or withdrawn).
#[utoipa::path(
    tag = "announcements",
    params(("id" = u64, Path, description = "announcement id")),
    request_body = UpdateAnnouncement,
    responses((status = 200, body = AnnouncementView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody))
)]
#[patch("/announcements/{id}")]
async fn update_announcement(
    api: SiteApi,
    path: web::Path<IdPath>,
    body: JsonBody<UpdateAnnouncement>,
) -> ApiResult<web::Json<AnnouncementView>> {
    let body = body
        .read(api.authorise(Ask::Site(Need::Announce)).await?)
        .await?;
    let audience = match body.audience {
        Some(a) => Some(a.audience().map_err(|m| HttpError::BadField {
            field: Some("audience".into()),
            message: m.into(),
        })?),
        None => None,
    };
    let SiteApi { who, site } = api;
    let id = AnnouncementId(path.id);
    let updated = blocking(move || {
        let current = site.announcement(&who, id)?.announcement;
        let draft = AnnouncementDraft {
            audience: audience.unwrap_or(current.audience),
            subject: body.subject.unwrap_or(current.subject),
            body: body.body.unwrap_or(current.body),
            send_at: Some(body.send_at.map_or(current.send_at, |t| Timestamp(t.0))),
        };
        site.update_announcement(&who, id, draft)?;
        site.announcement(&who, id)
    })
    .await?;
    Ok(web::Json(updated.into()))
}

/// Withdraws a scheduled announcement: it is never sent.
#[utoipa::path(
    tag = "announcements",
    params(("id" = u64, Path, description = "announcement id")),
    responses((status = 200, body = AnnouncementView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody))
)]
#[post("/announcements/{id}/withdraw")]
async fn withdraw_announcement(
    api: SiteApi,
    path: web::Path<IdPath>,
) -> ApiResult<web::Json<AnnouncementView>> {
    let SiteApi { who, site } = api;
    let id = AnnouncementId(path.id);
    let withdrawn = blocking(move || {
        site.withdraw_announcement(&who, id)?;
        site.announcement(&who, id)
    })
    .await?;
    Ok(web::Json(withdrawn.into()))
}

/// A course's announcements, newest first (its teachers and site admins;
/// a teacher who sees only their own groups, those to them).
#[utoipa::path(
    tag = "announcements",
    params(("id" = u64, Path, description = "course id"), PageQuery),
    responses((status = 200, body = Page<AnnouncementView>), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[get("/courses/{id}/announcements")]
async fn list_course_announcements(
    api: SiteApi,
    path: web::Path<IdPath>,
    query: web::Query<PageQuery>,
) -> ApiResult<web::Json<Page<AnnouncementView>>> {
    let before = query.cursor_id::<u64>()?.map(AnnouncementId);
    let limit = query.limit()?;
    let SiteApi { who, site } = api;
    let course = CourseId(path.id);
    let page = blocking(move || site.course_announcements(&who, course, before, limit)).await?;
    Ok(web::Json(Page::from_service(page, AnnouncementView::from)))
}

/// The caller's inbox, newest first, with the unread count.
#[utoipa::path(
    tag = "inbox",
    params(PageQuery),
    responses((status = 200, body = InboxPageView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody))
)]
#[get("/me/inbox")]
async fn my_inbox(
    api: SiteApi,
    query: web::Query<PageQuery>,
) -> ApiResult<web::Json<InboxPageView>> {
    let before = query.cursor_id::<u64>()?.map(AnnouncementId);
    let limit = query.limit()?;
    let SiteApi { who, site } = api;
    let page = blocking(move || site.inbox(&who, before, limit)).await?;
    Ok(web::Json(page.into()))
}

/// Opens a message of the caller's inbox and marks it read.
#[utoipa::path(
    tag = "inbox",
    params(("id" = u64, Path, description = "announcement id")),
    responses((status = 200, body = InboxMessageView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[get("/me/inbox/{id}")]
async fn open_message(
    api: SiteApi,
    path: web::Path<IdPath>,
) -> ApiResult<web::Json<InboxMessageView>> {
    let SiteApi { who, site } = api;
    let id = AnnouncementId(path.id);
    let message = blocking(move || site.open_inbox_message(&who, id)).await?;
    Ok(web::Json(message.into()))
}

/// Read or unread.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkMessage {
    pub read: bool,
}

/// Marks a message of the caller's inbox read or unread.
#[utoipa::path(
    tag = "inbox",
    params(("id" = u64, Path, description = "announcement id")),
    request_body = MarkMessage,
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
#[post("/me/inbox/{id}/read")]
async fn mark_message(
    api: SiteApi,
    path: web::Path<IdPath>,
    body: JsonBody<MarkMessage>,
) -> ApiResult<HttpResponse> {
    let body = body
        .read(api.authorise(Ask::Site(Need::SiteMember)).await?)
        .await?;
    let SiteApi { who, site } = api;
    let id = AnnouncementId(path.id);
    blocking(move || site.set_inbox_read(&who, id, body.read)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// How many messages changed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MarkedRead {
    pub changed: u64,
}

/// Every message of the inbox at once: only `{"read": true}` (mark all
/// read) is supported.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkInbox {
    pub read: bool,
}

/// Marks every message of the caller's inbox read. A collection action
/// on the inbox itself: a path below it (`/me/inbox/read-all`) would be
/// read as a message id by `GET /me/inbox/{id}`.
#[utoipa::path(
    tag = "inbox",
    request_body = MarkInbox,
    responses((status = 200, body = MarkedRead), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody))
)]
#[patch("/me/inbox")]
async fn mark_all_read(
    api: SiteApi,
    body: JsonBody<MarkInbox>,
) -> ApiResult<web::Json<MarkedRead>> {
    let body = body
        .read(api.authorise(Ask::Site(Need::SiteMember)).await?)
        .await?;
    if !body.read {
        return Err(HttpError::BadField {
            field: Some("read".into()),
            message: "only true is supported: every message marked read; mark one unread with \
                      POST /me/inbox/{id}/read"
                .into(),
        }
        .into());
    }
    let SiteApi { who, site } = api;
    let changed = blocking(move || site.mark_inbox_read(&who)).await?;
    Ok(web::Json(MarkedRead { changed }))
}
