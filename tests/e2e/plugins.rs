//! `charon plugin …` against a running server: the CLI installs a
//! component through the operator API, and the server's registry shows it.

use anyhow::{Context, Result, ensure};
use serde_json::Value;

use crate::support::{TestServer, arg, charon};

/// A test component built by `host/build.rs` from `tests/plugins/noop`.
fn noop_wasm() -> std::path::PathBuf {
    std::path::Path::new(env!("CHARON_PLUGIN_WASM_DIR")).join("charon_test_noop.wasm")
}

#[test]
fn the_cli_installs_a_plugin_into_a_running_server_and_enables_it_on_a_site() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let d = arg(&data)?;
    let server = TestServer::start(&data)?;
    let wasm = noop_wasm();
    let file = wasm.to_str().context("wasm path is not UTF-8")?;

    let installed = charon(&["plugin", "install", file, "--data", d, "--json"])?;
    ensure!(
        installed.status.success(),
        "plugin install: {}\n{}",
        installed.stderr,
        server.stderr()
    );
    let v: Value = serde_json::from_str(&installed.stdout)?;
    ensure!(
        v["id"] == "noop" && v["version"] == "1.0.0",
        "installed: {v}"
    );
    let sha = v["sha256"].as_str().context("sha256")?;
    ensure!(
        data.join("plugins").join(format!("{sha}.wasm")).is_file(),
        "the component is kept in DATA/plugins"
    );

    let listed = charon(&["plugin", "list", "--data", d])?;
    ensure!(listed.status.success(), "plugin list: {}", listed.stderr);
    let rows: Vec<Vec<&str>> = listed
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    ensure!(
        rows.iter()
            .any(|r| r.first() == Some(&"noop") && r.get(1) == Some(&"1.0.0")),
        "plugin list shows noop: {}",
        listed.stdout
    );
    ensure!(
        rows.iter().any(|r| r.first() == Some(&"manual")
            && r.contains(&"bundled")
            && r.contains(&"default")),
        "the bundled manual plugin is enabled on the default site: {}",
        listed.stdout
    );

    let enabled = charon(&[
        "plugin", "enable", "--site", "default", "noop", "--data", d, "--json",
    ])?;
    ensure!(
        enabled.status.success(),
        "plugin enable: {}",
        enabled.stderr
    );
    let record: Value = serde_json::from_str(&enabled.stdout)?;
    ensure!(
        record["enabled"] == true && record["version"] == "1.0.0",
        "{record}"
    );

    // A broken file is refused with the reason, and changes nothing.
    let junk = dir.path().join("junk.wasm");
    std::fs::write(&junk, b"not wasm at all")?;
    let refused = charon(&["plugin", "install", arg(&junk)?, "--data", d])?;
    ensure!(!refused.status.success(), "junk was installed");
    ensure!(
        refused.stderr.contains("not WebAssembly"),
        "the reason is shown: {}",
        refused.stderr
    );
    let json = charon(&["plugin", "list", "--data", d, "--json"])?;
    let all: Value = serde_json::from_str(&json.stdout)?;
    ensure!(
        all.as_array().map(Vec::len) == Some(6),
        "the five bundled plugins and noop: {all}"
    );
    server.terminate()?;
    Ok(())
}
