//! The JSON API (`/api/v1/…`): the same services the pages use, for
//! scripts and other systems.
//!
//! Site routes are mounted twice, like the pages: under `/api/v1` on a
//! site's own host name and under `/s/{slug}/api/v1`. Operator routes
//! (`/api/v1/sites`, `/api/v1/operator/…`) answer on any host; the `charon`
//! commands use them too (see `console`), through [`wire`]. Their paths
//! must not collide with a site route's, which `/api/v1` serves too
//! (hence `/api/v1/operator/tokens` beside a site's `/tokens`). Every route
//! authenticates a bearer token ([`auth`]) and then calls one service
//! function; the services authorise. A route that takes a JSON body reads
//! it only after the services said the caller may make the call
//! ([`body`]), so a refusal never depends on, nor describes, the body. Errors are always
//! `{"error":{"code":…,"message":…,"field":…}}` with the status of
//! [`HttpError::status`].
//!
//! The OpenAPI document is generated from the handlers' `#[utoipa::path]`
//! attributes by registering routes through `utoipa_actix_web`: a handler
//! cannot be routed without being documented, because the same
//! `configure` functions build the router and the document.
//!
//! What goes over the wire is this module's own: request bodies beside
//! their handlers, answers (and the values bodies carry) in [`views`],
//! converted from the records and DTOs the services return. A handler
//! never answers a domain record or a service DTO as JSON, so a storage
//! change cannot reach clients unseen; the committed OpenAPI snapshot
//! (`tests/snapshot.rs`) shows in review every change that does.

mod announcements;
mod assignments;
mod audit;
mod auth;
mod body;
mod content;
mod courses;
mod discussions;
mod enrolments;
mod gradebook;
mod groups;
mod imports;
mod listing;
mod mail;
mod mass_enrolments;
mod method_runs;
mod operator;
mod paging;
mod plugins;
mod profile_fields;
mod segment_rules;
mod segments;
mod shared_responses;
mod sites;
mod tokens;
mod unrouted;
mod users;
pub mod views;

#[cfg(test)]
mod tests;

use std::sync::LazyLock;

use actix_web::error::JsonPayloadError;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::server::{ServerBuilder, ServerVariableBuilder};
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_actix_web::{AppExt, scope};

use super::{HttpError, JsonError};

pub(crate) use auth::{ApiCaller, SiteApi};
pub(crate) use body::JsonBody;

/// Request bodies larger than this are refused with 413 before parsing.
pub const MAX_BODY: usize = 1024 * 1024;

/// The default and largest page sizes of collections.
pub const DEFAULT_LIMIT: usize = 50;

pub type ApiResult<T> = Result<T, JsonError>;

/// Mounts the API: `/api/v1/…` (operator routes and, by host name, site
/// routes) and `/s/{slug}/api/v1/…` (site routes by prefix). Call before
/// the pages' `/s/{slug}` scope so it is matched first.
pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        scope::scope("/s/{slug}/api/v1")
            .app_data(query_config())
            .app_data(path_config())
            .configure(site_routes)
            .default_service(web::to(no_such_endpoint)),
    )
    .service(
        scope::scope("/api/v1")
            .app_data(query_config())
            .app_data(path_config())
            .route("/openapi.json", web::get().to(openapi_json))
            .configure(operator_routes)
            .configure(site_routes)
            .default_service(web::to(no_such_endpoint)),
    );
}

/// Routes about one site; the site comes from the host name or the prefix.
fn site_routes(cfg: &mut ServiceConfig) {
    segments::routes(cfg);
    segment_rules::routes(cfg);
    users::routes(cfg);
    profile_fields::routes(cfg);
    courses::routes(cfg);
    content::routes(cfg);
    gradebook::routes(cfg);
    enrolments::routes(cfg);
    method_runs::routes(cfg);
    groups::routes(cfg);
    mass_enrolments::routes(cfg);
    imports::routes(cfg);
    audit::routes(cfg);
    announcements::routes(cfg);
    discussions::routes(cfg);
    assignments::routes(cfg);
    tokens::site_routes(cfg);
    plugins::site_routes(cfg);
    mail::routes(cfg);
}

/// Routes for operators, on any host.
fn operator_routes(cfg: &mut ServiceConfig) {
    sites::routes(cfg);
    operator::routes(cfg);
    tokens::operator_routes(cfg);
    plugins::operator_routes(cfg);
}

