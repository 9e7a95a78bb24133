//! The per-group analysis page — for one item (the course total unless
//! another is chosen) the chart and the table of every cohort, and an
//! overview of each cohort's mean on every item — and the exports: the
//! grader report as CSV or `.xlsx`, the statistics as CSV.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::super::super::{HttpError, blocking};
use super::super::forms::render;
use super::super::session::SitePage;
use super::super::{Layout, Section};
use super::chart::{Chart, ChartBar};
use super::{CoursePath, GradebookLinks, grade_text, group_of, percent_text};
use crate::domain::*;
use crate::services::gradebook::analysis::{GroupStatistics, ItemStatistics};
use crate::services::gradebook::export::ExportKind;
use crate::services::gradebook::format_grade;

#[derive(serde::Deserialize)]
pub(crate) struct AnalysisQuery {
    item: Option<String>,
}

#[derive(serde::Deserialize)]
pub(crate) struct ExportQuery {
    group: Option<String>,
}

pub(crate) struct CohortRow {
    pub name: String,
    pub everyone: bool,
    pub members: u64,
    pub graded: u64,
    pub missing: u64,
    pub mean: String,
    pub median: String,
    pub min: String,
    pub max: String,
    pub std_dev: String,
    pub completion: String,
    pub passed: String,
}

/// One cohort's means on every item, for the overview.
pub(crate) struct OverviewRow {
    pub name: String,
    /// Each item's mean as a percentage of its maximum.
    pub means: Vec<String>,
}

#[derive(Template)]
#[template(path = "pages/gradebook/analysis.html")]
pub(crate) struct AnalysisPage {
    pub layout: Layout,
    pub links: GradebookLinks,
    pub course_name: String,
    pub limited: bool,
    /// (item id, name, selected).
    pub item_options: Vec<(String, String, bool)>,
    pub item_name: String,
    pub item_max: String,
    pub item_pass: Option<String>,
    pub chart_svg: String,
    pub rows: Vec<CohortRow>,
    /// The overview's column headings (item names).
    pub overview_items: Vec<String>,
    pub overview: Vec<OverviewRow>,
    pub statistics_csv: String,
    pub export_csv: String,
    pub export_xlsx: String,
}

/// `value` of an item of maximum `max` as a percentage.
fn percent_of(value: Option<f64>, max: f64) -> Option<f64> {
    value.filter(|_| max > 0.0).map(|v| v / max * 100.0)
}

fn chart_of(stats: &GroupStatistics, item: &ItemStatistics) -> Chart {
    let max = item.item.effective_max;
    let name = &item.item.item.name;
    let behind = stats
        .cohorts
        .iter()
        .zip(&item.cohorts)
        .skip(1)
        .filter_map(|(c, s)| s.mean.map(|m| (c.name.as_str(), m)))
        .min_by(|a, b| a.1.total_cmp(&b.1));
    let mut description = format!(
        "Mean and median of {name} for each group, as a percentage of its maximum {}.",
        format_grade(max)
    );
    if let Some((group, mean)) = behind {
        description.push_str(&format!(
            " Lowest mean: {group}, {:.0} %.",
            percent_of(Some(mean), max).unwrap_or(0.0)
        ));
    }
    Chart {
        id: "group-chart".to_owned(),
        title: format!("{name}: mean by group"),
        description,
        pass_percent: percent_of(item.item.item.pass_grade, max),
        bars: stats
            .cohorts
            .iter()
            .zip(&item.cohorts)
            .map(|(c, s)| ChartBar {
                name: c.name.clone(),
                members: s.members,
                graded: s.graded,
                mean_percent: percent_of(s.mean, max),
                median_percent: percent_of(s.median, max),
            })
            .collect(),
    }
}

