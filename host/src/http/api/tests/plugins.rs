//! `/operator/plugins`, `/sites/{key}/plugins/…` and a site's `/plugins`.

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use serde_json::{Value, json};

use super::ApiTest;
use super::support::{code, registry_state};
use crate::services::testing::test_plugin;

fn upload(bytes: Vec<u8>) -> TestRequest {
    TestRequest::post()
        .uri("/api/v1/operator/plugins")
        .insert_header(("Content-Type", "application/wasm"))
        .set_payload(bytes)
}

#[actix_web::test]
async fn an_operator_installs_enables_upgrades_and_uninstalls_a_plugin() {
    let t = ApiTest::new();
    let (status, v1) = t
        .operator()
        .send(upload(test_plugin("charon-test-capped-v1")))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{v1}");
    assert_eq!(
        (v1["id"].as_str(), v1["version"].as_str()),
        (Some("capped"), Some("1.0.0"))
    );
    assert_eq!(
        v1["manifest"]["config"][0]["kind"],
        json!({"integer": {"min": 0, "max": null}})
    );
    let (status, again) = t
        .operator()
        .send(upload(test_plugin("charon-test-capped-v1")))
        .await;
    assert_eq!((status, &again), (StatusCode::CREATED, &v1), "idempotent");

    let (status, list) = t.operator().at("/api/v1").get("/operator/plugins").await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let ids: Vec<String> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            format!(
                "{} {}",
                p["plugin"]["id"].as_str().unwrap(),
                p["plugin"]["version"].as_str().unwrap()
            )
        })
        .collect();
    assert!(ids.contains(&"capped 1.0.0".to_owned()), "{ids:?}");

    let (status, pinned) = t
        .operator()
        .at("/api/v1")
        .post("/sites/acme/plugins/capped/enable", json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{pinned}");
    assert_eq!(pinned["version"], "1.0.0");

    // The site admin sees it, with its form, and its config rules hold.
    let (status, mine) = t.admin().get("/plugins").await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    let capped = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "capped")
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(capped["config"][0]["key"], "cap");
    let course = t.fx.course.0;
    let (status, refused) = t
        .admin()
        .post(
            &format!("/courses/{course}/methods"),
            json!({"plugin": "capped", "config": {"cap": -3}}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(code(&refused), "config_rejected");
    assert_eq!(refused["error"]["field"], "config");
    assert_eq!(
        refused["error"]["errors"],
        json!([{"field": "cap", "message": "must be at least 0"}])
    );
    let (status, method) = t
        .admin()
        .post(
            &format!("/courses/{course}/methods"),
            json!({"plugin": "capped", "config": {"cap": 5}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{method}");

    let (status, _) = t
        .operator()
        .send(upload(test_plugin("charon-test-capped-v2")))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, upgraded) = t
        .operator()
        .at("/api/v1")
        .post(
            "/sites/acme/plugins/capped/upgrade",
            json!({"version": "2.0.0"}),
        )
        .await;
    assert_eq!(
        (status, &upgraded["version"]),
        (StatusCode::OK, &json!("2.0.0"))
    );
    let id = method["id"].as_u64().unwrap();
    let (_, method) = t.admin().get(&format!("/methods/{id}")).await;
    assert_eq!(method["config"], json!({"cap": 5, "label": "from 1.0.0"}));

    let (status, _) = t
        .operator()
        .at("/api/v1")
        .delete("/operator/plugins/capped/versions/1.0.0")
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, refused) = t
        .operator()
        .at("/api/v1")
        .delete("/operator/plugins/capped/versions/2.0.0")
        .await;
    assert_eq!((status, code(&refused)), (StatusCode::CONFLICT, "conflict"));
    let (status, _) = t
        .operator()
        .at("/api/v1")
        .delete("/operator/plugins/capped/versions/2.0.0?force=true")
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, gone) = t
        .operator()
        .at("/api/v1")
        .get("/operator/plugins/capped")
        .await;
    assert_eq!((status, code(&gone)), (StatusCode::NOT_FOUND, "not_found"));
}

#[actix_web::test]
async fn an_upload_that_is_too_large_or_not_a_component_is_refused_and_changes_nothing() {
    let t = ApiTest::new();
    let before = (t.fx.snapshot(), registry_state(&t.fx));
    let (status, body) = t.operator().send(upload(vec![0u8; (32 << 20) + 1])).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
    );
    let (status, body) = t.operator().send(upload(b"plain text".to_vec())).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid")
    );
    assert_eq!(body["error"]["field"], "plugin");
    let (status, body) = t
        .operator()
        .send(upload(test_plugin("charon-test-forbidden-import")))
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid")
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("wasi:sockets"),
        "{body}"
    );
    assert_eq!((t.fx.snapshot(), registry_state(&t.fx)), before);
}

#[actix_web::test]
async fn a_site_admin_can_neither_install_nor_enable_plugins() {
    let t = ApiTest::new();
    let before = (t.fx.snapshot(), registry_state(&t.fx));
    let (status, body) = t
        .admin()
        .send(upload(test_plugin("charon-test-capped-v1")))
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "forbidden"),
        "{body}"
    );
    let (status, body) = t
        .admin()
        .at("/api/v1")
        .post("/sites/acme/plugins/noop/disable", json!({"force": true}))
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "forbidden"),
        "{body}"
    );
    let (status, _) = t.teacher().get("/plugins").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!((t.fx.snapshot(), registry_state(&t.fx)), before);
}
