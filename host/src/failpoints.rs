//! Fail points: named places where a crash test freezes the host's work
//! in a known state before it kills the process, so that what the test
//! asserts does not depend on how fast the machine is.
//!
//! They are set with the environment variable `CHARON_FAILPOINTS`, read
//! once: `name=N[,name=N…]` stops the thread that reaches `name` for the
//! `N`-th time (counted from 1 over the whole process), after logging
//! `fail point {name} reached` with what it knows, so a test waits for that
//! line and then kills the process. Unset (always, outside tests), a fail
//! point costs one load of an initialised `OnceLock` and does nothing.
//!
//! This module owns the points' names and their parsing; it must never
//! change what the host does when the variable is unset.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// After a reconcile page that changed something has committed (durably
/// or not, as logged).
pub const RECONCILE_PAGE_COMMITTED: &str = "reconcile-page-committed";

const NAMES: &[&str] = &[RECONCILE_PAGE_COMMITTED];

struct Point {
    name: &'static str,
    stop_at: u64,
    hits: AtomicU64,
}

fn points() -> &'static [Point] {
    static POINTS: OnceLock<Vec<Point>> = OnceLock::new();
    POINTS.get_or_init(|| match std::env::var("CHARON_FAILPOINTS") {
        Ok(spec) => parse(&spec).unwrap_or_else(|e| {
            tracing::error!("CHARON_FAILPOINTS is ignored: {e}");
            Vec::new()
        }),
        Err(_) => Vec::new(),
    })
}

fn parse(spec: &str) -> Result<Vec<Point>, String> {
    spec.split(',')
        .filter(|part| !part.trim().is_empty())
        .map(|part| {
            let (name, n) = part
                .trim()
                .split_once('=')
                .ok_or_else(|| format!("{part:?} is not name=N"))?;
            let name = NAMES
                .iter()
                .find(|known| **known == name)
                .ok_or_else(|| format!("no fail point is called {name:?}"))?;
            let stop_at = n
                .parse::<u64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("{n:?} is not a count from 1"))?;
            Ok(Point {
                name,
                stop_at,
                hits: AtomicU64::new(0),
            })
        })
        .collect()
}

/// Counts a hit of `name`; on the configured one, logs and stops this
/// thread for good (the test kills the process).
fn reach(name: &str, detail: std::fmt::Arguments<'_>) {
    let Some(point) = points().iter().find(|p| p.name == name) else {
        return;
    };
    let hit = point.hits.fetch_add(1, Ordering::AcqRel) + 1;
    if hit == point.stop_at {
        tracing::warn!("fail point {name} reached (hit {hit}, {detail}): this thread stops here");
        loop {
            std::thread::park();
        }
    }
}

/// See [`RECONCILE_PAGE_COMMITTED`].
pub fn reconcile_page_committed(durable: bool) {
    reach(RECONCILE_PAGE_COMMITTED, format_args!("durable={durable}"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spec_names_known_points_with_counts_from_one() {
        let points = parse("reconcile-page-committed=3").unwrap();
        assert_eq!(points.len(), 1);
        assert_eq!(points[0].name, RECONCILE_PAGE_COMMITTED);
        assert_eq!(points[0].stop_at, 3);
        assert!(parse("").unwrap().is_empty());
        for bad in [
            "nowhere=1",
            "reconcile-page-committed",
            "reconcile-page-committed=0",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
