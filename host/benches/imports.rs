//! Bulk CSV import at scale (issue 7, BENCHMARKS.md): a 100,000-row
//! group-membership file (`username,course,group`) through
//! `SiteServices::import_csv`, as the API and the CLI call it:
//! - checked only (a dry run: parse, one read transaction, the report);
//! - checked and applied (parse, the checks inside the write transaction,
//!   100,000 memberships with their audit entries and events, one durable
//!   commit). Target: < 2 s.
//!
//! Run: `cargo bench -p charon-host --features bench --bench imports`.

mod common;
use common::machine;

use std::time::Duration;

use charon_host::domain::{CourseId, GroupMode, Role};
use charon_host::services::bulk::ImportKind;
use charon_host::services::courses::NewCourse;
use charon_host::services::groups::NewGroup;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

const ROWS: usize = 100_000;

/// The file adding every user to group `group` of BENCH101.
fn file(group: &str) -> Vec<u8> {
    let mut out = String::with_capacity(ROWS * 32);
    out.push_str("username,course,group\n");
    for i in 0..ROWS {
        out.push_str(&format!("user{i:06},BENCH101,{group}\n"));
    }
    out.into_bytes()
}

fn benches(c: &mut Criterion) {
    eprintln!("machine: {}", machine());
    let (_dir, site, op, users) = common::site_with_users(ROWS);
    let course: CourseId = site
        .create_course(
            &op,
            NewCourse {
                shortname: "BENCH101".into(),
                fullname: "Bench".into(),
                group_mode: GroupMode::Separate,
                force_group_mode: false,
            },
        )
        .expect("course")
        .id;
    let manual = site.list_methods(&op, course).expect("methods")[0].id;
    site.enrol_users(&op, manual, &users, Role::Learner)
        .expect("enrol everyone");
    let mut n = 0;
    let mut new_group = || {
        n += 1;
        let name = format!("Team {n}");
        site.create_group(
            &op,
            course,
            NewGroup {
                name: name.clone(),
                ..Default::default()
            },
        )
        .expect("group");
        name
    };

    let mut g = c.benchmark_group("import");
    g.sample_size(10).measurement_time(Duration::from_secs(30));
    let checked = file(&new_group());
    g.bench_function("check 100k group-membership rows (dry run)", |b| {
        b.iter(|| {
            let report = site
                .import_csv(&op, ImportKind::GroupMembers, &checked, true)
                .expect("report");
            assert_eq!(report.changes.group_members_added as usize, ROWS);
        })
    });
    g.bench_function("check and apply 100k group-membership rows", |b| {
        b.iter_batched(
            || file(&new_group()),
            |bytes| {
                let report = site
                    .import_csv(&op, ImportKind::GroupMembers, &bytes, false)
                    .expect("report");
                assert!(report.applied, "{:?}", report.errors.first());
                assert_eq!(report.changes.group_members_added as usize, ROWS);
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(group, benches);
criterion_main!(group);
