//! Service tests of the gradebook on a temp redb: totals, the reports,
//! the statistics against an independent computation, bulk entry and
//! the CSV import refusing bad input without writing, and the exports.

use super::entry::GradeChange;
use super::export::ExportKind;
use super::report::{ReportQuery, SortKey};
use super::{GradeItemDraft, GradeItemUpdate, NewItemKind};
use crate::domain::*;
use crate::services::error::ServiceError;
use crate::services::testing::TestSite;

fn change(user: UserId, item: GradeItemId, value: Option<f64>) -> GradeChange {
    GradeChange { user, item, value }
}

/// The newest audit entries whose action starts with `prefix`.
fn audit(fx: &TestSite, prefix: &str) -> Vec<AuditEntry> {
    let filter = crate::services::AuditFilter {
        action_prefix: Some(prefix.into()),
        ..Default::default()
    };
    fx.site
        .audit_log(&fx.admin, &filter, None, 50)
        .unwrap()
        .items
}

/// The value of `item` in `user`'s row of the report.
fn cell(report: &super::report::GraderReport, user: UserId, item: GradeItemId) -> Option<f64> {
    let row = report.rows.iter().find(|r| r.user == user).expect("row");
    row.cells
        .iter()
        .find(|c| c.item == item)
        .expect("cell")
        .value
}

#[test]
fn the_report_computes_category_and_course_totals_by_mean() {
    let fx = TestSite::new().with_teams();
    let s = fx.gradebook_sample();
    let r = fx
        .site
        .grader_report(&fx.teacher, fx.course, &ReportQuery::default())
        .unwrap();
    let l = &fx.learners;
    assert_eq!(r.total, 4);
    // Learner 1: check 40/50 → category 80; quiz 8/10 → total (80 + 80) / 2.
    assert_eq!(cell(&r, l[0], s.category), Some(80.0));
    assert_eq!(cell(&r, l[0], s.total), Some(80.0));
    // Learner 2: quiz 4/10 only; the empty category is missing, not 0.
    assert_eq!(cell(&r, l[1], s.category), None);
    assert_eq!(cell(&r, l[1], s.total), Some(40.0));
    assert_eq!(cell(&r, l[3], s.total), None);
    // Items in gradebook order, each total's maximum computed.
    let names: Vec<&str> = r.items.iter().map(|i| i.item.name.as_str()).collect();
    assert_eq!(
        names,
        ["Practical check", "Practicals", "Quiz", "Course total"]
    );
    // Groups shown per learner.
    let row = r.rows.iter().find(|x| x.user == l[0]).unwrap();
    assert_eq!(row.groups, ["Team A"]);
}

#[test]
fn an_override_is_marked_and_clearing_it_restores_the_computed_total() {
    let fx = TestSite::new().with_teams();
    let s = fx.gradebook_sample();
    let l0 = fx.learners[0];
    fx.site
        .set_grades(&fx.teacher, fx.course, &[change(l0, s.total, Some(65.0))])
        .unwrap();
    let r = fx
        .site
        .grader_report(&fx.teacher, fx.course, &ReportQuery::default())
        .unwrap();
    let row = r.rows.iter().find(|x| x.user == l0).unwrap();
    let total = row.cells.iter().find(|c| c.item == s.total).unwrap();
    assert!(total.overridden);
    assert_eq!((total.value, total.computed), (Some(65.0), Some(80.0)));
    fx.site
        .set_grades(&fx.teacher, fx.course, &[change(l0, s.total, None)])
        .unwrap();
    let r = fx
        .site
        .grader_report(&fx.teacher, fx.course, &ReportQuery::default())
        .unwrap();
    assert_eq!(cell(&r, l0, s.total), Some(80.0));
    let audit = audit(&fx, "grade.");
    assert!(
        audit
            .iter()
            .any(|e| e.reason.contains("override 65 → none")),
        "{audit:?}"
    );
}

