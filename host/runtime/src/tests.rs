//! What the runtime guarantees without running a component: its ticker
//! thread, its error codes, the cache key of compiled code, and bindings
//! for every contract version it claims to support. The tests that load
//! real components are in the host crate (`host/src/runtime_tests/`),
//! whose build script builds them.

use super::*;

/// The epoch ticker is one thread per runtime; dropping the runtime stops
/// and joins it, so tests and hosts that make many runtimes leak nothing.
#[test]
fn dropping_runtimes_leaves_no_ticker_thread_behind() {
    fn tickers() -> usize {
        std::fs::read_dir("/proc/self/task")
            .map(|tasks| {
                tasks
                    .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
                    .filter(|name| name.trim() == "charon-epoch")
                    .count()
            })
            .unwrap_or(0)
    }
    let before = tickers();
    for _ in 0..50 {
        let rt = Runtime::new(test_config()).unwrap();
        drop(rt);
    }
    // Other tests run alongside and hold a few runtimes of their own.
    let after = tickers();
    assert!(
        after < before + 10,
        "{before} ticker threads before, {after} after 50 runtimes were dropped"
    );

    // And the ticker stops by itself if the engine goes first.
    let engine = Engine::default();
    let ticker = Ticker::start(&engine).unwrap();
    drop(engine);
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    while !ticker.thread.is_finished() && std::time::Instant::now() < deadline {
        std::thread::sleep(TICK);
    }
    assert!(ticker.thread.is_finished());
}

/// Few pool slots: many runtimes are made and dropped.
fn test_config() -> RuntimeConfig {
    RuntimeConfig {
        max_concurrent_calls: 8,
        ..RuntimeConfig::default()
    }
}

#[test]
fn plugin_error_codes_are_stable() {
    assert_eq!(
        PluginError::Timeout(Duration::from_secs(1)).code(),
        "plugin_timeout"
    );
    assert_eq!(
        PluginError::OutOfMemory(1 << 20).to_string(),
        "the plugin needed more than its 1 MiB memory limit and was stopped"
    );
    assert_eq!(busy(3).code(), "runtime_error");
}

/// The key changes with every setting that changes machine code, and only
/// with those: limits enforced at run time share the cache.
#[test]
fn the_engine_key_follows_the_settings_that_shape_machine_code() {
    let key = |configure: &dyn Fn(&mut Config)| {
        let mut config = Config::new();
        config.wasm_component_model(true).epoch_interruption(true);
        configure(&mut config);
        cache::engine_key(&Engine::new(&config).unwrap())
    };
    let base = key(&|_| {});
    assert_eq!(base, key(&|_| {}), "the key is stable");
    assert_ne!(
        base,
        key(&|c| {
            c.epoch_interruption(false);
        })
    );
    assert_ne!(
        base,
        key(&|c| {
            c.memory_reservation(64 << 20);
        })
    );
    assert_ne!(
        base,
        key(&|c| {
            c.memory_guard_size(64 << 10);
        })
    );
    assert_ne!(
        base,
        key(&|c| {
            c.cranelift_opt_level(wasmtime::OptLevel::None);
        })
    );

    let a = Runtime::new(test_config()).unwrap();
    let b = Runtime::new(RuntimeConfig {
        memory_limit: 8 << 20,
        deadline: Duration::from_secs(9),
        max_concurrent_calls: 3,
        ..test_config()
    })
    .unwrap();
    assert_eq!(cache::engine_key(a.engine()), cache::engine_key(b.engine()));
}

/// Every version the contract crate lists as supported has bindings here:
/// a component without the contract's exports is refused for what it
/// lacks, never for a version the host claims but cannot speak.
#[test]
fn every_supported_contract_version_has_bindings() {
    let rt = Runtime::new(test_config()).unwrap();
    // The smallest component: the preamble of the component binary format.
    let empty = wasmtime::component::Component::new(rt.engine(), b"\0asm\x0d\0\x01\0").unwrap();
    let pre = rt.linker.instantiate_pre(&empty).unwrap();
    for version in SUPPORTED_CONTRACTS {
        let Err(PluginError::Invalid(message)) = Bindings::of(version, &pre) else {
            panic!("{version}: an empty component was bound");
        };
        assert!(message.contains("does not export"), "{version}: {message}");
    }
    let Err(PluginError::Invalid(message)) = Bindings::of("9.9.9", &pre) else {
        panic!("an unknown version was bound");
    };
    assert!(message.contains("no bindings"), "{message}");
}
