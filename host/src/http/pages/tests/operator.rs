//! Page tests of `operator`: sites and plugins, for operators only (the
//! route walk in `tests/mod.rs` checks that nobody else gets in).

use actix_web::cookie::Cookie;
use actix_web::http::{StatusCode, header};
use actix_web::test::TestRequest;

use super::methods::flash;
use super::{Answer, Pages, form_of};
use crate::domain::SiteStatus;
use crate::services::testing::test_plugin;

fn site_status(p: &Pages, slug: &str) -> Option<SiteStatus> {
    p.fx.services
        .list_sites(&p.fx.operator)
        .unwrap()
        .into_iter()
        .find(|s| s.slug == slug)
        .map(|s| s.status)
}

#[actix_web::test]
async fn the_operator_sees_every_site_with_its_counts_and_a_search() {
    let p = Pages::new();
    for path in ["/operator", "/operator/sites"] {
        let page = p.get(path, Some(&p.operator)).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
        assert!(
            page.body.contains("acme LMS") && page.body.contains("beta LMS"),
            "{}",
            page.body
        );
        assert!(page.body.contains(r#"href="/s/acme/dashboard""#));
        assert!(page.body.contains("acme.test"));
        assert!(
            page.body.contains(r#"<td class="num">7</td>"#),
            "admin, teacher and five learners"
        );
        assert!(page.body.contains("Active"));
    }
    let found = p.get("/operator/sites?q=beta", Some(&p.operator)).await;
    assert!(found.body.contains("beta LMS") && !found.body.contains("acme LMS"));
}

#[actix_web::test]
async fn an_operator_creates_a_site_and_bad_input_is_answered_on_the_form() {
    let p = Pages::new();
    let form = p.get("/operator/sites/new", Some(&p.operator)).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains(r#"<label for="f-slug">Slug"#));
    let token = p.csrf(&p.operator);

    let sites_before = p.fx.services.list_sites(&p.fx.operator).unwrap();
    let bad = form_of(&[
        ("csrf", &token),
        ("slug", "Not a slug!"),
        ("name", "Gamma"),
        ("hostnames", "gamma.test"),
        ("brand_colour", "#336699"),
    ]);
    let answer = p.post("/operator/sites", Some(&p.operator), &bad).await;
    answer.assert_shows(
        StatusCode::UNPROCESSABLE_ENTITY,
        r#"aria-describedby="f-slug-error""#,
    );
    assert!(answer.body.contains(r#"value="Gamma""#), "kept");
    let taken = form_of(&[
        ("csrf", &token),
        ("slug", "gamma"),
        ("name", "Gamma"),
        ("hostnames", "acme.test"),
    ]);
    let answer = p.post("/operator/sites", Some(&p.operator), &taken).await;
    answer.assert_shows(StatusCode::UNPROCESSABLE_ENTITY, "already routes to site");
    assert_eq!(
        p.fx.services.list_sites(&p.fx.operator).unwrap(),
        sites_before,
        "nothing written"
    );

    let good = form_of(&[
        ("csrf", &token),
        ("slug", "gamma"),
        ("name", "Gamma LMS"),
        ("hostnames", "gamma.test\r\nlms.gamma.test"),
        ("brand_colour", "#336699"),
    ]);
    let created = p.post("/operator/sites", Some(&p.operator), &good).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    assert_eq!(created.location(), "/operator/sites");
    assert_eq!(flash(&created), "Site “Gamma LMS” created at /s/gamma/.");
    let site = p.fx.services.find_site(&p.fx.operator, "gamma").unwrap();
    assert_eq!(site.hostnames, ["gamma.test", "lms.gamma.test"]);
    assert_eq!(site.brand_colour, "#336699");
}

#[actix_web::test]
async fn a_site_is_suspended_after_a_confirmation_resumed_and_deleted() {
    let p = Pages::new();
    let token = p.csrf(&p.operator);
    let confirm = p
        .get("/operator/sites/beta/suspend", Some(&p.operator))
        .await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(confirm.body.contains("Suspend site “beta LMS”?"));
    assert!(confirm.body.contains("Suspend site</button>"));
    let suspended = p
        .post(
            "/operator/sites/beta/suspend",
            Some(&p.operator),
            &format!("csrf={token}"),
        )
        .await;
    assert_eq!(suspended.status, StatusCode::SEE_OTHER);
    assert_eq!(flash(&suspended), "Site “beta LMS” is suspended.");
    assert_eq!(site_status(&p, "beta"), Some(SiteStatus::Suspended));
    let list = p.get("/operator/sites", Some(&p.operator)).await;
    assert!(list.body.contains("Suspended") && list.body.contains("Resume"));

    let resumed = p
        .post(
            "/operator/sites/beta/resume",
            Some(&p.operator),
            &format!("csrf={token}"),
        )
        .await;
    assert_eq!(resumed.status, StatusCode::SEE_OTHER);
    assert_eq!(site_status(&p, "beta"), Some(SiteStatus::Active));

    let file = p.fx.dir.path().join("sites").join("beta.redb");
    assert!(file.exists());
    let confirm = p
        .get("/operator/sites/beta/delete", Some(&p.operator))
        .await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(
        confirm.body.contains(&file.display().to_string()),
        "names the data file: {}",
        confirm.body
    );
    assert!(confirm.body.contains("7 users"));
    let deleted = p
        .post(
            "/operator/sites/beta/delete",
            Some(&p.operator),
            &format!("csrf={token}"),
        )
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER, "{}", deleted.body);
    assert_eq!(site_status(&p, "beta"), None);
    assert!(!file.exists());
}

#[actix_web::test]
async fn the_plugins_page_shows_versions_and_what_each_site_runs() {
    let p = Pages::new();
    let page = p.get("/operator/plugins", Some(&p.operator)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("User segment sync"));
    assert!(page.body.contains("noop"));
    assert!(page.body.contains("bundled"));
    assert!(page.body.contains("Plugins of acme LMS") && page.body.contains("Plugins of beta LMS"));
    assert!(
        page.body.contains("Enabled (1.0.0)") || page.body.contains("Enabled (0."),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains(r#"<label for="f-plugin">Plugin component (.wasm)"#)
    );
    // Each version's calls since the host started.
    assert!(page.body.contains("Calls since start"));
    assert!(page.body.contains("<td>No calls yet</td>"), "{}", page.body);
    p.fx.site
        .reconcile_method(&p.fx.admin, p.fx.manual, true)
        .unwrap();
    let page = p.get("/operator/plugins", Some(&p.operator)).await;
    assert!(page.body.contains("1 call; mean "), "{}", page.body);
}

#[actix_web::test]
async fn a_plugin_is_disabled_and_enabled_on_one_site() {
    let p = Pages::new();
    let token = p.csrf(&p.operator);
    let off = p
        .post(
            "/operator/sites/beta/plugins/noop/disable",
            Some(&p.operator),
            &format!("csrf={token}"),
        )
        .await;
    assert_eq!(off.status, StatusCode::SEE_OTHER, "{}", off.body);
    assert_eq!(flash(&off), "Plugin “noop” is disabled on the site.");
    assert!(p.beta.site.plugin("noop").is_err());
    assert!(p.fx.site.plugin("noop").is_ok(), "acme keeps it");
    let page = p.get("/operator/plugins", Some(&p.operator)).await;
    assert!(page.body.contains("Disabled (was"));

    let on = p
        .post(
            "/operator/sites/beta/plugins/noop/enable",
            Some(&p.operator),
            &format!("csrf={token}"),
        )
        .await;
    assert_eq!(on.status, StatusCode::SEE_OTHER);
    assert!(flash(&on).starts_with("Plugin “noop”"));
    assert!(p.beta.site.plugin("noop").is_ok());

    // A plugin the site has enrolment methods of stays, unless forced.
    let before = p.fx.snapshot();
    let refused = p
        .post(
            "/operator/sites/acme/plugins/manual/disable",
            Some(&p.operator),
            &format!("csrf={token}"),
        )
        .await;
    refused.assert_shows(StatusCode::UNPROCESSABLE_ENTITY, "delete them first");
    p.fx.assert_unchanged(&before);
    assert!(p.fx.site.plugin("manual").is_ok());
}

fn upload(p: &Pages, token: &str, file: &[u8]) -> TestRequest {
    let mut body = Vec::new();
    body.extend_from_slice(b"--b0undary\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n");
    body.extend_from_slice(token.as_bytes());
    body.extend_from_slice(b"\r\n--b0undary\r\nContent-Disposition: form-data; name=\"plugin\"; filename=\"p.wasm\"\r\nContent-Type: application/wasm\r\n\r\n");
    body.extend_from_slice(file);
    body.extend_from_slice(b"\r\n--b0undary--\r\n");
    TestRequest::post()
        .uri("/operator/plugins")
        .insert_header((
            header::CONTENT_TYPE,
            "multipart/form-data; boundary=b0undary",
        ))
        .cookie(Cookie::new("charon_operator", p.operator.clone()))
        .set_payload(body)
}

fn installed(p: &Pages, id: &str) -> bool {
    p.fx.services
        .list_plugins(&p.fx.operator)
        .unwrap()
        .iter()
        .any(|v| v.plugin.id == id)
}

#[actix_web::test]
async fn a_plugin_version_is_installed_from_an_upload() {
    let p = Pages::new();
    let token = p.csrf(&p.operator);
    let wrong: Answer = p
        .call(upload(&p, "wrong", &test_plugin("charon-test-capped-v1")))
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert!(!installed(&p, "capped"));

    let junk = p.call(upload(&p, &token, b"not a component")).await;
    junk.assert_shows(
        StatusCode::UNPROCESSABLE_ENTITY,
        r#"aria-describedby="f-plugin-error""#,
    );
    assert!(!installed(&p, "capped"));

    let ok = p
        .call(upload(&p, &token, &test_plugin("charon-test-capped-v1")))
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    assert_eq!(
        flash(&ok),
        "Plugin “Capped” 1.0.0 is installed. Enable it on the sites that should use it."
    );
    assert!(installed(&p, "capped"));
    let page = p.get("/operator/plugins", Some(&p.operator)).await;
    assert!(page.body.contains("Capped"));
    assert!(
        page.body
            .contains("/operator/sites/acme/plugins/capped/enable"),
        "it can be enabled per site"
    );
}
