//! How totals are computed: a course's items laid out once as a [`Book`],
//! then each learner's cells turned into a row of values with the
//! category totals and the course total filled in.
//!
//! The rules (Moodle's, with "aggregate only non-empty grades" on):
//! - **Mean of grades** (the default): each graded child as a share of its
//!   maximum, averaged, out of 100. Missing grades are left out.
//! - **Weighted mean**: as the mean, each child counting its `weight`
//!   times; children of weight 0 do not count.
//! - **Sum**: the points earned; the total's maximum is the children's
//!   maxima added up, so a missing grade earns nothing.
//!
//! A total nobody graded a child of is missing, not 0. An entry on a total
//! overrides the computed value, and the override is what its parent
//! aggregates. In a learner's view hidden items (and the items of a hidden
//! category) are left out, as if they did not exist; staff see all.
//!
//! Pure: no storage, no authorisation.

use crate::domain::*;

/// Whose view a row is computed for.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum View {
    /// Teachers and admins: every item counts.
    Staff,
    /// A learner: hidden items do not exist.
    Learner,
}

/// A course's grade items in display order — each category's items then
/// the category's total, uncategorised items among the categories by id,
/// the course total last — with what each total aggregates.
#[derive(Clone, Debug)]
pub struct Book {
    pub items: Vec<GradeItem>,
    /// Item ids ascending with their position in `items` (cells are looked
    /// up by binary search: a course has tens of items).
    by_id: Vec<(GradeItemId, usize)>,
    /// For each position, the positions it aggregates (empty unless a
    /// total).
    children: Vec<Vec<usize>>,
    /// The positions of the category totals, then the course total: the
    /// order totals are computed in.
    totals: Vec<usize>,
    /// Per view (staff, learner): whether the item exists in it, and its
    /// effective maximum.
    shown: [Vec<bool>; 2],
    max: [Vec<f64>; 2],
}

/// One learner's values, by position in the [`Book`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Row {
    /// What the learner's grade is: the entry, the override of a total, or
    /// the computed total.
    pub values: Vec<Option<f64>>,
    /// The computed value of each total, overridden or not (`None` for
    /// other items and for totals with nothing graded).
    pub computed: Vec<Option<f64>>,
    /// Whether the value of a total is an override.
    pub overridden: Vec<bool>,
}

fn view_index(view: View) -> usize {
    match view {
        View::Staff => 0,
        View::Learner => 1,
    }
}

