//! One-off mass enrolment of a segment (issue 17): the preview's figures,
//! the apply's enrolments, group and record, the undo of exactly what it
//! did, the field errors and who may do it.
//!
//! The fixture (`TestSite`): segment HR holds learners 1–3, Finance
//! learners 4–5; course COMP101 has a manual method enrolling the teacher
//! and learners 1–4, and groups Team A and Team B.

use super::{refused, says};
use crate::domain::*;
use crate::services::enrolments::NewMethod;
use crate::services::mass_enrolments::{MassEnrolmentRequest, MassGroupChoice, PreviewGroup};
use crate::services::testing::TestSite;

fn request(course: CourseId, group: MassGroupChoice) -> MassEnrolmentRequest {
    MassEnrolmentRequest {
        course,
        role: Role::Learner,
        group,
    }
}

/// HR made of learners 1–3 and 5 on COMP101, one of each kind: learner1
/// enrolled, learner2's manual enrolment suspended, learner3's account
/// suspended, learner5 not enrolled.
fn mixed_hr() -> TestSite {
    let fx = TestSite::new();
    let op = &fx.operator;
    fx.site
        .add_segment_members(op, fx.hr, &[fx.learners[4]])
        .unwrap();
    fx.site
        .set_enrolment_status(
            op,
            fx.manual,
            fx.learners[1],
            EnrolmentStatus::Suspended,
            false,
        )
        .unwrap();
    fx.site.suspend_user(op, fx.learners[2]).unwrap();
    fx
}

fn figures(
    members: u64,
    to_enrol: u64,
    already_enrolled: u64,
    suspended_accounts: u64,
    suspended_enrolments: u64,
    grouped: u64,
) -> MassEnrolmentFigures {
    MassEnrolmentFigures {
        members,
        to_enrol,
        already_enrolled,
        suspended_accounts,
        suspended_enrolments,
        grouped,
    }
}

/// `(user, method, role, status)` of every enrolment of `course`.
fn enrolments(
    fx: &TestSite,
    course: CourseId,
) -> Vec<(UserId, EnrolmentMethodId, Option<Role>, EnrolmentStatus)> {
    fx.site
        .participants(&fx.operator, course, None, 1000)
        .unwrap()
        .items
        .into_iter()
        .flat_map(|p| p.enrolments)
        .map(|e| (e.user, e.method, e.role, e.status))
        .collect()
}

/// The newest audit entry's id.
fn last_audit(fx: &TestSite) -> AuditId {
    fx.site
        .audit_log(&fx.operator, &Default::default(), None, 1)
        .unwrap()
        .items[0]
        .id
}

/// The actions of the audit entries written after `after`, oldest first.
fn actions_after(fx: &TestSite, after: AuditId) -> Vec<String> {
    let mut newest_first = fx
        .site
        .audit_log(&fx.operator, &Default::default(), None, 1000)
        .unwrap()
        .items;
    newest_first.retain(|e| e.id > after);
    newest_first.into_iter().rev().map(|e| e.action).collect()
}

/// Returns once the clock has passed `at`: a change made after it then
/// carries a later time than the mass enrolment's own rows, which is
/// how an undo tells them apart.
fn clock_past(at: Timestamp) {
    while Timestamp::now() <= at {
        std::thread::yield_now();
    }
}

#[test]
fn the_preview_counts_enrolled_already_enrolled_and_both_kinds_of_suspended_and_writes_nothing() {
    let fx = mixed_hr();
    let before = fx.snapshot();
    let preview = fx
        .site
        .preview_mass_enrolment(&fx.admin, fx.hr, &request(fx.course, MassGroupChoice::None))
        .unwrap();
    assert_eq!(preview.figures, figures(4, 1, 1, 1, 1, 0));
    assert_eq!(preview.method.id, fx.manual);
    assert_eq!(preview.group, PreviewGroup::None);
    assert_eq!(preview.segment.name, "HR");
    fx.assert_unchanged(&before);
}

