//! Page tests of `mass_enrolments`: from a segment's page to the form, its
//! preview (nothing written), apply (303 to the result), the course's
//! list, and "Remove these enrolments again" after its confirmation; bad
//! choices answered on the form.

use actix_web::http::StatusCode;

use super::{Pages, form_of};

#[actix_web::test]
async fn a_site_admin_previews_applies_and_removes_a_mass_enrolment_again() {
    let p = Pages::new();
    let (math, _) = p.fx.other_course("MATH1");
    let hr = p.fx.hr;
    let admin = Some(p.admin.as_str());

    let segment = p.get(&format!("/s/acme/segments/{hr}"), admin).await;
    segment.assert_shows(
        StatusCode::OK,
        &format!("href=\"/s/acme/segments/{hr}/mass-enrolments\">Enrol members in a course</a>"),
    );
    let form = p
        .get(&format!("/s/acme/segments/{hr}/mass-enrolments"), admin)
        .await;
    form.assert_shows(StatusCode::OK, "Enrol the members of HR in a course");
    assert!(form.body.contains("Segment sync"), "says it is a one-off");
    assert!(
        form.body.contains("MATH1 — MATH1 course"),
        "offers the courses"
    );
    assert!(form.body.contains("COMP101: Team A"), "offers the groups");

    let token = p.csrf(&p.admin);
    let math_id = math.to_string();
    let body = form_of(&[
        ("csrf", &token),
        ("course", &math_id),
        ("role", "learner"),
        ("group", "new"),
        ("new_group", "HR team"),
    ]);
    let before = p.fx.snapshot();
    let preview = p
        .post(
            &format!("/s/acme/segments/{hr}/mass-enrolments/preview"),
            admin,
            &body,
        )
        .await;
    preview.assert_shows(
        StatusCode::OK,
        "<dt>To be enrolled now</dt><dd>3 members</dd>",
    );
    for shown in [
        "Segment sync",
        "A new group “HR team”, created now: 3 members added to it.",
        "Nothing has been written yet.",
        &format!("<input type=\"hidden\" name=\"course\" value=\"{math}\">"),
        "<input type=\"hidden\" name=\"new_group\" value=\"HR team\">",
    ] {
        assert!(
            preview.body.contains(shown),
            "{shown:?} not in {}",
            preview.body
        );
    }
    p.fx.assert_unchanged(&before);

    let applied = p
        .post(
            &format!("/s/acme/segments/{hr}/mass-enrolments"),
            admin,
            &body,
        )
        .await;
    assert_eq!(applied.status, StatusCode::SEE_OTHER, "{}", applied.body);
    let result_url = applied.location().to_owned();
    assert!(
        result_url.starts_with("/s/acme/mass-enrolments/"),
        "{result_url}"
    );
    let result = p.get(&result_url, admin).await;
    result.assert_shows(StatusCode::OK, "<dt>Enrolled</dt><dd>3 members</dd>");
    assert!(
        result
            .body
            .contains("HR team (3 members added; the group was created by this enrolment)")
    );
    assert!(result.body.contains(&format!(
        "href=\"{result_url}/undo\">Remove these enrolments again</a>"
    )));

    let list = p
        .get(&format!("/s/acme/courses/{math}/mass-enrolments"), admin)
        .await;
    list.assert_shows(StatusCode::OK, &format!("<a href=\"{result_url}\">"));
    let course = p.get(&format!("/s/acme/courses/{math}"), admin).await;
    course.assert_shows(
        StatusCode::OK,
        &format!("href=\"/s/acme/courses/{math}/mass-enrolments\">Mass enrolments</a>"),
    );
    let earlier = p
        .get(&format!("/s/acme/segments/{hr}/mass-enrolments"), admin)
        .await;
    earlier.assert_shows(StatusCode::OK, &format!("<a href=\"{result_url}\">"));

    let confirm = p.get(&format!("{result_url}/undo"), admin).await;
    confirm.assert_shows(StatusCode::OK, "remove the 3 enrolments it made in MATH1");
    let undone = p
        .post(
            &format!("{result_url}/undo"),
            admin,
            &form_of(&[("csrf", &token)]),
        )
        .await;
    assert_eq!(undone.status, StatusCode::SEE_OTHER, "{}", undone.body);
    assert_eq!(undone.location(), result_url);
    let after = p.get(&result_url, admin).await;
    after.assert_shows(StatusCode::OK, "3 enrolments removed.");
    assert!(
        !after.body.contains("Remove these enrolments again</a>"),
        "undone once"
    );
    let participants =
        p.fx.site
            .participants(&p.fx.admin, math, None, 100)
            .unwrap();
    assert!(participants.items.is_empty());
}

#[actix_web::test]
async fn a_teacher_is_not_offered_the_course_mass_enrolments() {
    let p = Pages::new();
    let course = p
        .get(
            &format!("/s/acme/courses/{}", p.fx.course),
            Some(&p.teacher),
        )
        .await;
    course.assert_shows(StatusCode::OK, "Enrolment methods");
    assert!(!course.body.contains("Mass enrolments"), "{}", course.body);
}

#[actix_web::test]
async fn bad_choices_are_answered_on_the_form_and_write_nothing() {
    let p = Pages::new();
    let (math, _) = p.fx.other_course("MATH1");
    let math_team = p.fx.add_group(math, "Math team").to_string();
    let hr = p.fx.hr;
    let token = p.csrf(&p.admin);
    let course = p.fx.course.to_string();
    let before = p.fx.snapshot();
    for (group, new_group, shown) in [
        ("new", " ", "New group: is required"),
        ("new", "Team A", "already has a group named"),
        (math_team.as_str(), "", "belongs to another course"),
        // HR is enrolled in COMP101 already: nothing to do.
        ("", "", "nothing to do"),
    ] {
        let body = form_of(&[
            ("csrf", &token),
            ("course", &course),
            ("role", "learner"),
            ("group", group),
            ("new_group", new_group),
        ]);
        for path in ["mass-enrolments/preview", "mass-enrolments"] {
            if shown == "nothing to do" && path.ends_with("preview") {
                continue;
            }
            let answer = p
                .post(
                    &format!("/s/acme/segments/{hr}/{path}"),
                    Some(&p.admin),
                    &body,
                )
                .await;
            answer.assert_form_refused(shown);
        }
    }
    p.fx.assert_unchanged(&before);
}
