//! `POST /imports/{kind}`: the CSV is the body, the report the answer.

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use serde_json::json;

use super::ApiTest;
use super::support::code;

fn csv_post(path: &str, body: &str) -> TestRequest {
    TestRequest::post()
        .uri(&format!("/s/acme/api/v1{path}"))
        .insert_header(("Content-Type", "text/csv"))
        .set_payload(body.to_owned())
}

#[actix_web::test]
async fn a_dry_run_reports_and_an_apply_writes() {
    let t = ApiTest::new();
    let file = "username;segment\r\nlearner5;hr\r\n";
    let before = t.fx.snapshot();
    let (status, report) = t
        .admin()
        .send(csv_post("/imports/segment-members?dry_run=true", file))
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["applied"], false);
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["changes"]["segment_members_added"], 1);
    t.fx.assert_unchanged(&before);

    let (status, report) = t
        .admin()
        .send(csv_post("/imports/segment-members", file))
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["applied"], true);
    assert_eq!(report["changes"]["segment_members_added"], 1);
    let (_, members) = t
        .admin()
        .get(&format!("/segments/{}/members?limit=10", t.fx.hr))
        .await;
    let ids: Vec<u64> = members["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|u| u["id"].as_u64())
        .collect();
    assert!(ids.contains(&t.fx.learners[4].0), "{members}");
}

#[actix_web::test]
async fn a_file_with_errors_answers_its_report_and_writes_nothing() {
    let t = ApiTest::new();
    let before = t.fx.snapshot();
    let (status, report) = t
        .admin()
        .send(csv_post(
            "/imports/group-members",
            "username,course,group\nlearner5,COMP101,Team A\n",
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["applied"], false);
    assert_eq!(
        report["errors"],
        json!([{
            "row": 2,
            "column": "username",
            "reason": "the user is not enrolled in course \"COMP101\"; enrol them before adding them to a group"
        }])
    );
    t.fx.assert_unchanged(&before);
}

#[actix_web::test]
async fn a_file_with_a_header_and_no_rows_is_refused() {
    let t = ApiTest::new();
    let (status, report) = t
        .admin()
        .send(csv_post("/imports/segments", "name,idnumber\n"))
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["applied"], false);
    assert_eq!(report["rows"], 0);
    assert_eq!(
        report["errors"],
        json!([{"row": 1, "column": null, "reason": "the file has a header but no rows"}])
    );
}

#[actix_web::test]
async fn unknown_kinds_strangers_and_oversized_files_are_refused() {
    let t = ApiTest::new();
    let (status, body) = t
        .admin()
        .send(csv_post("/imports/courses", "shortname\nX\n"))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["field"], "kind");

    let (status, body) = t
        .teacher()
        .send(csv_post("/imports/segments", "name\nX\n"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    let (status, body) = t
        .anonymous()
        .send(csv_post("/imports/segments", "name\nX\n"))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");

    let huge = "x".repeat(crate::services::bulk::DEFAULT_MAX_BYTES + 1);
    let (status, body) = t.admin().send(csv_post("/imports/segments", &huge)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(code(&body), "payload_too_large");
}

#[actix_web::test]
async fn the_configured_upload_limit_holds_for_the_api_too() {
    let t = ApiTest::new();
    // As `serve --import-max-mib` sets it, shared with the pages.
    t.fx.services.set_import_max_bytes(1024);
    let file = format!("name\n{}", "Segment\n".repeat(200));
    let (status, body) = t.admin().send(csv_post("/imports/segments", &file)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(code(&body), "payload_too_large");
    let (status, body) = t
        .admin()
        .send(csv_post("/imports/segments?dry_run=true", "name\nX\n"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
