//! Segment membership at scale (issue 2, BENCHMARKS.md):
//! - adding 100,000 members to one segment in one transaction, through the
//!   service layer (validation, authorisation, audit and outbox included);
//! - reading them back, every page of 1,000 in id order;
//! - reading one page of 100 from the middle.
//!
//! Run: `cargo bench -p charon-host --bench segments`.

mod common;
use common::machine;

use std::hint::black_box;
use std::time::Duration;

use charon_host::domain::{SegmentId, UserId};
use charon_host::services::segments::NewSegment;
use charon_host::services::{Principal, SiteServices};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

const MEMBERS: usize = 100_000;

struct Fixture {
    _dir: tempfile::TempDir,
    site: SiteServices,
    op: Principal,
    users: Vec<UserId>,
}

fn fixture() -> Fixture {
    let (dir, site, op, users) = common::site_with_users(MEMBERS);
    Fixture {
        _dir: dir,
        site,
        op,
        users,
    }
}

fn new_segment(f: &Fixture, n: &mut u32) -> SegmentId {
    *n += 1;
    f.site
        .create_segment(
            &f.op,
            NewSegment {
                name: format!("Segment {n}"),
                ..Default::default()
            },
        )
        .expect("segment")
        .id
}

fn benches(c: &mut Criterion) {
    eprintln!("machine: {}", machine());
    let f = fixture();
    let mut n = 0;

    let mut g = c.benchmark_group("segment");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.bench_function("add 100k members in one transaction", |b| {
        b.iter_batched(
            || new_segment(&f, &mut n),
            |seg| {
                let change = f
                    .site
                    .add_segment_members(&f.op, seg, &f.users)
                    .expect("add");
                assert_eq!(change.changed as usize, MEMBERS);
            },
            BatchSize::PerIteration,
        )
    });

    let full = new_segment(&f, &mut n);
    f.site
        .add_segment_members(&f.op, full, &f.users)
        .expect("add");
    g.bench_function("read 100k members back, pages of 1000", |b| {
        b.iter(|| {
            let mut after = None;
            let mut seen = 0;
            loop {
                let page = f
                    .site
                    .segment_members(&f.op, full, after, 1000)
                    .expect("page");
                seen += page.items.len();
                match page.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
            assert_eq!(black_box(seen), MEMBERS);
        })
    });
    g.finish();

    let mut g = c.benchmark_group("segment page");
    g.bench_function("one page of 100 members from the middle", |b| {
        let middle = Some(f.users[MEMBERS / 2]);
        b.iter(|| {
            black_box(
                f.site
                    .segment_members(&f.op, full, middle, 100)
                    .expect("page"),
            )
        })
    });
    g.finish();
}

criterion_group!(segments, benches);
criterion_main!(segments);
