//! Config fields a plugin marks secret (`PluginFieldKind::Secret`, e.g.
//! the self method's enrolment key) leave the host only to the plugin
//! (issue 16, finding 14). People see a marker instead of the value
//! ([`masked_config`]); a changed config that leaves a secret out, sends
//! it blank or sends the marker back keeps the stored value, and only an
//! explicit `null` clears it ([`keep_secrets`]). What the plugin receives
//! and what is stored are never masked.
//!
//! This module must never write, and never hand a stored secret to
//! anything but the config a plugin checks and the method row.

use serde_json::{Map, Value, json};

use super::super::SiteServices;
use super::super::error::ServiceResult;
use crate::domain::{PluginConfigField, PluginFieldKind};
use crate::storage::registry::RegistryRead;

/// The keys of the fields of `fields` that hold secrets.
pub fn secret_keys(fields: &[PluginConfigField]) -> Vec<String> {
    fields
        .iter()
        .filter(|f| matches!(f.kind, PluginFieldKind::Secret))
        .map(|f| f.key.clone())
        .collect()
}

/// What a secret field holding a value shows instead of it.
pub fn secret_marker() -> Value {
    json!({"secret": true, "set": true})
}

fn is_marker(v: &Value) -> bool {
    v.get("secret") == Some(&Value::Bool(true))
}

fn is_blank(v: &Value) -> bool {
    v.as_str().is_some_and(|s| s.trim().is_empty())
}

/// `config` (a JSON object as stored) as people may see it: every secret
/// field that holds a value replaced by [`secret_marker`]. A config that is
/// not an object shows as a string, as before; it holds no field.
pub fn masked_config(config: &str, secrets: &[String]) -> Value {
    let Ok(Value::Object(mut object)) = serde_json::from_str::<Value>(config) else {
        return Value::String(config.to_owned());
    };
    for key in secrets {
        if let Some(v) = object.get_mut(key)
            && !v.is_null()
            && !is_blank(v)
        {
            *v = secret_marker();
        }
    }
    Value::Object(object)
}

/// The config to check and store when `incoming` replaces `stored`: a
/// secret field absent from `incoming`, blank, or the marker keeps its
/// stored value (or stays out); `null` clears it. Other fields are
/// `incoming`'s. A non-object `incoming` is returned as is, for the usual
/// refusal.
pub fn keep_secrets(incoming: &Value, stored: Option<&str>, secrets: &[String]) -> Value {
    let Value::Object(incoming) = incoming else {
        return incoming.clone();
    };
    let stored: Map<String, Value> = stored
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or_default();
    let mut out = incoming.clone();
    for key in secrets {
        match incoming.get(key) {
            Some(Value::Null) => {
                out.remove(key);
            }
            Some(v) if !is_marker(v) && !is_blank(v) => {}
            _ => match stored.get(key) {
                Some(kept) => {
                    out.insert(key.clone(), kept.clone());
                }
                None => {
                    out.remove(key);
                }
            },
        }
    }
    Value::Object(out)
}

impl SiteServices {
    /// The keys of the config fields `plugin` marks secret, from the
    /// manifest of the version the site pins (enabled or not), else of
    /// every installed version: a field is masked if any version says it
    /// is a secret.
    pub fn secret_config_keys(&self, plugin: &str) -> ServiceResult<Vec<String>> {
        let site = self.site.id;
        self.registry.read(|t| {
            if let Some(pin) = t.site_plugin(site, plugin)?
                && let Some(v) = t.plugin_version(plugin, &pin.version)?
            {
                return Ok(secret_keys(&v.manifest.config));
            }
            let mut keys: Vec<String> = t
                .plugin_versions_of(plugin)?
                .iter()
                .flat_map(|v| secret_keys(&v.manifest.config))
                .collect();
            keys.sort();
            keys.dedup();
            Ok(keys)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Vec<String> {
        vec!["enrolment_key".to_owned()]
    }

    #[test]
    fn a_stored_secret_shows_as_a_marker_and_the_rest_as_stored() {
        let shown = masked_config(r#"{"enrolment_key":"s3cret","role":"learner"}"#, &keys());
        assert_eq!(
            shown,
            json!({"enrolment_key": {"secret": true, "set": true}, "role": "learner"})
        );
        assert!(!shown.to_string().contains("s3cret"));
        // Nothing stored, nothing to hide.
        assert_eq!(
            masked_config(r#"{"role":"x"}"#, &keys()),
            json!({"role": "x"})
        );
    }

    #[test]
    fn absent_blank_or_marker_keeps_the_secret_and_null_clears_it() {
        let stored = Some(r#"{"enrolment_key":"s3cret","role":"learner"}"#);
        let kept = json!({"enrolment_key": "s3cret", "role": "teacher"});
        for incoming in [
            json!({"role": "teacher"}),
            json!({"enrolment_key": "", "role": "teacher"}),
            json!({"enrolment_key": "  ", "role": "teacher"}),
            json!({"enrolment_key": {"secret": true, "set": true}, "role": "teacher"}),
        ] {
            assert_eq!(keep_secrets(&incoming, stored, &keys()), kept, "{incoming}");
        }
        assert_eq!(
            keep_secrets(
                &json!({"enrolment_key": null, "role": "t"}),
                stored,
                &keys()
            ),
            json!({"role": "t"})
        );
        assert_eq!(
            keep_secrets(&json!({"enrolment_key": "new"}), stored, &keys()),
            json!({"enrolment_key": "new"})
        );
        // A new method has nothing to keep.
        assert_eq!(
            keep_secrets(&json!({"enrolment_key": ""}), None, &keys()),
            json!({})
        );
    }
}
