//! `/courses/{id}/groups` and `/groups/…`: course groups and their
//! members. Each membership shows who owns it (PRODUCT §2): a person
//! (`manual`) or an enrolment method, which alone removes it.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::services::{Ask, Need};

use super::JsonBody;

use super::views::{GroupMemberView, GroupView};
use super::{ApiResult, IdPath, IdUserPath, MembershipChange, Page, PageQuery, SiteApi, UserIds};
use crate::domain::{CourseGroupId, CourseId, UserId};
use crate::http::{ErrorBody, blocking};
use crate::services::groups::{GroupSummary, GroupUpdate, NewGroup};

pub(super) fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_groups)
        .service(create_group)
        .service(get_group)
        .service(update_group)
        .service(delete_group)
        .service(list_members)
        .service(add_members)
        .service(remove_members)
        .service(remove_member);
}

/// A new group.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGroup {
    /// Unique in the course.
    pub name: String,
    /// Unique in the course.
    pub idnumber: Option<String>,
    #[serde(default)]
    pub description: String,
}

/// Changes to a group; absent fields stay as they are. An empty
/// `idnumber` clears it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateGroup {
    pub name: Option<String>,
    pub idnumber: Option<String>,
    pub description: Option<String>,
}

/// Groups of a course by name, searched by name and idnumber. Teachers
/// and participants of the course may list them.
#[utoipa::path(
    tag = "groups",
    params(("id" = u64, Path, description = "course id"), PageQuery),
    responses(
        (status = 200, description = "a page of groups", body = Page<GroupView>),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "no such course", body = ErrorBody),
    )
)]
#[get("/courses/{id}/groups")]
async fn list_groups(
    api: SiteApi,
    path: web::Path<IdPath>,
    query: web::Query<PageQuery>,
) -> ApiResult<web::Json<Page<GroupView>>> {
    let offset = query.cursor_id::<usize>()?.unwrap_or(0);
    let limit = query.limit()?;
    let SiteApi { who, site } = api;
    let course = CourseId(path.id);
    let page =
        blocking(move || site.search_groups(&who, course, query.q.as_deref(), offset, limit))
            .await?;
    Ok(web::Json(Page::from_service(page, GroupView::from)))
}

/// Creates a group in a course (site admins and the course's teachers).
#[utoipa::path(
    tag = "groups",
    params(("id" = u64, Path, description = "course id")),
    request_body = CreateGroup,
    responses(
        (status = 201, description = "created", body = GroupView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "no such course", body = ErrorBody),
        (status = 422, description = "invalid, or the name or idnumber is taken", body = ErrorBody),
    )
)]
#[post("/courses/{id}/groups")]
async fn create_group(
    api: SiteApi,
    path: web::Path<IdPath>,
    body: JsonBody<CreateGroup>,
) -> ApiResult<HttpResponse> {
    let body = body
        .read(
            api.authorise(Ask::Site(Need::ManageCourse(CourseId(path.id))))
                .await?,
        )
        .await?;
    let SiteApi { who, site } = api;
    let course = CourseId(path.id);
    let b = body;
    let new = NewGroup {
        name: b.name,
        idnumber: b.idnumber,
        description: b.description,
    };
    let group = blocking(move || site.create_group(&who, course, new)).await?;
    // A new group has no members yet.
    let created = GroupSummary { group, members: 0 };
    Ok(HttpResponse::Created().json(GroupView::from(created)))
}

