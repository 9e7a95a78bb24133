//! The gradebook (issue 19): items and categories
//! (`/courses/{id}/grade-items`, `/grade-items/{id}`), the grader report
//! and bulk entry (`/courses/{id}/grades`), a learner's own grades
//! (`/courses/{id}/my-grades`), the per-group statistics
//! (`/courses/{id}/grade-statistics`), a CSV import
//! (`/courses/{id}/grade-imports`) and the exports
//! (`/courses/{id}/grade-exports/{format}`).

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

use super::enrolments::present;
use super::imports::ImportQuery;
use super::views::{
    AggregationView, GradeImportReportView, GradeItemIdView, GradeItemListView, GradeItemView,
    GraderReportView, GradesSavedView, GroupStatisticsView, Mirror, TimestampView, UserIdView,
    UserReportView,
};
use super::{ApiResult, IdPath, JsonBody, SiteApi, read_body};
use crate::domain::{CourseGroupId, CourseId, GradeItemId, Timestamp};
use crate::http::{ErrorBody, blocking};
use crate::services::gradebook::entry::GradeChange;
use crate::services::gradebook::export::ExportKind;
use crate::services::gradebook::report::{DEFAULT_PER_PAGE, MAX_PER_PAGE, ReportQuery, SortKey};
use crate::services::gradebook::{GradeItemDraft, GradeItemUpdate, NewItemKind};
use crate::services::{Ask, Need};

pub(super) fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_items)
        .service(create_item)
        .service(get_item)
        .service(update_item)
        .service(delete_item)
        .service(grader_report)
        .service(save_grades)
        .service(my_grades)
        .service(statistics)
        .service(import_grades)
        .service(export_gradebook);
}

/// What a new item is.
#[derive(Copy, Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NewGradeItemKind {
    /// Grades entered by teachers.
    Manual,
    /// A category, with its total.
    Category,
}

fn default_max() -> f64 {
    100.0
}

fn one() -> f64 {
    1.0
}

/// A new manual item or category.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGradeItem {
    pub kind: NewGradeItemKind,
    /// One line, at most 254 characters.
    pub name: String,
    /// Manual items: grades lie within 0 to this (0.01 to 100,000;
    /// default 100). A category's maximum is computed.
    #[serde(default = "default_max")]
    #[schema(minimum = 0.01, maximum = 100000)]
    pub max_grade: f64,
    /// At or above it a learner passes; at most the maximum.
    #[schema(minimum = 0, maximum = 100000)]
    pub pass_grade: Option<f64>,
    pub due_at: Option<TimestampView>,
    /// Manual items: the category it counts in.
    pub category: Option<GradeItemIdView>,
    /// Its weight in a weighted mean (0 to 1,000; default 1).
    #[serde(default = "one")]
    #[schema(minimum = 0, maximum = 1000)]
    pub weight: f64,
    /// Categories: how their total is computed (default `mean`).
    pub aggregation: Option<AggregationView>,
    #[serde(default)]
    pub hidden: bool,
}

/// Changes to an item; absent fields stay as they are, `null` clears
/// `pass_grade`, `due_at` or `category`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateGradeItem {
    pub name: Option<String>,
    #[schema(minimum = 0.01, maximum = 100000)]
    pub max_grade: Option<f64>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<f64>, minimum = 0, maximum = 100000)]
    pub pass_grade: Option<Option<f64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<TimestampView>)]
    pub due_at: Option<Option<TimestampView>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<GradeItemIdView>)]
    pub category: Option<Option<GradeItemIdView>>,
    #[schema(minimum = 0, maximum = 1000)]
    pub weight: Option<f64>,
    pub aggregation: Option<AggregationView>,
    pub hidden: Option<bool>,
}

/// One grade to set; `value: null` clears it (on a total: removes the
/// override).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GradeWrite {
    pub user: UserIdView,
    pub item: GradeItemIdView,
    #[schema(minimum = 0, maximum = 100000)]
    pub value: Option<f64>,
}

/// Grades to set in one transaction: all are written or, if any is
/// refused, none (`422 grades_rejected` lists each refusal in `cells`).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaveGrades {
    pub grades: Vec<GradeWrite>,
}

