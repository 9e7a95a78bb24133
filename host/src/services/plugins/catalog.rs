//! The runtime, the components it has loaded (by SHA-256) and the folder
//! where installed components are kept.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use sha2::{Digest, Sha256};

use crate::domain::*;
use crate::runtime::{Plugin, PluginError, Runtime, RuntimeConfig};
use crate::services::error::{ServiceError, ServiceResult};

/// The runtime (created on first use: hosts and tests that never run a
/// plugin pay nothing), the loaded components by SHA-256, and where
/// components are stored.
pub(crate) struct PluginCatalog {
    config: RuntimeConfig,
    runtime: OnceLock<Result<Runtime, String>>,
    loaded: Mutex<HashMap<String, Arc<Plugin>>>,
    dir: PathBuf,
    /// Set once this process installed the bundled plugins; the lock also
    /// keeps two first uses from installing them twice.
    pub(super) bundled_installed: Mutex<bool>,
}

impl PluginCatalog {
    pub(crate) fn new(mut config: RuntimeConfig, data_dir: &Path) -> Self {
        if config.cache_dir.is_none() {
            config.cache_dir = Some(default_cache_dir(data_dir));
        }
        Self {
            config,
            runtime: OnceLock::new(),
            loaded: Mutex::new(HashMap::new()),
            dir: data_dir.join("plugins"),
            bundled_installed: Mutex::new(false),
        }
    }

    pub(crate) fn runtime(&self) -> ServiceResult<&Runtime> {
        self.runtime
            .get_or_init(|| Runtime::new(self.config.clone()).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| ServiceError::Internal(format!("the plugin runtime cannot start: {e}")))
    }

    fn cache(&self) -> ServiceResult<std::sync::MutexGuard<'_, HashMap<String, Arc<Plugin>>>> {
        self.loaded
            .lock()
            .map_err(|_| ServiceError::Internal("plugin catalog lock poisoned".into()))
    }

    /// Checks and loads a component offered for install.
    pub(super) fn load_offered(&self, bytes: &[u8]) -> ServiceResult<Arc<Plugin>> {
        let plugin = Arc::new(self.runtime()?.load(bytes).map_err(plugin_refused)?);
        self.cache()?.insert(plugin.sha256.clone(), plugin.clone());
        Ok(plugin)
    }

    /// The component of an installed version, from memory or from
    /// `DATA/plugins/`.
    pub(super) fn load_installed(&self, v: &PluginVersion) -> ServiceResult<Arc<Plugin>> {
        if let Some(p) = self.cache()?.get(&v.sha256) {
            return Ok(p.clone());
        }
        let path = self.component_path(&v.sha256);
        let bytes = std::fs::read(&path).map_err(|e| {
            ServiceError::Internal(format!(
                "the component of plugin {:?} {} cannot be read from {}: {e}; install it again",
                v.id,
                v.version,
                path.display()
            ))
        })?;
        if sha256_hex(&bytes) != v.sha256 {
            return Err(ServiceError::Internal(format!(
                "{} does not hold plugin {:?} {} (its SHA-256 differs); install it again",
                path.display(),
                v.id,
                v.version
            )));
        }
        let plugin = Arc::new(self.runtime()?.load(&bytes).map_err(|e| {
            ServiceError::Internal(format!(
                "plugin {:?} {} no longer loads: {e}",
                v.id, v.version
            ))
        })?);
        self.cache()?.insert(v.sha256.clone(), plugin.clone());
        Ok(plugin)
    }

    fn component_path(&self, sha256: &str) -> PathBuf {
        self.dir.join(format!("{sha256}.wasm"))
    }

    /// Writes a component under its hash (through a temporary file, so a
    /// crash never leaves half a component under the final name).
    pub(super) fn store_component(&self, sha256: &str, bytes: &[u8]) -> ServiceResult<()> {
        let io = |path: &Path, e: std::io::Error| {
            ServiceError::Storage(crate::storage::StorageError::Io {
                path: path.display().to_string(),
                source: e,
            })
        };
        let path = self.component_path(sha256);
        if std::fs::metadata(&path).is_ok_and(|m| m.len() == bytes.len() as u64) {
            return Ok(());
        }
        crate::storage::private::create_private_dir(&self.dir)?;
        let tmp = self.dir.join(format!("{sha256}.wasm.tmp"));
        let mut file = crate::storage::private::private_file_options()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)
            .map_err(|e| io(&tmp, e))?;
        file.write_all(bytes).map_err(|e| io(&tmp, e))?;
        file.sync_all().map_err(|e| io(&tmp, e))?;
        drop(file);
        std::fs::rename(&tmp, &path).map_err(|e| io(&path, e))
    }

    /// Forgets and deletes an uninstalled component (best effort: the
    /// registry no longer names it, so a leftover file is harmless).
    pub(super) fn remove_component(&self, sha256: &str) {
        if let Ok(mut cache) = self.cache() {
            cache.remove(sha256);
        }
        let path = self.component_path(sha256);
        if let Err(e) = std::fs::remove_file(&path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(file = %path.display(), error = %e, "could not remove an uninstalled plugin component");
        }
    }
}

/// Compiled components are cached beside the data. Tests share one cache
/// in the temp dir so hundreds of temporary hosts compile each plugin once.
fn default_cache_dir(data_dir: &Path) -> PathBuf {
    if cfg!(test) {
        std::env::temp_dir().join("charon-test-plugin-cache")
    } else {
        data_dir.join("plugin-cache")
    }
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A component refused at install, as a service error. A component that
/// misbehaves while describing itself is as unusable as a malformed one.
fn plugin_refused(e: PluginError) -> ServiceError {
    match e {
        PluginError::Host(_) => ServiceError::Internal(e.to_string()),
        other => ServiceError::invalid("plugin", other.to_string()),
    }
}
