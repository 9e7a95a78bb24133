//! Installed plugins and the runtime that runs them.
//!
//! SKELETON (issue 4, first step): the bundled plugins are loaded lazily
//! from the bytes embedded in the binary and every site may use them. The
//! lifecycle work replaces this with the registry's install/enable/pin
//! records while keeping the signatures `Services::runtime`,
//! `Services::install_plugin` and `SiteServices::plugin`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use super::error::{ServiceError, ServiceResult};
use super::{Services, SiteServices};
use crate::runtime::{Plugin, PluginError, Runtime, RuntimeConfig};

mod bundled {
    include!(concat!(env!("OUT_DIR"), "/bundled_plugins.rs"));
}

/// The bundled plugins as `(crate name, component bytes)`.
pub fn bundled_components() -> &'static [(&'static str, &'static [u8])] {
    bundled::BUNDLED
}

/// The runtime (created on first use: hosts and tests that never run a
/// plugin pay nothing) and the plugins loaded into it, by id.
pub(crate) struct PluginCatalog {
    config: RuntimeConfig,
    runtime: OnceLock<Result<Runtime, String>>,
    loaded: Mutex<HashMap<String, Arc<Plugin>>>,
}

impl PluginCatalog {
    pub(crate) fn new(mut config: RuntimeConfig, data_dir: &std::path::Path) -> Self {
        if config.cache_dir.is_none() {
            config.cache_dir = Some(default_cache_dir(data_dir));
        }
        Self {
            config,
            runtime: OnceLock::new(),
            loaded: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn runtime(&self) -> ServiceResult<&Runtime> {
        self.runtime
            .get_or_init(|| Runtime::new(self.config.clone()).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| ServiceError::Internal(format!("the plugin runtime cannot start: {e}")))
    }
}

/// Compiled components are cached beside the data. Tests share one cache
/// in the temp dir so hundreds of temporary hosts compile each plugin once.
fn default_cache_dir(data_dir: &std::path::Path) -> PathBuf {
    if cfg!(test) {
        std::env::temp_dir().join("charon-test-plugin-cache")
    } else {
        data_dir.join("plugin-cache")
    }
}

impl PluginCatalog {
    fn insert(&self, bytes: &[u8]) -> ServiceResult<Arc<Plugin>> {
        let plugin = Arc::new(self.runtime()?.load(bytes).map_err(plugin_refused)?);
        self.loaded
            .lock()
            .map_err(|_| ServiceError::Internal("plugin catalog lock poisoned".into()))?
            .insert(plugin.manifest.id.clone(), plugin.clone());
        Ok(plugin)
    }

    fn loaded_plugin(&self, id: &str) -> ServiceResult<Arc<Plugin>> {
        if let Some(p) = self
            .loaded
            .lock()
            .map_err(|_| ServiceError::Internal("plugin catalog lock poisoned".into()))?
            .get(id)
        {
            return Ok(p.clone());
        }
        for (_, bytes) in bundled_components() {
            let plugin = self.insert(bytes)?;
            if plugin.manifest.id == id {
                return Ok(plugin);
            }
        }
        Err(ServiceError::not_found(format!("plugin {id:?}")))
    }
}

impl Services {
    pub fn runtime(&self) -> ServiceResult<&Runtime> {
        self.inner.plugins.runtime()
    }

    /// Loads a component and makes it available under its manifest id.
    /// SKELETON: no registry record, no authorisation yet.
    pub fn install_plugin(&self, bytes: &[u8]) -> ServiceResult<Arc<Plugin>> {
        self.inner.plugins.insert(bytes)
    }
}

impl SiteServices {
    /// The plugin an instance of this site runs for `id`.
    pub fn plugin(&self, id: &str) -> ServiceResult<Arc<Plugin>> {
        self.plugins.loaded_plugin(id)
    }

    pub fn runtime(&self) -> ServiceResult<&Runtime> {
        self.plugins.runtime()
    }
}

/// A component refused at install, as a service error.
pub(crate) fn plugin_refused(e: PluginError) -> ServiceError {
    match e {
        PluginError::Invalid(msg) => ServiceError::invalid("plugin", &msg),
        other => ServiceError::Internal(other.to_string()),
    }
}
