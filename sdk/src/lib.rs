//! Write enrolment methods for [Charon](https://example.invalid/charon) as
//! WebAssembly components.
//!
//! A plugin is a `cdylib` crate that implements [`Plugin`] and calls
//! [`export_plugin!`]. The host attaches it to courses as **enrolment
//! methods**: one plugin, many methods, each with its own config (the
//! [`Context`] of a call says which method it is for). It never changes anything itself: it reads
//! through a [`Host`] and answers with a [`Plan`] that the host checks and
//! applies in one transaction. Build it with
//! `cargo build --release --target wasm32-wasip2` and install the `.wasm`
//! with `charon plugin install`. `docs/plugin-guide.md` walks through it.
//!
//! ```
//! use charon_sdk::*;
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize)]
//! struct Config {}
//!
//! struct Hello;
//!
//! impl Plugin for Hello {
//!     type Config = Config;
//!
//!     fn manifest() -> Manifest {
//!         Manifest::new("hello", "Hello", "0.1.0")
//!             .handles(&[EventKind::UserEnrolled])
//!     }
//!
//!     fn handle_event(ctx: &Context<Config>, event: Event, host: &dyn Host) -> Result<Plan, Refusal> {
//!         if let Event::UserEnrolled(e) = event {
//!             host.log(LogLevel::Info, &format!("user #{} enrolled in #{}", e.user, ctx.course));
//!         }
//!         Ok(Plan::new())
//!     }
//! }
//!
//! export_plugin!(Hello);
//! # fn main() {}
//! ```

// The generated bindings name this crate by path, from inside it too.
extern crate self as charon_sdk;

mod glue;
mod host;
mod manifest;
pub mod mock;
mod plan;
mod rule;

/// The generated bindings of the WIT contract (`wit/since_v0.4.0`).
///
/// Plugin code rarely needs this module: the types it uses are re-exported
/// at the crate root.
pub mod bindings {
    wit_bindgen::generate!({
        path: "wit/since_v0.4.0",
        world: "plugin",
        pub_export_macro: true,
        export_macro_name: "__export_plugin_world",
        default_bindings_module: "charon_sdk::bindings",
        runtime_path: "charon_sdk::__private::wit_bindgen::rt",
        additional_derives: [PartialEq, Eq],
    });
}

pub use bindings::charon::enrolment::types::{
    Action, Capability, Choice, ConfigField, CourseGroup, CourseId, CreateGroupAction, EnrolAction,
    EnrolUsers, Enrolment, EnrolmentEvent, EnrolmentPage, EnrolmentStatus, Event, EventKind,
    FieldError, FieldKind, GroupAction, GroupChoiceOptions, GroupEvent, GroupId, GroupMember,
    GroupRef, HostError, LogLevel, Manifest, MemberPage, MembershipEvent, MembershipOwner,
    MethodId, Operation, Plan, PluginKind, ProfileValue, ReconcileStep, Refusal, Request,
    RequestKind, Role, RoleAction, SegmentAction, SegmentId, SegmentMember, SegmentMemberPage,
    SegmentOperation, SegmentPlan, SegmentStep, SelfEnrol, Sibling, Timestamp, User, UserChanges,
    UserId, UserPage, UserUpdate,
};
pub use glue::Context;
pub use host::{Host, WasmHost};
pub use rule::{RuleContext, SegmentRule};

/// The contract version this SDK builds against. [`export_plugin!`] writes
/// it into the component's `charon:contract-version` custom section, which
/// the host reads at install to pick the matching contract.
///
/// ```
/// assert_eq!(charon_sdk::CONTRACT_VERSION, "0.4.0");
/// ```
pub const CONTRACT_VERSION: &str = charon_contract::V0_4_0;

/// The name of the custom section that carries [`CONTRACT_VERSION`] (the
/// host reads the same constant, from `charon-contract`).
///
/// ```
/// assert_eq!(charon_sdk::CONTRACT_SECTION, "charon:contract-version");
/// ```
pub const CONTRACT_SECTION: &str = charon_contract::SECTION;