#[test]
fn learners_see_their_own_grades_without_hidden_items() {
    let fx = TestSite::new().with_teams();
    let s = fx.gradebook_sample();
    fx.site
        .update_grade_item(
            &fx.teacher,
            s.quiz,
            GradeItemUpdate {
                hidden: Some(true),
                ..Default::default()
            },
        )
        .unwrap();
    let mine = fx.site.user_report(&fx.learner(0), fx.course).unwrap();
    let names: Vec<&str> = mine
        .lines
        .iter()
        .map(|x| x.item.item.name.as_str())
        .collect();
    assert_eq!(names, ["Practical check", "Practicals", "Course total"]);
    // Without the hidden quiz the total is the category's 80 alone.
    assert_eq!(mine.lines[2].value, Some(80.0));
    assert_eq!(mine.lines[0].passed, Some(true));
    // Staff still count it.
    let r = fx
        .site
        .grader_report(&fx.teacher, fx.course, &ReportQuery::default())
        .unwrap();
    assert_eq!(cell(&r, fx.learners[0], s.total), Some(80.0));
    assert_eq!(cell(&r, fx.learners[1], s.total), Some(40.0));
    // The grader report is staff only.
    assert!(matches!(
        fx.site
            .grader_report(&fx.learner(0), fx.course, &ReportQuery::default()),
        Err(ServiceError::Forbidden(_))
    ));
}

#[test]
fn a_limited_teacher_sees_and_grades_only_their_group() {
    let fx = TestSite::new().with_teams();
    let s = fx.gradebook_sample();
    let limited = fx.as_user(fx.non_editing_teacher_in("nonedit", fx.team_a));
    let r = fx
        .site
        .grader_report(&limited, fx.course, &ReportQuery::default())
        .unwrap();
    let users: Vec<UserId> = r.rows.iter().map(|x| x.user).collect();
    assert_eq!(users, fx.learners[0..2]);
    assert!(r.limited);
    assert_eq!(r.groups.len(), 1);
    let other = ReportQuery {
        group: Some(fx.team_b),
        ..Default::default()
    };
    assert!(matches!(
        fx.site.grader_report(&limited, fx.course, &other),
        Err(ServiceError::NotFound(_))
    ));
    let before = fx.snapshot();
    let err = fx
        .site
        .set_grades(
            &limited,
            fx.course,
            &[
                change(fx.learners[0], s.quiz, Some(9.0)),
                change(fx.learners[2], s.quiz, Some(9.0)),
            ],
        )
        .unwrap_err();
    let ServiceError::GradesRejected(cells) = err else {
        panic!("{err:?}")
    };
    assert_eq!(cells.len(), 1);
    assert_eq!(cells[0].user, fx.learners[2]);
    fx.assert_unchanged(&before);
}

#[test]
fn bad_grades_are_all_refused_and_nothing_is_written() {
    let fx = TestSite::new().with_teams();
    let s = fx.gradebook_sample();
    let l = &fx.learners;
    let before = fx.snapshot();
    let err = fx
        .site
        .set_grades(
            &fx.teacher,
            fx.course,
            &[
                change(l[0], s.quiz, Some(9.0)),
                change(l[1], s.quiz, Some(11.0)),
                change(l[1], s.check, Some(-1.0)),
                change(l[1], s.total, Some(f64::NAN)),
                change(l[1], GradeItemId(9_999), Some(1.0)),
                change(fx.teacher_id, s.quiz, Some(1.0)),
            ],
        )
        .unwrap_err();
    let ServiceError::GradesRejected(cells) = err else {
        panic!("{err:?}")
    };
    let messages: Vec<&str> = cells.iter().map(|c| c.message.as_str()).collect();
    assert_eq!(cells.len(), 5, "{messages:?}");
    assert!(
        messages[0].contains("11 is above the maximum 10"),
        "{messages:?}"
    );
    assert!(messages[1].contains("below 0"));
    assert!(messages[2].contains("must be a number"));
    assert!(messages[3].contains("not in this course"));
    assert!(messages[4].contains("not a learner"));
    fx.assert_unchanged(&before);
}

