//! Page tests of custom profile fields: the admin pages (list, new, edit,
//! delete after a confirmation), the user form's generated inputs, and a
//! user's own profile page.

use actix_web::http::StatusCode;

use super::segments::flash;
use super::{Pages, form_of};
use crate::domain::{ProfileField, ProfileFieldKind, UserId};
use crate::services::profile_fields::NewProfileField;

fn field(shortname: &str, name: &str, kind: ProfileFieldKind) -> NewProfileField {
    NewProfileField {
        shortname: shortname.into(),
        name: name.into(),
        kind,
        required: false,
        visible_to_user: true,
        locked: false,
        position: None,
    }
}

fn create(p: &Pages, new: NewProfileField) -> ProfileField {
    p.fx.site
        .create_profile_field(&p.fx.admin, new)
        .expect("a profile field")
}

fn office(p: &Pages) -> ProfileField {
    create(
        p,
        field(
            "office",
            "Office",
            ProfileFieldKind::Menu {
                choices: vec!["North".into(), "South".into()],
            },
        ),
    )
}

fn profile_of(p: &Pages, id: UserId) -> std::collections::BTreeMap<String, String> {
    p.fx.site.get_user(&p.fx.admin, id).unwrap().profile
}

#[actix_web::test]
async fn an_admin_adds_a_menu_field_and_sees_it_listed_with_its_choices() {
    let p = Pages::new();
    let token = p.csrf(&p.admin);
    let form = p.get("/s/acme/profile-fields/new", Some(&p.admin)).await;
    form.assert_shows(StatusCode::OK, "Menu of choices");
    assert!(
        form.body
            .contains("name=\"visible_to_user\" type=\"checkbox\" value=\"1\" checked"),
        "visible to the user is ticked by default: {}",
        form.body
    );
    let body = form_of(&[
        ("csrf", &token),
        ("shortname", "office"),
        ("name", "Office"),
        ("kind", "menu"),
        ("choices", "North\r\n\r\n South \r\n"),
        ("required", "1"),
        ("visible_to_user", "1"),
        ("position", ""),
    ]);
    let created = p
        .post("/s/acme/profile-fields/new", Some(&p.admin), &body)
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    assert_eq!(created.location(), "/s/acme/profile-fields");
    assert_eq!(flash(&created), "Profile field Office created.");
    let list = p.get("/s/acme/profile-fields", Some(&p.admin)).await;
    for text in [
        "Department",
        "<code>department</code>",
        "Office",
        "<code>office</code>",
        "Menu of choices: North, South",
        "profile_field_&lt;short name&gt;",
        "Add a profile field",
    ] {
        assert!(list.body.contains(text), "{text:?} in {}", list.body);
    }
    // In form order: the fixture's field first.
    assert!(list.body.find("Department") < list.body.find("Office"));
    let users = p.get("/s/acme/users", Some(&p.admin)).await;
    assert!(
        users.body.contains("href=\"/s/acme/profile-fields\""),
        "the users page links the profile fields"
    );
}

#[actix_web::test]
async fn a_bad_short_name_or_position_comes_back_on_the_form_and_writes_nothing() {
    let p = Pages::new();
    let token = p.csrf(&p.admin);
    let before = p.fx.snapshot();
    let body = form_of(&[
        ("csrf", &token),
        ("shortname", "Bad Name"),
        ("name", "Badge number"),
        ("kind", "text"),
    ]);
    let answer = p
        .post("/s/acme/profile-fields/new", Some(&p.admin), &body)
        .await;
    answer.assert_form_refused("is not a short name");
    assert!(
        answer.body.contains("id=\"f-shortname-error\""),
        "beside its field"
    );
    assert!(
        answer.body.contains("value=\"Badge number\""),
        "values are kept"
    );
    let body = form_of(&[
        ("csrf", &token),
        ("shortname", "badge"),
        ("name", "Badge"),
        ("kind", "text"),
        ("position", "first"),
    ]);
    let answer = p
        .post("/s/acme/profile-fields/new", Some(&p.admin), &body)
        .await;
    answer.assert_form_refused("is not a whole number");
    let body = form_of(&[
        ("csrf", &token),
        ("shortname", "office"),
        ("name", "Office"),
        ("kind", "menu"),
        ("choices", ""),
    ]);
    let answer = p
        .post("/s/acme/profile-fields/new", Some(&p.admin), &body)
        .await;
    answer.assert_form_refused("a menu needs at least one choice");
    p.fx.assert_unchanged(&before);
}

