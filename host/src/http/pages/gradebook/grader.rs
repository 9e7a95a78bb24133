//! The grader report page: learners × items with the totals, a group
//! filter, sort links on every column, paging, the overall average row,
//! and inline entry.
//!
//! Every cell is an input named `g_{user}_{item}_{previous}`: the value
//! the page showed travels in the name, so one field per cell carries both
//! and the form stays small (a 100-learner × 50-item page is about 150 KiB,
//! within the form limit). Only cells whose text changed are sent to the
//! service, in one `set_grades` call: a row, a column or the whole page in
//! one transaction, all or nothing. Tab moves down a column (`tabindex`
//! column by column), so a column is entered with the keyboard alone.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::super::super::{HttpError, blocking};
use super::super::forms::render;
use super::super::session::{SitePage, SitePost, url_escape};
use super::super::{Layout, Section};
use super::{CoursePath, GradebookLinks, grade_text, grid, group_of};
use crate::domain::*;
use crate::services::ServiceError;
use crate::services::gradebook::entry::GradeChange;
use crate::services::gradebook::format_grade;
use crate::services::gradebook::report::{DEFAULT_PER_PAGE, GraderReport, ReportQuery, SortKey};

/// The page sizes offered.
pub(crate) const PAGE_SIZES: [u32; 4] = [25, 50, 100, 500];

/// The report's query string, as typed: unreadable values fall back to
/// the defaults.
#[derive(serde::Deserialize, Clone, Debug, Default)]
pub(crate) struct ReportParams {
    pub group: Option<String>,
    /// "name" or an item id.
    pub sort: Option<String>,
    /// "asc" or "desc".
    pub dir: Option<String>,
    pub page: Option<String>,
    pub per_page: Option<String>,
    /// "1": every cell an input (Moodle's edit mode); otherwise the grades
    /// as text.
    pub edit: Option<String>,
}

impl ReportParams {
    fn group(&self) -> Option<CourseGroupId> {
        group_of(self.group.as_deref())
    }

    fn sort(&self) -> SortKey {
        match self.sort.as_deref().map(str::trim) {
            Some(v) if v != "name" && !v.is_empty() => v
                .parse()
                .map_or(SortKey::Name, |id| SortKey::Item(GradeItemId(id))),
            _ => SortKey::Name,
        }
    }

    fn descending(&self) -> bool {
        self.dir.as_deref() == Some("desc")
    }

    /// Whether the report is in edit mode.
    pub fn editing(&self) -> bool {
        matches!(
            self.edit.as_deref().map(str::trim),
            Some("1" | "on" | "true")
        )
    }

    fn per_page(&self) -> u32 {
        self.per_page
            .as_deref()
            .and_then(|v| v.trim().parse().ok())
            .filter(|n| PAGE_SIZES.contains(n))
            .unwrap_or(DEFAULT_PER_PAGE)
    }

    fn page(&self) -> u32 {
        self.page
            .as_deref()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(1)
            .max(1)
    }

    /// The service's query.
    pub fn query(&self) -> ReportQuery {
        ReportQuery {
            group: self.group(),
            sort: self.sort(),
            descending: self.descending(),
            page: self.page(),
            per_page: self.per_page(),
        }
    }

    fn sort_value(&self) -> String {
        match self.sort() {
            SortKey::Name => "name".to_owned(),
            SortKey::Item(id) => id.to_string(),
        }
    }

    /// The query string of this view with `sort`, `dir` and `page`
    /// replaced where given.
    fn with(&self, sort: Option<&str>, descending: Option<bool>, page: Option<u32>) -> String {
        let mut parts = Vec::new();
        if let Some(g) = self.group() {
            parts.push(format!("group={g}"));
        }
        let sort = sort.map_or_else(|| self.sort_value(), str::to_owned);
        parts.push(format!("sort={}", url_escape(&sort)));
        let desc = descending.unwrap_or_else(|| self.descending());
        parts.push(format!("dir={}", if desc { "desc" } else { "asc" }));
        parts.push(format!("per_page={}", self.per_page()));
        parts.push(format!("page={}", page.unwrap_or_else(|| self.page())));
        if self.editing() {
            parts.push("edit=1".to_owned());
        }
        parts.join("&")
    }
}

/// What a refused save typed: each cell's text and the refusals.
#[derive(Default)]
pub(crate) struct Typed {
    pub values: HashMap<(UserId, GradeItemId), String>,
    pub errors: Vec<(UserId, GradeItemId, String)>,
}