#[test]
fn the_report_sorts_by_any_column_and_pages() {
    let fx = TestSite::new().with_teams();
    let s = fx.gradebook_sample();
    let l = &fx.learners;
    let order = |sort, descending, page, per_page| {
        let q = ReportQuery {
            sort,
            descending,
            page,
            per_page,
            ..Default::default()
        };
        let r = fx.site.grader_report(&fx.teacher, fx.course, &q).unwrap();
        r.rows.iter().map(|x| x.user).collect::<Vec<_>>()
    };
    // Quiz: l0 8, l1 4, others none (missing last both ways).
    assert_eq!(
        order(SortKey::Item(s.quiz), false, 1, 10),
        [l[1], l[0], l[2], l[3]]
    );
    assert_eq!(
        order(SortKey::Item(s.quiz), true, 1, 10),
        [l[0], l[1], l[2], l[3]]
    );
    assert_eq!(order(SortKey::Item(s.quiz), true, 2, 3), [l[3]]);
    assert_eq!(order(SortKey::Name, true, 1, 2), [l[3], l[2]]);
}

/// Every figure of the analysis against a computation written out here,
/// not through `stats`: a learner in two groups counts in both, a group
/// with no grades, the even and odd medians, the pass shares.
#[test]
fn statistics_match_an_independent_computation() {
    let fx = TestSite::new().with_teams();
    let s = fx.gradebook_sample();
    let l = &fx.learners;
    // Learner 1 joins Team B too; an empty group "Team C".
    fx.site
        .add_group_members(&fx.admin, fx.team_b, &[l[0]])
        .unwrap();
    fx.add_group(fx.course, "Team C");
    fx.site
        .set_grades(&fx.teacher, fx.course, &[change(l[3], s.quiz, Some(7.0))])
        .unwrap();
    let stats = fx.site.group_statistics(&fx.teacher, fx.course).unwrap();
    let cohorts: Vec<(&str, u64)> = stats
        .cohorts
        .iter()
        .map(|c| (c.name.as_str(), c.members))
        .collect();
    assert_eq!(
        cohorts,
        [
            ("All participants", 4),
            ("Team A", 2),
            ("Team B", 3),
            ("Team C", 0)
        ]
    );
    let quiz = stats
        .items
        .iter()
        .find(|i| i.item.item.id == s.quiz)
        .unwrap();
    // All: 8, 4, 7 of 4 members. Even/odd: Team B has l0 8 and l3 7 (+ l2 none).
    let all = &quiz.cohorts[0];
    assert_eq!((all.graded, all.missing), (3, 1));
    assert_eq!(all.median, Some(7.0));
    let mean = (8.0 + 4.0 + 7.0) / 3.0;
    assert!((all.mean.unwrap() - mean).abs() < 1e-9);
    let sd = (((8.0f64 - mean).powi(2) + (4.0f64 - mean).powi(2) + (7.0f64 - mean).powi(2)) / 3.0)
        .sqrt();
    assert!((all.std_dev.unwrap() - sd).abs() < 1e-9);
    assert_eq!(all.completion, Some(0.75));
    assert_eq!(
        all.passed,
        Some(0.5),
        "8 and 7 reach the pass grade 5 of 4 members"
    );
    let b = &quiz.cohorts[2];
    assert_eq!(
        (b.graded, b.missing, b.median, b.min, b.max),
        (2, 1, Some(7.5), Some(7.0), Some(8.0))
    );
    let c = &quiz.cohorts[3];
    assert_eq!((c.graded, c.mean, c.completion), (0, None, None));
    // The course total: l0 80, l1 40, l2 check 10/50 → 20, l3 70.
    let total = stats
        .items
        .iter()
        .find(|i| i.item.item.id == s.total)
        .unwrap();
    assert_eq!(total.cohorts[0].median, Some((40.0 + 70.0) / 2.0));
    assert_eq!(total.cohorts[1].mean, Some(60.0));
    // A hidden item is the teachers' still: the analysis keeps it and its
    // part of the totals.
    fx.site
        .update_grade_item(
            &fx.teacher,
            s.quiz,
            GradeItemUpdate {
                hidden: Some(true),
                ..Default::default()
            },
        )
        .unwrap();
    let hidden = fx.site.group_statistics(&fx.teacher, fx.course).unwrap();
    assert!(hidden.items.iter().any(|i| i.item.item.id == s.quiz));
    let total_now = hidden
        .items
        .iter()
        .find(|i| i.item.item.id == s.total)
        .unwrap();
    assert_eq!(total_now.cohorts[1].mean, Some(60.0));
    // An override counts as the learner's total.
    fx.site
        .set_grades(&fx.teacher, fx.course, &[change(l[1], s.total, Some(90.0))])
        .unwrap();
    let stats = fx.site.group_statistics(&fx.teacher, fx.course).unwrap();
    let total = stats
        .items
        .iter()
        .find(|i| i.item.item.id == s.total)
        .unwrap();
    assert_eq!(total.cohorts[1].mean, Some(85.0));
}

