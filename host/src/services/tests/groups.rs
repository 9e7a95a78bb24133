//! Course groups (PRODUCT §2): name and idnumber unique in the course,
//! members must be enrolled, and each membership's owner decides who may
//! remove it.

use super::{owners, refusal, refused, says};
use crate::domain::*;
use crate::services::groups::{GroupCandidates, GroupUpdate, MemberFilter, NewGroup};
use crate::services::segments::MembershipChange;
use crate::services::testing::{TestSite, assert_same_tables};
use crate::services::{Principal, ServiceError};

fn group(name: &str, idnumber: Option<&str>) -> NewGroup {
    NewGroup {
        name: name.into(),
        idnumber: idnumber.map(Into::into),
        ..Default::default()
    }
}

/// Puts the fixture's first learner into `group` by hand (the site admin)
/// and its second as `method`: one membership of each owner.
fn one_by_hand_one_by_method(fx: &TestSite, group: CourseGroupId, method: EnrolmentMethodId) {
    let l = &fx.learners;
    fx.site
        .add_group_members(&fx.admin, group, &[l[0]])
        .unwrap();
    fx.site
        .add_group_members(&fx.as_method(method), group, &[l[1]])
        .unwrap();
}

#[test]
fn a_group_name_is_unique_in_its_course_whatever_its_case() {
    let fx = TestSite::new();
    let before = fx.snapshot();
    let err = refused(
        fx.site
            .create_group(&fx.admin, fx.course, group("team a", None)),
    );
    assert_eq!(
        err,
        says(
            "Duplicate",
            r#"name: the course already has a group named "team a""#
        )
    );
    let rename = GroupUpdate {
        name: Some("TEAM B".into()),
        ..Default::default()
    };
    let err = refused(fx.site.update_group(&fx.admin, fx.team_a, rename));
    assert_eq!(
        err,
        says(
            "Duplicate",
            r#"name: the course already has a group named "TEAM B""#
        )
    );
    fx.assert_unchanged(&before);
    // Another course may use the name, and a group may change its own case.
    let (other, _) = fx.other_course("HIST1");
    assert!(
        fx.site
            .create_group(&fx.admin, other, group("Team A", None))
            .is_ok()
    );
    let recase = GroupUpdate {
        name: Some("TEAM A".into()),
        ..Default::default()
    };
    let renamed = fx.site.update_group(&fx.admin, fx.team_a, recase).unwrap();
    assert_eq!(renamed.name, "TEAM A");
    assert_eq!(
        fx.site
            .find_group(&fx.admin, fx.course, "team a")
            .unwrap()
            .id,
        fx.team_a
    );
}

#[test]
fn a_group_idnumber_is_optional_and_unique_in_its_course() {
    let fx = TestSite::new();
    let first = fx
        .site
        .create_group(&fx.admin, fx.course, group("Morning", Some("am")))
        .unwrap();
    let before = fx.snapshot();
    let err = refused(
        fx.site
            .create_group(&fx.admin, fx.course, group("Early", Some("am"))),
    );
    assert_eq!(
        err,
        says(
            "Duplicate",
            r#"idnumber: group #3 of this course already has the idnumber "am""#
        )
    );
    let take = GroupUpdate {
        idnumber: Some("am".into()),
        ..Default::default()
    };
    let err = refused(fx.site.update_group(&fx.admin, fx.team_b, take));
    assert_eq!(
        err,
        says(
            "Duplicate",
            r#"idnumber: group #3 of this course already has the idnumber "am""#
        )
    );
    fx.assert_unchanged(&before);
    let (other, _) = fx.other_course("HIST1");
    assert!(
        fx.site
            .create_group(&fx.admin, other, group("Morning", Some("am")))
            .is_ok()
    );
    assert_eq!(
        fx.site.find_group(&fx.admin, fx.course, "am").unwrap(),
        first
    );
}

