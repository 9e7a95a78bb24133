//! The on-disk cache of compiled components, keyed by the component's
//! SHA-256 and the engine's compatibility hash (wasmtime version, target
//! and settings), so a host upgrade never loads stale machine code.

use std::hash::{Hash, Hasher};
use std::path::Path;

use wasmtime::Engine;
use wasmtime::component::Component;

use super::PluginError;

/// The engine's compatibility hash as hex.
pub(crate) fn engine_key(engine: &Engine) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    format!("{:016x}", h.finish())
}

pub(crate) fn compile(
    engine: &Engine,
    cache_dir: Option<&Path>,
    sha256: &str,
    bytes: &[u8],
) -> Result<Component, PluginError> {
    let Some(dir) = cache_dir else {
        return fresh(engine, bytes);
    };
    let path = dir.join(format!("{sha256}-{}.cwasm", engine_key(engine)));
    if path.is_file() {
        // SAFETY: the file is one this host wrote (below) into its own
        // data dir, named by the hash of the source and of the engine
        // settings that compiled it; wasmtime re-checks the engine
        // compatibility header and refuses a mismatch.
        match unsafe { Component::deserialize_file(engine, &path) } {
            Ok(component) => return Ok(component),
            Err(e) => {
                tracing::warn!(path = %path.display(), "ignoring an unusable compiled component: {e:#}")
            }
        }
    }
    let component = fresh(engine, bytes)?;
    match component.serialize() {
        Ok(compiled) => {
            if let Err(e) = write_atomically(dir, &path, &compiled) {
                tracing::warn!(path = %path.display(), "cannot cache a compiled component: {e}");
            }
        }
        Err(e) => tracing::warn!("cannot serialise a compiled component: {e:#}"),
    }
    Ok(component)
}

fn fresh(engine: &Engine, bytes: &[u8]) -> Result<Component, PluginError> {
    Component::new(engine, bytes)
        .map_err(|e| PluginError::Invalid(format!("the component does not compile: {e:#}")))
}

/// Writes to a temporary file and renames it into place, so a crash or a
/// concurrent loader never sees half a file.
fn write_atomically(dir: &Path, path: &Path, data: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.tmp{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::write(&tmp, data)?;
    std::fs::rename(&tmp, path)
}