#[test]
fn items_and_categories_are_checked_and_audited() {
    let fx = TestSite::new().with_teams();
    let s = fx.gradebook_sample();
    let bad = |draft: GradeItemDraft| {
        fx.site
            .create_grade_item(&fx.teacher, fx.course, draft)
            .unwrap_err()
            .field()
    };
    assert_eq!(
        bad(GradeItemDraft {
            name: "x".into(),
            max_grade: 0.0,
            ..Default::default()
        }),
        Some("max_grade")
    );
    assert_eq!(
        bad(GradeItemDraft {
            name: "x".into(),
            max_grade: 10.0,
            pass_grade: Some(11.0),
            ..Default::default()
        }),
        Some("pass_grade")
    );
    assert_eq!(
        bad(GradeItemDraft {
            name: "x".into(),
            parent: Some(s.quiz),
            ..Default::default()
        }),
        Some("parent")
    );
    assert_eq!(
        bad(GradeItemDraft {
            name: " ".into(),
            kind: NewItemKind::Category,
            ..Default::default()
        }),
        Some("name")
    );
    // A learner's grade above a lowered maximum is the teacher's to fix;
    // the course total cannot be deleted; a category's deletion frees its
    // items.
    assert!(matches!(
        fx.site.delete_grade_item(&fx.teacher, s.total),
        Err(ServiceError::Conflict(_))
    ));
    fx.site.delete_grade_item(&fx.teacher, s.category).unwrap();
    let setup = fx.site.gradebook_setup(&fx.teacher, fx.course).unwrap();
    let check = setup.items.iter().find(|i| i.item.id == s.check).unwrap();
    assert_eq!(check.item.parent, None);
    // Only editing staff change items.
    let limited = fx.as_user(fx.non_editing_teacher_in("nonedit", fx.team_a));
    assert!(matches!(
        fx.site
            .update_grade_item(&limited, s.quiz, GradeItemUpdate::default()),
        Err(ServiceError::Forbidden(_))
    ));
    let audit = audit(&fx, "grade_item.");
    assert!(audit.iter().any(|e| e.action == "grade_item.deleted"));
}

