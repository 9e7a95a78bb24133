//! Assignments (issue 18, BENCHMARKS.md):
//! - a 10 MiB file submitted (checked, digested, stored in the site's redb
//!   file in 1 MiB chunks with its submission, one durable transaction)
//!   and read back whole, through the service;
//! - the list of 1,000 submissions of a separate-groups course (10 groups
//!   of 100), for an editing teacher filtered by one group and for a
//!   non-editing teacher who sees only their own group.
//!
//! Run: `cargo bench -p charon-host --bench assignments`.

mod common;
use common::machine;

use std::hint::black_box;
use std::time::Duration;

use charon_host::domain::{CourseGroupId, GroupMode, Role, UserId};
use charon_host::services::Principal;
use charon_host::services::assignments::{AssignmentInput, NewFile, SubmissionInput};
use charon_host::services::content::{ActivityDraft, SectionDraft};
use charon_host::services::courses::NewCourse;
use charon_host::services::groups::NewGroup;
use criterion::{Criterion, criterion_group, criterion_main};

const LEARNERS: usize = 1_000;
const GROUPS: usize = 10;
const FILE: usize = 10 << 20;

fn benches(c: &mut Criterion) {
    eprintln!("machine: {}", machine());
    let (_dir, site, op, users) = common::site_with_users(LEARNERS + 2);
    let id = site.site().id;
    let as_user = |u: UserId| Principal::site_user(id, u);
    let course = site
        .create_course(
            &op,
            NewCourse {
                shortname: "COMP101".into(),
                fullname: "Compliance".into(),
                group_mode: GroupMode::Separate,
                force_group_mode: false,
            },
        )
        .expect("course")
        .id;
    let manual = site.list_methods(&op, course).expect("methods")[0].id;
    let (learners, staff) = users.split_at(LEARNERS);
    site.enrol_users(&op, manual, learners, Role::Learner)
        .expect("learners");
    site.enrol_users(&op, manual, &staff[..1], Role::Teacher)
        .expect("teacher");
    site.enrol_users(&op, manual, &staff[1..], Role::NonEditingTeacher)
        .expect("non-editing teacher");
    let mut groups: Vec<CourseGroupId> = Vec::new();
    for (g, members) in learners.chunks(LEARNERS / GROUPS).enumerate() {
        let group = site
            .create_group(
                &op,
                course,
                NewGroup {
                    name: format!("Department {g}"),
                    ..Default::default()
                },
            )
            .expect("group")
            .id;
        site.add_group_members(&op, group, members)
            .expect("members");
        groups.push(group);
    }
    site.add_group_members(&op, groups[0], &staff[1..])
        .expect("the non-editing teacher's group");
    let (teacher, limited) = (as_user(staff[0]), as_user(staff[1]));
    let section = site
        .create_section(
            &teacher,
            course,
            &SectionDraft {
                name: "Week 1".into(),
                summary: String::new(),
                visible: true,
            },
        )
        .expect("section")
        .id;
    let assignment = site
        .create_assignment(
            &teacher,
            section,
            ActivityDraft {
                name: "Report".into(),
                visible: true,
                ..Default::default()
            },
            AssignmentInput {
                max_file_bytes: 16 << 20,
                ..Default::default()
            },
        )
        .expect("assignment")
        .id;
    for &l in &learners[1..] {
        site.save_submission(
            &as_user(l),
            assignment,
            SubmissionInput {
                text: Some("My report.".into()),
                submit: true,
                ..Default::default()
            },
        )
        .expect("submission");
    }

    // One learner saves a 10 MiB draft file again and again, each time
    // with other bytes (a new content stored, the old one's chunks gone).
    let writer = as_user(learners[0]);
    let mut content: Vec<u8> = (0..FILE).map(|i| (i % 251) as u8).collect();
    let mut n = 0u8;
    let mut g = c.benchmark_group("assignment file");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.bench_function("submit a 10 MiB file (draft, stored in redb)", |b| {
        b.iter(|| {
            n = n.wrapping_add(1);
            content[0] = n;
            let saved = site
                .save_submission(
                    &writer,
                    assignment,
                    SubmissionInput {
                        add_files: vec![NewFile {
                            name: "report.pdf".into(),
                            content_type: "application/pdf".into(),
                            content: content.clone(),
                        }],
                        ..Default::default()
                    },
                )
                .expect("saved");
            black_box(saved)
        })
    });
    let saved = site
        .assignment(&writer, assignment, None)
        .expect("assignment")
        .learner
        .and_then(|p| p.submission)
        .expect("the draft")
        .submission;
    let sha = saved.files[0].sha256;
    g.bench_function("read the 10 MiB file back", |b| {
        b.iter(|| {
            let (_, bytes) = site
                .submission_file(&teacher, saved.id, &sha)
                .expect("file");
            assert_eq!(bytes.len(), FILE);
            black_box(bytes)
        })
    });
    g.finish();

    let mut g = c.benchmark_group("submission list");
    g.bench_function(
        "1,000 submissions, editing teacher, filtered by one group",
        |b| {
            b.iter(|| {
                let list = site
                    .assignment_submissions(&teacher, assignment, Some(groups[3]))
                    .expect("list");
                assert_eq!(list.rows.len(), LEARNERS / GROUPS);
                black_box(list)
            })
        },
    );
    g.bench_function(
        "1,000 submissions, non-editing teacher (separate groups: their own)",
        |b| {
            b.iter(|| {
                let list = site
                    .assignment_submissions(&limited, assignment, None)
                    .expect("list");
                // Learner 0 of group 0 has a draft, not counted as missing.
                assert_eq!(list.rows.len(), LEARNERS / GROUPS);
                black_box(list)
            })
        },
    );
    g.finish();
}

criterion_group!(group, benches);
criterion_main!(group);
