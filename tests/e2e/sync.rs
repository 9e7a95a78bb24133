//! End-to-end: segment sync against the real binary. A large sync killed
//! with SIGKILL at several points ends, after a restart, in exactly the
//! state of an uninterrupted run; and `charon sync reconcile` reports on
//! a running server's methods.
//!
//! The crash test prepares one data dir (a segment of [`MEMBERS`] users and
//! a course) once, through the API, and copies it, server stopped, for
//! every run, so that every run starts from the same bytes and the same
//! ids. Kill points are tied to states the host reports, not to a clock:
//! a fail point (`CHARON_FAILPOINTS`) stops the reconcile right after its
//! N-th page committed and the server logs so, and the test kills it then.
//! With `--reconcile-durable-ms 0` every page is durable, so the kill
//! leaves exactly N pages on a fast machine and a slow one alike; with the
//! default window the page may not be durable yet, and a crash takes it
//! back (by design: derived writes, redone at start-up). What a killed process left is read before the restart
//! by a dry-run `charon sync reconcile` on the data dir itself (the
//! start-up reconcile would finish the job before any request could look).

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};
use serde_json::{Value, json};

use crate::api::create_token;
use crate::support::{ApiClient, TestServer, arg, charon, operator_api_file};

const SITE: &str = "/s/default/api/v1";

/// Members of the big segment: five reconcile pages.
const MEMBERS: u64 = 5_000;

/// Users one segment-sync reconcile step handles, each step applied in
/// its own transaction.
const PAGE: u64 = charon_plugin_segment_sync::PAGE as u64;

const SEGMENT: &str = "Staff";
const GROUP: &str = "Staff segment";
const COURSE: &str = "BIG";

/// Flags of every server here: a debug build on a busy CI machine may
/// need more than the default second for one plugin call, which is not
/// what these tests are about.
const SERVE: &[&str] = &["--plugin-deadline-ms", "10000"];

/// How long a sync may take to converge before the test gives up.
const CONVERGE: Duration = Duration::from_secs(180);

const POLL: Duration = Duration::from_millis(100);

/// Polls a kill point's progress this often: well under the time one
/// reconcile page takes.
const PROGRESS_POLL: Duration = Duration::from_millis(10);

fn id(value: &Value) -> Result<u64> {
    value["id"]
        .as_u64()
        .with_context(|| format!("no id in {value}"))
}

/// A JSON value as text: strings bare, anything else as JSON.
fn text(value: &Value) -> String {
    value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_owned)
}

/// Calls `check` every `every` until it says yes; fails after `timeout`
/// saying what was awaited.
fn wait_until(
    what: &str,
    timeout: Duration,
    every: Duration,
    mut check: impl FnMut() -> Result<bool>,
) -> Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        if check()? {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!("timed out after {timeout:?} waiting for {what}");
        }
        thread::sleep(every);
    }
}

