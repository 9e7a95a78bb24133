//! One-off mass enrolment at scale (issue 17, BENCHMARKS.md): a segment of
//! 100,000 members enrolled into a course through
//! `SiteServices::apply_mass_enrolment`, as the pages, the API and the CLI
//! call it, in one durable transaction (the members sorted, 100,000
//! manual enrolments with their audit entries and events, a new group with
//! 100,000 memberships, the record with its user lists):
//! - previewed (one read transaction, the figures);
//! - applied into a fresh course each time, with and without a new group;
//! - undone (every enrolment and membership removed again).
//!
//! Run: `cargo bench -p charon-host --bench mass_enrolments`.

mod common;
use common::machine;

use std::time::Duration;

use charon_host::domain::{CourseId, GroupMode, MassEnrolmentId, Role};
use charon_host::services::courses::NewCourse;
use charon_host::services::mass_enrolments::{MassEnrolmentRequest, MassGroupChoice};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

const MEMBERS: usize = 100_000;

fn benches(c: &mut Criterion) {
    eprintln!("machine: {}", machine());
    let (_dir, site, op, users) = common::site_with_users(MEMBERS);
    let segment = common::segment_of(&site, &op, &users);
    let mut n = 0;
    let mut new_course = || -> CourseId {
        n += 1;
        site.create_course(
            &op,
            NewCourse {
                shortname: format!("MASS{n}"),
                fullname: "Mass".into(),
                group_mode: GroupMode::Separate,
                force_group_mode: false,
            },
        )
        .expect("course")
        .id
    };
    let request = |course, group| MassEnrolmentRequest {
        course,
        role: Role::Learner,
        group,
    };

    let mut g = c.benchmark_group("mass_enrolment");
    g.sample_size(10).measurement_time(Duration::from_secs(30));
    let previewed = new_course();
    g.bench_function("preview 100k members", |b| {
        b.iter(|| {
            let preview = site
                .preview_mass_enrolment(&op, segment, &request(previewed, MassGroupChoice::None))
                .expect("preview");
            assert_eq!(preview.figures.to_enrol as usize, MEMBERS);
        })
    });
    g.bench_function("apply 100k members", |b| {
        b.iter_batched(
            &mut new_course,
            |course| {
                let done = site
                    .apply_mass_enrolment(&op, segment, &request(course, MassGroupChoice::None))
                    .expect("apply");
                assert_eq!(done.figures.to_enrol as usize, MEMBERS);
            },
            BatchSize::PerIteration,
        )
    });
    g.bench_function("apply 100k members into a new group", |b| {
        b.iter_batched(
            &mut new_course,
            |course| {
                let group = MassGroupChoice::New("Everyone".into());
                let done = site
                    .apply_mass_enrolment(&op, segment, &request(course, group))
                    .expect("apply");
                assert_eq!(done.figures.grouped as usize, MEMBERS);
            },
            BatchSize::PerIteration,
        )
    });
    g.bench_function("undo 100k members", |b| {
        b.iter_batched(
            || -> MassEnrolmentId {
                let course = new_course();
                site.apply_mass_enrolment(&op, segment, &request(course, MassGroupChoice::None))
                    .expect("apply")
                    .id
            },
            |id| {
                let undone = site.undo_mass_enrolment(&op, id).expect("undo");
                assert_eq!(undone.undone.map(|u| u.removed as usize), Some(MEMBERS));
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(group, benches);
criterion_main!(group);
