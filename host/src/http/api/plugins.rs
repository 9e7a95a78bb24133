//! Plugins: `/operator/plugins` on any host (install, list, uninstall the
//! versions the host holds), `/sites/{key}/plugins/{plugin}/…` on any host
//! (enable, disable and upgrade a plugin on one site), all for operators;
//! and `/plugins` on a site, where its admins see the plugins they may add
//! to courses, with the config form of each.
//!
//! The operator list lives under `/operator/…` because site routes are
//! also served on `/api/v1/…` by host name: `/api/v1/plugins` on a site's
//! host name must stay that site's list. A component is uploaded as the
//! raw body (`Content-Type: application/wasm`).
//!
//! Every call that may run a plugin (install, enable, upgrade) runs on the
//! blocking pool, like every service call.

use actix_web::HttpRequest;
use actix_web::{HttpResponse, delete, get, post, put, web};
use serde::{Deserialize, Serialize};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::services::{Ask, Need};

use super::JsonBody;

use super::listing::ListQuery;
use super::views::{
    InstalledPluginView, Mirror, PluginManifestView, PluginSettingsView, PluginVersionView,
    SitePluginView,
};
use super::{ApiCaller, ApiResult, Page, SiteApi, read_body};
use crate::http::{ErrorBody, blocking};
use crate::services::plugins::MAX_PLUGIN_BYTES;

pub(super) fn site_routes(cfg: &mut ServiceConfig) {
    cfg.service(site_plugins)
        .service(plugin_settings)
        .service(set_plugin_settings);
}

pub(super) fn operator_routes(cfg: &mut ServiceConfig) {
    cfg.service(list_plugins)
        .service(install_plugin)
        .service(get_plugin)
        .service(uninstall_plugin)
        .service(enable_plugin)
        .service(disable_plugin)
        .service(upgrade_plugin);
}

/// `{plugin}` of a path.
#[derive(Debug, Deserialize)]
pub struct PluginPath {
    pub plugin: String,
}

/// `{plugin}/versions/{version}` of a path.
#[derive(Debug, Deserialize)]
pub struct VersionPath {
    pub plugin: String,
    pub version: String,
}

/// `{key}/plugins/{plugin}` of a path.
#[derive(Debug, Deserialize)]
pub struct SitePluginPath {
    pub key: String,
    pub plugin: String,
}

/// `?force=true`.
#[derive(Debug, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ForceQuery {
    /// Go ahead although sites pin the version: the plugin is disabled
    /// there, with its enrolment methods (their data is kept).
    pub force: Option<bool>,
}

/// Which version to enable; by default the one pinned before (if still
/// installed) or the latest.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnablePlugin {
    pub version: Option<String>,
}

/// Whether to disable the site's enrolment methods of the plugin with it.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisablePlugin {
    /// Without it, a plugin the site has enrolment methods of stays
    /// enabled (409).
    pub force: Option<bool>,
}

/// The installed version to move the site's pin to.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpgradePlugin {
    pub version: String,
}

/// The plugins this site may use, with their config forms (site admins).
#[utoipa::path(
    tag = "plugins",
    responses(
        (status = 200, description = "every enabled plugin, in one page", body = Page<PluginManifestView>),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    )
)]
#[get("/plugins")]
async fn site_plugins(api: SiteApi) -> ApiResult<web::Json<Page<PluginManifestView>>> {
    let SiteApi { who, site } = api;
    let items = blocking(move || site.site_plugins(&who)).await?;
    Ok(web::Json(Page {
        items: items.mirror(),
        next_cursor: None,
    }))
}

/// A plugin's site-wide settings: the form and this site's values (site
/// admins).
#[utoipa::path(
    tag = "plugins",
    params(("plugin" = String, Path, description = "plugin id")),
    responses(
        (status = 200, body = PluginSettingsView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, description = "the plugin is not enabled on this site", body = ErrorBody),
    )
)]
#[get("/plugins/{plugin}/settings")]
async fn plugin_settings(
    api: SiteApi,
    path: web::Path<PluginPath>,
) -> ApiResult<web::Json<PluginSettingsView>> {
    let SiteApi { who, site } = api;
    let plugin = path.into_inner().plugin;
    let settings = blocking(move || site.plugin_settings(&who, &plugin)).await?;
    Ok(web::Json(settings.into()))
}

