use actix_web::http::StatusCode;
use serde_json::{Value, json};

use super::ApiTest;
use super::support::code;

fn shortnames(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .expect("a page")
        .iter()
        .map(|c| c["shortname"].as_str().expect("a short name"))
        .collect()
}

#[actix_web::test]
async fn a_site_admin_creates_a_course_that_starts_with_a_manual_method() {
    let t = ApiTest::new();
    let (status, course) = t
        .admin()
        .post(
            "/courses",
            json!({"shortname": "HIST1", "fullname": "History"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{course}");
    assert_eq!(course["shortname"], "HIST1");
    assert_eq!(course["group_mode"], "none", "no groups unless asked");
    assert_eq!(course["force_group_mode"], false);

    let id = course["id"].as_u64().unwrap();
    let (status, found) = t.admin().get(&format!("/courses/{id}")).await;
    assert_eq!((status, &found), (StatusCode::OK, &course));
    let (_, methods) = t.admin().get(&format!("/courses/{id}/methods")).await;
    assert_eq!(methods["items"][0]["plugin"], "manual");
    assert_eq!(methods["items"][0]["status"], "enabled");
}

#[actix_web::test]
async fn courses_are_listed_by_short_name_searchable_and_paged() {
    let t = ApiTest::new();
    t.fx.other_course("HIST1");
    t.fx.other_course("ART1");
    let (status, all) = t.admin().get("/courses").await;
    assert_eq!(status, StatusCode::OK, "{all}");
    assert_eq!(shortnames(&all), ["ART1", "COMP101", "HIST1"]);

    let (_, found) = t.admin().get("/courses?q=compliance").await;
    assert_eq!(shortnames(&found), ["COMP101"], "full names are searched");

    let (_, first) = t.admin().get("/courses?limit=2").await;
    assert_eq!(shortnames(&first), ["ART1", "COMP101"]);
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let (_, rest) = t
        .admin()
        .get(&format!("/courses?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(shortnames(&rest), ["HIST1"]);
    assert_eq!(rest["next_cursor"], Value::Null);
}

#[actix_web::test]
async fn learners_list_and_see_only_their_own_courses() {
    let t = ApiTest::new();
    let (history, _) = t.fx.other_course("HIST1");
    let (status, mine) = t.learner().get("/courses").await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    assert_eq!(shortnames(&mine), ["COMP101"]);
    let (status, body) = t.learner().get(&format!("/courses/{}", history.0)).await;
    assert_eq!((status, code(&body)), (StatusCode::FORBIDDEN, "forbidden"));
}

#[actix_web::test]
async fn a_teacher_changes_their_course_settings_and_absent_fields_stay() {
    let t = ApiTest::new();
    let id = t.fx.course.0;
    let (status, course) = t
        .teacher()
        .patch(
            &format!("/courses/{id}"),
            json!({"group_mode": "visible", "force_group_mode": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{course}");
    assert_eq!(course["group_mode"], "visible");
    assert_eq!(course["force_group_mode"], true);
    assert_eq!(course["shortname"], "COMP101");
    assert_eq!(course["fullname"], "Compliance 101");
}

#[actix_web::test]
async fn deleting_a_course_answers_no_content_and_the_course_is_gone() {
    let t = ApiTest::new();
    let id = t.fx.course.0;
    let (status, body) = t.admin().delete(&format!("/courses/{id}")).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    let (status, body) = t.admin().get(&format!("/courses/{id}")).await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "not_found"));
    let (_, all) = t.admin().get("/courses").await;
    assert!(shortnames(&all).is_empty());
}

#[actix_web::test]
async fn each_way_a_course_request_goes_wrong_has_its_own_status_and_writes_nothing() {
    let t = ApiTest::new();
    let (history, _) = t.fx.other_course("HIST1");
    let (mine, theirs) = (t.fx.course.0, history.0);
    let before = t.fx.snapshot();
    let cases = [
        (
            t.anonymous().get("/courses").await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        (
            t.client(Some("chr_nope"))
                .delete(&format!("/courses/{mine}"))
                .await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        (
            t.learner()
                .post("/courses", json!({"shortname": "X1", "fullname": "X"}))
                .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            t.learner()
                .patch(&format!("/courses/{mine}"), json!({"fullname": "Mine now"}))
                .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            t.teacher()
                .patch(
                    &format!("/courses/{theirs}"),
                    json!({"fullname": "Mine now"}),
                )
                .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            t.teacher().get(&format!("/courses/{theirs}")).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            t.teacher().delete(&format!("/courses/{mine}")).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            t.admin().get("/courses/999").await,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            t.admin()
                .patch("/courses/999", json!({"fullname": "X"}))
                .await,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            t.admin().delete("/courses/999").await,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            t.admin()
                .post("/courses", json!({"shortname": "comp101", "fullname": "X"}))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "duplicate",
        ),
        (
            t.admin()
                .patch(
                    &format!("/courses/{theirs}"),
                    json!({"shortname": "Comp101"}),
                )
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "duplicate",
        ),
        (
            t.admin().post("/courses", json!({"shortname": "X1"})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "missing_field",
        ),
        (
            t.admin()
                .post(
                    "/courses",
                    json!({"shortname": "X1", "fullname": "X", "visible": true}),
                )
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_field",
        ),
        (
            t.admin()
                .post(
                    "/courses",
                    json!({"shortname": "X1", "fullname": "X", "group_mode": "sometimes"}),
                )
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            t.admin()
                .patch(&format!("/courses/{mine}"), json!({"fullname": "  "}))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
    ];
    for ((status, body), want_status, want_code) in cases {
        assert_eq!((status, code(&body)), (want_status, want_code), "{body}");
    }
    t.fx.assert_unchanged(&before);
}
