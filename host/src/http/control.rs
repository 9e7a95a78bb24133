//! The control API: how `charon site …`, `charon token …` and `charon
//! plugin …` reach a running server.
//!
//! The server holds the registry file's exclusive lock, so a second process
//! cannot open it; the CLI asks the server instead. On start the server
//! writes `DATA/control.json` (mode 0600) with its address, a fresh random
//! token and its pid; on a graceful stop it removes the file. Whoever can
//! read the data dir can read the token, which matches who could open the
//! files directly when no server runs: filesystem access is the credential.
//!
//! Requests under `/control/v1/` need `Authorization: Bearer <token>`
//! (compared in constant time) and a connection from this machine. The
//! token stands for the operator at the console, so handlers act as
//! [`Services::console_operator`](crate::services::Services::console_operator);
//! the services check, as for any operator, what that may do.

use std::fs;
use std::future::Future;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::error::JsonPayloadError;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::{AppState, HttpError, JsonError, blocking};
use crate::demo::{self, DemoReport};
use crate::domain::{ApiToken, ApiTokenId, PluginVersion, Site, SitePlugin};
use crate::services::Principal;
use crate::services::bulk::{self, ImportKind, ImportOptions, ImportReport};
use crate::services::execution::InstanceReconcile;
use crate::services::plugins::{InstalledPlugin, MAX_PLUGIN_BYTES};
use crate::services::sites::NewSite;
use crate::services::tokens::TokenTarget;

/// The control file's name inside the data dir.
pub const CONTROL_FILE_NAME: &str = "control.json";

/// Control requests are small; anything bigger is refused before parsing.
const MAX_BODY: usize = 16 * 1024;

/// What a running server tells the console: where it listens and the
/// token that opens its control API.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControlFile {
    /// An address of the server reachable from this machine.
    pub addr: SocketAddr,
    pub token: String,
    pub pid: u32,
}

impl ControlFile {
    pub fn path(data_dir: &Path) -> PathBuf {
        data_dir.join(CONTROL_FILE_NAME)
    }

    /// The control file of `data_dir`, if there is one. A file that cannot
    /// be parsed is an `InvalidData` error.
    pub fn read(data_dir: &Path) -> io::Result<Option<ControlFile>> {
        match fs::read(Self::path(data_dir)) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Writes the file readable by its owner only. It is written under a
    /// temporary name and renamed, so a reader never sees half of it.
    pub(crate) fn write(&self, data_dir: &Path) -> io::Result<()> {
        let path = Self::path(data_dir);
        let tmp = data_dir.join(format!("{CONTROL_FILE_NAME}.tmp"));
        // A leftover temporary file may have other permissions; `mode`
        // applies only to files it creates.
        match fs::remove_file(&tmp) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&tmp)?;
        let json = serde_json::to_vec_pretty(self).map_err(io::Error::other)?;
        file.write_all(&json)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, &path)
    }

    /// Removes the control file; a missing file is fine.
    pub fn remove(data_dir: &Path) -> io::Result<()> {
        match fs::remove_file(Self::path(data_dir)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

/// The secret that opens the control API.
#[derive(Clone)]
pub struct ControlToken(String);

impl ControlToken {
    /// 256 random bits from the OS-seeded CSPRNG, as hex.
    pub fn generate() -> Self {
        use rand::Rng;
        let bytes: [u8; 32] = rand::rng().random();
        Self(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Compares in time independent of where the strings differ, so the
    /// token cannot be guessed byte by byte from response times. (Its
    /// length is not secret: every token is 64 hex digits.)
    pub fn matches(&self, presented: &str) -> bool {
        let (a, b) = (self.0.as_bytes(), presented.as_bytes());
        if a.len() != b.len() {
            return false;
        }
        a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

impl std::fmt::Debug for ControlToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ControlToken(…)")
    }
}

/// `POST /control/v1/sites`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateSiteRequest {
    pub slug: String,
    pub name: String,
    #[serde(default)]
    pub hostnames: Vec<String>,
    #[serde(default)]
    pub brand_colour: Option<String>,
}

impl From<CreateSiteRequest> for NewSite {
    fn from(r: CreateSiteRequest) -> Self {
        NewSite {
            slug: r.slug,
            name: r.name,
            hostnames: r.hostnames,
            brand_colour: r.brand_colour,
        }
    }
}

/// `GET /control/v1/sites`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SiteList {
    pub sites: Vec<Site>,
}

/// `POST /control/v1/tokens`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    pub name: String,
    pub target: TokenTarget,
}

/// `GET /control/v1/tokens?site=KEY`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenListQuery {
    /// A site's slug or id; every token when absent.
    pub site: Option<String>,
}