#[test]
fn applying_enrols_only_the_active_members_not_yet_enrolled_through_the_manual_method() {
    let fx = mixed_hr();
    let [l1, l2, l3, _, l5] = fx.learners[..] else {
        panic!("five learners")
    };
    let audit_before = last_audit(&fx);
    let mut req = request(fx.course, MassGroupChoice::None);
    req.role = Role::NonEditingTeacher;
    let done = fx
        .site
        .apply_mass_enrolment(&fx.admin, fx.hr, &req)
        .unwrap();
    assert_eq!(done.figures, figures(4, 1, 1, 1, 1, 0));
    assert_eq!(
        (
            done.segment,
            done.course,
            done.method,
            done.role,
            done.group,
            done.group_created
        ),
        (
            fx.hr,
            fx.course,
            fx.manual,
            Role::NonEditingTeacher,
            None,
            false
        )
    );
    assert_eq!(done.by, Actor::User(fx.admin_id));
    assert_eq!(done.undone, None);
    let manual = |u| {
        enrolments(&fx, fx.course)
            .into_iter()
            .find(|e| e.0 == u && e.1 == fx.manual)
            .map(|e| (e.2, e.3))
    };
    assert_eq!(
        manual(l5),
        Some((Some(Role::NonEditingTeacher), EnrolmentStatus::Active))
    );
    assert_eq!(
        manual(l1),
        Some((Some(Role::Learner), EnrolmentStatus::Active))
    );
    assert_eq!(
        manual(l2),
        Some((Some(Role::Learner), EnrolmentStatus::Suspended))
    );
    assert_eq!(
        manual(l3),
        Some((Some(Role::Learner), EnrolmentStatus::Active))
    );
    assert_eq!(
        actions_after(&fx, audit_before),
        ["enrolment.created", "segment.mass_enrolled"]
    );
    let users = fx.site.mass_enrolment_users(&fx.admin, done.id).unwrap();
    assert_eq!(users.enrolled, vec![l5]);
    assert!(users.grouped.is_empty());
    let got = fx.site.mass_enrolment(&fx.admin, done.id).unwrap();
    assert_eq!(got.record, done);
    assert_eq!(got.course.shortname, "COMP101");
    let (_, by_course) = fx
        .site
        .course_mass_enrolments(&fx.admin, fx.course)
        .unwrap();
    let (_, by_segment) = fx.site.segment_mass_enrolments(&fx.admin, fx.hr).unwrap();
    assert_eq!(
        by_course.iter().map(|d| d.record.id).collect::<Vec<_>>(),
        [done.id]
    );
    assert_eq!(
        by_segment.iter().map(|d| d.record.id).collect::<Vec<_>>(),
        [done.id]
    );
    let (_, finance) = fx
        .site
        .segment_mass_enrolments(&fx.admin, fx.finance)
        .unwrap();
    assert!(finance.is_empty());
}

#[test]
fn an_existing_group_gets_the_newly_and_the_already_enrolled_members_not_yet_in_it() {
    let fx = mixed_hr();
    let [l1, _, _, _, l5] = fx.learners[..] else {
        panic!("five learners")
    };
    let preview = fx
        .site
        .preview_mass_enrolment(
            &fx.admin,
            fx.hr,
            &request(fx.course, MassGroupChoice::Existing(fx.team_a)),
        )
        .unwrap();
    assert!(matches!(preview.group, PreviewGroup::Existing(ref g) if g.id == fx.team_a));
    assert_eq!(preview.figures, figures(4, 1, 1, 1, 1, 2));
    let done = fx
        .site
        .apply_mass_enrolment(
            &fx.admin,
            fx.hr,
            &request(fx.course, MassGroupChoice::Existing(fx.team_a)),
        )
        .unwrap();
    assert_eq!(
        (done.group, done.group_created, done.figures.grouped),
        (Some(fx.team_a), false, 2)
    );
    assert_eq!(
        super::owners(&fx, fx.team_a),
        [(l1, MembershipOwner::Manual), (l5, MembershipOwner::Manual)]
    );
    // Run again: everyone is enrolled and grouped, so nothing is left to do.
    let again = fx.site.apply_mass_enrolment(
        &fx.admin,
        fx.hr,
        &request(fx.course, MassGroupChoice::Existing(fx.team_a)),
    );
    assert_eq!(
        refused(again),
        says(
            "Conflict",
            "nothing to do: no active member of segment \"HR\" is left to enrol in COMP101 or to add to the group"
        )
    );
}

