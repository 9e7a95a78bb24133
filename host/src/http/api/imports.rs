//! `/imports/{kind}`: bulk CSV imports (PRODUCT §5). The body is the file
//! itself (`text/csv`), up to the import size limit (`serve
//! --import-max-mib`, shared with the pages) rather than the JSON limit;
//! the answer is the report, also when the file has errors (then nothing
//! was written).

use actix_web::{post, web};
use serde::{Deserialize, Serialize};
use utoipa_actix_web::service_config::ServiceConfig;

use super::{ApiResult, SiteApi, read_body};
use crate::http::{ErrorBody, HttpError, blocking};
use crate::services::bulk::{ImportKind, ImportOptions, ImportReport};

pub(super) fn routes(cfg: &mut ServiceConfig) {
    cfg.service(import_csv);
}

/// `{kind}` of the path.
#[derive(Debug, Deserialize)]
pub struct KindPath {
    pub kind: String,
}

/// `?dry_run=`.
#[derive(Debug, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// Check the file and report what it would change, writing nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// Imports a CSV file: `segments`, `segment-members`, `group-members` or
/// `users` (PRODUCT §5). The whole file is checked first; a file with any
/// error changes nothing, and the report lists every error and warning
/// with its row and column. Re-applying a file changes nothing more.
#[utoipa::path(
    tag = "imports",
    params(
        ("kind" = ImportKind, Path, description = "which import"),
        ImportQuery,
    ),
    request_body(content = String, content_type = "text/csv",
        description = "the CSV file: UTF-8 with or without BOM, comma or semicolon, any line ends"),
    responses(
        (status = 200, description = "the report; `applied` says whether the file was written", body = ImportReport),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 413, description = "the file is larger than the import limit", body = ErrorBody),
        (status = 422, description = "no such kind of import", body = ErrorBody),
    )
)]
#[post("/imports/{kind}")]
async fn import_csv(
    api: SiteApi,
    path: web::Path<KindPath>,
    query: web::Query<ImportQuery>,
    body: web::Payload,
) -> ApiResult<web::Json<ImportReport>> {
    let SiteApi { who, site } = api;
    let kind: ImportKind = path.kind.parse().map_err(HttpError::from)?;
    let limit = site.import_max_bytes();
    let bytes = read_body(body, limit).await?;
    let dry_run = query.dry_run;
    let options = ImportOptions {
        max_bytes: limit,
        ..ImportOptions::default()
    };
    let report =
        blocking(move || site.import_csv_with(&who, kind, &bytes, dry_run, &options)).await?;
    Ok(web::Json(report))
}
