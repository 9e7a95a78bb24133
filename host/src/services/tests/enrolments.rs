//! Enrolments and enrolment methods (PRODUCT §2): one enrolment per
//! (course, user, method) with role and status, participants through any
//! active enrolment, and what unenrolment and method deletion take along.

use super::{owners, refused, says};
use crate::domain::*;
use crate::services::enrolments::{EnrolmentUpdate, MethodUpdate, NewMethod};
use crate::services::segments::MembershipChange;
use crate::services::testing::{Changes, TestSite, assert_same_tables, audited};

/// `(course, method, role, status)` of each of a user's enrolments.
fn enrolments_of(
    fx: &TestSite,
    user: UserId,
) -> Vec<(CourseId, EnrolmentMethodId, Option<Role>, EnrolmentStatus)> {
    fx.site
        .user_enrolments(&fx.admin, user)
        .expect("enrolments")
        .into_iter()
        .map(|e| (e.course, e.method, e.role, e.status))
        .collect()
}

#[test]
fn an_enrolment_is_one_per_course_user_and_method_with_role_and_status() {
    let fx = TestSite::new();
    let self_enrol = fx.add_method("self");
    let newcomer = fx.learners[4];
    let e = fx
        .site
        .enrol(&fx.admin, fx.manual, newcomer, Role::Learner)
        .unwrap();
    assert_eq!(
        e,
        Enrolment {
            course: fx.course,
            user: newcomer,
            method: fx.manual,
            role: Some(Role::Learner),
            status: EnrolmentStatus::Active,
            created_at: e.created_at,
            updated_at: e.created_at,
        }
    );
    fx.site
        .enrol(&fx.admin, self_enrol, newcomer, Role::NonEditingTeacher)
        .unwrap();
    assert_eq!(
        enrolments_of(&fx, newcomer),
        vec![
            (
                fx.course,
                fx.manual,
                Some(Role::Learner),
                EnrolmentStatus::Active
            ),
            (
                fx.course,
                self_enrol,
                Some(Role::NonEditingTeacher),
                EnrolmentStatus::Active
            ),
        ]
    );
    let page = fx
        .site
        .participants(&fx.admin, fx.course, Some(fx.learners[3]), 10)
        .unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].user.id, newcomer);
    assert_eq!(page.items[0].enrolments.len(), 2);
}

#[test]
fn enrolling_again_with_the_same_role_writes_nothing() {
    let fx = TestSite::new();
    let before = fx.snapshot();
    fx.site
        .enrol(&fx.admin, fx.manual, fx.learners[0], Role::Learner)
        .unwrap();
    fx.assert_unchanged(&before);
}

#[test]
fn enrolling_again_with_another_role_is_audited_as_a_role_change() {
    let fx = TestSite::new();
    let l = fx.learners[0];
    let target = format!(
        "user #{l} in course #{} via method #{}",
        fx.course, fx.manual
    );
    // Enrols `l` as `role` and returns what the audit log says of it.
    let enrol_as = |role| {
        let mark = fx.mark();
        fx.site.enrol(&fx.admin, fx.manual, l, role).unwrap();
        fx.changes_since(&mark).audit
    };
    let said =
        |action: &str, reason: &str| vec![audited(fx.admin.actor(), action, &target, reason)];
    assert_eq!(
        enrol_as(Role::NonEditingTeacher),
        said("enrolment.role_set", "role set to Non-editing teacher")
    );
    // A suspended enrolment enrolled again is re-activated.
    fx.site
        .set_enrolment_status(&fx.admin, fx.manual, l, EnrolmentStatus::Suspended, true)
        .unwrap();
    assert_eq!(
        enrol_as(Role::Learner),
        said("enrolment.reactivated", "enrolled as Learner")
    );
}

#[test]
fn enrolling_a_suspended_user_again_reactivates_them_with_the_new_role() {
    let fx = TestSite::new();
    let l = fx.learners[0];
    fx.site
        .set_enrolment_status(&fx.admin, fx.manual, l, EnrolmentStatus::Suspended, true)
        .unwrap();
    assert_eq!(
        enrolments_of(&fx, l),
        vec![(fx.course, fx.manual, None, EnrolmentStatus::Suspended)]
    );
    fx.site
        .enrol(&fx.admin, fx.manual, l, Role::NonEditingTeacher)
        .unwrap();
    assert_eq!(
        enrolments_of(&fx, l),
        vec![(
            fx.course,
            fx.manual,
            Some(Role::NonEditingTeacher),
            EnrolmentStatus::Active
        )]
    );
}

