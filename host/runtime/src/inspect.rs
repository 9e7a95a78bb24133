//! Checks a component before it is trusted with a call: that it is a
//! component, which contract it was built against, what it imports, and
//! that its manifest makes sense.

use sha2::{Digest, Sha256};
use wasmparser::{Encoding, Parser, Payload};

use charon_contract::{SECTION as CONTRACT_SECTION, SUPPORTED as SUPPORTED_CONTRACTS};

use crate::PluginError;
use crate::contract::Manifest;

/// Components larger than this are refused before parsing.
pub const MAX_COMPONENT_BYTES: usize = 32 << 20;

pub struct Inspected {
    pub sha256: String,
    pub contract: String,
}

/// Reads what can be read without compiling: wasm or not, component or
/// module, and the contract version.
pub fn inspect_component(bytes: &[u8]) -> Result<Inspected, PluginError> {
    if bytes.len() > MAX_COMPONENT_BYTES {
        return Err(PluginError::Invalid(format!(
            "the file is {} MiB; a plugin may be at most {} MiB",
            bytes.len() >> 20,
            MAX_COMPONENT_BYTES >> 20
        )));
    }
    if !bytes.starts_with(b"\0asm") {
        return Err(PluginError::Invalid(
            "the file is not WebAssembly (it does not start with \\0asm)".into(),
        ));
    }
    let mut contracts = Vec::new();
    let mut first = true;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload
            .map_err(|e| PluginError::Invalid(format!("the WebAssembly is malformed: {e}")))?;
        match payload {
            Payload::Version { encoding, .. } if first => {
                first = false;
                if encoding != Encoding::Component {
                    return Err(PluginError::Invalid(
                        "the file is a core WebAssembly module, not a component; build it for wasm32-wasip2".into(),
                    ));
                }
            }
            Payload::CustomSection(s) if s.name() == CONTRACT_SECTION => {
                let text = std::str::from_utf8(s.data()).map_err(|_| {
                    PluginError::Invalid(format!("the {CONTRACT_SECTION} section is not text"))
                })?;
                contracts.push(text.trim_end_matches('\0').trim().to_owned());
            }
            _ => {}
        }
    }
    contracts.dedup();
    let contract = match contracts.as_slice() {
        [] => {
            return Err(PluginError::Invalid(format!(
                "the component has no {CONTRACT_SECTION} section: it was not built with charon-sdk's export_plugin!"
            )));
        }
        [one] => one.clone(),
        many => {
            return Err(PluginError::Invalid(format!(
                "the component declares several contract versions ({})",
                many.join(", ")
            )));
        }
    };
    if !SUPPORTED_CONTRACTS.contains(&contract.as_str()) {
        return Err(PluginError::Invalid(format!(
            "the component was built against contract version {contract:?}; this host supports {}",
            SUPPORTED_CONTRACTS.join(", ")
        )));
    }
    Ok(Inspected {
        sha256: hex(&Sha256::digest(bytes)),
        contract,
    })
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// WASI interfaces a component may import: those Rust's std on
/// wasm32-wasip2 imports (all linked with nothing granted). With its own
/// contract version's `types` and `host`, that is all: sockets, HTTP, the
/// interfaces of another contract version and anything else are refused.
const ALLOWED_WASI_IMPORTS: &[&str] = &[
    "wasi:cli/environment@0.2",
    "wasi:cli/exit@0.2",
    "wasi:cli/stdin@0.2",
    "wasi:cli/stdout@0.2",
    "wasi:cli/stderr@0.2",
    "wasi:cli/terminal-input@0.2",
    "wasi:cli/terminal-output@0.2",
    "wasi:cli/terminal-stdin@0.2",
    "wasi:cli/terminal-stdout@0.2",
    "wasi:cli/terminal-stderr@0.2",
    "wasi:io/error@0.2",
    "wasi:io/poll@0.2",
    "wasi:io/streams@0.2",
    "wasi:clocks/wall-clock@0.2",
    "wasi:clocks/monotonic-clock@0.2",
    "wasi:filesystem/types@0.2",
    "wasi:filesystem/preopens@0.2",
    "wasi:random/random@0.2",
    "wasi:random/insecure@0.2",
    "wasi:random/insecure-seed@0.2",
];

fn import_allowed(contract: &charon_contract::Interfaces, name: &str) -> bool {
    if name == contract.types || name == contract.host {
        return true;
    }
    ALLOWED_WASI_IMPORTS.iter().any(|allowed| {
        // `wasi:io/streams@0.2` allows every 0.2.x patch version.
        name == *allowed
            || (allowed.ends_with("@0.2")
                && name
                    .strip_prefix(allowed)
                    .is_some_and(|rest| rest.starts_with('.')))
    })
}

