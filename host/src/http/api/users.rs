//! `/users`: the accounts of a site, their status, and what they belong to.
//!
//! Every response shows a user as [`UserView`], never the password hash.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, delete, get, patch, post, web};
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::services::{Ask, Need};

use super::JsonBody;

use super::views::{EnrolmentView, Mirror, PlainSegmentView, UserView};
use super::{ApiResult, IdPath, Page, PageQuery, SiteApi};
use crate::domain::UserId;
use crate::http::{ErrorBody, blocking};
use crate::services::users::{NewUser, UserUpdate};

pub(super) fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_users)
        .service(create_user)
        .service(get_user)
        .service(update_user)
        .service(delete_user)
        .service(suspend_user)
        .service(reactivate_user)
        .service(user_segments)
        .service(user_enrolments);
}

/// A new user.
// No `Debug`: it holds a password, which must never reach a log.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// Letters, digits and `. _ - @`; stored in lower case; unique in the site.
    pub username: String,
    /// Unique in the site, whatever its case.
    pub email: String,
    pub firstname: String,
    pub lastname: String,
    /// At least 8 characters. Without one the user cannot log in with a
    /// password.
    pub password: Option<String>,
    /// Default false.
    #[serde(default)]
    pub site_admin: bool,
    /// Free profile fields, e.g. `{"department": "HR"}`; names are `a-z`,
    /// `0-9` and `_`.
    #[serde(default)]
    pub profile: BTreeMap<String, String>,
}

/// Changes to a user; absent fields stay as they are.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    pub username: Option<String>,
    pub email: Option<String>,
    pub firstname: Option<String>,
    pub lastname: Option<String>,
    /// A site admin cannot take the role from themselves (409).
    pub site_admin: Option<bool>,
    /// Profile fields to set; an empty value removes the field, fields not
    /// named stay as they are.
    #[serde(default)]
    pub profile: BTreeMap<String, String>,
}

/// Lists users in id order, searched by username, names and e-mail.
#[utoipa::path(
    tag = "users",
    params(PageQuery),
    responses(
        (status = 200, description = "a page of users", body = Page<UserView>),
        (status = 400, description = "the query string does not fit", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, description = "not a cursor of this collection", body = ErrorBody),
    )
)]
#[get("/users")]
async fn list_users(
    api: SiteApi,
    query: web::Query<PageQuery>,
) -> ApiResult<web::Json<Page<UserView>>> {
    let after = query.cursor_id::<u64>()?.map(UserId);
    let limit = query.limit()?;
    let SiteApi { who, site } = api;
    let page = blocking(move || site.list_users(&who, query.q.as_deref(), after, limit)).await?;
    Ok(web::Json(Page::from_service(page, UserView::from)))
}

/// Creates a user.
#[utoipa::path(
    tag = "users",
    request_body = CreateUser,
    responses(
        (status = 201, description = "created", body = UserView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, description = "a field is missing, unknown or invalid, or the username or e-mail is taken", body = ErrorBody),
    )
)]
#[post("/users")]
async fn create_user(api: SiteApi, body: JsonBody<CreateUser>) -> ApiResult<HttpResponse> {
    let body = body
        .read(api.authorise(Ask::Site(Need::SiteAdmin)).await?)
        .await?;
    let SiteApi { who, site } = api;
    let b = body;
    let new = NewUser {
        username: b.username,
        email: b.email,
        firstname: b.firstname,
        lastname: b.lastname,
        password: b.password,
        site_admin: b.site_admin,
        profile: b.profile,
    };
    let created = blocking(move || site.create_user(&who, new)).await?;
    Ok(HttpResponse::Created().json(UserView::from(created)))
}

