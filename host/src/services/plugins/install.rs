//! Installing and uninstalling plugin versions (operators), listing them,
//! and the bundled plugins installed at every start, enabled on every site
//! that has no record of them and upgraded on every site that ran an older
//! bundled version.

use std::collections::HashMap;
use std::sync::Arc;

use super::pins::{changed_meanwhile, disable_methods_in};
use super::{
    InstalledPlugin, MAX_PLUGIN_BYTES, PluginSite, PluginsOverview, bundled_components, latest,
    require_operator, sha256_hex, version_key,
};
use crate::domain::*;
use crate::runtime::{Plugin, Runtime};
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::{Principal, Services};
use crate::storage::registry::RegistryRead;

/// Every installed version by id and then version, each with the sites
/// that pin it.
fn installed_versions(t: &impl RegistryRead) -> ServiceResult<Vec<InstalledPlugin>> {
    let sites: HashMap<SiteId, String> = t.sites()?.into_iter().map(|s| (s.id, s.slug)).collect();
    let mut versions = t.plugin_versions()?;
    versions.sort_by(|a, b| {
        (a.id.as_str(), version_key(&a.version)).cmp(&(b.id.as_str(), version_key(&b.version)))
    });
    let mut out = Vec::with_capacity(versions.len());
    for v in versions {
        let pins = t
            .plugin_sites(&v.id)?
            .into_iter()
            .filter(|p| p.version == v.version)
            .map(|p| PluginSite {
                slug: sites.get(&p.site).cloned().unwrap_or_default(),
                site: p.site,
                enabled: p.enabled,
            })
            .collect();
        out.push(InstalledPlugin {
            plugin: v,
            sites: pins,
        });
    }
    Ok(out)
}

/// What an offered component turned out to be.
enum Prepared {
    /// These bytes are installed already.
    Installed(Box<PluginVersion>),
    /// New bytes, checked by the runtime.
    Loaded(Arc<Plugin>),
}

fn version_taken(v: &PluginVersion) -> ServiceError {
    ServiceError::Conflict(format!(
        "plugin {:?} version {} is already installed with other contents (SHA-256 {}); \
         give the new build a new version",
        v.id, v.version, v.sha256
    ))
}

impl Services {
    pub fn runtime(&self) -> ServiceResult<&Runtime> {
        self.inner.plugins.runtime()
    }

    /// Installs a plugin component (operators). Checks it through the
    /// runtime (contract version, imports, `describe`, manifest); writes it
    /// to `DATA/plugins/{sha256}.wasm`, then records the version. The same
    /// bytes again return the installed version; other bytes with an
    /// installed id and version are a conflict (versions are immutable).
    pub fn install_plugin(&self, who: &Principal, bytes: &[u8]) -> ServiceResult<PluginVersion> {
        require_operator(who)?;
        self.install_component(who.actor(), bytes, false)
    }

    fn install_component(
        &self,
        actor: Actor,
        bytes: &[u8],
        bundled: bool,
    ) -> ServiceResult<PluginVersion> {
        match self.prepare_install(bytes)? {
            Prepared::Installed(v) => Ok(*v),
            Prepared::Loaded(plugin) => self.record_install(actor, &plugin, bytes, bundled),
        }
    }

    /// The installed version with exactly these bytes, or the component
    /// loaded and checked.
    fn prepare_install(&self, bytes: &[u8]) -> ServiceResult<Prepared> {
        if bytes.len() > MAX_PLUGIN_BYTES {
            return Err(ServiceError::invalid(
                "plugin",
                format!(
                    "the file is {} MiB; a plugin may be at most {} MiB",
                    bytes.len() >> 20,
                    MAX_PLUGIN_BYTES >> 20
                ),
            ));
        }
        let sha256 = sha256_hex(bytes);
        let known = self.registry().read(|t| {
            Ok::<_, ServiceError>(
                t.plugin_versions()?
                    .into_iter()
                    .find(|v| v.sha256 == sha256),
            )
        })?;
        if let Some(v) = known {
            // The file may have been lost (restored registry, cleaned dir).
            self.inner.plugins.store_component(&sha256, bytes)?;
            return Ok(Prepared::Installed(Box::new(v)));
        }
        Ok(Prepared::Loaded(self.inner.plugins.load_offered(bytes)?))
    }