/// Saves some of a plugin's site-wide settings (a JSON object of setting
/// → value; settings left out keep their value), all or nothing (site
/// admins).
#[utoipa::path(
    tag = "plugins",
    params(("plugin" = String, Path, description = "plugin id")),
    request_body(content = Object, description = "setting key → value"),
    responses(
        (status = 200, body = PluginSettingsView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, description = "the plugin is not enabled on this site", body = ErrorBody),
        (status = 422, description = "an unknown setting or a value that does not fit its field (code `config_rejected`, each in `errors`)", body = ErrorBody),
    )
)]
#[put("/plugins/{plugin}/settings")]
async fn set_plugin_settings(
    api: SiteApi,
    path: web::Path<PluginPath>,
    body: JsonBody<serde_json::Map<String, serde_json::Value>>,
) -> ApiResult<web::Json<PluginSettingsView>> {
    let body = body
        .read(api.authorise(Ask::Site(Need::SiteAdmin)).await?)
        .await?;
    let SiteApi { who, site } = api;
    let plugin = path.into_inner().plugin;
    let values = body;
    let settings = blocking(move || site.set_plugin_settings(&who, &plugin, values)).await?;
    Ok(web::Json(settings.into()))
}

/// Every installed plugin version, by id then version, with the sites
/// that pin it (operators).
#[utoipa::path(
    tag = "operator",
    params(ListQuery),
    responses(
        (status = 200, body = Page<InstalledPluginView>),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    )
)]
#[get("/operator/plugins")]
async fn list_plugins(
    caller: ApiCaller,
    query: web::Query<ListQuery>,
) -> ApiResult<web::Json<Page<InstalledPluginView>>> {
    let ApiCaller { who, services } = caller;
    let all = blocking(move || services.list_plugins(&who)).await?;
    Ok(web::Json(Page::from_list(
        all,
        &query,
        InstalledPluginView::from,
    )?))
}

/// Installs a plugin: the body is the component (`.wasm`), at most 32
/// MiB. The host checks it (contract version, imports, manifest) before
/// keeping it. The same component again answers the installed version;
/// other contents under an installed id and version are refused (409).
#[utoipa::path(
    tag = "operator",
    request_body(content = Vec<u8>, description = "the WebAssembly component", content_type = "application/wasm"),
    responses(
        (status = 201, description = "installed (or already installed)", body = PluginVersionView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, description = "this id and version are installed with other contents", body = ErrorBody),
        (status = 413, description = "larger than 32 MiB", body = ErrorBody),
        (status = 503, description = "as many uploads as the server reads at once are being read; try again after `Retry-After` seconds", body = ErrorBody),
        (status = 422, description = "not a component this host can run; the message says why", body = ErrorBody),
    )
)]
#[post("/operator/plugins")]
async fn install_plugin(
    req: HttpRequest,
    caller: ApiCaller,
    body: web::Payload,
) -> ApiResult<HttpResponse> {
    let ApiCaller { who, services } = caller;
    let bytes = read_body(&req, body, MAX_PLUGIN_BYTES).await?;
    let installed = blocking(move || services.install_plugin(&who, &bytes)).await?;
    Ok(HttpResponse::Created().json(PluginVersionView::from(installed)))
}

/// The installed versions of one plugin, oldest first (operators).
#[utoipa::path(
    tag = "operator",
    params(("plugin" = String, Path, description = "the plugin id")),
    responses(
        (status = 200, body = Page<InstalledPluginView>),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    )
)]
#[get("/operator/plugins/{plugin}")]
async fn get_plugin(
    caller: ApiCaller,
    path: web::Path<PluginPath>,
) -> ApiResult<web::Json<Page<InstalledPluginView>>> {
    let ApiCaller { who, services } = caller;
    let id = path.into_inner().plugin;
    let items = blocking(move || services.get_plugin(&who, &id)).await?;
    Ok(web::Json(Page {
        items: items.mirror(),
        next_cursor: None,
    }))
}

