use actix_web::http::StatusCode;
use serde_json::{Value, json};

use super::ApiTest;
use super::support::code;

fn ids(page: &Value, key: &str) -> Vec<u64> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|m| m[key]["id"].as_u64().or(m[key].as_u64()).expect("id"))
        .collect()
}

#[actix_web::test]
async fn a_teacher_creates_a_group_and_fills_it_in_one_call() {
    let t = ApiTest::new();
    let course = t.fx.course;
    let (status, group) = t
        .teacher()
        .post(
            &format!("/courses/{course}/groups"),
            json!({"name": "Evening", "idnumber": "eve", "description": "after work"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{group}");
    let id = group["id"].as_u64().unwrap();
    assert_eq!(
        group,
        json!({
            "id": id, "course": course.0, "name": "Evening", "idnumber": "eve",
            "description": "after work", "members": 0, "created_at": group["created_at"],
        })
    );

    let enrolled: Vec<u64> = t.fx.learners[0..4].iter().map(|u| u.0).collect();
    let (status, change) = t
        .teacher()
        .post(
            &format!("/groups/{id}/members"),
            json!({ "users": enrolled }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{change}");
    assert_eq!(change, json!({"changed": 4, "unchanged": 0}));
    let (_, again) = t
        .teacher()
        .post(
            &format!("/groups/{id}/members"),
            json!({ "users": [enrolled[0]] }),
        )
        .await;
    assert_eq!(again, json!({"changed": 0, "unchanged": 1}), "a no-op");

    let (status, first) = t
        .teacher()
        .get(&format!("/groups/{id}/members?limit=3"))
        .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(ids(&first, "user"), enrolled[0..3]);
    let member = &first["items"][0];
    assert_eq!(member["owner"], json!({"kind": "manual"}));
    assert_eq!(member["user"]["username"], "learner1");
    assert!(member["user"].get("password_hash").is_none());
    assert!(member["added_at"].as_i64().is_some());
    let cursor = first["next_cursor"].as_str().unwrap();
    let (_, rest) = t
        .teacher()
        .get(&format!("/groups/{id}/members?limit=3&cursor={cursor}"))
        .await;
    assert_eq!(ids(&rest, "user"), enrolled[3..4]);
    assert_eq!(rest["next_cursor"], Value::Null);

    let (_, read) = t.learner().get(&format!("/groups/{id}")).await;
    assert_eq!(read["members"], 4, "a participant reads the group: {read}");
}

#[actix_web::test]
async fn groups_are_listed_by_name_paged_and_searchable() {
    let t = ApiTest::new();
    let course = t.fx.course;
    let (status, page) = t
        .admin()
        .get(&format!("/courses/{course}/groups?limit=1"))
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["items"][0]["name"], "Team A");
    assert_eq!(page["next_cursor"], "1");
    let (_, rest) = t
        .admin()
        .get(&format!("/courses/{course}/groups?cursor=1"))
        .await;
    assert_eq!(rest["items"][0]["name"], "Team B");
    assert_eq!(rest["next_cursor"], Value::Null);
    let (_, found) = t
        .teacher()
        .get(&format!("/courses/{course}/groups?q=team%20b"))
        .await;
    assert_eq!(ids(&found, "id"), [t.fx.team_b.0]);
    // A learner in no group of the separate-groups course lists none.
    let (_, none) = t
        .learner()
        .get(&format!("/courses/{course}/groups?q=team%20b"))
        .await;
    assert_eq!(ids(&none, "id"), Vec::<u64>::new());
}

#[actix_web::test]
async fn a_group_is_renamed_and_deleted() {
    let t = ApiTest::new();
    let id = t.fx.team_a;
    let (status, group) = t
        .admin()
        .patch(
            &format!("/groups/{id}"),
            json!({"name": "Morning", "idnumber": "am"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{group}");
    assert_eq!(
        (&group["name"], &group["idnumber"]),
        (&json!("Morning"), &json!("am"))
    );
    let (_, cleared) = t
        .admin()
        .patch(&format!("/groups/{id}"), json!({"idnumber": ""}))
        .await;
    assert_eq!(
        cleared["idnumber"],
        Value::Null,
        "an empty idnumber clears it"
    );
    assert_eq!(cleared["name"], "Morning", "absent fields stay");

    let (status, body) = t.teacher().delete(&format!("/groups/{id}")).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    let (status, body) = t.admin().get(&format!("/groups/{id}")).await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "not_found"));
}

#[actix_web::test]
async fn members_are_removed_one_by_one_or_in_bulk() {
    let t = ApiTest::new();
    let id = t.fx.team_a;
    let l: Vec<u64> = t.fx.learners.iter().map(|u| u.0).collect();
    t.admin()
        .post(
            &format!("/groups/{id}/members"),
            json!({"users": [l[0], l[1], l[2]]}),
        )
        .await;
    let (status, change) = t
        .admin()
        .delete(&format!("/groups/{id}/members/{}", l[0]))
        .await;
    assert_eq!(status, StatusCode::OK, "{change}");
    assert_eq!(change, json!({"changed": 1, "unchanged": 0}));
    let (status, change) = t
        .admin()
        .post(
            &format!("/groups/{id}/members/remove"),
            json!({"users": [l[0], l[1], l[2]]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{change}");
    assert_eq!(change, json!({"changed": 2, "unchanged": 1}));
    let (_, page) = t.admin().get(&format!("/groups/{id}/members")).await;
    assert_eq!(page["items"], json!([]));
}

#[actix_web::test]
async fn a_membership_owned_by_an_enrolment_method_shows_its_owner_and_stays() {
    let t = ApiTest::new();
    let sync = t.fx.add_method("noop");
    let user = t.fx.learners[1];
    t.fx.site
        .add_group_members(&t.fx.as_method(sync), t.fx.team_a, &[user])
        .unwrap();
    let (_, page) = t
        .teacher()
        .get(&format!("/groups/{}/members", t.fx.team_a))
        .await;
    assert_eq!(
        page["items"][0]["owner"],
        json!({"kind": "method", "method": sync.0})
    );

    let before = t.fx.snapshot();
    let (status, body) = t
        .admin()
        .delete(&format!("/groups/{}/members/{user}", t.fx.team_a))
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, "conflict"),
        "{body}"
    );
    let (status, body) = t
        .admin()
        .post(
            &format!("/groups/{}/members/remove", t.fx.team_a),
            json!({"users": [t.fx.learners[0].0, user.0]}),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, "conflict"),
        "{body}"
    );
    t.fx.assert_unchanged(&before);
}

#[actix_web::test]
async fn each_way_a_group_request_goes_wrong_has_its_own_status_and_writes_nothing() {
    let t = ApiTest::new();
    let course = t.fx.course;
    let group = t.fx.team_a;
    let enrolled = t.fx.learners[0].0;
    let not_enrolled = t.fx.learners[4].0;
    let groups = format!("/courses/{course}/groups");
    let members = format!("/groups/{group}/members");
    let before = t.fx.snapshot();
    let cases = [
        (
            t.anonymous().get(&groups).await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        (
            t.learner().post(&groups, json!({"name": "Mine"})).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            t.learner()
                .patch(&format!("/groups/{group}"), json!({"name": "Mine"}))
                .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            t.learner().delete(&format!("/groups/{group}")).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            t.learner()
                .post(&members, json!({"users": [enrolled]}))
                .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            t.admin().get("/courses/999/groups").await,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            t.admin()
                .post("/courses/999/groups", json!({"name": "X"}))
                .await,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            t.admin().get("/groups/999").await,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            t.admin().get("/groups/999/members").await,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            t.admin().delete("/groups/999").await,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            t.admin().get("/groups/abc").await,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            t.admin()
                .post(&members, json!({"users": [enrolled, 999]}))
                .await,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            t.admin()
                .post(&members, json!({"users": [enrolled, not_enrolled]}))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_enrolled",
        ),
        (
            t.admin().post(&groups, json!({"name": "team a"})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "duplicate",
        ),
        (
            t.admin().post(&groups, json!({"name": " "})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            t.admin().post(&groups, json!({"idnumber": "x"})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "missing_field",
        ),
        (
            t.admin()
                .patch(&format!("/groups/{group}"), json!({"visible": false}))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_field",
        ),
        (
            t.admin()
                .patch(
                    &format!("/groups/{}", t.fx.team_b),
                    json!({"name": "Team A"}),
                )
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "duplicate",
        ),
        (
            t.admin().get(&format!("{members}?cursor=x")).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            t.admin().get(&format!("{groups}?sort=name")).await,
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
    ];
    for ((status, body), want_status, want_code) in cases {
        assert_eq!((status, code(&body)), (want_status, want_code), "{body}");
    }
    t.fx.assert_unchanged(&before);
}