#[test]
fn a_user_enrolled_by_two_methods_is_a_participant_while_one_is_active() {
    let fx = TestSite::new();
    let self_enrol = fx.add_method("self");
    let l = fx.learners[0];
    fx.site
        .enrol(&fx.admin, self_enrol, l, Role::Learner)
        .unwrap();
    fx.site
        .set_enrolment_status(&fx.admin, fx.manual, l, EnrolmentStatus::Suspended, false)
        .unwrap();
    assert!(fx.site.get_course(&fx.learner(0), fx.course).is_ok());
    let page = fx
        .site
        .participants(&fx.admin, fx.course, None, 100)
        .unwrap();
    let me = page.items.iter().find(|p| p.user.id == l).unwrap();
    assert!(me.is_active());

    fx.site
        .set_enrolment_status(&fx.admin, self_enrol, l, EnrolmentStatus::Suspended, false)
        .unwrap();
    assert_eq!(
        refused(fx.site.get_course(&fx.learner(0), fx.course)),
        says(
            "Forbidden",
            "not allowed: you are not a participant of course #1"
        )
    );
    let page = fx
        .site
        .participants(&fx.admin, fx.course, None, 100)
        .unwrap();
    let me = page.items.iter().find(|p| p.user.id == l).unwrap();
    assert!(!me.is_active());
}

#[test]
fn full_unenrolment_removes_the_users_groups_in_that_course_only() {
    let fx = TestSite::new();
    let (other, other_manual) = fx.other_course("HIST1");
    let evening = fx.add_group(other, "Evening");
    let l = fx.learners[0];
    fx.site
        .enrol(&fx.admin, other_manual, l, Role::Learner)
        .unwrap();
    fx.site
        .add_group_members(&fx.admin, fx.team_a, &[l, fx.learners[1]])
        .unwrap();
    fx.site
        .add_group_members(&fx.admin, fx.team_b, &[l])
        .unwrap();
    fx.site.add_group_members(&fx.admin, evening, &[l]).unwrap();

    fx.site.unenrol(&fx.admin, fx.manual, l).unwrap();

    assert_eq!(
        owners(&fx, fx.team_a),
        vec![(fx.learners[1], MembershipOwner::Manual)]
    );
    assert_eq!(owners(&fx, fx.team_b), vec![]);
    assert_eq!(owners(&fx, evening), vec![(l, MembershipOwner::Manual)]);
    assert_eq!(
        enrolments_of(&fx, l),
        vec![(
            other,
            other_manual,
            Some(Role::Learner),
            EnrolmentStatus::Active
        )]
    );
}

#[test]
fn losing_one_of_two_enrolments_takes_only_the_memberships_that_method_owned() {
    let fx = TestSite::new();
    let sync = fx.add_method("noop");
    let l = fx.learners[0];
    fx.site
        .enrol(&fx.as_method(sync), sync, l, Role::Learner)
        .unwrap();
    fx.site
        .add_group_members(&fx.admin, fx.team_a, &[l])
        .unwrap();
    fx.site
        .add_group_members(&fx.as_method(sync), fx.team_b, &[l])
        .unwrap();

    fx.site.unenrol(&fx.as_method(sync), sync, l).unwrap();

    assert_eq!(owners(&fx, fx.team_a), vec![(l, MembershipOwner::Manual)]);
    assert_eq!(owners(&fx, fx.team_b), vec![]);
    assert_eq!(
        enrolments_of(&fx, l),
        vec![(
            fx.course,
            fx.manual,
            Some(Role::Learner),
            EnrolmentStatus::Active
        )]
    );
}

#[test]
fn deleting_a_method_removes_its_enrolments_and_memberships_but_not_manual_ones() {
    let fx = TestSite::new();
    let l = &fx.learners;
    fx.site
        .add_group_members(&fx.admin, fx.team_a, &[l[0], l[1]])
        .unwrap();
    let before = fx.data();

    let sync = fx.add_method("noop");
    let as_sync = fx.as_method(sync);
    // It enrols a newcomer and a manual participant, and groups them.
    fx.site.enrol(&as_sync, sync, l[4], Role::Learner).unwrap();
    fx.site.enrol(&as_sync, sync, l[1], Role::Learner).unwrap();
    fx.site
        .add_group_members(&as_sync, fx.team_a, &[l[4]])
        .unwrap();
    fx.site
        .add_group_members(&as_sync, fx.team_b, &[l[1], l[4]])
        .unwrap();
    // It also groups a user it did not enrol (as "segment members to
    // group" does): that membership is its own too.
    fx.site
        .add_group_members(&as_sync, fx.team_b, &[l[2]])
        .unwrap();

    fx.site.delete_method(&fx.admin, sync).unwrap();

    assert_same_tables(&fx.data(), &before);
    assert_eq!(
        owners(&fx, fx.team_a),
        vec![
            (l[0], MembershipOwner::Manual),
            (l[1], MembershipOwner::Manual)
        ]
    );
    assert_eq!(owners(&fx, fx.team_b), vec![]);
    assert!(enrolments_of(&fx, l[4]).is_empty());
    assert_eq!(
        refused(fx.site.get_method(&fx.admin, sync)),
        says("NotFound", "enrolment method #2 not found")
    );
}