/// Uninstalls a version and deletes its component (operators). Refused
/// (409) while a site has it enabled, unless `force=true`, which disables
/// the plugin and its enrolment methods on those sites (data kept). A
/// version bundled with Charon cannot be uninstalled.
#[utoipa::path(
    tag = "operator",
    params(
        ("plugin" = String, Path, description = "the plugin id"),
        ("version" = String, Path, description = "the version, e.g. 1.2.0"),
        ForceQuery,
    ),
    responses(
        (status = 204, description = "uninstalled"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "pinned by a site, or bundled", body = ErrorBody),
    )
)]
#[delete("/operator/plugins/{plugin}/versions/{version}")]
async fn uninstall_plugin(
    caller: ApiCaller,
    path: web::Path<VersionPath>,
    query: web::Query<ForceQuery>,
) -> ApiResult<HttpResponse> {
    let ApiCaller { who, services } = caller;
    let VersionPath { plugin, version } = path.into_inner();
    let force = query.force.unwrap_or(false);
    blocking(move || services.uninstall_plugin(&who, &plugin, &version, force)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Lets a site use a plugin, pinned to a version (operators). If the site
/// has enrolment methods of the plugin and the version changes, their
/// configs are checked by that version first (422 names the method and
/// the field it refuses).
#[utoipa::path(
    tag = "operator",
    params(
        ("key" = String, Path, description = "the site's slug or id"),
        ("plugin" = String, Path, description = "the plugin id"),
    ),
    request_body = EnablePlugin,
    responses(
        (status = 200, body = SitePluginView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "enabled at another version: upgrade instead", body = ErrorBody),
        (status = 422, description = "the version refuses a method's config", body = ErrorBody),
    )
)]
#[post("/sites/{key}/plugins/{plugin}/enable")]
async fn enable_plugin(
    caller: ApiCaller,
    path: web::Path<SitePluginPath>,
    body: JsonBody<EnablePlugin>,
) -> ApiResult<web::Json<SitePluginView>> {
    let body = body.read(caller.authorise_operator()?).await?;
    let ApiCaller { who, services } = caller;
    let SitePluginPath { key, plugin } = path.into_inner();
    let version = body.version;
    let record =
        blocking(move || services.enable_plugin(&who, &key, &plugin, version.as_deref())).await?;
    Ok(web::Json(record.into()))
}

/// Stops a site from using a plugin (operators). Refused (409) while the
/// site has enrolment methods of it, unless `force`, which disables them
/// too (their settings and enrolments are kept).
#[utoipa::path(
    tag = "operator",
    params(
        ("key" = String, Path, description = "the site's slug or id"),
        ("plugin" = String, Path, description = "the plugin id"),
    ),
    request_body = DisablePlugin,
    responses(
        (status = 200, body = SitePluginView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "the site has enrolment methods of it", body = ErrorBody),
    )
)]
#[post("/sites/{key}/plugins/{plugin}/disable")]
async fn disable_plugin(
    caller: ApiCaller,
    path: web::Path<SitePluginPath>,
    body: JsonBody<DisablePlugin>,
) -> ApiResult<web::Json<SitePluginView>> {
    let body = body.read(caller.authorise_operator()?).await?;
    let ApiCaller { who, services } = caller;
    let SitePluginPath { key, plugin } = path.into_inner();
    let force = body.force.unwrap_or(false);
    let record = blocking(move || services.disable_plugin(&who, &key, &plugin, force)).await?;
    Ok(web::Json(record.into()))
}

/// Moves a site to a newer installed version of a plugin (operators).
/// Every enrolment method of the plugin on the site is checked by the new
/// version first; if one is refused, nothing changes (422 names it).
#[utoipa::path(
    tag = "operator",
    params(
        ("key" = String, Path, description = "the site's slug or id"),
        ("plugin" = String, Path, description = "the plugin id"),
    ),
    request_body = UpgradePlugin,
    responses(
        (status = 200, body = SitePluginView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "the plugin is not enabled on the site", body = ErrorBody),
        (status = 422, description = "not newer, or the new version refuses a method's config", body = ErrorBody),
    )
)]
#[post("/sites/{key}/plugins/{plugin}/upgrade")]
async fn upgrade_plugin(
    caller: ApiCaller,
    path: web::Path<SitePluginPath>,
    body: JsonBody<UpgradePlugin>,
) -> ApiResult<web::Json<SitePluginView>> {
    let body = body.read(caller.authorise_operator()?).await?;
    let ApiCaller { who, services } = caller;
    let SitePluginPath { key, plugin } = path.into_inner();
    let version = body.version;
    let record = blocking(move || services.upgrade_plugin(&who, &key, &plugin, &version)).await?;
    Ok(web::Json(record.into()))
}
