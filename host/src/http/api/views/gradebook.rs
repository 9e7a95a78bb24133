//! The gradebook as the API shows it: items, the grader report, a
//! learner's own report, the per-group statistics and a grade import's
//! report.

use serde::{Deserialize, Serialize};

use super::{
    CourseGroupIdView, CourseView, GradeItemIdView, Mirror, RowIssueView, TimestampView, UserIdView,
};
use crate::domain::{Aggregation, GradeSource};
use crate::services::gradebook::analysis::{Cohort, GroupStatistics};
use crate::services::gradebook::entry::GradesSaved;
use crate::services::gradebook::import::{GradeImportReport, PlannedGrade};
use crate::services::gradebook::report::{Cell, GraderReport, ReportRow, UserReport};
use crate::services::gradebook::stats::Summary;
use crate::services::gradebook::{GradebookSetup, ItemView};

/// How a total is computed from its children's grades.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = Aggregation)]
pub enum AggregationView {
    /// The mean of the grades as shares of their maxima, out of 100 (the
    /// default); missing grades left out.
    Mean,
    /// As `mean`, each grade counting its item's weight.
    WeightedMean,
    /// The points earned out of the children's maxima added up.
    Sum,
}

impl Mirror<AggregationView> for Aggregation {
    fn mirror(self) -> AggregationView {
        match self {
            Aggregation::Mean => AggregationView::Mean,
            Aggregation::WeightedMean => AggregationView::WeightedMean,
            Aggregation::Sum => AggregationView::Sum,
        }
    }
}

impl Mirror<Aggregation> for AggregationView {
    fn mirror(self) -> Aggregation {
        match self {
            AggregationView::Mean => Aggregation::Mean,
            AggregationView::WeightedMean => Aggregation::WeightedMean,
            AggregationView::Sum => Aggregation::Sum,
        }
    }
}

/// What an item is: an `assignment`'s, a `manual` one, a `category`
/// total or the `course` total.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = GradeItemKind)]
pub enum GradeItemKindView {
    Assignment,
    Manual,
    Category,
    Course,
}

/// A column of a course's gradebook.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = GradeItem)]
pub struct GradeItemView {
    pub id: GradeItemIdView,
    pub kind: GradeItemKindView,
    /// The assignment's activity, for an assignment's item.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activity: Option<u64>,
    pub name: String,
    /// The maximum grades lie within (a total's is computed).
    pub max_grade: f64,
    pub pass_grade: Option<f64>,
    pub due_at: Option<TimestampView>,
    /// The category it counts in; absent: straight in the course total.
    pub category: Option<GradeItemIdView>,
    /// Its weight in a weighted mean.
    pub weight: f64,
    /// How a total is computed (categories and the course total).
    pub aggregation: AggregationView,
    /// Hidden from learners (and left out of the totals they see).
    pub hidden: bool,
}

impl From<&ItemView> for GradeItemView {
    fn from(v: &ItemView) -> Self {
        let i = &v.item;
        let (kind, activity) = match i.source {
            GradeSource::Assignment(a) => (GradeItemKindView::Assignment, Some(a.0)),
            GradeSource::Manual => (GradeItemKindView::Manual, None),
            GradeSource::Category => (GradeItemKindView::Category, None),
            GradeSource::Course => (GradeItemKindView::Course, None),
        };
        Self {
            id: i.id.mirror(),
            kind,
            activity,
            name: i.name.clone(),
            max_grade: v.effective_max,
            pass_grade: i.pass_grade,
            due_at: i.due_at.mirror(),
            category: i.parent.mirror(),
            weight: i.weight,
            aggregation: i.aggregation.mirror(),
            hidden: i.hidden,
        }
    }
}

/// A course's grade items in gradebook order: each category's items then
/// its total, the course total last.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = GradeItemList)]
pub struct GradeItemListView {
    pub items: Vec<GradeItemView>,
}

impl From<GradebookSetup> for GradeItemListView {
    fn from(s: GradebookSetup) -> Self {
        Self {
            items: s.items.iter().map(GradeItemView::from).collect(),
        }
    }
}

