//! The numbers of one item for one set of learners: how many are graded,
//! the mean, median, spread and completion. Pure.

use serde::Serialize;

/// The statistics of one item over one set of learners (a group, or all
/// the learners the caller sees).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Summary {
    /// Learners in the set.
    pub members: u64,
    /// Those with a grade.
    pub graded: u64,
    /// Those without one.
    pub missing: u64,
    pub mean: Option<f64>,
    /// The middle grade; the mean of the two middle ones for an even count.
    pub median: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// The population standard deviation of the grades.
    pub std_dev: Option<f64>,
    /// The share of members with a grade (0–1).
    pub completion: Option<f64>,
    /// The share of members graded at or above the item's pass grade
    /// (0–1), when it has one.
    pub passed: Option<f64>,
}

/// Summarises `grades` (reordered here) of a set of `members` learners.
/// The median is found by selection, not by sorting: the analysis
/// summarises a thousand cohorts × items at once.
pub fn summarise(grades: &mut [f64], members: u64, pass: Option<f64>) -> Summary {
    let graded = grades.len() as u64;
    let share = |n: u64| (members > 0).then(|| n as f64 / members as f64);
    let passed = pass.and_then(|p| share(grades.iter().filter(|&&g| g >= p).count() as u64));
    let mut out = Summary {
        members,
        graded,
        missing: members.saturating_sub(graded),
        completion: share(graded),
        passed,
        ..Summary::default()
    };
    let n = grades.len();
    if n == 0 {
        return out;
    }
    let mean = grades.iter().sum::<f64>() / n as f64;
    let variance = grades.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / n as f64;
    let (min, max) = grades
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &g| {
            (lo.min(g), hi.max(g))
        });
    let (lower, middle, _) = grades.select_nth_unstable_by(n / 2, f64::total_cmp);
    let middle = *middle;
    out.median = Some(if n % 2 == 1 {
        middle
    } else {
        // Everything below the middle is in `lower`: its largest is the
        // other middle grade.
        let below = lower.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (below + middle) / 2.0
    });
    out.mean = Some(mean);
    out.min = Some(min);
    out.max = Some(max);
    out.std_dev = Some(variance.sqrt());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_and_even_counts_have_their_medians() {
        let s = summarise(&mut [9.0, 1.0, 5.0], 4, Some(5.0));
        assert_eq!(s.median, Some(5.0));
        assert_eq!((s.graded, s.missing), (3, 1));
        assert_eq!(s.completion, Some(0.75));
        assert_eq!(s.passed, Some(0.5));
        let s = summarise(&mut [4.0, 1.0, 2.0, 10.0], 4, None);
        assert_eq!(s.median, Some(3.0));
        assert_eq!((s.min, s.max, s.mean), (Some(1.0), Some(10.0), Some(4.25)));
        assert_eq!(s.passed, None);
        // Population deviation of 1, 2, 4, 10 around 4.25.
        let var = (3.25f64.powi(2) + 2.25f64.powi(2) + 0.25f64.powi(2) + 5.75f64.powi(2)) / 4.0;
        assert!((s.std_dev.unwrap() - var.sqrt()).abs() < 1e-12);
    }

    /// Selection against sorting, on awkward inputs: duplicates, one
    /// value, two values, descending runs.
    #[test]
    fn the_median_by_selection_is_the_median_of_the_sorted_grades() {
        let cases: [&[f64]; 5] = [
            &[3.0],
            &[2.0, 1.0],
            &[5.0, 5.0, 1.0, 5.0],
            &[9.0, 8.0, 7.0, 6.0, 5.0, 4.0, 3.0, 2.0],
            &[0.5, 100.0, 0.5, 42.0, 17.25, 99.0, 3.0],
        ];
        for case in cases {
            let mut sorted = case.to_vec();
            sorted.sort_by(f64::total_cmp);
            let n = sorted.len();
            let want = if n % 2 == 1 {
                sorted[n / 2]
            } else {
                (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
            };
            let s = summarise(&mut case.to_vec(), n as u64, None);
            assert_eq!(s.median, Some(want), "{case:?}");
            assert_eq!(
                (s.min, s.max),
                (sorted.first().copied(), sorted.last().copied())
            );
        }
    }

    #[test]
    fn nobody_graded_has_no_figures_and_no_members_no_shares() {
        let s = summarise(&mut [], 3, Some(1.0));
        assert_eq!((s.graded, s.missing, s.mean, s.median), (0, 3, None, None));
        assert_eq!((s.completion, s.passed), (Some(0.0), Some(0.0)));
        let s = summarise(&mut [], 0, Some(1.0));
        assert_eq!((s.completion, s.passed), (None, None));
    }
}