/// An enrolment-method plugin: the code behind every enrolment method the
/// host attaches it to. Every function is stateless: whatever a call needs
/// comes from its arguments (the [`Context`] names the enrolment method
/// and carries its config) and the [`Host`] queries, so the host may run
/// each call in a fresh sandbox.
///
/// Only [`manifest`](Self::manifest) is required; the defaults accept any
/// config that parses, ignore events, refuse requests and reconcile
/// nothing.
///
/// ```
/// use charon_sdk::*;
///
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct Config { role: Role }
///
/// struct Manual;
///
/// impl Plugin for Manual {
///     type Config = Config;
///     fn manifest() -> Manifest {
///         Manifest::new("my-manual", "My manual enrolment", "1.0.0")
///             .answers(&[RequestKind::EnrolUsers])
///     }
///     fn handle_request(ctx: &Context<Config>, request: Request, _host: &dyn Host) -> Result<Plan, Refusal> {
///         let mut plan = Plan::new();
///         if let Request::EnrolUsers(r) = request {
///             for user in r.users {
///                 plan.enrol(user, r.role.unwrap_or(ctx.config.role), "enrolled by a teacher");
///             }
///         }
///         Ok(plan)
///     }
/// }
/// ```
pub trait Plugin {
    /// An enrolment method's configuration, as the admin's form fills it in
    /// (JSON). Unknown keys should be refused with
    /// `#[serde(deny_unknown_fields)]`.
    type Config: serde::de::DeserializeOwned + serde::Serialize;

    /// Describes the plugin: id, name, version, config form, the events it
    /// wants, the requests it answers and the capabilities it needs.
    fn manifest() -> Manifest;

    /// Checks a parsed config for an enrolment method in `course`. Parsing errors
    /// are reported before this is called.
    fn validate(
        course: CourseId,
        config: &Self::Config,
        host: &dyn Host,
    ) -> Result<(), Vec<FieldError>> {
        let _ = (course, config, host);
        Ok(())
    }

    /// Reacts to an event the manifest lists.
    fn handle_event(
        ctx: &Context<Self::Config>,
        event: Event,
        host: &dyn Host,
    ) -> Result<Plan, Refusal> {
        let _ = (ctx, event, host);
        Ok(Plan::new())
    }

    /// Answers a person's request (the host has already checked they may
    /// make it). List the kinds it answers in the manifest
    /// ([`Manifest::answers`]): the host looks among them for a method
    /// that takes a request, e.g. a course's self enrolment.
    fn handle_request(
        ctx: &Context<Self::Config>,
        request: Request,
        host: &dyn Host,
    ) -> Result<Plan, Refusal> {
        let _ = (ctx, request, host);
        Err(Refusal::new(
            "unsupported",
            "this enrolment method takes no requests",
        ))
    }

    /// Turns the config a method had under version `from_version` of this
    /// plugin into one for this version, when a site moves to it. The host
    /// checks the result with [`validate`](Self::validate) afterwards, and
    /// an error refuses the upgrade (nothing changes). By default the
    /// config is kept as it is.
    ///
    /// ```
    /// use charon_sdk::*;
    /// struct Renamed;
    /// impl Plugin for Renamed {
    ///     type Config = serde_json::Value;
    ///     fn manifest() -> Manifest { Manifest::new("renamed", "Renamed", "2.0.0") }
    ///     fn migrate_config(from: &str, mut config: serde_json::Value) -> Result<serde_json::Value, Vec<FieldError>> {
    ///         // 1.x called the field `cohort`.
    ///         if from.starts_with("1.") && let Some(obj) = config.as_object_mut() && let Some(v) = obj.remove("cohort") {
    ///             obj.insert("segment".into(), v);
    ///         }
    ///         Ok(config)
    ///     }
    /// }
    /// let out = Renamed::migrate_config("1.4.0", serde_json::json!({"cohort": 3})).unwrap();
    /// assert_eq!(out, serde_json::json!({"segment": 3}));
    /// ```
    fn migrate_config(
        from_version: &str,
        config: serde_json::Value,
    ) -> Result<serde_json::Value, Vec<FieldError>> {
        let _ = from_version;
        Ok(config)
    }

    /// One bounded page of reconciling the method; `cursor` is `None` on
    /// the first page and the previous step's `next` afterwards.
    fn reconcile(
        ctx: &Context<Self::Config>,
        cursor: Option<String>,
        host: &dyn Host,
    ) -> Result<ReconcileStep, Refusal> {
        let _ = (ctx, cursor, host);
        Ok(ReconcileStep {
            plan: Plan::new(),
            next: None,
        })
    }
}

