//! Assignments (issue 18): submitting alone and in groups, who sees which
//! submission under each group mode, late and cut-off, grading within
//! bounds into grade entries, files over the limit, and sanitised
//! feedback. A refused call is checked to write nothing.

use super::{refused, says};
use crate::domain::*;
use crate::services::assignments::{
    AssignmentInput, GradeInput, GradeScope, NewFile, SubmissionInput, SubmissionState,
};
use crate::services::testing::TestSite;
use crate::services::{Principal, ServiceError};
use crate::storage::site::prelude::*;

const HOUR: i64 = 3_600_000;

fn text(body: &str, submit: bool) -> SubmissionInput {
    SubmissionInput {
        text: Some(body.into()),
        submit,
        ..Default::default()
    }
}

fn file(name: &str, content: &[u8]) -> NewFile {
    NewFile {
        name: name.into(),
        content_type: "application/pdf".into(),
        content: content.to_vec(),
    }
}

fn grade(value: f64, feedback: &str) -> GradeInput {
    GradeInput {
        value: Some(value),
        feedback: feedback.into(),
        scope: GradeScope::Submission,
    }
}

fn group_input() -> AssignmentInput {
    AssignmentInput {
        group_submission: true,
        max_grade: 10.0,
        ..Default::default()
    }
}

fn field_of(error: ServiceError) -> &'static str {
    match error {
        ServiceError::Invalid { field, .. } => field,
        other => panic!("expected a field error, got {other:?}"),
    }
}

fn not_found<T: std::fmt::Debug>(result: Result<T, ServiceError>) {
    match result {
        Err(ServiceError::NotFound(_)) => {}
        other => panic!("expected not found, got {other:?}"),
    }
}

