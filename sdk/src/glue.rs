//! What [`export_plugin!`](crate::export_plugin) calls: turns the raw
//! contract calls into typed [`Plugin`] calls. Public (hidden) so
//! the macro can reach it, and native so the mock host can drive it too.

use crate::bindings::charon::enrolment::types as wit;
use crate::{
    CourseId, Event, FieldError, Host, MethodId, Plan, Plugin, ReconcileStep, Refusal, Request,
    Timestamp,
};

/// What every call of an enrolment method receives, with the config
/// parsed.
///
/// ```
/// use charon_sdk::Context;
/// let ctx = Context { method: 7, course: 2, config: (), settings: Default::default(), enabled: true, now: 0 };
/// assert_eq!(ctx.course, 2);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Context<C> {
    /// The enrolment method being called: the plugin attached to one
    /// course with its own config.
    pub method: MethodId,
    /// The method's course: every query is scoped to it.
    pub course: CourseId,
    /// The method's config, parsed.
    pub config: C,
    /// The plugin's site-wide settings (the manifest's `settings`, each
    /// with the site's value or its default).
    pub settings: serde_json::Map<String, serde_json::Value>,
    /// Whether the method is enabled (a disabled one still receives its
    /// own `method-*` events and may be asked to clean up).
    pub enabled: bool,
    /// The host's clock (epoch milliseconds) when the call started.
    pub now: Timestamp,
}

impl<C> Context<C> {
    /// The same context with another config: handy in tests.
    ///
    /// ```
    /// use charon_sdk::Context;
    /// let ctx = Context { method: 1, course: 1, config: 1u8, settings: Default::default(), enabled: true, now: 0 };
    /// assert_eq!(ctx.with_config("x").config, "x");
    /// ```
    pub fn with_config<D>(&self, config: D) -> Context<D> {
        Context {
            method: self.method,
            course: self.course,
            config,
            settings: self.settings.clone(),
            enabled: self.enabled,
            now: self.now,
        }
    }

    /// A site-wide setting as text, if the site (or its default) has one.
    ///
    /// ```
    /// use charon_sdk::Context;
    /// let mut ctx = Context { method: 1, course: 1, config: (), settings: Default::default(), enabled: true, now: 0 };
    /// ctx.settings.insert("removal".into(), "suspend".into());
    /// assert_eq!(ctx.setting_str("removal"), Some("suspend"));
    /// assert_eq!(ctx.setting_str("other"), None);
    /// ```
    pub fn setting_str(&self, key: &str) -> Option<&str> {
        self.settings.get(key).and_then(|v| v.as_str())
    }
}

/// Parses a config, naming the field serde complained about when it can.
pub(crate) fn parse_config<C: serde::de::DeserializeOwned>(
    text: &str,
) -> Result<C, Vec<FieldError>> {
    let mut json = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut json).map_err(|e| {
        // The path names the field of a type error (`"a"` where a number
        // belongs) too; a missing, unknown or duplicate field is named in
        // the message only, at the level of the object that lacks it.
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        let named = ["missing field `", "unknown field `", "duplicate field `"]
            .iter()
            .find_map(|p| message.split(p).nth(1))
            .and_then(|rest| rest.split('`').next());
        let field = match (named, path.as_str()) {
            (Some(name), "." | "") => name.to_owned(),
            (Some(name), path) if !path.ends_with(name) => format!("{path}.{name}"),
            (_, "." | "") => String::new(),
            (_, path) => path.to_owned(),
        };
        // serde_json appends " at line 1 column 9"; a form has no lines.
        let message = message
            .rsplit_once(" at line ")
            .map_or(message.as_str(), |(m, _)| m)
            .to_owned();
        vec![FieldError { field, message }]
    })
}

/// A call's config, parsed (a config that no longer parses is the call's
/// refusal, naming `what` it belongs to), and its site-wide settings.
pub(crate) fn call_inputs<C: serde::de::DeserializeOwned>(
    config: &str,
    settings: &str,
    what: &str,
) -> Result<(C, serde_json::Map<String, serde_json::Value>), Refusal> {
    let config = parse_config(config).map_err(|errors| {
        let detail = errors
            .into_iter()
            .map(|e| e.message)
            .collect::<Vec<_>>()
            .join("; ");
        Refusal::new(
            "invalid-config",
            format!("the {what}'s config is invalid: {detail}"),
        )
    })?;
    // Settings the host passes are the manifest's fields; text that is not
    // a JSON object (an older host) reads as no settings.
    let settings = match serde_json::from_str(settings) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    Ok((config, settings))
}

fn context<C: serde::de::DeserializeOwned>(ctx: wit::Context) -> Result<Context<C>, Refusal> {
    let (config, settings) = call_inputs(&ctx.config, &ctx.settings, "enrolment method")?;
    Ok(Context {
        method: ctx.method,
        course: ctx.course,
        config,
        settings,
        enabled: ctx.enabled,
        now: ctx.now,
    })
}

pub fn validate_config<M: Plugin>(
    course: CourseId,
    config: &str,
    host: &dyn Host,
) -> Result<String, Vec<FieldError>> {
    let parsed: M::Config = parse_config(config)?;
    M::validate(course, &parsed, host)?;
    serde_json::to_string(&parsed).map_err(|e| {
        vec![FieldError {
            field: String::new(),
            message: e.to_string(),
        }]
    })
}

pub fn migrate_config<M: Plugin>(
    from_version: &str,
    config: &str,
) -> Result<String, Vec<FieldError>> {
    let value: serde_json::Value = parse_config(config)?;
    let migrated = M::migrate_config(from_version, value)?;
    Ok(migrated.to_string())
}

pub fn handle_event<M: Plugin>(
    ctx: wit::Context,
    event: Event,
    host: &dyn Host,
) -> Result<Plan, Refusal> {
    M::handle_event(&context(ctx)?, event, host)
}

pub fn handle_request<M: Plugin>(
    ctx: wit::Context,
    request: Request,
    host: &dyn Host,
) -> Result<Plan, Refusal> {
    M::handle_request(&context(ctx)?, request, host)
}

pub fn reconcile<M: Plugin>(
    ctx: wit::Context,
    cursor: Option<String>,
    host: &dyn Host,
) -> Result<ReconcileStep, Refusal> {
    M::reconcile(&context(ctx)?, cursor, host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct C {
        segment: u64,
    }

    #[test]
    fn serde_errors_name_their_field() {
        let e = parse_config::<C>("{}").unwrap_err();
        assert_eq!(e[0].field, "segment");
        assert_eq!(e[0].message, "missing field `segment`");
        let e = parse_config::<C>(r#"{"segment":1,"x":2}"#).unwrap_err();
        assert_eq!(e[0].field, "x");
        let e = parse_config::<C>(r#"{"segment":"a"}"#).unwrap_err();
        assert_eq!(e[0].field, "segment");
        assert!(
            e[0].message.starts_with("invalid type: string"),
            "{}",
            e[0].message
        );
        let e = parse_config::<C>("true").unwrap_err();
        assert_eq!(e[0].field, "");
    }
}