/// `GET /control/v1/tokens`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TokenList {
    pub tokens: Vec<ApiToken>,
}

/// `GET /control/v1/plugins`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PluginList {
    pub plugins: Vec<InstalledPlugin>,
}

/// `POST /control/v1/sites/{key}/plugins/{plugin}/enable`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnablePluginRequest {
    pub version: Option<String>,
}

/// `POST /control/v1/sites/{key}/plugins/{plugin}/disable`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisablePluginRequest {
    #[serde(default)]
    pub force: bool,
}

/// `POST /control/v1/sites/{key}/plugins/{plugin}/upgrade`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpgradePluginRequest {
    pub version: String,
}

/// `?force=true` of `DELETE /control/v1/plugins/{plugin}/versions/{version}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForceQuery {
    #[serde(default)]
    pub force: bool,
}

/// `{key}/plugins/{plugin}` of a control path.
#[derive(Debug, Deserialize)]
struct SitePluginPath {
    key: String,
    plugin: String,
}

/// `{plugin}/versions/{version}` of a control path.
#[derive(Debug, Deserialize)]
struct VersionPath {
    plugin: String,
    version: String,
}

/// `{id}` of a control path.
#[derive(Debug, Deserialize)]
struct IdPath {
    id: u64,
}

/// `GET /control/v1/status`: which server answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControlStatus {
    pub version: String,
    pub pid: u32,
    pub data_dir: String,
}

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    let json = web::JsonConfig::default()
        .limit(MAX_BODY)
        .error_handler(|e, _| {
            let e = match e {
                JsonPayloadError::Overflow { limit }
                | JsonPayloadError::OverflowKnownLength { limit, .. } => {
                    HttpError::PayloadTooLarge { limit }
                }
                other => {
                    HttpError::BadRequest(format!("the body is not the expected JSON: {other}"))
                }
            };
            JsonError(e).into()
        });
    let path = web::PathConfig::default().error_handler(|e, _| {
        JsonError(HttpError::NotFoundPath(format!("no such resource: {e}"))).into()
    });
    let query = web::QueryConfig::default().error_handler(|e, _| {
        JsonError(HttpError::BadRequest(format!(
            "the query string does not fit: {e}"
        )))
        .into()
    });
    cfg.service(
        web::scope("/control/v1")
            .app_data(json)
            .app_data(path)
            .app_data(query)
            .route("/status", web::get().to(status))
            .route("/sites", web::get().to(list_sites))
            .route("/sites", web::post().to(create_site))
            .route("/sites/{key}", web::delete().to(delete_site))
            .route("/sites/{key}/suspend", web::post().to(suspend_site))
            .route("/sites/{key}/resume", web::post().to(resume_site))
            .route("/sites/{key}/demo", web::post().to(load_demo))
            .route("/sites/{key}/reconcile", web::post().to(reconcile_site))
            .route("/sites/{key}/imports/{kind}", web::post().to(import_csv))
            .route("/tokens", web::get().to(list_tokens))
            .route("/tokens", web::post().to(create_token))
            .route("/tokens/{id}", web::delete().to(revoke_token))
            .route("/plugins", web::get().to(list_plugins))
            .route("/plugins", web::post().to(install_plugin))
            .route(
                "/plugins/{plugin}/versions/{version}",
                web::delete().to(uninstall_plugin),
            )
            .route(
                "/sites/{key}/plugins/{plugin}/enable",
                web::post().to(enable_plugin),
            )
            .route(
                "/sites/{key}/plugins/{plugin}/disable",
                web::post().to(disable_plugin),
            )
            .route(
                "/sites/{key}/plugins/{plugin}/upgrade",
                web::post().to(upgrade_plugin),
            )
            .default_service(web::to(no_such_endpoint)),
    );
}

async fn no_such_endpoint() -> Result<HttpResponse, JsonError> {
    Err(HttpError::NoSuchPage.into())
}

/// The operator at the console, proven by the control token.
pub(crate) struct ConsoleOperator {
    principal: Principal,
    state: web::Data<AppState>,
}

impl FromRequest for ConsoleOperator {
    type Error = JsonError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, JsonError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let checked = check_token(req);
        Box::pin(async move {
            let state = checked?;
            let services = state.services().clone();
            let principal = blocking(move || services.console_operator()).await?;
            Ok(ConsoleOperator { principal, state })
        })
    }
}