/// `?group=&sort=&desc=&page=&per_page=` of the grader report.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportParams {
    /// One group (of those the caller sees); absent: all they see.
    #[param(minimum = 1, maximum = 9223372036854775807_i64)]
    pub group: Option<u64>,
    /// A grade item id to sort by; absent: by last then first name.
    #[param(minimum = 1, maximum = 9223372036854775807_i64)]
    pub sort: Option<u64>,
    /// Descending.
    #[serde(default)]
    pub desc: bool,
    /// From 1.
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u32>,
    /// 1 to 1,000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub per_page: Option<u32>,
}

/// `?group=` of an export.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// One group (of those the caller sees); absent: all they see.
    #[param(minimum = 1, maximum = 9223372036854775807_i64)]
    pub group: Option<u64>,
}

/// Which export.
#[derive(Copy, Clone, Debug, Deserialize, utoipa::ToSchema)]
pub enum ExportFormat {
    /// The grader report as CSV.
    #[serde(rename = "grades.csv")]
    GradesCsv,
    /// The per-group statistics as CSV.
    #[serde(rename = "statistics.csv")]
    StatisticsCsv,
    /// Both, as an Excel workbook (sheets "Grades" and "Statistics").
    #[serde(rename = "gradebook.xlsx")]
    Xlsx,
}

/// `{id}/{format}` of an export's path.
#[derive(Debug, Deserialize)]
pub struct ExportPath {
    pub id: u64,
    pub format: ExportFormat,
}

fn staff(course: CourseId) -> Ask {
    Ask::Site(Need::TeachCourse(course))
}

