//! The grade import: upload a CSV, see the preview (the grades it changes,
//! old → new, its warnings and errors by row and column), apply it.
//!
//! Stateless between the preview and the apply: the preview page carries
//! the file's text in a hidden field of the Apply form, which posts as
//! `multipart/form-data` — so the form limit of URL-encoded forms does
//! not apply, only the import's own size limit — and the service checks
//! the whole file again inside the write transaction. Nothing is kept on
//! the server, and a file with an error writes nothing.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::super::super::{HttpError, blocking};
use super::super::forms::render;
use super::super::session::SitePage;
use super::super::upload::{Body, content_type, read_upload, upload_fields};
use super::super::{Layout, Section};
use super::{CoursePath, GradebookLinks, grade_text};
use crate::domain::*;
use crate::services::bulk::{DEFAULT_MAX_BYTES, RowIssue, size_label, too_large_message};
use crate::services::gradebook::format_grade;
use crate::services::gradebook::import::GradeImportReport;

pub(crate) struct IssueLine {
    pub row: u64,
    pub column: String,
    pub reason: String,
}

pub(crate) struct ChangeLine {
    pub row: u64,
    pub who: String,
    pub item: String,
    pub old: String,
    pub new: String,
}

#[derive(Template)]
#[template(path = "pages/gradebook/import.html")]
pub(crate) struct ImportPage {
    pub layout: Layout,
    pub links: GradebookLinks,
    pub course_name: String,
    pub csrf: String,
    pub upload_action: String,
    pub apply_action: String,
    pub template_href: String,
    pub max_size: String,
    /// A refusal of the upload itself (too large, no file).
    pub refusal: Option<String>,
    pub report: Option<ReportView>,
}

pub(crate) struct ReportView {
    pub applied: bool,
    pub rows: u64,
    pub changed: u64,
    pub unchanged: u64,
    pub errors: Vec<IssueLine>,
    pub error_count: u64,
    pub warnings: Vec<IssueLine>,
    pub warning_count: u64,
    pub changes: Vec<ChangeLine>,
    /// The file's text for the Apply form; `None` when it cannot be
    /// applied (errors, or already applied).
    pub csv: Option<String>,
}

fn issues(list: &[RowIssue]) -> Vec<IssueLine> {
    list.iter()
        .map(|i| IssueLine {
            row: i.row,
            column: i.column.clone().unwrap_or_default(),
            reason: i.reason.clone(),
        })
        .collect()
}

fn report_view(r: GradeImportReport, csv: Option<String>) -> ReportView {
    ReportView {
        applied: r.applied,
        rows: r.rows,
        changed: r.changed,
        unchanged: r.unchanged,
        errors: issues(&r.errors),
        error_count: r.error_count,
        warnings: issues(&r.warnings),
        warning_count: r.warning_count,
        changes: r
            .changes
            .iter()
            .map(|c| ChangeLine {
                row: c.row,
                who: c.who.clone(),
                item: c.item_name.clone(),
                old: grade_text(c.old),
                new: format_grade(c.new),
            })
            .collect(),
        csv: csv.filter(|_| !r.applied && r.error_count == 0 && r.changed > 0),
    }
}

fn import_page(
    page: &SitePage,
    course: CourseId,
    course_name: String,
    refusal: Option<String>,
    report: Option<ReportView>,
) -> ImportPage {
    let links = GradebookLinks::of(page, course);
    ImportPage {
        layout: Layout::signed_in(
            page,
            &format!("Import grades: {course_name}"),
            Section::Courses,
        ),
        course_name,
        csrf: page.csrf().to_owned(),
        upload_action: links.import.clone(),
        apply_action: format!("{}/apply", links.import),
        template_href: format!("{}/template.csv", links.import),
        max_size: size_label(DEFAULT_MAX_BYTES),
        refusal,
        report,
        links,
    }
}

/// The course's full name, and with it the check that the caller is its
/// staff (the set-up refuses anyone else).
async fn course_name(page: &SitePage, course: CourseId) -> Result<String, HttpError> {
    let (services, who) = (page.site.services.clone(), page.principal().clone());
    let setup = blocking(move || services.gradebook_setup(&who, course)).await?;
    Ok(setup.course.fullname)
}

pub(super) async fn form(
    page: SitePage,
    path: web::Path<CoursePath>,
) -> Result<HttpResponse, HttpError> {
    let course = CourseId(path.course);
    let name = course_name(&page, course).await?;
    render(
        &import_page(&page, course, name, None, None),
        StatusCode::OK,
    )
}

pub(super) async fn template(
    page: SitePage,
    path: web::Path<CoursePath>,
) -> Result<HttpResponse, HttpError> {
    let course = CourseId(path.course);
    let (services, who) = (page.site.services.clone(), page.principal().clone());
    let export = blocking(move || services.grade_import_template(&who, course)).await?;
    Ok(crate::http::download::export(export))
}

/// Reads a multipart post of the import forms: the file's bytes (the
/// uploaded file, or the `csv` field of the Apply form), once its token is
/// checked. `Err(Ok(message))`: refused for its size or for carrying no
/// file, answered on the page.
async fn posted_file(
    page: &SitePage,
    body: web::Payload,
) -> Result<Result<Vec<u8>, String>, HttpError> {
    let body = match read_upload(&page.request, body, DEFAULT_MAX_BYTES).await? {
        Body::Within(body) => body,
        Body::TooLarge(size) => return Ok(Err(too_large_message(size, DEFAULT_MAX_BYTES))),
    };
    let upload = upload_fields(&content_type(&page.request), &body, "file");
    if !upload.token_is(page.csrf()) {
        return Err(HttpError::CsrfRejected);
    }
    let text = upload
        .fields
        .into_iter()
        .find(|(name, _)| name == "csv")
        .map(|(_, v)| v.into_bytes());
    match text.or((!upload.file.is_empty()).then_some(upload.file)) {
        Some(bytes) => Ok(Ok(bytes)),
        None => Ok(Err("Choose a CSV file to upload.".to_owned())),
    }
}

async fn run(
    page: SitePage,
    course: CourseId,
    body: web::Payload,
    apply: bool,
) -> Result<HttpResponse, HttpError> {
    let bytes = match posted_file(&page, body).await? {
        Ok(bytes) => bytes,
        Err(message) => {
            let name = course_name(&page, course).await?;
            return render(
                &import_page(&page, course, name, Some(message), None),
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
    };
    let csv = String::from_utf8(bytes.clone()).ok();
    let (services, who) = (page.site.services.clone(), page.principal().clone());
    let (report, name) = blocking(move || {
        let report = services.import_grades(&who, course, &bytes, apply)?;
        let name = services.gradebook_setup(&who, course)?.course.fullname;
        Ok((report, name))
    })
    .await?;
    let status = if report.has_errors() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render(
        &import_page(&page, course, name, None, Some(report_view(report, csv))),
        status,
    )
}

pub(super) async fn preview(
    page: SitePage,
    path: web::Path<CoursePath>,
    body: web::Payload,
) -> Result<HttpResponse, HttpError> {
    run(page, CourseId(path.course), body, false).await
}

pub(super) async fn apply(
    page: SitePage,
    path: web::Path<CoursePath>,
    body: web::Payload,
) -> Result<HttpResponse, HttpError> {
    run(page, CourseId(path.course), body, true).await
}