pub(crate) struct Column {
    /// The id of its name, which labels its inputs.
    pub id: String,
    pub name: String,
    pub max: String,
    pub kind: &'static str,
    pub total: bool,
    pub hidden: bool,
    pub sort_href: String,
    /// `aria-sort` of its header: "none", "ascending" or "descending".
    pub aria_sort: &'static str,
    pub mean: String,
}

#[derive(Template)]
#[template(path = "pages/gradebook/report.html")]
pub(crate) struct ReportPage {
    pub layout: Layout,
    pub links: GradebookLinks,
    pub course_name: String,
    pub csrf: String,
    pub action: String,
    pub group_options: Vec<(String, String)>,
    pub group_value: String,
    pub per_page_options: Vec<(String, bool)>,
    pub limited: bool,
    pub can_edit: bool,
    pub columns: Vec<Column>,
    pub name_sort_href: String,
    pub name_aria_sort: &'static str,
    /// Inputs in every cell, or the grades as text.
    pub editing: bool,
    /// The same view in the other mode.
    pub mode_href: String,
    /// The report the rows are written from (see `grid`).
    pub report: GraderReport,
    /// What a refused save typed, by cell.
    pub typed: HashMap<(UserId, GradeItemId), String>,
    /// The refusals, by cell.
    pub errors: HashMap<(UserId, GradeItemId), String>,
    /// The refusals of a save, one sentence each.
    pub summary: Vec<String>,
    pub count_words: String,
    pub page_words: String,
    pub previous_href: Option<String>,
    pub next_href: Option<String>,
    /// The view's query fields, posted back with the save so it returns
    /// to the same view.
    pub hidden: Vec<(&'static str, String)>,
    pub save_tabindex: usize,
    pub export_csv: String,
    pub export_xlsx: String,
}

fn learners_words(n: u64) -> String {
    match n {
        1 => "1 learner".to_owned(),
        n => format!("{n} learners"),
    }
}

pub(crate) fn report_page(
    page: &SitePage,
    report: GraderReport,
    params: &ReportParams,
    typed: Typed,
) -> ReportPage {
    let course = report.course.id;
    let links = GradebookLinks::of(page, course);
    let sort = params.sort();
    let desc = params.descending();
    let sort_link = |key: &str, current: bool| {
        // A click on the current column turns its order round.
        let next_desc = current && !desc;
        format!(
            "{}?{}",
            links.report,
            params.with(Some(key), Some(next_desc), Some(1))
        )
    };
    let aria = |current: bool| match (current, desc) {
        (false, _) => "none",
        (true, false) => "ascending",
        (true, true) => "descending",
    };
    let columns: Vec<Column> = report
        .items
        .iter()
        .enumerate()
        .map(|(j, v)| {
            let current = sort == SortKey::Item(v.item.id);
            Column {
                id: grid::column_id(v.item.id),
                name: v.item.name.clone(),
                max: format_grade(v.effective_max),
                kind: v.kind,
                total: v.item.is_total(),
                hidden: v.item.hidden,
                sort_href: sort_link(&v.item.id.to_string(), current),
                aria_sort: aria(current),
                mean: grade_text(report.means.get(j).copied().flatten()),
            }
        })
        .collect();
    let Typed {
        values: typed,
        errors: refused,
    } = typed;
    // A refused save comes back as typed, so in edit mode.
    let editing = params.editing() || !refused.is_empty();
    let mode_href = {
        let mut other = params.clone();
        other.edit = (!editing).then(|| "1".to_owned());
        format!("{}?{}", links.report, other.with(None, None, None))
    };
    // One sentence per refusal for the summary: a cell on this page is
    // named by its learner and column; others (another group's learner,
    // an item of another course) by the service's message alone.
    let mut summary = Vec::new();
    let mut errors = HashMap::with_capacity(refused.len());
    for (user, item, message) in refused {
        let row = report.rows.iter().find(|r| r.user == user);
        let column = report.items.iter().find(|v| v.item.id == item);
        match (row, column) {
            (Some(row), Some(view)) => {
                summary.push(format!(
                    "{} {}, {}: {message}",
                    row.firstname, row.lastname, view.item.name
                ));
                errors.insert((user, item), message);
            }
            _ => summary.push(message),
        }
    }
    let pages = report.total.div_ceil(u64::from(report.per_page)).max(1) as u32;
    let group_value = report.group.map(|g| g.to_string()).unwrap_or_default();
    let all = if report.limited {
        "All my groups"
    } else {
        "All participants"
    };
    let query = |extra: &str| {
        let g = report
            .group
            .map(|g| format!("?group={g}"))
            .unwrap_or_default();
        format!("{}/{extra}{g}", links.report)
    };
    ReportPage {
        layout: Layout::signed_in(
            page,
            &format!("Grades: {}", report.course.fullname),
            Section::Courses,
        ),
        course_name: report.course.fullname.clone(),
        csrf: page.csrf().to_owned(),
        action: links.report.clone(),
        group_options: std::iter::once((String::new(), all.to_owned()))
            .chain(
                report
                    .groups
                    .iter()
                    .map(|g| (g.id.to_string(), g.name.clone())),
            )
            .collect(),
        group_value: group_value.clone(),
        per_page_options: PAGE_SIZES
            .iter()
            .map(|&n| (n.to_string(), n == report.per_page))
            .collect(),
        limited: report.limited,
        can_edit: report.can_edit,
        name_sort_href: sort_link("name", sort == SortKey::Name),
        name_aria_sort: aria(sort == SortKey::Name),
        columns,
        save_tabindex: 1 + report.items.len() * report.rows.len(),
        summary,
        count_words: learners_words(report.total),
        page_words: format!("Page {} of {pages}", report.page),
        previous_href: (report.page > 1).then(|| {
            format!(
                "{}?{}",
                links.report,
                params.with(None, None, Some(report.page - 1))
            )
        }),
        next_href: (report.page < pages).then(|| {
            format!(
                "{}?{}",
                links.report,
                params.with(None, None, Some(report.page + 1))
            )
        }),
        hidden: vec![
            ("group", group_value),
            ("sort", params.sort_value()),
            ("dir", if desc { "desc" } else { "asc" }.to_owned()),
            ("page", report.page.to_string()),
            ("per_page", report.per_page.to_string()),
            ("edit", "1".to_owned()),
        ],
        export_csv: query("export.csv"),
        export_xlsx: query("export.xlsx"),
        links,
        editing,
        mode_href,
        report,
        typed,
        errors,
    }
}

impl ReportPage {
    /// The rows, written straight into the page (see `grid.rs`).
    fn grid(&self) -> grid::Grid<'_> {
        grid::Grid {
            editing: self.editing,
            report: &self.report,
            typed: &self.typed,
            errors: &self.errors,
        }
    }
}

