//! Issue 16, finding 14: a config field a plugin marks secret (the self
//! method's enrolment key) never leaves the host through the API; blank,
//! absent or the marker keeps it, `null` clears it, and the plugin still
//! gets it.

use actix_web::http::StatusCode;
use serde_json::{Value, json};

use super::ApiTest;
use crate::domain::EnrolmentMethodId;

const KEY: &str = "s3cret-course-key";

fn stored(t: &ApiTest, id: u64) -> Value {
    let m =
        t.fx.site
            .get_method(&t.fx.admin, EnrolmentMethodId(id))
            .unwrap();
    serde_json::from_str(&m.config).unwrap()
}

#[actix_web::test]
async fn a_stored_enrolment_key_is_never_answered_and_is_kept_until_cleared() {
    let t = ApiTest::new();
    let course = t.fx.course;
    let (status, added) = t
        .admin()
        .post(
            &format!("/courses/{course}/methods"),
            json!({"plugin": "self", "config": {"enrolment_key": KEY}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    let id = added["id"].as_u64().unwrap();
    let marker = json!({"secret": true, "set": true});
    let shown = [
        added.clone(),
        t.admin().get(&format!("/methods/{id}")).await.1,
        t.admin().get(&format!("/courses/{course}/methods")).await.1,
        t.admin()
            .post(&format!("/methods/{id}/disable"), json!(null))
            .await
            .1,
        t.admin()
            .post(&format!("/methods/{id}/enable"), json!(null))
            .await
            .1,
    ];
    for answer in &shown {
        assert!(
            !answer.to_string().contains(KEY),
            "the key was answered: {answer}"
        );
    }
    assert_eq!(shown[1]["config"]["enrolment_key"], marker, "{}", shown[1]);

    // Left out, blank, or the marker sent back: the key stays.
    for config in [
        json!({"role": "learner"}),
        json!({"enrolment_key": "", "role": "learner"}),
        json!({"enrolment_key": marker, "role": "learner"}),
    ] {
        let (status, answer) = t
            .admin()
            .patch(&format!("/methods/{id}"), json!({ "config": config }))
            .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert!(!answer.to_string().contains(KEY), "{answer}");
        assert_eq!(stored(&t, id)["enrolment_key"], KEY, "after {config}");
    }
    // The plugin still gets it: the key opens the course, a wrong one not,
    // for a learner not yet in it.
    let newcomer = t.token_of(t.fx.learners[4]);
    let learner = t.client(Some(&newcomer));
    let (status, body) = learner
        .post(
            &format!("/courses/{course}/self-enrol"),
            json!({"method": id, "key": "wrong", "dry_run": true}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = learner
        .post(
            &format!("/courses/{course}/self-enrol"),
            json!({"method": id, "key": KEY, "dry_run": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // An explicit null clears it.
    let (status, answer) = t
        .admin()
        .patch(
            &format!("/methods/{id}"),
            json!({"config": {"enrolment_key": null}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(
        stored(&t, id).get("enrolment_key").is_none(),
        "{}",
        stored(&t, id)
    );
    assert!(answer["config"].get("enrolment_key").is_none(), "{answer}");
}
