//! The API does what its OpenAPI document says (issue 16): the shared
//! error responses are on every operation, ids and paging parameters are
//! read as declared, and a path served with other methods answers 405.

use actix_web::http::{Method, StatusCode};
use actix_web::test::TestRequest;
use serde_json::{Value, json};

use super::ApiTest;
use super::support::{call, code};
use crate::http::AppState;
use crate::http::api::openapi;

fn document() -> Value {
    serde_json::to_value(openapi()).expect("document as JSON")
}

#[test]
fn every_operation_documents_the_shared_error_responses() {
    let doc = document();
    let operator_paths = crate::http::api::operator_paths();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let responses = op["responses"].as_object().expect("responses");
            let mut wanted = vec!["400", "401", "403", "422", "5XX"];
            if op.get("requestBody").is_some() {
                wanted.extend(["413", "415"]);
            }
            if path.contains('{') || !operator_paths.contains(path) {
                wanted.push("404");
            }
            for status in wanted {
                assert!(
                    responses.contains_key(status),
                    "{method} {path} does not document {status}"
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 70, "only {checked} operations");
    let shared = doc["components"]["responses"].as_object().expect("shared");
    for (name, response) in shared {
        assert_eq!(
            response["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/ErrorBody",
            "{name}"
        );
    }
}

#[test]
fn ids_are_declared_int64_from_one_to_the_largest_the_api_accepts() {
    let doc = document();
    let user_id = &doc["components"]["schemas"]["UserId"];
    assert_eq!(user_id["type"], "integer");
    assert_eq!(user_id["format"], "int64");
    assert_eq!(user_id["minimum"], 1);
    assert_eq!(user_id["maximum"], i64::MAX);
    let id = &doc["paths"]["/api/v1/groups/{id}"]["get"]["parameters"][0]["schema"];
    assert_eq!(id["minimum"], 1, "{id}");
    assert_eq!(id["maximum"], i64::MAX, "{id}");
}

#[actix_web::test]
async fn an_integral_float_is_an_id_as_json_schema_reads_integer() {
    let t = ApiTest::new();
    let user = t.fx.learners[0].0;
    let (status, change) = t
        .admin()
        .post(
            &format!("/segments/{}/members", t.fx.finance.0),
            json!({ "users": [user as f64] }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{change}");
    assert_eq!(change["changed"], 1, "{change}");
}

#[actix_web::test]
async fn ids_outside_the_declared_range_are_refused_with_422_naming_the_range() {
    let t = ApiTest::new();
    let path = format!("/segments/{}/members/remove", t.fx.hr.0);
    for bad in [
        json!(9_223_372_036_854_775_808_u64),
        json!(u64::MAX),
        json!(0),
        json!(-1),
        json!(1.5),
        json!(1e300),
    ] {
        let (status, body) = t.admin().post(&path, json!({ "users": [bad] })).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("9223372036854775807"),
            "{bad}: {body}"
        );
    }
}

#[actix_web::test]
async fn paging_parameters_out_of_range_are_422_naming_the_parameter_and_its_range() {
    let t = ApiTest::new();
    // A searchable collection, a whole-list one, and the audit log.
    let collections = [
        (t.admin(), "/users"),
        (t.operator().at("/api/v1"), "/sites"),
        (t.admin(), "/audit"),
    ];
    for (client, path) in &collections {
        for limit in ["0", "1001", "12700941059718681460736", "-3", "many"] {
            let (status, body) = client.get(&format!("{path}?limit={limit}")).await;
            assert_eq!(
                status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{path}?limit={limit}: {body}"
            );
            assert_eq!(body["error"]["field"], "limit", "{body}");
            assert!(
                body["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("from 1 to 1000"),
                "{body}"
            );
        }
        let (status, body) = client.get(&format!("{path}?limit=1000")).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        // An empty cursor is the first page, as if there were none.
        let (status, first) = client.get(&format!("{path}?cursor=&limit=1")).await;
        assert_eq!(status, StatusCode::OK, "{path}: {first}");
        let (_, without) = client.get(&format!("{path}?limit=1")).await;
        assert_eq!(first, without, "{path}");
        let (status, body) = client.get(&format!("{path}?cursor=abc")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {body}");
        assert_eq!(body["error"]["field"], "cursor", "{body}");
    }
}

#[actix_web::test]
async fn a_served_path_asked_with_another_method_answers_405_with_allow() {
    let t = ApiTest::new();
    let cases = [
        (Method::TRACE, "/s/acme/api/v1/segments", "GET, POST"),
        (Method::TRACE, "/api/v1/operator/status", "GET"),
        (Method::PUT, "/api/v1/sites", "GET, POST"),
        (Method::TRACE, "/api/v1/openapi.json", "GET"),
        (
            Method::POST,
            "/s/acme/api/v1/groups/1",
            "DELETE, GET, PATCH",
        ),
        // Not `…/members/{user}`'s DELETE: the literal path wins.
        (
            Method::OPTIONS,
            "/s/acme/api/v1/segments/1/members/remove",
            "POST",
        ),
        // A route takes it (`PATCH /announcements/{id}`) but cannot read
        // "preview" as an id: still the literal path's 405.
        (
            Method::PATCH,
            "/s/acme/api/v1/announcements/preview",
            "POST",
        ),
    ];
    for (method, path, allow) in cases {
        let req = TestRequest::default()
            .method(method.clone())
            .uri(path)
            .insert_header(("Authorization", format!("Bearer {}", t.operator)));
        let (status, headers, body) = call(AppState::new(t.fx.services.clone()), req).await;
        let body: Value = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(
            status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}: {body}"
        );
        assert_eq!(headers.get("allow").unwrap(), allow, "{method} {path}");
        assert_eq!(code(&body), "method_not_allowed");
    }
    // Paths the API does not serve stay 404, and operator paths are not
    // served under a site's prefix.
    for path in [
        "/api/v1/nothing",
        "/s/acme/api/v1/sites",
        "/s/acme/api/v1/x/y",
    ] {
        let req = TestRequest::default().method(Method::TRACE).uri(path);
        let (status, _, _) = call(AppState::new(t.fx.services.clone()), req).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
}
