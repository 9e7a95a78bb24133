//! In-process HTTP tests: the real application (`http::app`) over a
//! populated site, without a socket; one test runs the whole
//! [`Application`] on port 0.

use actix_web::body::MessageBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::{StatusCode, header};
use actix_web::test::{self, TestRequest};
use serde_json::Value;

use super::{AppState, Application, Config, OperatorApiFile, app};
use crate::services::ServiceError;
use crate::services::segments::NewSegment;
use crate::services::testing::TestSite;
use crate::storage::StorageError;

/// Site "acme" of [`TestSite`] plus what the operator credential needs
/// (the first operator, from `first_run`), an empty second site "beta", an
/// invisible segment, and self enrolment on the course so that the public
/// home page lists it.
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
    fx.add_method("self");
    fx
}

fn state(fx: &TestSite) -> AppState {
    AppState::new(fx.services.clone())
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
async fn home_page_by_host_lists_courses_open_to_self_enrolment_and_no_segments() {
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
    // Segments are an admin's tool (departments, regions), not public.
    for hidden in ["HR", "Finance", "members", "Board of directors", "segment"] {
        assert!(!a.body.contains(hidden), "{hidden:?} shown: {}", a.body);
    }
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
    assert!(a.body.contains("No course is open to self enrolment."));
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

// ------------------------------------------------------------ application

#[actix_web::test]
async fn application_serves_on_port_0_writes_the_operator_api_file_and_stops_on_request() {
    let fx = fixture();
    let mut config = Config::new(fx.dir.path(), "127.0.0.1:0");
    config.workers = Some(1);
    let app = Application::build_with_services(config, fx.services.clone()).expect("build");
    let port = app.port();
    assert_ne!(port, 0);
    let file = OperatorApiFile::read(fx.dir.path())
        .expect("readable")
        .expect("operator API file written");
    assert_eq!(file.addr.port(), port);
    assert_eq!(file.pid, std::process::id());
    assert_eq!(
        Some(file.token.as_str()),
        app.operator_credential().map(|c| c.secret())
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(OperatorApiFile::path(fx.dir.path()))
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
            .get(format!("{url}/api/v1/sites"))
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
    assert_eq!(sites["items"].as_array().map(Vec::len), Some(2), "{sites}");

    stop.stop();
    running.await.expect("joined").expect("graceful stop");
    assert_eq!(
        OperatorApiFile::read(fx.dir.path()).expect("readable"),
        None,
        "the operator API file goes with the server"
    );
}

#[actix_web::test]
async fn idle_site_files_are_closed_while_the_server_runs() {
    let fx = fixture();
    let mut config = Config::new(fx.dir.path(), "127.0.0.1:0");
    config.workers = Some(1);
    config.operator_api_file = false;
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
