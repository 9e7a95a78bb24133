//! Builds a plugin crate for `wasm32-wasip2` from a test, the way the
//! host's `build.rs` builds the bundled ones.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, PoisonError};

use crate::Failure;
use crate::PluginError;

const TARGET: &str = "wasm32-wasip2";

/// Crates already built by this process: tests of one file share a build.
static BUILT: Mutex<BTreeMap<PathBuf, PathBuf>> = Mutex::new(BTreeMap::new());

/// Builds the plugin crate in `manifest_dir` (release, `wasm32-wasip2`)
/// and returns the path of its `.wasm`; panics with cargo's failure.
///
/// The component goes into the `plugins` folder of the target dir
/// (`$CARGO_TARGET_DIR`, else the one the running test binary is in):
/// a cargo of its own there never waits on the lock of the `cargo test`
/// that runs the test. The `wasm32-wasip2` target is added with rustup if
/// the toolchain lacks it. Each crate is built once per test process.
///
/// ```no_run
/// use charon_plugin_harness::{Harness, build_plugin};
/// let harness = Harness::load(build_plugin(env!("CARGO_MANIFEST_DIR")));
/// ```
pub fn build_plugin(manifest_dir: impl AsRef<Path>) -> PathBuf {
    let dir = manifest_dir.as_ref();
    try_build_plugin(dir)
        .unwrap_or_else(|e| panic!("building the plugin in {}: {e}", dir.display()))
}

/// [`build_plugin`], returning the failure instead of panicking.
///
/// ```
/// use charon_plugin_harness::try_build_plugin;
/// assert!(try_build_plugin("/no/such/crate").is_err());
/// ```
pub fn try_build_plugin(manifest_dir: impl AsRef<Path>) -> Result<PathBuf, Failure> {
    let dir = manifest_dir.as_ref();
    // Held for the whole build: concurrent tests of one binary wait for
    // the first one's build instead of starting cargo again.
    let mut built = BUILT.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(wasm) = built.get(dir) {
        return Ok(wasm.clone());
    }
    let manifest = dir.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest)
        .map_err(|e| fail(format!("cannot read {}: {e}", manifest.display())))?;
    let name = package_name(&text)
        .ok_or_else(|| fail(format!("{} has no [package] name", manifest.display())))?;
    let target_dir = target_dir()?.join("plugins");

    ensure_target()?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--release", "--target", TARGET, "--manifest-path"])
        .arg(&manifest)
        .arg("--target-dir")
        .arg(&target_dir);
    // What the outer build set for its own target must not leak into the
    // wasm build.
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "RUSTC_WORKSPACE_WRAPPER",
    ] {
        cmd.env_remove(var);
    }
    // As host/build.rs: no debug info, smaller components, faster loads.
    cmd.env("CARGO_PROFILE_RELEASE_DEBUG", "false")
        .env("CARGO_PROFILE_RELEASE_STRIP", "debuginfo");
    let out = cmd
        .output()
        .map_err(|e| fail(format!("could not run cargo: {e}")))?;
    if !out.status.success() {
        return Err(fail(format!(
            "`cargo build --release --target {TARGET}` failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    let wasm = target_dir
        .join(TARGET)
        .join("release")
        .join(format!("{}.wasm", name.replace('-', "_")));
    if !wasm.is_file() {
        return Err(fail(format!(
            "{} was not built: is the crate a `cdylib` (`[lib] crate-type = [\"cdylib\", \"rlib\"]`)?",
            wasm.display()
        )));
    }
    built.insert(dir.to_path_buf(), wasm.clone());
    Ok(wasm)
}

fn fail(message: String) -> Failure {
    Failure::Plugin(PluginError::Invalid(message))
}

/// The `name` of the `[package]` table of a Cargo.toml.
fn package_name(toml: &str) -> Option<String> {
    let mut in_package = false;
    for line in toml.lines().map(str::trim) {
        if line.starts_with('[') {
            in_package = line == "[package]";
        } else if in_package && let Some(value) = line.strip_prefix("name") {
            let value = value.trim_start().strip_prefix('=')?.trim();
            return Some(value.trim_matches(|c| c == '"' || c == '\'').to_owned());
        }
    }
    None
}

/// `$CARGO_TARGET_DIR`, else the target dir the running test binary is in
/// (`<target>/<profile>/deps/<test>`).
fn target_dir() -> Result<PathBuf, Failure> {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return Ok(PathBuf::from(dir));
    }
    let exe =
        std::env::current_exe().map_err(|e| fail(format!("cannot find the running test: {e}")))?;
    exe.ancestors()
        .find(|dir| dir.file_name().is_some_and(|n| n == "deps"))
        .and_then(|deps| deps.parent()?.parent())
        .map(Path::to_path_buf)
        .ok_or_else(|| {
            fail(format!(
                "cannot find the target dir above {}; set CARGO_TARGET_DIR",
                exe.display()
            ))
        })
}

/// Adds the wasm target with rustup when this toolchain lacks it.
fn ensure_target() -> Result<(), Failure> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let sysroot = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .map_err(|e| fail(format!("could not run {rustc}: {e}")))?;
    let sysroot = PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim());
    if sysroot.join("lib/rustlib").join(TARGET).is_dir() {
        return Ok(());
    }
    let status = Command::new("rustup")
        .args(["target", "add", TARGET])
        .status()
        .map_err(|e| {
            fail(format!(
                "the {TARGET} target is missing and rustup could not run to add it: {e}"
            ))
        })?;
    if status.success() {
        Ok(())
    } else {
        Err(fail(format!(
            "`rustup target add {TARGET}` failed ({status})"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_package_name_is_read_from_its_table() {
        let toml = "[lib]\nname = \"inner\"\n\n[package]\nversion = \"1\"\nname = \"my-plugin\"\n";
        assert_eq!(package_name(toml).as_deref(), Some("my-plugin"));
        assert_eq!(package_name("[workspace]\nmembers = []\n"), None);
    }
}
