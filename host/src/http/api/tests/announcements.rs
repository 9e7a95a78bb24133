//! `/announcements` and `/me/inbox`: announce through the API, preview
//! without writing, the separate-groups rule as 403, and a learner's own
//! inbox with its unread count.

use actix_web::http::StatusCode;
use serde_json::json;

use super::ApiTest;

#[actix_web::test]
async fn a_course_announcement_reaches_the_learners_inbox_through_the_api() {
    let t = ApiTest::new();
    let course = t.fx.course.0;
    let body = json!({
        "audience": {"course": course},
        "subject": "Week 2",
        "body": "Read *chapter 2*.",
    });
    let (status, preview) = t
        .teacher()
        .post("/announcements/preview", body.clone())
        .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview["recipients"], 4);
    assert!(
        preview["html"]
            .as_str()
            .unwrap()
            .contains("<em>chapter 2</em>")
    );
    let (status, list) = t.learner().get("/me/inbox").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["unread"], 0, "a preview writes nothing: {list}");

    let (status, sent) = t.teacher().post("/announcements", body).await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    assert_eq!(sent["state"], "sent");
    assert_eq!(sent["recipients"], 4);
    let id = sent["id"].as_u64().unwrap();

    let (status, inbox) = t.learner().get("/me/inbox").await;
    assert_eq!(status, StatusCode::OK, "{inbox}");
    assert_eq!(inbox["unread"], 1);
    assert_eq!(inbox["items"][0]["subject"], "Week 2");
    assert_eq!(inbox["items"][0]["read"], false);
    let (status, message) = t.learner().get(&format!("/me/inbox/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{message}");
    assert!(
        message["html"]
            .as_str()
            .unwrap()
            .contains("<em>chapter 2</em>")
    );
    let (_, inbox) = t.learner().get("/me/inbox").await;
    assert_eq!(inbox["unread"], 0);
    let (status, _) = t
        .learner()
        .post(&format!("/me/inbox/{id}/read"), json!({"read": false}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, all) = t.learner().patch("/me/inbox", json!({"read": true})).await;
    assert_eq!(all["changed"], 1);
    let (status, refused) = t.learner().patch("/me/inbox", json!({"read": false})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["error"]["field"], "read");

    // The learner cannot read the sender's view, nor announce.
    let (status, _) = t.learner().get(&format!("/announcements/{id}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = t
        .learner()
        .post(
            "/announcements",
            json!({"audience": {"course": course}, "subject": "x", "body": "y"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[actix_web::test]
async fn in_separate_groups_a_teacher_of_group_a_cannot_announce_to_group_b() {
    let t = ApiTest::new();
    let fx = &t.fx;
    let ta = fx.non_editing_teacher_in("ta", fx.team_a);
    let token = t.token_of(ta);
    let api = t.client(Some(&token));
    let to = |group: u64| {
        json!({
            "audience": {"course": fx.course.0, "groups": [group]},
            "subject": "Team news",
            "body": "Hello team.",
        })
    };
    let (status, refused) = api.post("/announcements", to(fx.team_b.0)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    let (status, refused) = api
        .post(
            "/announcements",
            json!({"audience": {"course": fx.course.0}, "subject": "All", "body": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    let (status, sent) = api.post("/announcements", to(fx.team_a.0)).await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
}

#[actix_web::test]
async fn bad_input_names_its_field_and_a_schedule_can_be_edited_then_withdrawn() {
    let t = ApiTest::new();
    let course = t.fx.course.0;
    for (body, field) in [
        (
            json!({"audience": {"course": course}, "subject": "", "body": "b"}),
            "subject",
        ),
        (
            json!({"audience": {"course": course}, "subject": "s", "body": "x".repeat(70_000)}),
            "body",
        ),
        (
            json!({"audience": {"course": course}, "subject": "s", "body": "b", "send_at": 1000}),
            "send_at",
        ),
        (
            json!({"audience": {}, "subject": "s", "body": "b"}),
            "audience",
        ),
        (
            json!({"audience": {"segment": 999}, "subject": "s", "body": "b"}),
            "audience",
        ),
        (
            json!({"audience": {"course": course, "groups": [999]}, "subject": "s", "body": "b"}),
            "audience",
        ),
    ] {
        let (status, error) = t.admin().post("/announcements", body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {error}");
        assert_eq!(error["error"]["field"], field, "{body}: {error}");
    }
    let (_, list) = t.admin().get("/announcements").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 0);

    let later = crate::domain::Timestamp::now().0 + 3_600_000;
    let (status, scheduled) = t
        .admin()
        .post(
            "/announcements",
            json!({"audience": {"segment": t.fx.hr.0}, "subject": "Later", "body": "b", "send_at": later}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{scheduled}");
    assert_eq!(scheduled["state"], "scheduled");
    let id = scheduled["id"].as_u64().unwrap();
    let (status, edited) = t
        .admin()
        .patch(
            &format!("/announcements/{id}"),
            json!({"subject": "Later, edited"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(edited["subject"], "Later, edited");
    assert_eq!(edited["state"], "scheduled");
    let (status, withdrawn) = t
        .admin()
        .post(&format!("/announcements/{id}/withdraw"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{withdrawn}");
    assert_eq!(withdrawn["state"], "withdrawn");
    let (status, _) = t
        .admin()
        .post(&format!("/announcements/{id}/withdraw"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
}
