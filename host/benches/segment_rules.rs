//! Rule-based segments at scale (issue 20, BENCHMARKS.md), with the bundled
//! `profile-field-rules` plugin in the real runtime, on a site of 100,000
//! users, half of them with department HR and half Finance:
//! - the initial fill: `SiteServices::set_segment_rule` attaching
//!   `profile.department equals HR` to an empty segment and running its
//!   first reconcile (50,000 members join; target < 1 s), each run on a
//!   fresh segment; and a second reconcile of a filled segment (nothing
//!   to change);
//! - a live move: two rule segments (HR, Finance), each synced by a
//!   `segment-sync` method into its own new group of one course; one
//!   user's department changed (`update_user`) and the outbox drained
//!   (`dispatch_pending`): the rules move them between the segments, the
//!   methods between the groups (target p50 < 2 ms end to end). Printed
//!   with its parts (the update's durable commit, the dispatch), then as
//!   the dispatcher job runs it (the round made durable by `flush` inside
//!   the timed span), then with the sync methods disabled (the rules'
//!   part alone).
//!
//! A plain bench binary rather than criterion, as `sync.rs`: a fill writes
//! 50,000 members, so runs are few; every run is checked (who joined, who
//! moved where), so no figure can be of a no-op.
//!
//! Run: `cargo bench -p charon-host --bench segment_rules` (no feature
//! needed: every figure goes through the public services).

mod common;
use common::{machine, percentile, thread_cpu};

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use charon_host::domain::{
    CourseGroupId, EnrolmentMethodId, EnrolmentMethodStatus, GroupMode, ProfileFieldKind,
    SegmentId, UserId,
};
use charon_host::services::courses::NewCourse;
use charon_host::services::enrolments::NewMethod;
use charon_host::services::execution::DispatchReport;
use charon_host::services::profile_fields::NewProfileField;
use charon_host::services::segments::NewSegment;
use charon_host::services::sites::NewSite;
use charon_host::services::users::{NewUser, UserUpdate};
use charon_host::services::{Principal, Services, SiteServices};

const USERS: usize = 100_000;
const FILL_RUNS: usize = 5;
const NOOP_RUNS: usize = 5;
const MOVES: usize = 200;
const PLUGIN: &str = "profile-field-rules";

/// User `i`'s department as the site is built: even HR, odd Finance.
fn department(i: usize) -> &'static str {
    if i.is_multiple_of(2) { "HR" } else { "Finance" }
}

