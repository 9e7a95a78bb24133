//! What a plugin can reach: host queries only with the capability its
//! manifest declares, and nothing of the host through WASI.

use super::*;

/// Runs the probe plugin and returns its findings (it reports them as the
/// message of a refusal).
fn probe(
    rt: &Runtime,
    plugin: &Plugin,
    queries: Box<dyn Queries>,
    what: &str,
) -> serde_json::Map<String, serde_json::Value> {
    let outcome = rt
        .handle_event(
            plugin,
            queries,
            &ctx(&format!(r#"{{"probe":"{what}"}}"#)),
            &enrolled(),
        )
        .unwrap();
    let refusal = outcome.unwrap_err();
    assert_eq!(refusal.code, "probe", "{refusal:?}");
    serde_json::from_str(&refusal.message).unwrap()
}

fn finding<'a>(found: &'a serde_json::Map<String, serde_json::Value>, key: &str) -> &'a str {
    found[key].as_str().unwrap()
}

#[test]
fn queries_outside_the_declared_capabilities_are_denied_before_reaching_the_data() {
    let rt = Runtime::new(test_config()).unwrap();
    let plugin = rt.load(&test_plugin_bytes("charon-test-probe")).unwrap();
    assert_eq!(plugin.manifest.capabilities, vec![Capability::ReadUsers]);
    let scripted = Scripted::default();
    let found = probe(&rt, &plugin, Box::new(scripted.clone()), "host");

    assert!(
        finding(&found, "read-users").starts_with("ok: Some(User { id: 1, username: \"ada\""),
        "{found:?}"
    );
    for (capability, leaked) in [
        ("read-segments", "Secret segment"),
        ("read-enrolments", "12345"),
        ("read-groups", "Secret group"),
    ] {
        let seen = finding(&found, capability);
        assert_eq!(
            seen,
            format!("denied: the plugin's manifest does not declare the {capability} capability"),
            "{found:?}"
        );
        assert!(!seen.contains(leaked));
    }
    assert_eq!(
        *scripted.asked.lock().unwrap(),
        vec!["user"],
        "only the declared query reached the data"
    );
}

#[test]
fn wasi_gives_no_environment_no_files_and_a_frozen_clock() {
    let rt = Runtime::new(test_config()).unwrap();
    let plugin = rt.load(&test_plugin_bytes("charon-test-probe")).unwrap();
    let found = probe(&rt, &plugin, no_queries(), "wasi");

    assert_eq!(
        finding(&found, "env"),
        "[]",
        "the host's environment leaked: {found:?}"
    );
    assert_eq!(finding(&found, "args"), "[]");
    let passwd = finding(&found, "passwd");
    assert!(passwd.starts_with("error: "), "read /etc/passwd: {passwd}");
    assert!(!passwd.contains("root:"), "{passwd}");
    assert!(
        finding(&found, "root").starts_with("error: "),
        "listed /: {found:?}"
    );
    // Without the `clock` capability time stands still at the epoch.
    assert_eq!(finding(&found, "wall-clock-ms"), "0");
    assert_eq!(finding(&found, "monotonic-elapsed-ns"), "0");
}

/// Rust's own stack lives in linear memory; overflowing it is an
/// out-of-bounds access, which the error explains as a likely stack
/// overflow rather than a bare trap.
#[test]
fn overflowing_the_stack_in_linear_memory_is_explained_as_such() {
    let rt = Runtime::new(test_config()).unwrap();
    let plugin = rt.load(&test_plugin_bytes("charon-test-probe")).unwrap();
    let err = rt
        .handle_event(
            &plugin,
            no_queries(),
            &ctx(r#"{"probe":"shadow-stack"}"#),
            &enrolled(),
        )
        .unwrap_err();
    match &err {
        PluginError::StackOverflow => {}
        PluginError::Crashed(message) => assert!(message.contains("stack overflowed"), "{message}"),
        other => panic!("{other:?}"),
    }
    // The next call of the same plugin runs in a fresh instance.
    let found = probe(&rt, &plugin, no_queries(), "wasi");
    assert_eq!(finding(&found, "env"), "[]");
}

#[test]
fn a_plugin_that_exits_is_a_crash_naming_the_status() {
    let rt = Runtime::new(test_config()).unwrap();
    let plugin = rt.load(&test_plugin_bytes("charon-test-probe")).unwrap();
    let err = rt
        .handle_event(
            &plugin,
            no_queries(),
            &ctx(r#"{"probe":"exit"}"#),
            &enrolled(),
        )
        .unwrap_err();
    let PluginError::Crashed(message) = &err else {
        panic!("{err:?}")
    };
    // WASI 0.2 carries only success or failure: `exit(3)` arrives as 1.
    assert_eq!(message, "the plugin exited (status 1) instead of returning");
}