#[test]
fn bad_group_names_are_refused_and_nothing_is_written() {
    let fx = TestSite::new();
    let before = fx.snapshot();
    let blank = refused(fx.site.create_group(&fx.admin, fx.course, group(" ", None)));
    assert_eq!(blank, says("Invalid", "name: is required"));
    let long = refused(
        fx.site
            .create_group(&fx.admin, fx.course, group(&"g".repeat(255), None)),
    );
    assert_eq!(
        long,
        says(
            "Invalid",
            "name: is 255 characters long; the maximum is 254"
        )
    );
    let two_lines = refused(
        fx.site
            .create_group(&fx.admin, fx.course, group("Team\nC", None)),
    );
    assert_eq!(two_lines, says("Invalid", "name: must be one line"));
    fx.assert_unchanged(&before);
}

#[test]
fn a_group_member_must_be_enrolled_and_one_stranger_fails_the_whole_batch() {
    let fx = TestSite::new();
    let before = fx.snapshot();
    let stranger = fx.learners[4];
    let err = fx
        .site
        .add_group_members(&fx.admin, fx.team_a, &[fx.learners[0], stranger])
        .unwrap_err();
    assert!(
        matches!(err, ServiceError::NotEnrolled { user, course } if user == stranger && course == fx.course),
        "{err:?}"
    );
    assert_eq!(
        refusal(&err),
        says(
            "NotEnrolled",
            "user #7 is not enrolled in course #1; enrol them before adding them to a group"
        )
    );
    let unknown = fx
        .site
        .add_group_members(&fx.admin, fx.team_a, &[fx.learners[0], UserId(999)]);
    assert_eq!(refused(unknown), says("NotFound", "user #999 not found"));
    fx.assert_unchanged(&before);
}

#[test]
fn each_membership_records_who_added_it() {
    let fx = TestSite::new();
    let sync = fx.add_method("noop");
    let l = &fx.learners;
    one_by_hand_one_by_method(&fx, fx.team_a, sync);
    fx.site
        .add_group_members(&fx.teacher, fx.team_a, &[l[2]])
        .unwrap();
    assert_eq!(
        owners(&fx, fx.team_a),
        vec![
            (l[0], MembershipOwner::Manual),
            (l[1], MembershipOwner::Method(sync)),
            (l[2], MembershipOwner::Manual),
        ]
    );
}

#[test]
fn adding_an_existing_member_keeps_its_owner_and_writes_nothing() {
    let fx = TestSite::new();
    let sync = fx.add_method("noop");
    fx.site
        .add_group_members(&fx.admin, fx.team_a, &[fx.learners[0]])
        .unwrap();
    let before = fx.snapshot();
    let change = fx
        .site
        .add_group_members(&fx.as_method(sync), fx.team_a, &[fx.learners[0]])
        .unwrap();
    assert_eq!(
        change,
        MembershipChange {
            changed: 0,
            unchanged: 1
        }
    );
    fx.assert_unchanged(&before);
    assert_eq!(
        owners(&fx, fx.team_a),
        vec![(fx.learners[0], MembershipOwner::Manual)]
    );
}

#[test]
fn a_site_admin_cannot_remove_a_membership_a_method_owns_but_the_method_can() {
    let fx = TestSite::new();
    let sync = fx.add_method("noop");
    let l = &fx.learners;
    one_by_hand_one_by_method(&fx, fx.team_a, sync);
    let before = fx.snapshot();
    // One owned membership in the batch fails it all: l[0] stays too.
    for who in [&fx.admin, &fx.teacher, &fx.operator] {
        let err = refused(fx.site.remove_group_members(who, fx.team_a, &[l[0], l[1]]));
        assert_eq!(
            err,
            says(
                "Conflict",
                r#"user #4 was added to group "Team A" by enrolment method "noop"; only that method can remove them"#
            )
        );
    }
    fx.assert_unchanged(&before);
    let change = fx
        .site
        .remove_group_members(&fx.as_method(sync), fx.team_a, &[l[1]])
        .unwrap();
    assert_eq!(
        change,
        MembershipChange {
            changed: 1,
            unchanged: 0
        }
    );
    assert_eq!(
        owners(&fx, fx.team_a),
        vec![(l[0], MembershipOwner::Manual)]
    );
}