/// A course's grade items in gradebook order (its teachers).
#[utoipa::path(
    tag = "gradebook",
    params(("id" = u64, Path, description = "course id")),
    responses((status = 200, body = GradeItemListView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[get("/courses/{id}/grade-items")]
async fn list_items(
    api: SiteApi,
    path: web::Path<IdPath>,
) -> ApiResult<web::Json<GradeItemListView>> {
    let SiteApi { who, site } = api;
    let course = CourseId(path.id);
    let setup = blocking(move || site.gradebook_setup(&who, course)).await?;
    Ok(web::Json(setup.into()))
}

/// Adds a manual item or a category (editing teachers, site admins).
#[utoipa::path(
    tag = "gradebook",
    params(("id" = u64, Path, description = "course id")),
    request_body = CreateGradeItem,
    responses((status = 201, body = GradeItemView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
#[post("/courses/{id}/grade-items")]
async fn create_item(
    api: SiteApi,
    path: web::Path<IdPath>,
    body: JsonBody<CreateGradeItem>,
) -> ApiResult<HttpResponse> {
    let course = CourseId(path.id);
    let b = body
        .read(
            api.authorise(Ask::Site(Need::ConfigureCourse(course)))
                .await?,
        )
        .await?;
    let SiteApi { who, site } = api;
    let draft = GradeItemDraft {
        kind: match b.kind {
            NewGradeItemKind::Manual => NewItemKind::Manual,
            NewGradeItemKind::Category => NewItemKind::Category,
        },
        name: b.name,
        max_grade: b.max_grade,
        pass_grade: b.pass_grade,
        due_at: b.due_at.map(|t| Timestamp(t.0)),
        parent: b.category.map(Mirror::mirror),
        weight: b.weight,
        aggregation: b.aggregation.map(Mirror::mirror).unwrap_or_default(),
        hidden: b.hidden,
    };
    let view = blocking(move || {
        let item = site.create_grade_item(&who, course, draft)?;
        site.get_grade_item(&who, item.id)
    })
    .await?;
    Ok(HttpResponse::Created().json(GradeItemView::from(&view)))
}

/// One grade item (the course's teachers).
#[utoipa::path(
    tag = "gradebook",
    params(("id" = u64, Path, description = "grade item id")),
    responses((status = 200, body = GradeItemView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[get("/grade-items/{id}")]
async fn get_item(api: SiteApi, path: web::Path<IdPath>) -> ApiResult<web::Json<GradeItemView>> {
    let SiteApi { who, site } = api;
    let id = GradeItemId(path.id);
    let view = blocking(move || site.get_grade_item(&who, id)).await?;
    Ok(web::Json(GradeItemView::from(&view)))
}

/// Changes an item (editing teachers, site admins). An assignment's name
/// and maximum are its assignment's; a total's maximum is computed.
#[utoipa::path(
    tag = "gradebook",
    params(("id" = u64, Path, description = "grade item id")),
    request_body = UpdateGradeItem,
    responses((status = 200, body = GradeItemView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
#[patch("/grade-items/{id}")]
async fn update_item(
    api: SiteApi,
    path: web::Path<IdPath>,
    body: JsonBody<UpdateGradeItem>,
) -> ApiResult<web::Json<GradeItemView>> {
    let id = GradeItemId(path.id);
    let b = body
        .read(
            api.authorise(Ask::GradeItem(id, Need::ConfigureCourse))
                .await?,
        )
        .await?;
    let SiteApi { who, site } = api;
    let update = GradeItemUpdate {
        name: b.name,
        max_grade: b.max_grade,
        pass_grade: b.pass_grade,
        due_at: b.due_at.map(|d| d.map(|t| Timestamp(t.0))),
        parent: b.category.map(|c| c.map(Mirror::mirror)),
        weight: b.weight,
        aggregation: b.aggregation.map(Mirror::mirror),
        hidden: b.hidden,
    };
    let view = blocking(move || {
        site.update_grade_item(&who, id, update)?;
        site.get_grade_item(&who, id)
    })
    .await?;
    Ok(web::Json(GradeItemView::from(&view)))
}

/// Deletes a manual item with its grades, or a category (its items move
/// to the top level). An assignment's item goes with its assignment.
#[utoipa::path(
    tag = "gradebook",
    params(("id" = u64, Path, description = "grade item id")),
    responses((status = 204, description = "deleted"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody))
)]
#[delete("/grade-items/{id}")]
async fn delete_item(api: SiteApi, path: web::Path<IdPath>) -> ApiResult<HttpResponse> {
    let SiteApi { who, site } = api;
    let id = GradeItemId(path.id);
    blocking(move || site.delete_grade_item(&who, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The grader report: the learners the caller sees (a non-editing
/// teacher in separate groups: their own groups') × the items, with the
/// totals; filtered by group, sorted by name or any item, paged.
#[utoipa::path(
    tag = "gradebook",
    params(("id" = u64, Path, description = "course id"), ReportParams),
    responses((status = 200, body = GraderReportView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
#[get("/courses/{id}/grades")]
async fn grader_report(
    api: SiteApi,
    path: web::Path<IdPath>,
    params: web::Query<ReportParams>,
) -> ApiResult<web::Json<GraderReportView>> {
    let SiteApi { who, site } = api;
    let course = CourseId(path.id);
    let p = params.into_inner();
    let query = ReportQuery {
        group: p.group.map(CourseGroupId),
        sort: p
            .sort
            .map_or(SortKey::Name, |i| SortKey::Item(GradeItemId(i))),
        descending: p.desc,
        page: p.page.unwrap_or(1),
        per_page: p.per_page.unwrap_or(DEFAULT_PER_PAGE).min(MAX_PER_PAGE),
    };
    let report = blocking(move || site.grader_report(&who, course, &query)).await?;
    Ok(web::Json(report.into()))
}

/// Sets grades — a cell, a row, a column, a page — in one transaction
/// (the course's teachers, for the learners they see). Every change is
/// audited with its old and new value.
#[utoipa::path(
    tag = "gradebook",
    params(("id" = u64, Path, description = "course id")),
    request_body = SaveGrades,
    responses((status = 200, body = GradesSavedView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, description = "`grades_rejected`: each refused grade in `cells`; nothing written", body = ErrorBody))
)]
#[patch("/courses/{id}/grades")]
async fn save_grades(
    api: SiteApi,
    path: web::Path<IdPath>,
    body: JsonBody<SaveGrades>,
) -> ApiResult<web::Json<GradesSavedView>> {
    let course = CourseId(path.id);
    let b = body.read(api.authorise(staff(course)).await?).await?;
    let SiteApi { who, site } = api;
    let changes: Vec<GradeChange> = b
        .grades
        .into_iter()
        .map(|g| GradeChange {
            user: g.user.mirror(),
            item: g.item.mirror(),
            value: g.value,
        })
        .collect();
    let saved = blocking(move || site.set_grades(&who, course, &changes)).await?;
    Ok(web::Json(saved.into()))
}

/// The caller's own grades in a course: the items they see, the totals
/// computed without hidden items.
#[utoipa::path(
    tag = "gradebook",
    params(("id" = u64, Path, description = "course id")),
    responses((status = 200, body = UserReportView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[get("/courses/{id}/my-grades")]
async fn my_grades(api: SiteApi, path: web::Path<IdPath>) -> ApiResult<web::Json<UserReportView>> {
    let SiteApi { who, site } = api;
    let course = CourseId(path.id);
    let report = blocking(move || site.user_report(&who, course)).await?;
    Ok(web::Json(report.into()))
}

/// The per-group statistics: for each group the caller sees (and all of
/// them together), each item and total — graded, missing, mean, median,
/// min, max, standard deviation, completion and pass shares. A learner in
/// several groups counts in each.
#[utoipa::path(
    tag = "gradebook",
    params(("id" = u64, Path, description = "course id")),
    responses((status = 200, body = GroupStatisticsView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[get("/courses/{id}/grade-statistics")]
async fn statistics(
    api: SiteApi,
    path: web::Path<IdPath>,
) -> ApiResult<web::Json<GroupStatisticsView>> {
    let SiteApi { who, site } = api;
    let course = CourseId(path.id);
    let stats = blocking(move || site.group_statistics(&who, course)).await?;
    Ok(web::Json(stats.into()))
}

/// Imports grades from CSV (Moodle's grade import): a `username` or
/// `email` column and one column per item, headed by its name. The whole
/// file is checked first; a file with any error changes nothing, and the
/// report names each row and column. Empty cells leave a grade as it is.
#[utoipa::path(
    tag = "gradebook",
    params(("id" = u64, Path, description = "course id"), ImportQuery),
    request_body(content = String, content_type = "text/csv",
        description = "the CSV file: UTF-8 with or without BOM, comma or semicolon, any line ends"),
    responses(
        (status = 200, description = "the report; `applied` says whether the file was written", body = GradeImportReportView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 413, description = "the file is larger than the import limit", body = ErrorBody),
        (status = 503, description = "as many uploads as the server reads at once are being read; try again after `Retry-After` seconds", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
#[post("/courses/{id}/grade-imports")]
async fn import_grades(
    req: HttpRequest,
    api: SiteApi,
    path: web::Path<IdPath>,
    query: web::Query<ImportQuery>,
    body: web::Payload,
) -> ApiResult<web::Json<GradeImportReportView>> {
    let course = CourseId(path.id);
    api.authorise(staff(course)).await?;
    let SiteApi { who, site } = api;
    let bytes = read_body(&req, body, crate::services::bulk::DEFAULT_MAX_BYTES).await?;
    let apply = !query.dry_run;
    let report = blocking(move || site.import_grades(&who, course, &bytes, apply)).await?;
    Ok(web::Json(report.into()))
}

/// An export, as an attachment: `grades.csv` (the grader report, for one
/// group or all the learners the caller sees), `statistics.csv`, or
/// `gradebook.xlsx` (both). CSV cells that a spreadsheet would read as a
/// formula are escaped.
#[utoipa::path(
    tag = "gradebook",
    params(("id" = u64, Path, description = "course id"),
        ("format" = inline(ExportFormat), Path, description = "which export"),
        ExportParams),
    responses(
        (status = 200, description = "the file: CSV for the `.csv` formats, an Excel workbook for `gradebook.xlsx`",
            content((String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    )
)]
#[get("/courses/{id}/grade-exports/{format}")]
async fn export_gradebook(
    api: SiteApi,
    path: web::Path<ExportPath>,
    params: web::Query<ExportParams>,
) -> ApiResult<HttpResponse> {
    let SiteApi { who, site } = api;
    let course = CourseId(path.id);
    let kind = match path.format {
        ExportFormat::GradesCsv => ExportKind::GradesCsv,
        ExportFormat::StatisticsCsv => ExportKind::StatisticsCsv,
        ExportFormat::Xlsx => ExportKind::Xlsx,
    };
    let group = params.group.map(CourseGroupId);
    let export = blocking(move || site.export_gradebook(&who, course, group, kind)).await?;
    Ok(crate::http::download::export(export))
}
