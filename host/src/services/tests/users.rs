//! Users (PRODUCT §2): usernames and e-mails unique whatever their case,
//! field rules, status, and deletion with everything the user was part of.

use std::collections::BTreeMap;

use super::{refused, says};
use crate::domain::*;
use crate::services::groups::NewGroup;
use crate::services::testing::{TestSite, assert_same_tables};
use crate::services::users::{NewUser, UserUpdate};

fn new_user(username: &str, email: &str) -> NewUser {
    NewUser {
        username: username.into(),
        email: email.into(),
        firstname: "Alice".into(),
        lastname: "Brown".into(),
        ..Default::default()
    }
}

#[test]
fn a_new_user_gets_a_lower_case_username_and_keeps_their_email_as_typed() {
    let fx = TestSite::new();
    let mut new = new_user(" Alice.B ", "Alice.B@Example.org");
    new.profile = BTreeMap::from([("Department".into(), " HR ".into())]);
    let user = fx.site.create_user(&fx.admin, new).unwrap();
    assert_eq!(
        user,
        User {
            id: UserId(8),
            username: "alice.b".into(),
            email: "Alice.B@Example.org".into(),
            firstname: "Alice".into(),
            lastname: "Brown".into(),
            status: UserStatus::Active,
            site_role: SiteRole::User,
            profile: BTreeMap::from([("department".into(), "HR".into())]),
            password_hash: None,
            created_at: user.created_at,
            updated_at: user.created_at,
        }
    );
    let found = fx.site.user_by_username(&fx.admin, "ALICE.B").unwrap();
    assert_eq!(found, user);
}

