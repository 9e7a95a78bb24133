//! `charon plugin new` (issue 20): from an empty folder, the scaffolded
//! plugin's mock unit tests pass, it builds to a component, and
//! `charon plugin install` takes it. (Its harness tests, which compile
//! Charon's runtime, are timed in BENCHMARKS.md rather than rebuilt here.)

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use serde_json::Value;

use crate::support::{arg, charon, run};

/// A cold build of a small crate takes a minute or two on a CI machine.
const CARGO_TIMEOUT: Duration = Duration::from_secs(20 * 60);

/// `cargo ARGS` in `dir`, with a target dir of its own: the outer
/// `cargo test` holds the workspace's.
fn cargo(dir: &Path, target: &Path, args: &[&str]) -> Result<()> {
    let mut command = Command::new(env!("CARGO"));
    command
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        // The outer build's settings are not the author's.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET");
    let done = run(command, CARGO_TIMEOUT)?;
    ensure!(
        done.status.success(),
        "cargo {args:?} in {}: {}\n{}",
        dir.display(),
        done.stdout,
        done.stderr
    );
    Ok(())
}

#[test]
fn a_new_plugin_tests_builds_and_installs_as_written() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let plugin = dir.path().join("demo");
    let made = charon(&["plugin", "new", "demo", "--dir", arg(&plugin)?, "--json"])?;
    ensure!(made.status.success(), "plugin new: {}", made.stderr);
    let told: Value = serde_json::from_str(&made.stdout)?;
    let component = told["component"].as_str().context("component")?;

    // Its own target dir under the workspace's, kept between runs.
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/scaffolded");
    cargo(&plugin, &target, &["test", "--offline"])?;
    cargo(
        &plugin,
        &target,
        &[
            "build",
            "--offline",
            "--release",
            "--target",
            "wasm32-wasip2",
        ],
    )?;
    let built = target.join("wasm32-wasip2/release/demo.wasm");
    ensure!(
        component.ends_with("target/wasm32-wasip2/release/demo.wasm"),
        "{component}"
    );

    let data = dir.path().join("data");
    let installed = charon(&[
        "plugin",
        "install",
        arg(&built)?,
        "--data",
        arg(&data)?,
        "--json",
    ])?;
    ensure!(
        installed.status.success(),
        "plugin install: {}",
        installed.stderr
    );
    let v: Value = serde_json::from_str(&installed.stdout)?;
    ensure!(
        v["id"] == "demo" && v["version"] == "0.1.0" && v["contract"] == "0.4.0",
        "{v}"
    );

    // A second plugin of the same name is not written over the first.
    let again = charon(&["plugin", "new", "demo", "--dir", arg(&plugin)?])?;
    ensure!(
        !again.status.success() && again.stderr.contains("exists already"),
        "{}",
        again.stderr
    );
    Ok(())
}