#[test]
fn a_learner_drafts_submits_and_sees_the_teachers_grade_and_feedback() {
    let fx = TestSite::new();
    let id = fx.assignment("Essay", AssignmentInput::default());
    let me = fx.learner(0);

    let page = fx.site.assignment(&me, id, None).unwrap();
    let part = page.learner.unwrap();
    assert_eq!(part.state, SubmissionState::NotSubmitted);
    assert!(part.blocked.is_none() && part.grade.is_none());
    assert!(page.instructions_html.contains("<strong>one page</strong>"));

    let mut input = text("My *answer*", false);
    input.add_files = vec![file("essay.pdf", b"%PDF-1.4 essay")];
    let draft = fx.site.save_submission(&me, id, input).unwrap();
    assert_eq!(draft.state, SubmissionState::Draft);
    assert_eq!(draft.submission.files.len(), 1);
    assert!(draft.text_html.contains("<em>answer</em>"));

    let mark = fx.mark();
    let submitted = fx
        .site
        .save_submission(
            &me,
            id,
            SubmissionInput {
                submit: true,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(submitted.state, SubmissionState::Submitted);
    assert_eq!(submitted.submission.id, draft.submission.id);
    assert_eq!(
        submitted.submission.text, "My *answer*",
        "text kept when not sent"
    );
    let changes = fx.changes_since(&mark);
    assert_eq!(changes.audit.len(), 1);
    assert_eq!(changes.audit[0].action, "submission.submitted");
    assert!(
        changes.audit[0].reason.contains("draft → submitted"),
        "{:?}",
        changes.audit[0]
    );
    assert_eq!(
        changes.events,
        vec![SiteEvent::SubmissionSubmitted {
            course: fx.course,
            assignment: id,
            submission: draft.submission.id,
        }]
    );

    // Submitted work no longer changes.
    assert!(matches!(
        fx.site.save_submission(&me, id, text("again", false)),
        Err(ServiceError::Conflict(_))
    ));

    let list = fx
        .site
        .assignment_submissions(&fx.teacher, id, None)
        .unwrap();
    assert_eq!(list.rows.len(), 1);
    assert_eq!(list.rows[0].owner_name, "learner1 Test");
    let staff = fx.site.assignment(&fx.teacher, id, None).unwrap();
    assert_eq!(staff.counts.unwrap().submitted, 1);

    let mark = fx.mark();
    fx.site
        .grade_submission(&fx.teacher, draft.submission.id, grade(72.5, "Good"))
        .unwrap();
    fx.site
        .grade_submission(&fx.teacher, draft.submission.id, grade(80.0, "Better"))
        .unwrap();
    let changes = fx.changes_since(&mark);
    let reasons: Vec<&str> = changes.audit.iter().map(|a| a.reason.as_str()).collect();
    assert_eq!(
        reasons,
        vec![
            format!(
                "grade none → 72.5 of 100, feedback changed (submission #{})",
                draft.submission.id
            ),
            format!(
                "grade 72.5 → 80 of 100, feedback changed (submission #{})",
                draft.submission.id
            ),
        ]
    );
    assert_eq!(changes.events.len(), 2);

    let part = fx.site.assignment(&me, id, None).unwrap().learner.unwrap();
    let g = part.grade.unwrap();
    assert_eq!(g.entry.value, Some(80.0));
    assert_eq!(g.entry.graded_by, Actor::User(fx.teacher_id));
    assert!(g.feedback_html.contains("Better"));
    // The gradebook reads the entry by course and user.
    let entries = fx
        .site
        .read(|t| Ok(t.user_grade_entries(fx.course, fx.learners[0])?))
        .unwrap();
    assert_eq!(entries.len(), 1);
}

#[test]
fn a_group_submission_is_shared_by_its_members_and_its_grade_goes_to_all_unless_overridden() {
    let fx = TestSite::new();
    fx.site
        .add_group_members(&fx.admin, fx.team_a, &fx.learners[0..2])
        .unwrap();
    let id = fx.assignment("Group report", group_input());
    let (first, second) = (fx.learner(0), fx.learner(1));

    let draft = fx
        .site
        .save_submission(&first, id, text("Our plan", false))
        .unwrap();
    assert_eq!(draft.submission.owner, SubmissionOwner::Group(fx.team_a));
    // The other member sees and edits the same draft.
    let part = fx
        .site
        .assignment(&second, id, None)
        .unwrap()
        .learner
        .unwrap();
    assert_eq!(part.state, SubmissionState::Draft);
    assert_eq!(part.submission.unwrap().submission.id, draft.submission.id);
    let done = fx
        .site
        .save_submission(&second, id, text("Our plan, finished", true))
        .unwrap();
    assert_eq!(done.submission.id, draft.submission.id);
    assert_eq!(done.submission.submitted_by, fx.learners[1]);
    assert!(matches!(
        fx.site
            .save_submission(&first, id, text("late edit", false)),
        Err(ServiceError::Conflict(_))
    ));

    let graded = fx
        .site
        .grade_submission(
            &fx.teacher,
            draft.submission.id,
            grade(7.0, "Well done, team"),
        )
        .unwrap();
    let users: Vec<UserId> = graded.iter().map(|g| g.entry.user).collect();
    assert_eq!(users, fx.learners[0..2].to_vec());
    for learner in [&first, &second] {
        let part = fx
            .site
            .assignment(learner, id, None)
            .unwrap()
            .learner
            .unwrap();
        assert_eq!(part.grade.unwrap().entry.value, Some(7.0));
    }

    // An individual override changes one member only.
    fx.site
        .grade_submission(
            &fx.teacher,
            draft.submission.id,
            GradeInput {
                value: Some(9.0),
                feedback: "Extra credit".into(),
                scope: GradeScope::Member(fx.learners[1]),
            },
        )
        .unwrap();
    let value = |p: &Principal| {
        fx.site
            .assignment(p, id, None)
            .unwrap()
            .learner
            .unwrap()
            .grade
            .unwrap()
            .entry
            .value
    };
    assert_eq!(value(&first), Some(7.0));
    assert_eq!(value(&second), Some(9.0));
    // A member override names a member.
    let before = fx.snapshot();
    let err = fx
        .site
        .grade_submission(
            &fx.teacher,
            draft.submission.id,
            GradeInput {
                value: Some(1.0),
                feedback: String::new(),
                scope: GradeScope::Member(fx.learners[3]),
            },
        )
        .unwrap_err();
    assert_eq!(field_of(err), "user");
    fx.assert_unchanged(&before);
}

#[test]
fn a_learner_in_no_group_cannot_make_a_group_submission_and_one_in_two_picks_the_group() {
    let fx = TestSite::new();
    let id = fx.assignment("Group report", group_input());
    let lonely = fx.learner(2);
    let before = fx.snapshot();
    let (kind, message) = refused(fx.site.save_submission(&lonely, id, text("x", false)));
    assert_eq!(kind, "Conflict");
    assert!(message.contains("not a member of any group"), "{message}");
    fx.assert_unchanged(&before);
    let part = fx
        .site
        .assignment(&lonely, id, None)
        .unwrap()
        .learner
        .unwrap();
    assert!(part.blocked.unwrap().contains("Ask your teacher"));

    fx.site
        .add_group_members(&fx.admin, fx.team_a, &[fx.learners[2]])
        .unwrap();
    fx.site
        .add_group_members(&fx.admin, fx.team_b, &[fx.learners[2]])
        .unwrap();
    let err = fx
        .site
        .save_submission(&lonely, id, text("x", false))
        .unwrap_err();
    assert_eq!(field_of(err), "group");
    let part = fx
        .site
        .assignment(&lonely, id, None)
        .unwrap()
        .learner
        .unwrap();
    assert_eq!(part.groups.len(), 2);
    assert!(part.owner.is_none());
    let saved = fx
        .site
        .save_submission(
            &lonely,
            id,
            SubmissionInput {
                group: Some(fx.team_b),
                ..text("for B", false)
            },
        )
        .unwrap();
    assert_eq!(saved.submission.owner, SubmissionOwner::Group(fx.team_b));
    // A group of which they are not a member is refused.
    let other = fx.add_group(fx.course, "Team C");
    let err = fx
        .site
        .save_submission(
            &lonely,
            id,
            SubmissionInput {
                group: Some(other),
                ..text("x", false)
            },
        )
        .unwrap_err();
    assert_eq!(field_of(err), "group");
}

#[test]
fn in_separate_mode_a_non_editing_teacher_lists_and_reads_only_their_groups_submissions() {
    let fx = TestSite::new();
    fx.site
        .add_group_members(&fx.admin, fx.team_a, &[fx.learners[0]])
        .unwrap();
    fx.site
        .add_group_members(&fx.admin, fx.team_b, &[fx.learners[2]])
        .unwrap();
    let id = fx.assignment("Essay", AssignmentInput::default());
    let in_a = fx
        .site
        .save_submission(&fx.learner(0), id, text("A", true))
        .unwrap();
    let in_b = fx
        .site
        .save_submission(&fx.learner(2), id, text("B", true))
        .unwrap();
    let ta = fx.as_user(fx.non_editing_teacher_in("ta", fx.team_a));

    let owners = |who: &Principal, group: Option<CourseGroupId>| -> Vec<SubmissionOwner> {
        fx.site
            .assignment_submissions(who, id, group)
            .unwrap()
            .rows
            .iter()
            .map(|r| r.submission.owner)
            .collect()
    };
    let a = SubmissionOwner::User(fx.learners[0]);
    let b = SubmissionOwner::User(fx.learners[2]);
    assert_eq!(owners(&ta, None), vec![a]);
    assert_eq!(owners(&ta, Some(fx.team_a)), vec![a]);
    assert_eq!(
        field_of(
            fx.site
                .assignment_submissions(&ta, id, Some(fx.team_b))
                .unwrap_err()
        ),
        "group"
    );
    assert_eq!(owners(&fx.teacher, None), vec![a, b]);
    assert_eq!(owners(&fx.teacher, Some(fx.team_b)), vec![b]);
    assert_eq!(owners(&fx.admin, None), vec![a, b]);
    assert_eq!(
        fx.site
            .assignment(&ta, id, None)
            .unwrap()
            .counts
            .unwrap()
            .submitted,
        1
    );

    not_found(fx.site.submission(&ta, in_b.submission.id));
    let before = fx.snapshot();
    not_found(
        fx.site
            .grade_submission(&ta, in_b.submission.id, grade(5.0, "")),
    );
    fx.assert_unchanged(&before);
    fx.site
        .grade_submission(&ta, in_a.submission.id, grade(5.0, ""))
        .unwrap();

    // Learners list nothing, whatever the mode.
    let (kind, _) = refused(fx.site.assignment_submissions(&fx.learner(0), id, None));
    assert_eq!(kind, "Forbidden");
}

#[test]
fn a_learner_cannot_read_another_learners_submission_or_file_by_id_even_in_visible_mode() {
    let fx = TestSite::new();
    fx.site
        .add_group_members(&fx.admin, fx.team_a, &fx.learners[0..2])
        .unwrap();
    let section = fx.section(fx.course, "Week 1");
    let id = fx
        .site
        .create_assignment(
            &fx.teacher,
            section,
            crate::services::content::ActivityDraft {
                name: "Visible essay".into(),
                visible: true,
                group_mode: Some(GroupMode::Visible),
                ..Default::default()
            },
            AssignmentInput::default(),
        )
        .unwrap()
        .id;
    let mut input = text("mine", true);
    input.add_files = vec![file("secret.pdf", b"%PDF secret")];
    let mine = fx.site.save_submission(&fx.learner(0), id, input).unwrap();
    let sha = mine.submission.files[0].sha256;

    let (meta, bytes) = fx
        .site
        .submission_file(&fx.learner(0), mine.submission.id, &sha)
        .unwrap();
    assert_eq!(
        (meta.name.as_str(), bytes.as_slice()),
        ("secret.pdf", &b"%PDF secret"[..])
    );
    for other in [fx.learner(1), fx.learner(2)] {
        not_found(fx.site.submission(&other, mine.submission.id));
        not_found(fx.site.submission_file(&other, mine.submission.id, &sha));
    }
    // A learner sees their own grade only.
    fx.site
        .grade_submission(&fx.teacher, mine.submission.id, grade(50.0, ""))
        .unwrap();
    assert!(
        fx.site
            .assignment_grades(&fx.learner(1), id)
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        fx.site.assignment_grades(&fx.learner(0), id).unwrap().len(),
        1
    );
    assert_eq!(fx.site.assignment_grades(&fx.teacher, id).unwrap().len(), 1);
    // Another site's learner with the same ids learns nothing.
    let other_site = fx.another_site("globex");
    let stranger = Principal::site_user(other_site.id(), fx.learners[0]);
    assert!(fx.site.submission(&stranger, mine.submission.id).is_err());
}

#[test]
fn after_the_due_date_a_submission_is_late_and_after_the_cut_off_nothing_is_written() {
    let fx = TestSite::new();
    let now = Timestamp::now().0;
    let late = fx.assignment(
        "Late",
        AssignmentInput {
            due_at: Some(Timestamp(now - HOUR)),
            cutoff_at: Some(Timestamp(now + HOUR)),
            ..Default::default()
        },
    );
    let saved = fx
        .site
        .save_submission(&fx.learner(0), late, text("x", true))
        .unwrap();
    assert_eq!(saved.state, SubmissionState::Late);
    assert_eq!(
        fx.site
            .assignment(&fx.teacher, late, None)
            .unwrap()
            .counts
            .unwrap()
            .late,
        1
    );

    let closed = fx.assignment(
        "Closed",
        AssignmentInput {
            due_at: Some(Timestamp(now - 2 * HOUR)),
            cutoff_at: Some(Timestamp(now - HOUR)),
            ..Default::default()
        },
    );
    let before = fx.snapshot();
    let (kind, message) = refused(fx.site.save_submission(
        &fx.learner(0),
        closed,
        text("x", false),
    ));
    assert_eq!(kind, "Conflict");
    assert!(message.contains("cut-off"), "{message}");
    fx.assert_unchanged(&before);
    let part = fx
        .site
        .assignment(&fx.learner(0), closed, None)
        .unwrap()
        .learner
        .unwrap();
    assert!(part.blocked.is_some());
}

#[test]
fn a_grade_above_the_maximum_or_negative_is_refused_and_writes_nothing() {
    let fx = TestSite::new();
    let id = fx.assignment(
        "Quiz",
        AssignmentInput {
            max_grade: 10.0,
            ..Default::default()
        },
    );
    let s = fx
        .site
        .save_submission(&fx.learner(0), id, text("x", true))
        .unwrap();
    let before = fx.snapshot();
    for bad in [10.01, -1.0, f64::NAN] {
        let err = fx
            .site
            .grade_submission(&fx.teacher, s.submission.id, grade(bad, ""))
            .unwrap_err();
        assert_eq!(field_of(err), "grade", "{bad}");
    }
    fx.assert_unchanged(&before);
    fx.site
        .grade_submission(&fx.teacher, s.submission.id, grade(10.0, ""))
        .unwrap();
    fx.site
        .grade_submission(&fx.teacher, s.submission.id, grade(0.0, ""))
        .unwrap();
}

#[test]
fn a_file_over_the_assignments_limit_is_refused_naming_the_limit_and_writes_nothing() {
    let fx = TestSite::new();
    let id = fx.assignment(
        "Small files",
        AssignmentInput {
            max_file_bytes: 1024,
            max_files: 1,
            ..Default::default()
        },
    );
    let before = fx.snapshot();
    let mut input = text("with a big file", false);
    input.add_files = vec![file("big.pdf", &[7u8; 2048])];
    let err = fx
        .site
        .save_submission(&fx.learner(0), id, input)
        .unwrap_err();
    assert!(err.to_string().contains("at most 1 KiB"), "{err}");
    assert_eq!(field_of(err), "file");
    fx.assert_unchanged(&before);

    // The count limit too.
    let mut two = text("two", false);
    two.add_files = vec![file("a.pdf", b"a"), file("b.pdf", b"b")];
    assert_eq!(
        field_of(
            fx.site
                .save_submission(&fx.learner(0), id, two)
                .unwrap_err()
        ),
        "file"
    );
    fx.assert_unchanged(&before);
}

#[test]
fn feedback_with_a_script_is_stored_as_written_and_never_rendered() {
    let fx = TestSite::new();
    let id = fx.assignment("Essay", AssignmentInput::default());
    let s = fx
        .site
        .save_submission(
            &fx.learner(0),
            id,
            text("<script>alert(1)</script>*mine*", true),
        )
        .unwrap();
    assert!(!s.text_html.contains("<script"), "{}", s.text_html);
    let graded = fx
        .site
        .grade_submission(
            &fx.teacher,
            s.submission.id,
            grade(
                50.0,
                "<script>alert('x')</script>\n\n**Good** [x](javascript:alert(1)) <a href=\"javascript:alert(2)\">y</a>",
            ),
        )
        .unwrap();
    let html = &graded[0].feedback_html;
    assert!(
        !html.contains("<script") && !html.contains("javascript:"),
        "{html}"
    );
    assert!(html.contains("<strong>Good</strong>"), "{html}");
    let detail = fx.site.submission(&fx.learner(0), s.submission.id).unwrap();
    assert!(!detail.grades[0].feedback_html.contains("<script"));
}

#[test]
fn staff_do_not_submit_learners_do_not_grade_and_a_hidden_assignment_is_not_found() {
    let fx = TestSite::new();
    let id = fx.assignment("Essay", AssignmentInput::default());
    let (kind, _) = refused(fx.site.save_submission(&fx.teacher, id, text("x", false)));
    assert_eq!(kind, "Forbidden");
    let s = fx
        .site
        .save_submission(&fx.learner(0), id, text("x", true))
        .unwrap();
    let before = fx.snapshot();
    assert_eq!(
        refused(
            fx.site
                .grade_submission(&fx.learner(0), s.submission.id, grade(1.0, ""))
        )
        .0,
        "Forbidden"
    );
    fx.assert_unchanged(&before);

    fx.site
        .set_activity_visible(&fx.teacher, id, false)
        .unwrap();
    not_found(fx.site.assignment(&fx.learner(1), id, None));
    not_found(
        fx.site
            .save_submission(&fx.learner(1), id, text("x", false)),
    );
    assert!(fx.site.assignment(&fx.teacher, id, None).is_ok());
    // Editing teachers only change it.
    let ta = fx.as_user(fx.non_editing_teacher_in("ta", fx.team_a));
    let edit = fx.site.update_assignment(
        &ta,
        id,
        crate::services::content::ActivityDraft {
            name: "Renamed".into(),
            ..Default::default()
        },
        AssignmentInput::default(),
    );
    assert_eq!(refused(edit).0, "Forbidden");
    let _ = says;
}

#[test]
fn a_files_content_is_stored_once_and_leaves_with_the_last_submission_naming_it() {
    let fx = TestSite::new();
    let id = fx.assignment("Essay", AssignmentInput::default());
    let content = b"%PDF the same template".to_vec();
    let mut sha = [0u8; 32];
    for i in 0..2 {
        let mut input = text("x", false);
        input.add_files = vec![file("template.pdf", &content)];
        sha = fx
            .site
            .save_submission(&fx.learner(i), id, input)
            .unwrap()
            .submission
            .files[0]
            .sha256;
    }
    let refs = |fx: &TestSite| fx.site.read(|t| Ok(t.file_references(&sha)?)).unwrap();
    assert_eq!(refs(&fx), 2);
    // Replacing the file by name drops one reference.
    let mut other = text("x", false);
    other.add_files = vec![file("template.pdf", b"%PDF something else")];
    fx.site.save_submission(&fx.learner(1), id, other).unwrap();
    assert_eq!(refs(&fx), 1);

    // Deleting the assignment takes its submissions, files, grade item and
    // settings along.
    fx.site.delete_activity(&fx.teacher, id).unwrap();
    assert_eq!(refs(&fx), 0);
    let left = fx
        .site
        .read(|t| {
            Ok((
                t.file_content(&sha)?,
                t.assignment_settings(id)?,
                // The course total stays with the course.
                t.grade_items_of_course(fx.course)?
                    .iter()
                    .filter(|i| !i.is_total())
                    .count(),
            ))
        })
        .unwrap();
    assert_eq!(left, (None, None, 0));
}

#[test]
fn settings_are_checked_and_changes_audited_with_the_old_and_new_values() {
    let fx = TestSite::new();
    let section = fx.section(fx.course, "Week 1");
    let draft = crate::services::content::ActivityDraft {
        name: "Essay".into(),
        visible: true,
        ..Default::default()
    };
    let before = fx.snapshot();
    let err = fx
        .site
        .create_assignment(
            &fx.teacher,
            section,
            draft.clone(),
            AssignmentInput {
                max_grade: -5.0,
                ..Default::default()
            },
        )
        .unwrap_err();
    assert_eq!(field_of(err), "max_grade");
    fx.assert_unchanged(&before);

    let id = fx
        .site
        .create_assignment(
            &fx.teacher,
            section,
            draft.clone(),
            AssignmentInput::default(),
        )
        .unwrap()
        .id;
    let mark = fx.mark();
    fx.site
        .update_assignment(
            &fx.teacher,
            id,
            draft,
            AssignmentInput {
                max_grade: 20.0,
                ..Default::default()
            },
        )
        .unwrap();
    let changes = fx.changes_since(&mark);
    assert_eq!(changes.audit.len(), 1);
    assert!(
        changes.audit[0].reason.contains("out of 100")
            && changes.audit[0].reason.contains("out of 20")
    );
    let item = fx
        .site
        .read(|t| Ok(t.grade_items_of_course(fx.course)?))
        .unwrap();
    let item: Vec<_> = item.iter().filter(|i| !i.is_total()).collect();
    assert_eq!(item[0].max_grade, 20.0);
}

#[test]
fn deleting_a_user_deletes_their_own_submissions_files_and_grades() {
    let fx = TestSite::new();
    let id = fx.assignment("Essay", AssignmentInput::default());
    let mut input = text("mine", true);
    input.add_files = vec![file("mine.pdf", b"%PDF only mine")];
    let mine = fx.site.save_submission(&fx.learner(0), id, input).unwrap();
    let sha = mine.submission.files[0].sha256;
    fx.site
        .grade_submission(&fx.teacher, mine.submission.id, grade(50.0, "ok"))
        .unwrap();
    let other = fx
        .site
        .save_submission(&fx.learner(1), id, text("theirs", true))
        .unwrap();
    fx.site.delete_user(&fx.admin, fx.learners[0]).unwrap();
    let left = fx
        .site
        .read(|t| {
            Ok((
                t.submission(mine.submission.id)?,
                t.file_content(&sha)?,
                t.user_grade_entries(fx.course, fx.learners[0])?.len(),
                t.submission(other.submission.id)?.is_some(),
            ))
        })
        .unwrap();
    assert_eq!(left, (None, None, 0, true));
}
