//! What `load` refuses, and why it says so.

use super::*;

#[track_caller]
fn refused(rt: &Runtime, bytes: &[u8]) -> String {
    match rt.load(bytes) {
        Err(PluginError::Invalid(message)) => message,
        Err(other) => panic!("refused as {other:?}, not Invalid"),
        Ok(plugin) => panic!("{plugin:?} was loaded"),
    }
}

#[test]
fn a_component_importing_sockets_is_refused_naming_the_interface() {
    let rt = Runtime::new(test_config()).unwrap();
    let message = refused(&rt, &test_plugin_bytes("charon-test-forbidden-import"));
    assert!(
        message.contains("outside what a plugin may use"),
        "{message}"
    );
    assert!(message.contains("wasi:sockets/"), "{message}");
    // Only the forbidden interfaces are named, not the allowed ones.
    assert!(!message.contains("wasi:io/"), "{message}");
}

#[test]
fn an_unknown_contract_version_is_refused_naming_both_versions() {
    let rt = Runtime::new(test_config()).unwrap();
    let message = refused(&rt, &test_plugin_bytes("charon-test-unknown-version"));
    assert!(message.contains("\"9.9.9\""), "{message}");
    assert!(
        message.contains(&format!(
            "this host supports {}",
            SUPPORTED_CONTRACTS.join(", ")
        )),
        "{message}"
    );
}

#[test]
fn bytes_that_are_not_a_component_are_refused() {
    let rt = Runtime::new(test_config()).unwrap();
    assert!(refused(&rt, b"").contains("not WebAssembly"));
    assert!(refused(&rt, b"#!/bin/sh\nrm -rf /\n").contains("not WebAssembly"));
    assert!(refused(&rt, b"\0asm\x01\0\0\0").contains("core WebAssembly module, not a component"));

    let noop = test_plugin_bytes("charon-test-noop");
    let truncated = refused(&rt, &noop[..noop.len() / 2]);
    assert!(truncated.contains("malformed"), "{truncated}");
    // Damage in the middle of a section: still refused, never a crash.
    let mut damaged = noop.clone();
    let middle = damaged.len() / 2;
    damaged[middle..middle + 64].fill(0xff);
    assert!(matches!(rt.load(&damaged), Err(PluginError::Invalid(_))));

    let too_big = vec![0u8; MAX_COMPONENT_BYTES + 1];
    assert!(refused(&rt, &too_big).contains("at most 32 MiB"));
    // None of it disturbed the runtime.
    assert_eq!(rt.load(&noop).unwrap().manifest.id, "noop");
}

#[test]
fn loading_the_same_bytes_twice_gives_the_same_identity() {
    let rt = Runtime::new(test_config()).unwrap();
    let bytes = test_plugin_bytes("charon-test-hostile");
    let (a, b) = (rt.load(&bytes).unwrap(), rt.load(&bytes).unwrap());
    assert_eq!(a.sha256, b.sha256);
    assert_eq!(a.sha256.len(), 64);
    assert_eq!(a.manifest.capabilities, b.manifest.capabilities);
    assert!(!a.manifest.capabilities.contains(&Capability::ReadSegments));
}

/// The SDK's `export_plugin!` writes the contract version into the custom
/// section the runtime reads: both name it through `charon-contract`, the
/// SDK's `link_section` attribute by a literal of its own.
#[test]
fn a_component_built_with_the_sdk_declares_its_version_where_the_runtime_reads_it() {
    let bytes = test_plugin_bytes("charon-test-noop");
    let declared: Vec<Vec<u8>> = wasmparser::Parser::new(0)
        .parse_all(&bytes)
        .filter_map(|payload| match payload.ok()? {
            wasmparser::Payload::CustomSection(s) if s.name() == charon_sdk::CONTRACT_SECTION => {
                Some(s.data().to_vec())
            }
            _ => None,
        })
        .collect();
    assert_eq!(declared, [charon_sdk::CONTRACT_VERSION.as_bytes()]);
    assert_eq!(
        Runtime::new(test_config())
            .unwrap()
            .load(&bytes)
            .unwrap()
            .contract,
        charon_sdk::CONTRACT_VERSION
    );
}
