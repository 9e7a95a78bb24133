//! End-to-end: the real `charon` binary on an empty data dir, driven over
//! HTTP and by a second `charon` process, then stopped with SIGTERM.

mod announcements;
pub(crate) mod api;
mod browser;
mod chromium;
mod department_move;
mod gradebook;
mod imports;
mod mail;
mod mass_enrol;
mod openapi_contract;
mod plugin_new;
mod plugins;
mod security;
mod support;
mod sync;
mod teaching;
mod walk;
mod walk_rules;

use anyhow::{Context, Result, ensure};
use serde_json::Value;

use support::{TestServer, arg, charon, charon_unread, operator_api_file};

#[test]
fn a_fresh_host_serves_its_default_site_answers_the_cli_and_stops_gracefully() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let d = arg(&data)?;

    // First start on an empty data dir: the operator's password, once.
    let server = TestServer::start(&data)?;
    let banner = server.banner.join("\n");
    let password = server.banner_word_after("one-time password: ")?;
    ensure!(banner.contains("username: admin"), "{banner}");
    ensure!(password.len() >= 16, "password {password:?}");
    ensure!(
        banner.contains(&format!("{}/s/default/", server.url)),
        "the default site's URL is printed: {banner}"
    );
    ensure!(
        operator_api_file(&data).exists(),
        "operator-api.json while serving"
    );

    let (status, body) = server.get("/healthz")?;
    ensure!(
        (status, body.as_str()) == (200, "ok"),
        "healthz: {status} {body}"
    );

    // 127.0.0.1 is a host name of the default site.
    let (status, body) = server.get("/")?;
    ensure!(status == 200, "home: {status}\n{}", server.stderr());
    ensure!(
        body.contains("<h1>Charon</h1>"),
        "default site's name: {body}"
    );

    // A second process reaches the data through the running server.
    let listed = charon(&["site", "list", "--data", d])?;
    ensure!(listed.status.success(), "site list: {}", listed.stderr);
    ensure!(
        listed
            .stdout
            .lines()
            .any(|l| l.split_whitespace().nth(1) == Some("default")),
        "site list shows the default site: {}",
        listed.stdout
    );

    let created = charon(&[
        "site",
        "create",
        "--data",
        d,
        "--slug",
        "acme",
        "--name",
        "Acme Academy",
    ])?;
    ensure!(created.status.success(), "site create: {}", created.stderr);
    let (status, body) = server.get("/s/acme/")?;
    ensure!(status == 200, "new site by prefix: {status}");
    ensure!(body.contains("<h1>Acme Academy</h1>"), "{body}");

    // A second server on the same data dir refuses, saying why.
    let second = charon(&["serve", "--data", d, "--listen", "127.0.0.1:0"])?;
    ensure!(!second.status.success(), "a second server must not start");
    ensure!(
        second.stderr.contains("open in another process"),
        "clear error: {}",
        second.stderr
    );

    // SIGTERM: a graceful stop, and the operator API file goes with it.
    let status = server.terminate()?;
    ensure!(status.success(), "exit status after SIGTERM: {status}");
    ensure!(
        !operator_api_file(&data).exists(),
        "operator-api.json removed"
    );

    // Without a server the CLI opens the data dir itself.
    let listed = charon(&["site", "list", "--data", d, "--json"])?;
    ensure!(
        listed.status.success(),
        "direct site list: {}",
        listed.stderr
    );
    let sites: Value = serde_json::from_str(&listed.stdout)?;
    let slugs: Vec<&str> = sites
        .as_array()
        .context("a JSON array")?
        .iter()
        .filter_map(|s| s["slug"].as_str())
        .collect();
    ensure!(slugs == ["default", "acme"], "sites: {slugs:?}");
    ensure!(
        !listed.stderr.contains("one-time password"),
        "no second operator is created"
    );
    Ok(())
}

/// `charon … | head`: a command whose reader went away ends quietly, killed
/// by SIGPIPE as Unix tools are, not with a panic on the closed pipe.
#[test]
fn a_command_whose_reader_went_away_ends_without_a_panic() -> Result<()> {
    use std::os::unix::process::ExitStatusExt;
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let d = arg(&data)?;
    let first = charon(&["site", "list", "--data", d])?;
    ensure!(first.status.success(), "site list: {}", first.stderr);
    for json in [false, true] {
        let mut args = vec!["site", "list", "--data", d];
        if json {
            args.push("--json");
        }
        let cut = charon_unread(&args)?;
        ensure!(!cut.stderr.contains("panicked"), "{args:?}: {}", cut.stderr);
        ensure!(
            cut.status.signal() == Some(13),
            "{args:?} ends by SIGPIPE, not {:?}: {}",
            cut.status,
            cut.stderr
        );
    }
    Ok(())
}

#[test]
fn the_demo_loads_once_whether_the_server_runs_or_not() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let d = arg(&data)?;

    // No server: the CLI sets the data dir up and loads the demo itself.
    let loaded = charon(&["demo", "--data", d])?;
    ensure!(loaded.status.success(), "demo: {}", loaded.stderr);
    ensure!(
        loaded.stdout.contains("demo loaded into site \"default\""),
        "{}",
        loaded.stdout
    );
    ensure!(
        loaded.stdout.contains("username siteadmin  password: "),
        "the site admin's password is printed: {}",
        loaded.stdout
    );
    ensure!(
        loaded.stderr.contains("one-time password"),
        "the operator created on the way is announced: {}",
        loaded.stderr
    );

    // serve --demo on a data dir that has it changes nothing.
    let server = TestServer::start_with(&data, &["--demo"])?;
    let banner = server.banner.join("\n");
    ensure!(banner.contains("the demo is already loaded"), "{banner}");
    ensure!(!banner.contains("one-time password"), "{banner}");
    let (status, body) = server.get("/")?;
    ensure!(status == 200, "home: {status}");
    ensure!(
        body.contains("Mandatory Compliance Training"),
        "the demo's course, open to self enrolment, on the home page"
    );
    // Segments and their counts are an admin's, not public (issue 16).
    for hidden in ["Operations", "120 members", "45 members"] {
        ensure!(!body.contains(hidden), "{hidden:?} on the public home page");
    }

    // Through the running server, still nothing new.
    let again = charon(&["demo", "--data", d, "--json"])?;
    ensure!(again.status.success(), "demo via server: {}", again.stderr);
    let report: Value = serde_json::from_str(&again.stdout)?;
    ensure!(report["users_created"] == 0, "{report}");
    ensure!(report["site_admin_password"].is_null(), "{report}");

    ensure!(server.terminate()?.success(), "graceful stop");
    Ok(())
}
