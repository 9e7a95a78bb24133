//! Segment rules: the second kind of plugin (contract 0.4.0). A site
//! admin attaches a segment-rule plugin to one segment with a config (the
//! rule); from then on the plugin alone changes that segment's members,
//! answering events and reconciles with a [`SegmentPlan`] of `add` and
//! `remove` actions that the host checks and applies in one transaction.

use crate::bindings::charon::enrolment::types as wit;
use crate::glue::{call_inputs, parse_config};
use crate::{
    Event, FieldError, Host, Manifest, PluginKind, Refusal, SegmentAction, SegmentId,
    SegmentOperation, SegmentPlan, SegmentStep, Timestamp, UserId,
};

/// What every call of a segment rule receives, with the config parsed.
///
/// ```
/// use charon_sdk::RuleContext;
/// let ctx = RuleContext { segment: 4, config: (), settings: Default::default(), now: 0 };
/// assert_eq!(ctx.segment, 4);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct RuleContext<C> {
    /// The segment the rule manages: the only segment its queries see.
    pub segment: SegmentId,
    /// The rule's config, parsed.
    pub config: C,
    /// The plugin's site-wide settings (the manifest's `settings`).
    pub settings: serde_json::Map<String, serde_json::Value>,
    /// The host's clock (epoch milliseconds) when the call started.
    pub now: Timestamp,
}

/// A segment-rule plugin: keeps the members of the segment it is attached
/// to equal to the users its rule selects. Every function is stateless,
/// as for [`Plugin`](crate::Plugin).
///
/// Only [`manifest`](Self::manifest) and [`reconcile`](Self::reconcile)
/// are required; by default a config that parses is accepted and events
/// change nothing.
///
/// ```
/// use charon_sdk::*;
///
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct Config { domain: String }
///
/// struct Domain;
///
/// impl SegmentRule for Domain {
///     type Config = Config;
///     fn manifest() -> Manifest {
///         Manifest::new("domain-rule", "Users of one e-mail domain", "1.0.0")
///             .needs(&[Capability::ReadUsers, Capability::ReadSegments])
///     }
///     fn reconcile(ctx: &RuleContext<Config>, _cursor: Option<String>, host: &dyn Host) -> Result<SegmentStep, Refusal> {
///         let mut plan = SegmentPlan::new();
///         let page = host.users_by_email_domain(&ctx.config.domain, None, 1000).map_err(Refusal::from)?;
///         for user in page.users {
///             plan.add(user.id, "e-mail domain matches");
///         }
///         Ok(SegmentStep { plan, next: None })
///     }
/// }
///
/// let host = mock::MockHost::new().user(1, "ada").email(1, "ada@acme.example");
/// let ctx = RuleContext { segment: 9, config: Config { domain: "acme.example".into() }, settings: Default::default(), now: 0 };
/// let step = Domain::reconcile(&ctx, None, &host).unwrap();
/// assert_eq!(step.plan.lines(), ["add #1 (e-mail domain matches)"]);
/// ```
pub trait SegmentRule {
    /// A rule's configuration, as the admin's form fills it in (JSON).
    type Config: serde::de::DeserializeOwned + serde::Serialize;

    /// Describes the plugin; [`export_segment_rule!`](crate::export_segment_rule)
    /// sets its kind to [`PluginKind::SegmentRule`].
    fn manifest() -> Manifest;

    /// Checks a parsed config for a rule of `segment`. Parsing errors are
    /// reported (with their field) before this is called.
    fn validate(
        segment: SegmentId,
        config: &Self::Config,
        host: &dyn Host,
    ) -> Result<(), Vec<FieldError>> {
        let _ = (segment, config, host);
        Ok(())
    }

    /// Reacts to an event the manifest lists (typically `user-created` and
    /// `user-updated`): the plan for the users it concerns.
    fn handle_event(
        ctx: &RuleContext<Self::Config>,
        event: Event,
        host: &dyn Host,
    ) -> Result<SegmentPlan, Refusal> {
        let _ = (ctx, event, host);
        Ok(SegmentPlan::new())
    }

    /// One bounded page of bringing the segment in line with the rule:
    /// `cursor` is `None` on the first page and the previous step's `next`
    /// afterwards. A dry run calls it too and applies nothing.
    fn reconcile(
        ctx: &RuleContext<Self::Config>,
        cursor: Option<String>,
        host: &dyn Host,
    ) -> Result<SegmentStep, Refusal>;
}

impl SegmentPlan {
    /// An empty plan.
    ///
    /// ```
    /// assert!(charon_sdk::SegmentPlan::new().is_empty());
    /// ```
    pub fn new() -> Self {
        SegmentPlan {
            actions: Vec::new(),
        }
    }

