//! Course content through the JSON API (issue 18): a teacher builds and
//! rearranges a course; learners read what they may; bad bodies are
//! refused with the usual error shape and write nothing.

use actix_web::http::StatusCode;
use serde_json::{Value, json};

use super::ApiTest;
use super::support::code;

fn names(content: &Value) -> Vec<(String, Vec<String>)> {
    content["sections"]
        .as_array()
        .expect("sections")
        .iter()
        .map(|s| {
            (
                s["section"]["name"].as_str().unwrap_or_default().to_owned(),
                s["activities"]
                    .as_array()
                    .expect("activities")
                    .iter()
                    .map(|a| a["name"].as_str().unwrap_or_default().to_owned())
                    .collect(),
            )
        })
        .collect()
}

#[actix_web::test]
async fn a_teacher_builds_the_course_and_learners_see_what_is_visible() {
    let t = ApiTest::with(crate::services::testing::TestSite::new().with_teams());
    let course = t.fx.course;
    let (status, week2) = t
        .teacher()
        .post(
            &format!("/courses/{course}/sections"),
            json!({"name": "Week 2", "summary": "More."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{week2}");
    let week2 = week2["id"].as_u64().unwrap();
    let (status, page) = t
        .teacher()
        .post(
            &format!("/sections/{week2}/pages"),
            json!({"name": "Secret draft", "description": "Not yet.", "visible": false, "group_mode": "visible"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{page}");
    assert_eq!(
        (page["kind"].clone(), page["group_mode"].clone()),
        (json!("page"), json!("visible"))
    );
    let draft = page["id"].as_u64().unwrap();
    let (status, order) = t
        .teacher()
        .put(
            &format!("/sections/{week2}/position"),
            json!({"position": 0}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{order}");
    assert_eq!(order["sections"], json!([week2, t.fx.section.0]));

    let (_, seen) = t.learner().get(&format!("/courses/{course}/content")).await;
    assert_eq!(
        names(&seen),
        [
            ("Week 2".to_owned(), vec![]),
            ("Week 1".to_owned(), vec!["Welcome".to_owned()])
        ]
    );
    let (status, body) = t.learner().get(&format!("/activities/{draft}")).await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "not_found"));

    // Shown, moved into Week 1 first, its group mode back to the course's.
    let (status, shown) = t
        .teacher()
        .patch(
            &format!("/activities/{draft}"),
            json!({"visible": true, "group_mode": null, "name": "Notes"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    assert_eq!(shown["group_mode"], Value::Null);
    let (status, moved) = t
        .teacher()
        .put(
            &format!("/activities/{draft}/position"),
            json!({"section": t.fx.section.0, "position": 0}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    let (_, seen) = t.learner().get(&format!("/courses/{course}/content")).await;
    assert_eq!(
        names(&seen),
        [
            ("Week 2".to_owned(), vec![]),
            (
                "Week 1".to_owned(),
                vec!["Notes".to_owned(), "Welcome".to_owned()]
            )
        ]
    );
    let (status, detail) = t.learner().get(&format!("/activities/{draft}")).await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    assert_eq!(detail["effective_group_mode"], "separate");
    assert_eq!(detail["html"], "<p>Not yet.</p>\n");

    let (status, _) = t.teacher().delete(&format!("/sections/{week2}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = t.teacher().get(&format!("/sections/{week2}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn learners_cannot_change_content_and_bad_bodies_write_nothing() {
    let t = ApiTest::new();
    let section = t.fx.section;
    let before = t.fx.snapshot();
    let (status, body) = t
        .learner()
        .post(
            &format!("/sections/{section}/pages"),
            json!({"name": "Mine"}),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "forbidden"),
        "{body}"
    );
    let (status, body) = t
        .learner()
        .post(
            &format!("/sections/{section}/pages"),
            json!({"nonsense": true}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "the body of a refused caller is never read: {body}"
    );
    for (bad, field) in [
        (json!({"name": ""}), "name"),
        (json!({"name": "x", "grouping": 999}), "grouping"),
        (json!({"name": "x", "group_mode": "sometimes"}), ""),
    ] {
        let (status, body) = t
            .teacher()
            .post(&format!("/sections/{section}/pages"), bad.clone())
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
        if !field.is_empty() {
            assert_eq!(body["error"]["field"], field, "{body}");
        }
    }
    t.fx.assert_unchanged(&before);
}

#[actix_web::test]
async fn groupings_are_made_and_changed_by_teachers_and_hidden_from_learners() {
    let t = ApiTest::new();
    let course = t.fx.course;
    let (status, made) = t
        .teacher()
        .post(
            &format!("/courses/{course}/groupings"),
            json!({"name": "Only A", "groups": [t.fx.team_a.0]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(made["groups"], json!([t.fx.team_a.0]));
    let id = made["id"].as_u64().unwrap();
    let (status, changed) = t
        .teacher()
        .patch(
            &format!("/groupings/{id}"),
            json!({"groups": [t.fx.team_b.0]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["groups"], json!([t.fx.team_b.0]));
    let (status, list) = t
        .teacher()
        .get(&format!("/courses/{course}/groupings"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list.as_array().map(Vec::len), Some(2));
    let (status, _) = t
        .learner()
        .get(&format!("/courses/{course}/groupings"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = t.teacher().delete(&format!("/groupings/{id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

#[actix_web::test]
async fn the_site_admin_sets_whether_learners_see_addresses() {
    let t = ApiTest::new();
    let (status, p) = t.admin().get("/settings/privacy").await;
    assert_eq!(
        (status, p),
        (StatusCode::OK, json!({"learners_see_emails": false}))
    );
    let (status, p) = t
        .admin()
        .put("/settings/privacy", json!({"learners_see_emails": true}))
        .await;
    assert_eq!(
        (status, p),
        (StatusCode::OK, json!({"learners_see_emails": true}))
    );
    let (status, _) = t
        .teacher()
        .put("/settings/privacy", json!({"learners_see_emails": false}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