impl Book {
    /// Lays out `items` (one course's). A course without a course total
    /// item (never written by the host) gets none: its totals are missing.
    pub fn new(mut items: Vec<GradeItem>) -> Self {
        items.sort_by_key(|i| i.id);
        let is_category = |items: &[GradeItem], id: Option<GradeItemId>| {
            id.and_then(|id| items.iter().find(|i| i.id == id))
                .is_some_and(|i| i.source == GradeSource::Category)
        };
        // Top level: categories and the items without a (valid) category.
        let mut ordered = Vec::with_capacity(items.len());
        let mut course_total = None;
        for item in &items {
            match item.source {
                GradeSource::Course => course_total = Some(item.clone()),
                GradeSource::Category => {
                    for child in &items {
                        if !child.is_total() && child.parent == Some(item.id) {
                            ordered.push(child.clone());
                        }
                    }
                    ordered.push(item.clone());
                }
                _ if !is_category(&items, item.parent) => ordered.push(item.clone()),
                _ => {}
            }
        }
        ordered.extend(course_total);
        let items = ordered;
        let mut by_id: Vec<(GradeItemId, usize)> =
            items.iter().enumerate().map(|(i, it)| (it.id, i)).collect();
        by_id.sort_unstable();
        let position = |id: GradeItemId| by_id.binary_search_by_key(&id, |p| p.0).ok();
        let mut children = vec![Vec::new(); items.len()];
        let mut totals = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match item.source {
                GradeSource::Category => totals.push(i),
                GradeSource::Course => {}
                _ => {
                    let parent = item
                        .parent
                        .and_then(position)
                        .map(|p| by_id[p].1)
                        .filter(|&p| items[p].source == GradeSource::Category);
                    if let Some(p) = parent {
                        children[p].push(i);
                    }
                }
            }
        }
        if let Some(course) = items.iter().position(|i| i.source == GradeSource::Course) {
            children[course] = (0..items.len())
                .filter(|&i| i != course)
                .filter(|&i| {
                    items[i].source == GradeSource::Category
                        || !is_category(&items, items[i].parent)
                })
                .collect();
            totals.push(course);
        }
        let mut book = Book {
            items,
            by_id,
            children,
            totals,
            shown: [Vec::new(), Vec::new()],
            max: [Vec::new(), Vec::new()],
        };
        for view in [View::Staff, View::Learner] {
            let v = view_index(view);
            let shown: Vec<bool> = (0..book.items.len())
                .map(|i| view == View::Staff || !book.hidden_from_learners(i))
                .collect();
            let mut max: Vec<f64> = book.items.iter().map(|i| i.max_grade).collect();
            for &t in &book.totals {
                max[t] = match book.items[t].aggregation {
                    Aggregation::Mean | Aggregation::WeightedMean => 100.0,
                    Aggregation::Sum => book.children[t]
                        .iter()
                        .filter(|&&c| shown[c])
                        .map(|&c| max[c])
                        .sum(),
                };
            }
            book.shown[v] = shown;
            book.max[v] = max;
        }
        book
    }

    fn hidden_from_learners(&self, i: usize) -> bool {
        let item = &self.items[i];
        item.hidden
            || item.parent.and_then(|p| self.position(p)).is_some_and(|p| {
                self.items[p].source == GradeSource::Category && self.items[p].hidden
            })
    }

    /// Where item `id` is in `items`.
    pub fn position(&self, id: GradeItemId) -> Option<usize> {
        self.by_id
            .binary_search_by_key(&id, |p| p.0)
            .ok()
            .map(|p| self.by_id[p].1)
    }

    /// Whether the item at `i` exists in `view`.
    pub fn shown(&self, view: View, i: usize) -> bool {
        self.shown[view_index(view)][i]
    }

    /// The item at `i`'s maximum in `view` (a total's is computed).
    pub fn max(&self, view: View, i: usize) -> f64 {
        self.max[view_index(view)][i]
    }

    /// The course total's position, if the course has one.
    pub fn course_total(&self) -> Option<usize> {
        self.totals
            .last()
            .copied()
            .filter(|&i| self.items[i].source == GradeSource::Course)
    }

    /// A row of nothing graded, sized for this book.
    pub fn empty_row(&self) -> Row {
        let n = self.items.len();
        Row {
            values: vec![None; n],
            computed: vec![None; n],
            overridden: vec![false; n],
        }
    }

    /// Fills `row` with one learner's values from their `cells` (item,
    /// value) as stored, computing the totals for `view`. Cells of items
    /// not in the book (another course's, deleted) are ignored.
    pub fn compute_into(&self, cells: &[(GradeItemId, Option<f64>)], view: View, row: &mut Row) {
        let v = view_index(view);
        let n = self.items.len();
        row.values.clear();
        row.values.resize(n, None);
        row.computed.clear();
        row.computed.resize(n, None);
        row.overridden.clear();
        row.overridden.resize(n, false);
        for &(id, value) in cells {
            let Some(i) = self.position(id) else { continue };
            if !self.shown[v][i] {
                continue;
            }
            if self.items[i].is_total() {
                if value.is_some() {
                    row.values[i] = value;
                    row.overridden[i] = true;
                }
            } else {
                row.values[i] = value;
            }
        }
        for &t in &self.totals {
            if !self.shown[v][t] {
                continue;
            }
            let computed = self.aggregate(v, t, &row.values);
            row.computed[t] = computed;
            if !row.overridden[t] {
                row.values[t] = computed;
            }
        }
    }

    /// A learner's row from their cells.
    pub fn compute(&self, cells: &[(GradeItemId, Option<f64>)], view: View) -> Row {
        let mut row = self.empty_row();
        self.compute_into(cells, view, &mut row);
        row
    }

    fn aggregate(&self, v: usize, total: usize, values: &[Option<f64>]) -> Option<f64> {
        let graded = self.children[total]
            .iter()
            .filter(|&&c| self.shown[v][c])
            .filter_map(|&c| values[c].map(|value| (c, value)));
        match self.items[total].aggregation {
            Aggregation::Mean => {
                let (mut sum, mut n) = (0.0, 0u32);
                for (c, value) in graded {
                    let max = self.max[v][c];
                    if max > 0.0 {
                        sum += value / max;
                        n += 1;
                    }
                }
                (n > 0).then(|| sum / f64::from(n) * 100.0)
            }
            Aggregation::WeightedMean => {
                let (mut sum, mut weights) = (0.0, 0.0);
                for (c, value) in graded {
                    let (max, weight) = (self.max[v][c], self.items[c].weight);
                    if max > 0.0 && weight > 0.0 {
                        sum += weight * value / max;
                        weights += weight;
                    }
                }
                (weights > 0.0).then(|| sum / weights * 100.0)
            }
            Aggregation::Sum => {
                let mut any = false;
                let mut sum = 0.0;
                for (_, value) in graded {
                    any = true;
                    sum += value;
                }
                any.then_some(sum)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: u64, source: GradeSource, max: f64) -> GradeItem {
        GradeItem {
            id: GradeItemId(id),
            course: CourseId(1),
            source,
            name: format!("item {id}"),
            max_grade: max,
            pass_grade: None,
            due_at: None,
            parent: None,
            weight: 1.0,
            aggregation: Aggregation::Mean,
            hidden: false,
            created_at: Timestamp(0),
        }
    }

    fn cells(list: &[(u64, f64)]) -> Vec<(GradeItemId, Option<f64>)> {
        list.iter()
            .map(|&(i, v)| (GradeItemId(i), Some(v)))
            .collect()
    }

    /// A quiz out of 10 and a check out of 50 under a category out of
    /// 100, an essay out of 20 at the top, the course total.
    fn book(course: Aggregation, category: Aggregation) -> Book {
        let mut cat = item(2, GradeSource::Category, 100.0);
        cat.aggregation = category;
        let mut quiz = item(3, GradeSource::Manual, 10.0);
        quiz.parent = Some(GradeItemId(2));
        let mut check = item(4, GradeSource::Manual, 50.0);
        check.parent = Some(GradeItemId(2));
        check.weight = 3.0;
        let essay = item(5, GradeSource::Assignment(ActivityId(9)), 20.0);
        let mut total = item(1, GradeSource::Course, 100.0);
        total.aggregation = course;
        Book::new(vec![essay, total, check, cat, quiz])
    }

    fn value(book: &Book, row: &Row, id: u64) -> Option<f64> {
        row.values[book.position(GradeItemId(id)).unwrap()]
    }

    #[test]
    fn items_are_laid_out_category_by_category_with_the_course_total_last() {
        let b = book(Aggregation::Mean, Aggregation::Mean);
        let ids: Vec<u64> = b.items.iter().map(|i| i.id.0).collect();
        assert_eq!(ids, [3, 4, 2, 5, 1]);
        assert_eq!(b.course_total(), Some(4));
    }

    #[test]
    fn the_mean_averages_shares_and_leaves_out_missing_grades() {
        let b = book(Aggregation::Mean, Aggregation::Mean);
        // Quiz 5/10 = 0.5, check missing → category 50; essay 15/20 = 0.75.
        let row = b.compute(&cells(&[(3, 5.0), (5, 15.0)]), View::Staff);
        assert_eq!(value(&b, &row, 2), Some(50.0));
        assert_eq!(value(&b, &row, 1), Some((0.5 + 0.75) / 2.0 * 100.0));
        // Nothing graded: every total is missing, not 0.
        let row = b.compute(&[], View::Staff);
        assert_eq!(value(&b, &row, 2), None);
        assert_eq!(value(&b, &row, 1), None);
    }

    #[test]
    fn the_weighted_mean_counts_each_grade_its_weight() {
        let b = book(Aggregation::Mean, Aggregation::WeightedMean);
        // Quiz 10/10 weight 1, check 25/50 weight 3: (1 + 1.5) / 4.
        let row = b.compute(&cells(&[(3, 10.0), (4, 25.0)]), View::Staff);
        assert_eq!(value(&b, &row, 2), Some(2.5 / 4.0 * 100.0));
    }

    #[test]
    fn the_sum_adds_points_out_of_the_childrens_maxima() {
        let b = book(Aggregation::Sum, Aggregation::Sum);
        let row = b.compute(&cells(&[(3, 7.0), (4, 20.0), (5, 10.0)]), View::Staff);
        assert_eq!(value(&b, &row, 2), Some(27.0));
        assert_eq!(value(&b, &row, 1), Some(37.0));
        assert_eq!(
            b.max(View::Staff, b.position(GradeItemId(2)).unwrap()),
            60.0
        );
        assert_eq!(b.max(View::Staff, b.course_total().unwrap()), 80.0);
    }

    #[test]
    fn an_override_replaces_the_computed_total_and_feeds_its_parent() {
        let b = book(Aggregation::Sum, Aggregation::Sum);
        let mut list = cells(&[(3, 7.0), (4, 20.0), (5, 10.0)]);
        list.push((GradeItemId(2), Some(40.0)));
        let row = b.compute(&list, View::Staff);
        let cat = b.position(GradeItemId(2)).unwrap();
        assert!(row.overridden[cat]);
        assert_eq!(row.values[cat], Some(40.0));
        assert_eq!(row.computed[cat], Some(27.0));
        assert_eq!(value(&b, &row, 1), Some(50.0));
        // Feedback without a grade on a total is no override.
        let row = b.compute(&[(GradeItemId(2), None)], View::Staff);
        assert!(!row.overridden[cat]);
    }

    #[test]
    fn learners_totals_leave_hidden_items_out() {
        let mut items = book(Aggregation::Sum, Aggregation::Sum).items;
        items.iter_mut().find(|i| i.id.0 == 5).unwrap().hidden = true;
        let b = Book::new(items);
        let list = cells(&[(3, 7.0), (4, 20.0), (5, 10.0)]);
        let staff = b.compute(&list, View::Staff);
        let learner = b.compute(&list, View::Learner);
        assert_eq!(value(&b, &staff, 1), Some(37.0));
        assert_eq!(value(&b, &learner, 1), Some(27.0));
        assert_eq!(value(&b, &learner, 5), None);
        assert_eq!(b.max(View::Learner, b.course_total().unwrap()), 60.0);
        // A hidden category hides its items too.
        let mut items = b.items.clone();
        items.iter_mut().find(|i| i.id.0 == 2).unwrap().hidden = true;
        let b = Book::new(items);
        assert!(!b.shown(View::Learner, b.position(GradeItemId(3)).unwrap()));
        assert!(b.shown(View::Staff, b.position(GradeItemId(3)).unwrap()));
    }
}