/// One group with its member count.
#[utoipa::path(
    tag = "groups",
    params(("id" = u64, Path, description = "group id")),
    responses((status = 200, body = GroupView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[get("/groups/{id}")]
async fn get_group(api: SiteApi, path: web::Path<IdPath>) -> ApiResult<web::Json<GroupView>> {
    let SiteApi { who, site } = api;
    let id = CourseGroupId(path.id);
    let found = blocking(move || site.get_group(&who, id)).await?;
    Ok(web::Json(found.into()))
}

/// Changes a group (site admins and the course's teachers).
#[utoipa::path(
    tag = "groups",
    params(("id" = u64, Path, description = "group id")),
    request_body = UpdateGroup,
    responses((status = 200, body = GroupView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
#[patch("/groups/{id}")]
async fn update_group(
    api: SiteApi,
    path: web::Path<IdPath>,
    body: JsonBody<UpdateGroup>,
) -> ApiResult<web::Json<GroupView>> {
    let body = body
        .read(
            api.authorise(Ask::Group(CourseGroupId(path.id), Need::ConfigureCourse))
                .await?,
        )
        .await?;
    let SiteApi { who, site } = api;
    let id = CourseGroupId(path.id);
    let b = body;
    let update = GroupUpdate {
        name: b.name,
        idnumber: b.idnumber,
        description: b.description,
    };
    // Read back for the member count, as the segments' PATCH does.
    let updated = blocking(move || {
        site.update_group(&who, id, update)?;
        site.get_group(&who, id)
    })
    .await?;
    Ok(web::Json(updated.into()))
}

/// Deletes a group and its memberships; enrolments stay.
#[utoipa::path(
    tag = "groups",
    params(("id" = u64, Path, description = "group id")),
    responses((status = 204, description = "deleted"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[delete("/groups/{id}")]
async fn delete_group(api: SiteApi, path: web::Path<IdPath>) -> ApiResult<HttpResponse> {
    let SiteApi { who, site } = api;
    let id = CourseGroupId(path.id);
    blocking(move || site.delete_group(&who, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Members of a group in user-id order, each with the owner of the
/// membership.
///
/// Memberships an enrolment method derives (a segment sync's, say) are
/// committed page by page and made durable within a moment (`charon serve
/// --reconcile-durable-ms`, 100 ms by default). A member seen here while a
/// sync runs can therefore be gone after a crash of the server. This is by
/// design: the start-up reconcile redoes that work from its sources and
/// converges to the same memberships.
#[utoipa::path(
    tag = "groups",
    params(("id" = u64, Path, description = "group id"), PageQuery),
    responses((status = 200, body = Page<GroupMemberView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[get("/groups/{id}/members")]
async fn list_members(
    api: SiteApi,
    path: web::Path<IdPath>,
    query: web::Query<PageQuery>,
) -> ApiResult<web::Json<Page<GroupMemberView>>> {
    let after = query.cursor_id::<u64>()?.map(UserId);
    let limit = query.limit()?;
    let SiteApi { who, site } = api;
    let id = CourseGroupId(path.id);
    let page = blocking(move || site.group_members(&who, id, after, limit)).await?;
    Ok(web::Json(Page::from_service(page, GroupMemberView::from)))
}

/// Adds users to a group in one transaction; members already in it keep
/// their membership and its owner. Every user must be enrolled in the
/// course: one who is not fails the whole call (422 `not_enrolled`).
#[utoipa::path(
    tag = "groups",
    params(("id" = u64, Path, description = "group id")),
    request_body = UserIds,
    responses((status = 200, body = MembershipChange), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, description = "no such group or user", body = ErrorBody), (status = 422, description = "a user is not enrolled in the course", body = ErrorBody))
)]
#[post("/groups/{id}/members")]
async fn add_members(
    api: SiteApi,
    path: web::Path<IdPath>,
    body: JsonBody<UserIds>,
) -> ApiResult<web::Json<MembershipChange>> {
    let body = body
        .read(
            api.authorise(Ask::Group(CourseGroupId(path.id), Need::ManageCourse))
                .await?,
        )
        .await?;
    let SiteApi { who, site } = api;
    let id = CourseGroupId(path.id);
    let users = body.checked()?;
    let change = blocking(move || site.add_group_members(&who, id, &users)).await?;
    Ok(web::Json(change.into()))
}

/// Removes users from a group in one transaction; non-members are left
/// alone. A membership owned by an enrolment method cannot be removed by
/// hand: trying fails the whole call (409).
#[utoipa::path(
    tag = "groups",
    params(("id" = u64, Path, description = "group id")),
    request_body = UserIds,
    responses((status = 200, body = MembershipChange), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "a membership is owned by an enrolment method", body = ErrorBody))
)]
#[post("/groups/{id}/members/remove")]
async fn remove_members(
    api: SiteApi,
    path: web::Path<IdPath>,
    body: JsonBody<UserIds>,
) -> ApiResult<web::Json<MembershipChange>> {
    let body = body
        .read(
            api.authorise(Ask::Group(CourseGroupId(path.id), Need::ManageCourse))
                .await?,
        )
        .await?;
    let SiteApi { who, site } = api;
    let id = CourseGroupId(path.id);
    let users = body.checked()?;
    let change = blocking(move || site.remove_group_members(&who, id, &users)).await?;
    Ok(web::Json(change.into()))
}

/// Removes one user from a group.
#[utoipa::path(
    tag = "groups",
    params(("id" = u64, Path, description = "group id"), ("user" = u64, Path, description = "user id")),
    responses((status = 200, body = MembershipChange), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "the membership is owned by an enrolment method", body = ErrorBody))
)]
#[delete("/groups/{id}/members/{user}")]
async fn remove_member(
    api: SiteApi,
    path: web::Path<IdUserPath>,
) -> ApiResult<web::Json<MembershipChange>> {
    let SiteApi { who, site } = api;
    let id = CourseGroupId(path.id);
    let user = UserId(path.user);
    let change = blocking(move || site.remove_group_members(&who, id, &[user])).await?;
    Ok(web::Json(change.into()))
}
