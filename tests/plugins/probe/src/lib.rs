//! A plugin that reports what it can reach from inside the sandbox, for
//! the runtime's tests. It declares only the `read-users` capability and
//! answers every event with a refusal whose message is a JSON object of
//! what it found, so a test reads the findings without any other channel.
//! Its config's `probe` says what to look at:
//!
//! - `host`: one query per capability (users, segments, enrolments,
//!   groups), each reported as `ok: ...` or the host's error;
//! - `wasi`: environment variables, arguments, a file (`/etc/passwd`), the
//!   root and current directories, the wall clock and the monotonic clock;
//! - `shadow-stack`: recurses with large locals, overflowing Rust's stack
//!   in linear memory long before wasm's own call stack;
//! - `exit`: calls `std::process::exit`;
//! - `users`: contract 0.3.0's user queries: the first page of two users,
//!   the users at `example.org` and those whose `department` is `hr`,
//!   each as a list of ids (and `next` for the page);
//! - `events`: the event itself (`user-created`, `user-updated` with its
//!   changes, …), as the SDK debug-prints it.

use std::collections::BTreeMap;

use charon_sdk::*;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
pub struct Config {
    pub probe: String,
}

struct Probe;

fn outcome<T: std::fmt::Debug>(r: Result<T, HostError>) -> String {
    match r {
        Ok(v) => format!("ok: {v:?}"),
        Err(HostError::Denied(m)) => format!("denied: {m}"),
        Err(HostError::OutOfScope(m)) => format!("out-of-scope: {m}"),
        Err(HostError::Unavailable(m)) => format!("unavailable: {m}"),
    }
}

fn io<T: std::fmt::Debug>(r: std::io::Result<T>) -> String {
    match r {
        Ok(v) => format!("ok: {v:?}"),
        Err(e) => format!("error: {e}"),
    }
}

fn probe_host(host: &dyn Host) -> BTreeMap<&'static str, String> {
    BTreeMap::from([
        ("read-users", outcome(host.user(1))),
        ("read-segments", outcome(host.segment_exists(1))),
        ("read-enrolments", outcome(host.method_enrolment_count())),
        ("read-groups", outcome(host.course_groups())),
    ])
}

fn ids(page: Result<UserPage, HostError>) -> String {
    match page {
        Ok(p) => format!(
            "{:?} next {:?}",
            p.users.iter().map(|u| u.id).collect::<Vec<_>>(),
            p.next
        ),
        Err(e) => format!("error: {e:?}"),
    }
}

fn probe_users(host: &dyn Host) -> BTreeMap<&'static str, String> {
    BTreeMap::from([
        ("list", ids(host.list_users(None, 2))),
        (
            "domain",
            ids(host.users_by_email_domain("Example.ORG", None, 10)),
        ),
        (
            "profile",
            ids(host.users_by_profile_field("department", "hr", None, 10)),
        ),
    ])
}

fn probe_wasi() -> BTreeMap<&'static str, String> {
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis().to_string())
        .unwrap_or_else(|e| format!("before the epoch: {e}"));
    let start = std::time::Instant::now();
    let mut spin = 0u64;
    for i in 0..100_000u64 {
        spin = std::hint::black_box(spin.wrapping_add(i));
    }
    let elapsed = start.elapsed().as_nanos().to_string();
    BTreeMap::from([
        ("env", format!("{:?}", std::env::vars().collect::<Vec<_>>())),
        (
            "args",
            format!("{:?}", std::env::args().collect::<Vec<_>>()),
        ),
        ("passwd", io(std::fs::read_to_string("/etc/passwd"))),
        ("root", io(std::fs::read_dir("/").map(|d| d.count()))),
        ("cwd", io(std::env::current_dir())),
        ("wall-clock-ms", wall),
        ("monotonic-elapsed-ns", elapsed),
    ])
}

/// 64 KiB of locals per frame, kept alive across the call, so 16 frames
/// exhaust Rust's 1 MiB stack while wasm's call stack holds a few frames.
#[inline(never)]
#[allow(unconditional_recursion)] // the point of this probe
fn deep(depth: u64) -> u64 {
    let mut frame = [0u8; 64 * 1024];
    frame[(depth as usize) % frame.len()] = depth as u8;
    let frame = std::hint::black_box(&mut frame);
    deep(depth + 1).wrapping_add(u64::from(frame[7]))
}

impl Plugin for Probe {
    type Config = Config;

    fn manifest() -> Manifest {
        Manifest::new("probe", "Sandbox probe", "1.0.0")
            .describe("Reports what it can reach; for the host's tests only.")
            .handles(&[
                EventKind::UserEnrolled,
                EventKind::UserCreated,
                EventKind::UserUpdated,
            ])
            .needs(&[Capability::ReadUsers])
    }

    fn handle_event(ctx: &Context<Config>, event: Event, host: &dyn Host) -> Result<Plan, Refusal> {
        let found = match ctx.config.probe.as_str() {
            "host" => probe_host(host),
            "users" => probe_users(host),
            "events" => BTreeMap::from([("event", format!("{event:?}"))]),
            "wasi" => probe_wasi(),
            "shadow-stack" => BTreeMap::from([("depth", deep(0).to_string())]),
            "exit" => std::process::exit(3),
            other => return Err(Refusal::new("unknown-probe", format!("no probe {other:?}"))),
        };
        let report = serde_json::to_string(&found)
            .map_err(|e| Refusal::new("probe-failed", e.to_string()))?;
        Err(Refusal::new("probe", report))
    }
}

export_plugin!(Probe);
