//! Each misbehaviour of the hostile plugin, through every entry point that
//! runs plugin code, is stopped with the error that names it, and the
//! runtime keeps serving afterwards.

use std::time::Instant;

use super::*;

/// Runs `behaviour` through handle-event, handle-request, reconcile and
/// validate-config (as `validate-<behaviour>`), returning each outcome
/// with the entry point's name.
fn through_every_entry(l: &Loaded, b: &str) -> Vec<(&'static str, Result<(), PluginError>)> {
    let ctx = behaviour(b);
    let request = Request::SelfUnenrol(UserId(42));
    let validate_config = format!(r#"{{"behaviour":"validate-{b}"}}"#);
    vec![
        (
            "handle-event",
            l.rt.handle_event(&l.hostile, no_queries(), &ctx, &enrolled())
                .map(drop),
        ),
        (
            "handle-request",
            l.rt.handle_request(&l.hostile, no_queries(), &ctx, &request)
                .map(drop),
        ),
        (
            "reconcile",
            l.rt.reconcile(&l.hostile, no_queries(), &ctx, None)
                .map(drop),
        ),
        (
            "validate-config",
            l.rt.validate_config(&l.hostile, no_queries(), CourseId(3), &validate_config)
                .map(drop),
        ),
    ]
}

#[test]
fn an_endless_loop_is_stopped_at_the_deadline() {
    let l = Loaded::new(test_config());
    let ctx = behaviour("loop");
    let started = Instant::now();
    let err =
        l.rt.handle_event(&l.hostile, no_queries(), &ctx, &enrolled())
            .unwrap_err();
    let took = started.elapsed();
    assert!(
        matches!(err, PluginError::Timeout(d) if d == Duration::from_millis(200)),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "the plugin ran longer than its 200ms limit and was stopped"
    );
    assert!(
        took >= Duration::from_millis(195),
        "stopped early, after {took:?}"
    );
    assert!(
        took < Duration::from_millis(1500),
        "stopped late, after {took:?}"
    );
    l.assert_still_serves();
}

#[test]
fn every_entry_point_is_bounded_by_the_deadline() {
    let l = Loaded::new(test_config());
    let started = Instant::now();
    for (entry, outcome) in through_every_entry(&l, "loop") {
        assert!(
            matches!(outcome, Err(PluginError::Timeout(_))),
            "{entry}: {outcome:?}"
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "four calls took {:?}",
        started.elapsed()
    );
    l.assert_still_serves();
}

#[test]
fn allocating_without_end_is_stopped_at_the_memory_limit() {
    let l = Loaded::new(test_config());
    for (entry, outcome) in through_every_entry(&l, "memory") {
        let err = outcome.unwrap_err();
        assert!(
            matches!(err, PluginError::OutOfMemory(limit) if limit == 16 << 20),
            "{entry}: {err:?}"
        );
        assert_eq!(
            err.to_string(),
            "the plugin needed more than its 16 MiB memory limit and was stopped"
        );
        l.assert_still_serves();
    }
}

#[test]
fn runaway_recursion_is_a_stack_overflow() {
    let l = Loaded::new(test_config());
    for (entry, outcome) in through_every_entry(&l, "recursion") {
        let err = outcome.unwrap_err();
        assert!(
            matches!(err, PluginError::StackOverflow),
            "{entry}: {err:?}"
        );
        assert!(err.to_string().contains("overflowed its stack"), "{err}");
        assert_eq!(err.code(), "plugin_stack_overflow");
        l.assert_still_serves();
    }
}

#[test]
fn a_panic_is_a_crash_that_quotes_the_panic_message() {
    let l = Loaded::new(test_config());
    for (entry, outcome) in through_every_entry(&l, "panic") {
        let err = outcome.unwrap_err();
        let PluginError::Crashed(message) = &err else {
            panic!("{entry}: {err:?}")
        };
        assert!(
            message.contains("hostile plugin panicked on purpose"),
            "{entry}: {message}"
        );
        assert!(message.starts_with("panicked at "), "{entry}: {message}");
        assert!(!message.contains("RUST_BACKTRACE"), "{entry}: {message}");
        l.assert_still_serves();
    }
}

/// A plan of ~100 MB cannot even be built inside the default 64 MiB: the
/// guest runs out of memory before the host sees a byte of it.
#[test]
fn a_huge_plan_runs_out_of_the_default_memory() {
    let l = Loaded::new(RuntimeConfig {
        max_concurrent_calls: 2,
        cache_dir: test_config().cache_dir,
        ..RuntimeConfig::default()
    });
    let err =
        l.rt.handle_event(
            &l.hostile,
            no_queries(),
            &behaviour("huge-plan"),
            &enrolled(),
        )
        .unwrap_err();
    assert!(
        matches!(err, PluginError::OutOfMemory(limit) if limit == 64 << 20),
        "{err:?}"
    );
    l.assert_still_serves();
}

/// A million actions do not fit the default memory either.
#[test]
fn a_million_actions_run_out_of_the_default_memory() {
    let l = Loaded::new(RuntimeConfig {
        max_concurrent_calls: 2,
        cache_dir: test_config().cache_dir,
        ..RuntimeConfig::default()
    });
    let err =
        l.rt.reconcile(&l.hostile, no_queries(), &behaviour("many-actions"), None)
            .unwrap_err();
    assert!(
        matches!(
            err,
            PluginError::OutOfMemory(_) | PluginError::PlanTooLarge { .. }
        ),
        "{err:?}"
    );
    l.assert_still_serves();
}

/// Plans that fit in memory but not in the plan limits are refused by the
/// host after the call, naming both sizes.
#[test]
fn a_plan_over_the_limits_is_refused_with_its_size() {
    let l = Loaded::new(RuntimeConfig {
        max_plan_actions: 0,
        ..test_config()
    });
    let err =
        l.rt.handle_event(
            &l.hostile,
            no_queries(),
            &behaviour("well-behaved"),
            &enrolled(),
        )
        .unwrap_err();
    let PluginError::PlanTooLarge {
        actions,
        bytes,
        max_actions,
        ..
    } = err
    else {
        panic!("{err:?}")
    };
    assert_eq!((actions, max_actions), (1, 0));
    assert_eq!(bytes, "well-behaved enrolment".len() + 32);
    let message = err.to_string();
    assert!(
        message.contains("plan of 1 actions") && message.contains("limit is 0 actions"),
        "{message}"
    );

    let l = Loaded::new(RuntimeConfig {
        max_plan_bytes: 40,
        ..test_config()
    });
    let err =
        l.rt.reconcile(&l.hostile, no_queries(), &behaviour("well-behaved"), None)
            .unwrap_err();
    assert!(
        matches!(
            err,
            PluginError::PlanTooLarge {
                bytes: 54,
                max_bytes: 40,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn misbehaving_at_validation_only_when_asked() {
    let l = Loaded::new(test_config());
    let ok =
        l.rt.validate_config(
            &l.hostile,
            no_queries(),
            CourseId(3),
            r#"{"behaviour":"loop"}"#,
        )
        .unwrap();
    assert!(ok.is_ok(), "{ok:?}");
    let refused =
        l.rt.validate_config(
            &l.hostile,
            no_queries(),
            CourseId(3),
            r#"{"behaviour":"validate-nonsense"}"#,
        )
        .unwrap();
    let errors = refused.unwrap_err();
    assert_eq!(errors[0].field, "behaviour");
    assert!(errors[0].message.contains("nonsense"), "{errors:?}");
}
