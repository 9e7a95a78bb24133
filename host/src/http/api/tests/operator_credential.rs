//! The loopback operator credential on the JSON API: the secret of this
//! process, from this machine only, acting as the operator at the console
//! on the operator routes the `charon` commands use.

use actix_web::http::{StatusCode, header};
use actix_web::test::TestRequest;
use serde_json::{Value, json};

use super::support::call;
use crate::domain::SiteStatus;
use crate::http::{AppState, OperatorCredential};
use crate::services::ServiceError;
use crate::services::sites::NewSite;
use crate::services::testing::TestSite;

/// Site "acme" of [`TestSite`], the first operator (from `first_run`,
/// whom the credential acts as), an empty second site "beta", and this
/// process's credential.
struct Console {
    fx: TestSite,
    credential: OperatorCredential,
}

/// What a test looks at in an answer.
struct Answer {
    status: StatusCode,
    headers: header::HeaderMap,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

impl Console {
    fn new() -> Self {
        let fx = TestSite::new();
        fx.services.first_run().expect("first run");
        fx.services
            .create_site(
                &fx.operator,
                NewSite {
                    slug: "beta".into(),
                    name: "Beta".into(),
                    hostnames: vec!["beta.test".into()],
                    brand_colour: Some("#ffcc00".into()),
                },
            )
            .expect("second site");
        Self {
            fx,
            credential: OperatorCredential::generate(),
        }
    }

    fn state(&self) -> AppState {
        AppState::new(self.fx.services.clone()).with_operator_credential(self.credential.clone())
    }

    /// `req` from this machine with the credential.
    fn local(&self, req: TestRequest) -> TestRequest {
        req.peer_addr("127.0.0.1:50000".parse().expect("address"))
            .insert_header((
                header::AUTHORIZATION,
                format!("Bearer {}", self.credential.secret()),
            ))
    }

    async fn send_to(&self, state: AppState, req: TestRequest) -> Answer {
        let (status, headers, body) = call(state, req).await;
        Answer {
            status,
            headers,
            body: String::from_utf8(body.to_vec()).expect("UTF-8 body"),
        }
    }

    async fn send(&self, req: TestRequest) -> Answer {
        self.send_to(self.state(), req).await
    }

    /// A page of a site, as a browser asks for it.
    async fn page(&self, path: &str, host: &str) -> Answer {
        self.send(
            TestRequest::get()
                .uri(path)
                .insert_header((header::HOST, host)),
        )
        .await
    }
}

#[actix_web::test]
async fn the_credential_is_refused_without_this_processs_secret() {
    let c = Console::new();
    let other_process = OperatorCredential::generate();
    let loopback = || {
        TestRequest::get()
            .uri("/api/v1/sites")
            .peer_addr("127.0.0.1:50000".parse().expect("address"))
    };
    let secret = c.credential.secret();
    for request in [
        loopback(),
        loopback().insert_header((header::AUTHORIZATION, "Bearer wrong")),
        loopback().insert_header((header::AUTHORIZATION, format!("Basic {secret}"))),
        loopback().insert_header((header::AUTHORIZATION, format!("Bearer {secret}x"))),
        loopback().insert_header((
            header::AUTHORIZATION,
            format!("Bearer {}", other_process.secret()),
        )),
    ] {
        let a = c.send(request).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{}", a.body);
        assert_eq!(
            a.headers
                .get(header::WWW_AUTHENTICATE)
                .and_then(|v| v.to_str().ok()),
            Some("Bearer realm=\"charon\"")
        );
        assert_eq!(a.code(), "unauthorized");
        assert!(!a.body.contains("acme"), "no data without the secret");
    }
}

#[actix_web::test]
async fn the_credential_answers_only_connections_from_this_machine() {
    let c = Console::new();
    let remote = c
        .local(TestRequest::get().uri("/api/v1/sites"))
        .peer_addr("203.0.113.9:40000".parse().expect("address"));
    let a = c.send(remote).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
    assert_eq!(a.code(), "not_local");
    assert!(!a.body.contains("acme"), "{}", a.body);

    // A proxy on this machine connects from loopback, for anyone.
    let relayed = c
        .local(TestRequest::get().uri("/api/v1/sites"))
        .insert_header(("X-Forwarded-For", "203.0.113.9"));
    let a = c.send(relayed).await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::FORBIDDEN, "not_local".into())
    );

    let a = c
        .send(c.local(TestRequest::get().uri("/api/v1/sites")))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
}

