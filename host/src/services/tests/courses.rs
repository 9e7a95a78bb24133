//! Courses (PRODUCT §2): unique short names, the manual method every
//! course starts with, who sees which course, and deletion with everything
//! in the course.

use super::{refused, says};
use crate::domain::*;
use crate::services::Principal;
use crate::services::courses::{CourseUpdate, NewCourse};
use crate::services::enrolments::NewMethod;
use crate::services::groups::NewGroup;
use crate::services::testing::{TestSite, assert_same_tables};

fn course(shortname: &str, fullname: &str) -> NewCourse {
    NewCourse {
        shortname: shortname.into(),
        fullname: fullname.into(),
        group_mode: GroupMode::None,
        force_group_mode: false,
    }
}

#[test]
fn a_new_course_starts_with_an_enabled_manual_method() {
    let fx = TestSite::new();
    let new = NewCourse {
        group_mode: GroupMode::Visible,
        force_group_mode: true,
        ..course(" HIST1 ", " History ")
    };
    let created = fx.site.create_course(&fx.admin, new).unwrap();
    assert_eq!(
        created,
        Course {
            id: CourseId(2),
            shortname: "HIST1".into(),
            fullname: "History".into(),
            group_mode: GroupMode::Visible,
            force_group_mode: true,
            created_at: created.created_at,
        }
    );
    let methods = fx.site.list_methods(&fx.admin, created.id).unwrap();
    assert_eq!(
        methods,
        vec![EnrolmentMethod {
            id: EnrolmentMethodId(2),
            course: created.id,
            plugin: "manual".into(),
            name: "Manual enrolments".into(),
            status: EnrolmentMethodStatus::Enabled,
            config: r#"{"role":"learner"}"#.into(),
            created_at: created.created_at,
        }]
    );
}

#[test]
fn course_short_names_are_unique_whatever_their_case() {
    let fx = TestSite::new();
    let (other, _) = fx.other_course("HIST1");
    let before = fx.snapshot();
    let err = refused(fx.site.create_course(&fx.admin, course("comp101", "Again")));
    assert_eq!(
        err,
        says(
            "Duplicate",
            r#"shortname: course #1 already has the short name "comp101""#
        )
    );
    let rename = CourseUpdate {
        shortname: Some("Comp101".into()),
        ..Default::default()
    };
    let err = refused(fx.site.update_course(&fx.admin, other, rename));
    assert_eq!(
        err,
        says(
            "Duplicate",
            r#"shortname: course #1 already has the short name "Comp101""#
        )
    );
    fx.assert_unchanged(&before);
    // A course may change the case of its own short name.
    let recase = CourseUpdate {
        shortname: Some("comp101".into()),
        ..Default::default()
    };
    let renamed = fx
        .site
        .update_course(&fx.teacher, fx.course, recase)
        .unwrap();
    assert_eq!(renamed.shortname, "comp101");
    let found = fx.site.course_by_shortname(&fx.admin, "COMP101").unwrap();
    assert_eq!(found, renamed);
}

#[test]
fn blank_or_over_long_course_names_are_refused_and_nothing_is_written() {
    let fx = TestSite::new();
    let before = fx.snapshot();
    assert_eq!(
        refused(fx.site.create_course(&fx.admin, course("", "History"))),
        says("Invalid", "shortname: is required")
    );
    assert_eq!(
        refused(fx.site.create_course(&fx.admin, course("HIST1", "  "))),
        says("Invalid", "fullname: is required")
    );
    assert_eq!(
        refused(
            fx.site
                .create_course(&fx.admin, course("HIST1", &"h".repeat(255)))
        ),
        says(
            "Invalid",
            "fullname: is 255 characters long; the maximum is 254"
        )
    );
    fx.assert_unchanged(&before);
}

