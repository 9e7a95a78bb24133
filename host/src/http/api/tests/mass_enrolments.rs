//! `/segments/{id}/mass-enrolments…` and `/mass-enrolments/{id}…`: a site
//! admin previews, applies, reads and undoes a mass enrolment; anyone
//! else, or another site's admin, is refused before the body is read.

use actix_web::http::StatusCode;
use serde_json::{Value, json};

use super::ApiTest;
use super::support::code;

fn field(body: &Value) -> &str {
    body["error"]["field"].as_str().unwrap_or("")
}

#[actix_web::test]
async fn a_site_admin_previews_applies_reads_lists_and_undoes_a_mass_enrolment() {
    let t = ApiTest::new();
    let (math, _) = t.fx.other_course("MATH1");
    let (hr, finance) = (t.fx.hr.0, t.fx.finance.0);
    let body = json!({"course": math.0, "role": "non_editing_teacher", "new_group": "HR"});

    let before = t.fx.snapshot();
    let (status, preview) = t
        .admin()
        .post(
            &format!("/segments/{hr}/mass-enrolments/preview"),
            body.clone(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(
        preview,
        json!({
            "segment": hr, "segment_name": "HR", "course": math.0,
            "course_shortname": "MATH1", "method": preview["method"],
            "role": "non_editing_teacher", "group": null, "group_name": "HR",
            "group_created": true,
            "figures": {"members": 3, "to_enrol": 3, "already_enrolled": 0,
                "suspended_accounts": 0, "suspended_enrolments": 0, "grouped": 3}
        })
    );
    t.fx.assert_unchanged(&before);

    let (status, done) = t
        .admin()
        .post(&format!("/segments/{hr}/mass-enrolments"), body)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{done}");
    let id = done["id"].as_u64().expect("an id");
    assert_eq!(done["figures"], preview["figures"]);
    assert_eq!(done["group_created"], true);
    assert_eq!(done["by"], json!({"kind": "user", "id": t.fx.admin_id.0}));
    assert_eq!(done["undone"], Value::Null);

    let (status, got) = t.admin().get(&format!("/mass-enrolments/{id}")).await;
    assert_eq!((status, &got), (StatusCode::OK, &done));
    for path in [
        format!("/courses/{}/mass-enrolments", math.0),
        format!("/segments/{hr}/mass-enrolments"),
    ] {
        let (status, page) = t.admin().get(&path).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(page, json!({"items": [done.clone()], "next_cursor": null}));
    }
    let (_, none) = t
        .admin()
        .get(&format!("/segments/{finance}/mass-enrolments"))
        .await;
    assert_eq!(none["items"], json!([]));

    let (status, undone) = t
        .admin()
        .post(&format!("/mass-enrolments/{id}/undo"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{undone}");
    assert_eq!(
        (
            &undone["undone"]["removed"],
            &undone["undone"]["kept_changed"],
            &undone["undone"]["already_gone"],
            &undone["undone"]["ungrouped"]
        ),
        (&json!(3), &json!(0), &json!(0), &json!(3))
    );
    let (status, again) = t
        .admin()
        .post(&format!("/mass-enrolments/{id}/undo"), json!({}))
        .await;
    assert_eq!(
        (status, code(&again)),
        (StatusCode::CONFLICT, "conflict"),
        "{again}"
    );
}

#[actix_web::test]
async fn bad_choices_answer_with_the_field_and_nothing_is_written() {
    let t = ApiTest::new();
    let (math, _) = t.fx.other_course("MATH1");
    let math_team = t.fx.add_group(math, "Math team");
    let hr = t.fx.hr.0;
    let course = t.fx.course.0;
    let before = t.fx.snapshot();
    // (A value serde cannot read names no field: the body's reader says
    // what it expected.)
    let cases = [
        (
            json!({"course": course, "group": t.fx.team_a.0, "new_group": "X"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "new_group",
        ),
        (
            json!({"course": course, "group": math_team.0}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "group",
        ),
        (
            json!({"course": course, "new_group": " "}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "new_group",
        ),
        (
            json!({"course": course, "new_group": "Team A"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "new_group",
        ),
        (
            json!({"course": 999}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "course",
        ),
        (
            json!({"course": course, "role": "owner"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "",
        ),
    ];
    for (body, status, want) in cases {
        for path in ["mass-enrolments/preview", "mass-enrolments"] {
            let (got, answer) = t
                .admin()
                .post(&format!("/segments/{hr}/{path}"), body.clone())
                .await;
            assert_eq!(
                (got, field(&answer)),
                (status, want),
                "{body} to {path}: {answer}"
            );
        }
    }
    // Everyone in HR is enrolled already, and no group is asked for.
    let (status, answer) = t
        .admin()
        .post(
            &format!("/segments/{hr}/mass-enrolments"),
            json!({"course": course}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    t.fx.assert_unchanged(&before);
}

#[actix_web::test]
async fn teachers_learners_and_another_sites_admin_are_refused_and_unknown_ids_are_404() {
    let t = ApiTest::new();
    let globex = t.fx.another_site("globex");
    let hr = t.fx.hr.0;
    let before = (t.fx.snapshot(), globex.snapshot());
    // A body that does not fit: the refusal must come first.
    let bad = json!({"course": "nope"});
    for api in [t.teacher(), t.learner(), t.admin().at("/s/globex/api/v1")] {
        for (status, body) in [
            api.post(
                &format!("/segments/{hr}/mass-enrolments/preview"),
                bad.clone(),
            )
            .await,
            api.post(&format!("/segments/{hr}/mass-enrolments"), bad.clone())
                .await,
            api.get(&format!("/segments/{hr}/mass-enrolments")).await,
            api.get(&format!("/courses/{}/mass-enrolments", t.fx.course.0))
                .await,
            api.get("/mass-enrolments/1").await,
            api.post("/mass-enrolments/1/undo", json!({})).await,
        ] {
            assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        }
    }
    t.fx.assert_unchanged(&before.0);
    globex.assert_unchanged(&before.1);
    let admin = t.admin();
    for (status, body) in [
        admin.get("/mass-enrolments/1").await,
        admin.post("/mass-enrolments/1/undo", json!({})).await,
        admin.get("/segments/999/mass-enrolments").await,
        admin.get("/courses/999/mass-enrolments").await,
        admin
            .post(
                "/segments/999/mass-enrolments/preview",
                json!({"course": t.fx.course.0}),
            )
            .await,
    ] {
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    }
}