#[actix_web::test]
async fn without_a_credential_its_secret_opens_nothing() {
    let c = Console::new();
    let a = c
        .send_to(
            AppState::new(c.fx.services.clone()),
            c.local(TestRequest::get().uri("/api/v1/sites")),
        )
        .await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::UNAUTHORIZED, "unauthorized".into())
    );
}

#[actix_web::test]
async fn the_credential_lists_creates_suspends_resumes_and_deletes_sites() {
    let c = Console::new();
    let listed = c
        .send(c.local(TestRequest::get().uri("/api/v1/sites")))
        .await;
    assert_eq!(listed.status, StatusCode::OK);
    let slugs: Vec<String> = listed.json()["items"]
        .as_array()
        .expect("sites")
        .iter()
        .map(|s| s["slug"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(slugs, ["acme", "beta"]);

    let created = c
        .send(
            c.local(TestRequest::post().uri("/api/v1/sites"))
                .set_json(json!({
                    "slug": "globex",
                    "name": "Globex Academy",
                    "hostnames": ["learn.globex.test"]
                })),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.json()["slug"], "globex");
    assert_eq!(created.json()["status"], "active");
    let served = c.page("/", "learn.globex.test").await;
    assert!(served.body.contains("<h1>Globex Academy</h1>"));

    let suspended = c
        .send(c.local(TestRequest::post().uri("/api/v1/sites/globex/suspend")))
        .await;
    assert_eq!(suspended.status, StatusCode::OK);
    assert_eq!(suspended.json()["status"], "suspended");
    let site =
        c.fx.services
            .find_site(&c.fx.operator, "globex")
            .expect("site");
    assert_eq!(site.status, SiteStatus::Suspended, "in the registry");
    let page_now = c.page("/s/globex/", "localhost").await;
    assert_eq!(page_now.status, StatusCode::SERVICE_UNAVAILABLE);

    let resumed = c
        .send(c.local(TestRequest::post().uri("/api/v1/sites/globex/resume")))
        .await;
    assert_eq!(resumed.json()["status"], "active");
    let page_now = c.page("/s/globex/", "localhost").await;
    assert_eq!(page_now.status, StatusCode::OK);

    let deleted = c
        .send(c.local(TestRequest::delete().uri("/api/v1/sites/globex")))
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
    let page_now = c.page("/s/globex/", "localhost").await;
    assert_eq!(page_now.status, StatusCode::NOT_FOUND);
    let gone = c.fx.services.find_site(&c.fx.operator, "globex");
    assert!(matches!(gone, Err(ServiceError::NotFound(_))));
}

#[actix_web::test]
async fn refusals_to_the_credential_are_json_with_code_message_and_field() {
    let c = Console::new();
    let post_site = |body: Value| {
        c.local(TestRequest::post().uri("/api/v1/sites"))
            .set_json(body)
    };

    let duplicate = c
        .send(post_site(json!({"slug": "acme", "name": "Again"})))
        .await;
    assert_eq!(duplicate.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        duplicate.json(),
        json!({"error": {"code": "duplicate", "message": "a site \"acme\" already exists", "field": "slug"}})
    );

    let invalid = c
        .send(post_site(json!({"slug": "Not a slug!", "name": "X"})))
        .await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(invalid.code(), "invalid");
    assert_eq!(invalid.json()["error"]["field"], "slug");

    let unknown = c
        .send(c.local(TestRequest::post().uri("/api/v1/sites/nowhere/suspend")))
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(
        unknown.json(),
        json!({"error": {"code": "not_found", "message": "site \"nowhere\" not found", "field": null}})
    );

    let malformed = c
        .send(
            c.local(TestRequest::post().uri("/api/v1/sites"))
                .insert_header((header::CONTENT_TYPE, "application/json"))
                .set_payload("{\"slug\": "),
        )
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert_eq!(malformed.code(), "bad_request");

    let unknown_field = c
        .send(post_site(json!({"slug": "x", "name": "X", "owner": "me"})))
        .await;
    assert_eq!(
        (unknown_field.status, unknown_field.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "unknown_field".into())
    );
    assert_eq!(unknown_field.json()["error"]["field"], "owner");

    let huge = c
        .send(post_site(json!({
            "slug": "big",
            "name": "x".repeat(crate::http::api::MAX_BODY + 1)
        })))
        .await;
    assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(huge.code(), "payload_too_large");

    let no_route = c
        .send(c.local(TestRequest::get().uri("/api/v1/nothing")))
        .await;
    assert_eq!(no_route.status, StatusCode::NOT_FOUND);
    assert_eq!(no_route.code(), "not_found");
}

#[actix_web::test]
async fn the_credential_reports_which_server_answers() {
    let c = Console::new();
    let a = c
        .send(c.local(TestRequest::get().uri("/api/v1/operator/status")))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.json()["pid"], std::process::id());
}

#[actix_web::test]
async fn the_credential_creates_lists_and_revokes_api_tokens() {
    let c = Console::new();
    let created = c
        .send(
            c.local(TestRequest::post().uri("/api/v1/sites/acme/tokens"))
                .set_json(json!({"name": "HR sync", "username": "admin"})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let secret = created.json()["secret"]
        .as_str()
        .expect("secret")
        .to_owned();
    let id = created.json()["token"]["id"].as_u64().expect("id");
    let api = |secret: &str| {
        TestRequest::get()
            .uri("/s/acme/api/v1/segments")
            .insert_header((header::AUTHORIZATION, format!("Bearer {secret}")))
    };
    assert_eq!(c.send(api(&secret)).await.status, StatusCode::OK);

    let operator = c
        .send(
            c.local(TestRequest::post().uri("/api/v1/operator/tokens"))
                .set_json(json!({"name": "ops"})),
        )
        .await;
    assert_eq!(operator.status, StatusCode::CREATED, "{}", operator.body);
    assert_eq!(operator.json()["token"]["acts_as"]["kind"], "operator");

    let names = |a: &Answer| -> Vec<String> {
        a.json()["items"]
            .as_array()
            .expect("tokens")
            .iter()
            .map(|t| t["name"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let all = c
        .send(c.local(TestRequest::get().uri("/api/v1/operator/tokens")))
        .await;
    assert_eq!(names(&all), ["HR sync", "ops"]);
    assert!(!all.body.contains(&secret), "never the secret");
    let acme = c
        .send(c.local(TestRequest::get().uri("/api/v1/sites/acme/tokens")))
        .await;
    assert_eq!(names(&acme), ["HR sync"]);
    let beta = c
        .send(c.local(TestRequest::get().uri("/api/v1/sites/beta/tokens")))
        .await;
    assert_eq!(names(&beta), Vec::<String>::new());

    let revoked = c
        .send(c.local(TestRequest::delete().uri(&format!("/api/v1/operator/tokens/{id}"))))
        .await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.body);
    assert!(revoked.json()["revoked_at"].is_number());
    assert_eq!(c.send(api(&secret)).await.status, StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn token_refusals_to_the_credential_are_json() {
    let c = Console::new();
    let create = |site: &str, body: Value| {
        c.local(TestRequest::post().uri(&format!("/api/v1/sites/{site}/tokens")))
            .set_json(body)
    };
    let cases = [
        (
            create("nowhere", json!({"name": "x", "username": "admin"})),
            StatusCode::NOT_FOUND,
        ),
        (
            create("acme", json!({"name": "x", "username": "nobody"})),
            StatusCode::NOT_FOUND,
        ),
        (
            create("acme", json!({"name": "x", "target": "root"})),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            c.local(TestRequest::get().uri("/api/v1/sites/nowhere/tokens")),
            StatusCode::NOT_FOUND,
        ),
        (
            c.local(TestRequest::get().uri("/api/v1/operator/tokens?sites=acme")),
            StatusCode::BAD_REQUEST,
        ),
        (
            c.local(TestRequest::delete().uri("/api/v1/operator/tokens/999")),
            StatusCode::NOT_FOUND,
        ),
        (
            c.local(TestRequest::delete().uri("/api/v1/operator/tokens/abc")),
            StatusCode::NOT_FOUND,
        ),
    ];
    for (request, status) in cases {
        let answer = c.send(request).await;
        assert_eq!(answer.status, status, "{}", answer.body);
        assert!(
            !answer.json()["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .is_empty()
        );
    }
    let all =
        c.fx.services
            .list_tokens(&c.fx.operator, None)
            .expect("tokens");
    assert!(all.is_empty(), "nothing was created: {all:?}");
}