fn analysis_page(
    page: &SitePage,
    stats: GroupStatistics,
    item: Option<GradeItemId>,
) -> AnalysisPage {
    let course = stats.course.id;
    let links = GradebookLinks::of(page, course);
    // The course total (last) unless another item is asked for.
    let chosen = item
        .and_then(|id| stats.items.iter().position(|s| s.item.item.id == id))
        .or_else(|| {
            stats
                .items
                .iter()
                .position(|s| s.item.item.source == GradeSource::Course)
        })
        .unwrap_or(0);
    let selected = stats.items.get(chosen);
    let rows = selected
        .map(|s| {
            stats
                .cohorts
                .iter()
                .zip(&s.cohorts)
                .map(|(c, x)| CohortRow {
                    name: c.name.clone(),
                    everyone: c.group.is_none(),
                    members: x.members,
                    graded: x.graded,
                    missing: x.missing,
                    mean: grade_text(x.mean),
                    median: grade_text(x.median),
                    min: grade_text(x.min),
                    max: grade_text(x.max),
                    std_dev: grade_text(x.std_dev),
                    completion: percent_text(x.completion),
                    passed: percent_text(x.passed),
                })
                .collect()
        })
        .unwrap_or_default();
    let overview = stats
        .cohorts
        .iter()
        .enumerate()
        .map(|(ci, c)| OverviewRow {
            name: c.name.clone(),
            means: stats
                .items
                .iter()
                .map(|s| {
                    let mean = s.cohorts.get(ci).and_then(|x| x.mean);
                    percent_of(mean, s.item.effective_max)
                        .map_or_else(|| "–".to_owned(), |p| format!("{p:.0} %"))
                })
                .collect(),
        })
        .collect();
    AnalysisPage {
        layout: Layout::signed_in(
            page,
            &format!("Per-group analysis: {}", stats.course.fullname),
            Section::Courses,
        ),
        course_name: stats.course.fullname.clone(),
        limited: stats.limited,
        item_options: stats
            .items
            .iter()
            .enumerate()
            .map(|(i, s)| {
                (
                    s.item.item.id.to_string(),
                    s.item.item.name.clone(),
                    i == chosen,
                )
            })
            .collect(),
        item_name: selected
            .map(|s| s.item.item.name.clone())
            .unwrap_or_default(),
        item_max: selected
            .map(|s| format_grade(s.item.effective_max))
            .unwrap_or_default(),
        item_pass: selected.and_then(|s| s.item.item.pass_grade.map(format_grade)),
        chart_svg: selected
            .map(|s| super::chart::render(&chart_of(&stats, s)))
            .unwrap_or_default(),
        rows,
        overview_items: stats
            .items
            .iter()
            .map(|s| s.item.item.name.clone())
            .collect(),
        overview,
        statistics_csv: format!("{}/statistics.csv", links.report),
        export_csv: format!("{}/export.csv", links.report),
        export_xlsx: format!("{}/export.xlsx", links.report),
        links,
    }
}

pub(super) async fn show(
    page: SitePage,
    path: web::Path<CoursePath>,
    query: web::Query<AnalysisQuery>,
) -> Result<HttpResponse, HttpError> {
    let course = CourseId(path.course);
    let item = query
        .item
        .as_deref()
        .and_then(|v| v.trim().parse().ok())
        .map(GradeItemId);
    let (services, who) = (page.site.services.clone(), page.principal().clone());
    let stats = blocking(move || services.group_statistics(&who, course)).await?;
    render(&analysis_page(&page, stats, item), StatusCode::OK)
}

async fn export(
    page: SitePage,
    course: CourseId,
    group: Option<CourseGroupId>,
    kind: ExportKind,
) -> Result<HttpResponse, HttpError> {
    let (services, who) = (page.site.services.clone(), page.principal().clone());
    let export = blocking(move || services.export_gradebook(&who, course, group, kind)).await?;
    Ok(crate::http::download::export(export))
}

pub(super) async fn grades_csv(
    page: SitePage,
    path: web::Path<CoursePath>,
    query: web::Query<ExportQuery>,
) -> Result<HttpResponse, HttpError> {
    let group = group_of(query.group.as_deref());
    export(page, CourseId(path.course), group, ExportKind::GradesCsv).await
}

pub(super) async fn statistics_csv(
    page: SitePage,
    path: web::Path<CoursePath>,
) -> Result<HttpResponse, HttpError> {
    export(page, CourseId(path.course), None, ExportKind::StatisticsCsv).await
}

pub(super) async fn xlsx(
    page: SitePage,
    path: web::Path<CoursePath>,
    query: web::Query<ExportQuery>,
) -> Result<HttpResponse, HttpError> {
    let group = group_of(query.group.as_deref());
    export(page, CourseId(path.course), group, ExportKind::Xlsx).await
}
