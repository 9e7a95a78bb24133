//! What an operator does to one site named by slug or id
//! (`/sites/{key}/…`, on any host) that the site routes do not serve the
//! way an operator names things: load the demo organisation, reconcile by
//! course id or shortname, import a CSV file; and `/operator/status`, which
//! server answers. The `charon` commands use these routes like any script
//! with an operator token (see `console`).

use actix_web::HttpRequest;
use actix_web::{get, post, web};
use serde::{Deserialize, Serialize};
use utoipa_actix_web::service_config::ServiceConfig;

use super::imports::{CsvUpload, ImportQuery};
use super::sites::KeyPath;
use super::views::{
    DemoReportView, HostStatusView, ImportKindView, ImportReportView, MethodReconcileView, Mirror,
};
use super::{ApiCaller, ApiResult};
use crate::demo;
use crate::http::{ErrorBody, blocking};

pub(super) fn routes(cfg: &mut ServiceConfig) {
    cfg.service(host_status)
        .service(load_demo)
        .service(reconcile_site)
        .service(import_csv);
}

/// `{key}/imports/{kind}` of a path.
#[derive(Debug, Deserialize)]
pub struct KeyKindPath {
    pub key: String,
    pub kind: String,
}

/// Which enrolment methods a site reconcile runs, the course named as on the
/// command line.
#[derive(Debug, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SiteReconcileByKeyQuery {
    /// Only this course's enrolment methods, by id or shortname; default
    /// every enrolment method of the site.
    pub course: Option<String>,
    /// Report what would change and write nothing (default false).
    pub dry_run: Option<bool>,
}

/// Which server answers: its version, process and data dir (operators).
#[utoipa::path(
    tag = "operator",
    responses(
        (status = 200, body = HostStatusView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    )
)]
#[get("/operator/status")]
async fn host_status(caller: ApiCaller) -> ApiResult<web::Json<HostStatusView>> {
    let ApiCaller { who, services } = caller;
    let status = blocking(move || services.host_status(&who)).await?;
    Ok(web::Json(status.into()))
}

/// Loads the demo organisation (four departments, 300 users, a compliance
/// course with a group per department) into a site, adding only what is
/// missing: loading twice changes nothing (operators). The site admin's
/// password is in the answer only when this call created the account.
#[utoipa::path(
    tag = "operator",
    params(("key" = String, Path, description = "the site's slug or id")),
    responses(
        (status = 200, body = DemoReportView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    )
)]
#[post("/sites/{key}/demo")]
async fn load_demo(
    caller: ApiCaller,
    path: web::Path<KeyPath>,
) -> ApiResult<web::Json<DemoReportView>> {
    let ApiCaller { who, services } = caller;
    let key = path.into_inner().key;
    let report = blocking(move || demo::load_into(&services, &who, &key)).await?;
    Ok(web::Json(report.into()))
}

/// Reconciles every enrolment method of a site, or of one course named by
/// id or shortname, and reports each; one that fails does not stop the
/// others (operators).
#[utoipa::path(
    tag = "operator",
    params(("key" = String, Path, description = "the site's slug or id"), SiteReconcileByKeyQuery),
    responses(
        (status = 200, description = "one entry per enrolment method", body = Vec<MethodReconcileView>),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "no such site or course", body = ErrorBody),
    )
)]
#[post("/sites/{key}/reconcile")]
async fn reconcile_site(
    caller: ApiCaller,
    path: web::Path<KeyPath>,
    query: web::Query<SiteReconcileByKeyQuery>,
) -> ApiResult<web::Json<Vec<MethodReconcileView>>> {
    let ApiCaller { who, services } = caller;
    let key = path.into_inner().key;
    let SiteReconcileByKeyQuery { course, dry_run } = query.into_inner();
    let dry_run = dry_run.unwrap_or(false);
    let done =
        blocking(move || services.reconcile_site_by_key(&who, &key, course.as_deref(), dry_run))
            .await?;
    Ok(web::Json(done.mirror()))
}

/// Imports a CSV file into a site, as its `POST /imports/{kind}` does
/// (operators): the body is the file, up to the host's import limit (`serve
/// --import-max-mib`); a file with any error changes nothing.
#[utoipa::path(
    tag = "operator",
    params(
        ("key" = String, Path, description = "the site's slug or id"),
        ("kind" = ImportKindView, Path, description = "which import"),
        ImportQuery,
    ),
    request_body(content = String, content_type = "text/csv",
        description = "the CSV file: UTF-8 with or without BOM, comma or semicolon, any line ends"),
    responses(
        (status = 200, description = "the report; `applied` says whether the file was written", body = ImportReportView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 413, description = "the file is larger than the import limit", body = ErrorBody),
        (status = 503, description = "as many uploads as the server reads at once are being read; try again after `Retry-After` seconds", body = ErrorBody),
        (status = 422, description = "no such kind of import", body = ErrorBody),
    )
)]
#[post("/sites/{key}/imports/{kind}")]
async fn import_csv(
    req: HttpRequest,
    caller: ApiCaller,
    path: web::Path<KeyKindPath>,
    query: web::Query<ImportQuery>,
    body: web::Payload,
) -> ApiResult<web::Json<ImportReportView>> {
    let ApiCaller { who, services } = caller;
    let KeyKindPath { key, kind } = path.into_inner();
    let upload = CsvUpload::read(&req, &kind, body, services.import_max_bytes()).await?;
    let dry_run = query.dry_run;
    let report = blocking(move || {
        let (kind, bytes, options) = (upload.kind, &upload.bytes, &upload.options);
        services.import_csv_by_key(&who, &key, kind, bytes, dry_run, options)
    })
    .await?;
    Ok(web::Json(report.into()))
}
