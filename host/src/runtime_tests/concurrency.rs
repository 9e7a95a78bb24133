//! Several threads calling at once share the pool; one call too many is
//! refused at once with a clear error.

use std::time::Instant;

use super::*;

#[test]
fn threads_calling_at_once_all_get_answers() {
    let l = Arc::new(Loaded::new(test_config()));
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let l = l.clone();
            std::thread::spawn(move || {
                for i in 0..10 {
                    let ctx = ctx(&format!(
                        r#"{{"behaviour":"well-behaved","user":{}}}"#,
                        t * 100 + i
                    ));
                    let plan =
                        l.rt.handle_event(&l.hostile, no_queries(), &ctx, &enrolled())
                            .unwrap()
                            .unwrap();
                    assert_eq!(enrolled_user(&plan), t * 100 + i);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    l.assert_still_serves();
}

#[test]
fn a_call_beyond_the_limit_is_refused_at_once() {
    let l = Arc::new(Loaded::new(RuntimeConfig {
        max_concurrent_calls: 2,
        deadline: Duration::from_millis(400),
        ..test_config()
    }));
    let loops: Vec<_> = (0..2)
        .map(|_| {
            let l = l.clone();
            std::thread::spawn(move || {
                l.rt.handle_event(&l.hostile, no_queries(), &behaviour("loop"), &enrolled())
            })
        })
        .collect();
    let waiting = Instant::now();
    while l.rt.calls_in_flight() < 2 {
        assert!(
            waiting.elapsed() < Duration::from_secs(5),
            "the looping calls never started"
        );
        std::thread::yield_now();
    }

    let started = Instant::now();
    let err =
        l.rt.handle_event(&l.noop, no_queries(), &ctx("{}"), &enrolled())
            .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_millis(100),
        "refusing took {:?}",
        started.elapsed()
    );
    let PluginError::Host(message) = &err else {
        panic!("{err:?}")
    };
    assert!(
        message.contains("too many plugin calls at once: all 2 places are taken"),
        "{message}"
    );
    assert_eq!(err.code(), "runtime_error");

    for handle in loops {
        assert!(matches!(
            handle.join().unwrap(),
            Err(PluginError::Timeout(_))
        ));
    }
    l.assert_still_serves();
}
