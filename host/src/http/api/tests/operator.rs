//! The operator routes the `charon` commands need beside the site routes:
//! `/operator/status`, and a site named by slug or id for the demo, a
//! reconcile by course shortname, a CSV import and its tokens by username.

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use serde_json::{Value, json};

use super::ApiTest;
use super::support::code;

fn csv_post(path: &str, body: &str) -> TestRequest {
    TestRequest::post()
        .uri(&format!("/api/v1{path}"))
        .insert_header(("Content-Type", "text/csv"))
        .set_payload(body.to_owned())
}

#[actix_web::test]
async fn the_status_says_which_process_serves_which_data_dir() {
    let t = ApiTest::new();
    let (status, body) = t.operator().at("/api/v1").get("/operator/status").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({
            "version": env!("CARGO_PKG_VERSION"),
            "pid": std::process::id(),
            "data_dir": t.fx.services.data_dir().display().to_string(),
        })
    );
    let (status, body) = t.admin().at("/api/v1").get("/operator/status").await;
    assert_eq!((status, code(&body)), (StatusCode::FORBIDDEN, "forbidden"));
}

#[actix_web::test]
async fn the_demo_loads_into_a_site_by_slug_or_id_once() {
    let t = ApiTest::new();
    let ops = || t.operator().at("/api/v1");
    let (status, report) = ops().post("/sites/acme/demo", Value::Null).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["site"], "acme");
    assert!(report["users_created"].as_u64() > Some(0), "{report}");
    assert!(report["site_admin_password"].is_string(), "{report}");

    let id = t.fx.site.site().id;
    let (status, again) = ops().post(&format!("/sites/{id}/demo"), Value::Null).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["users_created"], 0, "{again}");
    assert!(again["site_admin_password"].is_null(), "{again}");

    let (status, body) = ops().post("/sites/nowhere/demo", Value::Null).await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "not_found"));
}

#[actix_web::test]
async fn a_site_reconciles_whole_or_one_course_named_by_shortname_or_id() {
    let t = ApiTest::new();
    let ops = || t.operator().at("/api/v1");
    let before = t.fx.snapshot();
    let (status, all) = ops()
        .post("/sites/acme/reconcile?dry_run=true", Value::Null)
        .await;
    assert_eq!(status, StatusCode::OK, "{all}");
    let methods = |v: &Value| -> Vec<u64> {
        v.as_array()
            .expect("an array")
            .iter()
            .map(|r| r["method"].as_u64().expect("method"))
            .collect()
    };
    assert!(methods(&all).contains(&t.fx.manual.0), "{all}");
    t.fx.assert_unchanged(&before);

    let (other, other_manual) = t.fx.other_course("OTHER");
    let (status, by_shortname) = ops()
        .post(
            "/sites/acme/reconcile?course=OTHER&dry_run=true",
            Value::Null,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{by_shortname}");
    assert_eq!(methods(&by_shortname), [other_manual.0]);
    let (_, by_id) = ops()
        .post(
            &format!("/sites/acme/reconcile?course={other}"),
            Value::Null,
        )
        .await;
    assert_eq!(methods(&by_id), [other_manual.0]);

    let (status, body) = ops()
        .post("/sites/acme/reconcile?course=NOPE", Value::Null)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["error"]["message"], "course \"NOPE\" not found");
}

#[actix_web::test]
async fn an_operator_imports_a_csv_into_a_site_by_key_within_the_hosts_limit() {
    let t = ApiTest::new();
    let file = "username;segment\r\nlearner5;hr\r\n";
    let before = t.fx.snapshot();
    let (status, report) = t
        .operator()
        .send(csv_post(
            "/sites/acme/imports/segment-members?dry_run=true",
            file,
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(
        (
            &report["applied"],
            &report["changes"]["segment_members_added"]
        ),
        (&json!(false), &json!(1))
    );
    t.fx.assert_unchanged(&before);

    let id = t.fx.site.site().id;
    let (status, report) = t
        .operator()
        .send(csv_post(
            &format!("/sites/{id}/imports/segment-members"),
            file,
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["applied"], true);

    let (status, body) = t
        .operator()
        .send(csv_post("/sites/acme/imports/grades", file))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    // As `serve --import-max-mib` sets it, shared with the site route.
    t.fx.services.set_import_max_bytes(16);
    let (status, body) = t
        .operator()
        .send(csv_post("/sites/acme/imports/segment-members", file))
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");

    let (status, body) = t
        .admin()
        .send(csv_post("/sites/acme/imports/segment-members", "x\n"))
        .await;
    assert_eq!((status, code(&body)), (StatusCode::FORBIDDEN, "forbidden"));
}

#[actix_web::test]
async fn an_operator_makes_and_lists_a_sites_tokens_by_username() {
    let t = ApiTest::new();
    let ops = || t.operator().at("/api/v1");
    let (status, created) = ops()
        .post(
            "/sites/acme/tokens",
            json!({"name": "HR sync", "username": "admin"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let admin = t.fx.admin_id.0;
    assert_eq!(
        created["token"]["acts_as"],
        json!({"kind": "site_user", "site": t.fx.site.site().id.0, "user": admin})
    );
    let secret = created["secret"].as_str().expect("secret");
    let (status, _) = t.client(Some(secret)).get("/segments").await;
    assert_eq!(status, StatusCode::OK);

    let (status, listed) = ops().get("/sites/acme/tokens").await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let names: Vec<&str> = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    // The fixture's three tokens of site users, then this one.
    assert_eq!(names, ["test", "test", "test", "HR sync"]);
    assert!(!listed.to_string().contains(secret), "never the secret");

    for (path, body, status) in [
        (
            "/sites/nowhere/tokens",
            json!({"name": "x", "username": "admin"}),
            StatusCode::NOT_FOUND,
        ),
        (
            "/sites/acme/tokens",
            json!({"name": "x", "username": "nobody"}),
            StatusCode::NOT_FOUND,
        ),
        (
            "/sites/acme/tokens",
            json!({"name": "x"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let (got, answer) = ops().post(path, body).await;
        assert_eq!(got, status, "{path}: {answer}");
    }
    let (status, _) = ops().get("/sites/nowhere/tokens").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, body) = t
        .admin()
        .at("/api/v1")
        .post(
            "/sites/acme/tokens",
            json!({"name": "x", "username": "admin"}),
        )
        .await;
    assert_eq!((status, code(&body)), (StatusCode::FORBIDDEN, "forbidden"));
}
