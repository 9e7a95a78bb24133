use actix_web::http::StatusCode;
use serde_json::{Value, json};

use super::ApiTest;
use super::support::{code, registry_state};

fn slugs(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|s| s["slug"].as_str().expect("slug"))
        .collect()
}

#[actix_web::test]
async fn an_operator_creates_suspends_resumes_and_deletes_a_site() {
    let t = ApiTest::new();
    let ops = || t.operator().at("/api/v1");
    let (status, site) = ops()
        .post(
            "/sites",
            json!({"slug": "initech", "name": "Initech", "hostnames": ["Initech.TEST"], "brand_colour": "#aa3300"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{site}");
    let id = site["id"].as_u64().unwrap();
    assert_eq!(
        site,
        json!({
            "id": id, "slug": "initech", "name": "Initech", "hostnames": ["initech.test"],
            "status": "active", "brand_colour": "#aa3300", "created_at": site["created_at"],
        })
    );

    let (_, page) = ops().get("/sites").await;
    assert_eq!(slugs(&page), ["acme", "initech"]);
    let (_, first) = ops().get("/sites?limit=1").await;
    assert_eq!(
        (slugs(&first), &first["next_cursor"]),
        (vec!["acme"], &json!("1"))
    );
    let (status, by_id) = ops().get(&format!("/sites/{id}")).await;
    assert_eq!((status, &by_id), (StatusCode::OK, &site));
    let (_, by_slug) = ops().get("/sites/initech").await;
    assert_eq!(by_slug, site);

    let (status, suspended) = ops().post("/sites/initech/suspend", Value::Null).await;
    assert_eq!(status, StatusCode::OK, "{suspended}");
    assert_eq!(suspended["status"], "suspended");
    let (_, resumed) = ops()
        .post(&format!("/sites/{id}/resume"), Value::Null)
        .await;
    assert_eq!(resumed["status"], "active");

    let (status, body) = ops().delete("/sites/initech").await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    let (status, body) = ops().get("/sites/initech").await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "not_found"));
}

#[actix_web::test]
async fn a_suspended_site_refuses_its_users_tokens_but_not_the_operator() {
    let t = ApiTest::new();
    let ops = || t.operator().at("/api/v1");
    ops().post("/sites/acme/suspend", Value::Null).await;
    let (status, body) = t.admin().get("/segments").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "forbidden"),
        "{body}"
    );
    let (status, _) = t.operator().get("/segments").await;
    assert_eq!(
        status,
        StatusCode::OK,
        "operators still reach a suspended site"
    );
    ops().post("/sites/acme/resume", Value::Null).await;
    assert_eq!(t.admin().get("/segments").await.0, StatusCode::OK);
}

#[actix_web::test]
async fn each_way_a_site_request_goes_wrong_has_its_own_status_and_writes_nothing() {
    let t = ApiTest::new();
    let ops = || t.operator().at("/api/v1");
    let admin = || t.admin().at("/api/v1");
    let before = (t.fx.snapshot(), registry_state(&t.fx));
    let new = json!({"slug": "x", "name": "X"});
    let cases = [
        (
            t.anonymous().at("/api/v1").get("/sites").await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        // A site user's token, even a site admin's, is no operator's.
        (
            admin().get("/sites").await,
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            admin().post("/sites", new.clone()).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            admin().get("/sites/acme").await,
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            admin().post("/sites/acme/suspend", Value::Null).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            admin().post("/sites/acme/resume", Value::Null).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            admin().delete("/sites/acme").await,
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            ops().get("/sites/nowhere").await,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            ops().post("/sites/nowhere/suspend", Value::Null).await,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            ops().delete("/sites/999").await,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            ops()
                .post("/sites", json!({"slug": "acme", "name": "Again"}))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "duplicate",
        ),
        (
            ops()
                .post(
                    "/sites",
                    json!({"slug": "x", "name": "X", "hostnames": ["acme.test"]}),
                )
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "duplicate",
        ),
        (
            ops()
                .post("/sites", json!({"slug": "Not A Slug", "name": "X"}))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            ops()
                .post(
                    "/sites",
                    json!({"slug": "x", "name": "X", "brand_colour": "red"}),
                )
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            ops().post("/sites", json!({"slug": "x"})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "missing_field",
        ),
        (
            ops().get("/sites?q=acme").await,
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
    ];
    for ((status, body), want_status, want_code) in cases {
        assert_eq!((status, code(&body)), (want_status, want_code), "{body}");
    }
    assert_eq!((t.fx.snapshot(), registry_state(&t.fx)), before);
}
