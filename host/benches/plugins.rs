//! The plugin runtime's own costs (issue 4, BENCHMARKS.md):
//! - a no-op hook call host → guest → host through `Runtime::handle_event`
//!   with the `noop` test plugin, in a fresh store instantiated from the
//!   pre-instantiated template as production does (target < 20 µs);
//! - instantiation alone (fresh store, method, drop);
//! - start-up: `Runtime::new` plus `load` of one plugin, with a cold disk
//!   cache (compiles) and a warm one (deserialises).
//!
//! Run: `cargo bench -p charon-host --bench plugins`.

mod common;
use common::machine;

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use charon_host::domain::{CourseId, EnrolmentMethodId, Timestamp, UserId};
use charon_host::runtime::contract::{Context, Event};
use charon_host::runtime::{Runtime, RuntimeConfig, no_queries};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

fn noop_bytes() -> Vec<u8> {
    let path = PathBuf::from(env!("CHARON_PLUGIN_WASM_DIR")).join("charon_test_noop.wasm");
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn benches(c: &mut Criterion) {
    eprintln!("machine: {}", machine());
    let bytes = noop_bytes();
    eprintln!("noop component: {} KiB", bytes.len() / 1024);

    let rt = Runtime::new(RuntimeConfig::default()).expect("runtime");
    let noop = rt.load(&bytes).expect("load");
    let ctx = Context {
        method: EnrolmentMethodId(1),
        course: CourseId(1),
        config: "{}".into(),
        settings: "{}".into(),
        enabled: true,
        now: Timestamp(0),
    };
    let event = Event::UserEnrolled {
        user: UserId(42),
        method: EnrolmentMethodId(1),
    };

    let mut g = c.benchmark_group("plugin call");
    g.bench_function("no-op hook call (fresh instance)", |b| {
        b.iter(|| {
            let plan = rt
                .handle_event(&noop, no_queries(), &ctx, &event)
                .expect("call")
                .expect("plan");
            black_box(plan)
        })
    });
    g.bench_function("instantiation alone", |b| {
        b.iter(|| rt.instantiate(&noop).expect("instantiate"))
    });
    g.finish();

    let mut g = c.benchmark_group("plugin start-up");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    g.bench_function("Runtime::new alone", |b| {
        b.iter(|| black_box(Runtime::new(RuntimeConfig::default()).expect("runtime")))
    });
    g.bench_function("Runtime::new + load, cold cache", |b| {
        b.iter_batched(
            || tempfile::tempdir().expect("temp dir"),
            |dir| {
                let rt = Runtime::new(RuntimeConfig {
                    cache_dir: Some(dir.path().to_path_buf()),
                    ..RuntimeConfig::default()
                })
                .expect("runtime");
                let plugin = rt.load(&bytes).expect("load");
                assert!(!plugin.from_cache);
                (rt, plugin, dir)
            },
            BatchSize::PerIteration,
        )
    });
    let warm = tempfile::tempdir().expect("temp dir");
    let warm_config = RuntimeConfig {
        cache_dir: Some(warm.path().to_path_buf()),
        ..RuntimeConfig::default()
    };
    Runtime::new(warm_config.clone())
        .expect("runtime")
        .load(&bytes)
        .expect("load");
    g.bench_function("Runtime::new + load, warm cache", |b| {
        b.iter(|| {
            let rt = Runtime::new(warm_config.clone()).expect("runtime");
            let plugin = rt.load(&bytes).expect("load");
            assert!(plugin.from_cache);
            black_box((rt, plugin))
        })
    });
    g.finish();
}

criterion_group!(plugins, benches);
criterion_main!(plugins);
