//! In-process HTTP tests: the real application (`http::app`) over a
//! populated site, without a socket; one test runs the whole
//! [`Application`] on port 0.

use actix_web::body::MessageBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::{StatusCode, header};
use actix_web::test::{self, TestRequest};
use serde_json::{Value, json};

use super::{AppState, Application, Config, ControlFile, ControlToken, ErrorBody, app};
use crate::domain::SiteStatus;
use crate::services::ServiceError;
use crate::services::segments::NewSegment;
use crate::services::testing::TestSite;
use crate::storage::StorageError;

const TOKEN: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// Site "acme" of [`TestSite`] plus what the control API needs (the first
/// operator, from `first_run`), an empty second site "beta", and an
/// invisible segment the home page must not show.
fn fixture() -> TestSite {
    let fx = TestSite::new();
    fx.services.first_run().expect("first run");
    fx.services
        .create_site(
            &fx.operator,
            crate::services::sites::NewSite {
                slug: "beta".into(),
                name: "Beta".into(),
                hostnames: vec!["beta.test".into()],
                brand_colour: Some("#ffcc00".into()),
            },
        )
        .expect("second site");
    fx.site
        .create_segment(
            &fx.operator,
            NewSegment {
                name: "Board of directors".into(),
                idnumber: Some("board".into()),
                visible: false,
                ..Default::default()
            },
        )
        .expect("invisible segment");
    fx
}

fn state(fx: &TestSite) -> AppState {
    AppState::new(fx.services.clone()).with_control_token(ControlToken::new(TOKEN))
}

/// What a test looks at in a response.
struct Answer {
    status: StatusCode,
    headers: header::HeaderMap,
    body: String,
}

impl Answer {
    async fn read<B: MessageBody>(response: ServiceResponse<B>) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let body = test::read_body(response).await;
        Self {
            status,
            headers,
            body: String::from_utf8(body.to_vec()).expect("UTF-8 body"),
        }
    }

    fn header(&self, name: header::HeaderName) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("JSON body")
    }

    /// The JSON error document, checked for its shape.
    fn error(&self) -> ErrorBody {
        serde_json::from_str(&self.body).expect("a JSON error document")
    }
}

macro_rules! send {
    ($app:expr, $request:expr) => {
        Answer::read(test::call_service(&$app, $request.to_request()).await).await
    };
}

fn page(path: &str, host: &str) -> TestRequest {
    TestRequest::get()
        .uri(path)
        .insert_header((header::HOST, host))
}

/// A control request from this machine with the right token.
fn control(request: TestRequest) -> TestRequest {
    request
        .peer_addr("127.0.0.1:50000".parse().expect("address"))
        .insert_header((header::AUTHORIZATION, format!("Bearer {TOKEN}")))
}

// ------------------------------------------------------------------ pages

#[actix_web::test]
async fn healthz_answers_ok_in_plain_text_without_a_site() {
    let fx = fixture();
    let app = test::init_service(app(state(&fx))).await;
    let a = send!(app, page("/healthz", "nowhere.test"));
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body, "ok");
    assert!(a.header(header::CONTENT_TYPE).starts_with("text/plain"));
}

#[actix_web::test]
async fn home_page_by_host_lists_courses_and_visible_segments_with_member_counts() {
    let fx = fixture();
    let app = test::init_service(app(state(&fx))).await;
    // The port is not part of the host name.
    let a = send!(app, page("/", "acme.test:8080"));
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.header(header::CONTENT_TYPE).starts_with("text/html"));
    assert!(a.body.contains("<html lang=\"en\">"));
    assert!(a.body.contains("<h1>acme LMS</h1>"), "site name as heading");
    assert!(a.body.contains("--brand: #1f5f8b"), "branding colour");
    assert!(a.body.contains("Compliance 101"));
    assert!(a.body.contains("COMP101"));
    assert!(a.body.contains("HR"));
    assert!(a.body.contains("3 members"));
    assert!(a.body.contains("Finance"));
    assert!(a.body.contains("2 members"));
    assert!(
        !a.body.contains("Board of directors"),
        "invisible segment shown"
    );
    assert!(a.body.contains("href=\"/\""), "links stay on the host form");
}

#[actix_web::test]
async fn home_page_by_prefix_serves_the_same_page_whatever_the_host() {
    let fx = fixture();
    let app = test::init_service(app(state(&fx))).await;
    let by_host = send!(app, page("/", "acme.test"));
    let by_prefix = send!(app, page("/s/acme/", "localhost"));
    assert_eq!(by_prefix.status, StatusCode::OK);
    assert!(
        by_prefix.body.contains("href=\"/s/acme/\""),
        "links stay under the prefix"
    );
    assert_eq!(
        by_prefix.body.replace("href=\"/s/acme/", "href=\"/"),
        by_host.body
    );
}

