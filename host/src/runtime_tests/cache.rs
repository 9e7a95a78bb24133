//! The disk cache of compiled components.

use super::*;

fn cached_files(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn with_cache(dir: &std::path::Path) -> RuntimeConfig {
    RuntimeConfig {
        cache_dir: Some(dir.to_path_buf()),
        ..test_config()
    }
}

#[test]
fn a_second_runtime_loads_from_the_cache_file() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = test_plugin_bytes("charon-test-noop");

    let first = Runtime::new(with_cache(dir.path())).unwrap();
    let compiled = first.load(&bytes).unwrap();
    assert!(!compiled.from_cache);
    let key = crate::runtime::cache::engine_key(first.engine());
    assert_eq!(key.len(), 16);
    assert_eq!(
        cached_files(dir.path()),
        vec![format!("{}-{key}.cwasm", compiled.sha256)]
    );
    drop(first);

    // Another runtime with other limits: same machine code, same file.
    let second = Runtime::new(RuntimeConfig {
        memory_limit: 32 << 20,
        ..with_cache(dir.path())
    })
    .unwrap();
    let cached = second.load(&bytes).unwrap();
    assert!(cached.from_cache);
    assert_eq!(cached.sha256, compiled.sha256);
    assert_eq!(cached_files(dir.path()).len(), 1);
    let plan = second
        .handle_event(&cached, no_queries(), &ctx("{}"), &enrolled())
        .unwrap()
        .unwrap();
    assert!(plan.actions.is_empty());
}

#[test]
fn a_damaged_cache_file_is_ignored_and_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = test_plugin_bytes("charon-test-hostile");
    let rt = Runtime::new(with_cache(dir.path())).unwrap();
    let plugin = rt.load(&bytes).unwrap();
    let path = crate::runtime::cache::cache_path(rt.engine(), dir.path(), &plugin.sha256);
    let good = std::fs::read(&path).unwrap();

    let mut flipped = good.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x01; // one bit of machine code or metadata
    for (damaged, why) in [
        (flipped.clone(), "checksum does not match"),
        (good[..good.len() / 3].to_vec(), "checksum does not match"),
        (b"garbage".to_vec(), "truncated"),
        (Vec::new(), "truncated"),
    ] {
        std::fs::write(&path, &damaged).unwrap();
        let refused = crate::runtime::cache::read_cached(rt.engine(), &path).map(|c| c.is_some());
        assert!(
            refused.as_ref().is_err_and(|e| e.contains(why)),
            "{} bytes: {refused:?}",
            damaged.len()
        );
    }

    // Loading over a damaged file compiles again and replaces the file.
    std::fs::write(&path, &flipped).unwrap();
    let reloaded = rt.load(&bytes).unwrap();
    assert!(!reloaded.from_cache, "the damaged file was used");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        good,
        "the file was not rewritten"
    );
    let plan = rt
        .handle_event(
            &reloaded,
            no_queries(),
            &behaviour("well-behaved"),
            &enrolled(),
        )
        .unwrap()
        .unwrap();
    assert_eq!(plan.actions.len(), 1);
    assert!(rt.load(&bytes).unwrap().from_cache);
}

#[test]
fn an_unwritable_cache_dir_only_costs_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, b"a file where the cache dir should be").unwrap();
    let rt = Runtime::new(with_cache(&blocker)).unwrap();
    let plugin = rt.load(&test_plugin_bytes("charon-test-noop")).unwrap();
    assert!(!plugin.from_cache);
}