#[test]
fn a_method_cannot_remove_a_manual_membership_nor_another_methods() {
    let fx = TestSite::new();
    let sync = fx.add_method("noop");
    let other = fx.add_method("noop");
    let l = &fx.learners;
    one_by_hand_one_by_method(&fx, fx.team_a, other);
    let before = fx.snapshot();
    let manual = refused(
        fx.site
            .remove_group_members(&fx.as_method(sync), fx.team_a, &[l[0]]),
    );
    assert_eq!(
        manual,
        says(
            "Conflict",
            r#"user #3 was added to group "Team A" by hand; an enrolment method cannot remove them"#
        )
    );
    let foreign = refused(
        fx.site
            .remove_group_members(&fx.as_method(sync), fx.team_a, &[l[1]]),
    );
    assert_eq!(
        foreign,
        says(
            "Conflict",
            r#"user #4 was added to group "Team A" by enrolment method "noop"; only that method can remove them"#
        )
    );
    fx.assert_unchanged(&before);
}

#[test]
fn removing_a_non_member_is_a_silent_no_op() {
    let fx = TestSite::new();
    let before = fx.snapshot();
    let change = fx
        .site
        .remove_group_members(&fx.admin, fx.team_a, &[fx.learners[0], UserId(999)])
        .unwrap();
    assert_eq!(
        change,
        MembershipChange {
            changed: 0,
            unchanged: 2
        }
    );
    fx.assert_unchanged(&before);
}

#[test]
fn deleting_a_group_leaves_the_site_as_it_was_before_it_existed() {
    let fx = TestSite::new();
    let sync = fx.add_method("noop");
    let before = fx.data();
    let temp = fx
        .site
        .create_group(&fx.admin, fx.course, group("Temp", Some("tmp")))
        .unwrap()
        .id;
    one_by_hand_one_by_method(&fx, temp, sync);
    fx.site.delete_group(&fx.teacher, temp).unwrap();
    assert_same_tables(&fx.data(), &before);
    assert_eq!(
        refused(fx.site.group_members(&fx.admin, temp, None, 10)),
        says("NotFound", "course group #3 not found")
    );
    // Its name and idnumber are free again.
    assert!(
        fx.site
            .create_group(&fx.admin, fx.course, group("temp", Some("tmp")))
            .is_ok()
    );
}