#[test]
fn a_new_group_is_created_by_name_and_holds_every_enrolled_active_member() {
    let fx = mixed_hr();
    let choice = MassGroupChoice::New("  HR cohort ".into());
    let preview = fx
        .site
        .preview_mass_enrolment(&fx.admin, fx.hr, &request(fx.course, choice.clone()))
        .unwrap();
    assert_eq!(preview.group, PreviewGroup::New("HR cohort".into()));
    assert_eq!(preview.figures.grouped, 2);
    let done = fx
        .site
        .apply_mass_enrolment(&fx.admin, fx.hr, &request(fx.course, choice))
        .unwrap();
    assert!(done.group_created);
    let detail = fx.site.mass_enrolment(&fx.admin, done.id).unwrap();
    let group = detail.group.expect("the new group");
    assert_eq!(
        (group.name.as_str(), group.course),
        ("HR cohort", fx.course)
    );
    assert_eq!(
        super::owners(&fx, group.id),
        [
            (fx.learners[0], MembershipOwner::Manual),
            (fx.learners[4], MembershipOwner::Manual)
        ]
    );
}

#[test]
fn bad_choices_are_field_errors_and_a_refused_apply_writes_nothing() {
    let fx = TestSite::new();
    let (math, _) = fx.other_course("MATH1");
    let math_team = fx.add_group(math, "Math team");
    let before = fx.snapshot();
    let cases = [
        (
            fx.hr,
            request(fx.course, MassGroupChoice::Existing(math_team)),
            says(
                "Invalid",
                "group: group \"Math team\" belongs to another course, not to COMP101",
            ),
        ),
        (
            fx.hr,
            request(fx.course, MassGroupChoice::Existing(CourseGroupId(999))),
            says("Invalid", "group: there is no group #999"),
        ),
        (
            fx.hr,
            request(fx.course, MassGroupChoice::New("  ".into())),
            says("Invalid", "new_group: is required"),
        ),
        (
            fx.hr,
            request(fx.course, MassGroupChoice::New("team a".into())),
            says(
                "Duplicate",
                "new_group: course COMP101 already has a group named \"team a\"; choose it as an existing group or give another name",
            ),
        ),
        (
            fx.hr,
            request(CourseId(999), MassGroupChoice::None),
            says("Invalid", "course: there is no course #999"),
        ),
        (
            SegmentId(999),
            request(fx.course, MassGroupChoice::None),
            says("NotFound", "segment #999 not found"),
        ),
    ];
    for (segment, req, want) in cases {
        let preview = fx.site.preview_mass_enrolment(&fx.admin, segment, &req);
        assert_eq!(refused(preview), want, "preview of {req:?}");
        let apply = fx.site.apply_mass_enrolment(&fx.admin, segment, &req);
        assert_eq!(refused(apply), want, "apply of {req:?}");
    }
    fx.assert_unchanged(&before);
}

#[test]
fn a_course_whose_manual_method_is_disabled_or_gone_is_refused() {
    let fx = TestSite::new();
    let (math, math_manual) = fx.other_course("MATH1");
    fx.site
        .set_method_status(&fx.operator, math_manual, EnrolmentMethodStatus::Disabled)
        .unwrap();
    assert_eq!(
        refused(fx.site.preview_mass_enrolment(
            &fx.admin,
            fx.hr,
            &request(math, MassGroupChoice::None)
        )),
        says(
            "Invalid",
            "course: the manual enrolment method \"Manual enrolments\" of course MATH1 is disabled; enable it first"
        )
    );
    fx.site.delete_method(&fx.operator, math_manual).unwrap();
    assert_eq!(
        refused(fx.site.apply_mass_enrolment(
            &fx.admin,
            fx.hr,
            &request(math, MassGroupChoice::None)
        )),
        says(
            "Invalid",
            "course: course MATH1 has no manual enrolment method to enrol through; add one first"
        )
    );
}

#[test]
fn teachers_learners_and_another_sites_admin_are_refused_and_nothing_is_written() {
    let (a, b) = TestSite::two_sites();
    let before = a.snapshot();
    let req = request(a.course, MassGroupChoice::None);
    for who in [&a.teacher, &a.learner(0), &b.admin] {
        for result in [
            a.site.preview_mass_enrolment(who, a.hr, &req).map(drop),
            a.site.apply_mass_enrolment(who, a.hr, &req).map(drop),
            a.site.course_mass_enrolments(who, a.course).map(drop),
            a.site.segment_mass_enrolments(who, a.hr).map(drop),
            a.site.mass_enrolment(who, MassEnrolmentId(1)).map(drop),
            a.site
                .undo_mass_enrolment(who, MassEnrolmentId(1))
                .map(drop),
        ] {
            assert_eq!(refused(result).0, "Forbidden");
        }
    }
    a.assert_unchanged(&before);
}

