//! Announcements and the inbox (issue 17, BENCHMARKS.md):
//! - sending an announcement to a 100,000-member segment: the recipients
//!   fixed and recorded, an inbox copy each, the e-mail copies queued (the
//!   site has SMTP settings) — one transaction, through the service;
//! - opening the inbox of a user with 10,000 announcements: the first
//!   page of 50 through the service, and through the real HTTP server
//!   (`GET /api/v1/me/inbox` with the user's token: routing, token,
//!   service, JSON), p50.
//!
//! Run: `cargo bench -p charon-host --bench announcements`.

mod common;
use common::{machine, percentile};

use std::hint::black_box;
use std::time::{Duration, Instant};

use charon_host::domain::{Audience, TokenScope, UserId};
use charon_host::services::announcements::AnnouncementDraft;
use charon_host::services::segments::NewSegment;
use charon_host::services::tokens::NewToken;
use charon_host::services::users::NewUser;
use charon_host::services::{Principal, SiteServices};
use criterion::{Criterion, criterion_group, criterion_main};

const MEMBERS: usize = 100_000;
const INBOX: usize = 10_000;

fn draft(audience: Audience, n: usize) -> AnnouncementDraft {
    AnnouncementDraft {
        audience,
        subject: format!("Compliance update {n}"),
        body: "The **compliance** deadline moved to Friday. See [the policy](https://example.com)."
            .into(),
        send_at: None,
    }
}

/// A site admin of `site` (announcements are signed by a user of the
/// site, not an operator).
fn author(site: &SiteServices, op: &Principal) -> Principal {
    let user = site
        .create_user(
            op,
            NewUser {
                username: "author".into(),
                email: "author@example.org".into(),
                firstname: "Ann".into(),
                lastname: "Author".into(),
                site_admin: true,
                ..Default::default()
            },
        )
        .expect("author");
    Principal::site_user(site.site().id, user.id)
}

fn benches(c: &mut Criterion) {
    eprintln!("machine: {}", machine());
    let (dir, host, site, op, users) = common::host_with_users(MEMBERS);
    let admin = author(&site, &op);
    // SMTP settings make the send queue the e-mail copies too (no worker
    // runs here: nothing is delivered, the address is never dialled).
    site.save_smtp_settings(
        &op,
        charon_host::services::mail::SmtpSettingsInput {
            host: "127.0.0.1".into(),
            port: 2525,
            security: Some(charon_host::domain::SmtpSecurity::None),
            from_address: "lms@example.org".into(),
            ..Default::default()
        },
    )
    .expect("smtp settings");
    let segment = common::segment_of(&site, &op, &users);

    let mut g = c.benchmark_group("announcement");
    g.sample_size(10).measurement_time(Duration::from_secs(30));
    let mut n = 0;
    g.bench_function("send to a 100,000-member segment", |b| {
        b.iter(|| {
            n += 1;
            let sent = site
                .create_announcement(&admin, draft(Audience::Segment(segment), n))
                .expect("send");
            assert_eq!(sent.recipients as usize, MEMBERS);
            assert_eq!(sent.delivery.queued as usize, MEMBERS);
        })
    });
    g.finish();

    // One reader with 10,000 announcements in their inbox.
    let reader = users[0];
    let small = site
        .create_segment(
            &op,
            NewSegment {
                name: "Reader".into(),
                ..Default::default()
            },
        )
        .expect("segment")
        .id;
    site.add_segment_members(&op, small, &[reader])
        .expect("member");
    let started = Instant::now();
    for i in 0..INBOX {
        site.create_announcement(&admin, draft(Audience::Segment(small), i))
            .expect("send");
    }
    eprintln!(
        "filled an inbox with {INBOX} announcements in {:?}",
        started.elapsed()
    );
    let me = Principal::site_user(site.site().id, reader);

    let mut g = c.benchmark_group("inbox");
    g.bench_function(
        "first page of 50, user with 10,000+ announcements (service)",
        |b| {
            b.iter(|| {
                let page = site.inbox(&me, None, 50).expect("inbox");
                assert_eq!(page.page.items.len(), 50);
                black_box(page)
            })
        },
    );
    g.finish();

    inbox_over_http(dir.path(), host, &site, &op, reader);
}

/// `GET /api/v1/me/inbox` against the real server on loopback, one
/// keep-alive connection, 2,000 requests after 100 to warm up: p50, p90
/// and p99.
fn inbox_over_http(
    data: &std::path::Path,
    host: charon_host::services::Services,
    site: &SiteServices,
    op: &Principal,
    reader: UserId,
) {
    let token = host
        .create_token(
            op,
            NewToken {
                name: "bench".into(),
                scope: TokenScope::SiteUser {
                    site: site.site().id,
                    user: reader,
                },
            },
        )
        .expect("token")
        .secret;
    let slug = site.site().slug.clone();
    common::serve(data, host, |base, agent| {
        let url = format!("{base}/s/{slug}/api/v1/me/inbox?limit=50");
        let mut times = Vec::with_capacity(2000);
        for i in 0..2100 {
            let t = Instant::now();
            let body = agent
                .get(&url)
                .header("Authorization", &format!("Bearer {token}"))
                .call()
                .expect("inbox")
                .into_body()
                .read_to_string()
                .expect("body");
            if i >= 100 {
                times.push(t.elapsed());
            }
            black_box(body);
        }
        times.sort();
        eprintln!(
            "inbox over HTTP, first page of 50 of {INBOX}+ announcements: p50 {:?}, p90 {:?}, p99 {:?} ({} requests)",
            percentile(&times, 0.5),
            percentile(&times, 0.9),
            percentile(&times, 0.99),
            times.len()
        );
    });
}

criterion_group!(announcements, benches);
criterion_main!(announcements);