    /// Stores a checked component and records its version; refused when
    /// its id and version are installed with other bytes.
    fn record_install(
        &self,
        actor: Actor,
        plugin: &Plugin,
        bytes: &[u8],
        bundled: bool,
    ) -> ServiceResult<PluginVersion> {
        let manifest = plugin.registry_manifest();
        let version = PluginVersion {
            id: manifest.id.clone(),
            version: manifest.version.clone(),
            name: manifest.name.clone(),
            description: manifest.description.clone(),
            contract: plugin.contract.clone(),
            sha256: plugin.sha256.clone(),
            size: bytes.len() as u64,
            manifest,
            installed_at: Timestamp::now(),
            installed_by: actor,
            bundled,
        };
        if let Some(existing) = self
            .registry()
            .read(|t| Ok::<_, ServiceError>(t.plugin_version(&version.id, &version.version)?))?
        {
            return Err(version_taken(&existing));
        }
        self.inner.plugins.store_component(&version.sha256, bytes)?;
        self.registry().write(|t| {
            if let Some(existing) = t.plugin_version(&version.id, &version.version)? {
                return Err(version_taken(&existing));
            }
            t.put_plugin_version(&version)?;
            Ok(())
        })?;
        tracing::info!(plugin = %version.id, version = %version.version, sha256 = %version.sha256, %actor, "plugin installed");
        Ok(version)
    }

    /// Every installed version and every site, read together (operators).
    pub fn plugins_overview(&self, who: &Principal) -> ServiceResult<PluginsOverview> {
        require_operator(who)?;
        let (versions, sites) = self
            .registry()
            .read(|t| Ok::<_, ServiceError>((installed_versions(t)?, t.sites()?)))?;
        let mut call_stats = Vec::new();
        let mut ids: Vec<&str> = versions.iter().map(|v| v.plugin.id.as_str()).collect();
        ids.dedup();
        for id in ids {
            for (version, stats) in self.runtime()?.call_stats(id) {
                call_stats.push(((id.to_owned(), version), stats));
            }
        }
        Ok(PluginsOverview {
            versions,
            sites,
            call_stats,
        })
    }

    /// Every installed version (operators), by id and then version, each
    /// with the sites that pin it.
    pub fn list_plugins(&self, who: &Principal) -> ServiceResult<Vec<InstalledPlugin>> {
        require_operator(who)?;
        self.registry().read(installed_versions)
    }

    /// The installed versions of one plugin (operators), oldest first.
    pub fn get_plugin(&self, who: &Principal, id: &str) -> ServiceResult<Vec<InstalledPlugin>> {
        let versions: Vec<InstalledPlugin> = self
            .list_plugins(who)?
            .into_iter()
            .filter(|p| p.plugin.id == id)
            .collect();
        if versions.is_empty() {
            return Err(ServiceError::not_found(format!("plugin {id:?}")));
        }
        Ok(versions)
    }

    /// What the calls of each version of plugin `id` cost and how they
    /// ended since the host started (operators): calls, failures, mean
    /// and longest duration, the last failure.
    pub fn plugin_call_stats(
        &self,
        who: &Principal,
        id: &str,
    ) -> ServiceResult<Vec<(String, crate::runtime::CallStats)>> {
        require_operator(who)?;
        Ok(self.runtime()?.call_stats(id))
    }

