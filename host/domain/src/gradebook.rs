//! The gradebook (issue 19): a course's grade items — assignments', manual
//! ones, category totals and the course total — and the entries that are
//! its cells. Plain data; the aggregation rules live in the host's
//! `services::gradebook::compute`.
//!
//! A category is itself an item (Moodle's "category item"): its row names
//! the category, says how its total is aggregated, and items point to it
//! through `parent`. Categories hold items, not other categories. The
//! course total is the one item of source [`GradeSource::Course`]. An entry
//! on a total item is an override of the computed value.

use serde::{Deserialize, Serialize};

use crate::{ActivityId, Actor, CourseId, GradeItemId, Timestamp, UserId};

/// Where a grade item's grades come from.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GradeSource {
    /// Graded through an assignment (its activity).
    Assignment(ActivityId),
    /// Entered by teachers (in the grader report, a CSV import or the API).
    Manual,
    /// The total of a category: computed from the items whose `parent` it
    /// is, unless overridden.
    Category,
    /// The course total: computed from the items and categories without a
    /// parent, unless overridden.
    Course,
}

/// How a total is computed from its children's grades.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    /// The mean of the grades, each as a share of its item's maximum, out
    /// of 100. The default: it compares learners and groups fairly
    /// whatever the items' maxima. Missing grades are left out.
    #[default]
    Mean,
    /// As `Mean`, each grade counting `weight` times.
    WeightedMean,
    /// The points earned out of the points available (the sum of the
    /// children's maxima); a missing grade earns nothing.
    Sum,
}

impl Aggregation {
    pub const ALL: [Aggregation; 3] = [
        Aggregation::Mean,
        Aggregation::WeightedMean,
        Aggregation::Sum,
    ];

    /// The name forms and the API use.
    pub fn as_str(self) -> &'static str {
        match self {
            Aggregation::Mean => "mean",
            Aggregation::WeightedMean => "weighted_mean",
            Aggregation::Sum => "sum",
        }
    }

    /// What pages call it.
    pub fn label(self) -> &'static str {
        match self {
            Aggregation::Mean => "Mean of grades",
            Aggregation::WeightedMean => "Weighted mean of grades",
            Aggregation::Sum => "Sum of grades",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// A column of a course's gradebook.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GradeItem {
    pub id: GradeItemId,
    pub course: CourseId,
    pub source: GradeSource,
    pub name: String,
    /// Grades lie within `0..=max_grade`. For a total it is 100 under a
    /// mean and the children's sum under `Sum` (computed, kept here as
    /// last written).
    pub max_grade: f64,
    /// The grade at or above which a learner passes, if the item has one.
    pub pass_grade: Option<f64>,
    /// When the work is due (manual items; an assignment's is its own).
    pub due_at: Option<Timestamp>,
    /// The category item it counts in; `None`: straight in the course
    /// total (always `None` for categories and the course total).
    pub parent: Option<GradeItemId>,
    /// Its weight in its parent's weighted mean (ignored otherwise).
    pub weight: f64,
    /// How a total is computed (categories and the course total only).
    pub aggregation: Aggregation,
    /// Hidden from learners: their own entries too, and left out of the
    /// totals they see.
    pub hidden: bool,
    pub created_at: Timestamp,
}

impl GradeItem {
    /// An item of `course` out of `max_grade`, counting straight in the
    /// course total with weight 1, no pass grade and no due date.
    pub fn new(
        id: GradeItemId,
        course: CourseId,
        source: GradeSource,
        name: String,
        max_grade: f64,
        created_at: Timestamp,
    ) -> Self {
        Self {
            id,
            course,
            source,
            name,
            max_grade,
            pass_grade: None,
            due_at: None,
            parent: None,
            weight: 1.0,
            aggregation: Aggregation::default(),
            hidden: false,
            created_at,
        }
    }

    /// A category total or the course total: computed, overridable.
    pub fn is_total(&self) -> bool {
        matches!(self.source, GradeSource::Category | GradeSource::Course)
    }
}

/// One user's grade for one item, with who gave it and when. A row
/// exists once someone graded; `value: None` is feedback without a grade.
/// On a total item it is an override of the computed total.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GradeEntry {
    pub item: GradeItemId,
    pub user: UserId,
    pub value: Option<f64>,
    /// Markdown, as written; rendered sanitised wherever it is shown.
    pub feedback: String,
    pub graded_by: Actor,
    pub graded_at: Timestamp,
}
