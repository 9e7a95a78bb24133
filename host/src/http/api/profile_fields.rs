//! `/profile-fields`: the site's custom user profile fields. Users'
//! values are set through `/users` (`profile`) and the users CSV
//! (`profile_field_<shortname>` columns).

use actix_web::{HttpResponse, delete, get, patch, post, web};
use serde::{Deserialize, Serialize};
use utoipa_actix_web::service_config::ServiceConfig;

use super::JsonBody;
use super::views::{Mirror, ProfileFieldKindView, ProfileFieldView};
use super::{ApiResult, IdPath, SiteApi};
use crate::domain::ProfileFieldId;
use crate::http::{ErrorBody, blocking};
use crate::services::profile_fields::{NewProfileField, ProfileFieldUpdate};
use crate::services::{Ask, Need};

pub(super) fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_profile_fields)
        .service(create_profile_field)
        .service(get_profile_field)
        .service(update_profile_field)
        .service(delete_profile_field);
}

/// A new profile field.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProfileField {
    /// `a-z`, `0-9`, `_`, at most 64; unique in the site; never changes.
    pub shortname: String,
    pub name: String,
    pub kind: ProfileFieldKindView,
    /// Default false.
    pub required: Option<bool>,
    /// Default true.
    pub visible_to_user: Option<bool>,
    /// Default false.
    pub locked: Option<bool>,
    /// Default: after the others.
    pub position: Option<u32>,
}

/// Changes to a profile field; absent parts stay. The short name and the
/// kind never change; a menu's `choices` may, while no user holds a
/// removed one.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProfileField {
    pub name: Option<String>,
    pub choices: Option<Vec<String>>,
    pub required: Option<bool>,
    pub visible_to_user: Option<bool>,
    pub locked: Option<bool>,
    pub position: Option<u32>,
}

/// The site's profile fields in form order.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProfileFieldList {
    pub items: Vec<ProfileFieldView>,
}

/// How many users lost their value when a field was deleted.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProfileFieldDeleted {
    pub values_cleared: u64,
}

/// Lists the site's profile fields (any user of the site: their own
/// profile form shows the fields visible to them).
#[utoipa::path(
    tag = "users",
    responses(
        (status = 200, body = ProfileFieldList),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    )
)]
#[get("/profile-fields")]
async fn list_profile_fields(api: SiteApi) -> ApiResult<web::Json<ProfileFieldList>> {
    let SiteApi { who, site } = api;
    let fields = blocking(move || site.list_profile_fields(&who)).await?;
    Ok(web::Json(ProfileFieldList {
        items: fields.into_iter().map(ProfileFieldView::from).collect(),
    }))
}

/// Defines a profile field (site admins).
#[utoipa::path(
    tag = "users",
    request_body = CreateProfileField,
    responses(
        (status = 201, description = "created", body = ProfileFieldView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, description = "the short name is taken, or the site has 100 fields", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
#[post("/profile-fields")]
async fn create_profile_field(
    api: SiteApi,
    body: JsonBody<CreateProfileField>,
) -> ApiResult<HttpResponse> {
    let b = body
        .read(api.authorise(Ask::Site(Need::SiteAdmin)).await?)
        .await?;
    let SiteApi { who, site } = api;
    let new = NewProfileField {
        shortname: b.shortname,
        name: b.name,
        kind: b.kind.mirror(),
        required: b.required.unwrap_or(false),
        visible_to_user: b.visible_to_user.unwrap_or(true),
        locked: b.locked.unwrap_or(false),
        position: b.position,
    };
    let created = blocking(move || site.create_profile_field(&who, new)).await?;
    Ok(HttpResponse::Created().json(ProfileFieldView::from(created)))
}

/// One profile field (site admins).
#[utoipa::path(
    tag = "users",
    params(("id" = u64, Path, description = "profile field id")),
    responses((status = 200, body = ProfileFieldView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[get("/profile-fields/{id}")]
async fn get_profile_field(
    api: SiteApi,
    path: web::Path<IdPath>,
) -> ApiResult<web::Json<ProfileFieldView>> {
    let SiteApi { who, site } = api;
    let id = ProfileFieldId(path.id);
    let found = blocking(move || site.get_profile_field(&who, id)).await?;
    Ok(web::Json(found.into()))
}

/// Changes a profile field (site admins).
#[utoipa::path(
    tag = "users",
    params(("id" = u64, Path, description = "profile field id")),
    request_body = UpdateProfileField,
    responses(
        (status = 200, body = ProfileFieldView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "a removed choice is held by users", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
#[patch("/profile-fields/{id}")]
async fn update_profile_field(
    api: SiteApi,
    path: web::Path<IdPath>,
    body: JsonBody<UpdateProfileField>,
) -> ApiResult<web::Json<ProfileFieldView>> {
    let b = body
        .read(api.authorise(Ask::Site(Need::SiteAdmin)).await?)
        .await?;
    let SiteApi { who, site } = api;
    let id = ProfileFieldId(path.id);
    let update = ProfileFieldUpdate {
        name: b.name,
        choices: b.choices,
        required: b.required,
        visible_to_user: b.visible_to_user,
        locked: b.locked,
        position: b.position,
    };
    let updated = blocking(move || site.update_profile_field(&who, id, update)).await?;
    Ok(web::Json(updated.into()))
}

/// Deletes a profile field and every user's value of it, in one
/// transaction (site admins).
#[utoipa::path(
    tag = "users",
    params(("id" = u64, Path, description = "profile field id")),
    responses((status = 200, body = ProfileFieldDeleted), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[delete("/profile-fields/{id}")]
async fn delete_profile_field(
    api: SiteApi,
    path: web::Path<IdPath>,
) -> ApiResult<web::Json<ProfileFieldDeleted>> {
    let SiteApi { who, site } = api;
    let id = ProfileFieldId(path.id);
    let values_cleared = blocking(move || site.delete_profile_field(&who, id)).await?;
    Ok(web::Json(ProfileFieldDeleted { values_cleared }))
}