#[test]
fn undo_removes_what_it_made_keeps_what_changed_or_came_since_and_refuses_a_second_time() {
    let fx = TestSite::new();
    let op = &fx.operator;
    let [l1, l2, ..] = fx.learners[..] else {
        panic!("five learners")
    };
    let (math, math_manual) = fx.other_course("MATH1");
    let done = fx
        .site
        .apply_mass_enrolment(
            &fx.admin,
            fx.hr,
            &request(math, MassGroupChoice::New("HR".into())),
        )
        .unwrap();
    assert_eq!(done.figures, figures(3, 3, 0, 0, 0, 3));
    let group = done.group.expect("a group");
    // Since: learner1 also enrolled by another method, learner2 given
    // another role; learner3 left as the action made them.
    clock_past(done.at);
    let other = fx
        .site
        .add_method(
            op,
            math,
            NewMethod {
                plugin: "noop".into(),
                name: "Other".into(),
                config: serde_json::json!({}),
                enabled: true,
            },
        )
        .unwrap()
        .id;
    fx.site.enrol(op, other, l1, Role::Learner).unwrap();
    fx.site
        .set_enrolment_role(op, math_manual, l2, Some(Role::NonEditingTeacher))
        .unwrap();
    let audit_before = last_audit(&fx);
    let undone = fx.site.undo_mass_enrolment(&fx.admin, done.id).unwrap();
    let undo = undone.undone.expect("undone");
    assert_eq!(
        (
            undo.by,
            undo.removed,
            undo.kept_changed,
            undo.already_gone,
            undo.ungrouped
        ),
        (Actor::User(fx.admin_id), 2, 1, 0, 3)
    );
    assert_eq!(
        enrolments(&fx, math),
        [
            (l1, other, Some(Role::Learner), EnrolmentStatus::Active),
            (
                l2,
                math_manual,
                Some(Role::NonEditingTeacher),
                EnrolmentStatus::Active
            ),
        ]
    );
    assert!(super::owners(&fx, group).is_empty());
    assert_eq!(
        actions_after(&fx, audit_before),
        [
            "group.member_removed",
            "group.member_removed",
            "group.member_removed",
            "enrolment.deleted",
            "enrolment.deleted",
            "segment.mass_enrolment_undone"
        ]
    );
    assert_eq!(
        fx.site.mass_enrolment(&fx.admin, done.id).unwrap().record,
        undone
    );
    let before = fx.snapshot();
    let again = refused(fx.site.undo_mass_enrolment(&fx.admin, done.id));
    assert_eq!(again.0, "Conflict");
    assert!(
        again.1.starts_with(&format!(
            "mass enrolment #{} was already undone on ",
            done.id
        )),
        "{again:?}"
    );
    fx.assert_unchanged(&before);
}

#[test]
fn undo_leaves_an_enrolment_that_was_removed_and_made_again_since() {
    let fx = TestSite::new();
    let op = &fx.operator;
    let l5 = fx.learners[4];
    let done = fx
        .site
        .apply_mass_enrolment(
            &fx.admin,
            fx.finance,
            &request(fx.course, MassGroupChoice::None),
        )
        .unwrap();
    assert_eq!(done.figures, figures(2, 1, 1, 0, 0, 0));
    fx.site.unenrol(op, fx.manual, l5).unwrap();
    clock_past(done.at);
    fx.site.enrol(op, fx.manual, l5, Role::Learner).unwrap();
    let undo = fx
        .site
        .undo_mass_enrolment(&fx.admin, done.id)
        .unwrap()
        .undone
        .unwrap();
    assert_eq!((undo.removed, undo.already_gone), (0, 1));
    assert!(
        enrolments(&fx, fx.course)
            .iter()
            .any(|e| e.0 == l5 && e.1 == fx.manual)
    );
}

#[test]
fn deleting_the_course_deletes_its_mass_enrolments() {
    let fx = TestSite::new();
    let (math, _) = fx.other_course("MATH1");
    let done = fx
        .site
        .apply_mass_enrolment(&fx.admin, fx.hr, &request(math, MassGroupChoice::None))
        .unwrap();
    fx.site.delete_course(&fx.admin, math).unwrap();
    assert_eq!(
        refused(fx.site.mass_enrolment(&fx.admin, done.id)).0,
        "NotFound"
    );
    let (_, left) = fx.site.segment_mass_enrolments(&fx.admin, fx.hr).unwrap();
    assert!(left.is_empty());
}