fn check_token(req: &HttpRequest) -> Result<web::Data<AppState>, JsonError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| HttpError::Internal("AppState is not registered".into()))?;
    // Without a token the control API does not exist on this server.
    let Some(token) = &state.control_token else {
        return Err(HttpError::NoSuchPage.into());
    };
    // Defence in depth behind the token: a reverse proxy or an open port
    // must not expose the console. The server's own address counts as this
    // machine when it listens on a non-loopback interface.
    let local = req.app_config().local_addr().ip();
    match req.peer_addr() {
        Some(peer) if peer.ip().is_loopback() || peer.ip() == local => {}
        _ => return Err(HttpError::NotLocal.into()),
    }
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match presented {
        Some(p) if token.matches(p) => Ok(state),
        _ => Err(HttpError::Unauthorized.into()),
    }
}

async fn status(op: ConsoleOperator) -> web::Json<ControlStatus> {
    web::Json(ControlStatus {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        pid: std::process::id(),
        data_dir: op.state.services().data_dir().display().to_string(),
    })
}

async fn list_sites(op: ConsoleOperator) -> Result<web::Json<SiteList>, JsonError> {
    let services = op.state.services().clone();
    let sites = blocking(move || services.list_sites(&op.principal)).await?;
    Ok(web::Json(SiteList { sites }))
}

async fn create_site(
    op: ConsoleOperator,
    body: web::Json<CreateSiteRequest>,
) -> Result<HttpResponse, JsonError> {
    let services = op.state.services().clone();
    let new = NewSite::from(body.into_inner());
    let site = blocking(move || services.create_site(&op.principal, new)).await?;
    Ok(HttpResponse::Created().json(site))
}

async fn suspend_site(
    op: ConsoleOperator,
    key: web::Path<String>,
) -> Result<web::Json<Site>, JsonError> {
    let services = op.state.services().clone();
    let site = blocking(move || services.suspend_site(&op.principal, &key)).await?;
    Ok(web::Json(site))
}

async fn resume_site(
    op: ConsoleOperator,
    key: web::Path<String>,
) -> Result<web::Json<Site>, JsonError> {
    let services = op.state.services().clone();
    let site = blocking(move || services.resume_site(&op.principal, &key)).await?;
    Ok(web::Json(site))
}

async fn delete_site(
    op: ConsoleOperator,
    key: web::Path<String>,
) -> Result<web::Json<Site>, JsonError> {
    let services = op.state.services().clone();
    let site = blocking(move || services.delete_site(&op.principal, &key)).await?;
    Ok(web::Json(site))
}

async fn load_demo(
    op: ConsoleOperator,
    key: web::Path<String>,
) -> Result<web::Json<DemoReport>, JsonError> {
    let services = op.state.services().clone();
    let report = blocking(move || demo::load_into(&services, &op.principal, &key)).await?;
    Ok(web::Json(report))
}

/// `?course=&dry_run=` of a site reconcile.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReconcileQuery {
    /// A course id or shortname; default every course.
    pub course: Option<String>,
    #[serde(default)]
    pub dry_run: bool,
}

async fn reconcile_site(
    op: ConsoleOperator,
    key: web::Path<String>,
    query: web::Query<ReconcileQuery>,
) -> Result<web::Json<Vec<InstanceReconcile>>, JsonError> {
    let services = op.state.services().clone();
    let q = query.into_inner();
    let done = blocking(move || {
        services.reconcile_site_by_key(&op.principal, &key, q.course.as_deref(), q.dry_run)
    })
    .await?;
    Ok(web::Json(done))
}

/// `?dry_run=&max_bytes=` of a CSV import.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    #[serde(default)]
    pub dry_run: bool,
    /// The size limit the console asks for; default the import default.
    pub max_bytes: Option<usize>,
}

/// The body is the CSV file itself, up to the size the console asked for.
async fn import_csv(
    op: ConsoleOperator,
    path: web::Path<(String, String)>,
    query: web::Query<ImportQuery>,
    body: web::Payload,
) -> Result<web::Json<ImportReport>, JsonError> {
    let (key, kind) = path.into_inner();
    let kind: ImportKind = kind.parse().map_err(HttpError::from)?;
    let options = ImportOptions {
        max_bytes: query.max_bytes.unwrap_or(bulk::DEFAULT_MAX_BYTES),
        ..ImportOptions::default()
    };
    let bytes = body
        .to_bytes_limited(options.max_bytes)
        .await
        .map_err(|_| HttpError::PayloadTooLarge {
            limit: options.max_bytes,
        })?
        .map_err(|e| HttpError::BadRequest(format!("the body could not be read: {e}")))?;
    let services = op.state.services().clone();
    let dry_run = query.dry_run;
    let report = blocking(move || {
        services.import_csv_by_key(&op.principal, &key, kind, &bytes, dry_run, &options)
    })
    .await?;
    Ok(web::Json(report))
}

