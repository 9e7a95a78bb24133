use actix_web::http::StatusCode;
use serde_json::{Value, json};

use super::ApiTest;
use super::support::code;

/// `(action, target)` of each entry of a page.
fn entries(page: &Value) -> Vec<(String, String)> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["target"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn pair(action: &str, target: String) -> (String, String) {
    (action.to_owned(), target)
}

/// The admin creates group "Evening" and adds learners 1 and 2: three
/// entries by the admin on top of the fixture's, which the system wrote.
async fn evening(t: &ApiTest) -> (u64, Vec<(String, String)>) {
    let (_, group) = t
        .admin()
        .post(
            &format!("/courses/{}/groups", t.fx.course),
            json!({"name": "Evening"}),
        )
        .await;
    let id = group["id"].as_u64().unwrap();
    let (l1, l2) = (t.fx.learners[0], t.fx.learners[1]);
    t.admin()
        .post(
            &format!("/groups/{id}/members"),
            json!({"users": [l1.0, l2.0]}),
        )
        .await;
    let newest_first = vec![
        pair("group.member_added", format!("user #{l2} in group #{id}")),
        pair("group.member_added", format!("user #{l1} in group #{id}")),
        pair(
            "group.created",
            format!("group #{id} \"Evening\" in course #{}", t.fx.course),
        ),
    ];
    (id, newest_first)
}

#[actix_web::test]
async fn the_audit_log_is_newest_first_and_filtered_by_actor_action_and_text() {
    let t = ApiTest::new();
    let (_, mine) = evening(&t).await;
    let admin = t.fx.admin_id;

    let (status, page) = t.admin().get(&format!("/audit?actor=user:{admin}")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(entries(&page), mine);
    let first = &page["items"][0];
    assert_eq!(first["actor"], json!({"kind": "user", "id": admin.0}));
    assert_eq!(first["reason"], "added to group \"Evening\"");
    assert!(first["at"].as_i64().is_some() && first["id"].as_u64().is_some());

    let (_, members) = t.admin().get("/audit?action=group.member").await;
    assert_eq!(entries(&members), mine[0..2]);
    let (_, text) = t.admin().get("/audit?q=EVENING").await;
    assert_eq!(entries(&text), mine, "text in the target or the reason");
    let (_, none) = t
        .admin()
        .get(&format!("/audit?actor=user:{admin}&action=segment."))
        .await;
    assert_eq!(none["items"], json!([]));

    let (_, system) = t.admin().get("/audit?actor=system&limit=1000").await;
    let items = system["items"].as_array().unwrap();
    assert!(items.len() > 10, "the fixture was written by the system");
    assert!(
        items
            .iter()
            .all(|e| e["actor"] == json!({"kind": "system"}))
    );
}

#[actix_web::test]
async fn the_audit_log_pages_by_cursor_from_the_newest_entry() {
    let t = ApiTest::new();
    let (_, mine) = evening(&t).await;
    let filter = format!("actor=user:{}", t.fx.admin_id);
    let (_, first) = t.admin().get(&format!("/audit?{filter}&limit=2")).await;
    assert_eq!(entries(&first), mine[0..2]);
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    assert_eq!(
        first["items"][1]["id"].as_u64().unwrap().to_string(),
        cursor
    );

    // A change after the first page does not shift the next one.
    t.admin().post("/segments", json!({"name": "Later"})).await;
    let (_, second) = t
        .admin()
        .get(&format!("/audit?{filter}&limit=2&cursor={cursor}"))
        .await;
    assert_eq!(entries(&second), mine[2..3]);
    assert_eq!(second["next_cursor"], Value::Null);
}

#[actix_web::test]
async fn each_way_an_audit_request_goes_wrong_has_its_own_status() {
    let t = ApiTest::new();
    let cases = [
        (
            t.anonymous().get("/audit").await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            None,
        ),
        (
            t.teacher().get("/audit").await,
            StatusCode::FORBIDDEN,
            "forbidden",
            None,
        ),
        (
            t.admin().get("/audit?actor=robot:1").await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            Some("actor"),
        ),
        (
            t.admin().get("/audit?cursor=newest").await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            Some("cursor"),
        ),
        (
            t.admin().get("/audit?who=me").await,
            StatusCode::BAD_REQUEST,
            "bad_request",
            None,
        ),
    ];
    for ((status, body), want_status, want_code, field) in cases {
        assert_eq!((status, code(&body)), (want_status, want_code), "{body}");
        assert_eq!(body["error"]["field"].as_str(), field, "{body}");
    }
}