/// The cells of a posted report: the changed ones as changes, the typed
/// text of every cell, and the cells that are not numbers.
struct Posted {
    params: ReportParams,
    changes: Vec<GradeChange>,
    typed: Typed,
}

/// A typed grade: blank is none; a decimal comma reads as a point.
fn typed_grade(text: &str) -> Result<Option<f64>, ()> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    t.replace(',', ".")
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .map(Some)
        .ok_or(())
}

fn posted(fields: Vec<(String, String)>) -> Result<Posted, HttpError> {
    let mut out = Posted {
        params: ReportParams::default(),
        changes: Vec::new(),
        typed: Typed::default(),
    };
    for (name, value) in fields {
        match name.as_str() {
            "group" => out.params.group = Some(value),
            "sort" => out.params.sort = Some(value),
            "dir" => out.params.dir = Some(value),
            "page" => out.params.page = Some(value),
            "per_page" => out.params.per_page = Some(value),
            "edit" => out.params.edit = Some(value),
            _ => {
                let Some(rest) = name.strip_prefix("g_") else {
                    continue;
                };
                let mut parts = rest.splitn(3, '_');
                let (Some(user), Some(item), Some(previous)) =
                    (parts.next(), parts.next(), parts.next())
                else {
                    return Err(super::invalid("grades", "a grade cell could not be read"));
                };
                let (Ok(user), Ok(item)) = (user.parse(), item.parse()) else {
                    return Err(super::invalid("grades", "a grade cell could not be read"));
                };
                let (user, item) = (UserId(user), GradeItemId(item));
                if value.trim() == previous {
                    continue;
                }
                match typed_grade(&value) {
                    Ok(v) => {
                        if v.map(format_grade).unwrap_or_default() != previous {
                            out.changes.push(GradeChange {
                                user,
                                item,
                                value: v,
                            });
                        }
                    }
                    Err(()) => out.typed.errors.push((
                        user,
                        item,
                        "must be a number, such as 7.5".to_owned(),
                    )),
                }
                out.typed.values.insert((user, item), value);
            }
        }
    }
    Ok(out)
}