async fn list_tokens(
    op: ConsoleOperator,
    query: web::Query<TokenListQuery>,
) -> Result<web::Json<TokenList>, JsonError> {
    let services = op.state.services().clone();
    let site = query.into_inner().site;
    let tokens =
        blocking(move || services.list_tokens_by_key(&op.principal, site.as_deref())).await?;
    Ok(web::Json(TokenList { tokens }))
}

/// Answers the new token with its secret: the one time it is shown.
async fn create_token(
    op: ConsoleOperator,
    body: web::Json<CreateTokenRequest>,
) -> Result<HttpResponse, JsonError> {
    let services = op.state.services().clone();
    let CreateTokenRequest { name, target } = body.into_inner();
    let created =
        blocking(move || services.create_token_for(&op.principal, &name, &target)).await?;
    Ok(HttpResponse::Created().json(created))
}

async fn revoke_token(
    op: ConsoleOperator,
    path: web::Path<IdPath>,
) -> Result<web::Json<ApiToken>, JsonError> {
    let services = op.state.services().clone();
    let id = ApiTokenId(path.id);
    let token = blocking(move || services.revoke_token_as_operator(&op.principal, id)).await?;
    Ok(web::Json(token))
}

async fn list_plugins(op: ConsoleOperator) -> Result<web::Json<PluginList>, JsonError> {
    let services = op.state.services().clone();
    let plugins = blocking(move || services.list_plugins(&op.principal)).await?;
    Ok(web::Json(PluginList { plugins }))
}

/// The body is the component itself (`application/wasm`), up to the
/// plugin size limit rather than the control API's JSON limit.
async fn install_plugin(
    op: ConsoleOperator,
    body: web::Payload,
) -> Result<web::Json<PluginVersion>, JsonError> {
    let bytes = body
        .to_bytes_limited(MAX_PLUGIN_BYTES)
        .await
        .map_err(|_| HttpError::PayloadTooLarge {
            limit: MAX_PLUGIN_BYTES,
        })?
        .map_err(|e| HttpError::BadRequest(format!("the body could not be read: {e}")))?;
    let services = op.state.services().clone();
    let installed = blocking(move || services.install_plugin(&op.principal, &bytes)).await?;
    Ok(web::Json(installed))
}

async fn uninstall_plugin(
    op: ConsoleOperator,
    path: web::Path<VersionPath>,
    query: web::Query<ForceQuery>,
) -> Result<web::Json<PluginVersion>, JsonError> {
    let services = op.state.services().clone();
    let VersionPath { plugin, version } = path.into_inner();
    let force = query.force;
    let removed =
        blocking(move || services.uninstall_plugin(&op.principal, &plugin, &version, force))
            .await?;
    Ok(web::Json(removed))
}

async fn enable_plugin(
    op: ConsoleOperator,
    path: web::Path<SitePluginPath>,
    body: web::Json<EnablePluginRequest>,
) -> Result<web::Json<SitePlugin>, JsonError> {
    let services = op.state.services().clone();
    let SitePluginPath { key, plugin } = path.into_inner();
    let version = body.into_inner().version;
    let record =
        blocking(move || services.enable_plugin(&op.principal, &key, &plugin, version.as_deref()))
            .await?;
    Ok(web::Json(record))
}

async fn disable_plugin(
    op: ConsoleOperator,
    path: web::Path<SitePluginPath>,
    body: web::Json<DisablePluginRequest>,
) -> Result<web::Json<SitePlugin>, JsonError> {
    let services = op.state.services().clone();
    let SitePluginPath { key, plugin } = path.into_inner();
    let force = body.into_inner().force;
    let record =
        blocking(move || services.disable_plugin(&op.principal, &key, &plugin, force)).await?;
    Ok(web::Json(record))
}

async fn upgrade_plugin(
    op: ConsoleOperator,
    path: web::Path<SitePluginPath>,
    body: web::Json<UpgradePluginRequest>,
) -> Result<web::Json<SitePlugin>, JsonError> {
    let services = op.state.services().clone();
    let SitePluginPath { key, plugin } = path.into_inner();
    let version = body.into_inner().version;
    let record =
        blocking(move || services.upgrade_plugin(&op.principal, &key, &plugin, &version)).await?;
    Ok(web::Json(record))
}
