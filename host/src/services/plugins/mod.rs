//! Installed plugins: the versions the host holds, which plugin each site
//! may use (and which version its methods run), the components on disk,
//! and the runtime that runs them.
//!
//! - **Install** (operators) checks a component through
//!   [`Runtime::load`](crate::runtime::Runtime::load) (contract version,
//!   imports, `describe`, manifest), writes it content-addressed to
//!   `DATA/plugins/{sha256}.wasm`, then records the version in the
//!   registry. A later start loads it from there. The same bytes again are
//!   a no-op; other bytes under an installed id and version are refused.
//! - **Enable** on a site pins a version; the site's methods run that
//!   version until an operator **upgrades** the pin, which re-checks every
//!   method's config with the new version first and changes nothing if
//!   one is refused. **Disable** and **uninstall** refuse while methods
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
//! site's (its methods and its audit entry). Loaded components are kept
//! in memory by SHA-256, so a site's calls never reload them.

mod catalog;
mod install;
mod pins;
mod site;

use crate::domain::*;
use crate::services::Principal;
use crate::services::error::{ServiceError, ServiceResult};

pub(crate) use catalog::{PluginCatalog, sha256_hex};

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
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct InstalledPlugin {
    pub plugin: PluginVersion,
    /// Every site whose record pins this version, enabled or not.
    pub sites: Vec<PluginSite>,
}

/// What the form of a method offers (see
/// [`SiteServices::new_method_form`](crate::services::SiteServices::new_method_form)).
#[derive(Clone, Debug, PartialEq)]
pub struct MethodForm {
    pub course: Course,
    /// The plugin's manifest at the site's pinned version: its config form.
    pub manifest: PluginManifest,
    /// Every segment of the site, for segment fields.
    pub segments: Vec<Segment>,
    /// The course's groups, for group fields.
    pub groups: Vec<CourseGroup>,
    /// The site's profile fields, for profile-field fields.
    pub profile_fields: Vec<ProfileField>,
    /// The method, when it exists.
    pub method: Option<EnrolmentMethod>,
    /// The method's warning, unless dismissed (its group was deleted).
    pub warning: Option<MethodWarning>,
}

/// The installed plugins and the sites that may use them: the operator's
/// plugins page.
#[derive(Clone, Debug, PartialEq)]
pub struct PluginsOverview {
    /// Every installed version, as [`Services::list_plugins`](crate::services::Services::list_plugins) lists them.
    pub versions: Vec<InstalledPlugin>,
    /// Every site, by id.
    pub sites: Vec<Site>,
    /// What each called version's calls cost since the host started, by
    /// `(plugin id, version)`.
    pub call_stats: Vec<((String, String), crate::runtime::CallStats)>,
}

/// A site's record of a plugin, with the site's slug.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PluginSite {
    pub site: SiteId,
    pub slug: String,
    pub enabled: bool,
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

fn require_operator(who: &Principal) -> ServiceResult<()> {
    if who.is_operator() {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(
            "only an operator may manage plugins".into(),
        ))
    }
}

fn describe_method(m: &EnrolmentMethod) -> String {
    format!("#{} {:?} in course #{}", m.id, m.name, m.course)
}
