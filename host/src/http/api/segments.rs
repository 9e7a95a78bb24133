//! `/segments`: user segments and their members.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::services::{Ask, Need};

use super::JsonBody;

use super::views::{SegmentView, UserView};
use super::{ApiResult, IdPath, IdUserPath, MembershipChange, Page, PageQuery, SiteApi, UserIds};
use crate::domain::{SegmentId, UserId};
use crate::http::{ErrorBody, blocking};
use crate::services::segments::{NewSegment, SegmentUpdate};

pub(super) fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_segments)
        .service(create_segment)
        .service(get_segment)
        .service(update_segment)
        .service(delete_segment)
        .service(list_members)
        .service(add_members)
        .service(remove_members)
        .service(remove_member);
}

/// A new segment.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSegment {
    pub name: String,
    /// Unique in the site; CSV files name segments by it.
    pub idnumber: Option<String>,
    #[serde(default)]
    pub description: String,
    /// Default true.
    pub visible: Option<bool>,
}

/// Changes to a segment; absent fields stay as they are. An empty
/// `idnumber` clears it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSegment {
    pub name: Option<String>,
    pub idnumber: Option<String>,
    pub description: Option<String>,
    pub visible: Option<bool>,
}

/// Lists segments by name, searched by name and idnumber.
#[utoipa::path(
    tag = "segments",
    params(PageQuery),
    responses(
        (status = 200, description = "a page of segments", body = Page<SegmentView>),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    )
)]
#[get("/segments")]
async fn list_segments(
    api: SiteApi,
    query: web::Query<PageQuery>,
) -> ApiResult<web::Json<Page<SegmentView>>> {
    let offset = query.cursor_id::<usize>()?.unwrap_or(0);
    let limit = query.limit()?;
    let SiteApi { who, site } = api;
    let page =
        blocking(move || site.list_segments(&who, query.q.as_deref(), offset, limit)).await?;
    Ok(web::Json(Page::from_service(page, SegmentView::from)))
}

