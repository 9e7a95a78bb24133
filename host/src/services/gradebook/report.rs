//! The grader report (staff: learners × items with the totals, filtered
//! by group, sorted by any column, paged) and the user report (a learner's
//! own grades).

use std::cmp::Ordering;

use serde::Serialize;

use super::compute::{Book, Row, View};
use super::{ItemView, item_views, learner_names, load_book, seen_learners, visible_groups};
use crate::domain::*;
use crate::services::SiteServices;
use crate::services::auth::Principal;
use crate::services::course_access::CourseAccess;
use crate::services::error::{ServiceError, ServiceResult};
use crate::storage::site::prelude::*;

/// The most learners one page of the report shows.
pub const MAX_PER_PAGE: u32 = 1_000;
/// How many it shows unless asked.
pub const DEFAULT_PER_PAGE: u32 = 100;

/// What the report is sorted by.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum SortKey {
    /// Last name, then first name.
    #[default]
    Name,
    /// An item's (or a total's) value; learners without one last.
    Item(GradeItemId),
}

/// Which part of the report to show.
#[derive(Clone, Debug)]
pub struct ReportQuery {
    /// One group (of those the caller sees); `None`: all they see.
    pub group: Option<CourseGroupId>,
    pub sort: SortKey,
    pub descending: bool,
    /// From 1.
    pub page: u32,
    pub per_page: u32,
}

impl Default for ReportQuery {
    fn default() -> Self {
        Self {
            group: None,
            sort: SortKey::Name,
            descending: false,
            page: 1,
            per_page: DEFAULT_PER_PAGE,
        }
    }
}

/// One cell of the report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Cell {
    pub item: GradeItemId,
    pub value: Option<f64>,
    /// A total's value is an override of `computed`.
    pub overridden: bool,
    /// A total's computed value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub computed: Option<f64>,
}

/// One learner's row.
#[derive(Clone, Debug, Serialize)]
pub struct ReportRow {
    pub user: UserId,
    pub username: String,
    pub firstname: String,
    pub lastname: String,
    pub email: String,
    /// The names of the learner's groups in the course that the caller
    /// sees.
    pub groups: Vec<String>,
    /// One per item of the report, in its order.
    pub cells: Vec<Cell>,
}

/// The grader report of a course.
#[derive(Clone, Debug, Serialize)]
pub struct GraderReport {
    pub course: Course,
    pub items: Vec<ItemView>,
    /// The groups the caller may filter by.
    pub groups: Vec<CourseGroup>,
    pub group: Option<CourseGroupId>,
    /// Whether the caller sees only some groups (separate groups, not
    /// accessing all).
    pub limited: bool,
    pub rows: Vec<ReportRow>,
    /// The mean of each item over every learner of the filter (not only
    /// this page), graded ones only.
    pub means: Vec<Option<f64>>,
    /// Learners in the filter.
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
    /// Whether the caller may change items (editing teachers and admins).
    pub can_edit: bool,
}

/// A learner's own report: each item they see with their grade.
#[derive(Clone, Debug, Serialize)]
pub struct UserReport {
    pub course: Course,
    pub user: UserId,
    pub lines: Vec<UserReportLine>,
}

#[derive(Clone, Debug, Serialize)]
pub struct UserReportLine {
    #[serde(flatten)]
    pub item: ItemView,
    pub value: Option<f64>,
    /// The grade as a percentage of the item's maximum.
    pub percent: Option<f64>,
    /// Whether the grade reaches the item's pass grade (when both exist).
    pub passed: Option<bool>,
    /// Markdown feedback, as written.
    pub feedback: String,
}

/// Every learner's computed row, in `learners` order.
pub(crate) fn learner_rows(
    t: &impl SiteRead,
    course: CourseId,
    book: &Book,
    learners: &[UserId],
    view: View,
) -> ServiceResult<Vec<Row>> {
    let mut rows = Vec::with_capacity(learners.len());
    for &u in learners {
        let cells = t.course_grade_values(course, u)?;
        rows.push(book.compute(&cells, view));
    }
    Ok(rows)
}

fn by_value(a: Option<f64>, b: Option<f64>, descending: bool) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => {
            let o = a.total_cmp(&b);
            if descending { o.reverse() } else { o }
        }
        // Missing grades last either way.
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

impl SiteServices {
    /// The grader report of `course` (its staff), as `query` asks.
    pub fn grader_report(
        &self,
        who: &Principal,
        course: CourseId,
        query: &ReportQuery,
    ) -> ServiceResult<GraderReport> {
        self.read(|t| {
            let access = CourseAccess::of(&self.site, t, who, course)?;
            access.require_staff()?;
            grader_report_in(t, &access, query, MAX_PER_PAGE)
        })
    }

