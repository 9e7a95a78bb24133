//! Installed plugins: the versions the host holds, which plugin each site
//! may use (and which version its instances run), the components on disk,
//! and the runtime that runs them.
//!
//! - **Install** (operators) checks a component through
//!   [`Runtime::load`](crate::runtime::Runtime::load) (contract version,
//!   imports, `describe`, manifest), writes it content-addressed to
//!   `DATA/plugins/{sha256}.wasm`, then records the version in the
//!   registry. A later start loads it from there. The same bytes again are
//!   a no-op; other bytes under an installed id and version are refused.
//! - **Enable** on a site pins a version; the site's instances run that
//!   version until an operator **upgrades** the pin, which re-checks every
//!   instance's config with the new version first and changes nothing if
//!   one is refused. **Disable** and **uninstall** refuse while instances
//!   (or pins) depend on the plugin, unless forced (see each function).
//! - **Bundled** plugins (built from `plugins/` into the binary) are
//!   installed at every start when their id and version are not, and
//!   enabled on every site that has no record of them: new sites, the
//!   default site, sites of an older release, and every site when a newer
//!   Charon bundles a new plugin. A site's existing pin is never moved by a
//!   host upgrade: operators upgrade explicitly, site by site.
//!
//! Registry changes and a site's audit log live in different files, so a
//! plugin action is two transactions: the registry's first, then the
//! site's (its instances and its audit entry). Loaded components are kept
//! in memory by SHA-256, so a site's calls never reload them.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use sha2::{Digest, Sha256};

use super::auth::{Need, authorize};
use super::error::{ConfigFieldError, ServiceError, ServiceResult};
use super::{Principal, Services, SiteServices};
use crate::domain::*;
use crate::runtime::{Plugin, PluginError, Runtime, RuntimeConfig, wit};
use crate::storage::registry::RegistryRead;
use crate::storage::site::prelude::*;

mod bundled {
    include!(concat!(env!("OUT_DIR"), "/bundled_plugins.rs"));
}

/// The bundled plugins as `(crate name, component bytes)`.
pub fn bundled_components() -> &'static [(&'static str, &'static [u8])] {
    bundled::BUNDLED
}

/// Components larger than this are refused before they are read (the
/// runtime's own limit, so the API can refuse an upload early).
pub const MAX_PLUGIN_BYTES: usize = 32 << 20;

/// An installed version with the sites that pin it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct InstalledPlugin {
    pub plugin: PluginVersion,
    /// Every site whose record pins this version, enabled or not.
    pub sites: Vec<PluginSite>,
}

/// What the form of an instance offers (see
/// [`SiteServices::new_method_form`]).
#[derive(Clone, Debug, PartialEq)]
pub struct MethodForm {
    pub course: Course,
    /// The plugin's manifest at the site's pinned version: its config form.
    pub manifest: PluginManifest,
    /// Every segment of the site, for segment fields.
    pub segments: Vec<Segment>,
    /// The course's groups, for group fields.
    pub groups: Vec<CourseGroup>,
    /// The instance, when it exists.
    pub method: Option<EnrolmentMethod>,
}

/// The installed plugins and the sites that may use them: the operator's
/// plugins page.
#[derive(Clone, Debug, PartialEq)]
pub struct PluginsOverview {
    /// Every installed version, as [`Services::list_plugins`] lists them.
    pub versions: Vec<InstalledPlugin>,
    /// Every site, by id.
    pub sites: Vec<Site>,
}