/// One cell of the grader report.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = GradeCell)]
pub struct GradeCellView {
    pub item: GradeItemIdView,
    /// The grade; for a total the override or the computed value.
    pub value: Option<f64>,
    /// A total's value is an override of `computed`.
    pub overridden: bool,
    /// A total's computed value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub computed: Option<f64>,
}

impl From<&Cell> for GradeCellView {
    fn from(c: &Cell) -> Self {
        Self {
            item: c.item.mirror(),
            value: c.value,
            overridden: c.overridden,
            computed: c.computed,
        }
    }
}

/// A learner's row of the grader report.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = GraderReportRow)]
pub struct GraderReportRowView {
    pub user: UserIdView,
    pub username: String,
    pub firstname: String,
    pub lastname: String,
    pub email: String,
    /// Their groups in the course that the caller sees.
    pub groups: Vec<String>,
    /// One per item, in the report's order.
    pub cells: Vec<GradeCellView>,
}

impl From<&ReportRow> for GraderReportRowView {
    fn from(r: &ReportRow) -> Self {
        Self {
            user: r.user.mirror(),
            username: r.username.clone(),
            firstname: r.firstname.clone(),
            lastname: r.lastname.clone(),
            email: r.email.clone(),
            groups: r.groups.clone(),
            cells: r.cells.iter().map(GradeCellView::from).collect(),
        }
    }
}

