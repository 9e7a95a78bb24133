//! API tests of `/mail/…` and `/me/preferences`: the password is written
//! and never answered, field errors name their field, the queue answers
//! failed copies with the server's answer, and a user's token reads and
//! writes its own preferences.

use actix_web::http::StatusCode;
use serde_json::json;

use super::ApiTest;
use crate::domain::{Audience, Timestamp};
use crate::services::mail::smtp_sink::SmtpSink;
use crate::services::mail::tests::{announce, configure};

#[actix_web::test]
async fn smtp_settings_are_saved_with_a_password_that_is_never_answered() {
    let t = ApiTest::new();
    let admin = t.admin();
    let (status, body) = admin.get("/mail/settings").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["applies"], "none");
    let settings = json!({"host": "smtp.example.org", "port": 587, "security": "starttls",
        "username": "lms", "password": "hunter2-secret", "from_address": "lms@example.org"});
    let (status, body) = admin.put("/mail/settings", settings.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["own"]["password_set"], true);
    assert!(!body.to_string().contains("hunter2"), "{body}");
    let (_, again) = admin.get("/mail/settings").await;
    assert!(!again.to_string().contains("hunter2"), "{again}");
    assert_eq!(again["applies"], "site");

    let mut bad = settings.clone();
    bad["port"] = json!(0);
    let (status, body) = admin.put("/mail/settings", bad.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["field"], "port");

    let learner = t.learner();
    let (status, _) = learner.get("/mail/settings").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[actix_web::test]
async fn the_queue_answers_a_refused_copy_with_the_servers_answer_and_retries_it() {
    let t = ApiTest::new();
    let sink = SmtpSink::start(&["learner2@example.org"]).expect("smtp sink");
    configure(&t.fx, &sink);
    let (l1, l2) = (t.fx.learners[0], t.fx.learners[1]);
    let id = announce(&t.fx, Audience::Segment(t.fx.hr), &[l1, l2]);
    t.fx.services.send_due_mail(Timestamp::now()).await;

    let admin = t.admin();
    let (status, q) = admin.get("/mail/queue").await;
    assert_eq!(status, StatusCode::OK, "{q}");
    assert_eq!(q["failures"], 1);
    assert_eq!(q["failed"][0]["recipient"], l2.0);
    assert!(
        q["failed"][0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("550")),
        "{q}"
    );

    let (status, _) = admin
        .post(&format!("/mail/failures/{id}/{l2}/retry"), json!({}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, q) = admin.get("/mail/queue").await;
    assert_eq!(
        (q["failures"].as_u64(), q["jobs"].as_u64()),
        (Some(0), Some(1)),
        "{q}"
    );
    let (status, _) = admin
        .post(&format!("/mail/failures/{id}/{l2}/retry"), json!({}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no such failure any more");
}

#[actix_web::test]
async fn a_users_token_reads_and_writes_its_own_preferences() {
    let t = ApiTest::new();
    let learner = t.learner();
    let (status, body) = learner.get("/me/preferences").await;
    assert_eq!(
        (status, body["announcement_emails"].as_bool()),
        (StatusCode::OK, Some(true))
    );
    let (status, body) = learner
        .put("/me/preferences", json!({"announcement_emails": false}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, body) = learner.get("/me/preferences").await;
    assert_eq!(body["announcement_emails"], false);
}