#[test]
fn a_disabled_method_enrols_nobody() {
    let fx = TestSite::new();
    let self_enrol = fx.add_method("self");
    fx.site
        .set_method_status(&fx.admin, self_enrol, EnrolmentMethodStatus::Disabled)
        .unwrap();
    let before = fx.snapshot();
    let err = refused(
        fx.site
            .enrol(&fx.admin, self_enrol, fx.learners[4], Role::Learner),
    );
    assert_eq!(
        err,
        says(
            "Conflict",
            r#"enrolment method "self" is disabled; enable it first"#
        )
    );
    fx.assert_unchanged(&before);
}

#[test]
fn a_method_changes_only_its_own_enrolments() {
    let fx = TestSite::new();
    let sync = fx.add_method("noop");
    let before = fx.snapshot();
    let as_sync = fx.as_method(sync);
    let message = "not allowed: enrolment method #2 cannot change enrolments of method #1";
    let l = fx.learners[0];
    assert_eq!(
        refused(fx.site.unenrol(&as_sync, fx.manual, l)),
        says("Forbidden", message)
    );
    assert_eq!(
        refused(
            fx.site
                .enrol(&as_sync, fx.manual, fx.learners[4], Role::Learner)
        ),
        says("Forbidden", message)
    );
    let suspend =
        fx.site
            .set_enrolment_status(&as_sync, fx.manual, l, EnrolmentStatus::Suspended, false);
    assert_eq!(refused(suspend), says("Forbidden", message));
    assert_eq!(
        refused(fx.site.set_enrolment_role(&as_sync, fx.manual, l, None)),
        says("Forbidden", message)
    );
    fx.assert_unchanged(&before);
}

#[test]
fn bad_enrolment_input_is_refused_and_nothing_is_written() {
    let fx = TestSite::new();
    let before = fx.snapshot();
    assert_eq!(
        refused(
            fx.site
                .enrol(&fx.admin, fx.manual, UserId(999), Role::Learner)
        ),
        says("NotFound", "user #999 not found")
    );
    assert_eq!(
        refused(fx.site.enrol(
            &fx.admin,
            EnrolmentMethodId(99),
            fx.learners[4],
            Role::Learner
        )),
        says("NotFound", "enrolment method #99 not found")
    );
    assert_eq!(
        refused(fx.site.unenrol(&fx.admin, fx.manual, fx.learners[4])),
        says("NotFound", "enrolment of user #7 via method #1 not found")
    );
    let not_an_object = NewMethod {
        plugin: "self".into(),
        name: String::new(),
        config: serde_json::json!(["key"]),
        enabled: true,
    };
    assert_eq!(
        refused(fx.site.add_method(&fx.admin, fx.course, not_an_object)),
        says("Invalid", "config: must be a JSON object")
    );
    let blank_plugin = NewMethod {
        plugin: " ".into(),
        name: String::new(),
        config: serde_json::json!({}),
        enabled: true,
    };
    assert_eq!(
        refused(fx.site.add_method(&fx.admin, fx.course, blank_plugin)),
        says("Invalid", "plugin: is required")
    );
    let rename = MethodUpdate {
        name: Some(" ".into()),
        ..Default::default()
    };
    assert_eq!(
        refused(fx.site.update_method(&fx.admin, fx.manual, rename)),
        says("Invalid", "name: is required")
    );
    fx.assert_unchanged(&before);
}

#[test]
fn participants_page_by_user_with_all_their_enrolments() {
    let fx = TestSite::new();
    let self_enrol = fx.add_method("self");
    fx.site
        .enrol(&fx.admin, self_enrol, fx.learners[0], Role::Learner)
        .unwrap();
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = fx
            .site
            .participants(&fx.teacher, fx.course, after, 2)
            .unwrap();
        assert!(page.items.len() <= 2);
        seen.extend(page.items.iter().map(|p| (p.user.id, p.enrolments.len())));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let l = &fx.learners;
    assert_eq!(
        seen,
        vec![
            (fx.teacher_id, 1),
            (l[0], 2),
            (l[1], 1),
            (l[2], 1),
            (l[3], 1)
        ]
    );
}