#[test]
fn a_grade_csv_previews_applies_and_refuses_bad_rows_whole() {
    let fx = TestSite::new().with_teams();
    let s = fx.gradebook_sample();
    let csv = "username,Quiz (max 10),Practical check,Course total\r\nlearner2,6,,\r\nlearner3,,30,99\r\n";
    let before = fx.snapshot();
    let preview = fx
        .site
        .import_grades(&fx.teacher, fx.course, csv.as_bytes(), false)
        .unwrap();
    assert!(!preview.has_errors(), "{:?}", preview.errors);
    assert_eq!(preview.changed, 2);
    assert_eq!(preview.warning_count, 1, "the total's column is left alone");
    fx.assert_unchanged(&before);
    let applied = fx
        .site
        .import_grades(&fx.teacher, fx.course, csv.as_bytes(), true)
        .unwrap();
    assert!(applied.applied);
    let r = fx
        .site
        .grader_report(&fx.teacher, fx.course, &ReportQuery::default())
        .unwrap();
    assert_eq!(cell(&r, fx.learners[1], s.quiz), Some(6.0));
    assert_eq!(cell(&r, fx.learners[2], s.check), Some(30.0));

    let bad = "email,Quiz,Essay\r\nlearner1@example.org,abc,1\r\nnobody@example.org,1,1\r\nlearner2@example.org,12,\r\n";
    let before = fx.snapshot();
    let report = fx
        .site
        .import_grades(&fx.teacher, fx.course, bad.as_bytes(), true)
        .unwrap();
    assert!(!report.applied);
    let reasons: Vec<(u64, &str)> = report
        .errors
        .iter()
        .map(|e| (e.row, e.reason.as_str()))
        .collect();
    assert_eq!(report.error_count, 4, "{reasons:?}");
    assert!(
        reasons[0].1.contains("no grade item named \"essay\""),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|(r, m)| *r == 2 && m.contains("not a number"))
    );
    assert!(
        reasons
            .iter()
            .any(|(r, m)| *r == 3 && m.contains("no user"))
    );
    assert!(
        reasons
            .iter()
            .any(|(r, m)| *r == 4 && m.contains("outside 0–10"))
    );
    fx.assert_unchanged(&before);

    // A limited teacher's row for a learner of another group.
    let limited = fx.as_user(fx.non_editing_teacher_in("nonedit", fx.team_a));
    let other = "username,Quiz\r\nlearner1,1\r\nlearner3,1\r\n";
    let before = fx.snapshot();
    let report = fx
        .site
        .import_grades(&limited, fx.course, other.as_bytes(), true)
        .unwrap();
    assert!(!report.applied);
    assert_eq!(report.error_count, 1);
    assert!(
        report.errors[0]
            .reason
            .contains("not a learner you may grade")
    );
    fx.assert_unchanged(&before);
}

#[test]
fn exports_carry_the_report_and_the_statistics() {
    use calamine::{Data, Reader, Xlsx};
    let fx = TestSite::new().with_teams();
    fx.gradebook_sample();
    let csv = fx
        .site
        .export_gradebook(
            &fx.teacher,
            fx.course,
            Some(fx.team_a),
            ExportKind::GradesCsv,
        )
        .unwrap();
    let text = String::from_utf8(csv.bytes).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[0].starts_with("First name,Last name,Username,Email,Groups,Practical check (max 50)")
    );
    assert!(
        lines[1].starts_with("learner1,Test,learner1,learner1@example.org,Team A,40,80,8,80"),
        "{text}"
    );
    assert_eq!(csv.filename, "grades-COMP101-Team_A.csv");

    let x = fx
        .site
        .export_gradebook(&fx.teacher, fx.course, None, ExportKind::Xlsx)
        .unwrap();
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(x.bytes)).unwrap();
    let grades = book.worksheet_range("Grades").unwrap();
    assert_eq!(
        grades.get_value((0, 5)),
        Some(&Data::String("Practical check (max 50)".into()))
    );
    assert_eq!(grades.get_value((1, 5)), Some(&Data::Float(40.0)));
    assert_eq!(grades.height(), 5);
    let stats = book.worksheet_range("Statistics").unwrap();
    assert_eq!(stats.get_value((0, 7)), Some(&Data::String("Mean".into())));
    // Quiz, all participants: 8 and 4.
    let quiz_all = (1..stats.height() as u32)
        .find(|&r| {
            stats.get_value((r, 0)) == Some(&Data::String("Quiz".into()))
                && stats.get_value((r, 3)) == Some(&Data::String("All participants".into()))
        })
        .unwrap();
    assert_eq!(stats.get_value((quiz_all, 7)), Some(&Data::Float(6.0)));
}

#[test]
fn a_formula_in_a_name_is_escaped_in_the_csv_export() {
    let fx = TestSite::new().with_teams();
    fx.site
        .create_grade_item(
            &fx.teacher,
            fx.course,
            GradeItemDraft {
                name: "=HYPERLINK(\"x\")".into(),
                ..Default::default()
            },
        )
        .unwrap();
    let csv = fx
        .site
        .export_gradebook(&fx.teacher, fx.course, None, ExportKind::StatisticsCsv)
        .unwrap();
    let text = String::from_utf8(csv.bytes).unwrap();
    assert!(text.contains("'=HYPERLINK"), "{text}");
    assert!(!text.contains(",=HYPERLINK"), "{text}");
}