    /// Removes an installed version (operators) and its component file.
    /// Refused while a site has the plugin enabled at that version, unless
    /// `force`: then, on each such site, the plugin is disabled as a forced
    /// [`disable_plugin`](Self::disable_plugin) does (methods off, data
    /// kept); enabling it again later pins another installed version and
    /// re-checks the methods' configs. A version bundled with this
    /// binary cannot be uninstalled: the next start would install it again.
    pub fn uninstall_plugin(
        &self,
        who: &Principal,
        id: &str,
        version: &str,
        force: bool,
    ) -> ServiceResult<PluginVersion> {
        require_operator(who)?;
        let (installed, pins, sites) = self.registry().read(|t| {
            Ok::<_, ServiceError>((
                t.plugin_version(id, version)?,
                t.plugin_sites(id)?,
                t.sites()?,
            ))
        })?;
        let installed = installed.ok_or_else(|| {
            ServiceError::not_found(format!("version {version} of plugin {id:?}"))
        })?;
        if bundled_components()
            .iter()
            .any(|(_, bytes)| sha256_hex(bytes) == installed.sha256)
        {
            return Err(ServiceError::Conflict(format!(
                "plugin {id:?} {version} is bundled with this Charon and would be installed again at the next start"
            )));
        }
        let pinning: Vec<&Site> = pins
            .iter()
            .filter(|p| p.enabled && p.version == version)
            .filter_map(|p| sites.iter().find(|s| s.id == p.site))
            .collect();
        if !pinning.is_empty() && !force {
            return Err(ServiceError::Conflict(format!(
                "plugin {id:?} {version} is enabled on site(s) {}; upgrade or disable it there first, \
                 or force it to disable the plugin and its enrolment methods on those sites",
                pinning
                    .iter()
                    .map(|s| format!("{:?}", s.slug))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let now = Timestamp::now();
        self.registry().write(|t| {
            if t.plugin_version(id, version)?.as_ref() != Some(&installed) {
                return Err(changed_meanwhile(id));
            }
            for site in &pinning {
                if let Some(mut record) = t.site_plugin(site.id, id)? {
                    record.enabled = false;
                    record.changed_at = now;
                    t.put_site_plugin(&record)?;
                }
            }
            t.delete_plugin_version(id, version)?;
            Ok(())
        })?;
        let reason = format!("plugin {id:?} {version} uninstalled from the host");
        for site in pinning {
            self.site(site.id)?.write(|t| {
                disable_methods_in(t, who.actor(), id, &reason)?;
                t.audit_log(
                    who.actor(),
                    "plugin.disabled",
                    format!("plugin {id:?}"),
                    reason.clone(),
                )?;
                Ok(())
            })?;
        }
        self.inner.plugins.remove_component(&installed.sha256);
        tracing::info!(plugin = %id, %version, "plugin uninstalled");
        Ok(installed)
    }

    /// Installs every bundled plugin whose id and version are not
    /// installed, and enables each on every site that has no record of it
    /// (see the module doc). Runs at every start (from
    /// [`first_run`](Self::first_run)) and before the first site is created.
    /// Returns the versions it installed.
    pub fn install_bundled_plugins(&self) -> ServiceResult<Vec<PluginVersion>> {
        let mut done = self
            .inner
            .plugins
            .bundled_installed
            .lock()
            .map_err(|_| ServiceError::Internal("plugin catalog lock poisoned".into()))?;
        let mut installed = Vec::new();
        let mut current = Vec::new();
        for (name, bytes) in bundled_components() {
            let plugin = match self.prepare_install(bytes)? {
                Prepared::Installed(v) => {
                    current.push(*v);
                    continue;
                }
                Prepared::Loaded(plugin) => plugin,
            };
            let (id, version) = (&plugin.manifest.id, &plugin.manifest.version);
            match self
                .registry()
                .read(|t| Ok::<_, ServiceError>(t.plugin_version(id, version)?))?
            {
                Some(v) => {
                    // Installed with other bytes: a rebuild of a bundled
                    // plugin without a new version (development), or an
                    // operator's own build installed first. The installed
                    // bytes stay what the sites pinned to them run.
                    tracing::warn!(crate_name = %name, plugin = %id, %version, "a bundled plugin's version is installed with other contents; keeping the installed one");
                    current.push(v);
                }
                None => {
                    let v = self.record_install(Actor::System, &plugin, bytes, true)?;
                    installed.push(v.clone());
                    current.push(v);
                }
            }
        }
        for v in &current {
            let sites = self.registry().read(|t| {
                let mut out = Vec::new();
                for s in t.sites()? {
                    if t.site_plugin(s.id, &v.id)?.is_none() {
                        out.push(s);
                    }
                }
                Ok::<_, ServiceError>(out)
            })?;
            for site in sites {
                self.enable_bundled_on(&site, v)?;
            }
            self.upgrade_bundled_pins(v)?;
        }
        *done = true;
        Ok(installed)
    }

    /// Moves every site that runs an older *bundled* version of `v`'s
    /// plugin to `v`, as Moodle upgrades its standard plugins with a
    /// release: a bundled plugin is part of the Charon the operator
    /// upgraded, and its sites would otherwise run the old build (and the
    /// contract it speaks) for ever. A pin to a version an operator
    /// installed is theirs and stays; a disabled pin moves when it is
    /// enabled again (`enable_plugin`); a site whose methods' configs `v`
    /// refuses keeps its version, logged with the refusal, until the
    /// operator fixes them and upgrades.
    fn upgrade_bundled_pins(&self, v: &PluginVersion) -> ServiceResult<()> {
        let stale = self.registry().read(|t| {
            let mut out = Vec::new();
            for site in t.sites()? {
                let Some(pin) = t.site_plugin(site.id, &v.id)? else {
                    continue;
                };
                if !pin.enabled || version_key(&pin.version) >= version_key(&v.version) {
                    continue;
                }
                if t.plugin_version(&v.id, &pin.version)?
                    .is_some_and(|old| old.bundled)
                {
                    out.push((site, pin));
                }
            }
            Ok::<_, ServiceError>(out)
        })?;
        for (site, pin) in stale {
            let reason = format!(
                "bundled with Charon; upgraded from {} to {}",
                pin.version, v.version
            );
            match self.repin(Actor::System, site.id, &pin, v, reason) {
                Ok(_) => {
                    tracing::info!(site = %site.slug, plugin = %v.id, from = %pin.version, to = %v.version, "bundled plugin upgraded on the site")
                }
                Err(e @ (ServiceError::ConfigRejected { .. } | ServiceError::Conflict(_))) => {
                    tracing::warn!(site = %site.slug, plugin = %v.id, version = %pin.version, error = %e, "kept the site's older bundled version of the plugin")
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Installs the bundled plugins once per process, so a site created
    /// without a start (tests, tools) gets them too.
    pub(crate) fn ensure_bundled(&self) -> ServiceResult<()> {
        let done = *self
            .inner
            .plugins
            .bundled_installed
            .lock()
            .map_err(|_| ServiceError::Internal("plugin catalog lock poisoned".into()))?;
        if !done {
            self.install_bundled_plugins()?;
        }
        Ok(())
    }

    /// Enables the bundled plugins on a new site (called by `create_site`).
    pub(crate) fn enable_bundled_plugins(&self, site: &Site) -> ServiceResult<()> {
        let versions = self
            .registry()
            .read(|t| Ok::<_, ServiceError>(t.plugin_versions()?))?;
        let mut ids: Vec<&str> = versions
            .iter()
            .filter(|v| v.bundled)
            .map(|v| v.id.as_str())
            .collect();
        ids.dedup();
        for id in ids {
            let bundled: Vec<PluginVersion> = versions
                .iter()
                .filter(|v| v.id == id && v.bundled)
                .cloned()
                .collect();
            let has_record = self
                .registry()
                .read(|t| Ok::<_, ServiceError>(t.site_plugin(site.id, id)?.is_some()))?;
            if let (false, Some(v)) = (has_record, latest(&bundled)) {
                self.enable_bundled_on(site, v)?;
            }
        }
        Ok(())
    }

    fn enable_bundled_on(&self, site: &Site, v: &PluginVersion) -> ServiceResult<()> {
        let record = SitePlugin {
            site: site.id,
            plugin: v.id.clone(),
            enabled: true,
            version: v.version.clone(),
            changed_at: Timestamp::now(),
        };
        let added = self.registry().write(|t| {
            if t.site_plugin(site.id, &v.id)?.is_some() {
                return Ok::<_, ServiceError>(false);
            }
            t.put_site_plugin(&record)?;
            Ok(true)
        })?;
        if added {
            self.site(site.id)?.write(|t| {
                t.audit_log(
                    Actor::System,
                    "plugin.enabled",
                    format!("plugin {:?}", v.id),
                    format!("bundled with Charon; enabled at version {}", v.version),
                )?;
                Ok(())
            })?;
        }
        Ok(())
    }
}