#[actix_web::test]
async fn editing_keeps_the_short_name_and_kind_and_changes_the_rest() {
    let p = Pages::new();
    let f = office(&p);
    let url = format!("/s/acme/profile-fields/{}/edit", f.id);
    let form = p.get(&url, Some(&p.admin)).await;
    form.assert_shows(StatusCode::OK, "<code>office</code>");
    assert!(form.body.contains("Menu of choices"));
    assert!(!form.body.contains("name=\"shortname\""), "read-only");
    assert!(!form.body.contains("name=\"kind\""), "read-only");
    assert!(
        form.body.contains("North\nSouth</textarea>"),
        "{}",
        form.body
    );
    let token = p.csrf(&p.admin);
    let body = form_of(&[
        ("csrf", &token),
        ("name", "Office site"),
        ("choices", "North\nSouth\nEast"),
        ("locked", "1"),
        ("position", "0"),
    ]);
    let saved = p.post(&url, Some(&p.admin), &body).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let now = p.fx.site.get_profile_field(&p.fx.admin, f.id).unwrap();
    assert_eq!(now.name, "Office site");
    assert_eq!(now.shortname, "office");
    assert!(now.locked && !now.visible_to_user && !now.required);
    assert_eq!(now.position, 0);
    assert_eq!(
        now.kind,
        ProfileFieldKind::Menu {
            choices: vec!["North".into(), "South".into(), "East".into()]
        }
    );
    // A choice a user holds stays.
    p.fx.site
        .update_user(
            &p.fx.admin,
            p.fx.learners[0],
            crate::services::users::UserUpdate {
                profile: [("office".to_owned(), "East".to_owned())].into(),
                ..Default::default()
            },
        )
        .unwrap();
    let body = form_of(&[("csrf", &token), ("name", "Office"), ("choices", "North")]);
    p.post(&url, Some(&p.admin), &body)
        .await
        .assert_form_refused("users hold the choice");
}

#[actix_web::test]
async fn deleting_a_field_is_confirmed_and_says_how_many_values_went() {
    let p = Pages::new();
    let department =
        p.fx.site
            .list_profile_fields(&p.fx.admin)
            .unwrap()
            .into_iter()
            .find(|f| f.shortname == "department")
            .unwrap();
    for (i, id) in p.fx.learners[..2].iter().enumerate() {
        p.fx.site
            .update_user(
                &p.fx.admin,
                *id,
                crate::services::users::UserUpdate {
                    profile: [("department".to_owned(), format!("Dept {i}"))].into(),
                    ..Default::default()
                },
            )
            .unwrap();
    }
    let url = format!("/s/acme/profile-fields/{}/delete", department.id);
    let confirm = p.get(&url, Some(&p.admin)).await;
    confirm.assert_shows(StatusCode::OK, "Delete the profile field Department?");
    assert!(
        confirm
            .body
            .contains("Every user&#39;s value of Department will be deleted")
    );
    let token = p.csrf(&p.admin);
    let done = p.post(&url, Some(&p.admin), &format!("csrf={token}")).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(
        flash(&done),
        "Profile field deleted; 2 users' values were cleared."
    );
    assert!(!profile_of(&p, p.fx.learners[0]).contains_key("department"));
    let list = p.get("/s/acme/profile-fields", Some(&p.admin)).await;
    assert!(
        list.body.contains("No profile fields yet."),
        "{}",
        list.body
    );
}

