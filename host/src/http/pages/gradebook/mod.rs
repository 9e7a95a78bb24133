//! The gradebook's pages (issue 19): a course's grades — the grader report
//! with inline entry for its staff, the user report for a learner — its
//! set-up (items and categories), the per-group analysis with its chart,
//! the CSV import and the exports.
//!
//! This file holds the routes, what the pages share and the user report;
//! `grader.rs` the grader report and its save, `grid.rs` its rows,
//! written straight into the page, `setup.rs` the items'
//! forms, `analysis.rs` the analysis and the exports, `import.rs` the
//! import, `chart.rs` the SVG. Every decision of who sees or changes whose
//! grades is the gradebook service's; handlers read the request, call it
//! once and render.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::super::{HttpError, blocking};
use super::forms::render;
use super::session::SitePage;
use super::{Layout, Section, page_routes};
use crate::domain::*;
use crate::services::ServiceError;
use crate::services::announcements::markdown::render_html;
use crate::services::gradebook::format_grade;
use crate::services::gradebook::pages_support::GradesPage;
use crate::services::gradebook::report::UserReport;

mod analysis;
pub(crate) mod chart;
mod grader;
mod grid;
mod import;
mod setup;

page_routes! {
    get "/courses/{course}/grades" => show, CourseMember;
    post "/courses/{course}/grades" => grader::save, CourseStaff;
    get "/courses/{course}/grades/setup" => setup::show, CourseStaff;
    post "/courses/{course}/grades/items" => setup::create, CourseStaff;
    get "/grade-items/{item}/edit" => setup::edit_form, CourseStaff;
    post "/grade-items/{item}/edit" => setup::update, CourseStaff;
    get "/grade-items/{item}/delete" => setup::confirm_delete, CourseStaff;
    post "/grade-items/{item}/delete" => setup::delete, CourseStaff;
    get "/courses/{course}/grades/analysis" => analysis::show, CourseStaff;
    get "/courses/{course}/grades/export.csv" => analysis::grades_csv, CourseStaff;
    get "/courses/{course}/grades/statistics.csv" => analysis::statistics_csv, CourseStaff;
    get "/courses/{course}/grades/export.xlsx" => analysis::xlsx, CourseStaff;
    get "/courses/{course}/grades/import" => import::form, CourseStaff;
    get "/courses/{course}/grades/import/template.csv" => import::template, CourseStaff;
    post "/courses/{course}/grades/import" => import::preview, CourseStaff;
    post "/courses/{course}/grades/import/apply" => import::apply, CourseStaff;
}

#[derive(serde::Deserialize)]
pub(crate) struct CoursePath {
    course: u64,
}

#[derive(serde::Deserialize)]
pub(crate) struct ItemPath {
    item: u64,
}

/// A group id from a query or a form: blank or unreadable is none (the
/// service refuses a group the caller may not see).
fn group_of(value: Option<&str>) -> Option<CourseGroupId> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .and_then(|v| v.parse().ok())
        .map(CourseGroupId)
}

/// A grade for a page: "–" when there is none.
fn grade_text(value: Option<f64>) -> String {
    value.map_or_else(|| "–".to_owned(), format_grade)
}

/// A share (0–1) as a whole percentage, "–" when there is none.
fn percent_text(share: Option<f64>) -> String {
    share.map_or_else(|| "–".to_owned(), |s| format!("{:.0} %", s * 100.0))
}

/// The links every gradebook page of a course's staff carries.
pub(crate) struct GradebookLinks {
    pub course: String,
    pub report: String,
    pub setup: String,
    pub analysis: String,
    pub import: String,
}

impl GradebookLinks {
    fn of(page: &SitePage, course: CourseId) -> Self {
        let base = format!("/courses/{course}/grades");
        Self {
            course: page.link(&format!("/courses/{course}")),
            report: page.link(&base),
            setup: page.link(&format!("{base}/setup")),
            analysis: page.link(&format!("{base}/analysis")),
            import: page.link(&format!("{base}/import")),
        }
    }
}

/// Refuses a form field the page itself could not read, as the service
/// would.
fn invalid(field: &'static str, message: &str) -> HttpError {
    HttpError::Service(ServiceError::invalid(field, message.to_owned()))
}

async fn show(
    page: SitePage,
    path: web::Path<CoursePath>,
    query: web::Query<grader::ReportParams>,
) -> Result<HttpResponse, HttpError> {
    let course = CourseId(path.course);
    let params = query.into_inner();
    let asked = params.query();
    let (services, who) = (page.site.services.clone(), page.principal().clone());
    let shown = blocking(move || services.grades_page(&who, course, &asked)).await?;
    match shown {
        GradesPage::Grader(report) => render(
            &grader::report_page(&page, report, &params, grader::Typed::default()),
            StatusCode::OK,
        ),
        GradesPage::Learner(report) => render(&user_page(&page, report), StatusCode::OK),
    }
}

// ------------------------------------------------------------ user report

pub(crate) struct UserLine {
    pub name: String,
    pub kind: &'static str,
    pub total: bool,
    pub grade: String,
    pub range: String,
    pub percent: String,
    /// "Passed", "Not passed" or blank (no pass grade or no grade).
    pub passed: &'static str,
    pub feedback_html: String,
}

#[derive(Template)]
#[template(path = "pages/gradebook/user.html")]
pub(crate) struct UserPage {
    pub layout: Layout,
    pub course_name: String,
    pub course_href: String,
    pub lines: Vec<UserLine>,
}

fn user_page(page: &SitePage, report: UserReport) -> UserPage {
    let lines = report
        .lines
        .iter()
        .map(|l| UserLine {
            name: l.item.item.name.clone(),
            kind: l.item.kind,
            total: l.item.item.is_total(),
            grade: grade_text(l.value),
            range: format!("0–{}", format_grade(l.item.effective_max)),
            percent: l
                .percent
                .map_or_else(|| "–".to_owned(), |p| format!("{p:.0} %")),
            passed: match l.passed {
                Some(true) => "Passed",
                Some(false) => "Not passed",
                None => "",
            },
            feedback_html: render_html(&l.feedback),
        })
        .collect();
    UserPage {
        layout: Layout::signed_in(
            page,
            &format!("Grades: {}", report.course.fullname),
            Section::Courses,
        ),
        course_name: report.course.fullname.clone(),
        course_href: page.link(&format!("/courses/{}", report.course.id)),
        lines,
    }
}
