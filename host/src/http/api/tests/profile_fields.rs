//! `/profile-fields` and profile values through `/users` (issue 20).

use actix_web::http::StatusCode;
use serde_json::json;

use super::ApiTest;
use super::support::code;

#[actix_web::test]
async fn a_site_admin_defines_a_menu_field_and_users_values_must_fit_it() {
    let t = ApiTest::new();
    let (status, field) = t
        .admin()
        .post(
            "/profile-fields",
            json!({"shortname": "region", "name": "Region", "kind": {"menu": {"choices": ["North", "South"]}}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{field}");
    assert_eq!(
        field["kind"],
        json!({"menu": {"choices": ["North", "South"]}})
    );
    assert_eq!(field["visible_to_user"], true);
    let id = field["id"].as_u64().unwrap();

    let (_, all) = t.learner().get("/profile-fields").await;
    let names: Vec<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["shortname"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["department", "region"]);

    let user = t.fx.learners[0].0;
    let (status, set) = t
        .admin()
        .patch(
            &format!("/users/{user}"),
            json!({"profile": {"region": "south"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{set}");
    assert_eq!(set["profile"]["region"], "South");
    let (status, refused) = t
        .admin()
        .patch(
            &format!("/users/{user}"),
            json!({"profile": {"region": "West"}}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["error"]["field"], "profile");

    // A choice in use stays; deleting the field clears the value.
    let (status, conflict) = t
        .admin()
        .patch(
            &format!("/profile-fields/{id}"),
            json!({"choices": ["North"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{conflict}");
    let (status, deleted) = t.admin().delete(&format!("/profile-fields/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{deleted}");
    assert_eq!(deleted, json!({"values_cleared": 1}));
    let (_, after) = t.admin().get(&format!("/users/{user}")).await;
    assert!(after["profile"].get("region").is_none(), "{after}");
}

#[actix_web::test]
async fn only_site_admins_define_fields() {
    let t = ApiTest::new();
    let (status, refused) = t
        .learner()
        .post(
            "/profile-fields",
            json!({"shortname": "x", "name": "X", "kind": "text"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    let (status, refused) = t.teacher().delete("/profile-fields/1").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    let (status, bad) = t
        .admin()
        .post(
            "/profile-fields",
            json!({"shortname": "Not valid", "name": "X", "kind": "text"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    assert_eq!(code(&bad), "invalid");
    assert_eq!(bad["error"]["field"], "shortname");
}
