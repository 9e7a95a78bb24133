//! `/courses`: the courses of a site and their settings. Their enrolment
//! methods and participants are in [`super::enrolments`].

use actix_web::{HttpResponse, delete, get, patch, post, web};
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::services::{Ask, Need};

use super::JsonBody;

use super::views::{CourseView, GroupModeView, Mirror};
use super::{ApiResult, IdPath, Page, PageQuery, SiteApi};
use crate::domain::{CourseId, GroupMode};
use crate::http::{ErrorBody, blocking};
use crate::services::courses::{CourseUpdate, NewCourse};

pub(super) fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_courses)
        .service(create_course)
        .service(get_course)
        .service(update_course)
        .service(delete_course);
}

/// A new course. It starts with an enabled manual enrolment method.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCourse {
    /// Unique in the site, whatever its case.
    pub shortname: String,
    pub fullname: String,
    /// Default `none`.
    pub group_mode: Option<GroupModeView>,
    /// Apply the group mode to every activity. Default false.
    #[serde(default)]
    pub force_group_mode: bool,
}

/// Changes to a course; absent fields stay as they are.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCourse {
    pub shortname: Option<String>,
    pub fullname: Option<String>,
    pub group_mode: Option<GroupModeView>,
    pub force_group_mode: Option<bool>,
}

/// Lists the courses the caller may see (all for site admins, their own
/// for others) by short name, searched by short and full name.
#[utoipa::path(
    tag = "courses",
    params(PageQuery),
    responses(
        (status = 200, description = "a page of courses", body = Page<CourseView>),
        (status = 400, description = "the query string does not fit", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, description = "not a cursor of this collection", body = ErrorBody),
    )
)]
#[get("/courses")]
async fn list_courses(
    api: SiteApi,
    query: web::Query<PageQuery>,
) -> ApiResult<web::Json<Page<CourseView>>> {
    let offset = query.cursor_id::<usize>()?.unwrap_or(0);
    let limit = query.limit()?;
    let SiteApi { who, site } = api;
    let page = blocking(move || site.list_courses(&who, query.q.as_deref(), offset, limit)).await?;
    Ok(web::Json(Page::from_service(page, CourseView::from)))
}

/// Creates a course with a manual enrolment method.
#[utoipa::path(
    tag = "courses",
    request_body = CreateCourse,
    responses(
        (status = 201, description = "created", body = CourseView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, description = "a field is missing, unknown or invalid, or the short name is taken", body = ErrorBody),
    )
)]
#[post("/courses")]
async fn create_course(api: SiteApi, body: JsonBody<CreateCourse>) -> ApiResult<HttpResponse> {
    let body = body
        .read(api.authorise(Ask::Site(Need::SiteAdmin)).await?)
        .await?;
    let SiteApi { who, site } = api;
    let b = body;
    let new = NewCourse {
        shortname: b.shortname,
        fullname: b.fullname,
        group_mode: b.group_mode.mirror().unwrap_or(GroupMode::None),
        force_group_mode: b.force_group_mode,
    };
    let created = blocking(move || site.create_course(&who, new)).await?;
    Ok(HttpResponse::Created().json(CourseView::from(created)))
}

/// One course: for site admins and the course's participants.
#[utoipa::path(
    tag = "courses",
    params(("id" = u64, Path, description = "course id")),
    responses((status = 200, body = CourseView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[get("/courses/{id}")]
async fn get_course(api: SiteApi, path: web::Path<IdPath>) -> ApiResult<web::Json<CourseView>> {
    let SiteApi { who, site } = api;
    let id = CourseId(path.id);
    let found = blocking(move || site.get_course(&who, id)).await?;
    Ok(web::Json(found.into()))
}

/// Changes a course's settings: site admins and the course's teachers.
#[utoipa::path(
    tag = "courses",
    params(("id" = u64, Path, description = "course id")),
    request_body = UpdateCourse,
    responses(
        (status = 200, body = CourseView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, description = "a field is unknown or invalid, or the short name is taken", body = ErrorBody),
    )
)]
#[patch("/courses/{id}")]
async fn update_course(
    api: SiteApi,
    path: web::Path<IdPath>,
    body: JsonBody<UpdateCourse>,
) -> ApiResult<web::Json<CourseView>> {
    let body = body
        .read(
            api.authorise(Ask::Site(Need::ConfigureCourse(CourseId(path.id))))
                .await?,
        )
        .await?;
    let SiteApi { who, site } = api;
    let id = CourseId(path.id);
    let b = body;
    let update = CourseUpdate {
        shortname: b.shortname,
        fullname: b.fullname,
        group_mode: b.group_mode.mirror(),
        force_group_mode: b.force_group_mode,
    };
    let updated = blocking(move || site.update_course(&who, id, update)).await?;
    Ok(web::Json(updated.into()))
}

/// Deletes a course with its enrolment methods, enrolments and groups.
#[utoipa::path(
    tag = "courses",
    params(("id" = u64, Path, description = "course id")),
    responses((status = 204, description = "deleted"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[delete("/courses/{id}")]
async fn delete_course(api: SiteApi, path: web::Path<IdPath>) -> ApiResult<HttpResponse> {
    let SiteApi { who, site } = api;
    let id = CourseId(path.id);
    blocking(move || site.delete_course(&who, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