#[test]
fn enrolling_many_users_is_one_transaction_all_or_none() {
    let fx = TestSite::new();
    let l = &fx.learners;
    let before = fx.snapshot();
    assert_eq!(
        refused(
            fx.site
                .enrol_users(&fx.admin, fx.manual, &[l[4], UserId(999)], Role::Learner)
        ),
        says("NotFound", "user #999 not found")
    );
    fx.assert_unchanged(&before);

    // learner1 is already an active learner; learner5 is new.
    let change = fx
        .site
        .enrol_users(&fx.admin, fx.manual, &[l[0], l[4]], Role::Learner)
        .unwrap();
    assert_eq!(
        change,
        MembershipChange {
            changed: 1,
            unchanged: 1
        }
    );
    assert_eq!(
        enrolments_of(&fx, l[4]),
        vec![(
            fx.course,
            fx.manual,
            Some(Role::Learner),
            EnrolmentStatus::Active
        )]
    );

    fx.site
        .set_method_status(&fx.admin, fx.manual, EnrolmentMethodStatus::Disabled)
        .unwrap();
    let before = fx.snapshot();
    assert_eq!(
        refused(
            fx.site
                .enrol_users(&fx.admin, fx.manual, &[l[1]], Role::Learner)
        ),
        says(
            "Conflict",
            r#"enrolment method "Manual enrolments" is disabled; enable it first"#
        )
    );
    fx.assert_unchanged(&before);
}

#[test]
fn suspending_and_removing_the_role_is_one_change_and_repeating_it_writes_nothing() {
    let fx = TestSite::new();
    let l = fx.learners[0];
    let mark = fx.mark();
    let suspend_without_role = || EnrolmentUpdate {
        status: Some(EnrolmentStatus::Suspended),
        role: Some(None),
    };
    let e = fx
        .site
        .update_enrolment(&fx.teacher, fx.manual, l, suspend_without_role())
        .unwrap();
    assert_eq!((e.status, e.role), (EnrolmentStatus::Suspended, None));
    let teacher = Actor::User(fx.teacher_id);
    let target = "user #3 in course #1 via method #1";
    assert_eq!(
        fx.changes_since(&mark),
        Changes {
            audit: vec![
                audited(
                    teacher,
                    "enrolment.suspended",
                    target,
                    "enrolment suspended"
                ),
                audited(teacher, "enrolment.role_set", target, "role set to no role"),
            ],
            events: vec![SiteEvent::EnrolmentUpdated {
                course: fx.course,
                user: l,
                method: fx.manual,
            }],
        }
    );
    let before = fx.snapshot();
    fx.site
        .update_enrolment(&fx.teacher, fx.manual, l, suspend_without_role())
        .unwrap();
    fx.site
        .update_enrolment(&fx.teacher, fx.manual, l, EnrolmentUpdate::default())
        .unwrap();
    fx.assert_unchanged(&before);
}

/// Issue 16, finding 14: a secret config field (the self method's key)
/// is kept when a changed config leaves it out, blank or masked, cleared
/// only by `null`, and reaches the plugin as stored.
#[test]
fn a_secret_config_field_is_kept_unless_cleared_and_reaches_the_plugin() {
    use crate::services::enrolments::secrets::secret_marker;
    let fx = TestSite::new();
    let method = fx
        .site
        .add_method(
            &fx.admin,
            fx.course,
            NewMethod {
                plugin: "self".into(),
                name: "Self".into(),
                config: serde_json::json!({"enrolment_key": "k3y"}),
                enabled: true,
            },
        )
        .unwrap()
        .id;
    assert_eq!(
        fx.site.secret_config_keys("self").unwrap(),
        ["enrolment_key"]
    );
    let key = |fx: &TestSite| {
        let m = fx.site.get_method(&fx.admin, method).unwrap();
        serde_json::from_str::<serde_json::Value>(&m.config).unwrap()["enrolment_key"].clone()
    };
    for config in [
        serde_json::json!({}),
        serde_json::json!({"enrolment_key": ""}),
        serde_json::json!({"enrolment_key": secret_marker()}),
    ] {
        let update = MethodUpdate {
            name: None,
            config: Some(config.clone()),
        };
        fx.site.update_method(&fx.admin, method, update).unwrap();
        assert_eq!(key(&fx), "k3y", "after {config}");
    }
    let newcomer = fx.learner(4);
    let wrong = fx.site.self_enrol(
        &newcomer,
        fx.course,
        Some(method),
        Some("nope".into()),
        true,
    );
    assert!(wrong.is_err(), "{wrong:?}");
    fx.site
        .self_enrol(&newcomer, fx.course, Some(method), Some("k3y".into()), true)
        .expect("the plugin gets the stored key");
    let clear = MethodUpdate {
        name: None,
        config: Some(serde_json::json!({"enrolment_key": null})),
    };
    fx.site.update_method(&fx.admin, method, clear).unwrap();
    assert_eq!(key(&fx), serde_json::Value::Null);
}