    /// Whether the plan changes nothing.
    ///
    /// ```
    /// let mut plan = charon_sdk::SegmentPlan::new();
    /// plan.add(1, "matches");
    /// assert!(!plan.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    /// Makes `user` a member (nothing if they are one).
    ///
    /// ```
    /// let mut plan = charon_sdk::SegmentPlan::new();
    /// plan.add(7, "department is HR").remove(8, "department is not HR");
    /// assert_eq!(plan.actions.len(), 2);
    /// ```
    pub fn add(&mut self, user: UserId, reason: impl Into<String>) -> &mut Self {
        self.actions.push(SegmentAction {
            op: SegmentOperation::Add(user),
            reason: reason.into(),
        });
        self
    }

    /// Takes `user` out of the segment (nothing if they are not a member).
    ///
    /// ```
    /// let mut plan = charon_sdk::SegmentPlan::new();
    /// plan.remove(8, "left HR");
    /// assert_eq!(plan.lines(), ["remove #8 (left HR)"]);
    /// ```
    pub fn remove(&mut self, user: UserId, reason: impl Into<String>) -> &mut Self {
        self.actions.push(SegmentAction {
            op: SegmentOperation::Remove(user),
            reason: reason.into(),
        });
        self
    }

    /// The plan as one line per action, for assertions in tests.
    ///
    /// ```
    /// let mut plan = charon_sdk::SegmentPlan::new();
    /// plan.add(1, "matches");
    /// assert_eq!(plan.lines(), ["add #1 (matches)"]);
    /// ```
    pub fn lines(&self) -> Vec<String> {
        self.actions
            .iter()
            .map(|a| match a.op {
                SegmentOperation::Add(u) => format!("add #{u} ({})", a.reason),
                SegmentOperation::Remove(u) => format!("remove #{u} ({})", a.reason),
            })
            .collect()
    }
}

impl Default for SegmentPlan {
    fn default() -> Self {
        Self::new()
    }
}

fn rule_context<C: serde::de::DeserializeOwned>(
    ctx: wit::RuleContext,
) -> Result<RuleContext<C>, Refusal> {
    let (config, settings) = call_inputs(&ctx.config, &ctx.settings, "segment rule")?;
    Ok(RuleContext {
        segment: ctx.segment,
        config,
        settings,
        now: ctx.now,
    })
}

/// The manifest with its kind set: a segment-rule plugin cannot forget it.
pub fn rule_manifest<R: SegmentRule>() -> Manifest {
    Manifest {
        kind: PluginKind::SegmentRule,
        ..R::manifest()
    }
}

pub fn validate_rule<R: SegmentRule>(
    segment: SegmentId,
    config: &str,
    host: &dyn Host,
) -> Result<String, Vec<FieldError>> {
    let parsed: R::Config = parse_config(config)?;
    R::validate(segment, &parsed, host)?;
    serde_json::to_string(&parsed).map_err(|e| vec![FieldError::new("", e.to_string())])
}

pub fn rule_event<R: SegmentRule>(
    ctx: wit::RuleContext,
    event: Event,
    host: &dyn Host,
) -> Result<SegmentPlan, Refusal> {
    R::handle_event(&rule_context(ctx)?, event, host)
}

pub fn rule_reconcile<R: SegmentRule>(
    ctx: wit::RuleContext,
    cursor: Option<String>,
    host: &dyn Host,
) -> Result<SegmentStep, Refusal> {
    R::reconcile(&rule_context(ctx)?, cursor, host)
}

