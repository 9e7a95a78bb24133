//! The runtime against real components built from `tests/plugins/`.

use super::*;

pub(crate) fn test_plugin_bytes(crate_name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CHARON_PLUGIN_WASM_DIR"))
        .join(format!("{}.wasm", crate_name.replace('-', "_")));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn a_noop_component_loads_and_describes_itself() {
    let rt = Runtime::new(RuntimeConfig::default()).unwrap();
    let plugin = rt.load(&test_plugin_bytes("charon-test-noop")).unwrap();
    assert_eq!(plugin.manifest.id, "noop");
    assert_eq!(plugin.contract, "0.1.0");
    let ctx = wit::Context {
        instance: 1,
        course: 1,
        config: "{}".into(),
        enabled: true,
        now: 0,
    };
    let plan = rt
        .handle_event(
            &plugin,
            state::no_queries(),
            &ctx,
            &wit::Event::UserDeleted(3),
        )
        .unwrap()
        .unwrap();
    assert!(plan.actions.is_empty());
}