/// One user. Anyone may see their own record; site admins see everyone's.
#[utoipa::path(
    tag = "users",
    params(("id" = u64, Path, description = "user id")),
    responses((status = 200, body = UserView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[get("/users/{id}")]
async fn get_user(api: SiteApi, path: web::Path<IdPath>) -> ApiResult<web::Json<UserView>> {
    let SiteApi { who, site } = api;
    let id = UserId(path.id);
    let found = blocking(move || site.get_user(&who, id)).await?;
    Ok(web::Json(found.into()))
}

/// Changes a user.
#[utoipa::path(
    tag = "users",
    params(("id" = u64, Path, description = "user id")),
    request_body = UpdateUser,
    responses(
        (status = 200, body = UserView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "a site admin taking the role from themselves", body = ErrorBody),
        (status = 422, description = "a field is unknown or invalid, or the username or e-mail is taken", body = ErrorBody),
    )
)]
#[patch("/users/{id}")]
async fn update_user(
    api: SiteApi,
    path: web::Path<IdPath>,
    body: JsonBody<UpdateUser>,
) -> ApiResult<web::Json<UserView>> {
    let body = body
        .read(api.authorise(Ask::Site(Need::SiteAdmin)).await?)
        .await?;
    let SiteApi { who, site } = api;
    let id = UserId(path.id);
    let b = body;
    let update = UserUpdate {
        username: b.username,
        email: b.email,
        firstname: b.firstname,
        lastname: b.lastname,
        site_admin: b.site_admin,
        profile: b.profile,
        password: None,
    };
    let updated = blocking(move || site.update_user(&who, id, update)).await?;
    Ok(web::Json(updated.into()))
}

/// Deletes a user with their segment memberships, enrolments and group
/// memberships.
#[utoipa::path(
    tag = "users",
    params(("id" = u64, Path, description = "user id")),
    responses(
        (status = 204, description = "deleted"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "a site admin deleting themselves", body = ErrorBody),
    )
)]
#[delete("/users/{id}")]
async fn delete_user(api: SiteApi, path: web::Path<IdPath>) -> ApiResult<HttpResponse> {
    let SiteApi { who, site } = api;
    let id = UserId(path.id);
    blocking(move || site.delete_user(&who, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Suspends a user: they can no longer log in or use a token. Suspending a
/// suspended user changes nothing.
#[utoipa::path(
    tag = "users",
    params(("id" = u64, Path, description = "user id")),
    responses(
        (status = 200, body = UserView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "a site admin suspending themselves", body = ErrorBody),
    )
)]
#[post("/users/{id}/suspend")]
async fn suspend_user(api: SiteApi, path: web::Path<IdPath>) -> ApiResult<web::Json<UserView>> {
    let SiteApi { who, site } = api;
    let id = UserId(path.id);
    let user = blocking(move || site.suspend_user(&who, id)).await?;
    Ok(web::Json(user.into()))
}

/// Re-activates a suspended user.
#[utoipa::path(
    tag = "users",
    params(("id" = u64, Path, description = "user id")),
    responses((status = 200, body = UserView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[post("/users/{id}/reactivate")]
async fn reactivate_user(api: SiteApi, path: web::Path<IdPath>) -> ApiResult<web::Json<UserView>> {
    let SiteApi { who, site } = api;
    let id = UserId(path.id);
    let user = blocking(move || site.reactivate_user(&who, id)).await?;
    Ok(web::Json(user.into()))
}

/// The segments a user belongs to, all in one page.
#[utoipa::path(
    tag = "users",
    params(("id" = u64, Path, description = "user id")),
    responses((status = 200, body = Page<PlainSegmentView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[get("/users/{id}/segments")]
async fn user_segments(
    api: SiteApi,
    path: web::Path<IdPath>,
) -> ApiResult<web::Json<Page<PlainSegmentView>>> {
    let SiteApi { who, site } = api;
    let id = UserId(path.id);
    let items = blocking(move || site.user_segments(&who, id)).await?;
    Ok(web::Json(Page {
        items: items.mirror(),
        next_cursor: None,
    }))
}

/// Every enrolment of a user, in any course, all in one page.
#[utoipa::path(
    tag = "users",
    params(("id" = u64, Path, description = "user id")),
    responses((status = 200, body = Page<EnrolmentView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[get("/users/{id}/enrolments")]
async fn user_enrolments(
    api: SiteApi,
    path: web::Path<IdPath>,
) -> ApiResult<web::Json<Page<EnrolmentView>>> {
    let SiteApi { who, site } = api;
    let id = UserId(path.id);
    let items = blocking(move || site.user_enrolments(&who, id)).await?;
    Ok(web::Json(Page {
        items: items.mirror(),
        next_cursor: None,
    }))
}