#[actix_web::test]
async fn a_light_brand_colour_gets_dark_header_text() {
    let fx = fixture();
    let app = test::init_service(app(state(&fx))).await;
    let a = send!(app, page("/", "beta.test"));
    assert!(a.body.contains("--brand: #ffcc00; --brand-text: #000000;"));
    assert!(a.body.contains("No courses yet."));
}

#[actix_web::test]
async fn prefix_without_trailing_slash_redirects_to_the_folder() {
    let fx = fixture();
    let app = test::init_service(app(state(&fx))).await;
    let a = send!(app, page("/s/acme", "localhost"));
    assert_eq!(a.status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(a.header(header::LOCATION), "/s/acme/");
}

#[actix_web::test]
async fn unknown_sites_and_paths_get_a_404_page_in_the_layout() {
    let fx = fixture();
    let app = test::init_service(app(state(&fx))).await;
    for (path, host, says) in [
        (
            "/",
            "nowhere.test",
            "No site on this server answers to “nowhere.test”.",
        ),
        (
            "/s/nowhere/",
            "acme.test",
            "No site on this server answers to “/s/nowhere/”.",
        ),
        (
            "/no/such/page",
            "acme.test",
            "there is no page at this address",
        ),
    ] {
        let a = send!(app, page(path, host));
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{path} on {host}");
        assert!(a.header(header::CONTENT_TYPE).starts_with("text/html"));
        assert!(a.body.contains("<h1 id=\"error-heading\">Not found</h1>"));
        assert!(a.body.contains(says), "{path}: {}", a.body);
        assert!(
            a.body.contains("/static/charon.css"),
            "rendered in the base layout"
        );
    }
}

#[actix_web::test]
async fn a_suspended_site_answers_503_by_host_and_by_prefix() {
    let fx = fixture();
    fx.services
        .suspend_site(&fx.operator, "acme")
        .expect("suspend");
    let app = test::init_service(app(state(&fx))).await;
    for request in [page("/", "acme.test"), page("/s/acme/", "localhost")] {
        let a = send!(app, request);
        assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(a.body.contains("Site suspended"));
        assert!(a.body.contains("acme LMS is suspended"));
        assert!(!a.body.contains("Compliance 101"), "no content leaks");
    }
    // Other sites are unaffected.
    let a = send!(app, page("/", "beta.test"));
    assert_eq!(a.status, StatusCode::OK);
}

#[actix_web::test]
async fn the_stylesheet_is_served_with_a_versioned_link() {
    let fx = fixture();
    let app = test::init_service(app(state(&fx))).await;
    let home = send!(app, page("/", "acme.test"));
    let link = home
        .body
        .split("href=\"")
        .find_map(|s| s.strip_prefix("/static/charon.css"))
        .and_then(|s| s.split('"').next())
        .expect("stylesheet link");
    assert!(link.starts_with("?v="));
    let css = send!(app, page(&format!("/static/charon.css{link}"), "acme.test"));
    assert_eq!(css.status, StatusCode::OK);
    assert!(css.header(header::CONTENT_TYPE).starts_with("text/css"));
    assert!(css.body.contains(":focus-visible"));
}

#[actix_web::test]
async fn pages_carry_security_headers() {
    let fx = fixture();
    let app = test::init_service(app(state(&fx))).await;
    let a = send!(app, page("/", "acme.test"));
    assert_eq!(a.header(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
    assert!(
        a.header(header::CONTENT_SECURITY_POLICY)
            .contains("default-src 'none'")
    );
}

#[test]
fn service_errors_map_to_one_status_each_and_internals_stay_hidden() {
    use super::HttpError;
    let cases = [
        (ServiceError::Forbidden("no".into()), 403, "forbidden"),
        (ServiceError::NotFound("x".into()), 404, "not_found"),
        (
            ServiceError::Invalid {
                field: "name",
                message: "is required".into(),
            },
            422,
            "invalid",
        ),
        (
            ServiceError::Duplicate {
                field: "slug",
                message: "taken".into(),
            },
            422,
            "duplicate",
        ),
        (
            ServiceError::NotEnrolled {
                user: crate::domain::UserId(1),
                course: crate::domain::CourseId(2),
            },
            422,
            "not_enrolled",
        ),
        (ServiceError::Conflict("busy".into()), 409, "conflict"),
        (
            ServiceError::Storage(StorageError::Corrupt {
                table: "users",
                reason: "secret detail".into(),
            }),
            500,
            "internal",
        ),
    ];
    for (error, status, code) in cases {
        let e = HttpError::from(error);
        assert_eq!(e.status().as_u16(), status, "{e:?}");
        assert_eq!(e.code(), code);
        assert!(!e.public_message().contains("secret detail"));
    }
}

// ------------------------------------------------------------ control API

#[actix_web::test]
async fn control_api_refuses_requests_without_the_right_token() {
    let fx = fixture();
    let app = test::init_service(app(state(&fx))).await;
    let local = || {
        TestRequest::get()
            .uri("/control/v1/sites")
            .peer_addr("127.0.0.1:50000".parse().expect("address"))
    };
    for request in [
        local(),
        local().insert_header((header::AUTHORIZATION, "Bearer wrong")),
        local().insert_header((header::AUTHORIZATION, format!("Basic {TOKEN}"))),
        local().insert_header((header::AUTHORIZATION, format!("Bearer {TOKEN}x"))),
    ] {
        let a = send!(app, request);
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            a.header(header::WWW_AUTHENTICATE),
            "Bearer realm=\"charon-control\""
        );
        assert_eq!(a.error().error.code, "unauthorized");
        assert!(!a.body.contains("default"), "no data without the token");
    }
}

#[actix_web::test]
async fn control_api_answers_only_connections_from_this_machine() {
    let fx = fixture();
    let app = test::init_service(app(state(&fx))).await;
    let remote = TestRequest::get()
        .uri("/control/v1/sites")
        .peer_addr("203.0.113.9:40000".parse().expect("address"))
        .insert_header((header::AUTHORIZATION, format!("Bearer {TOKEN}")));
    let a = send!(app, remote);
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert_eq!(a.error().error.code, "not_local");
}

#[actix_web::test]
async fn without_a_control_token_the_control_api_does_not_exist() {
    let fx = fixture();
    let app = test::init_service(app(AppState::new(fx.services.clone()))).await;
    let a = send!(app, control(TestRequest::get().uri("/control/v1/sites")));
    assert_eq!(a.status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn control_api_lists_creates_suspends_resumes_and_deletes_sites() {
    let fx = fixture();
    let app = test::init_service(app(state(&fx))).await;

    let listed = send!(app, control(TestRequest::get().uri("/control/v1/sites")));
    assert_eq!(listed.status, StatusCode::OK);
    let slugs: Vec<String> = listed.json()["sites"]
        .as_array()
        .expect("sites")
        .iter()
        .map(|s| s["slug"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(slugs, ["acme", "beta"]);

    let created = send!(
        app,
        control(TestRequest::post().uri("/control/v1/sites")).set_json(json!({
            "slug": "globex",
            "name": "Globex Academy",
            "hostnames": ["learn.globex.test"]
        }))
    );
    assert_eq!(created.status, StatusCode::CREATED);
    assert_eq!(created.json()["slug"], "globex");
    assert_eq!(created.json()["status"], "active");
    let served = send!(app, page("/", "learn.globex.test"));
    assert!(served.body.contains("<h1>Globex Academy</h1>"));

    let suspended = send!(
        app,
        control(TestRequest::post().uri("/control/v1/sites/globex/suspend"))
    );
    assert_eq!(suspended.status, StatusCode::OK);
    assert_eq!(suspended.json()["status"], "suspended");
    let page_now = send!(app, page("/s/globex/", "localhost"));
    assert_eq!(page_now.status, StatusCode::SERVICE_UNAVAILABLE);

    let resumed = send!(
        app,
        control(TestRequest::post().uri("/control/v1/sites/globex/resume"))
    );
    assert_eq!(resumed.json()["status"], "active");
    let page_now = send!(app, page("/s/globex/", "localhost"));
    assert_eq!(page_now.status, StatusCode::OK);

    let deleted = send!(
        app,
        control(TestRequest::delete().uri("/control/v1/sites/globex"))
    );
    assert_eq!(deleted.status, StatusCode::OK);
    assert_eq!(deleted.json()["slug"], "globex");
    let page_now = send!(app, page("/s/globex/", "localhost"));
    assert_eq!(page_now.status, StatusCode::NOT_FOUND);
    let gone = fx.services.find_site(&fx.operator, "globex");
    assert!(matches!(gone, Err(ServiceError::NotFound(_))));
}

#[actix_web::test]
async fn control_api_errors_are_json_with_code_message_and_field() {
    let fx = fixture();
    let app = test::init_service(app(state(&fx))).await;

    let duplicate = send!(
        app,
        control(TestRequest::post().uri("/control/v1/sites"))
            .set_json(json!({"slug": "acme", "name": "Again"}))
    );
    assert_eq!(duplicate.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        duplicate.json(),
        json!({"error": {"code": "duplicate", "message": "a site \"acme\" already exists", "field": "slug"}})
    );

    let invalid = send!(
        app,
        control(TestRequest::post().uri("/control/v1/sites"))
            .set_json(json!({"slug": "Not a slug!", "name": "X"}))
    );
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(invalid.error().error.code, "invalid");
    assert_eq!(invalid.error().error.field.as_deref(), Some("slug"));

    let unknown = send!(
        app,
        control(TestRequest::post().uri("/control/v1/sites/nowhere/suspend"))
    );
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(
        unknown.json(),
        json!({"error": {"code": "not_found", "message": "site \"nowhere\" not found", "field": null}})
    );

    let malformed = send!(
        app,
        control(TestRequest::post().uri("/control/v1/sites"))
            .insert_header((header::CONTENT_TYPE, "application/json"))
            .set_payload("{\"slug\": ")
    );
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert_eq!(malformed.error().error.code, "bad_request");

    let unknown_field = send!(
        app,
        control(TestRequest::post().uri("/control/v1/sites"))
            .set_json(json!({"slug": "x", "name": "X", "owner": "me"}))
    );
    assert_eq!(unknown_field.status, StatusCode::BAD_REQUEST);

    let huge = send!(
        app,
        control(TestRequest::post().uri("/control/v1/sites")).set_json(json!({
            "slug": "big",
            "name": "x".repeat(64 * 1024)
        }))
    );
    assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(huge.error().error.code, "payload_too_large");

    let no_route = send!(app, control(TestRequest::get().uri("/control/v1/nothing")));
    assert_eq!(no_route.status, StatusCode::NOT_FOUND);
    assert_eq!(no_route.error().error.code, "not_found");
}

#[actix_web::test]
async fn control_api_reports_which_server_answers() {
    let fx = fixture();
    let app = test::init_service(app(state(&fx))).await;
    let a = send!(app, control(TestRequest::get().uri("/control/v1/status")));
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.json()["pid"], std::process::id());
}

// ------------------------------------------------------------ application

#[actix_web::test]
async fn application_serves_on_port_0_writes_the_control_file_and_stops_on_request() {
    let fx = fixture();
    let mut config = Config::new(fx.dir.path(), "127.0.0.1:0");
    config.workers = Some(1);
    let app = Application::build_with_services(config, fx.services.clone()).expect("build");
    let port = app.port();
    assert_ne!(port, 0);
    let file = ControlFile::read(fx.dir.path())
        .expect("readable")
        .expect("control file written");
    assert_eq!(file.addr.port(), port);
    assert_eq!(
        Some(file.token.as_str()),
        app.control_token().map(|t| t.as_str())
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(ControlFile::path(fx.dir.path()))
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "only the owner may read the token");
    }

    let stop = app.stop_handle();
    let running = actix_web::rt::spawn(app.run_until_stopped());
    let url = format!("http://127.0.0.1:{port}");
    let (health, sites) = tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .proxy(None)
            .http_status_as_error(false)
            .build()
            .into();
        let health = agent
            .get(format!("{url}/healthz"))
            .call()
            .expect("healthz")
            .body_mut()
            .read_to_string()
            .expect("body");
        let sites: Value = agent
            .get(format!("{url}/control/v1/sites"))
            .header("Authorization", format!("Bearer {}", file.token))
            .call()
            .expect("sites")
            .body_mut()
            .read_json()
            .expect("json");
        (health, sites)
    })
    .await
    .expect("client thread");
    assert_eq!(health, "ok");
    assert_eq!(sites["sites"].as_array().map(Vec::len), Some(2));

    stop.stop();
    running.await.expect("joined").expect("graceful stop");
    assert_eq!(
        ControlFile::read(fx.dir.path()).expect("readable"),
        None,
        "the control file goes with the server"
    );
}

#[actix_web::test]
async fn idle_site_files_are_closed_while_the_server_runs() {
    let fx = fixture();
    let mut config = Config::new(fx.dir.path(), "127.0.0.1:0");
    config.workers = Some(1);
    config.control_api = false;
    config.site_idle_after = std::time::Duration::ZERO;
    config.site_idle_check_every = std::time::Duration::from_millis(20);
    let app = Application::build_with_services(config, fx.services.clone()).expect("build");
    let url = format!("{}/s/beta/", app.url());
    let stop = app.stop_handle();
    let running = actix_web::rt::spawn(app.run_until_stopped());
    let status = tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder().proxy(None).build().into();
        agent.get(url).call().map(|r| r.status().as_u16())
    })
    .await
    .expect("client thread")
    .expect("GET /s/beta/");
    assert_eq!(status, 200);
    // Only acme stays open: the fixture holds a handle to it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while fx.services.open_site_count() > 1 && std::time::Instant::now() < deadline {
        actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(fx.services.open_site_count(), 1);
    stop.stop();
    running.await.expect("joined").expect("graceful stop");
}