/// Exports a [`SegmentRule`] as the component's implementation of the
/// contract (its `segment-rule` interface, and a `method` interface that
/// describes the plugin and refuses every enrolment-method call) and
/// records [`CONTRACT_VERSION`](crate::CONTRACT_VERSION).
///
/// ```
/// use charon_sdk::*;
///
/// struct Empty;
/// impl SegmentRule for Empty {
///     type Config = serde_json::Value;
///     fn manifest() -> Manifest { Manifest::new("empty", "Nobody", "0.1.0") }
///     fn reconcile(_: &RuleContext<serde_json::Value>, _: Option<String>, _: &dyn Host) -> Result<SegmentStep, Refusal> {
///         Ok(SegmentStep { plan: SegmentPlan::new(), next: None })
///     }
/// }
/// export_segment_rule!(Empty);
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! export_segment_rule {
    ($rule:ty) => {
        #[doc(hidden)]
        #[cfg(target_arch = "wasm32")]
        #[used]
        #[unsafe(link_section = $crate::__private::section_literal!())]
        static __CHARON_CONTRACT_VERSION: [u8; $crate::CONTRACT_VERSION.len()] =
            $crate::__private::contract_bytes::<{ $crate::CONTRACT_VERSION.len() }>();

        #[doc(hidden)]
        #[allow(dead_code)]
        struct __CharonExport;

        impl $crate::bindings::exports::charon::enrolment::segment_rule::Guest for __CharonExport {
            fn validate_rule(
                segment: $crate::SegmentId,
                config: ::std::string::String,
            ) -> ::std::result::Result<::std::string::String, ::std::vec::Vec<$crate::FieldError>> {
                $crate::__private::validate_rule::<$rule>(segment, &config, &$crate::WasmHost)
            }
            fn rule_event(
                ctx: $crate::bindings::charon::enrolment::types::RuleContext,
                event: $crate::Event,
            ) -> ::std::result::Result<$crate::SegmentPlan, $crate::Refusal> {
                $crate::__private::rule_event::<$rule>(ctx, event, &$crate::WasmHost)
            }
            fn rule_reconcile(
                ctx: $crate::bindings::charon::enrolment::types::RuleContext,
                cursor: ::std::option::Option<::std::string::String>,
            ) -> ::std::result::Result<$crate::SegmentStep, $crate::Refusal> {
                $crate::__private::rule_reconcile::<$rule>(ctx, cursor, &$crate::WasmHost)
            }
        }

        $crate::__private::refuse_method_calls!(__CharonExport, $rule);

        #[cfg(not(target_arch = "wasm32"))]
        const _: () = {
            let _ = <$rule as $crate::SegmentRule>::manifest;
        };
        #[cfg(target_arch = "wasm32")]
        $crate::bindings::__export_plugin_world!(__CharonExport with_types_in $crate::bindings);
    };
}

/// The `method` interface of a segment-rule plugin: it describes the
/// plugin and refuses the rest, which the host never calls on this kind.
#[doc(hidden)]
#[macro_export]
macro_rules! refuse_method_calls {
    ($export:ident, $rule:ty) => {
        impl $crate::bindings::exports::charon::enrolment::method::Guest for $export {
            fn describe() -> $crate::Manifest {
                $crate::__private::rule_manifest::<$rule>()
            }
            fn validate_config(
                _: $crate::CourseId,
                _: ::std::string::String,
            ) -> ::std::result::Result<::std::string::String, ::std::vec::Vec<$crate::FieldError>>
            {
                Err(vec![$crate::FieldError::new(
                    "",
                    "this plugin is a segment rule, not an enrolment method",
                )])
            }
            fn handle_event(
                _: $crate::bindings::charon::enrolment::types::Context,
                _: $crate::Event,
            ) -> ::std::result::Result<$crate::Plan, $crate::Refusal> {
                Ok($crate::Plan::new())
            }
            fn handle_request(
                _: $crate::bindings::charon::enrolment::types::Context,
                _: $crate::Request,
            ) -> ::std::result::Result<$crate::Plan, $crate::Refusal> {
                Err($crate::__private::not_this_kind())
            }
            fn reconcile(
                _: $crate::bindings::charon::enrolment::types::Context,
                _: ::std::option::Option<::std::string::String>,
            ) -> ::std::result::Result<$crate::ReconcileStep, $crate::Refusal> {
                Err($crate::__private::not_this_kind())
            }
            fn migrate_config(
                _: $crate::CourseId,
                _: ::std::string::String,
                config: ::std::string::String,
            ) -> ::std::result::Result<::std::string::String, ::std::vec::Vec<$crate::FieldError>>
            {
                Ok(config)
            }
        }
    };
}

/// The `segment-rule` interface of an enrolment-method plugin: refuses
/// everything (the host never calls it on this kind).
#[doc(hidden)]
#[macro_export]
macro_rules! refuse_rule_calls {
    ($export:ident) => {
        impl $crate::bindings::exports::charon::enrolment::segment_rule::Guest for $export {
            fn validate_rule(
                _: $crate::SegmentId,
                _: ::std::string::String,
            ) -> ::std::result::Result<::std::string::String, ::std::vec::Vec<$crate::FieldError>>
            {
                Err(vec![$crate::FieldError::new(
                    "",
                    "this plugin is an enrolment method, not a segment rule",
                )])
            }
            fn rule_event(
                _: $crate::bindings::charon::enrolment::types::RuleContext,
                _: $crate::Event,
            ) -> ::std::result::Result<$crate::SegmentPlan, $crate::Refusal> {
                Err($crate::__private::not_this_kind())
            }
            fn rule_reconcile(
                _: $crate::bindings::charon::enrolment::types::RuleContext,
                _: ::std::option::Option<::std::string::String>,
            ) -> ::std::result::Result<$crate::SegmentStep, $crate::Refusal> {
                Err($crate::__private::not_this_kind())
            }
        }
    };
}

/// What a call of the other kind's interface answers.
pub fn not_this_kind() -> Refusal {
    Refusal::new(
        "wrong-kind",
        "the host called an interface of the other plugin kind",
    )
}