#[test]
fn usernames_are_unique_whatever_their_case() {
    let fx = TestSite::new();
    let before = fx.snapshot();
    let err = refused(
        fx.site
            .create_user(&fx.admin, new_user("ADMIN", "other@example.org")),
    );
    assert_eq!(
        err,
        says("Duplicate", r#"username: username "admin" is taken"#)
    );
    fx.assert_unchanged(&before);
}

#[test]
fn emails_are_unique_whatever_their_case() {
    let fx = TestSite::new();
    let before = fx.snapshot();
    let err = refused(
        fx.site
            .create_user(&fx.admin, new_user("alice", "LEARNER1@Example.ORG")),
    );
    assert_eq!(
        err,
        says(
            "Duplicate",
            r#"email: e-mail "LEARNER1@Example.ORG" is taken"#
        )
    );
    fx.assert_unchanged(&before);
}

#[test]
fn renaming_a_user_to_a_taken_username_or_email_is_refused() {
    let fx = TestSite::new();
    let before = fx.snapshot();
    let rename = UserUpdate {
        username: Some("Learner1".into()),
        ..Default::default()
    };
    let err = refused(fx.site.update_user(&fx.admin, fx.learners[1], rename));
    assert_eq!(
        err,
        says("Duplicate", r#"username: username "learner1" is taken"#)
    );
    let re_mail = UserUpdate {
        email: Some("Teacher@example.org".into()),
        ..Default::default()
    };
    let err = refused(fx.site.update_user(&fx.admin, fx.learners[1], re_mail));
    assert_eq!(
        err,
        says(
            "Duplicate",
            r#"email: e-mail "Teacher@example.org" is taken"#
        )
    );
    fx.assert_unchanged(&before);
    // A user may change the case of their own e-mail.
    let own = UserUpdate {
        email: Some("LEARNER2@example.org".into()),
        ..Default::default()
    };
    let user = fx.site.update_user(&fx.admin, fx.learners[1], own).unwrap();
    assert_eq!(user.email, "LEARNER2@example.org");
}

#[test]
fn bad_user_fields_are_refused_with_their_field_and_nothing_is_written() {
    let fx = TestSite::new();
    let before = fx.snapshot();
    let long = "x".repeat(255);
    let cases: Vec<(NewUser, (&str, String))> = vec![
        (
            new_user("a b", "ab@example.org"),
            says(
                "Invalid",
                "username: may contain only letters, digits and . _ - @ (found ' ')",
            ),
        ),
        (
            new_user("  ", "ab@example.org"),
            says("Invalid", "username: is required"),
        ),
        (
            new_user(&"a".repeat(101), "ab@example.org"),
            says(
                "Invalid",
                "username: is 101 characters long; the maximum is 100",
            ),
        ),
        (
            new_user("ab", "not-an-email"),
            says(
                "Invalid",
                r#"email: "not-an-email" is not an e-mail address"#,
            ),
        ),
        (
            new_user("ab", "a@localhost"),
            says(
                "Invalid",
                r#"email: "a@localhost" is not an e-mail address"#,
            ),
        ),
        (new_user("ab", ""), says("Invalid", "email: is required")),
        (
            NewUser {
                firstname: " ".into(),
                ..new_user("ab", "ab@example.org")
            },
            says("Invalid", "firstname: is required"),
        ),
        (
            NewUser {
                lastname: long.clone(),
                ..new_user("ab", "ab@example.org")
            },
            says(
                "Invalid",
                "lastname: is 255 characters long; the maximum is 254",
            ),
        ),
        (
            NewUser {
                profile: BTreeMap::from([("Dept!".into(), "HR".into())]),
                ..new_user("ab", "ab@example.org")
            },
            says(
                "Invalid",
                r#"profile: "Dept!" is not a profile field name (a-z, 0-9, _)"#,
            ),
        ),
        (
            NewUser {
                password: Some("short".into()),
                ..new_user("ab", "ab@example.org")
            },
            says("Invalid", "password: must be at least 8 characters long"),
        ),
    ];
    for (new, expected) in cases {
        let described = format!("{new:?}");
        let err = refused(fx.site.create_user(&fx.admin, new));
        assert_eq!(err, expected, "{described}");
    }
    let err = refused(fx.site.update_user(
        &fx.admin,
        fx.learners[0],
        UserUpdate {
            lastname: Some(long),
            ..Default::default()
        },
    ));
    assert_eq!(
        err,
        says(
            "Invalid",
            "lastname: is 255 characters long; the maximum is 254"
        )
    );
    fx.assert_unchanged(&before);
}

#[test]
fn profile_fields_are_set_and_an_empty_value_removes_one() {
    let fx = TestSite::new();
    let city = crate::services::profile_fields::NewProfileField {
        shortname: "city".into(),
        name: "City".into(),
        kind: ProfileFieldKind::Text,
        required: false,
        visible_to_user: true,
        locked: false,
        position: None,
    };
    fx.site.create_profile_field(&fx.admin, city).unwrap();
    let set = UserUpdate {
        profile: BTreeMap::from([
            ("department".into(), "HR".into()),
            ("city".into(), "Lyon".into()),
        ]),
        ..Default::default()
    };
    fx.site.update_user(&fx.admin, fx.learners[0], set).unwrap();
    let unset = UserUpdate {
        profile: BTreeMap::from([("city".into(), "  ".into())]),
        ..Default::default()
    };
    let user = fx
        .site
        .update_user(&fx.admin, fx.learners[0], unset)
        .unwrap();
    assert_eq!(
        user.profile,
        BTreeMap::from([("department".into(), "HR".into())])
    );
}

#[test]
fn a_site_admin_cannot_suspend_delete_or_demote_themselves() {
    let fx = TestSite::new();
    let before = fx.snapshot();
    assert_eq!(
        refused(fx.site.suspend_user(&fx.admin, fx.admin_id)),
        says("Conflict", "you cannot suspend yourself")
    );
    assert_eq!(
        refused(fx.site.delete_user(&fx.admin, fx.admin_id)),
        says("Conflict", "you cannot delete yourself")
    );
    let demote = UserUpdate {
        site_admin: Some(false),
        ..Default::default()
    };
    assert_eq!(
        refused(fx.site.update_user(&fx.admin, fx.admin_id, demote)),
        says(
            "Conflict",
            "you cannot take the site admin role from yourself"
        )
    );
    fx.assert_unchanged(&before);
}

#[test]
fn suspending_a_suspended_user_writes_nothing() {
    let fx = TestSite::new();
    let user = fx.site.suspend_user(&fx.admin, fx.learners[0]).unwrap();
    assert_eq!(user.status, UserStatus::Suspended);
    let before = fx.snapshot();
    fx.site.suspend_user(&fx.admin, fx.learners[0]).unwrap();
    fx.assert_unchanged(&before);
    let user = fx.site.reactivate_user(&fx.admin, fx.learners[0]).unwrap();
    assert_eq!(user.status, UserStatus::Active);
}

#[test]
fn deleting_a_user_leaves_the_site_as_it_was_before_they_existed() {
    let fx = TestSite::new();
    let (other_course, other_manual) = fx.other_course("HIST1");
    let other_group = fx
        .site
        .create_group(
            &fx.admin,
            other_course,
            NewGroup {
                name: "Evening".into(),
                idnumber: Some("eve".into()),
                ..Default::default()
            },
        )
        .unwrap()
        .id;
    let before = fx.data();

    let alice = fx.user("alice");
    fx.site
        .add_segment_members(&fx.admin, fx.hr, &[alice])
        .unwrap();
    fx.site
        .add_segment_members(&fx.admin, fx.finance, &[alice])
        .unwrap();
    fx.site
        .enrol(&fx.admin, fx.manual, alice, Role::Learner)
        .unwrap();
    fx.site
        .enrol(&fx.admin, other_manual, alice, Role::Teacher)
        .unwrap();
    fx.site
        .add_group_members(&fx.admin, fx.team_a, &[alice])
        .unwrap();
    fx.site
        .add_group_members(&fx.admin, other_group, &[alice])
        .unwrap();
    fx.site.delete_user(&fx.admin, alice).unwrap();

    assert_same_tables(&fx.data(), &before);
    // The read API agrees: nothing refers to the user any more.
    assert_eq!(
        refused(fx.site.get_user(&fx.admin, alice)),
        says("NotFound", "user #8 not found")
    );
    assert_eq!(
        refused(fx.site.user_segments(&fx.admin, alice)),
        says("NotFound", "user #8 not found")
    );
    assert_eq!(
        refused(fx.site.user_enrolments(&fx.admin, alice)),
        says("NotFound", "user #8 not found")
    );
    for group in [fx.team_a, other_group] {
        let members = fx.site.group_members(&fx.admin, group, None, 100).unwrap();
        assert!(members.items.is_empty());
    }
    // Their username and e-mail are free again.
    assert!(
        fx.site
            .create_user(&fx.admin, new_user("alice", "alice@example.org"))
            .is_ok()
    );
}

#[test]
fn a_password_verifies_only_for_its_user() {
    let fx = TestSite::new();
    fx.site
        .set_user_password(&fx.learner(0), fx.learners[0], "correct horse")
        .unwrap();
    let user = fx
        .site
        .verify_user_password("LEARNER1", "correct horse")
        .unwrap()
        .expect("the right password logs in");
    assert_eq!(user.id, fx.learners[0]);
    let wrong = fx.site.verify_user_password("learner1", "wrong horse");
    assert_eq!(wrong.unwrap(), None);
    let unknown = fx.site.verify_user_password("nobody", "correct horse");
    assert_eq!(unknown.unwrap(), None);
    let never_set = fx.site.verify_user_password("learner2", "correct horse");
    assert_eq!(never_set.unwrap(), None);
}

#[test]
fn users_list_in_id_order_and_search_by_name_and_email() {
    let fx = TestSite::new();
    let page = fx.site.list_users(&fx.admin, None, None, 3).unwrap();
    let ids: Vec<UserId> = page.items.iter().map(|u| u.id).collect();
    assert_eq!(ids, vec![fx.admin_id, fx.teacher_id, fx.learners[0]]);
    assert_eq!(page.next, Some(fx.learners[0]));
    let rest = fx.site.list_users(&fx.admin, None, page.next, 100).unwrap();
    assert_eq!(rest.items.len(), 4);
    assert_eq!(rest.next, None);
    let found = fx
        .site
        .list_users(&fx.admin, Some("TEACHER@"), None, 100)
        .unwrap();
    assert_eq!(found.items.len(), 1);
    assert_eq!(found.items[0].id, fx.teacher_id);
}

#[test]
fn the_enrolments_and_segments_of_an_unknown_user_are_not_found_rather_than_empty() {
    let fx = TestSite::new();
    assert_eq!(
        refused(fx.site.user_enrolments(&fx.admin, UserId(999))),
        says("NotFound", "user #999 not found")
    );
    assert_eq!(
        refused(fx.site.user_segments(&fx.admin, UserId(999))),
        says("NotFound", "user #999 not found")
    );
}