/// Refuses a component that imports anything but its contract version's
/// interfaces and the allowed WASI ones.
pub(crate) fn check_imports(
    engine: &wasmtime::Engine,
    component: &wasmtime::component::Component,
    contract: &str,
) -> Result<(), PluginError> {
    let own = charon_contract::interfaces(contract)
        .ok_or_else(|| PluginError::Invalid(format!("unknown contract version {contract:?}")))?;
    let ty = component.component_type();
    let forbidden: Vec<String> = ty
        .imports(engine)
        .map(|(name, _)| name.to_owned())
        .filter(|name| !import_allowed(&own, name))
        .collect();
    if forbidden.is_empty() {
        Ok(())
    } else {
        Err(PluginError::Invalid(format!(
            "the component imports {} outside what a plugin may use: {}",
            if forbidden.len() == 1 {
                "an interface"
            } else {
                "interfaces"
            },
            forbidden.join(", ")
        )))
    }
}

/// A manifest the host can register and show.
pub(crate) fn check_manifest(m: &Manifest) -> Result<(), PluginError> {
    let bad = |msg: String| {
        Err(PluginError::Invalid(format!(
            "the plugin's manifest is invalid: {msg}"
        )))
    };
    if m.id.is_empty()
        || m.id.len() > 64
        || !m
            .id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return bad(format!(
            "id {:?} must be 1–64 characters of a-z, 0-9 and -",
            m.id
        ));
    }
    if m.name.trim().is_empty() || m.name.len() > 200 {
        return bad("name must be 1–200 characters".into());
    }
    if parse_version(&m.version).is_none() {
        return bad(format!("version {:?} is not MAJOR.MINOR.PATCH", m.version));
    }
    for (form, fields) in [("config", &m.config), ("setting", &m.settings)] {
        let mut keys = std::collections::HashSet::new();
        for field in fields {
            if field.key.is_empty() || !keys.insert(field.key.as_str()) {
                return bad(format!(
                    "{form} field key {:?} is empty or repeated",
                    field.key
                ));
            }
            if let Err(why) = field.check_declaration() {
                return bad(format!("{form} {why}"));
            }
            if form == "setting" && field.kind.names_course_group() {
                return bad(format!(
                    "setting field {:?}: a site-wide setting cannot name a course group",
                    field.key
                ));
            }
        }
    }
    Ok(())
}

/// `MAJOR.MINOR.PATCH` as numbers, for ordering versions.
pub fn parse_version(v: &str) -> Option<(u64, u64, u64)> {
    let mut parts = v.split('.').map(|p| p.parse::<u64>().ok());
    let out = (parts.next()??, parts.next()??, parts.next()??);
    parts.next().is_none().then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_versions_of_allowed_wasi_interfaces_pass() {
        let v0_1_0 = charon_contract::v0_1_0::INTERFACES;
        assert!(import_allowed(&v0_1_0, "wasi:io/streams@0.2.6"));
        assert!(import_allowed(&v0_1_0, "charon:enrolment/host@0.1.0"));
        assert!(!import_allowed(&v0_1_0, "wasi:sockets/tcp@0.2.6"));
        assert!(!import_allowed(&v0_1_0, "wasi:io/streams@0.20.0"));
        assert!(!import_allowed(&v0_1_0, "charon:enrolment/host@0.2.0"));
        // Each version imports its own interfaces only.
        let v0_2_0 = charon_contract::v0_2_0::INTERFACES;
        assert!(import_allowed(&v0_2_0, "charon:enrolment/host@0.2.0"));
        assert!(!import_allowed(&v0_2_0, "charon:enrolment/host@0.1.0"));
    }

    #[test]
    fn bytes_that_are_not_wasm_are_refused_with_a_reason() {
        let e = inspect_component(b"hello").err().unwrap();
        assert!(e.to_string().contains("not WebAssembly"), "{e}");
        let e = inspect_component(b"\0asm\x01\0\0\0").err().unwrap();
        assert!(e.to_string().contains("core WebAssembly module"), "{e}");
    }

    #[test]
    fn versions_parse_strictly() {
        assert_eq!(parse_version("1.10.3"), Some((1, 10, 3)));
        assert_eq!(parse_version("1.0"), None);
        assert_eq!(parse_version("1.0.0-beta"), None);
    }
}
