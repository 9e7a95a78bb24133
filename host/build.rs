//! Builds every plugin crate of the workspace (`plugins/*`, the bundled
//! enrolment methods, and `tests/plugins/*`, the hostile and benchmark
//! plugins of the tests) from source into WebAssembly components, so both
//! README commands produce them on a fresh machine. The bundled ones are
//! embedded into the `charon` binary; the others are found by the tests
//! through `CHARON_PLUGIN_WASM_DIR`.
//!
//! The nested cargo uses its own folder of the shared target dir
//! (`target/plugins`): a nested cargo on the outer build's own folder would
//! wait forever for the lock the outer build holds.

use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-wasip2";

fn main() {
    if let Err(e) = run() {
        println!("cargo::error={e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let manifest_dir = PathBuf::from(env("CARGO_MANIFEST_DIR")?);
    let root = manifest_dir
        .parent()
        .ok_or("host/ has no parent")?
        .to_path_buf();
    for dir in [
        "plugins",
        "tests/plugins",
        "sdk/src",
        "sdk/contract",
        "sdk/wit",
        "sdk/Cargo.toml",
        "Cargo.lock",
    ] {
        println!("cargo::rerun-if-changed={}", root.join(dir).display());
    }
    println!("cargo::rerun-if-env-changed=CHARON_SKIP_PLUGIN_BUILD");

    let bundled = plugin_crates(&root.join("plugins"))?;
    let fixtures = plugin_crates(&root.join("tests/plugins"))?;
    let target_dir = target_dir()?.join("plugins");
    let wasm_dir = target_dir.join(TARGET).join("release");

    ensure_target()?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&root)
        .args(["build", "--release", "--target", TARGET, "--target-dir"])
        .arg(&target_dir);
    for (name, _) in bundled.iter().chain(&fixtures) {
        cmd.args(["-p", name]);
    }
    // What the outer build sets for its own target must not leak into the
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
    // Plugins ship without debug info: smaller components, faster loads.
    cmd.env("CARGO_PROFILE_RELEASE_DEBUG", "false")
        .env("CARGO_PROFILE_RELEASE_STRIP", "debuginfo");
    let status = cmd
        .status()
        .map_err(|e| format!("could not run cargo for the plugins: {e}"))?;
    if !status.success() {
        return Err(format!(
            "building the plugins for {TARGET} failed ({status}); see the output above"
        ));
    }

    let mut code = String::from(
        "/// The bundled plugins, built from `plugins/`: (crate name, component bytes).\n\
         pub const BUNDLED: &[(&str, &[u8])] = &[\n",
    );
    for (name, _) in &bundled {
        let file = wasm_dir.join(format!("{}.wasm", name.replace('-', "_")));
        if !file.is_file() {
            return Err(format!("{} was not built", file.display()));
        }
        code.push_str(&format!(
            "    ({name:?}, include_bytes!({:?})),\n",
            file.display().to_string()
        ));
    }
    code.push_str("];\n");
    let out = PathBuf::from(env("OUT_DIR")?).join("bundled_plugins.rs");
    std::fs::write(&out, code).map_err(|e| format!("writing {}: {e}", out.display()))?;
    println!(
        "cargo::rustc-env=CHARON_PLUGIN_WASM_DIR={}",
        wasm_dir.display()
    );
    Ok(())
}

fn env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("cargo did not set {name}"))
}

/// The shared target dir: `CARGO_TARGET_DIR`, or the one `OUT_DIR` is in
/// (`<target>/<profile>/build/<pkg>/out`).
fn target_dir() -> Result<PathBuf, String> {
    if let Ok(dir) = std::env::var("CARGO_TARGET_DIR") {
        return Ok(PathBuf::from(dir));
    }
    let out = PathBuf::from(env("OUT_DIR")?);
    out.ancestors()
        .nth(4)
        .map(Path::to_path_buf)
        .ok_or_else(|| format!("cannot find the target dir above {}", out.display()))
}

/// `(package name, folder)` of every crate directly under `dir`.
fn plugin_crates(dir: &Path) -> Result<Vec<(String, PathBuf)>, String> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(out);
    };
    for entry in entries.flatten() {
        let manifest = entry.path().join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else {
            continue;
        };
        let name = text
            .lines()
            .find_map(|l| {
                l.trim()
                    .strip_prefix("name = ")
                    .map(|v| v.trim_matches('"').to_owned())
            })
            .ok_or_else(|| format!("{} has no package name", manifest.display()))?;
        out.push((name, entry.path()));
    }
    out.sort();
    Ok(out)
}

/// Adds the wasm target with rustup when this toolchain lacks it.
fn ensure_target() -> Result<(), String> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let sysroot = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .map_err(|e| format!("could not run {rustc}: {e}"))?;
    let sysroot = PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim());
    if sysroot.join("lib/rustlib").join(TARGET).is_dir() {
        return Ok(());
    }
    println!("cargo::warning=adding the {TARGET} target with rustup (once)");
    let status = Command::new("rustup")
        .args(["target", "add", TARGET])
        .status()
        .map_err(|e| {
            format!("the {TARGET} target is missing and rustup could not run to add it: {e}")
        })?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`rustup target add {TARGET}` failed ({status})"))
    }
}
