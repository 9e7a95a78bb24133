//! The plugins of one site: the component each method runs (the version
//! the site pins), their manifests and config forms, and a config checked
//! by its plugin before it is stored.

use std::sync::Arc;

use super::MethodForm;
use crate::domain::*;
use crate::runtime::contract::PluginKind;
use crate::runtime::{Plugin, PluginError, Runtime};
use crate::services::auth::{Need, authorize, authorize_caller};
use crate::services::contract::RequestKind;
use crate::services::error::{ConfigFieldError, MethodFailure, ServiceError, ServiceResult};
use crate::services::ops::courses::load_course;
use crate::services::ops::methods::{load_method, shown_warning};
use crate::services::{Principal, SiteServices, validate};
use crate::storage::registry::RegistryRead;
use crate::storage::site::prelude::*;

impl SiteServices {
    /// The plugin a method of this site runs for `id`: the component of
    /// the version the site pins. Refused when the plugin is not enabled on
    /// the site.
    pub fn plugin(&self, id: &str) -> ServiceResult<Arc<Plugin>> {
        self.enabled_plugin(id)?.map_err(ServiceError::Conflict)
    }

    /// Whether plugin `id`, at the version the site pins, says it answers
    /// requests of `kind`; false when the site may not use it (it cannot
    /// answer anything there).
    pub(crate) fn plugin_answers(&self, id: &str, kind: RequestKind) -> ServiceResult<bool> {
        Ok(match self.enabled_plugin(id)? {
            Ok(plugin) => plugin.manifest.answers(kind),
            Err(_not_enabled) => false,
        })
    }

