//! API tokens: `/tokens` on a site (its admins mint, list and revoke the
//! tokens acting as its users), `/operator/tokens` on any host (an
//! operator's own tokens, and every token of the host) and
//! `/sites/{key}/tokens` on any host (an operator's view of one site's
//! tokens, the site and the user named as on the command line).
//!
//! The operator routes live under `/api/v1/operator/…` and `/sites/…`
//! because site routes are also served on `/api/v1/…` by host name:
//! `/api/v1/tokens` on a site's host name must stay that site's tokens. To
//! mint a token acting as a user of a site, an operator uses that site's
//! `POST /tokens` with `user`, or `POST /sites/{key}/tokens` with
//! `username`.
//!
//! A secret is shown once, in the `secret` field of the 201 answer; the
//! host keeps only its hash.

use actix_web::{HttpResponse, delete, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::services::{Ask, Need};

use super::JsonBody;

use super::listing::ListQuery;
use super::sites::KeyPath;
use super::views::{CreatedTokenView, Mirror, TokenView, UserIdView};
use super::{ApiCaller, ApiResult, IdPath, Page, SiteApi};
use crate::domain::ApiTokenId;
use crate::http::{AppState, ErrorBody, blocking};
use crate::services::tokens::TokenTarget;

pub(super) fn site_routes(cfg: &mut ServiceConfig) {
    cfg.service(list_site_tokens)
        .service(create_site_token)
        .service(revoke_site_token);
}

pub(super) fn operator_routes(cfg: &mut ServiceConfig) {
    cfg.service(list_all_tokens)
        .service(create_operator_token)
        .service(revoke_any_token)
        .service(list_tokens_of_site)
        .service(create_site_user_token);
}

/// A new token of a site.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSiteToken {
    pub name: String,
    /// The user the token acts as; by default the caller. An operator must
    /// name one.
    pub user: Option<UserIdView>,
}

/// A new operator token.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOperatorToken {
    pub name: String,
}

/// A new token acting as a user of a site, named by username.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSiteUserToken {
    pub name: String,
    /// The user the token acts as, with their roles on the site.
    pub username: String,
}

/// Tokens acting as users of this site, in id order, revoked ones too
/// (site admins).
#[utoipa::path(
    tag = "tokens",
    params(ListQuery),
    responses(
        (status = 200, description = "a page of tokens", body = Page<TokenView>),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    )
)]
#[get("/tokens")]
async fn list_site_tokens(
    api: SiteApi,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> ApiResult<web::Json<Page<TokenView>>> {
    let SiteApi { who, site } = api;
    let services = state.services().clone();
    let site = site.site().id;
    let all = blocking(move || services.list_tokens(&who, Some(site))).await?;
    Ok(web::Json(Page::from_list(all, &query, TokenView::from)?))
}

/// Creates a token acting as a user of this site (site admins; the caller
/// by default). The secret is in the answer, once.
#[utoipa::path(
    tag = "tokens",
    request_body = CreateSiteToken,
    responses(
        (status = 201, description = "created; `secret` is shown only now", body = CreatedTokenView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "no such user", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
#[post("/tokens")]
async fn create_site_token(
    api: SiteApi,
    state: web::Data<AppState>,
    body: JsonBody<CreateSiteToken>,
) -> ApiResult<HttpResponse> {
    let body = body
        .read(api.authorise(Ask::Site(Need::SiteAdmin)).await?)
        .await?;
    let SiteApi { who, site } = api;
    let services = state.services().clone();
    let site = site.site().id;
    let b = body;
    let created =
        blocking(move || services.create_site_token(&who, site, &b.name, b.user.mirror())).await?;
    Ok(HttpResponse::Created().json(CreatedTokenView::from(created)))
}

/// Revokes a token of this site at once: its next request gets 401.
#[utoipa::path(
    tag = "tokens",
    params(("id" = u64, Path, description = "token id")),
    responses(
        (status = 200, description = "revoked (revoking twice is harmless)", body = TokenView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "no such token on this site", body = ErrorBody),
    )
)]
#[delete("/tokens/{id}")]
async fn revoke_site_token(
    api: SiteApi,
    state: web::Data<AppState>,
    path: web::Path<IdPath>,
) -> ApiResult<web::Json<TokenView>> {
    let SiteApi { who, site } = api;
    let services = state.services().clone();
    let site = site.site().id;
    let id = ApiTokenId(path.id);
    let token = blocking(move || services.revoke_site_token(&who, site, id)).await?;
    Ok(web::Json(token.into()))
}

/// Every token of the host, in id order, revoked ones too (operators).
#[utoipa::path(
    tag = "operator",
    params(ListQuery),
    responses(
        (status = 200, description = "a page of tokens", body = Page<TokenView>),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    )
)]
#[get("/operator/tokens")]
async fn list_all_tokens(
    caller: ApiCaller,
    query: web::Query<ListQuery>,
) -> ApiResult<web::Json<Page<TokenView>>> {
    let ApiCaller { who, services } = caller;
    let all = blocking(move || services.list_tokens(&who, None)).await?;
    Ok(web::Json(Page::from_list(all, &query, TokenView::from)?))
}

