//! The on-disk cache of compiled components, keyed by the component's
//! SHA-256 and the engine's compatibility hash (wasmtime version, target
//! and settings), so a host upgrade never loads stale machine code.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

use super::PluginError;
use super::inspect::hex;

/// The engine's compatibility hash (target, CPU features, compiler flags,
/// the tunables that shape machine code such as memory reservation and
/// epoch interruption, and wasmtime's version) as 16 hex digits. SHA-256
/// rather than std's `DefaultHasher`, whose output may change between Rust
/// releases and would silently empty the cache on every toolchain bump.
pub fn engine_key(engine: &Engine) -> String {
    let mut h = ShaHasher(Sha256::new());
    engine.precompile_compatibility_hash().hash(&mut h);
    hex(&h.0.finalize()[..8])
}

struct ShaHasher(Sha256);

impl Hasher for ShaHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
    fn finish(&self) -> u64 {
        // Only `engine_key` reads this hasher, through `finalize`.
        let digest = self.0.clone().finalize();
        u64::from_le_bytes([
            digest[0], digest[1], digest[2], digest[3], digest[4], digest[5], digest[6], digest[7],
        ])
    }
}

/// Where the compiled form of the component with this SHA-256 is kept.
pub fn cache_path(engine: &Engine, dir: &Path, sha256: &str) -> PathBuf {
    dir.join(format!("{sha256}-{}.cwasm", engine_key(engine)))
}

/// The compiled component, and whether it came from the cache.
pub(crate) fn compile(
    engine: &Engine,
    cache_dir: Option<&Path>,
    sha256: &str,
    bytes: &[u8],
) -> Result<(Component, bool), PluginError> {
    let Some(dir) = cache_dir else {
        return Ok((fresh(engine, bytes)?, false));
    };
    let path = cache_path(engine, dir, sha256);
    match read_cached(engine, &path) {
        Ok(Some(component)) => return Ok((component, true)),
        Ok(None) => {}
        Err(why) => {
            tracing::warn!(path = %path.display(), "ignoring a cached compiled component: {why}")
        }
    }
    let component = fresh(engine, bytes)?;
    match component.serialize() {
        Ok(mut compiled) => {
            let digest = Sha256::digest(&compiled);
            compiled.extend_from_slice(&digest);
            if let Err(e) = write_atomically(dir, &path, &compiled) {
                tracing::warn!(path = %path.display(), "cannot cache a compiled component: {e}");
            }
        }
        Err(e) => tracing::warn!("cannot serialise a compiled component: {e:#}"),
    }
    Ok((component, false))
}

/// A cache file is the serialised component followed by the SHA-256 of
/// those bytes: wasmtime checks the header of what it deserialises but not
/// the machine code, which it would run as it is, so a file damaged on disk
/// must be caught here.
const DIGEST_LEN: usize = 32;

/// The cached component, `None` if there is none, or why the file cannot
/// be used (it is then compiled again and overwritten).
pub fn read_cached(engine: &Engine, path: &Path) -> Result<Option<Component>, String> {
    let data = match std::fs::read(path) {
        Ok(data) => data,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    let Some(split) = data.len().checked_sub(DIGEST_LEN) else {
        return Err("the file is truncated".into());
    };
    let (compiled, digest) = data.split_at(split);
    if Sha256::digest(compiled).as_slice() != digest {
        return Err("its checksum does not match: the file is damaged".into());
    }
    // SAFETY: the bytes are exactly what `Component::serialize` produced in
    // this host (the checksum proves they are unchanged since), under a
    // name that includes the engine's compatibility hash; wasmtime checks
    // that header again and refuses a mismatch.
    unsafe { Component::deserialize(engine, compiled) }
        .map(Some)
        .map_err(|e| format!("{e:#}"))
}

fn fresh(engine: &Engine, bytes: &[u8]) -> Result<Component, PluginError> {
    Component::new(engine, bytes)
        .map_err(|e| PluginError::Invalid(format!("the component does not compile: {e:#}")))
}

/// Writes to a temporary file and renames it into place, so a crash or a
/// concurrent loader never sees half a file. The cache lives in the
/// host's data dir, whose folders are `0700` and files `0600` (the host's
/// `storage::private`); this crate keeps to that rule on its own.
fn write_atomically(dir: &Path, path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut folder = std::fs::DirBuilder::new();
    folder.recursive(true);
    let mut file = std::fs::OpenOptions::new();
    file.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        folder.mode(0o700);
        file.mode(0o600);
    }
    folder.create(dir)?;
    let tmp = dir.join(format!(
        ".{}.tmp{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    let mut out = file.open(&tmp)?;
    out.write_all(data)?;
    drop(out);
    std::fs::rename(&tmp, path)
}
