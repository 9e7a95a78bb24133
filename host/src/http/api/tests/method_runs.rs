//! Running enrolment methods through the API: requests, dry runs,
//! refusals, self enrolment, reconcile, and a failing plugin's error on
//! `/methods/{id}/status` with the store unchanged.

use std::time::Duration;

use actix_web::http::StatusCode;
use serde_json::{Value, json};

use super::ApiTest;
use super::support::code;
use crate::domain::{EnrolmentMethodId, Role};
use crate::runtime::RuntimeConfig;
use crate::services::testing::{TestSite, test_plugin};

fn hostile(t: &ApiTest, config: Value) -> EnrolmentMethodId {
    t.fx.with_plugin_method(&test_plugin("charon-test-hostile"), config)
}

fn well_behaved(t: &ApiTest) -> Value {
    json!({"behaviour": "well-behaved", "user": t.fx.learners[4].0})
}

#[actix_web::test]
async fn a_teacher_enrols_through_an_instance_after_a_dry_run() {
    let t = ApiTest::new();
    let m = hostile(&t, well_behaved(&t));
    let before = t.fx.snapshot();
    let (status, dry) = t
        .teacher()
        .post(
            &format!("/methods/{m}/requests"),
            json!({"kind": "enrol_users", "users": [], "dry_run": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{dry}");
    let learner5 = t.fx.learners[4].0;
    assert_eq!(
        dry,
        json!({
            "plan": {"actions": [{"op": {"enrol": {"user": learner5, "role": "learner"}}, "reason": "well-behaved enrolment"}]},
            "applied": false, "changed": 1, "unchanged": 0,
        })
    );
    t.fx.assert_unchanged(&before);
    let (status, done) = t
        .teacher()
        .post(
            &format!("/methods/{m}/requests"),
            json!({"kind": "enrol_users", "users": []}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["applied"], json!(true));
    let (_, participants) = t
        .teacher()
        .get(&format!("/courses/{}/participants?limit=100", t.fx.course))
        .await;
    assert!(
        participants
            .to_string()
            .contains(&format!("\"method\":{m}"))
    );
}

#[actix_web::test]
async fn requests_are_authorised_and_checked_before_the_plugin_runs() {
    let t = ApiTest::new();
    let m = hostile(&t, well_behaved(&t));
    let before = t.fx.snapshot();
    let path = format!("/methods/{m}/requests");
    let (status, body) = t
        .learner()
        .post(&path, json!({"kind": "enrol_users", "users": []}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let other = t.fx.learners[1].0;
    let (status, body) = t
        .learner()
        .post(&path, json!({"kind": "self_enrol", "user": other}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(
        body["error"]["message"],
        "not allowed: you can enrol or unenrol only yourself"
    );
    let (status, body) = t.admin().post(&path, json!({"kind": "enrol_users"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        (code(&body), body["error"]["field"].as_str()),
        ("missing_field", Some("users"))
    );
    let (status, body) = t
        .admin()
        .post(&path, json!({"kind": "self_unenrol", "key": "k"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = t.admin().get(&format!("/methods/{m}/status")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["error_count"], json!(0));
    let (status, _) = t.learner().get(&format!("/methods/{m}/status")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    t.fx.assert_unchanged(&before);
}

#[actix_web::test]
async fn a_refusal_is_422_with_the_plugins_code_and_a_disabled_instance_409() {
    let t = ApiTest::new();
    let m = hostile(&t, json!({"behaviour": "nonsense"}));
    let path = format!("/methods/{m}/requests");
    let (status, body) = t
        .admin()
        .post(&path, json!({"kind": "enrol_users", "users": []}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        body,
        json!({"error": {"code": "unknown-behaviour", "message": "no behaviour \"nonsense\"", "field": null}})
    );
    let (status, _) = t
        .admin()
        .post(&format!("/methods/{m}/disable"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = t
        .admin()
        .post(&path, json!({"kind": "enrol_users", "users": []}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
}

#[actix_web::test]
async fn a_rejected_plan_is_502_changes_nothing_and_shows_on_the_status() {
    let t = ApiTest::new();
    let m = hostile(&t, json!({"behaviour": "unknown-user"}));
    let before = t.fx.data_without_runs();
    let (status, body) = t
        .admin()
        .post(
            &format!("/methods/{m}/requests"),
            json!({"kind": "enrol_users", "users": []}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert_eq!(code(&body), "plan_rejected");
    assert_eq!(t.fx.data_without_runs(), before);
    let (status, body) = t.admin().get(&format!("/methods/{m}/status")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["error_count"], json!(1));
    assert_eq!(body["last_error"]["code"], json!("plan_rejected"));
    assert_eq!(
        body["last_error"]["message"],
        json!(
            "the plan was rejected at action 1 (enrol): user #999999999 is not a user of this site"
        )
    );
    assert_eq!(body["plugin"], json!("hostile"));
    assert_eq!(body["plugin_version"], json!("1.0.0"));
    assert_eq!(body["status"], json!("enabled"));
}

#[actix_web::test]
async fn a_plugin_stopped_for_time_leaves_its_error_and_the_host_serving() {
    let fx = TestSite::with_runtime(
        "acme",
        RuntimeConfig {
            deadline: Duration::from_millis(200),
            memory_limit: 16 << 20,
            ..Default::default()
        },
    );
    let t = ApiTest::with(fx);
    let m = hostile(&t, json!({"behaviour": "loop"}));
    let before = t.fx.data_without_runs();
    let (status, body) = t
        .admin()
        .post(&format!("/methods/{m}/reconcile"), json!(null))
        .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert_eq!(code(&body), "plugin_timeout");
    // Through an event too.
    let newbie = t.fx.user("newbie");
    t.fx.site
        .enrol(&t.fx.admin, t.fx.manual, newbie, Role::Learner)
        .unwrap();
    let before_event = t.fx.data_without_runs();
    t.fx.site.dispatch_pending().unwrap();
    assert_eq!(t.fx.data_without_runs(), before_event);
    let (status, body) = t.admin().get(&format!("/methods/{m}/status")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["last_error"]["code"], json!("plugin_timeout"));
    assert_eq!(body["error_count"], json!(2));
    let (status, _) = t.admin().get("/users?limit=1").await;
    assert_eq!(status, StatusCode::OK);
    let _ = before;
}

#[actix_web::test]
async fn self_enrol_and_reconcile_routes() {
    let t = ApiTest::new();
    let course = t.fx.course;
    let secret = t.token_of(t.fx.learners[4]);
    let (status, body) = t
        .client(Some(&secret))
        .post(&format!("/courses/{course}/self-enrol"), json!({}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let m = hostile(&t, well_behaved(&t));
    let (status, body) = t
        .client(Some(&secret))
        .post(
            &format!("/courses/{course}/self-enrol"),
            json!({"method": m.0, "dry_run": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["applied"], json!(false));

    let before = t.fx.snapshot();
    let (status, body) = t
        .teacher()
        .post(&format!("/methods/{m}/reconcile?dry_run=true"), json!(null))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (
            body["pages"].clone(),
            body["changed"].clone(),
            body["applied"].clone()
        ),
        (json!(1), json!(1), json!(false))
    );
    t.fx.assert_unchanged(&before);
    let (status, body) = t
        .teacher()
        .post(&format!("/methods/{m}/reconcile"), json!(null))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["changed"], json!(1));
}