fn rule(department: &str) -> serde_json::Value {
    serde_json::json!({"match": "all", "rule": format!("profile.department equals {department}")})
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// A fresh data dir with one site, "bench", whose text profile field
/// `department` is set on each of its `n` users as they are created, in
/// one transaction (as `common::site_with_users`, which sets no profile).
fn site_with_departments(n: usize) -> (tempfile::TempDir, SiteServices, Principal, Vec<UserId>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let services = Services::open(dir.path()).expect("services");
    services.first_run().expect("first run");
    let op = services.console_operator().expect("operator");
    let site = services
        .create_site(
            &op,
            NewSite {
                slug: "bench".into(),
                name: "Bench".into(),
                ..Default::default()
            },
        )
        .expect("site");
    let site = services.site(site.id).expect("site services");
    site.create_profile_field(
        &op,
        NewProfileField {
            shortname: "department".into(),
            name: "Department".into(),
            kind: ProfileFieldKind::Text,
            required: false,
            visible_to_user: true,
            locked: false,
            position: None,
        },
    )
    .expect("profile field");
    let users = site
        .create_users(
            &op,
            (0..n)
                .map(|i| NewUser {
                    username: format!("user{i:06}"),
                    email: format!("user{i:06}@example.org"),
                    firstname: "Bench".into(),
                    lastname: format!("User {i}"),
                    profile: BTreeMap::from([("department".to_owned(), department(i).to_owned())]),
                    ..Default::default()
                })
                .collect(),
        )
        .expect("users");
    // The 100,000 `user-created` events reach no rule yet: delivered now,
    // so that the rules attached later do not receive them.
    site.dispatch_pending().expect("drain");
    (dir, site, op, users)
}

fn new_segment(site: &SiteServices, op: &Principal, name: &str) -> SegmentId {
    site.create_segment(
        op,
        NewSegment {
            name: name.into(),
            ..Default::default()
        },
    )
    .expect("segment")
    .id
}

fn is_member(site: &SiteServices, op: &Principal, segment: SegmentId, user: UserId) -> bool {
    let among = site
        .segment_members_among(op, segment, &[user])
        .expect("members among");
    among.users.items.iter().any(|u| u.id == user)
}

fn in_group(site: &SiteServices, op: &Principal, group: CourseGroupId, user: UserId) -> bool {
    let after = user.0.checked_sub(1).map(UserId);
    let page = site
        .group_members(op, group, after, 1)
        .expect("group members");
    page.items.first().map(|m| m.user.id) == Some(user)
}

fn main() {
    println!("machine: {}", machine());

    let t = Instant::now();
    let (_dir, site, op, users) = site_with_departments(USERS);
    println!(
        "site of {USERS} users (half department HR, half Finance) built in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let hr_users = USERS.div_ceil(2);

    // 1. The initial fill, each run on a fresh segment; then a second
    // reconcile of the filled segment, which finds nothing to change.
    let (mut fills, mut fill_cpu, mut noops) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..FILL_RUNS {
        let segment = new_segment(&site, &op, &format!("HR fill {run}"));
        // A marker to attach a profiler to (e.g. `perf record -p`).
        eprintln!("run {run}: fill starts");
        let (t, cpu) = (Instant::now(), thread_cpu());
        let set = site
            .set_segment_rule(&op, segment, PLUGIN, &rule("HR"))
            .expect("set rule");
        let (d, cpu) = (t.elapsed(), thread_cpu() - cpu);
        let outcome = set.outcome.expect("the rule's first run");
        assert_eq!(outcome.joined.len(), hr_users, "joined");
        assert!(outcome.left.is_empty() && outcome.refused.is_empty());
        let summary = site.get_segment(&op, segment).expect("segment");
        assert_eq!(summary.members as usize, hr_users);
        assert!(is_member(&site, &op, segment, users[0]));
        assert!(!is_member(&site, &op, segment, users[1]));
        println!(
            "run {run}: initial fill, {} members joined: {:8.1} ms ({} pages; CPU {:.1} ms)",
            outcome.joined.len(),
            ms(d),
            outcome.pages,
            ms(cpu)
        );
        fills.push(d);
        fill_cpu.push(cpu);

        for _ in 0..NOOP_RUNS {
            let t = Instant::now();
            let again = site
                .run_segment_rule(&op, segment, false)
                .expect("reconcile");
            noops.push(t.elapsed());
            assert!(
                again.joined.is_empty() && again.left.is_empty(),
                "{again:?}"
            );
        }

        site.delete_segment(&op, segment).expect("delete");
        // The fill's 50,000 member events reach no method: delivered,
        // untimed, so each run starts from an empty outbox.
        site.dispatch_pending().expect("drain");
    }
    let mut sorted = fills.clone();
    sorted.sort();
    println!(
        "initial fill of {hr_users} members ({USERS} users): p50 {:.1} ms, min {:.1} ms, \
         max {:.1} ms over {FILL_RUNS} (CPU p50 {:.1} ms) (target < 1000 ms)",
        ms(percentile(&sorted, 0.5)),
        ms(sorted[0]),
        ms(sorted[sorted.len() - 1]),
        ms(median(fill_cpu))
    );
    let mut noops_sorted = noops.clone();
    noops_sorted.sort();
    println!(
        "second reconcile of a filled segment (nothing to change): p50 {:.1} ms, min {:.1} ms \
         over {}",
        ms(percentile(&noops_sorted, 0.5)),
        ms(noops_sorted[0]),
        noops_sorted.len()
    );

    // 2. The live move. Two rule segments, each synced into one course,
    // each into a new group of its own.
    let hr = new_segment(&site, &op, "HR");
    let finance = new_segment(&site, &op, "Finance");
    for (segment, dept) in [(hr, "HR"), (finance, "Finance")] {
        let set = site
            .set_segment_rule(&op, segment, PLUGIN, &rule(dept))
            .expect("set rule");
        assert_eq!(
            set.outcome.expect("first run").joined.len(),
            USERS / 2,
            "{dept}"
        );
    }
    site.dispatch_pending().expect("drain");
    let course = site
        .create_course(
            &op,
            NewCourse {
                shortname: "RULES".into(),
                fullname: "Rule segments".into(),
                group_mode: GroupMode::Separate,
                force_group_mode: false,
            },
        )
        .expect("course")
        .id;
    let method = |segment: SegmentId| -> EnrolmentMethodId {
        site.add_method(
            &op,
            course,
            NewMethod {
                plugin: "segment-sync".into(),
                name: String::new(),
                config: serde_json::json!({"segment": segment.0, "group": "new"}),
                enabled: true,
            },
        )
        .expect("method")
        .id
    };
    let methods = [method(hr), method(finance)];
    // Each method's `method-added` asks for a reconcile, which the
    // dispatcher runs: 50,000 enrolments and memberships each, then their
    // events.
    let t = Instant::now();
    let mut rounds = 0;
    loop {
        let r = site.dispatch_pending().expect("fill the course");
        rounds += 1;
        if r.events == 0 {
            break;
        }
    }
    println!(
        "the course filled by the two segment-sync methods (2 × {} enrolments and group \
         memberships, then their events): {:.1} s ({rounds} dispatch calls)",
        USERS / 2,
        t.elapsed().as_secs_f64()
    );
    let groups = site.list_groups(&op, course).expect("groups");
    let group_of = |name: &str| -> CourseGroupId {
        let g = groups
            .iter()
            .find(|g| g.group.name == format!("{name} segment"))
            .unwrap_or_else(|| panic!("no group for {name}: {groups:?}"));
        assert_eq!(g.members as usize, USERS / 2, "{name} group");
        g.group.id
    };
    let (hr_group, finance_group) = (group_of("HR"), group_of("Finance"));

    // User `i` is in HR when `i` is even: moving users 0, 1, 2, … takes
    // turns HR → Finance and Finance → HR.
    let moves = |from: usize, synced: bool, durable: bool| {
        let mut m = Moves::default();
        for (i, &user) in users.iter().enumerate().skip(from).take(MOVES) {
            let (old, new, dept) = if department(i) == "HR" {
                ((hr, hr_group), (finance, finance_group), "Finance")
            } else {
                ((finance, finance_group), (hr, hr_group), "HR")
            };
            let update = UserUpdate {
                profile: BTreeMap::from([("department".to_owned(), dept.to_owned())]),
                ..Default::default()
            };
            // The CPU clock is read outside the timed spans.
            let cpu0 = thread_cpu_now();
            let t0 = Instant::now();
            site.update_user(&op, user, update).expect("update");
            let t1 = Instant::now();
            let cpu1 = thread_cpu_now();
            let t2 = Instant::now();
            let r = site.dispatch_pending().expect("dispatch");
            let t3 = Instant::now();
            let cpu2 = thread_cpu_now();
            let mut flush = Duration::ZERO;
            if durable {
                let t = Instant::now();
                site.flush().expect("flush");
                flush = t.elapsed();
                m.flush.push(flush);
            }
            m.total.push((t1 - t0) + (t3 - t2) + flush);
            m.update.push(t1 - t0);
            m.dispatch.push(t3 - t2);
            m.update_cpu.push(cpu1 - cpu0);
            m.dispatch_cpu.push(cpu2 - cpu1);
            assert_eq!(r.errors, 0, "{r:?}");
            assert!(
                is_member(&site, &op, new.0, user),
                "{i}: not in the new segment"
            );
            assert!(
                !is_member(&site, &op, old.0, user),
                "{i}: still in the old segment"
            );
            if synced {
                // Two rule plans (leave, join) and two method plans
                // (unenrol, enrol and group).
                assert!(r.applied >= 4, "{i}: {r:?}");
                assert!(
                    in_group(&site, &op, new.1, user),
                    "{i}: not in the new group"
                );
                assert!(
                    !in_group(&site, &op, old.1, user),
                    "{i}: still in the old group"
                );
            } else {
                assert!(r.applied >= 2, "{i}: {r:?}");
                assert!(in_group(&site, &op, old.1, user), "{i}: the sync ran");
            }
            m.first.get_or_insert(r);
        }
        m.sort();
        m
    };

    eprintln!("live moves start");
    let m = moves(0, true, false);
    println!(
        "live move of one user between the two rule segments and their synced groups \
         (update_user + dispatch_pending): {} over {MOVES} (target p50 < 2 ms)",
        show(&m.total)
    );
    println!(
        "  of which update_user (its durable commit, which also writes the pages the previous \
         move's dispatch committed lazily): {}; CPU p50 {:.2} ms",
        show(&m.update),
        ms(percentile(&m.update_cpu, 0.5))
    );
    println!(
        "  of which dispatch_pending: {}; CPU p50 {:.2} ms; one move's dispatch: {:?}",
        show(&m.dispatch),
        ms(percentile(&m.dispatch_cpu, 0.5)),
        m.first.expect("a move")
    );

    // As the dispatcher job runs it: what a round committed lazily is
    // made durable right after it (`flush`), so the next update's commit
    // no longer writes the previous round's pages.
    let m = moves(MOVES, true, true);
    println!(
        "the same made durable as the dispatcher job does (update_user + dispatch_pending + \
         flush): {}",
        show(&m.total)
    );
    println!(
        "  update_user {} (CPU p50 {:.2} ms); dispatch_pending {}; flush {}",
        show(&m.update),
        ms(percentile(&m.update_cpu, 0.5)),
        show(&m.dispatch),
        show(&m.flush)
    );

    // The same with the segment-sync methods disabled: the rules' part
    // alone, so the difference is the sync's.
    for m in methods {
        site.set_method_status(&op, m, EnrolmentMethodStatus::Disabled)
            .expect("disable");
    }
    site.dispatch_pending().expect("drain");
    let m = moves(2 * MOVES, false, false);
    println!(
        "the same with the segment-sync methods disabled (the rules alone): end to end {}; \
         dispatch {}; CPU p50 {:.2} ms; one move's dispatch: {:?}",
        show(&m.total),
        show(&m.dispatch),
        ms(percentile(&m.dispatch_cpu, 0.5)),
        m.first.expect("a move")
    );
}

/// The figures of [`MOVES`] live moves, each sorted.
#[derive(Default)]
struct Moves {
    total: Vec<Duration>,
    update: Vec<Duration>,
    dispatch: Vec<Duration>,
    update_cpu: Vec<Duration>,
    dispatch_cpu: Vec<Duration>,
    flush: Vec<Duration>,
    /// What the first move's `dispatch_pending` did.
    first: Option<DispatchReport>,
}

impl Moves {
    fn sort(&mut self) {
        for v in [
            &mut self.total,
            &mut self.update,
            &mut self.dispatch,
            &mut self.update_cpu,
            &mut self.dispatch_cpu,
            &mut self.flush,
        ] {
            v.sort();
        }
    }
}

/// CPU time this thread has run so far, to the nanosecond: unlike
/// `common::thread_cpu` (the scheduler's account, brought up to date only
/// at a tick or a switch), right for spans of a millisecond.
fn thread_cpu_now() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the call's duration.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn show(v: &[Duration]) -> String {
    format!(
        "p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms",
        ms(percentile(v, 0.5)),
        ms(percentile(v, 0.9)),
        ms(percentile(v, 0.99))
    )
}