/// The request and answer shapes of the operator routes, for a client in
/// this crate (the `charon` commands' `console`) to speak the API with the
/// very types its handlers read and write: one definition of the wire. The
/// answers are [`views`], which convert back into the records they were
/// made from.
pub mod wire {
    pub use super::Page;
    pub use super::imports::ImportQuery;
    pub use super::listing::ListQuery;
    pub use super::mass_enrolments::MassEnrol;
    pub use super::operator::SiteReconcileByKeyQuery;
    pub use super::paging::Limit;
    pub use super::plugins::{DisablePlugin, EnablePlugin, ForceQuery, UpgradePlugin};
    pub use super::sites::CreateSite;
    pub use super::tokens::{CreateOperatorToken, CreateSiteUserToken};
    pub use super::views::{
        CourseGroupIdView, CourseIdView, CreatedTokenView, DemoReportView, HostStatusView,
        ImportReportView, InstalledPluginView, MassEnrolmentFiguresView, MassEnrolmentPreviewView,
        MassEnrolmentView, MethodReconcileView, Mirror, PluginVersionView, RoleView,
        SitePluginView, SiteView, TokenScopeView, TokenView,
    };
}

/// The paths of the operator routes in [`openapi`]'s document (with
/// `/api/v1`); every other path there is a site route.
pub(crate) fn operator_paths() -> std::collections::BTreeSet<String> {
    let (_, doc) = actix_web::App::new()
        .into_utoipa_app()
        .service(scope::scope("/api/v1").configure(operator_routes))
        .split_for_parts();
    doc.paths.paths.into_keys().collect()
}

/// The OpenAPI 3.1 document, built once from the same `configure`
/// functions that build the router.
pub fn openapi() -> &'static utoipa::openapi::OpenApi {
    static DOC: LazyLock<utoipa::openapi::OpenApi> = LazyLock::new(|| {
        let (_, mut doc) = actix_web::App::new()
            .into_utoipa_app()
            .service(
                scope::scope("/api/v1")
                    .configure(operator_routes)
                    .configure(site_routes),
            )
            .split_for_parts();
        describe_responses(&mut doc);
        shared_responses::attach(&mut doc, &operator_paths());
        shared_responses::declare_id_ranges(&mut doc);
        doc.info.title = "Charon API".into();
        doc.info.version = "1".into();
        doc.info.description = Some(
            "The JSON API of a Charon host. Site routes are served on each site's host name, \
             and under `/s/{site}` on any host name; operator routes on any host name. \
             Authenticate with `Authorization: Bearer <token>`."
                .into(),
        );
        doc.servers = Some(vec![
            ServerBuilder::new()
                .url("/")
                .description(Some("a site by its host name"))
                .build(),
            ServerBuilder::new()
                .url("/s/{site}")
                .description(Some("a site by its slug"))
                .parameter(
                    "site",
                    ServerVariableBuilder::new()
                        .default_value("default")
                        .description(Some("the site's slug")),
                )
                .build(),
        ]);
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("an API token: `chr_…`"))
                    .build(),
            ),
        );
        doc.security = Some(vec![utoipa::openapi::security::SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
        doc
    });
    &DOC
}

/// utoipa leaves a response's `description` out when its attribute gives
/// none, but OpenAPI requires one: say what the status means here.
fn describe_responses(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::RefOr;
    for item in doc.paths.paths.values_mut() {
        for op in shared_responses::operations_mut(item) {
            for (status, response) in &mut op.responses.responses {
                if let RefOr::T(r) = response
                    && r.description.is_empty()
                {
                    r.description = match status.as_str() {
                        "200" => "OK",
                        "201" => "created",
                        "204" => "done; no content",
                        "400" => "the request cannot be read",
                        "401" => "no valid API token",
                        "403" => "the token's principal may not do this",
                        "404" => "not found",
                        "409" => "conflicts with the current state",
                        "422" => "invalid input",
                        "502" => "an enrolment-method plugin failed",
                        _ => "see the status code",
                    }
                    .to_owned();
                }
            }
        }
    }
}

async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(openapi())
}

async fn no_such_endpoint(req: actix_web::HttpRequest) -> ApiResult<HttpResponse> {
    Err(unrouted::refusal(&req).into())
}

fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|e, _| {
        JsonError(HttpError::BadRequest(format!(
            "the query string does not fit: {e}"
        )))
        .into()
    })
}

fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|e, req| {
        // `PATCH /announcements/preview` reaches `PATCH /announcements/{id}`
        // and fails to read "preview" as an id; but the path is the literal
        // one, which answers POST only: 405, as an unrouted request gets.
        match unrouted::refusal(req) {
            refused @ HttpError::MethodNotAllowed { .. } => JsonError(refused).into(),
            _ => JsonError(HttpError::NotFoundPath(format!("no such resource: {e}"))).into(),
        }
    })
}

/// A raw body (a component, a CSV file) of at most `limit` bytes: 413
/// when it is declared or counted larger, without keeping more than
/// `limit` in memory; 503 when every upload slot is busy.
pub(crate) async fn read_body(
    req: &HttpRequest,
    body: web::Payload,
    limit: usize,
) -> Result<web::Bytes, HttpError> {
    let _permit = crate::http::body::upload_permit(req)?;
    read_small_body(crate::http::body::declared_length(req), body, limit).await
}