/// The grader report: learners × items with the totals, filtered by
/// group, sorted and paged.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = GraderReport)]
pub struct GraderReportView {
    pub course: CourseView,
    pub items: Vec<GradeItemView>,
    /// The group shown; absent: every learner the caller sees.
    pub group: Option<CourseGroupIdView>,
    /// Whether the caller sees only their own groups.
    pub limited: bool,
    pub rows: Vec<GraderReportRowView>,
    /// Each item's mean over every learner of the filter (graded ones).
    pub means: Vec<Option<f64>>,
    /// Learners in the filter.
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

impl From<GraderReport> for GraderReportView {
    fn from(r: GraderReport) -> Self {
        Self {
            items: r.items.iter().map(GradeItemView::from).collect(),
            group: r.group.mirror(),
            limited: r.limited,
            rows: r.rows.iter().map(GraderReportRowView::from).collect(),
            means: r.means,
            total: r.total,
            page: r.page,
            per_page: r.per_page,
            course: r.course.into(),
        }
    }
}

/// One line of a learner's own report.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = UserReportLine)]
pub struct UserReportLineView {
    pub item: GradeItemView,
    pub value: Option<f64>,
    /// The grade as a percentage of the item's maximum.
    pub percent: Option<f64>,
    /// Whether the grade reaches the pass grade (when both exist).
    pub passed: Option<bool>,
    /// Markdown, as written.
    pub feedback: String,
}

/// A learner's own grades: the items they see, totals without hidden
/// items.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = UserReport)]
pub struct UserReportView {
    pub course: CourseView,
    pub user: UserIdView,
    pub lines: Vec<UserReportLineView>,
}

impl From<UserReport> for UserReportView {
    fn from(r: UserReport) -> Self {
        Self {
            user: r.user.mirror(),
            lines: r
                .lines
                .iter()
                .map(|l| UserReportLineView {
                    item: GradeItemView::from(&l.item),
                    value: l.value,
                    percent: l.percent,
                    passed: l.passed,
                    feedback: l.feedback.clone(),
                })
                .collect(),
            course: r.course.into(),
        }
    }
}

/// What a bulk save did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = GradesSaved)]
pub struct GradesSavedView {
    /// Grades whose value changed.
    pub changed: u64,
    /// Grades that already held the value.
    pub unchanged: u64,
}

impl From<GradesSaved> for GradesSavedView {
    fn from(s: GradesSaved) -> Self {
        Self {
            changed: s.changed,
            unchanged: s.unchanged,
        }
    }
}

/// One item's statistics over one cohort.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = GradeSummary)]
pub struct GradeSummaryView {
    pub members: u64,
    pub graded: u64,
    pub missing: u64,
    pub mean: Option<f64>,
    /// The middle grade; the mean of the two middle ones for an even count.
    pub median: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// Population standard deviation.
    pub std_dev: Option<f64>,
    /// Share of members with a grade, 0–1.
    pub completion: Option<f64>,
    /// Share of members at or above the pass grade, 0–1 (items with one).
    pub passed: Option<f64>,
}

impl From<&Summary> for GradeSummaryView {
    fn from(s: &Summary) -> Self {
        Self {
            members: s.members,
            graded: s.graded,
            missing: s.missing,
            mean: s.mean,
            median: s.median,
            min: s.min,
            max: s.max,
            std_dev: s.std_dev,
            completion: s.completion,
            passed: s.passed,
        }
    }
}

/// A set of learners compared: a group, or (no `group`) all the learners
/// the caller sees.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = GradeCohort)]
pub struct GradeCohortView {
    pub group: Option<CourseGroupIdView>,
    pub name: String,
    pub members: u64,
}

impl From<&Cohort> for GradeCohortView {
    fn from(c: &Cohort) -> Self {
        Self {
            group: c.group.mirror(),
            name: c.name.clone(),
            members: c.members,
        }
    }
}

/// One item's statistics per cohort, in the cohorts' order.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = ItemStatistics)]
pub struct ItemStatisticsView {
    pub item: GradeItemView,
    pub cohorts: Vec<GradeSummaryView>,
}

/// The per-group analysis of a course. A learner in several groups
/// counts in each.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = GroupStatistics)]
pub struct GroupStatisticsView {
    pub cohorts: Vec<GradeCohortView>,
    pub items: Vec<ItemStatisticsView>,
    /// Whether the caller sees only their own groups.
    pub limited: bool,
}

impl From<GroupStatistics> for GroupStatisticsView {
    fn from(s: GroupStatistics) -> Self {
        Self {
            cohorts: s.cohorts.iter().map(GradeCohortView::from).collect(),
            items: s
                .items
                .iter()
                .map(|i| ItemStatisticsView {
                    item: GradeItemView::from(&i.item),
                    cohorts: i.cohorts.iter().map(GradeSummaryView::from).collect(),
                })
                .collect(),
            limited: s.limited,
        }
    }
}

/// A grade a file sets.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = PlannedGrade)]
pub struct PlannedGradeView {
    pub row: u64,
    pub user: UserIdView,
    /// The identifier as the file gave it.
    pub who: String,
    pub item: GradeItemIdView,
    pub item_name: String,
    pub old: Option<f64>,
    pub new: f64,
}

impl From<&PlannedGrade> for PlannedGradeView {
    fn from(p: &PlannedGrade) -> Self {
        Self {
            row: p.row,
            user: p.user.mirror(),
            who: p.who.clone(),
            item: p.item.mirror(),
            item_name: p.item_name.clone(),
            old: p.old,
            new: p.new,
        }
    }
}

/// The answer to a grade import: the preview, the outcome, or why
/// nothing was written.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = GradeImportReport)]
pub struct GradeImportReportView {
    pub dry_run: bool,
    /// Whether the file was written: never on a dry run or with an error.
    pub applied: bool,
    pub rows: u64,
    pub errors: Vec<RowIssueView>,
    pub warnings: Vec<RowIssueView>,
    pub error_count: u64,
    pub warning_count: u64,
    /// Grades that change (at most 1,000 listed).
    pub changes: Vec<PlannedGradeView>,
    pub changed: u64,
    pub unchanged: u64,
}

impl From<GradeImportReport> for GradeImportReportView {
    fn from(r: GradeImportReport) -> Self {
        Self {
            dry_run: r.dry_run,
            applied: r.applied,
            rows: r.rows,
            errors: r.errors.into_iter().map(Into::into).collect(),
            warnings: r.warnings.into_iter().map(Into::into).collect(),
            error_count: r.error_count,
            warning_count: r.warning_count,
            changes: r.changes.iter().map(PlannedGradeView::from).collect(),
            changed: r.changed,
            unchanged: r.unchanged,
        }
    }
}