/// Creates a segment.
#[utoipa::path(
    tag = "segments",
    request_body = CreateSegment,
    responses(
        (status = 201, description = "created", body = SegmentView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, description = "idnumber taken", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
#[post("/segments")]
async fn create_segment(api: SiteApi, body: JsonBody<CreateSegment>) -> ApiResult<HttpResponse> {
    let body = body
        .read(api.authorise(Ask::Site(Need::SiteAdmin)).await?)
        .await?;
    let SiteApi { who, site } = api;
    let b = body;
    let new = NewSegment {
        name: b.name,
        idnumber: b.idnumber,
        description: b.description,
        visible: b.visible.unwrap_or(true),
        managed_by: None,
    };
    let created = blocking(move || {
        let segment = site.create_segment(&who, new)?;
        site.get_segment(&who, segment.id)
    })
    .await?;
    Ok(HttpResponse::Created().json(SegmentView::from(created)))
}

/// One segment with its member count.
#[utoipa::path(
    tag = "segments",
    params(("id" = u64, Path, description = "segment id")),
    responses((status = 200, body = SegmentView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[get("/segments/{id}")]
async fn get_segment(api: SiteApi, path: web::Path<IdPath>) -> ApiResult<web::Json<SegmentView>> {
    let SiteApi { who, site } = api;
    let id = SegmentId(path.id);
    let found = blocking(move || site.get_segment(&who, id)).await?;
    Ok(web::Json(found.into()))
}

/// Changes a segment.
#[utoipa::path(
    tag = "segments",
    params(("id" = u64, Path, description = "segment id")),
    request_body = UpdateSegment,
    responses((status = 200, body = SegmentView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody))
)]
#[patch("/segments/{id}")]
async fn update_segment(
    api: SiteApi,
    path: web::Path<IdPath>,
    body: JsonBody<UpdateSegment>,
) -> ApiResult<web::Json<SegmentView>> {
    let body = body
        .read(api.authorise(Ask::Site(Need::SiteAdmin)).await?)
        .await?;
    let SiteApi { who, site } = api;
    let id = SegmentId(path.id);
    let b = body;
    let update = SegmentUpdate {
        name: b.name,
        idnumber: b.idnumber,
        description: b.description,
        visible: b.visible,
    };
    let updated = blocking(move || {
        site.update_segment(&who, id, update)?;
        site.get_segment(&who, id)
    })
    .await?;
    Ok(web::Json(updated.into()))
}

/// Deletes a segment and its memberships.
#[utoipa::path(
    tag = "segments",
    params(("id" = u64, Path, description = "segment id")),
    responses((status = 204, description = "deleted"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[delete("/segments/{id}")]
async fn delete_segment(api: SiteApi, path: web::Path<IdPath>) -> ApiResult<HttpResponse> {
    let SiteApi { who, site } = api;
    let id = SegmentId(path.id);
    blocking(move || site.delete_segment(&who, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Members of a segment in id order.
#[utoipa::path(
    tag = "segments",
    params(("id" = u64, Path, description = "segment id"), PageQuery),
    responses((status = 200, body = Page<UserView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[get("/segments/{id}/members")]
async fn list_members(
    api: SiteApi,
    path: web::Path<IdPath>,
    query: web::Query<PageQuery>,
) -> ApiResult<web::Json<Page<UserView>>> {
    let after = query.cursor_id::<u64>()?.map(UserId);
    let limit = query.limit()?;
    let SiteApi { who, site } = api;
    let id = SegmentId(path.id);
    let page = blocking(move || site.segment_members(&who, id, after, limit)).await?;
    Ok(web::Json(Page::from_service(page, UserView::from)))
}

/// Adds users to a segment in one transaction; members already in it are
/// left alone. An unknown user fails the whole call.
#[utoipa::path(
    tag = "segments",
    params(("id" = u64, Path, description = "segment id")),
    request_body = UserIds,
    responses((status = 200, body = MembershipChange), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "the segment is managed by a plugin", body = ErrorBody))
)]
#[post("/segments/{id}/members")]
async fn add_members(
    api: SiteApi,
    path: web::Path<IdPath>,
    body: JsonBody<UserIds>,
) -> ApiResult<web::Json<MembershipChange>> {
    let body = body
        .read(api.authorise(Ask::Site(Need::SiteAdmin)).await?)
        .await?;
    let SiteApi { who, site } = api;
    let id = SegmentId(path.id);
    let users = body.checked()?;
    let change = blocking(move || site.add_segment_members(&who, id, &users)).await?;
    Ok(web::Json(change.into()))
}

/// Removes users from a segment in one transaction; non-members are left alone.
#[utoipa::path(
    tag = "segments",
    params(("id" = u64, Path, description = "segment id")),
    request_body = UserIds,
    responses((status = 200, body = MembershipChange), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody))
)]
#[post("/segments/{id}/members/remove")]
async fn remove_members(
    api: SiteApi,
    path: web::Path<IdPath>,
    body: JsonBody<UserIds>,
) -> ApiResult<web::Json<MembershipChange>> {
    let body = body
        .read(api.authorise(Ask::Site(Need::SiteAdmin)).await?)
        .await?;
    let SiteApi { who, site } = api;
    let id = SegmentId(path.id);
    let users = body.checked()?;
    let change = blocking(move || site.remove_segment_members(&who, id, &users)).await?;
    Ok(web::Json(change.into()))
}

/// Removes one user from a segment.
#[utoipa::path(
    tag = "segments",
    params(("id" = u64, Path, description = "segment id"), ("user" = u64, Path, description = "user id")),
    responses((status = 200, body = MembershipChange), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody))
)]
#[delete("/segments/{id}/members/{user}")]
async fn remove_member(
    api: SiteApi,
    path: web::Path<IdUserPath>,
) -> ApiResult<web::Json<MembershipChange>> {
    let SiteApi { who, site } = api;
    let (id, user) = (SegmentId(path.id), UserId(path.user));
    let change = blocking(move || site.remove_segment_members(&who, id, &[user])).await?;
    Ok(web::Json(change.into()))
}
