//! The gradebook (issue 19, BENCHMARKS.md), on a course of 10,000
//! learners in 20 groups of 500 with 50 manual items (500,000 grades):
//! - entering a whole column of 10,000 grades in one save (target
//!   < 300 ms), timed for each of the 50 columns as they are first filled
//!   and again when every grade of a column changes;
//! - the per-group statistics of the whole course — 21 cohorts × 51
//!   items and total — through the service (target < 100 ms);
//! - the grader report of one group of 500 learners × 50 items, through
//!   the service and as the page through the real HTTP server on loopback
//!   with a signed-in teacher's session (target p50 < 20 ms); the page as
//!   it opens (grades as text) and in edit mode (25,000 inputs), gzip as
//!   a browser gets it and edit mode also uncompressed.
//!
//! Run: `cargo bench -p charon-host --bench gradebook`.

mod common;
use std::time::{Duration, Instant};

use common::{machine, percentile, thread_cpu};

use charon_host::domain::{CourseGroupId, CourseId, GradeItemId, GroupMode, Role, UserId};
use charon_host::services::courses::NewCourse;
use charon_host::services::gradebook::GradeItemDraft;
use charon_host::services::gradebook::entry::GradeChange;
use charon_host::services::gradebook::report::ReportQuery;
use charon_host::services::groups::NewGroup;
use charon_host::services::{Principal, SiteServices};

const LEARNERS: usize = 10_000;
const GROUPS: usize = 20;
const ITEMS: usize = 50;
const PASSWORD: &str = "bench password 1";

/// A grade that differs by learner, item and group (group 0 lowest), so
/// the statistics sort real spreads.
fn grade(learner: usize, item: usize, round: usize) -> f64 {
    let group = learner / (LEARNERS / GROUPS);
    let noise = (learner * 7919 + item * 104_729 + round * 31) % 41;
    (40.0 + group as f64 * 2.0 + noise as f64 - 20.0).clamp(0.0, 100.0)
}

fn summary(what: &str, mut times: Vec<Duration>, cpu: Duration, target: &str) {
    times.sort();
    eprintln!(
        "{what}: p50 {:?}, p90 {:?}, max {:?}, CPU {:?} per run ({} runs; target {target})",
        percentile(&times, 0.5),
        percentile(&times, 0.9),
        times[times.len() - 1],
        cpu / times.len() as u32,
        times.len()
    );
}

fn save_column(
    site: &SiteServices,
    op: &Principal,
    course: CourseId,
    users: &[UserId],
    item: (usize, GradeItemId),
    round: usize,
) {
    let changes: Vec<GradeChange> = users
        .iter()
        .enumerate()
        .map(|(l, &user)| GradeChange {
            user,
            item: item.1,
            value: Some(grade(l, item.0, round)),
        })
        .collect();
    let saved = site.set_grades(op, course, &changes).expect("column");
    assert_eq!(
        saved.changed as usize,
        users.len(),
        "every grade of the column changed"
    );
}

