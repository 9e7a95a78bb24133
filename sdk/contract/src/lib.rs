//! The names of Charon's plugin contract, defined once for both sides: the
//! SDK writes them into a plugin, the host's runtime reads them back.
//!
//! - [`SECTION`]: the custom section in which a component declares the
//!   contract version it was built against;
//! - the released versions ([`V0_1_0`], …), each with a module of the
//!   interface names it defines ([`v0_1_0::METHOD`] …);
//! - [`SUPPORTED`]: the versions this host runs.
//!
//! A released version never changes: its WIT lives frozen in
//! `sdk/wit/since_vX.Y.Z/`. A new version is one more line in the
//! `released!` list below (and, once the host runs it, in [`SUPPORTED`]).
//!
//! This crate holds names only, no logic and no dependencies: anything
//! that decides what a version means belongs to the runtime's
//! `contract` module or to the SDK.
//!
//! ```
//! assert_eq!(charon_contract::SECTION, "charon:contract-version");
//! assert_eq!(charon_contract::v0_1_0::METHOD, "charon:enrolment/method@0.1.0");
//! assert_eq!(charon_contract::interfaces("0.1.0"), Some(charon_contract::v0_1_0::INTERFACES));
//! assert_eq!(charon_contract::SUPPORTED, ["0.1.0", "0.2.0", "0.3.0", "0.4.0"]);
//! ```

#![no_std]

/// The custom section's name as a literal, for attributes that take one
/// (`#[link_section = …]` in the SDK's `export_plugin!`); everything else
/// reads [`SECTION`].
#[doc(hidden)]
#[macro_export]
macro_rules! section_literal {
    () => {
        "charon:contract-version"
    };
}

/// The WIT package every version's interfaces belong to, as a literal for
/// `concat!`.
macro_rules! package {
    () => {
        "charon:enrolment"
    };
}

/// The custom section in which a component names the contract version it
/// was built against (UTF-8, e.g. `0.1.0`).
pub const SECTION: &str = section_literal!();

/// The WIT package of the contract.
pub const PACKAGE: &str = package!();

/// The interfaces one contract version defines, by their full names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interfaces {
    /// `types`: the vocabulary both sides share (imported by a plugin).
    pub types: &'static str,
    /// `host`: the read-only queries the host offers (imported by a plugin).
    pub host: &'static str,
    /// `method`: the functions a plugin exports.
    pub method: &'static str,
}

/// Declares the released versions: a `&str` constant and a module of its
/// interface names per version, and [`interfaces`] over all of them, so a
/// version's number is written exactly once.
macro_rules! released {
    ($($(#[$doc:meta])* $constant:ident, $module:ident = $number:literal;)*) => {
        $(
            $(#[$doc])*
            pub const $constant: &str = $number;

            #[doc = concat!("The interface names of contract ", $number, ".")]
            pub mod $module {
                use super::Interfaces;

                pub const VERSION: &str = $number;
                pub const TYPES: &str = concat!(package!(), "/types@", $number);
                pub const HOST: &str = concat!(package!(), "/host@", $number);
                pub const METHOD: &str = concat!(package!(), "/method@", $number);
                pub const INTERFACES: Interfaces = Interfaces {
                    types: TYPES,
                    host: HOST,
                    method: METHOD,
                };
            }
        )*

        /// Every released version, oldest first.
        pub const RELEASED: &[&str] = &[$($constant),*];

        /// The interface names of a released version, `None` for a number
        /// that was never released.
        pub fn interfaces(version: &str) -> Option<Interfaces> {
            match version {
                $($number => Some($module::INTERFACES),)*
                _ => None,
            }
        }
    };
}

released! {
    /// The first contract (`sdk/wit/since_v0.1.0`).
    V0_1_0, v0_1_0 = "0.1.0";
    /// `sdk/wit/since_v0.2.0`: one name for an enrolment method (0.1.0's
    /// `instance`), no `instance-deleted`, the `group-choice` field kind
    /// and the requests a plugin answers in its manifest.
    V0_2_0, v0_2_0 = "0.2.0";
    /// `sdk/wit/since_v0.3.0`: users with their site role and profile
    /// values, user listing and indexed user queries, `user-created` and
    /// `user-updated`, the `profile-field` field kind.
    V0_3_0, v0_3_0 = "0.3.0";
    /// `sdk/wit/since_v0.4.0`: the plugin's kind in its manifest and the
    /// `segment-rule` interface (world `plugin`).
    V0_4_0, v0_4_0 = "0.4.0";
}

/// The `segment-rule` interface of contract 0.4.0, the first with it: what
/// a segment-rule plugin exports besides `method`.
pub const SEGMENT_RULE_V0_4_0: &str = concat!(package!(), "/segment-rule@0.4.0");

/// The contract versions this host runs, oldest first. The runtime has one
/// module of bindings per entry (`host/runtime/src/contract/`).
pub const SUPPORTED: &[&str] = &[V0_1_0, V0_2_0, V0_3_0, V0_4_0];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interface_names_are_the_package_the_interface_and_the_version() {
        assert_eq!(
            interfaces(V0_1_0),
            Some(Interfaces {
                types: "charon:enrolment/types@0.1.0",
                host: "charon:enrolment/host@0.1.0",
                method: "charon:enrolment/method@0.1.0",
            })
        );
        assert_eq!(
            interfaces(V0_2_0).map(|i| i.host),
            Some("charon:enrolment/host@0.2.0")
        );
        assert_eq!(interfaces("9.9.9"), None);
    }

    #[test]
    fn every_supported_version_was_released() {
        for version in SUPPORTED {
            assert!(RELEASED.contains(version), "{version} was never released");
        }
    }
}