#[test]
fn groups_list_by_name_with_their_member_counts() {
    let fx = TestSite::new();
    fx.site
        .create_group(&fx.admin, fx.course, group("alpha", None))
        .unwrap();
    fx.site
        .add_group_members(&fx.admin, fx.team_b, &fx.learners[0..2])
        .unwrap();
    let listed = |who: &Principal| -> Vec<(String, u64)> {
        fx.site
            .list_groups(who, fx.course)
            .unwrap()
            .into_iter()
            .map(|g| (g.group.name, g.members))
            .collect()
    };
    let all = vec![
        ("alpha".to_string(), 0),
        ("Team A".to_string(), 0),
        ("Team B".to_string(), 2),
    ];
    assert_eq!(listed(&fx.teacher), all);
    // The fixture's course has separate groups: a learner lists their own.
    assert_eq!(listed(&fx.learner(0)), vec![("Team B".to_string(), 2)]);
    assert!(listed(&fx.learner(3)).is_empty(), "learner4 is in no group");
    fx.site
        .update_course(
            &fx.admin,
            fx.course,
            crate::services::courses::CourseUpdate {
                group_mode: Some(GroupMode::Visible),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(
        listed(&fx.learner(3)),
        all,
        "visible groups are listed to all"
    );
}

#[test]
fn the_group_overview_names_the_owner_of_each_membership() {
    let fx = TestSite::new();
    fx.site
        .add_group_members(&fx.teacher, fx.team_a, &[fx.learners[0]])
        .unwrap();
    let sync = fx.method_keeping("Segment sync: HR", &[fx.learners[1], fx.learners[2]]);
    let all = fx
        .site
        .group_overview(&fx.teacher, fx.team_a, &MemberFilter::default(), None, 10)
        .unwrap();
    assert_eq!(all.course.id, fx.course);
    assert_eq!(all.members, 3);
    let owners: Vec<(UserId, Option<String>)> = all
        .page
        .items
        .iter()
        .map(|m| (m.user.id, m.method.as_ref().map(|m| m.name.clone())))
        .collect();
    assert_eq!(
        owners,
        vec![
            (fx.learners[0], None),
            (fx.learners[1], Some("Segment sync: HR".into())),
            (fx.learners[2], Some("Segment sync: HR".into())),
        ]
    );
    assert_eq!(all.used_by.iter().map(|m| m.id).collect::<Vec<_>>(), [sync]);

    let searched = fx
        .site
        .group_overview(
            &fx.teacher,
            fx.team_a,
            &MemberFilter {
                query: Some("learner3".into()),
                users: None,
            },
            None,
            10,
        )
        .unwrap();
    assert_eq!(searched.page.items.len(), 1);
    let chosen = fx
        .site
        .group_overview(
            &fx.teacher,
            fx.team_a,
            &MemberFilter {
                query: None,
                users: Some(vec![fx.learners[2], fx.learners[0], fx.learners[3]]),
            },
            None,
            10,
        )
        .unwrap();
    let ids: Vec<UserId> = chosen.page.items.iter().map(|m| m.user.id).collect();
    assert_eq!(
        ids,
        [fx.learners[0], fx.learners[2]],
        "non-members are left out"
    );
    assert_eq!(
        refused(fx.site.group_overview(
            &fx.learner(0),
            fx.team_a,
            &MemberFilter::default(),
            None,
            10
        )),
        says("Forbidden", "not allowed: you do not teach course #1")
    );
}

#[test]
fn a_group_deletion_counts_what_goes_and_names_the_instances_using_it() {
    let fx = TestSite::new();
    fx.site
        .add_group_members(&fx.admin, fx.team_a, &fx.learners[0..2])
        .unwrap();
    let sync = fx.method_keeping("Segment sync: HR", &[fx.learners[2]]);
    let before = fx.snapshot();
    let deletion = fx.site.group_deletion(&fx.teacher, fx.team_a).unwrap();
    assert_eq!(deletion.manual, 2);
    assert_eq!(
        deletion
            .by_method
            .iter()
            .map(|(m, n)| (m.id, *n))
            .collect::<Vec<_>>(),
        [(sync, 1)]
    );
    assert_eq!(
        deletion.used_by.iter().map(|m| m.id).collect::<Vec<_>>(),
        [sync]
    );
    let other = fx.site.group_deletion(&fx.teacher, fx.team_b).unwrap();
    assert_eq!(
        (other.manual, other.by_method.len(), other.used_by.len()),
        (0, 0, 0)
    );
    fx.assert_unchanged(&before);
}

#[test]
fn group_candidates_are_the_courses_participants_who_are_not_members() {
    let fx = TestSite::new();
    fx.site
        .add_group_members(&fx.admin, fx.team_a, &fx.learners[0..2])
        .unwrap();
    let ids = |c: GroupCandidates| c.candidates.items.iter().map(|u| u.id).collect::<Vec<_>>();
    let all = fx
        .site
        .group_candidates(&fx.teacher, fx.team_a, None, None, 10)
        .unwrap();
    assert_eq!(ids(all), [fx.teacher_id, fx.learners[2], fx.learners[3]]);
    let searched = fx
        .site
        .group_candidates(&fx.teacher, fx.team_a, Some("learner4"), None, 10)
        .unwrap();
    assert_eq!(ids(searched), [fx.learners[3]]);
    let first = fx
        .site
        .group_candidates(&fx.teacher, fx.team_a, None, None, 1)
        .unwrap();
    assert_eq!(first.candidates.next, Some(fx.teacher_id));
    let rest = fx
        .site
        .group_candidates(&fx.teacher, fx.team_a, None, first.candidates.next, 10)
        .unwrap();
    assert_eq!(ids(rest), [fx.learners[2], fx.learners[3]]);
}

#[test]
fn course_groups_are_for_the_courses_staff() {
    let fx = TestSite::new();
    let page = fx
        .site
        .course_groups(&fx.teacher, fx.course, Some("b"), 0, 10)
        .unwrap();
    assert_eq!(page.course.id, fx.course);
    let names: Vec<&str> = page
        .groups
        .items
        .iter()
        .map(|g| g.group.name.as_str())
        .collect();
    assert_eq!(names, ["Team B"]);
    assert_eq!(
        refused(
            fx.site
                .course_groups(&fx.learner(0), fx.course, None, 0, 10)
        ),
        says("Forbidden", "not allowed: you do not teach course #1")
    );
}