/// Creates a token acting as the calling operator. The secret is in the
/// answer, once.
#[utoipa::path(
    tag = "operator",
    request_body = CreateOperatorToken,
    responses(
        (status = 201, description = "created; `secret` is shown only now", body = CreatedTokenView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
#[post("/operator/tokens")]
async fn create_operator_token(
    caller: ApiCaller,
    body: JsonBody<CreateOperatorToken>,
) -> ApiResult<HttpResponse> {
    let body = body.read(caller.authorise_operator()?).await?;
    let ApiCaller { who, services } = caller;
    let name = body.name;
    let created = blocking(move || services.create_operator_token(&who, &name)).await?;
    Ok(HttpResponse::Created().json(CreatedTokenView::from(created)))
}

/// Revokes any token of the host at once (operators).
#[utoipa::path(
    tag = "operator",
    params(("id" = u64, Path, description = "token id")),
    responses(
        (status = 200, description = "revoked (revoking twice is harmless)", body = TokenView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
#[delete("/operator/tokens/{id}")]
async fn revoke_any_token(
    caller: ApiCaller,
    path: web::Path<IdPath>,
) -> ApiResult<web::Json<TokenView>> {
    let ApiCaller { who, services } = caller;
    let id = ApiTokenId(path.id);
    let token = blocking(move || services.revoke_token_as_operator(&who, id)).await?;
    Ok(web::Json(token.into()))
}

/// The tokens acting as users of one site, in id order, revoked ones too
/// (operators).
#[utoipa::path(
    tag = "operator",
    params(("key" = String, Path, description = "the site's slug or id"), ListQuery),
    responses(
        (status = 200, description = "a page of tokens", body = Page<TokenView>),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
#[get("/sites/{key}/tokens")]
async fn list_tokens_of_site(
    caller: ApiCaller,
    path: web::Path<KeyPath>,
    query: web::Query<ListQuery>,
) -> ApiResult<web::Json<Page<TokenView>>> {
    let ApiCaller { who, services } = caller;
    let key = path.into_inner().key;
    let all = blocking(move || services.list_tokens_by_key(&who, Some(&key))).await?;
    Ok(web::Json(Page::from_list(all, &query, TokenView::from)?))
}

/// Creates a token acting as a user of a site, named by username
/// (operators). The secret is in the answer, once.
#[utoipa::path(
    tag = "operator",
    params(("key" = String, Path, description = "the site's slug or id")),
    request_body = CreateSiteUserToken,
    responses(
        (status = 201, description = "created; `secret` is shown only now", body = CreatedTokenView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "no such site or user", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
#[post("/sites/{key}/tokens")]
async fn create_site_user_token(
    caller: ApiCaller,
    path: web::Path<KeyPath>,
    body: JsonBody<CreateSiteUserToken>,
) -> ApiResult<HttpResponse> {
    let body = body.read(caller.authorise_operator()?).await?;
    let ApiCaller { who, services } = caller;
    let CreateSiteUserToken { name, username } = body;
    let target = TokenTarget::SiteUser {
        site: path.into_inner().key,
        username,
    };
    let created = blocking(move || services.create_token_for(&who, &name, &target)).await?;
    Ok(HttpResponse::Created().json(CreatedTokenView::from(created)))
}