#[actix_web::test]
async fn a_site_suspended_over_the_control_api_is_suspended_in_the_registry() {
    let fx = fixture();
    let app = test::init_service(app(state(&fx))).await;
    send!(
        app,
        control(TestRequest::post().uri("/control/v1/sites/acme/suspend"))
    );
    let site = fx.services.find_site(&fx.operator, "acme").expect("site");
    assert_eq!(site.status, SiteStatus::Suspended);
}

#[actix_web::test]
async fn control_api_creates_lists_and_revokes_api_tokens() {
    let fx = fixture();
    let app = test::init_service(app(state(&fx))).await;
    let created = send!(
        app,
        control(TestRequest::post().uri("/control/v1/tokens")).set_json(json!({
            "name": "HR sync",
            "target": {"site_user": {"site": "acme", "username": "admin"}}
        }))
    );
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
    assert_eq!(send!(app, api(&secret)).status, StatusCode::OK);

    let operator = send!(
        app,
        control(TestRequest::post().uri("/control/v1/tokens"))
            .set_json(json!({"name": "ops", "target": "operator"}))
    );
    assert_eq!(operator.status, StatusCode::CREATED, "{}", operator.body);
    assert!(operator.json()["token"]["scope"]["operator"].is_object());

    let names = |a: &Answer| -> Vec<String> {
        a.json()["tokens"]
            .as_array()
            .expect("tokens")
            .iter()
            .map(|t| t["name"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let all = send!(app, control(TestRequest::get().uri("/control/v1/tokens")));
    assert_eq!(names(&all), ["HR sync", "ops"]);
    assert!(!all.body.contains(&secret), "never the secret");
    let acme = send!(
        app,
        control(TestRequest::get().uri("/control/v1/tokens?site=acme"))
    );
    assert_eq!(names(&acme), ["HR sync"]);
    let beta = send!(
        app,
        control(TestRequest::get().uri("/control/v1/tokens?site=beta"))
    );
    assert_eq!(names(&beta), Vec::<String>::new());

    let revoked = send!(
        app,
        control(TestRequest::delete().uri(&format!("/control/v1/tokens/{id}")))
    );
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.body);
    assert!(revoked.json()["revoked_at"].is_number());
    assert_eq!(send!(app, api(&secret)).status, StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn control_api_token_errors_are_json() {
    let fx = fixture();
    let app = test::init_service(app(state(&fx))).await;
    let create = |target: Value| {
        control(TestRequest::post().uri("/control/v1/tokens"))
            .set_json(json!({"name": "x", "target": target}))
    };
    let cases = [
        (
            send!(
                app,
                create(json!({"site_user": {"site": "nowhere", "username": "admin"}}))
            ),
            StatusCode::NOT_FOUND,
        ),
        (
            send!(
                app,
                create(json!({"site_user": {"site": "acme", "username": "nobody"}}))
            ),
            StatusCode::NOT_FOUND,
        ),
        (send!(app, create(json!("root"))), StatusCode::BAD_REQUEST),
        (
            send!(
                app,
                control(TestRequest::get().uri("/control/v1/tokens?site=nowhere"))
            ),
            StatusCode::NOT_FOUND,
        ),
        (
            send!(
                app,
                control(TestRequest::get().uri("/control/v1/tokens?sites=acme"))
            ),
            StatusCode::BAD_REQUEST,
        ),
        (
            send!(
                app,
                control(TestRequest::delete().uri("/control/v1/tokens/999"))
            ),
            StatusCode::NOT_FOUND,
        ),
        (
            send!(
                app,
                control(TestRequest::delete().uri("/control/v1/tokens/abc"))
            ),
            StatusCode::NOT_FOUND,
        ),
    ];
    for (answer, status) in cases {
        assert_eq!(answer.status, status, "{}", answer.body);
        assert!(!answer.error().error.message.is_empty());
    }
    let all = fx.services.list_tokens(&fx.operator, None).expect("tokens");
    assert!(all.is_empty(), "nothing was created: {all:?}");
}
