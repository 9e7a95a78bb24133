//! `/imports/{kind}`: bulk CSV imports (PRODUCT §5). The body is the file
//! itself (`text/csv`), up to the import size limit (`serve
//! --import-max-mib`, shared with the pages) rather than the JSON limit;
//! the answer is the report, also when the file has errors (then nothing
//! was written).

use actix_web::HttpRequest;
use actix_web::{post, web};
use serde::{Deserialize, Serialize};
use utoipa_actix_web::service_config::ServiceConfig;

use super::views::{ImportKindView, ImportReportView};
use super::{ApiResult, SiteApi, read_body};
use crate::http::{ErrorBody, HttpError, blocking};
use crate::services::bulk::{ImportKind, ImportOptions};

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
        ("kind" = ImportKindView, Path, description = "which import"),
        ImportQuery,
    ),
    request_body(content = String, content_type = "text/csv",
        description = "the CSV file: UTF-8 with or without BOM, comma or semicolon, any line ends"),
    responses(
        (status = 200, description = "the report; `applied` says whether the file was written", body = ImportReportView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 413, description = "the file is larger than the import limit", body = ErrorBody),
        (status = 503, description = "as many uploads as the server reads at once are being read; try again after `Retry-After` seconds", body = ErrorBody),
        (status = 422, description = "no such kind of import", body = ErrorBody),
    )
)]
#[post("/imports/{kind}")]
async fn import_csv(
    req: HttpRequest,
    api: SiteApi,
    path: web::Path<KindPath>,
    query: web::Query<ImportQuery>,
    body: web::Payload,
) -> ApiResult<web::Json<ImportReportView>> {
    let SiteApi { who, site } = api;
    let upload = CsvUpload::read(&req, &path.kind, body, site.import_max_bytes()).await?;
    let dry_run = query.dry_run;
    let report = blocking(move || {
        site.import_csv_with(&who, upload.kind, &upload.bytes, dry_run, &upload.options)
    })
    .await?;
    Ok(web::Json(report.into()))
}

/// What an import route reads before it calls the services: the kind, and
/// the file up to the host's import limit (the services check it again).
pub(super) struct CsvUpload {
    pub kind: ImportKind,
    pub bytes: web::Bytes,
    pub options: ImportOptions,
}

impl CsvUpload {
    pub(super) async fn read(
        req: &HttpRequest,
        kind: &str,
        body: web::Payload,
        limit: usize,
    ) -> Result<Self, HttpError> {
        let kind: ImportKind = kind.parse().map_err(HttpError::from)?;
        let bytes = read_body(req, body, limit).await?;
        let options = ImportOptions {
            max_bytes: limit,
            ..ImportOptions::default()
        };
        Ok(Self {
            kind,
            bytes,
            options,
        })
    }
}
