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

/// Summarises `grades` (sorted here) of a set of `members` learners.
pub fn summarise(grades: &mut [f64], members: u64, pass: Option<f64>) -> Summary {
    grades.sort_unstable_by(f64::total_cmp);
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
    out.mean = Some(mean);
    out.median = Some(if n % 2 == 1 {
        grades[n / 2]
    } else {
        (grades[n / 2 - 1] + grades[n / 2]) / 2.0
    });
    out.min = grades.first().copied();
    out.max = grades.last().copied();
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

    #[test]
    fn nobody_graded_has_no_figures_and_no_members_no_shares() {
        let s = summarise(&mut [], 3, Some(1.0));
        assert_eq!((s.graded, s.missing, s.mean, s.median), (0, 3, None, None));
        assert_eq!((s.completion, s.passed), (Some(0.0), Some(0.0)));
        let s = summarise(&mut [], 0, Some(1.0));
        assert_eq!((s.completion, s.passed), (None, None));
    }
}
