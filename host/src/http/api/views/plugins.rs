//! Plugins: the installed versions with their manifests and config forms,
//! the sites that may use them, and a site's settings of one.

use serde::{Deserialize, Serialize};

use super::{InstalledByView, Mirror, SiteIdView, TimestampView, mirror_enum, mirror_struct};
use crate::domain::{
    PluginChoice, PluginConfigField, PluginFieldKind, PluginManifest, PluginVersion, SitePlugin,
};
use crate::services::plugin_settings::PluginSettings;
use crate::services::plugins::{InstalledPlugin, PluginSite};

/// How the admin's form renders one config field of a plugin (the WIT
/// `field-kind`). Values are JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = PluginFieldKind)]
pub enum PluginFieldKindView {
    /// One line of text.
    Text,
    /// Several lines of text.
    Multiline,
    /// Text shown masked, e.g. an enrolment key.
    Secret,
    /// A whole number within the bounds given.
    Integer {
        min: Option<i64>,
        max: Option<i64>,
    },
    Boolean,
    /// Epoch milliseconds.
    Datetime,
    /// One of these values.
    Choice {
        choices: Vec<PluginChoiceView>,
    },
    /// A segment of the site (its id).
    Segment,
    /// A group of the course (its id).
    Group,
    /// A course role: `learner`, `non-editing-teacher` or `teacher`.
    Role,
    /// A map from group id to text, e.g. group enrolment keys.
    GroupTexts,
    /// A group of the course (its id), or what the plugin allows besides:
    /// `"none"` (no group) and `"new"` (a group the enrolment method
    /// creates).
    GroupChoice {
        none: bool,
        new: bool,
    },
    /// One of the site's custom profile fields (its short name).
    ProfileField,
}

mirror_enum!(
    PluginFieldKind,
    PluginFieldKindView {
        Text,
        Multiline,
        Secret,
        Integer { min, max },
        Boolean,
        Datetime,
        Choice { choices },
        Segment,
        Group,
        Role,
        GroupTexts,
        GroupChoice { none, new },
        ProfileField,
    }
);

/// One choice of a [`PluginFieldKind::Choice`] field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = PluginChoice)]
pub struct PluginChoiceView {
    pub value: String,
    pub label: String,
}

mirror_struct!(PluginChoice, PluginChoiceView { value, label });

/// One field of a plugin's config form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = PluginConfigField)]
pub struct PluginConfigFieldView {
    /// The JSON key.
    pub key: String,
    pub label: String,
    pub help: String,
    pub kind: PluginFieldKindView,
    pub required: bool,
    /// The default as JSON text.
    pub default: Option<String>,
}

mirror_struct!(
    PluginConfigField,
    PluginConfigFieldView {
        key,
        label,
        help,
        kind,
        required,
        default,
    }
);

/// What a plugin says of itself (`describe`), as the registry keeps it.
/// Events and capabilities are their contract names (`user-enrolled`,
/// `read-segments`), so a later contract may add some without a migration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = PluginManifest)]
pub struct PluginManifestView {
    /// Stable id: `[a-z0-9-]`, e.g. `self`.
    pub id: String,
    pub name: String,
    /// `MAJOR.MINOR.PATCH`.
    pub version: String,
    pub description: String,
    /// The config form, in the plugin's order.
    pub config: Vec<PluginConfigFieldView>,
    /// The events it asks to receive.
    pub events: Vec<String>,
    /// The host queries it needs.
    pub capabilities: Vec<String>,
}

mirror_struct!(
    PluginManifest,
    PluginManifestView {
        id,
        name,
        version,
        description,
        config,
        events,
        capabilities,
    }
);

/// One installed version of a plugin. Its component is stored
/// content-addressed as `DATA/plugins/{sha256}.wasm`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = PluginVersion)]
pub struct PluginVersionView {
    pub id: String,
    pub version: String,
    pub name: String,
    pub description: String,
    /// The contract version the component was built against, e.g. `0.1.0`.
    pub contract: String,
    /// Hex SHA-256 of the component bytes.
    pub sha256: String,
    /// Size of the component in bytes.
    pub size: u64,
    pub manifest: PluginManifestView,
    pub installed_at: TimestampView,
    pub installed_by: InstalledByView,
    /// Shipped inside the `charon` binary and installed by the host itself.
    pub bundled: bool,
}

mirror_struct!(
    PluginVersion,
    PluginVersionView {
        id,
        version,
        name,
        description,
        contract,
        sha256,
        size,
        manifest,
        installed_at,
        installed_by,
        bundled,
    }
);

/// Whether a site may use a plugin, and which installed version its
/// enrolment methods run. The record stays when the plugin is disabled, so its pin
/// is remembered and a bundled plugin is not enabled again at the next
/// start.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = SitePlugin)]
pub struct SitePluginView {
    pub site: SiteIdView,
    /// The plugin id.
    pub plugin: String,
    pub enabled: bool,
    /// The pinned version.
    pub version: String,
    pub changed_at: TimestampView,
}

mirror_struct!(
    SitePlugin,
    SitePluginView {
        site,
        plugin,
        enabled,
        version,
        changed_at,
    }
);

/// A site's record of a plugin, with the site's slug.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = PluginSite)]
pub struct PluginSiteView {
    pub site: SiteIdView,
    pub slug: String,
    pub enabled: bool,
}

mirror_struct!(
    PluginSite,
    PluginSiteView {
        site,
        slug,
        enabled
    }
);

/// An installed version with the sites that pin it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = InstalledPlugin)]
pub struct InstalledPluginView {
    pub plugin: PluginVersionView,
    /// Every site whose record pins this version, enabled or not.
    pub sites: Vec<PluginSiteView>,
}

mirror_struct!(InstalledPlugin, InstalledPluginView { plugin, sites });

/// A plugin's settings form and this site's values.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = PluginSettings)]
pub struct PluginSettingsView {
    pub plugin: String,
    /// The form, in the plugin's order.
    pub fields: Vec<PluginConfigFieldView>,
    /// Every field's value: the site's, or the field's default.
    #[schema(value_type = Object)]
    pub values: serde_json::Map<String, serde_json::Value>,
}

impl From<PluginSettings> for PluginSettingsView {
    fn from(s: PluginSettings) -> Self {
        Self {
            plugin: s.plugin,
            fields: s.fields.mirror(),
            values: s.values,
        }
    }
}
