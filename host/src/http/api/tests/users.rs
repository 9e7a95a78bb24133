use actix_web::http::StatusCode;
use serde_json::{Value, json};

use super::ApiTest;
use super::support::code;

/// `field` of every item of a page.
fn each<'a>(page: &'a Value, field: &str) -> Vec<&'a Value> {
    page["items"]
        .as_array()
        .expect("a page")
        .iter()
        .map(|item| &item[field])
        .collect()
}

#[actix_web::test]
async fn a_site_admin_creates_a_user_who_is_shown_without_a_password_hash() {
    let t = ApiTest::new();
    let (status, user) = t
        .admin()
        .post(
            "/users",
            json!({
                "username": "Alice",
                "email": "alice@example.org",
                "firstname": "Alice",
                "lastname": "Liddell",
                "password": "through the looking glass",
                "profile": {"department": "HR"},
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    assert_eq!(
        user["username"], "alice",
        "usernames are stored in lower case"
    );
    assert_eq!(user["status"], "active");
    assert_eq!(user["site_role"], "user");
    assert_eq!(user["profile"], json!({"department": "HR"}));
    assert_eq!(user["has_password"], true);
    assert!(user.get("password_hash").is_none(), "{user}");
    assert!(user.get("password").is_none(), "{user}");

    let id = user["id"].as_u64().unwrap();
    let (status, found) = t.admin().get(&format!("/users/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(found, user);
}

#[actix_web::test]
async fn users_are_listed_in_id_order_searchable_and_paged_by_user_id() {
    let t = ApiTest::new();
    let (status, page) = t.admin().get("/users?q=LEARNER&limit=2").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(each(&page, "username"), ["learner1", "learner2"]);
    let learner2 = t.fx.learners[1].0.to_string();
    assert_eq!(page["next_cursor"], learner2.as_str());

    let (_, rest) = t
        .admin()
        .get(&format!("/users?q=learner&cursor={learner2}"))
        .await;
    assert_eq!(
        each(&rest, "username"),
        ["learner3", "learner4", "learner5"]
    );
    assert_eq!(rest["next_cursor"], Value::Null);
    assert!(each(&rest, "password_hash").iter().all(|v| v.is_null()));
}

#[actix_web::test]
async fn a_site_admin_changes_names_role_and_profile_fields_and_absent_fields_stay() {
    let t = ApiTest::new();
    let id = t.fx.learners[0].0;
    let (_, before) = t.admin().get(&format!("/users/{id}")).await;
    let (status, user) = t
        .admin()
        .patch(
            &format!("/users/{id}"),
            json!({"firstname": "Ada", "site_admin": true, "profile": {"department": "HR"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["firstname"], "Ada");
    assert_eq!(user["site_role"], "site_admin");
    assert_eq!(user["lastname"], before["lastname"]);
    assert_eq!(user["email"], before["email"]);

    let (_, user) = t
        .admin()
        .patch(
            &format!("/users/{id}"),
            json!({"profile": {"department": ""}}),
        )
        .await;
    assert_eq!(
        user["profile"],
        json!({}),
        "an empty value removes the field"
    );
}

#[actix_web::test]
async fn a_suspended_user_is_refused_until_reactivated() {
    let t = ApiTest::new();
    let me = t.fx.learners[0].0;
    assert_eq!(
        t.learner().get(&format!("/users/{me}")).await.0,
        StatusCode::OK
    );

    let (status, user) = t
        .admin()
        .post(&format!("/users/{me}/suspend"), json!({}))
        .await;
    assert_eq!(
        (status, &user["status"]),
        (StatusCode::OK, &json!("suspended"))
    );
    let (status, body) = t.learner().get(&format!("/users/{me}")).await;
    assert_eq!((status, code(&body)), (StatusCode::FORBIDDEN, "forbidden"));

    let (status, user) = t
        .admin()
        .post(&format!("/users/{me}/reactivate"), json!({}))
        .await;
    assert_eq!(
        (status, &user["status"]),
        (StatusCode::OK, &json!("active"))
    );
    assert_eq!(
        t.learner().get(&format!("/users/{me}")).await.0,
        StatusCode::OK
    );
}

#[actix_web::test]
async fn deleting_a_user_answers_no_content_and_the_user_is_gone() {
    let t = ApiTest::new();
    let id = t.fx.learners[4].0;
    let (status, body) = t.admin().delete(&format!("/users/{id}")).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    let (status, body) = t.admin().get(&format!("/users/{id}")).await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "not_found"));
}

#[actix_web::test]
async fn a_user_sees_their_own_segments_and_enrolments() {
    let t = ApiTest::new();
    let me = t.fx.learners[0].0;
    let (status, segments) = t.learner().get(&format!("/users/{me}/segments")).await;
    assert_eq!(status, StatusCode::OK, "{segments}");
    assert_eq!(each(&segments, "name"), ["HR"]);
    assert_eq!(segments["next_cursor"], Value::Null);

    let (status, enrolments) = t.learner().get(&format!("/users/{me}/enrolments")).await;
    assert_eq!(status, StatusCode::OK, "{enrolments}");
    assert_eq!(
        enrolments["items"],
        json!([{
            "course": t.fx.course.0,
            "user": me,
            "method": t.fx.manual.0,
            "role": "learner",
            "status": "active",
            "created_at": enrolments["items"][0]["created_at"],
            "updated_at": enrolments["items"][0]["updated_at"],
        }])
    );
}

#[actix_web::test]
async fn each_way_a_user_request_goes_wrong_has_its_own_status_and_writes_nothing() {
    let t = ApiTest::new();
    let me = t.fx.admin_id.0;
    let other = t.fx.learners[1].0;
    let learner = t.fx.learners[0].0;
    let new_user = |username: &str, email: &str| json!({"username": username, "email": email, "firstname": "N", "lastname": "U"});
    let before = t.fx.snapshot();
    let cases = [
        (
            t.anonymous().get("/users").await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        (
            t.client(Some("chr_nope"))
                .get(&format!("/users/{learner}"))
                .await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        (
            t.learner().get("/users").await,
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            t.learner().get(&format!("/users/{other}")).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            t.learner().get(&format!("/users/{other}/enrolments")).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            t.learner()
                .post("/users", new_user("eve", "eve@example.org"))
                .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            t.teacher()
                .patch(&format!("/users/{learner}"), json!({"firstname": "X"}))
                .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            t.teacher()
                .post(&format!("/users/{learner}/suspend"), json!({}))
                .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            t.teacher().delete(&format!("/users/{learner}")).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            t.admin().get("/users/999").await,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            t.admin().get("/users/abc").await,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            t.admin()
                .patch("/users/999", json!({"firstname": "X"}))
                .await,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            t.admin().delete("/users/999").await,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            t.admin().post("/users/999/suspend", json!({})).await,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            t.admin().post("/users/999/reactivate", json!({})).await,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            t.admin().get("/users/999/segments").await,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            t.admin().get("/users/999/enrolments").await,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            t.admin()
                .patch(&format!("/users/{me}"), json!({"site_admin": false}))
                .await,
            StatusCode::CONFLICT,
            "conflict",
        ),
        (
            t.admin()
                .post(&format!("/users/{me}/suspend"), json!({}))
                .await,
            StatusCode::CONFLICT,
            "conflict",
        ),
        (
            t.admin().delete(&format!("/users/{me}")).await,
            StatusCode::CONFLICT,
            "conflict",
        ),
        (
            t.admin()
                .post("/users", new_user("LEARNER1", "new@example.org"))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "duplicate",
        ),
        (
            t.admin()
                .patch(
                    &format!("/users/{learner}"),
                    json!({"email": "Learner2@example.org"}),
                )
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "duplicate",
        ),
        (
            t.admin()
                .post(
                    "/users",
                    json!({"username": "x", "firstname": "N", "lastname": "U"}),
                )
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "missing_field",
        ),
        (
            t.admin()
                .patch(&format!("/users/{learner}"), json!({"password_hash": "x"}))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_field",
        ),
        (
            t.admin()
                .post("/users", new_user("x", "not-an-email"))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            t.admin()
                .post(
                    "/users",
                    json!({"username": "x", "email": "x@example.org", "firstname": "N",
                           "lastname": "U", "password": "short"}),
                )
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            t.admin().get("/users?cursor=tomorrow").await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
    ];
    for ((status, body), want_status, want_code) in cases {
        assert_eq!((status, code(&body)), (want_status, want_code), "{body}");
    }
    t.fx.assert_unchanged(&before);
}