#[actix_web::test]
async fn learners_and_teachers_are_refused_the_admin_pages() {
    let p = Pages::new();
    for who in [&p.learner, &p.teacher] {
        for path in ["/s/acme/profile-fields", "/s/acme/profile-fields/new"] {
            assert_eq!(p.get(path, Some(who)).await.status, StatusCode::FORBIDDEN);
        }
    }
    let token = p.csrf(&p.learner);
    let before = p.fx.snapshot();
    let body = form_of(&[
        ("csrf", &token),
        ("shortname", "sneaky"),
        ("name", "Sneaky"),
        ("kind", "text"),
    ]);
    let answer = p
        .post("/s/acme/profile-fields/new", Some(&p.learner), &body)
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    p.fx.assert_unchanged(&before);
}

// ---------------------------------------------------------- user form

fn user_body(token: &str, extra: &[(&str, &str)]) -> String {
    let mut pairs = vec![
        ("csrf", token),
        ("username", "learner2"),
        ("email", "learner2@example.org"),
        ("firstname", "learner2"),
        ("lastname", "Test"),
    ];
    pairs.extend_from_slice(extra);
    form_of(&pairs)
}

#[actix_web::test]
async fn the_user_form_has_an_input_per_field_and_saves_them_all() {
    let p = Pages::new();
    office(&p);
    let mut badge = field("badge", "Has a badge", ProfileFieldKind::Checkbox);
    badge.visible_to_user = false;
    create(&p, badge);
    create(&p, field("started", "Started", ProfileFieldKind::Date));
    let id = p.fx.learners[1];
    p.fx.site
        .update_user(
            &p.fx.admin,
            id,
            crate::services::users::UserUpdate {
                profile: [
                    ("department".to_owned(), "HR".to_owned()),
                    ("badge".to_owned(), "1".to_owned()),
                ]
                .into(),
                ..Default::default()
            },
        )
        .unwrap();
    let url = format!("/s/acme/users/{id}");
    let form = p.get(&url, Some(&p.admin)).await;
    assert_eq!(form.status, StatusCode::OK);
    for text in [
        "<label for=\"f-profile_field_department\">Department</label>",
        "name=\"profile_field_department\" type=\"text\" value=\"HR\"",
        "<select id=\"f-profile_field_office\" name=\"profile_field_office\"",
        "<option value=\"North\">North</option>",
        "name=\"profile_field_badge\" type=\"checkbox\" value=\"1\" checked",
        "Not shown to the user.",
        "name=\"profile_field_started\" type=\"date\"",
    ] {
        assert!(form.body.contains(text), "{text:?} in {}", form.body);
    }
    assert!(!form.body.contains("name=\"department\""), "no fixed input");
    let token = p.csrf(&p.admin);
    // The checkbox left unticked and the department emptied: both go.
    let body = user_body(
        &token,
        &[
            ("profile_field_department", ""),
            ("profile_field_office", "South"),
            ("profile_field_started", "2026-09-01"),
        ],
    );
    let saved = p.post(&url, Some(&p.admin), &body).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let profile = profile_of(&p, id);
    assert_eq!(
        profile,
        [
            ("office".to_owned(), "South".to_owned()),
            ("started".to_owned(), "2026-09-01".to_owned()),
        ]
        .into()
    );
}

#[actix_web::test]
async fn a_value_that_does_not_fit_or_a_missing_required_one_comes_back_on_the_user_form() {
    let p = Pages::new();
    office(&p);
    let mut badge = field("badge", "Badge", ProfileFieldKind::Text);
    badge.required = true;
    create(&p, badge);
    let id = p.fx.learners[1];
    let url = format!("/s/acme/users/{id}");
    let form = p.get(&url, Some(&p.admin)).await;
    assert!(
        form.body
            .contains("Badge <span class=\"required\">(required)</span>"),
        "{}",
        form.body
    );
    let token = p.csrf(&p.admin);
    let before = p.fx.snapshot();
    let body = user_body(
        &token,
        &[
            ("profile_field_office", "West"),
            ("profile_field_badge", "B-7"),
            ("profile_field_department", "Payroll"),
        ],
    );
    let refused = p.post(&url, Some(&p.admin), &body).await;
    refused.assert_form_refused("is not one of its choices");
    assert!(
        refused.body.contains("id=\"profile-error\""),
        "above the inputs"
    );
    assert!(
        refused
            .body
            .contains("aria-invalid=\"true\" aria-describedby=\"profile-error\""),
        "the office select is marked: {}",
        refused.body
    );
    assert!(
        refused.body.contains("value=\"B-7\""),
        "typed values are kept"
    );
    assert!(refused.body.contains("value=\"Payroll\""));
    let body = user_body(&token, &[("profile_field_office", "North")]);
    p.post(&url, Some(&p.admin), &body)
        .await
        .assert_form_refused("Badge is required");
    // A new user too.
    let body = form_of(&[
        ("csrf", &token),
        ("username", "dana"),
        ("email", "dana@example.org"),
        ("firstname", "Dana"),
        ("lastname", "Scully"),
    ]);
    p.post("/s/acme/users", Some(&p.admin), &body)
        .await
        .assert_form_refused("Badge is required");
    p.fx.assert_unchanged(&before);
}