/// A site's record of a plugin, with the site's slug.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct PluginSite {
    pub site: SiteId,
    pub slug: String,
    pub enabled: bool,
}

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
    bundled_installed: Mutex<bool>,
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
    fn load_offered(&self, bytes: &[u8]) -> ServiceResult<Arc<Plugin>> {
        let plugin = Arc::new(self.runtime()?.load(bytes).map_err(plugin_refused)?);
        self.cache()?.insert(plugin.sha256.clone(), plugin.clone());
        Ok(plugin)
    }

    /// The component of an installed version, from memory or from
    /// `DATA/plugins/`.
    fn load_installed(&self, v: &PluginVersion) -> ServiceResult<Arc<Plugin>> {
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
    fn store_component(&self, sha256: &str, bytes: &[u8]) -> ServiceResult<()> {
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
        std::fs::create_dir_all(&self.dir).map_err(|e| io(&self.dir, e))?;
        let tmp = self.dir.join(format!("{sha256}.wasm.tmp"));
        let mut file = std::fs::File::create(&tmp).map_err(|e| io(&tmp, e))?;
        file.write_all(bytes).map_err(|e| io(&tmp, e))?;
        file.sync_all().map_err(|e| io(&tmp, e))?;
        drop(file);
        std::fs::rename(&tmp, &path).map_err(|e| io(&path, e))
    }

    /// Forgets and deletes an uninstalled component (best effort: the
    /// registry no longer names it, so a leftover file is harmless).
    fn remove_component(&self, sha256: &str) {
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

/// `MAJOR.MINOR.PATCH` as numbers; the runtime refuses other versions at
/// install, so anything else sorts first.
fn version_key(v: &str) -> (u64, u64, u64) {
    let mut parts = v.split('.').map(|p| p.parse::<u64>().unwrap_or(0));
    (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    )
}

fn latest(versions: &[PluginVersion]) -> Option<&PluginVersion> {
    versions.iter().max_by_key(|v| version_key(&v.version))
}

/// A component refused at install, as a service error. A component that
/// misbehaves while describing itself is as unusable as a malformed one.
pub(crate) fn plugin_refused(e: PluginError) -> ServiceError {
    match e {
        PluginError::Host(_) => ServiceError::Internal(e.to_string()),
        other => ServiceError::invalid("plugin", other.to_string()),
    }
}

fn require_operator(who: &Principal) -> ServiceResult<()> {
    if who.is_operator() {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(
            "only an operator may manage plugins".into(),
        ))
    }
}

fn manifest_of(m: &wit::Manifest) -> PluginManifest {
    PluginManifest {
        id: m.id.clone(),
        name: m.name.clone(),
        version: m.version.clone(),
        description: m.description.clone(),
        config: m.config.iter().map(config_field).collect(),
        events: m.events.iter().map(|e| event_name(*e).to_owned()).collect(),
        capabilities: m
            .capabilities
            .iter()
            .map(|c| capability_name(*c).to_owned())
            .collect(),
    }
}

/// One field of a plugin's form (config or settings) as the host keeps it.
pub(crate) fn config_field(f: &wit::ConfigField) -> PluginConfigField {
    PluginConfigField {
        key: f.key.clone(),
        label: f.label.clone(),
        help: f.help.clone(),
        kind: field_kind(&f.kind),
        required: f.required,
        default: f.default.clone(),
    }
}

fn field_kind(k: &wit::FieldKind) -> PluginFieldKind {
    match k {
        wit::FieldKind::Text => PluginFieldKind::Text,
        wit::FieldKind::Multiline => PluginFieldKind::Multiline,
        wit::FieldKind::Secret => PluginFieldKind::Secret,
        wit::FieldKind::Integer((min, max)) => PluginFieldKind::Integer {
            min: *min,
            max: *max,
        },
        wit::FieldKind::Boolean => PluginFieldKind::Boolean,
        wit::FieldKind::Datetime => PluginFieldKind::Datetime,
        wit::FieldKind::Choice(choices) => PluginFieldKind::Choice {
            choices: choices
                .iter()
                .map(|c| PluginChoice {
                    value: c.value.clone(),
                    label: c.label.clone(),
                })
                .collect(),
        },
        wit::FieldKind::Segment => PluginFieldKind::Segment,
        wit::FieldKind::Group => PluginFieldKind::Group,
        wit::FieldKind::Role => PluginFieldKind::Role,
        wit::FieldKind::GroupTexts => PluginFieldKind::GroupTexts,
    }
}

/// The contract's name of an event kind.
fn event_name(e: wit::EventKind) -> &'static str {
    use wit::EventKind as K;
    match e {
        K::UserEnrolled => "user-enrolled",
        K::UserUnenrolled => "user-unenrolled",
        K::EnrolmentUpdated => "enrolment-updated",
        K::SegmentMemberAdded => "segment-member-added",
        K::SegmentMemberRemoved => "segment-member-removed",
        K::SegmentDeleted => "segment-deleted",
        K::GroupMemberAdded => "group-member-added",
        K::GroupMemberRemoved => "group-member-removed",
        K::GroupDeleted => "group-deleted",
        K::UserSuspended => "user-suspended",
        K::UserReactivated => "user-reactivated",
        K::UserDeleted => "user-deleted",
        K::InstanceAdded => "instance-added",
        K::InstanceEnabled => "instance-enabled",
        K::InstanceDisabled => "instance-disabled",
        K::InstanceUpdated => "instance-updated",
        K::InstanceDeleted => "instance-deleted",
    }
}