/// The largest grader-report form: a page of 500 learners × 50 items
/// posts about 550 KB (one named input per cell).
const GRID_FORM_LIMIT: usize = 2 * 1024 * 1024;

pub(super) async fn save(
    post: SitePost<Vec<(String, String)>, GRID_FORM_LIMIT>,
    path: web::Path<CoursePath>,
) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let course = CourseId(path.course);
    let Posted {
        params,
        changes,
        mut typed,
    } = posted(form)?;
    let back = format!("/courses/{course}/grades?{}", params.with(None, None, None));
    if typed.errors.is_empty() {
        let n = changes.len();
        let (services, who) = (page.site.services.clone(), page.principal().clone());
        let saved = blocking(move || services.set_grades(&who, course, &changes)).await;
        match saved {
            Ok(done) => {
                let message = match (n, done.changed) {
                    (0, _) => "Nothing changed.".to_owned(),
                    (_, 1) => "1 grade saved.".to_owned(),
                    (_, c) => format!("{c} grades saved."),
                };
                return Ok(page.done(&back, message));
            }
            Err(HttpError::Service(ServiceError::GradesRejected(cells))) => {
                typed.errors = cells
                    .into_iter()
                    .map(|c| (c.user, c.item, c.message))
                    .collect();
            }
            Err(e) => return Err(e),
        }
    }
    // Nothing was written: the report again, as typed, with each refusal.
    let asked = params.query();
    let (services, who) = (page.site.services.clone(), page.principal().clone());
    let report = blocking(move || services.grader_report(&who, course, &asked)).await?;
    render(
        &report_page(&page, report, &params, typed),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str, value: &str) -> (String, String) {
        (name.to_owned(), value.to_owned())
    }

    #[test]
    fn only_cells_whose_text_changed_are_sent() {
        let p = posted(vec![
            field("csrf", "x"),
            field("group", "4"),
            field("g_7_3_8", "8"),
            field("g_7_4_", ""),
            field("g_8_3_8", "9,5"),
            field("g_8_4_6.5", ""),
            field("g_9_3_", " 10 "),
            field("g_9_4_2", "2.00"),
        ])
        .expect("read");
        assert_eq!(p.params.group.as_deref(), Some("4"));
        assert_eq!(
            p.changes,
            vec![
                GradeChange {
                    user: UserId(8),
                    item: GradeItemId(3),
                    value: Some(9.5)
                },
                GradeChange {
                    user: UserId(8),
                    item: GradeItemId(4),
                    value: None
                },
                GradeChange {
                    user: UserId(9),
                    item: GradeItemId(3),
                    value: Some(10.0)
                },
            ]
        );
        assert!(p.typed.errors.is_empty());
    }

    #[test]
    fn a_cell_that_is_not_a_number_is_refused_with_its_text_kept() {
        let p = posted(vec![field("g_7_3_", "eight")]).expect("read");
        assert!(p.changes.is_empty());
        assert_eq!(p.typed.errors.len(), 1);
        assert_eq!(
            p.typed
                .values
                .get(&(UserId(7), GradeItemId(3)))
                .map(String::as_str),
            Some("eight")
        );
        assert!(posted(vec![field("g_x_3_", "1")]).is_err());
    }

    #[test]
    fn the_query_keeps_the_view_and_reads_bad_values_as_defaults() {
        let p = ReportParams {
            group: Some("12".into()),
            sort: Some("31".into()),
            dir: Some("desc".into()),
            page: Some("0".into()),
            per_page: Some("77".into()),
            edit: None,
        };
        let q = p.query();
        assert_eq!(q.group, Some(CourseGroupId(12)));
        assert_eq!(q.sort, SortKey::Item(GradeItemId(31)));
        assert!(q.descending);
        assert_eq!((q.page, q.per_page), (1, DEFAULT_PER_PAGE));
        assert_eq!(
            p.with(Some("name"), Some(false), Some(2)),
            "group=12&sort=name&dir=asc&per_page=100&page=2"
        );
        let editing = ReportParams {
            edit: Some("1".into()),
            ..p
        };
        assert!(editing.editing());
        assert!(editing.with(None, None, None).ends_with("&page=1&edit=1"));
    }
}