/// Exports a [`Plugin`] as the component's implementation of the
/// contract and records [`CONTRACT_VERSION`] in the component.
///
/// Call it once, at the root of the plugin crate.
///
/// ```
/// use charon_sdk::*;
///
/// struct Nothing;
/// impl Plugin for Nothing {
///     type Config = serde_json::Value;
///     fn manifest() -> Manifest { Manifest::new("nothing", "Does nothing", "0.1.0") }
/// }
/// export_plugin!(Nothing);
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty) => {
        #[doc(hidden)]
        #[cfg(target_arch = "wasm32")]
        #[used]
        // The attribute takes a literal: `charon-contract` gives the one
        // its `SECTION` is defined from.
        #[unsafe(link_section = $crate::__private::section_literal!())]
        static __CHARON_CONTRACT_VERSION: [u8; $crate::CONTRACT_VERSION.len()] =
            $crate::__private::contract_bytes::<{ $crate::CONTRACT_VERSION.len() }>();
        $crate::export_plugin!(@without_version $plugin);
    };
    // Exports without the version section: for the host's tests of
    // components that declare another contract version. Not for plugins.
    (@without_version $plugin:ty) => {
        // Natively (unit tests of the plugin's `rlib`, `cargo test
        // --workspace`) the component exports are left out: their symbol
        // names (`charon:enrolment/method@0.2.0#describe`) are not valid in
        // a native linker's version script. The impl still type-checks.
        #[doc(hidden)]
        #[allow(dead_code)]
        struct __CharonExport;

        impl $crate::bindings::exports::charon::enrolment::method::Guest for __CharonExport {
            fn describe() -> $crate::Manifest {
                <$plugin as $crate::Plugin>::manifest()
            }
            fn validate_config(
                course: $crate::CourseId,
                config: ::std::string::String,
            ) -> ::std::result::Result<::std::string::String, ::std::vec::Vec<$crate::FieldError>> {
                $crate::__private::validate_config::<$plugin>(course, &config, &$crate::WasmHost)
            }
            fn handle_event(
                ctx: $crate::bindings::charon::enrolment::types::Context,
                event: $crate::Event,
            ) -> ::std::result::Result<$crate::Plan, $crate::Refusal> {
                $crate::__private::handle_event::<$plugin>(ctx, event, &$crate::WasmHost)
            }
            fn handle_request(
                ctx: $crate::bindings::charon::enrolment::types::Context,
                request: $crate::Request,
            ) -> ::std::result::Result<$crate::Plan, $crate::Refusal> {
                $crate::__private::handle_request::<$plugin>(ctx, request, &$crate::WasmHost)
            }
            fn reconcile(
                ctx: $crate::bindings::charon::enrolment::types::Context,
                cursor: ::std::option::Option<::std::string::String>,
            ) -> ::std::result::Result<$crate::ReconcileStep, $crate::Refusal> {
                $crate::__private::reconcile::<$plugin>(ctx, cursor, &$crate::WasmHost)
            }
            fn migrate_config(
                _course: $crate::CourseId,
                from_version: ::std::string::String,
                config: ::std::string::String,
            ) -> ::std::result::Result<::std::string::String, ::std::vec::Vec<$crate::FieldError>> {
                $crate::__private::migrate_config::<$plugin>(&from_version, &config)
            }
        }

        // An enrolment-method plugin answers no segment-rule call (the
        // host never makes one to it).
        $crate::__private::refuse_rule_calls!(__CharonExport);

        // Natively nothing calls the impl above, so without this the
        // method's type would be "never constructed" in a native build.
        #[cfg(not(target_arch = "wasm32"))]
        const _: () = {
            let _ = <$plugin as $crate::Plugin>::manifest;
        };
        #[cfg(target_arch = "wasm32")]
        $crate::bindings::__export_plugin_world!(__CharonExport with_types_in $crate::bindings);
    };
}

#[doc(hidden)]
pub mod __private {
    pub use crate::glue::{
        handle_event, handle_request, migrate_config, reconcile, validate_config,
    };
    pub use crate::rule::{
        not_this_kind, rule_event, rule_manifest, rule_reconcile, validate_rule,
    };
    pub use crate::{refuse_method_calls, refuse_rule_calls};
    pub use charon_contract::section_literal;
    pub use wit_bindgen;

    /// `CONTRACT_VERSION` as a byte array, for a `static` in a custom section.
    pub const fn contract_bytes<const N: usize>() -> [u8; N] {
        let src = crate::CONTRACT_VERSION.as_bytes();
        let mut out = [0u8; N];
        let mut i = 0;
        while i < N {
            out[i] = src[i];
            i += 1;
        }
        out
    }
}