/// The contract's name of a capability.
fn capability_name(c: wit::Capability) -> &'static str {
    use wit::Capability as C;
    match c {
        C::ReadUsers => "read-users",
        C::ReadSegments => "read-segments",
        C::ReadEnrolments => "read-enrolments",
        C::ReadGroups => "read-groups",
        C::Clock => "clock",
    }
}

fn describe_instance(m: &EnrolmentMethod) -> String {
    format!("#{} {:?} in course #{}", m.id, m.name, m.course)
}

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

/// A config a plugin normalised, to write back over `before`.
struct Normalised {
    before: EnrolmentMethod,
    config: String,
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
        let manifest = manifest_of(&plugin.manifest);
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
        self.registry().read(|t| {
            Ok(PluginsOverview {
                versions: installed_versions(t)?,
                sites: t.sites()?,
            })
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

    /// Lets a site use a plugin (operators), pinned to `version` or, by
    /// default, to the version it was pinned to before (if still installed)
    /// or the latest installed. Enabling what is enabled at that version
    /// changes nothing; another version of an enabled plugin is an upgrade.
    /// When the site has instances of the plugin and the version changes
    /// (or the site had no record of it), every instance's config is
    /// re-checked with that version first, as [`upgrade_plugin`] does.
    /// Instances that a forced disable turned off stay off: their admins
    /// turn them on.
    ///
    /// [`upgrade_plugin`]: Self::upgrade_plugin
    pub fn enable_plugin(
        &self,
        who: &Principal,
        site_key: &str,
        id: &str,
        version: Option<&str>,
    ) -> ServiceResult<SitePlugin> {
        require_operator(who)?;
        let site = self.find_site(who, site_key)?;
        let (versions, existing) = self.registry().read(|t| {
            Ok::<_, ServiceError>((t.plugin_versions_of(id)?, t.site_plugin(site.id, id)?))
        })?;
        let target = match version {
            Some(v) => versions
                .iter()
                .find(|x| x.version == v)
                .ok_or_else(|| ServiceError::not_found(format!("version {v} of plugin {id:?}")))?,
            None => existing
                .as_ref()
                .and_then(|r| versions.iter().find(|x| x.version == r.version))
                .or_else(|| latest(&versions))
                .ok_or_else(|| ServiceError::not_found(format!("plugin {id:?}")))?,
        };
        if let Some(r) = &existing
            && r.enabled
        {
            if r.version == target.version {
                return Ok(r.clone());
            }
            return Err(ServiceError::Conflict(format!(
                "plugin {id:?} is already enabled on site {:?} at version {}; upgrade it to {} instead",
                site.slug, r.version, target.version
            )));
        }
        let services = self.site(site.id)?;
        let instances = services.instances_of(id)?;
        let repinned = existing
            .as_ref()
            .is_none_or(|r| r.version != target.version);
        let normalised = if repinned && !instances.is_empty() {
            let plugin = self.inner.plugins.load_installed(target)?;
            services.revalidate(&plugin, &instances)?
        } else {
            Vec::new()
        };
        let record = SitePlugin {
            site: site.id,
            plugin: id.to_owned(),
            enabled: true,
            version: target.version.clone(),
            changed_at: Timestamp::now(),
        };
        self.registry().write(|t| {
            if t.site_plugin(site.id, id)? != existing {
                return Err(changed_meanwhile(id));
            }
            t.put_site_plugin(&record)?;
            Ok(())
        })?;
        services.record_plugin_change(
            who.actor(),
            &normalised,
            false,
            "plugin.enabled",
            id,
            format!("enabled at version {}", target.version),
        )?;
        Ok(record)
    }

    /// Stops a site from using a plugin (operators). Refused while the site
    /// has instances of it, unless `force`: then every instance is
    /// disabled with it (status `disabled`; configs and enrolments kept),
    /// and its admins can turn them on again once the plugin is enabled.
    /// The pin is remembered for a later enable.
    pub fn disable_plugin(
        &self,
        who: &Principal,
        site_key: &str,
        id: &str,
        force: bool,
    ) -> ServiceResult<SitePlugin> {
        require_operator(who)?;
        let site = self.find_site(who, site_key)?;
        let existing = self
            .registry()
            .read(|t| Ok::<_, ServiceError>(t.site_plugin(site.id, id)?))?
            .ok_or_else(|| not_enabled(id, &site.slug))?;
        if !existing.enabled {
            return Ok(existing);
        }
        let services = self.site(site.id)?;
        let instances = services.instances_of(id)?;
        if !instances.is_empty() && !force {
            return Err(ServiceError::Conflict(format!(
                "site {:?} has {} enrolment method(s) of plugin {id:?} ({}); delete them first, \
                 or force it to disable them with the plugin (their settings and enrolments are kept)",
                site.slug,
                instances.len(),
                instances
                    .iter()
                    .map(describe_instance)
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let record = SitePlugin {
            enabled: false,
            changed_at: Timestamp::now(),
            ..existing.clone()
        };
        self.registry().write(|t| {
            if t.site_plugin(site.id, id)?.as_ref() != Some(&existing) {
                return Err(changed_meanwhile(id));
            }
            t.put_site_plugin(&record)?;
            Ok(())
        })?;
        let reason = format!("plugin {id:?} disabled on the site");
        services.write(|t| {
            disable_instances_in(t, who.actor(), id, &reason)?;
            t.audit_log(
                who.actor(),
                "plugin.disabled",
                format!("plugin {id:?}"),
                format!("disabled (was at version {})", existing.version),
            )?;
            Ok(())
        })?;
        Ok(record)
    }

    /// Moves a site's pin of a plugin to a newer installed version
    /// (operators). Every instance of the plugin on the site is checked
    /// with the new version first; if one config is refused, nothing
    /// changes and the error names the instance and the field. Otherwise
    /// the instances stay, with the configs the new version normalised,
    /// and each learns of the change through `instance-updated`.
    pub fn upgrade_plugin(
        &self,
        who: &Principal,
        site_key: &str,
        id: &str,
        version: &str,
    ) -> ServiceResult<SitePlugin> {
        require_operator(who)?;
        let site = self.find_site(who, site_key)?;
        let (target, existing) = self.registry().read(|t| {
            Ok::<_, ServiceError>((t.plugin_version(id, version)?, t.site_plugin(site.id, id)?))
        })?;
        let target = target.ok_or_else(|| {
            ServiceError::not_found(format!("version {version} of plugin {id:?}"))
        })?;
        let existing = match existing {
            Some(r) if r.enabled => r,
            _ => return Err(not_enabled(id, &site.slug)),
        };
        if version_key(&target.version) <= version_key(&existing.version) {
            return Err(ServiceError::invalid(
                "version",
                format!(
                    "{} is not newer than the version site {:?} runs ({}); only upgrades are supported",
                    target.version, site.slug, existing.version
                ),
            ));
        }
        let plugin = self.inner.plugins.load_installed(&target)?;
        let services = self.site(site.id)?;
        let instances = services.instances_of(id)?;
        let normalised = services.revalidate(&plugin, &instances)?;
        let record = SitePlugin {
            version: target.version.clone(),
            changed_at: Timestamp::now(),
            ..existing.clone()
        };
        self.registry().write(|t| {
            if t.site_plugin(site.id, id)?.as_ref() != Some(&existing) {
                return Err(changed_meanwhile(id));
            }
            t.put_site_plugin(&record)?;
            Ok(())
        })?;
        services.record_plugin_change(
            who.actor(),
            &normalised,
            true,
            "plugin.upgraded",
            id,
            format!("upgraded from {} to {}", existing.version, target.version),
        )?;
        Ok(record)
    }

    /// Removes an installed version (operators) and its component file.
    /// Refused while a site has the plugin enabled at that version, unless
    /// `force`: then, on each such site, the plugin is disabled as a forced
    /// [`disable_plugin`](Self::disable_plugin) does (instances off, data
    /// kept); enabling it again later pins another installed version and
    /// re-checks the instances' configs. A version bundled with this
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
                disable_instances_in(t, who.actor(), id, &reason)?;
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
        }
        *done = true;
        Ok(installed)
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

fn not_enabled(id: &str, slug: &str) -> ServiceError {
    ServiceError::Conflict(format!(
        "plugin {id:?} is not enabled on site {slug:?}; an operator enables it with \
         `charon plugin enable --site {slug} {id}`"
    ))
}

fn changed_meanwhile(id: &str) -> ServiceError {
    ServiceError::Conflict(format!(
        "the records of plugin {id:?} changed while this ran; try again"
    ))
}

/// Turns off every enabled instance of `plugin` in the site, auditing each.
fn disable_instances_in(
    t: &mut crate::storage::site::SiteTables<'_>,
    actor: Actor,
    plugin: &str,
    reason: &str,
) -> ServiceResult<()> {
    for course in t.all_courses()? {
        for mut m in t.course_methods_list(course.id)? {
            if m.plugin == plugin {
                disable_method_in(t, actor, &mut m, reason)?;
            }
        }
    }
    Ok(())
}

/// Disables `m` (audited, evented) unless it already is; whether it
/// changed. Its enrolments stay.
pub(crate) fn disable_method_in(
    t: &mut crate::storage::site::SiteTables<'_>,
    actor: Actor,
    m: &mut EnrolmentMethod,
    reason: &str,
) -> ServiceResult<bool> {
    if m.status == EnrolmentMethodStatus::Disabled {
        return Ok(false);
    }
    m.status = EnrolmentMethodStatus::Disabled;
    t.put_method(m)?;
    t.audit_log(
        actor,
        "method.disabled",
        format!("enrolment method #{}", m.id),
        reason.to_owned(),
    )?;
    t.emit(SiteEvent::MethodDisabled {
        course: m.course,
        method: m.id,
    })?;
    Ok(true)
}

impl SiteServices {
    /// The plugin an instance of this site runs for `id`: the component of
    /// the version the site pins. Refused when the plugin is not enabled on
    /// the site.
    pub fn plugin(&self, id: &str) -> ServiceResult<Arc<Plugin>> {
        self.enabled_plugin(id)?.map_err(ServiceError::Conflict)
    }

    /// The pinned component, or why there is none.
    fn enabled_plugin(&self, id: &str) -> ServiceResult<Result<Arc<Plugin>, String>> {
        let version = self.registry.read(|t| {
            Ok::<_, ServiceError>(match t.site_plugin(self.site.id, id)? {
                Some(r) if r.enabled => t.plugin_version(id, &r.version)?,
                _ => None,
            })
        })?;
        match version {
            Some(v) => Ok(Ok(self.plugins.load_installed(&v)?)),
            None => Ok(Err(format!(
                "no plugin {id:?} is enabled on site {:?}",
                self.site.slug
            ))),
        }
    }

    pub fn runtime(&self) -> ServiceResult<&Runtime> {
        self.plugins.runtime()
    }

    /// The plugins this site may use, with their manifests (the config
    /// form of each): site admins.
    pub fn site_plugins(&self, who: &Principal) -> ServiceResult<Vec<PluginManifest>> {
        self.read(|t| authorize(&self.site, t, who, Need::SiteAdmin).map(drop))?;
        self.enabled_manifests()
    }

    /// The manifests of the plugins enabled on the site, at the pinned
    /// versions. Authorisation is the caller's.
    pub(crate) fn enabled_manifests(&self) -> ServiceResult<Vec<PluginManifest>> {
        self.registry.read(|t| {
            let mut out = Vec::new();
            for r in t.site_plugins(self.site.id)? {
                if r.enabled
                    && let Some(v) = t.plugin_version(&r.plugin, &r.version)?
                {
                    out.push(v.manifest);
                }
            }
            Ok(out)
        })
    }

    /// What the form of a new instance of `plugin` in `course` offers: the
    /// plugin's config form, the site's segments and the course's groups
    /// to choose from. For those who may configure the course; refused as
    /// the `plugin` field when the site may not use the plugin.
    pub fn new_method_form(
        &self,
        who: &Principal,
        course: CourseId,
        plugin: &str,
    ) -> ServiceResult<MethodForm> {
        let (course, segments, groups) = self.read(|t| {
            authorize(&self.site, t, who, Need::ConfigureCourse(course))?;
            let course = super::courses::load_course(t, course)?;
            let groups = t.course_group_list(course.id)?;
            Ok((course, t.all_segments()?, groups))
        })?;
        let manifest = self.enabled_manifest(plugin)?;
        Ok(MethodForm {
            course,
            manifest,
            segments,
            groups,
            method: None,
        })
    }

    /// The form of an existing instance, as [`new_method_form`](Self::new_method_form),
    /// with the instance.
    pub fn method_form(&self, who: &Principal, id: EnrolmentMethodId) -> ServiceResult<MethodForm> {
        let (method, course, segments, groups) = self.read(|t| {
            super::auth::authorize_caller(&self.site, t, who)?;
            let method = super::enrolments::load_method(t, id)?;
            authorize(&self.site, t, who, Need::ConfigureCourse(method.course))?;
            let course = super::courses::load_course(t, method.course)?;
            let groups = t.course_group_list(course.id)?;
            Ok((method, course, t.all_segments()?, groups))
        })?;
        let manifest = self.enabled_manifest(&method.plugin)?;
        Ok(MethodForm {
            course,
            manifest,
            segments,
            groups,
            method: Some(method),
        })
    }

    /// The manifest of `plugin` at the version the site pins.
    fn enabled_manifest(&self, plugin: &str) -> ServiceResult<PluginManifest> {
        self.enabled_manifests()?
            .into_iter()
            .find(|m| m.id == plugin)
            .ok_or_else(|| {
                ServiceError::invalid(
                    "plugin",
                    format!(
                        "no plugin {plugin:?} is enabled on site {:?}",
                        self.site.slug
                    ),
                )
            })
    }

    /// The plugin `id` for a new or changed instance, refused as an input
    /// error (the `plugin` field) when the site may not use it.
    pub(crate) fn plugin_for_instance(&self, id: &str) -> ServiceResult<Arc<Plugin>> {
        self.enabled_plugin(id)?
            .map_err(|reason| ServiceError::invalid("plugin", reason))
    }

    /// Asks `plugin` to check an instance config for `course` and returns
    /// the config to store (the plugin may normalise it). A refusal becomes
    /// [`ServiceError::ConfigRejected`] with the plugin's own field errors;
    /// a plugin that fails while checking refuses the config too.
    pub(crate) fn validate_instance_config(
        &self,
        plugin: &Plugin,
        course: CourseId,
        instance: Option<EnrolmentMethodId>,
        config_json: &str,
    ) -> ServiceResult<String> {
        let context = || format!("plugin {:?} refuses the config", plugin.manifest.id);
        let answer = self.runtime()?.validate_config(
            plugin,
            self.course_queries(course, instance, &plugin.manifest.id)?,
            course.0,
            config_json,
        );
        let errors = match answer {
            Ok(Ok(normalised)) => return normalised_config(plugin, normalised),
            Ok(Err(errors)) => errors
                .into_iter()
                .map(|e| ConfigFieldError {
                    field: e.field,
                    message: e.message,
                })
                .collect(),
            Err(PluginError::Host(e)) => {
                return Err(ServiceError::Internal(format!(
                    "the plugin runtime failed: {e}"
                )));
            }
            Err(e) => vec![ConfigFieldError {
                field: String::new(),
                message: format!("the plugin failed while checking it: {e}"),
            }],
        };
        Err(ServiceError::ConfigRejected {
            context: context(),
            errors,
        })
    }

    /// Every instance of `plugin` in the site, in course order.
    fn instances_of(&self, plugin: &str) -> ServiceResult<Vec<EnrolmentMethod>> {
        self.read(|t| {
            let mut out = Vec::new();
            for course in t.all_courses()? {
                out.extend(
                    t.course_methods_list(course.id)?
                        .into_iter()
                        .filter(|m| m.plugin == plugin),
                );
            }
            Ok(out)
        })
    }

    /// Checks every instance's config with `plugin`; the first refusal
    /// names the instance and stops.
    fn revalidate(
        &self,
        plugin: &Plugin,
        instances: &[EnrolmentMethod],
    ) -> ServiceResult<Vec<Normalised>> {
        let mut out = Vec::with_capacity(instances.len());
        for m in instances {
            match self.validate_instance_config(plugin, m.course, Some(m.id), &m.config) {
                Ok(config) => out.push(Normalised {
                    before: m.clone(),
                    config,
                }),
                Err(ServiceError::ConfigRejected { errors, .. }) => {
                    return Err(ServiceError::ConfigRejected {
                        context: format!(
                            "plugin {:?} {} refuses the config of enrolment method {}",
                            plugin.manifest.id,
                            plugin.manifest.version,
                            describe_instance(m)
                        ),
                        errors,
                    });
                }
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// Writes the configs a plugin normalised (refusing if an instance
    /// changed since it was checked) and audits the plugin action, in one
    /// transaction. `notify_all` emits `MethodUpdated` for every checked
    /// instance, not only those whose config changed.
    fn record_plugin_change(
        &self,
        actor: Actor,
        normalised: &[Normalised],
        notify_all: bool,
        action: &str,
        plugin: &str,
        reason: String,
    ) -> ServiceResult<()> {
        self.write(|t| {
            for n in normalised {
                let Some(mut m) = t.method(n.before.id)? else {
                    continue;
                };
                if m != n.before {
                    return Err(ServiceError::Conflict(format!(
                        "enrolment method {} changed while its config was checked; try again",
                        describe_instance(&m)
                    )));
                }
                let changed = m.config != n.config;
                if changed {
                    m.config = n.config.clone();
                    t.put_method(&m)?;
                    t.audit_log(
                        actor,
                        "method.updated",
                        format!("enrolment method #{}", m.id),
                        format!("config normalised by plugin {plugin:?}"),
                    )?;
                }
                if changed || notify_all {
                    t.emit(SiteEvent::MethodUpdated {
                        course: m.course,
                        method: m.id,
                    })?;
                }
            }
            t.audit_log(actor, action, format!("plugin {plugin:?}"), reason)?;
            Ok(())
        })
    }
}

/// What a plugin returned as the config to store must still be a JSON
/// object of bounded size, like what the admin sent.
fn normalised_config(plugin: &Plugin, text: String) -> ServiceResult<String> {
    let rejected = |message: String| ServiceError::ConfigRejected {
        context: format!(
            "plugin {:?} returned an unusable config",
            plugin.manifest.id
        ),
        errors: vec![ConfigFieldError {
            field: String::new(),
            message,
        }],
    };
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(v) if v.is_object() => {}
        _ => return Err(rejected("it is not a JSON object".into())),
    }
    if text.len() > super::enrolments::MAX_CONFIG_BYTES {
        return Err(rejected("it is larger than 64 KiB".into()));
    }
    Ok(text)
}
