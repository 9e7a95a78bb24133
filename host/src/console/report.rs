//! The console's words for what a command did, kept apart from `main.rs`
//! so that tests can read them.

use std::fmt::Write as _;

use crate::services::execution::MethodReconcile;

/// `charon sync reconcile` in words.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ReconcileText {
    pub text: String,
    /// Methods whose run failed.
    pub failed: usize,
    /// Methods whose dry run found actions the host would refuse: a real
    /// run would fail at the first of them.
    pub would_fail: usize,
}

/// What a reconcile (or its dry run) did, a line per enrolment method, and
/// under a dry run that would fail every refused action with its reason.
pub fn reconcile_text(results: &[MethodReconcile], dry_run: bool) -> ReconcileText {
    let verb = if dry_run { "would change" } else { "changed" };
    let mut out = ReconcileText::default();
    let text = &mut out.text;
    for r in results {
        match (&r.report, &r.error) {
            (Some(rep), _) => {
                let _ = writeln!(
                    text,
                    "enrolment method #{} (course #{}): {verb} {}, unchanged {}, {} page(s)",
                    r.method, r.course, rep.changed, rep.unchanged, rep.pages
                );
                // A dry run goes past refusals to list them all.
                if rep.refused_actions > 0 {
                    out.would_fail += 1;
                    let _ = writeln!(
                        text,
                        "  would FAIL: the host would refuse {} action(s):",
                        rep.refused_actions
                    );
                    let listed = rep.refused.as_deref().unwrap_or_default();
                    for refused in listed {
                        let _ = writeln!(text, "  - {refused}");
                    }
                    let more = rep.refused_actions.saturating_sub(listed.len() as u64);
                    if more > 0 {
                        let _ = writeln!(text, "  … and {more} more");
                    }
                }
            }
            (None, Some(e)) => {
                out.failed += 1;
                let _ = writeln!(
                    text,
                    "enrolment method #{} (course #{}): FAILED: {e}",
                    r.method, r.course
                );
            }
            (None, None) => {}
        }
    }
    let _ = if dry_run {
        writeln!(
            text,
            "{} enrolment method(s) tried (dry run, nothing written), {} failed, {} would fail",
            results.len(),
            out.failed,
            out.would_fail
        )
    } else {
        writeln!(
            text,
            "{} enrolment method(s) reconciled, {} failed",
            results.len(),
            out.failed
        )
    };
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::*;
    use crate::services::execution::{ReconcileReport, RefusedAction};

    #[test]
    fn a_dry_run_lists_each_refused_action_with_its_reason() {
        let refused = RefusedAction {
            page: 1,
            position: 2,
            action: PlanAction {
                op: PlanOp::AddToGroup {
                    user: UserId(7),
                    group: PlanGroup::Existing(CourseGroupId(9)),
                },
                reason: "r".into(),
            },
            reason: "group #9 belongs to another course".into(),
        };
        let results = [MethodReconcile {
            method: EnrolmentMethodId(3),
            course: CourseId(1),
            report: Some(ReconcileReport {
                pages: 1,
                actions: 3,
                changed: 1,
                refused_actions: 2,
                refused: Some(vec![refused]),
                ..Default::default()
            }),
            error: None,
        }];
        let told = reconcile_text(&results, true);
        assert_eq!((told.failed, told.would_fail), (0, 1));
        assert_eq!(
            told.text,
            "enrolment method #3 (course #1): would change 1, unchanged 0, 1 page(s)\n\
             \x20 would FAIL: the host would refuse 2 action(s):\n\
             \x20 - page 1, action 2 (add user #7 to group #9): group #9 belongs to another course\n\
             \x20 … and 1 more\n\
             1 enrolment method(s) tried (dry run, nothing written), 0 failed, 1 would fail\n"
        );
    }
}