/// Copies a stopped server's data dir.
fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("create {}", to.display()))?;
    for entry in std::fs::read_dir(from).with_context(|| format!("read {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)
                .with_context(|| format!("copy {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// Creates `count` users named `{prefix}{n}` over a few connections at
/// once (there is no bulk route for users) and returns their ids in id
/// order.
fn create_users(server: &TestServer, secret: &str, prefix: &str, count: u64) -> Result<Vec<u64>> {
    const CONNECTIONS: u64 = 4;
    let mut ids = thread::scope(|s| {
        let workers: Vec<_> = (0..CONNECTIONS)
            .map(|lane| {
                let api = server.api(secret, SITE);
                s.spawn(move || -> Result<Vec<u64>> {
                    (0..count)
                        .filter(|n| n % CONNECTIONS == lane)
                        .map(|n| {
                            let username = format!("{prefix}{n:05}");
                            let user = api.expect(
                                201,
                                "POST",
                                "/users",
                                json!({"username": username, "email": format!("{username}@example.org"),
                                       "firstname": "Staff", "lastname": format!("Member {n}")}),
                            )?;
                            id(&user)
                        })
                        .collect()
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().map_err(|_| anyhow!("a user-creating thread panicked"))?)
            .collect::<Result<Vec<Vec<u64>>>>()
    })?
    .concat();
    ids.sort_unstable();
    Ok(ids)
}

/// The data dir every crash-test run starts from, and what is in it.
struct Prepared {
    data: PathBuf,
    /// An operator token, valid in every copy.
    secret: String,
    /// The segment's members, in id order.
    users: Vec<u64>,
    segment: u64,
    course: u64,
}

/// Sets up, through the real binary and its API, a segment of
/// [`MEMBERS`] users and a course without a segment sync, then stops the
/// server.
fn prepare(dir: &Path) -> Result<Prepared> {
    let data = dir.join("template");
    let server = TestServer::start_with(&data, SERVE)?;
    let (_, secret, _) = create_token(arg(&data)?, &["--name", "crash test", "--operator"])?;
    let api = server.api(&secret, SITE);

    let started = Instant::now();
    let users = create_users(&server, &secret, "staff", MEMBERS)?;
    let segment = id(&api.expect(
        201,
        "POST",
        "/segments",
        json!({"name": SEGMENT, "idnumber": "staff"}),
    )?)?;
    let change = api.expect(
        200,
        "POST",
        &format!("/segments/{segment}/members"),
        json!({ "users": users }),
    )?;
    ensure!(change["changed"] == MEMBERS, "{change}");
    let course = id(&api.expect(
        201,
        "POST",
        "/courses",
        json!({"shortname": COURSE, "fullname": "Everybody's course"}),
    )?)?;
    println!(
        "prepared {MEMBERS} users in a segment in {:?}",
        started.elapsed()
    );
    // The event dispatcher reads the outbox these calls filled (no
    // method wants any of it); let it catch up so that no run starts
    // with a backlog it would deliver to the new method.
    thread::sleep(Duration::from_secs(1));
    ensure!(server.terminate()?.success(), "graceful stop");
    Ok(Prepared {
        data,
        secret,
        users,
        segment,
        course,
    })
}

/// What a segment sync leaves in the course, as the API shows it.
#[derive(Debug, PartialEq, Eq)]
struct SyncState {
    /// `(user, method, role, status)` of every enrolment in the course.
    enrolments: BTreeSet<(u64, u64, String, String)>,
    /// The course's groups' names, in the API's order (a duplicate shows).
    groups: Vec<String>,
    /// `(group name, user, owner)` of every membership of those groups.
    memberships: BTreeSet<(String, u64, String)>,
}

fn read_state(api: &ApiClient, course: u64) -> Result<SyncState> {
    let mut enrolments = BTreeSet::new();
    for p in api.all(&format!("/courses/{course}/participants?limit=1000"))? {
        let user = p["user"]["id"].as_u64().context("participant's id")?;
        for e in p["enrolments"].as_array().context("enrolments")? {
            let method = e["method"].as_u64().context("enrolment's method")?;
            enrolments.insert((user, method, text(&e["role"]), text(&e["status"])));
        }
    }
    let mut groups = Vec::new();
    let mut memberships = BTreeSet::new();
    for g in api.all(&format!("/courses/{course}/groups?limit=1000"))? {
        let name = text(&g["name"]);
        for m in api.all(&format!("/groups/{}/members?limit=1000", id(&g)?))? {
            let user = m["user"]["id"].as_u64().context("member's id")?;
            memberships.insert((name.clone(), user, m["owner"].to_string()));
        }
        groups.push(name);
    }
    Ok(SyncState {
        enrolments,
        groups,
        memberships,
    })
}

/// A few items of each side of a set difference, for a failure message.
fn set_diff<T: Ord + Debug>(what: &str, want: &BTreeSet<T>, got: &BTreeSet<T>) -> String {
    if want == got {
        return String::new();
    }
    let missing: Vec<&T> = want.difference(got).take(5).collect();
    let extra: Vec<&T> = got.difference(want).take(5).collect();
    format!(
        "{what}: {} expected, {} found; missing e.g. {missing:?}; unexpected e.g. {extra:?}\n",
        want.len(),
        got.len()
    )
}

fn state_diff(want: &SyncState, got: &SyncState) -> String {
    let mut out = set_diff("enrolments", &want.enrolments, &got.enrolments);
    if want.groups != got.groups {
        out.push_str(&format!(
            "groups: expected {:?}, found {:?}\n",
            want.groups, got.groups
        ));
    }
    out.push_str(&set_diff(
        "memberships",
        &want.memberships,
        &got.memberships,
    ));
    out
}

/// Members of the course's groups, all groups together: how far the sync
/// got (a page's enrolments and memberships commit together).
fn grouped(api: &ApiClient, course: u64) -> Result<u64> {
    let groups = api.expect(
        200,
        "GET",
        &format!("/courses/{course}/groups"),
        Value::Null,
    )?;
    Ok(groups["items"]
        .as_array()
        .context("groups")?
        .iter()
        .filter_map(|g| g["members"].as_u64())
        .sum())
}

/// Adds the segment sync under test: the segment's members as learners,
/// in a new group, leaving its first run to the dispatcher.
fn add_segment_sync(api: &ApiClient, course: u64, segment: u64) -> Result<u64> {
    let method = api.expect(
        201,
        "POST",
        &format!("/courses/{course}/methods"),
        // The dispatcher runs the first sync, as it did before adding
        // answered with it: the kill points count its pages.
        json!({"plugin": "segment-sync", "config": {"segment": segment, "group": "new"}, "wait_for_first_run": false}),
    )?;
    id(&method)
}

/// The method ran without a recorded failure.
fn check_status(api: &ApiClient, method: u64) -> Result<()> {
    let status = api.expect(
        200,
        "GET",
        &format!("/methods/{method}/status"),
        Value::Null,
    )?;
    ensure!(
        status["status"] == "enabled"
            && status["error_count"] == 0
            && status["last_error"].is_null(),
        "method #{method}: {status}"
    );
    Ok(())
}

/// Waits for the reconcile every start runs, and checks none failed.
fn wait_for_startup_reconcile(server: &TestServer) -> Result<()> {
    const DONE: &str = "reconciled every enrolment method";
    wait_until("the start-up reconcile", CONVERGE, POLL, || {
        Ok(server.stderr().contains(DONE))
    })
    .map_err(|e| anyhow!("{e}\nstderr: {}", server.stderr()))?;
    let log = server.stderr();
    let line = log.lines().find(|l| l.contains(DONE)).unwrap_or_default();
    ensure!(line.contains("failed=0"), "start-up reconcile: {line}");
    Ok(())
}

/// `charon sync reconcile --site default --json` with more arguments:
/// each method's report, checked for failures.
fn sync_reconcile(data: &Path, extra: &[&str]) -> Result<Vec<Value>> {
    let mut args = vec![
        "sync",
        "reconcile",
        "--data",
        arg(data)?,
        "--site",
        "default",
    ];
    args.extend_from_slice(extra);
    args.push("--json");
    let out = charon(&args)?;
    ensure!(
        out.status.success(),
        "sync reconcile {extra:?}: {}",
        out.stderr
    );
    let results: Value = serde_json::from_str(&out.stdout)
        .with_context(|| format!("sync reconcile --json: {}", out.stdout))?;
    let results = results.as_array().context("a JSON array")?.clone();
    for r in &results {
        ensure!(r["error"].is_null() && r["report"].is_object(), "{r}");
    }
    Ok(results)
}

/// The reconcile report of `method` among `results`.
fn report_of(results: &[Value], method: u64) -> Result<&Value> {
    results
        .iter()
        .find(|r| r["method"] == method)
        .map(|r| &r["report"])
        .with_context(|| format!("no report of method #{method} in {results:?}"))
}

/// When a run kills the server.
#[derive(Clone, Copy, Debug)]
enum KillPoint {
    /// This long after the method was added.
    After(Duration),
    /// Once the reconcile has stopped at a fail point right after its
    /// `page`-th page committed, with pages made durable at least every
    /// `durable_ms` milliseconds (`serve --reconcile-durable-ms`; 0: each).
    Paused { page: u64, durable_ms: u64 },
    /// This long after every member was seen grouped: the sync is over,
    /// and what it did must survive the crash.
    Synced(Duration),
}

/// What the server logs when a fail point stops it.
const PAUSED: &str = "fail point reconcile-page-committed reached";

/// What one interrupted run saw.
struct Crash {
    point: KillPoint,
    /// From adding the method to the kill.
    killed_after: Duration,
    /// Users grouped (so enrolled) at the last look before the kill: what
    /// readers saw committed.
    seen: u64,
    /// Users the killed process left enrolled and grouped.
    left: u64,
}

impl Crash {
    fn mid_sync(&self) -> bool {
        self.left > 0 && self.left < MEMBERS
    }
}

/// How many segment members a killed process left synced, read without
/// a server (`sync reconcile --dry-run` on the data dir itself, which
/// also clears the stale `operator-api.json`): a dry run of a partly synced
/// method would enrol and group each missing member (two changes
/// each); one that never got to its first page would also create its
/// group, on every page since nothing is kept.
fn synced_by_killed_process(data: &Path, method: u64) -> Result<u64> {
    ensure!(
        operator_api_file(data).exists(),
        "a killed server leaves its operator API file"
    );
    let results = sync_reconcile(data, &["--course", COURSE, "--dry-run"])?;
    ensure!(
        !operator_api_file(data).exists(),
        "the CLI opened the data dir itself and removed the stale operator API file"
    );
    let report = report_of(&results, method)?;
    ensure!(report["applied"] == false, "a dry run: {report}");
    let changed = report["changed"].as_u64().context("changed")?;
    if changed > 2 * MEMBERS {
        return Ok(0);
    }
    ensure!(
        changed % 2 == 0,
        "an enrolment and its membership commit together: {report}"
    );
    Ok(MEMBERS - changed / 2)
}

/// Whether the page a fail point stopped after was committed durably, as
/// the server's log line says.
fn server_said_durable(stderr: &str) -> Result<bool> {
    let line = stderr
        .lines()
        .find(|l| l.contains(PAUSED))
        .context("the fail point's log line")?;
    Ok(line.contains("durable=true"))
}

/// One interrupted run on a fresh copy: add the method, SIGKILL at
/// `point`, look at what was left, restart, and check the state the
/// start-up reconcile converges to is `reference`'s.
fn interrupted_run(
    prepared: &Prepared,
    data: &Path,
    point: KillPoint,
    reference: &SyncState,
    method: u64,
) -> Result<Crash> {
    copy_dir(&prepared.data, data)?;
    let mut flags = SERVE.to_vec();
    let durable_ms;
    let failpoint;
    let mut env = Vec::new();
    if let KillPoint::Paused {
        page,
        durable_ms: every,
    } = point
    {
        durable_ms = every.to_string();
        failpoint = format!("reconcile-page-committed={page}");
        flags.extend(["--reconcile-durable-ms", &durable_ms]);
        env.push(("CHARON_FAILPOINTS", failpoint.as_str()));
    }
    let server = TestServer::start_with_env(data, &flags, &env)?;
    // The start-up reconcile (of the prepared site's other methods) is
    // over before the sync starts, so the only pages committed are the
    // sync's, and the fail point counts those.
    wait_for_startup_reconcile(&server)?;
    let api = server.api(&prepared.secret, SITE);
    let added = Instant::now();
    ensure!(
        add_segment_sync(&api, prepared.course, prepared.segment)? == method,
        "the same ids as the reference run"
    );
    match point {
        KillPoint::After(delay) => thread::sleep(delay.saturating_sub(added.elapsed())),
        KillPoint::Paused { .. } => {
            wait_until(
                "the reconcile to stop at its fail point",
                CONVERGE,
                POLL,
                || Ok(server.stderr().contains(PAUSED)),
            )
            .map_err(|e| anyhow!("{e}\nstderr: {}", server.stderr()))?;
        }
        KillPoint::Synced(delay) => {
            wait_until("every member grouped", CONVERGE, PROGRESS_POLL, || {
                Ok(grouped(&api, prepared.course)? >= MEMBERS)
            })?;
            thread::sleep(delay);
        }
    }
    let seen = grouped(&api, prepared.course)?;
    if let KillPoint::Paused { page, .. } = point {
        ensure!(
            seen == page * PAGE,
            "stopped after page {page}, the API shows {seen} users grouped"
        );
    }
    let killed_after = added.elapsed();
    let stderr = server.stderr();
    let status = server.kill()?;
    ensure!(!status.success(), "killed: {status}");

    let left = synced_by_killed_process(data, method)?;
    ensure!(
        left % PAGE == 0 || left == MEMBERS,
        "a killed process leaves whole pages of {PAGE} users, not {left}"
    );
    if let KillPoint::Paused { page, durable_ms } = point {
        // What readers saw and the crash took back is by design: reconcile
        // pages are derived writes, and the restart redoes them. But a page
        // the host said was durable must survive, and nothing after the
        // stop can have been written.
        let durable = server_said_durable(&stderr)?;
        ensure!(
            left <= page * PAGE,
            "stopped after page {page}, yet the killed process left {left} synced"
        );
        ensure!(
            !(durable || durable_ms == 0) || left == page * PAGE,
            "page {page} was committed durably, yet only {left} users were left synced"
        );
    }

    // A normal restart: the start-up reconcile finishes the job (and, if
    // the kill came before the dispatcher's cursor passed
    // `instance-added`, a second reconcile runs beside it).
    let server = TestServer::start_with(data, SERVE)?;
    let api = server.api(&prepared.secret, SITE);
    wait_for_startup_reconcile(&server)?;
    let mut state = None;
    wait_until("the state of the uninterrupted run", CONVERGE, POLL, || {
        if grouped(&api, prepared.course)? < MEMBERS {
            return Ok(false);
        }
        let now = read_state(&api, prepared.course)?;
        let same = &now == reference;
        state = Some(now);
        Ok(same)
    })
    .map_err(|e| {
        let diff = state
            .as_ref()
            .map(|s| state_diff(reference, s))
            .unwrap_or_default();
        anyhow!("{point:?}: {e}\n{diff}stderr: {}", server.stderr())
    })?;

    // Converged for good: another reconcile, through the running server,
    // finds nothing to do, and the state stays.
    for r in sync_reconcile(data, &[])? {
        ensure!(
            r["report"]["changed"] == 0,
            "{point:?}: not idempotent: {r}"
        );
    }
    let after = read_state(&api, prepared.course)?;
    ensure!(
        &after == reference,
        "{point:?}: changed after converging:\n{}",
        state_diff(reference, &after)
    );
    check_status(&api, method)?;
    ensure!(server.terminate()?.success(), "graceful stop");
    Ok(Crash {
        point,
        killed_after,
        seen,
        left,
    })
}

/// The reference: the same sync, uninterrupted. Checks it is what the
/// config asks for, and returns it with the method's id.
fn uninterrupted_run(prepared: &Prepared, data: &Path) -> Result<(SyncState, u64)> {
    copy_dir(&prepared.data, data)?;
    let server = TestServer::start_with(data, SERVE)?;
    let api = server.api(&prepared.secret, SITE);
    let added = Instant::now();
    let method = add_segment_sync(&api, prepared.course, prepared.segment)?;
    wait_until("the sync of every member", CONVERGE, POLL, || {
        Ok(grouped(&api, prepared.course)? >= MEMBERS)
    })
    .map_err(|e| anyhow!("{e}\nstderr: {}", server.stderr()))?;
    println!(
        "uninterrupted sync of {MEMBERS} members: about {:?}",
        added.elapsed()
    );
    let state = read_state(&api, prepared.course)?;
    check_status(&api, method)?;
    ensure!(server.terminate()?.success(), "graceful stop");

    let owner = json!({"kind": "method", "method": method}).to_string();
    let enrolments: BTreeSet<_> = prepared
        .users
        .iter()
        .map(|&u| (u, method, "learner".to_owned(), "active".to_owned()))
        .collect();
    let memberships: BTreeSet<_> = prepared
        .users
        .iter()
        .map(|&u| (GROUP.to_owned(), u, owner.clone()))
        .collect();
    let want = SyncState {
        enrolments,
        groups: vec![GROUP.to_owned()],
        memberships,
    };
    ensure!(
        state == want,
        "the uninterrupted sync:\n{}",
        state_diff(&want, &state)
    );
    Ok((state, method))
}

/// Issue 5's crash safety: a sync of [`MEMBERS`] users killed with
/// SIGKILL before its first page, after one, half way, before its last
/// page and after it ended; each time the restarted server converges to
/// the uninterrupted run's state, with one group and nothing left for
/// another reconcile to do.
#[test]
fn a_segment_sync_killed_mid_way_ends_as_an_uninterrupted_one_after_a_restart() -> Result<()> {
    let started = Instant::now();
    let dir = tempfile::tempdir()?;
    let prepared = prepare(dir.path())?;
    let (reference, method) = uninterrupted_run(&prepared, &dir.path().join("reference"))?;

    let pages = MEMBERS / PAGE;
    let points = [
        // Right after the method was added: before or in its first page.
        KillPoint::After(Duration::ZERO),
        // After the first page, with the default durable window: on a fast
        // machine the page is not durable yet and the crash takes it back.
        KillPoint::Paused {
            page: 1,
            durable_ms: 100,
        },
        // Every page durable: the kill leaves exactly that many pages.
        KillPoint::Paused {
            page: 1,
            durable_ms: 0,
        },
        KillPoint::Paused {
            page: pages - 1,
            durable_ms: 0,
        },
        KillPoint::Synced(Duration::from_secs(1)),
    ];
    let mut crashes = Vec::new();
    for (n, point) in points.into_iter().enumerate() {
        let data = dir.path().join(format!("run-{n}"));
        let crash = interrupted_run(&prepared, &data, point, &reference, method)
            .with_context(|| format!("run {n}, killed at {point:?}"))?;
        println!(
            "killed at {:?} after {:?} ({} grouped at the last look): {} of {MEMBERS} synced{}",
            crash.point,
            crash.killed_after,
            crash.seen,
            crash.left,
            if crash.mid_sync() { ", mid-sync" } else { "" }
        );
        crashes.push(crash);
        // Each run's copy is done with.
        let _ = std::fs::remove_dir_all(&data);
    }
    // Checked once every run converged, so a failure here comes with the
    // whole picture above.
    for c in &crashes {
        if let KillPoint::Synced(_) = c.point {
            ensure!(
                c.left == MEMBERS,
                "the sync was over ({} of {MEMBERS} members seen grouped) before the kill at \
                 {:?}, yet the killed process left {} synced: what it committed was not durable",
                c.seen,
                c.point,
                c.left
            );
        }
    }
    // Whole pages are kept: at least one kill must have left a sync half
    // done, or the restart had nothing to finish.
    ensure!(
        crashes.iter().any(Crash::mid_sync),
        "no killed process left a partly done sync (kill point, time, members seen grouped \
         before the kill, members left synced): {:?}",
        crashes
            .iter()
            .map(|c| (c.point, c.killed_after, c.seen, c.left))
            .collect::<Vec<_>>()
    );
    println!("crash test done in {:?}", started.elapsed());
    Ok(())
}

/// `charon sync reconcile` while the server runs: a line per method,
/// nothing to change once the live path has done its work, and an unknown
/// course named in the error.
#[test]
fn sync_reconcile_reports_each_instance_of_a_running_server_and_refuses_an_unknown_course()
-> Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let d = arg(&data)?;
    // No scheduled reconcile: only the CLI reconciles here.
    let mut flags = SERVE.to_vec();
    flags.extend(["--reconcile-every-secs", "0"]);
    let server = TestServer::start_with(&data, &flags)?;
    let (_, secret, _) = create_token(d, &["--name", "sync", "--operator"])?;
    let api = server.api(&secret, SITE);

    let users = create_users(&server, &secret, "member", 4)?;
    let late = users[3];
    // A suspended account is enrolled like any other when it joins the
    // segment (suspension changes no enrolment); the participants API
    // shows its account as suspended, its re-activation changes no
    // enrolment, and the CLI's reconcile then finds nothing left to do.
    api.expect(200, "POST", &format!("/users/{late}/suspend"), Value::Null)?;
    let segment = id(&api.expect(201, "POST", "/segments", json!({"name": "Team"}))?)?;
    api.expect(
        200,
        "POST",
        &format!("/segments/{segment}/members"),
        json!({ "users": users }),
    )?;
    let course = id(&api.expect(
        201,
        "POST",
        "/courses",
        json!({"shortname": "SMALL", "fullname": "A small course"}),
    )?)?;
    let manual = api
        .all(&format!("/courses/{course}/methods"))?
        .iter()
        .find(|m| m["plugin"] == "manual")
        .map(id)
        .context("a course gets a manual method")??;
    let method = add_segment_sync(&api, course, segment)?;
    let participants = |n: usize| -> Result<bool> {
        Ok(api.all(&format!("/courses/{course}/participants"))?.len() == n)
    };
    wait_until("four participants", CONVERGE, POLL, || {
        Ok(participants(4)? && grouped(&api, course)? == 4)
    })?;
    let suspended = api
        .all(&format!("/courses/{course}/participants"))?
        .into_iter()
        .find(|p| p["user"]["id"] == late)
        .context("the suspended member is a participant")?;
    ensure!(
        suspended["account_status"] == "suspended" && suspended["active"] == false,
        "{suspended}"
    );
    api.expect(
        200,
        "POST",
        &format!("/users/{late}/reactivate"),
        Value::Null,
    )?;
    wait_until(
        "the re-activated member counted active",
        CONVERGE,
        POLL,
        || {
            Ok(api
                .all(&format!("/courses/{course}/participants"))?
                .iter()
                .any(|p| p["user"]["id"] == late && p["active"] == true))
        },
    )?;

    let out = charon(&["sync", "reconcile", "--data", d, "--site", "default"])?;
    ensure!(
        out.status.success(),
        "sync reconcile: {}\n{}",
        out.stderr,
        server.stderr()
    );
    let lines: Vec<&str> = out.stdout.lines().collect();
    let line_of = |m: u64| {
        let start = format!("enrolment method #{m} (course #{course}): ");
        lines
            .iter()
            .find(|l| l.starts_with(&start) && l.ends_with("page(s)"))
            .copied()
            .with_context(|| format!("no line for method #{m}: {}", out.stdout))
    };
    ensure!(line_of(method)?.contains(": changed 0, "), "{}", out.stdout);
    ensure!(line_of(manual)?.contains(": changed 0, "), "{}", out.stdout);
    ensure!(
        lines.last() == Some(&"2 enrolment method(s) reconciled, 0 failed"),
        "{}",
        out.stdout
    );
    ensure!(
        participants(4)? && grouped(&api, course)? == 4,
        "the late member is in"
    );

    // By shortname: the course's methods, nothing left to do.
    let again = charon(&[
        "sync",
        "reconcile",
        "--data",
        d,
        "--site",
        "default",
        "--course",
        "SMALL",
    ])?;
    ensure!(again.status.success(), "{}", again.stderr);
    ensure!(
        again.stdout.contains(&format!(
            "enrolment method #{method} (course #{course}): changed 0, unchanged 0, "
        )),
        "{}",
        again.stdout
    );

    let nope = charon(&[
        "sync",
        "reconcile",
        "--data",
        d,
        "--site",
        "default",
        "--course",
        "NOPE",
    ])?;
    ensure!(!nope.status.success(), "an unknown course: {}", nope.stdout);
    ensure!(
        nope.stderr.contains("course \"NOPE\" not found"),
        "a clear error: {}",
        nope.stderr
    );
    ensure!(
        nope.stdout.is_empty(),
        "nothing reconciled: {}",
        nope.stdout
    );

    ensure!(server.terminate()?.success(), "graceful stop");
    Ok(())
}