/// A body of at most `limit` bytes (a JSON document), without an upload
/// slot: 413 when it is declared or counted larger, never more than
/// `limit` kept.
pub(crate) async fn read_small_body(
    declared: Option<usize>,
    body: web::Payload,
    limit: usize,
) -> Result<web::Bytes, HttpError> {
    match crate::http::body::read_limited(declared, body, limit, limit).await? {
        crate::http::body::Limited::Within(bytes) => Ok(bytes),
        crate::http::body::Limited::TooLarge(_) => Err(HttpError::PayloadTooLarge { limit }),
    }
}

pub(crate) fn body_error(e: JsonPayloadError) -> HttpError {
    match e {
        JsonPayloadError::Overflow { limit }
        | JsonPayloadError::OverflowKnownLength { limit, .. } => {
            HttpError::PayloadTooLarge { limit }
        }
        JsonPayloadError::ContentType => HttpError::UnsupportedMediaType,
        JsonPayloadError::Deserialize(e) => match e.classify() {
            serde_json::error::Category::Data => {
                let message = e.to_string();
                HttpError::BadField {
                    field: field_of(&message),
                    message: strip_position(&message),
                }
            }
            _ => HttpError::BadRequest(format!("the body is not valid JSON: {e}")),
        },
        JsonPayloadError::Payload(e) => crate::http::body::read_error(e, "body"),
        other => HttpError::BadRequest(format!("the body could not be read: {other}")),
    }
}

/// serde names the field in backticks: "missing field `name`",
/// "unknown field `colour`, expected one of …".
fn field_of(message: &str) -> Option<String> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    let field = &message[start..start + len];
    (message.starts_with("missing field") || message.starts_with("unknown field"))
        .then(|| field.to_owned())
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// `{id}` of a path. Extracted by name, because under `/s/{slug}/…` the
/// path also holds the slug.
#[derive(Debug, Deserialize)]
pub struct IdPath {
    pub id: u64,
}

/// `{id}/…/{user}` of a path.
#[derive(Debug, Deserialize)]
pub struct IdUserPath {
    pub id: u64,
    pub user: u64,
}

/// `?cursor=…&limit=…&q=…`: the paging and search parameters of every
/// collection (see [`paging`]).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// `next_cursor` of the previous page; empty or absent for the first page.
    #[param(pattern = "^[0-9]{0,19}$")]
    pub cursor: Option<String>,
    /// Page size, 1 to 1000 (default 50); anything else is refused (422).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    pub limit: Option<paging::Limit>,
    /// Case-insensitive search text, where the collection is searchable.
    pub q: Option<String>,
}

impl PageQuery {
    /// The page size asked for, or a 422 naming the parameter.
    pub fn limit(&self) -> Result<usize, HttpError> {
        paging::Limit::checked(self.limit.as_ref(), DEFAULT_LIMIT)
    }

    /// The cursor as an id, or a 422 naming the parameter.
    pub fn cursor_id<T: std::str::FromStr>(&self) -> Result<Option<T>, HttpError> {
        paging::cursor(self.cursor.as_deref(), "this collection")
    }
}

/// One page of a collection. Pass `next_cursor` as `cursor` for the next;
/// it is absent on the last page.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    pub fn from_service<U, C: ToString>(
        page: crate::services::Page<U, C>,
        map: impl FnMut(U) -> T,
    ) -> Self {
        Page {
            items: page.items.into_iter().map(map).collect(),
            next_cursor: page.next.map(|c| c.to_string()),
        }
    }
}

/// The answer to a bulk membership change.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MembershipChange {
    /// Users whose membership changed.
    pub changed: u64,
    /// Users already in the wanted state.
    pub unchanged: u64,
}

impl From<crate::services::segments::MembershipChange> for MembershipChange {
    fn from(c: crate::services::segments::MembershipChange) -> Self {
        Self {
            changed: c.changed,
            unchanged: c.unchanged,
        }
    }
}

/// A list of users to add or remove in one call.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserIds {
    /// At most 100,000 ids.
    pub users: Vec<views::UserIdView>,
}

pub const MAX_BULK_USERS: usize = 100_000;

impl UserIds {
    pub fn checked(self) -> Result<Vec<crate::domain::UserId>, HttpError> {
        if self.users.len() > MAX_BULK_USERS {
            return Err(HttpError::BadField {
                field: Some("users".into()),
                message: format!(
                    "{} users in one call; the maximum is {MAX_BULK_USERS}",
                    self.users.len()
                ),
            });
        }
        Ok(views::Mirror::mirror(self.users))
    }
}