    /// `who`'s own grades in `course`: the items they see (none hidden),
    /// with the totals computed without hidden items.
    pub fn user_report(&self, who: &Principal, course: CourseId) -> ServiceResult<UserReport> {
        self.read(|t| {
            let access = CourseAccess::of(&self.site, t, who, course)?;
            let user = access.user.ok_or_else(|| {
                ServiceError::Forbidden("only a participant has grades of their own".to_owned())
            })?;
            let book = load_book(t, course)?;
            let row = book.compute(&t.course_grade_values(course, user)?, View::Learner);
            let mut lines = Vec::new();
            for view in item_views(&book, View::Learner) {
                let Some(i) = book.position(view.item.id) else {
                    continue;
                };
                let value = row.values[i];
                let feedback = if view.item.is_total() && !row.overridden[i] {
                    String::new()
                } else {
                    t.grade_entry(view.item.id, user)?
                        .map(|e| e.feedback)
                        .unwrap_or_default()
                };
                let max = view.effective_max;
                lines.push(UserReportLine {
                    percent: value.filter(|_| max > 0.0).map(|v| v / max * 100.0),
                    passed: value.zip(view.item.pass_grade).map(|(v, p)| v >= p),
                    value,
                    feedback,
                    item: view,
                });
            }
            Ok(UserReport {
                course: access.course,
                user,
                lines,
            })
        })
    }
}

/// The report as `access` sees it (staff).
pub(crate) fn grader_report_in(
    t: &impl SiteRead,
    access: &CourseAccess,
    query: &ReportQuery,
    max_per_page: u32,
) -> ServiceResult<GraderReport> {
    let course = access.course.id;
    let book = load_book(t, course)?;
    let learners = seen_learners(t, access, query.group)?;
    let rows = learner_rows(t, course, &book, &learners, View::Staff)?;
    let n = book.items.len();
    let mut means = vec![None; n];
    for (i, mean) in means.iter_mut().enumerate() {
        let (mut sum, mut count) = (0.0, 0u64);
        for r in &rows {
            if let Some(v) = r.values[i] {
                sum += v;
                count += 1;
            }
        }
        *mean = (count > 0).then(|| sum / count as f64);
    }
    let mut order: Vec<usize> = (0..learners.len()).collect();
    let names = match query.sort {
        SortKey::Name => {
            let names = learner_names(t, &learners)?;
            // One key per learner, not two per comparison.
            let keys: Vec<Option<(String, String)>> = learners
                .iter()
                .map(|u| {
                    names
                        .get(u)
                        .map(|x| (x.lastname.to_lowercase(), x.firstname.to_lowercase()))
                })
                .collect();
            order.sort_by(|&a, &b| {
                let o = keys[a].cmp(&keys[b]);
                if query.descending { o.reverse() } else { o }
            });
            Some(names)
        }
        SortKey::Item(id) => {
            let i = book.position(id).ok_or_else(|| {
                ServiceError::invalid("sort", format!("grade item #{id} is not in this course"))
            })?;
            order
                .sort_by(|&a, &b| by_value(rows[a].values[i], rows[b].values[i], query.descending));
            None
        }
    };
    let per_page = query.per_page.clamp(1, max_per_page);
    let page = query.page.max(1);
    let start = ((page - 1) as usize).saturating_mul(per_page as usize);
    let shown: Vec<usize> = order
        .into_iter()
        .skip(start)
        .take(per_page as usize)
        .collect();
    let page_users: Vec<UserId> = shown.iter().map(|&i| learners[i]).collect();
    let names = match names {
        Some(n) => n,
        None => learner_names(t, &page_users)?,
    };
    let groups = visible_groups(t, access)?;
    let mut out_rows = Vec::with_capacity(shown.len());
    for &i in &shown {
        let user = learners[i];
        let Some(u) = names.get(&user) else { continue };
        let mine = t.user_group_ids_in(course, user)?;
        let row = &rows[i];
        out_rows.push(ReportRow {
            user,
            username: u.username.clone(),
            firstname: u.firstname.clone(),
            lastname: u.lastname.clone(),
            email: u.email.clone(),
            groups: groups
                .iter()
                .filter(|g| mine.contains(&g.id))
                .map(|g| g.name.clone())
                .collect(),
            cells: book
                .items
                .iter()
                .enumerate()
                .map(|(j, item)| Cell {
                    item: item.id,
                    value: row.values[j],
                    overridden: row.overridden[j],
                    computed: row.computed[j],
                })
                .collect(),
        });
    }
    Ok(GraderReport {
        course: access.course.clone(),
        items: item_views(&book, View::Staff),
        limited: access.group_filter(access.group_mode(None)).is_some(),
        groups,
        group: query.group,
        rows: out_rows,
        means,
        total: learners.len() as u64,
        page,
        per_page,
        can_edit: access.can_edit(),
    })
}