#[test]
fn deleting_a_course_leaves_the_site_as_it_was_before_it_existed() {
    let fx = TestSite::new();
    let before = fx.data();
    let l = &fx.learners;

    let (history, manual) = fx.other_course("HIST1");
    let sync = fx
        .site
        .add_method(
            &fx.admin,
            history,
            NewMethod {
                plugin: "noop".into(),
                name: "HR sync".into(),
                config: serde_json::json!({"segment": "hr"}),
                enabled: true,
            },
        )
        .unwrap()
        .id;
    let evening = fx
        .site
        .create_group(
            &fx.admin,
            history,
            NewGroup {
                name: "Evening".into(),
                idnumber: Some("eve".into()),
                description: "After work".into(),
            },
        )
        .unwrap()
        .id;
    fx.site
        .enrol(&fx.admin, manual, l[0], Role::Learner)
        .unwrap();
    fx.site
        .enrol(&fx.admin, manual, l[4], Role::Teacher)
        .unwrap();
    fx.site
        .enrol(&fx.as_method(sync), sync, l[0], Role::Learner)
        .unwrap();
    fx.site
        .add_group_members(&fx.admin, evening, &[l[0]])
        .unwrap();
    fx.site
        .add_group_members(&fx.as_method(sync), evening, &[l[4]])
        .unwrap();

    fx.site.delete_course(&fx.admin, history).unwrap();

    assert_same_tables(&fx.data(), &before);
    // The reverse indexes agree through the read API.
    for user in [l[0], l[4]] {
        let enrolments = fx.site.user_enrolments(&fx.admin, user).unwrap();
        assert!(enrolments.iter().all(|e| e.course == fx.course));
    }
    assert_eq!(
        refused(fx.site.course_by_shortname(&fx.admin, "HIST1")),
        says("NotFound", r#"course "HIST1" not found"#)
    );
    assert_eq!(
        refused(fx.site.get_group(&fx.admin, evening)),
        says("NotFound", "course group #3 not found")
    );
    // Its short name is free again.
    assert!(
        fx.site
            .create_course(&fx.admin, course("hist1", "History"))
            .is_ok()
    );
}

#[test]
fn learners_list_only_their_courses_and_admins_every_course() {
    let fx = TestSite::new();
    let (history, _) = fx.other_course("HIST1");
    let shortnames = |who: &Principal| -> Vec<String> {
        fx.site
            .list_courses(who, None, 0, 100)
            .unwrap()
            .items
            .into_iter()
            .map(|c| c.shortname)
            .collect()
    };
    let (learner1, learner5) = (fx.learner(0), fx.learner(4));
    assert_eq!(shortnames(&fx.admin), vec!["COMP101", "HIST1"]);
    assert_eq!(shortnames(&learner1), vec!["COMP101"]);
    assert_eq!(shortnames(&learner5), Vec::<String>::new());
    assert_eq!(
        refused(fx.site.get_course(&fx.learner(0), history)),
        says(
            "Forbidden",
            "not allowed: you are not a participant of course #2"
        )
    );
}

#[test]
fn the_home_page_lists_only_courses_open_to_self_enrolment() {
    let fx = TestSite::new();
    let shown = |fx: &TestSite| -> Vec<String> {
        let home = fx.site.home_overview().unwrap();
        home.courses.into_iter().map(|c| c.shortname).collect()
    };
    assert_eq!(shown(&fx), Vec::<String>::new(), "manual enrolment only");
    let method = fx.add_method("self");
    assert_eq!(shown(&fx), vec!["COMP101"]);
    fx.site
        .set_method_status(&fx.admin, method, EnrolmentMethodStatus::Disabled)
        .unwrap();
    assert_eq!(
        shown(&fx),
        Vec::<String>::new(),
        "its self enrolment is off"
    );
}

#[test]
fn the_course_overview_gives_staff_their_counts_and_learners_the_course_only() {
    let fx = TestSite::new();
    let learner = fx.site.course_overview(&fx.learner(0), fx.course).unwrap();
    assert_eq!(learner.course.shortname, "COMP101");
    assert!(!learner.can_configure);
    assert_eq!((learner.groups, learner.methods), (0, 0));
    let teacher = fx.site.course_overview(&fx.teacher, fx.course).unwrap();
    assert!(teacher.can_configure);
    assert_eq!((teacher.groups, teacher.methods), (2, 1));
    assert_eq!(
        refused(fx.site.course_overview(&fx.learner(4), fx.course)),
        says(
            "Forbidden",
            "not allowed: you are not a participant of course #1"
        )
    );
}

#[test]
fn course_participants_name_their_methods_and_are_searched_and_paged() {
    let fx = TestSite::new();
    fx.mixed_participants("HR sync");
    let found = fx
        .site
        .course_participants(&fx.teacher, fx.course, Some("LEARNER2"), None, 10)
        .unwrap();
    assert_eq!(found.course.id, fx.course);
    let [one] = found.participants.items.as_slice() else {
        panic!("one match: {:?}", found.participants.items);
    };
    assert_eq!(one.user.id, fx.learners[1]);
    let methods: Vec<&str> = one
        .enrolments
        .iter()
        .map(|e| e.method.plugin.as_str())
        .collect();
    assert_eq!(methods, ["manual", "noop"]);
    assert!(one.is_active());

    let suspended = fx
        .site
        .course_participants(&fx.teacher, fx.course, Some("learner3"), None, 10)
        .unwrap();
    assert!(!suspended.participants.items[0].is_active());

    // Teacher and learners 1–4, two a page.
    let first = fx
        .site
        .course_participants(&fx.admin, fx.course, None, None, 2)
        .unwrap()
        .participants;
    assert_eq!(first.items.len(), 2);
    let mut seen: Vec<UserId> = first.items.iter().map(|p| p.user.id).collect();
    let mut next = first.next;
    while let Some(after) = next {
        let page = fx
            .site
            .course_participants(&fx.admin, fx.course, None, Some(after), 2)
            .unwrap()
            .participants;
        seen.extend(page.items.iter().map(|p| p.user.id));
        next = page.next;
    }
    let mut expected = vec![fx.teacher_id];
    expected.extend(&fx.learners[0..4]);
    assert_eq!(seen, expected);
    // What learners see of it is `teaching.rs`'s.
}