// ---------------------------------------------------------- own profile

#[actix_web::test]
async fn a_learner_edits_their_unlocked_fields_and_only_sees_the_locked_ones() {
    let p = Pages::new();
    let mut grade = field("paygrade", "Pay grade", ProfileFieldKind::Text);
    grade.locked = true;
    create(&p, grade);
    let mut secret = field("risk", "Risk score", ProfileFieldKind::Text);
    secret.visible_to_user = false;
    create(&p, secret);
    let me = p.fx.learners[0];
    p.fx.site
        .update_user(
            &p.fx.admin,
            me,
            crate::services::users::UserUpdate {
                profile: [
                    ("paygrade".to_owned(), "G4".to_owned()),
                    ("risk".to_owned(), "high".to_owned()),
                ]
                .into(),
                ..Default::default()
            },
        )
        .unwrap();
    let prefs = p.get("/s/acme/preferences", Some(&p.learner)).await;
    assert!(
        prefs.body.contains("href=\"/s/acme/profile\""),
        "{}",
        prefs.body
    );
    let page = p.get("/s/acme/profile", Some(&p.learner)).await;
    page.assert_shows(StatusCode::OK, "name=\"profile_field_department\"");
    assert!(page.body.contains("Pay grade") && page.body.contains("G4"));
    assert!(
        !page.body.contains("name=\"profile_field_paygrade\""),
        "a locked field is no input"
    );
    assert!(!page.body.contains("Risk score") && !page.body.contains("high"));
    let token = p.csrf(&p.learner);
    let body = form_of(&[
        ("csrf", &token),
        ("profile_field_department", "Finance"),
        // Not an input of the page; posted anyway, it changes nothing.
        ("profile_field_paygrade", "G9"),
    ]);
    let saved = p.post("/s/acme/profile", Some(&p.learner), &body).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(flash(&saved), "Your profile is saved.");
    let profile = profile_of(&p, me);
    assert_eq!(profile["department"], "Finance");
    assert_eq!(profile["paygrade"], "G4");
    assert_eq!(profile["risk"], "high");
}

#[actix_web::test]
async fn a_learners_refused_profile_comes_back_with_what_they_typed() {
    let p = Pages::new();
    let mut started = field("started", "Started", ProfileFieldKind::Date);
    started.required = true;
    create(&p, started);
    let token = p.csrf(&p.learner);
    let before = p.fx.snapshot();
    let body = form_of(&[
        ("csrf", &token),
        ("profile_field_department", "Ops"),
        ("profile_field_started", "2026-02-30"),
    ]);
    let refused = p.post("/s/acme/profile", Some(&p.learner), &body).await;
    refused.assert_form_refused("is not a date");
    assert!(refused.body.contains("value=\"Ops\""));
    assert!(
        refused
            .body
            .contains("Started <span class=\"required\">(required)</span>")
    );
    let body = form_of(&[("csrf", &token), ("profile_field_department", "Ops")]);
    p.post("/s/acme/profile", Some(&p.learner), &body)
        .await
        .assert_form_refused("Started is required");
    p.fx.assert_unchanged(&before);
}

#[actix_web::test]
async fn an_operator_has_no_profile_on_a_site() {
    let p = Pages::new();
    p.get("/s/acme/profile", Some(&p.operator))
        .await
        .assert_shows(StatusCode::OK, "An operator has no profile on a site.");
}
