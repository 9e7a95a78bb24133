//! `/forums`, `/discussions` and `/posts`: a forum through the API in the
//! fixture's separate-groups course — a learner of Team B hears 404 for
//! Team A's discussion and post, a post's `<script>` never comes back as
//! HTML, and the same error shape as every route.

use actix_web::http::StatusCode;
use serde_json::json;

use super::ApiTest;
use super::cross_site::ForumIds;
use super::support::code;

#[actix_web::test]
async fn a_separate_groups_forum_through_the_api() {
    let t = ApiTest::new();
    let fx = &t.fx;
    fx.site
        .add_group_members(&fx.admin, fx.team_a, &[fx.learners[0]])
        .unwrap();
    fx.site
        .add_group_members(&fx.admin, fx.team_b, &[fx.learners[1]])
        .unwrap();
    // Team A's "Welcome", by the teacher, with a reply.
    let ids = ForumIds::of(fx);
    let token = t.token_of(fx.learners[1]);
    let team_b = t.client(Some(&token));

    // learner1 (Team A) sees it and answers.
    let (status, forum) = t.learner().get(&format!("/forums/{}", ids.forum)).await;
    assert_eq!(status, StatusCode::OK, "{forum}");
    assert_eq!(forum["effective_group_mode"], "separate");
    assert_eq!(
        forum["start_in"],
        json!([{"group": fx.team_a.0, "name": "Team A"}])
    );
    let (_, list) = t
        .learner()
        .get(&format!("/forums/{}/discussions", ids.forum))
        .await;
    assert_eq!(list["items"][0]["subject"], "Welcome");
    let (status, reply) = t
        .learner()
        .post(
            &format!("/posts/{}/replies", ids.post),
            json!({"message": "**Thanks** <script>alert(1)</script>"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    let html = reply["body_html"].as_str().unwrap();
    assert!(
        html.contains("<strong>Thanks</strong>") && !html.contains("<script"),
        "{html}"
    );
    assert_eq!(
        reply["depth"], 1,
        "a post alone shows its depth below the first"
    );

    // learner2 (Team B): the list is empty, the ids are not found.
    let (_, list) = team_b
        .get(&format!("/forums/{}/discussions", ids.forum))
        .await;
    assert_eq!(list["items"], json!([]));
    for path in [
        format!("/discussions/{}", ids.discussion),
        format!("/posts/{}", ids.post),
    ] {
        let (status, body) = team_b.get(&path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert_eq!(code(&body), "not_found");
    }
    let (status, body) = team_b
        .post(
            &format!("/posts/{}/replies", ids.post),
            json!({"message": "let me in"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    // Starting one in Team A: a field error, nothing written.
    let (status, body) = team_b
        .post(
            &format!("/forums/{}/discussions", ids.forum),
            json!({"group": fx.team_a.0, "subject": "Hi A", "message": "from B"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["field"], "group");
    let (status, thread) = team_b
        .post(
            &format!("/forums/{}/discussions", ids.forum),
            json!({"group": fx.team_b.0, "subject": "Hi B", "message": "from B"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{thread}");
    assert_eq!(thread["discussion"]["group_name"], "Team B");
    assert_eq!(thread["posts"][0]["can_edit"], true);

    // The teacher sees both, and deletes Team B's.
    let (_, list) = t
        .teacher()
        .get(&format!("/forums/{}/discussions", ids.forum))
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    let first = thread["discussion"]["first_post"].as_u64().unwrap();
    let (status, body) = t.learner().delete(&format!("/posts/{first}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "Team A's learner: {body}");
    let (status, _) = t.teacher().delete(&format!("/posts/{first}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // Subscriptions and the site's edit window.
    let (status, body) = t
        .learner()
        .put(
            &format!("/forums/{}/subscription", ids.forum),
            json!({"subscribed": true}),
        )
        .await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({"subscribed": true}))
    );
    let (status, _) = t
        .teacher()
        .put("/settings/discussions", json!({"edit_window_minutes": 5}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = t
        .admin()
        .put("/settings/discussions", json!({"edit_window_minutes": 0}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (_, body) = t.admin().get("/settings/discussions").await;
    assert_eq!(body, json!({"edit_window_minutes": 30}));
}
