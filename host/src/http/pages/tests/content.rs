//! Course content pages (issue 18): the teacher adds a section and a page
//! from the course page, hides and moves it; the learner's course page
//! and the page itself follow; a bad form is answered on its page and
//! writes nothing.

use actix_web::http::StatusCode;

use super::{Pages, form_of};

#[actix_web::test]
async fn a_teacher_adds_hides_and_moves_a_page_and_the_learner_follows() {
    let p = Pages::new();
    let token = p.csrf(&p.teacher);
    let course = p.fx.course;
    let section = p.fx.section;
    let added = p
        .post(
            &format!("/s/acme/courses/{course}/sections"),
            Some(&p.teacher),
            &form_of(&[("csrf", &token), ("name", "Week 2")]),
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    assert!(
        added
            .location()
            .starts_with(&format!("/s/acme/courses/{course}#section-"))
    );

    let form = p
        .get(
            &format!("/s/acme/sections/{section}/pages/new"),
            Some(&p.teacher),
        )
        .await;
    form.assert_shows(StatusCode::OK, "Add a page");
    assert!(
        form.body.contains("Grouping: Both teams"),
        "the course's groupings are offered"
    );
    let created = p
        .post(
            &format!("/s/acme/sections/{section}/pages"),
            Some(&p.teacher),
            &form_of(&[
                ("csrf", &token),
                ("name", "Reading list"),
                ("description", "Read **this** <script>alert(1)</script>"),
                ("visible", "1"),
                ("group_mode", ""),
                ("grouping", ""),
            ]),
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let course_page = p
        .get(&format!("/s/acme/courses/{course}"), Some(&p.learner))
        .await;
    assert!(
        course_page.body.contains(">Reading list</a>"),
        "{}",
        course_page.body
    );
    let id =
        p.fx.site
            .course_content(&p.fx.admin, course)
            .unwrap()
            .sections[0]
            .activities
            .iter()
            .find(|a| a.name == "Reading list")
            .expect("the new page")
            .id;
    let shown = p
        .get(&format!("/s/acme/activities/{id}"), Some(&p.learner))
        .await;
    shown.assert_shows(StatusCode::OK, "<strong>this</strong>");
    assert!(!shown.body.contains("<script>alert"), "{}", shown.body);

    // Hidden: gone for the learner, even by its address.
    let hidden = p
        .post(
            &format!("/s/acme/activities/{id}/visibility"),
            Some(&p.teacher),
            &form_of(&[("csrf", &token), ("visible", "0")]),
        )
        .await;
    assert_eq!(hidden.status, StatusCode::SEE_OTHER, "{}", hidden.body);
    let course_page = p
        .get(&format!("/s/acme/courses/{course}"), Some(&p.learner))
        .await;
    assert!(!course_page.body.contains("Reading list"));
    let gone = p
        .get(&format!("/s/acme/activities/{id}"), Some(&p.learner))
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    let staff = p
        .get(&format!("/s/acme/courses/{course}"), Some(&p.teacher))
        .await;
    assert!(staff.body.contains("Reading list") && staff.body.contains("Hidden from learners"));

    // Moved first in its section.
    let moved = p
        .post(
            &format!("/s/acme/activities/{id}/move"),
            Some(&p.teacher),
            &form_of(&[
                ("csrf", &token),
                ("section", &section.to_string()),
                ("position", "0"),
            ]),
        )
        .await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.body);
    let staff = p
        .get(&format!("/s/acme/courses/{course}"), Some(&p.teacher))
        .await;
    let first = staff.body.find("Reading list").expect("listed");
    let second = staff.body.find(">Welcome</a>").expect("listed");
    assert!(first < second, "the moved page comes first");
}

#[actix_web::test]
async fn a_bad_page_form_is_answered_on_its_page_and_writes_nothing() {
    let p = Pages::new();
    let token = p.csrf(&p.teacher);
    let before = p.fx.snapshot();
    let refused = p
        .post(
            &format!("/s/acme/sections/{}/pages", p.fx.section),
            Some(&p.teacher),
            &form_of(&[("csrf", &token), ("name", "   "), ("description", "x")]),
        )
        .await;
    refused.assert_form_refused("is required");
    p.fx.assert_unchanged(&before);
    // A learner is refused the form itself.
    let form = p
        .get(
            &format!("/s/acme/sections/{}/pages/new", p.fx.section),
            Some(&p.learner),
        )
        .await;
    assert_eq!(form.status, StatusCode::FORBIDDEN);
}

#[actix_web::test]
async fn a_teacher_makes_a_grouping_of_two_groups_from_its_page() {
    let p = Pages::new();
    let token = p.csrf(&p.teacher);
    let course = p.fx.course;
    let made = p
        .post(
            &format!("/s/acme/courses/{course}/groupings"),
            Some(&p.teacher),
            &format!(
                "csrf={token}&name=Pair&description=&group={}&group={}",
                p.fx.team_a, p.fx.team_b
            ),
        )
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
    let list = p
        .get(
            &format!("/s/acme/courses/{course}/groupings"),
            Some(&p.teacher),
        )
        .await;
    list.assert_shows(StatusCode::OK, "Team A, Team B");
    assert!(list.body.contains(">Pair</a>"));
}
