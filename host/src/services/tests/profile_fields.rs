//! Custom profile fields (issue 20): definitions, values checked against
//! them wherever a user is written, the indexes kept in step, deletion
//! with every value, and a user's own edit of what they may change.

use std::collections::BTreeMap;

use super::{refused, says};
use crate::domain::*;
use crate::services::profile_fields::{NewProfileField, ProfileFieldUpdate};
use crate::services::testing::TestSite;
use crate::services::users::{NewUser, ProfileCheck, UserUpdate};
use crate::storage::site::prelude::*;

fn field(shortname: &str, kind: ProfileFieldKind) -> NewProfileField {
    NewProfileField {
        shortname: shortname.into(),
        name: shortname.to_uppercase(),
        kind,
        required: false,
        visible_to_user: true,
        locked: false,
        position: None,
    }
}

fn menu(choices: &[&str]) -> ProfileFieldKind {
    ProfileFieldKind::Menu {
        choices: choices.iter().map(|c| (*c).to_owned()).collect(),
    }
}

fn profile(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn set(
    fx: &TestSite,
    user: UserId,
    pairs: &[(&str, &str)],
) -> crate::services::ServiceResult<User> {
    let update = UserUpdate {
        profile: profile(pairs),
        ..Default::default()
    };
    fx.site.update_user(&fx.admin, user, update)
}

#[test]
fn values_are_checked_against_their_fields_and_stored_in_canonical_form() {
    let fx = TestSite::new();
    fx.site
        .create_profile_field(&fx.admin, field("region", menu(&["North", "South"])))
        .unwrap();
    fx.site
        .create_profile_field(&fx.admin, field("first_aider", ProfileFieldKind::Checkbox))
        .unwrap();
    fx.site
        .create_profile_field(&fx.admin, field("started", ProfileFieldKind::Date))
        .unwrap();
    let user = fx.learners[0];
    let done = set(
        &fx,
        user,
        &[
            ("region", "north"),
            ("first_aider", "yes"),
            ("started", "2025-03-01"),
        ],
    )
    .unwrap();
    assert_eq!(
        done.profile,
        profile(&[
            ("first_aider", "1"),
            ("region", "North"),
            ("started", "2025-03-01")
        ])
    );
    let before = fx.snapshot();
    assert_eq!(
        refused(set(&fx, user, &[("region", "West")])),
        says(
            "Invalid",
            r#"profile: REGION: "West" is not one of its choices: "North", "South""#
        )
    );
    assert_eq!(
        refused(set(&fx, user, &[("shoe_size", "42")])),
        says(
            "Invalid",
            r#"profile: "shoe_size" is not a profile field of this site"#
        )
    );
    assert_eq!(
        refused(set(&fx, user, &[("started", "2025-02-30")])),
        says(
            "Invalid",
            r#"profile: STARTED: "2025-02-30" is not a date: use YYYY-MM-DD"#
        )
    );
    fx.assert_unchanged(&before);
    // Unticking removes the value.
    let done = set(&fx, user, &[("first_aider", "0")]).unwrap();
    assert!(!done.profile.contains_key("first_aider"));
}

#[test]
fn the_indexes_follow_every_change_of_e_mail_and_profile() {
    let fx = TestSite::new();
    let ann = fx.learners[0];
    set(&fx, ann, &[("department", "HR")]).unwrap();
    let by_value = |v: &str| {
        fx.site
            .read(|t| Ok(t.user_ids_by_profile_value("department", v, None, 10)?))
            .unwrap()
    };
    let by_domain = |d: &str| {
        fx.site
            .read(|t| Ok(t.user_ids_by_email_domain(d, None, 10)?))
            .unwrap()
    };
    assert_eq!(by_value("hr"), [ann]);
    set(&fx, ann, &[("department", "Finance")]).unwrap();
    assert_eq!(by_value("HR"), []);
    assert_eq!(by_value("finance"), [ann]);
    assert!(by_domain("example.org").contains(&ann));
    let update = UserUpdate {
        email: Some("ann@Acme.example".into()),
        ..Default::default()
    };
    fx.site.update_user(&fx.admin, ann, update).unwrap();
    assert!(!by_domain("example.org").contains(&ann));
    assert_eq!(by_domain("acme.example"), [ann]);
    fx.site.delete_user(&fx.admin, ann).unwrap();
    assert_eq!(by_value("finance"), []);
    assert_eq!(by_domain("acme.example"), []);
}

#[test]
fn a_required_field_binds_forms_but_not_uploads_or_the_api() {
    let fx = TestSite::new();
    let mut new = field("badge", ProfileFieldKind::Text);
    new.required = true;
    fx.site.create_profile_field(&fx.admin, new).unwrap();
    let person = |name: &str| NewUser {
        username: name.into(),
        email: format!("{name}@example.org"),
        firstname: "A".into(),
        lastname: "B".into(),
        ..Default::default()
    };
    fx.site.create_user(&fx.admin, person("api")).unwrap();
    assert_eq!(
        refused(
            fx.site
                .create_user_with(&fx.admin, person("form"), ProfileCheck::Complete)
        ),
        says("Invalid", "profile: BADGE is required")
    );
    let mut filled = person("form");
    filled.profile = profile(&[("badge", "B-7")]);
    fx.site
        .create_user_with(&fx.admin, filled, ProfileCheck::Complete)
        .unwrap();
}

#[test]
fn a_menus_choice_in_use_cannot_be_removed_and_deleting_a_field_clears_its_values() {
    let fx = TestSite::new();
    let region = fx
        .site
        .create_profile_field(&fx.admin, field("region", menu(&["North", "South"])))
        .unwrap();
    set(&fx, fx.learners[0], &[("region", "North")]).unwrap();
    let keep_south = ProfileFieldUpdate {
        choices: Some(vec!["South".into()]),
        ..Default::default()
    };
    assert_eq!(
        refused(
            fx.site
                .update_profile_field(&fx.admin, region.id, keep_south)
        )
        .0,
        "Conflict"
    );
    let add_east = ProfileFieldUpdate {
        choices: Some(vec!["North".into(), "South".into(), "East".into()]),
        ..Default::default()
    };
    fx.site
        .update_profile_field(&fx.admin, region.id, add_east)
        .unwrap();
    assert_eq!(
        refused(
            fx.site
                .create_profile_field(&fx.admin, field("region", ProfileFieldKind::Text))
        )
        .0,
        "Duplicate"
    );
    assert_eq!(
        fx.site.delete_profile_field(&fx.admin, region.id).unwrap(),
        1
    );
    let ann = fx.site.get_user(&fx.admin, fx.learners[0]).unwrap();
    assert!(!ann.profile.contains_key("region"));
    assert_eq!(
        refused(set(&fx, fx.learners[0], &[("region", "North")])).0,
        "Invalid"
    );
}

#[test]
fn a_user_changes_only_their_visible_unlocked_fields() {
    let fx = TestSite::new();
    let mut locked = field("grade", ProfileFieldKind::Text);
    locked.locked = true;
    fx.site.create_profile_field(&fx.admin, locked).unwrap();
    let me = fx.learners[0];
    let mine = fx.learner(0);
    let done = fx
        .site
        .update_own_profile(&mine, me, profile(&[("department", "Sales")]))
        .unwrap();
    assert_eq!(done.profile["department"], "Sales");
    assert_eq!(
        refused(
            fx.site
                .update_own_profile(&mine, me, profile(&[("grade", "7")]))
        ),
        says("Forbidden", "not allowed: GRADE is not yours to change")
    );
    assert_eq!(
        refused(fx.site.update_own_profile(
            &mine,
            fx.learners[1],
            profile(&[("department", "Sales")])
        ))
        .0,
        "Forbidden"
    );
}

#[test]
fn an_upload_names_the_row_and_column_of_each_value_its_field_refuses() {
    use crate::services::bulk::{ImportKind, RowIssue};
    let fx = TestSite::new();
    fx.site
        .create_profile_field(&fx.admin, field("region", menu(&["North", "South"])))
        .unwrap();
    let file = "username,firstname,lastname,email,profile_field_region,profile_field_shoe_size\n\
                amy,Amy,Pond,amy@example.org,south,\n\
                rory,Rory,Williams,rory@example.org,West,\n\
                clara,Clara,Oswald,clara@example.org,,42\n";
    let before = fx.snapshot();
    let report = fx
        .site
        .import_csv(&fx.admin, ImportKind::Users, file.as_bytes(), false)
        .unwrap();
    assert!(!report.applied);
    assert_eq!(
        report.errors,
        vec![
            RowIssue::new(
                3,
                Some("profile_field_region".into()),
                r#"REGION: "West" is not one of its choices: "North", "South""#.into()
            ),
            RowIssue::new(
                4,
                Some("profile_field_shoe_size".into()),
                r#""shoe_size" is not a profile field of this site"#.into()
            ),
        ]
    );
    fx.assert_unchanged(&before);
    let good = "username,firstname,lastname,email,profile_field_region\n\
                amy,Amy,Pond,amy@example.org,south\n";
    let done = fx
        .site
        .import_csv(&fx.admin, ImportKind::Users, good.as_bytes(), false)
        .unwrap();
    assert!(done.applied, "{done:?}");
    let amy = fx.site.user_by_username(&fx.admin, "amy").unwrap();
    assert_eq!(amy.profile["region"], "South");
}