    /// The manifest of the version of plugin `id` the site pins, enabled
    /// or not (a disabled plugin's methods still hold configs its form
    /// describes); `None` when the site has no pin of it.
    pub(crate) fn pinned_manifest(&self, id: &str) -> ServiceResult<Option<PluginManifest>> {
        self.registry.read(|t| {
            Ok::<_, ServiceError>(match t.site_plugin(self.site.id, id)? {
                Some(r) => t.plugin_version(id, &r.version)?.map(|v| v.manifest),
                None => None,
            })
        })
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

    /// What the form of a new method of `plugin` in `course` offers: the
    /// plugin's config form, the site's segments and the course's groups
    /// to choose from. For those who may configure the course; refused as
    /// the `plugin` field when the site may not use the plugin.
    pub fn new_method_form(
        &self,
        who: &Principal,
        course: CourseId,
        plugin: &str,
    ) -> ServiceResult<MethodForm> {
        let (course, segments, groups, profile_fields) = self.read(|t| {
            authorize(&self.site, t, who, Need::ConfigureCourse(course))?;
            let course = load_course(t, course)?;
            let groups = t.course_group_list(course.id)?;
            Ok((course, t.all_segments()?, groups, t.all_profile_fields()?))
        })?;
        let manifest = self.enabled_manifest(plugin)?;
        Ok(MethodForm {
            course,
            manifest,
            segments,
            groups,
            profile_fields,
            method: None,
            warning: None,
        })
    }

    /// The form of an existing method, as [`new_method_form`](Self::new_method_form),
    /// with the method.
    pub fn method_form(&self, who: &Principal, id: EnrolmentMethodId) -> ServiceResult<MethodForm> {
        let (method, course, segments, groups, warning, profile_fields) = self.read(|t| {
            authorize_caller(&self.site, t, who)?;
            let method = load_method(t, id)?;
            authorize(&self.site, t, who, Need::ConfigureCourse(method.course))?;
            let course = load_course(t, method.course)?;
            let groups = t.course_group_list(course.id)?;
            let warning = shown_warning(t, id)?;
            let fields = t.all_profile_fields()?;
            Ok((method, course, t.all_segments()?, groups, warning, fields))
        })?;
        let manifest = self.enabled_manifest(&method.plugin)?;
        Ok(MethodForm {
            course,
            manifest,
            segments,
            groups,
            profile_fields,
            method: Some(method),
            warning,
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

    /// The plugin `id` for a new or changed method, refused as an input
    /// error (the `plugin` field) when the site may not use it.
    pub(crate) fn plugin_for_method(&self, id: &str) -> ServiceResult<Arc<Plugin>> {
        let plugin = self
            .enabled_plugin(id)?
            .map_err(|reason| ServiceError::invalid("plugin", reason))?;
        if plugin.manifest.kind != PluginKind::EnrolmentMethod {
            return Err(ServiceError::invalid(
                "plugin",
                format!("plugin {id:?} is a segment rule: attach it to a segment, not to a course"),
            ));
        }
        Ok(plugin)
    }

    /// The plugin `id` for a segment's rule, refused as the `plugin` field
    /// when the site may not use it or it is an enrolment method.
    pub(crate) fn plugin_for_rule(&self, id: &str) -> ServiceResult<Arc<Plugin>> {
        let plugin = self
            .enabled_plugin(id)?
            .map_err(|reason| ServiceError::invalid("plugin", reason))?;
        if plugin.manifest.kind != PluginKind::SegmentRule {
            return Err(ServiceError::invalid(
                "plugin",
                format!("plugin {id:?} is an enrolment method, not a segment rule"),
            ));
        }
        Ok(plugin)
    }

    /// The enabled plugins of one kind, as loaded (the registry's manifest
    /// does not keep the kind: a plugin says it when it is loaded).
    pub(crate) fn enabled_manifests_of(
        &self,
        kind: PluginKind,
    ) -> ServiceResult<Vec<PluginManifest>> {
        let mut out = Vec::new();
        for m in self.enabled_manifests()? {
            match self.enabled_plugin(&m.id)? {
                Ok(p) if p.manifest.kind == kind => out.push(m),
                _ => {}
            }
        }
        Ok(out)
    }

    /// Checks a rule's config for `segment` against the kinds of the
    /// plugin's fields, then asks the plugin (`validate-rule`): the config
    /// to store, or [`ServiceError::ConfigRejected`] naming each field.
    pub(crate) fn validate_rule_config(
        &self,
        plugin: &Plugin,
        segment: SegmentId,
        config_json: &str,
    ) -> ServiceResult<String> {
        let mut errors = misfits(&plugin.manifest.config, config_json);
        errors.extend(self.unknown_profile_fields(&plugin.manifest.config, config_json)?);
        if !errors.is_empty() {
            return Err(ServiceError::ConfigRejected {
                context: format!(
                    "the rule does not fit plugin {:?}'s form",
                    plugin.manifest.id
                ),
                errors,
            });
        }
        let (queries, _) = self.rule_call_inputs(segment, plugin)?;
        match self
            .runtime()?
            .validate_rule(plugin, queries, segment, config_json)
        {
            Ok(Ok(normalised)) => normalised_config(plugin, normalised),
            Ok(Err(errors)) => Err(ServiceError::ConfigRejected {
                context: format!("plugin {:?} refuses the rule", plugin.manifest.id),
                errors: errors
                    .into_iter()
                    .map(|e| ConfigFieldError {
                        field: e.field,
                        message: e.message,
                    })
                    .collect(),
            }),
            Err(PluginError::Host(e)) => Err(ServiceError::Internal(format!(
                "the plugin runtime failed: {e}"
            ))),
            Err(e) => Err(ServiceError::PluginFailed {
                code: MethodFailure::from(&e),
                message: format!(
                    "plugin {:?} failed while checking the rule: {e}",
                    plugin.manifest.id
                ),
            }),
        }
    }

    /// Checks a method config for `course` against the kinds of the
    /// plugin's fields, then asks the plugin, and returns the config to
    /// store (the plugin may normalise it). A value that does not fit its
    /// field, or the plugin's refusal, becomes
    /// [`ServiceError::ConfigRejected`] naming each field; a plugin that
    /// fails while checking is [`ServiceError::PluginFailed`].
    pub(crate) fn validate_method_config(
        &self,
        plugin: &Plugin,
        course: CourseId,
        method: Option<EnrolmentMethodId>,
        config_json: &str,
    ) -> ServiceResult<String> {
        let context = || format!("plugin {:?} refuses the config", plugin.manifest.id);
        // The host's own check first: the plugin sees only values of the
        // kinds it declared, and a wrong type is named by its field rather
        // than by the plugin's deserialiser.
        let mut errors = misfits(&plugin.manifest.config, config_json);
        errors.extend(self.unknown_profile_fields(&plugin.manifest.config, config_json)?);
        if !errors.is_empty() {
            return Err(ServiceError::ConfigRejected {
                context: format!(
                    "the config does not fit plugin {:?}'s form",
                    plugin.manifest.id
                ),
                errors,
            });
        }
        let answer = self.runtime()?.validate_config(
            plugin,
            self.course_queries(course, method, &plugin.manifest.id)?,
            course,
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
            // A crash is the plugin's failure, not the admin's config: the
            // same 502 and code as a crash anywhere else, and the existing
            // method's last error.
            Err(e) => {
                let code = MethodFailure::from(&e);
                let message = format!(
                    "plugin {:?} failed while checking the config: {e}",
                    plugin.manifest.id
                );
                if let Some(m) = method {
                    self.record_method_error(m, &code, &message);
                }
                return Err(ServiceError::PluginFailed { code, message });
            }
        };
        Err(ServiceError::ConfigRejected {
            context: context(),
            errors,
        })
    }
}

/// The values of `config_json` (a JSON object; anything else is the
/// plugin's to refuse) that do not fit the kind of their field in
/// `fields`, each with why. `null` is a value left out.
impl SiteServices {
    /// The `profile-field` values of a config that name no profile field
    /// of the site.
    fn unknown_profile_fields(
        &self,
        fields: &[PluginConfigField],
        config_json: &str,
    ) -> ServiceResult<Vec<ConfigFieldError>> {
        if !fields
            .iter()
            .any(|f| f.kind == PluginFieldKind::ProfileField)
        {
            return Ok(Vec::new());
        }
        let Ok(serde_json::Value::Object(values)) = serde_json::from_str(config_json) else {
            return Ok(Vec::new());
        };
        let defined = self.read(|t| Ok(t.all_profile_fields()?))?;
        Ok(fields
            .iter()
            .filter(|f| f.kind == PluginFieldKind::ProfileField)
            .filter_map(|f| {
                let name = values.get(&f.key)?.as_str()?;
                (!defined.iter().any(|d| d.shortname == name)).then(|| ConfigFieldError {
                    field: f.key.clone(),
                    message: format!("{name:?} is not a profile field of this site"),
                })
            })
            .collect())
    }
}

fn misfits(fields: &[PluginConfigField], config_json: &str) -> Vec<ConfigFieldError> {
    let Ok(serde_json::Value::Object(values)) = serde_json::from_str(config_json) else {
        return Vec::new();
    };
    fields
        .iter()
        .filter_map(|f| {
            let v = values.get(&f.key).filter(|v| !v.is_null())?;
            f.kind.check_value(v).err().map(|message| ConfigFieldError {
                field: f.key.clone(),
                message,
            })
        })
        .collect()
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
    if text.len() > validate::MAX_CONFIG_BYTES {
        return Err(rejected("it is larger than 64 KiB".into()));
    }
    Ok(text)
}
