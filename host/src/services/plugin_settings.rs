//! A plugin's site-wide settings: the fields its manifest lists under
//! `settings` (Moodle's plugin settings page), set once per site by a site
//! admin and passed to every call of the plugin's methods in
//! `context.settings`, each field with the site's value or its default.
//!
//! The host checks values against the field kinds itself: settings are
//! not tied to a course, so the plugin's `validate-config` (which is) does
//! not apply.

use serde_json::{Map, Value};

use super::auth::{Need, authorize};
use super::error::{ConfigFieldError, ServiceError, ServiceResult};
use super::{Principal, SiteServices};
use crate::domain::*;
use crate::runtime::Plugin;
use crate::storage::site::prelude::*;

/// A plugin's settings form and this site's values.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct PluginSettings {
    pub plugin: String,
    /// The form, in the plugin's order.
    pub fields: Vec<PluginConfigField>,
    /// Every field's value: the site's, or the field's default.
    pub values: Map<String, Value>,
}

/// The settings a call receives: every field of the plugin's settings form
/// with the saved value when it still fits the field, else the default.
pub(crate) fn effective(fields: &[PluginConfigField], saved: Option<&str>) -> Map<String, Value> {
    let saved: Map<String, Value> = saved
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or_default();
    let mut out = Map::new();
    for field in fields {
        let value = saved
            .get(&field.key)
            .filter(|v| check(&field.kind, v).is_ok())
            .cloned()
            .or_else(|| {
                field
                    .default
                    .as_deref()
                    .and_then(|d| serde_json::from_str(d).ok())
            });
        if let Some(v) = value {
            out.insert(field.key.clone(), v);
        }
    }
    out
}

/// Whether `v` is a value of a field of `kind` in a site-wide setting.
fn check(kind: &PluginFieldKind, v: &Value) -> Result<(), String> {
    // A site-wide setting has no course to pick a group from (and a
    // manifest that declares one is refused when the plugin is loaded).
    if kind.names_course_group() {
        return Err("a site-wide setting cannot name a course group".into());
    }
    kind.check_value(v)
}

impl SiteServices {
    fn settings_view(&self, plugin: &Plugin, saved: Option<&str>) -> PluginSettings {
        let fields = plugin.manifest.settings.clone();
        PluginSettings {
            plugin: plugin.manifest.id.clone(),
            values: effective(&fields, saved),
            fields,
        }
    }

    /// The settings of an enabled plugin: site admins.
    pub fn plugin_settings(&self, who: &Principal, plugin: &str) -> ServiceResult<PluginSettings> {
        let saved = self.read(|t| {
            authorize(&self.site, t, who, Need::SiteAdmin)?;
            Ok(t.plugin_settings_json(plugin)?)
        })?;
        let p = self.plugin(plugin)?;
        Ok(self.settings_view(&p, saved.as_deref()))
    }

    /// Saves settings: every key must be a field of the plugin's settings
    /// and its value must fit the field; keys left out keep their value.
    /// All or nothing, audited.
    pub fn set_plugin_settings(
        &self,
        who: &Principal,
        plugin: &str,
        values: Map<String, Value>,
    ) -> ServiceResult<PluginSettings> {
        self.read(|t| authorize(&self.site, t, who, Need::SiteAdmin).map(drop))?;
        let p = self.plugin(plugin)?;
        let fields = &p.manifest.settings;
        let mut errors = Vec::new();
        for (key, value) in &values {
            match fields.iter().find(|f| &f.key == key) {
                None => errors.push(ConfigFieldError {
                    field: key.clone(),
                    message: format!("plugin {plugin:?} has no setting {key:?}"),
                }),
                Some(field) => {
                    if let Err(message) = check(&field.kind, value) {
                        errors.push(ConfigFieldError {
                            field: key.clone(),
                            message: format!("{} {message}", field.label),
                        });
                    }
                }
            }
        }
        if !errors.is_empty() {
            return Err(ServiceError::ConfigRejected {
                context: format!("the settings of plugin {plugin:?} were not saved"),
                errors,
            });
        }
        let saved = self.write(|t| {
            let actor = authorize(&self.site, t, who, Need::SiteAdmin)?;
            let mut merged: Map<String, Value> = t
                .plugin_settings_json(plugin)?
                .and_then(|s| serde_json::from_str(&s).ok())
                .unwrap_or_default();
            merged.extend(values);
            let json = Value::Object(merged).to_string();
            t.put_plugin_settings(plugin, &json)?;
            t.audit_log(
                actor,
                "plugin.settings_updated",
                format!("plugin {plugin:?}"),
                json.clone(),
            )?;
            Ok(json)
        })?;
        Ok(self.settings_view(&p, Some(&saved)))
    }
}