fn main() {
    eprintln!("machine: {}", machine());
    let (dir, host, site, op, mut users) = common::host_with_users(LEARNERS + 1);
    let teacher = users.pop().expect("a teacher");
    site.set_user_password(&op, teacher, PASSWORD)
        .expect("password");
    let course = site
        .create_course(
            &op,
            NewCourse {
                shortname: "GRADES".into(),
                fullname: "Gradebook bench".into(),
                group_mode: GroupMode::Separate,
                force_group_mode: false,
            },
        )
        .expect("course")
        .id;
    let manual = site.list_methods(&op, course).expect("methods")[0].id;
    site.enrol_users(&op, manual, &users, Role::Learner)
        .expect("learners");
    site.enrol(&op, manual, teacher, Role::Teacher)
        .expect("teacher");
    let groups: Vec<CourseGroupId> = users
        .chunks(LEARNERS / GROUPS)
        .enumerate()
        .map(|(i, chunk)| {
            let g = site
                .create_group(
                    &op,
                    course,
                    NewGroup {
                        name: format!("Department {i:02}"),
                        ..Default::default()
                    },
                )
                .expect("group")
                .id;
            site.add_group_members(&op, g, chunk).expect("members");
            g
        })
        .collect();
    let items: Vec<GradeItemId> = (0..ITEMS)
        .map(|i| {
            site.create_grade_item(
                &op,
                course,
                GradeItemDraft {
                    name: format!("Item {i:02}"),
                    max_grade: 100.0,
                    pass_grade: Some(50.0),
                    ..Default::default()
                },
            )
            .expect("item")
            .id
        })
        .collect();

    let (mut times, cpu0) = (Vec::new(), thread_cpu());
    for (i, &item) in items.iter().enumerate() {
        let t = Instant::now();
        save_column(&site, &op, course, &users, (i, item), 0);
        times.push(t.elapsed());
    }
    summary(
        "column of 10,000 grades, first entry",
        times,
        thread_cpu() - cpu0,
        "< 300 ms",
    );
    let (mut times, cpu0) = (Vec::new(), thread_cpu());
    for (i, &item) in items.iter().enumerate().take(20) {
        let t = Instant::now();
        save_column(&site, &op, course, &users, (i, item), 1);
        times.push(t.elapsed());
    }
    summary(
        "column of 10,000 grades, every grade changed",
        times,
        thread_cpu() - cpu0,
        "< 300 ms",
    );

    let (mut times, cpu0) = (Vec::new(), thread_cpu());
    for _ in 0..20 {
        let t = Instant::now();
        let stats = site.group_statistics(&op, course).expect("statistics");
        times.push(t.elapsed());
        assert_eq!(stats.cohorts.len(), GROUPS + 1);
        assert_eq!(stats.items[0].cohorts[0].graded as usize, LEARNERS);
    }
    summary(
        "per-group statistics, 10,000 learners × 20 groups × 50 items",
        times,
        thread_cpu() - cpu0,
        "< 100 ms",
    );

    let query = ReportQuery {
        group: Some(groups[3]),
        per_page: 500,
        ..Default::default()
    };
    let (mut times, cpu0) = (Vec::new(), thread_cpu());
    for _ in 0..100 {
        let t = Instant::now();
        let report = site.grader_report(&op, course, &query).expect("report");
        times.push(t.elapsed());
        assert_eq!(report.rows.len(), 500);
    }
    summary(
        "grader report service, one group of 500 × 50 items",
        times,
        thread_cpu() - cpu0,
        "p50 < 20 ms (the page)",
    );

    let slug = site.site().slug.clone();
    let group = groups[3];
    common::serve(dir.path(), host, |base, agent| {
        let cookie = common::sign_in(agent, base, &slug, &format!("user{LEARNERS:06}"), PASSWORD);
        let report = format!("{base}/s/{slug}/courses/{course}/grades?group={group}");
        let whole = |body: &str| {
            assert!(
                body.contains("</html>") && body.contains("user001500"),
                "a whole report"
            )
        };
        common::time_page(
            agent,
            &format!("{report}&per_page=500"),
            &cookie,
            (20, 200),
            whole,
            "grader report page, one group of 500 learners × 50 items",
            "< 20 ms",
        );
        common::time_page(
            agent,
            &format!("{report}&per_page=500&edit=1"),
            &cookie,
            (20, 200),
            whole,
            "grader report page in edit mode (25,000 inputs), 500 × 50",
            "",
        );
        common::time_page(
            agent,
            &format!("{report}&edit=1"),
            &cookie,
            (20, 200),
            whole,
            "grader report page in edit mode at the default 100 learners a page",
            "",
        );
        // Edit mode's 500 × 50 page without compression: how much of its
        // time is gzip over 25,000 inputs.
        let url = format!("{report}&per_page=500&edit=1");
        let (mut times, mut size) = (Vec::new(), 0);
        for i in 0..120 {
            let t = Instant::now();
            let mut response = agent
                .get(&url)
                .header("Cookie", &cookie)
                .header("Accept-Encoding", "identity")
                .call()
                .expect("page");
            let body = response
                .body_mut()
                .with_config()
                .limit(64 << 20)
                .read_to_string()
                .expect("body");
            if i >= 20 {
                times.push(t.elapsed());
            }
            whole(&body);
            size = body.len();
        }
        times.sort();
        eprintln!(
            "grader report page in edit mode, 500 × 50, uncompressed ({} KB): p50 {:?}, p90 {:?}",
            size / 1000,
            percentile(&times, 0.5),
            percentile(&times, 0.9)
        );
    });
}
