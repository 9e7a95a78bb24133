//! `/sites`: the sites of the host, for operators (on any host name).
//! A site is named by its slug or its id (`{key}`), as on the command line.

use actix_web::{HttpResponse, delete, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa_actix_web::service_config::ServiceConfig;

use super::JsonBody;

use super::listing::ListQuery;
use super::views::SiteView;
use super::{ApiCaller, ApiResult, Page};
use crate::http::{ErrorBody, blocking};
use crate::services::sites::NewSite;

pub(super) fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_sites)
        .service(create_site)
        .service(get_site)
        .service(suspend_site)
        .service(resume_site)
        .service(delete_site);
}

/// `{key}` of a path: a site's slug or id.
#[derive(Debug, Deserialize)]
pub struct KeyPath {
    pub key: String,
}

/// A new site.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSite {
    /// Unique, `[a-z0-9-]`; the site answers under `/s/{slug}/`.
    pub slug: String,
    pub name: String,
    /// Host names that route to the site.
    #[serde(default)]
    pub hostnames: Vec<String>,
    /// `#rrggbb`; a default colour when absent.
    pub brand_colour: Option<String>,
}

/// The sites of the host in id order (operators).
#[utoipa::path(
    tag = "operator",
    params(ListQuery),
    responses(
        (status = 200, description = "a page of sites", body = Page<SiteView>),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    )
)]
#[get("/sites")]
async fn list_sites(
    caller: ApiCaller,
    query: web::Query<ListQuery>,
) -> ApiResult<web::Json<Page<SiteView>>> {
    let ApiCaller { who, services } = caller;
    let all = blocking(move || services.list_sites(&who)).await?;
    Ok(web::Json(Page::from_list(all, &query, SiteView::from)?))
}

/// Creates a site with its own data file (operators).
#[utoipa::path(
    tag = "operator",
    request_body = CreateSite,
    responses(
        (status = 201, description = "created", body = SiteView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, description = "a data file of that name is in the way", body = ErrorBody),
        (status = 422, description = "invalid, or the slug or a host name is taken", body = ErrorBody),
    )
)]
#[post("/sites")]
async fn create_site(caller: ApiCaller, body: JsonBody<CreateSite>) -> ApiResult<HttpResponse> {
    let body = body.read(caller.authorise_operator()?).await?;
    let ApiCaller { who, services } = caller;
    let b = body;
    let new = NewSite {
        slug: b.slug,
        name: b.name,
        hostnames: b.hostnames,
        brand_colour: b.brand_colour,
    };
    let site = blocking(move || services.create_site(&who, new)).await?;
    Ok(HttpResponse::Created().json(SiteView::from(site)))
}

/// One site by slug or id (operators).
#[utoipa::path(
    tag = "operator",
    params(("key" = String, Path, description = "the site's slug or id")),
    responses((status = 200, body = SiteView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[get("/sites/{key}")]
async fn get_site(caller: ApiCaller, path: web::Path<KeyPath>) -> ApiResult<web::Json<SiteView>> {
    let ApiCaller { who, services } = caller;
    let key = path.into_inner().key;
    let site = blocking(move || services.find_site(&who, &key)).await?;
    Ok(web::Json(site.into()))
}

/// Suspends a site: its pages and its users' API calls are refused; its
/// data stays (operators).
#[utoipa::path(
    tag = "operator",
    params(("key" = String, Path, description = "the site's slug or id")),
    responses((status = 200, body = SiteView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[post("/sites/{key}/suspend")]
async fn suspend_site(
    caller: ApiCaller,
    path: web::Path<KeyPath>,
) -> ApiResult<web::Json<SiteView>> {
    let ApiCaller { who, services } = caller;
    let key = path.into_inner().key;
    let site = blocking(move || services.suspend_site(&who, &key)).await?;
    Ok(web::Json(site.into()))
}

/// Serves a suspended site again (operators).
#[utoipa::path(
    tag = "operator",
    params(("key" = String, Path, description = "the site's slug or id")),
    responses((status = 200, body = SiteView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[post("/sites/{key}/resume")]
async fn resume_site(
    caller: ApiCaller,
    path: web::Path<KeyPath>,
) -> ApiResult<web::Json<SiteView>> {
    let ApiCaller { who, services } = caller;
    let key = path.into_inner().key;
    let site = blocking(move || services.resume_site(&who, &key)).await?;
    Ok(web::Json(site.into()))
}

/// Deletes a site, its data file and its tokens (operators). Cannot be
/// undone.
#[utoipa::path(
    tag = "operator",
    params(("key" = String, Path, description = "the site's slug or id")),
    responses((status = 204, description = "deleted"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[delete("/sites/{key}")]
async fn delete_site(caller: ApiCaller, path: web::Path<KeyPath>) -> ApiResult<HttpResponse> {
    let ApiCaller { who, services } = caller;
    let key = path.into_inner().key;
    blocking(move || services.delete_site(&who, &key)).await?;
    Ok(HttpResponse::NoContent().finish())
}
