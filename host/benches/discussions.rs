//! A long discussion (issue 18, BENCHMARKS.md): a 2,000-post thread of a
//! separate-groups forum, in the reading learner's group, written by 20
//! members of that group as replies at every depth.
//! - its page through the real HTTP server on loopback with the
//!   learner's session cookie (routing, session, service, template),
//!   p50/p90/p99 of 500 requests after 50: target p50 < 20 ms;
//! - the same discussion through the service alone (the read and the
//!   thread order, no template), p50.
//!
//! Posts carry the HTML rendered when they were written, so neither
//! renders Markdown.
//!
//! Run: `cargo bench -p charon-host --bench discussions`.

mod common;
use common::{machine, percentile};

use std::hint::black_box;
use std::time::Instant;

use charon_host::domain::{GroupMode, PostId, Role};
use charon_host::services::Principal;
use charon_host::services::content::{ActivityDraft, SectionDraft};
use charon_host::services::courses::NewCourse;
use charon_host::services::discussions::NewDiscussion;
use charon_host::services::groups::NewGroup;

const POSTS: usize = 2_000;
const WRITERS: usize = 20;
const PASSWORD: &str = "bench password 1";

fn body(n: usize) -> String {
    format!(
        "Reply **{n}**: the policy says *one thing* and the form another. \
         See [the handbook](https://example.com/handbook#{n}) and:\n\n\
         - the deadline\n- the sign-off\n- the audit trail\n"
    )
}

fn main() {
    eprintln!("machine: {}", machine());
    let (dir, host, site, op, users) = common::host_with_users(WRITERS + 10);
    let reader = users[0];
    site.set_user_password(&op, reader, PASSWORD)
        .expect("password");
    let course = site
        .create_course(
            &op,
            NewCourse {
                shortname: "FORUM".into(),
                fullname: "Forum course".into(),
                group_mode: GroupMode::Separate,
                force_group_mode: false,
            },
        )
        .expect("course")
        .id;
    let manual = site.list_methods(&op, course).expect("methods")[0].id;
    site.enrol_users(&op, manual, &users, Role::Learner)
        .expect("enrol");
    let group = |name: &str| {
        site.create_group(
            &op,
            course,
            NewGroup {
                name: name.into(),
                ..Default::default()
            },
        )
        .expect("group")
        .id
    };
    let (mine, other) = (group("Readers"), group("Others"));
    site.add_group_members(&op, mine, &users[..WRITERS])
        .expect("members");
    site.add_group_members(&op, other, &users[WRITERS..])
        .expect("members");
    let section = site
        .create_section(
            &op,
            course,
            &SectionDraft {
                name: "Week 1".into(),
                summary: String::new(),
                visible: true,
            },
        )
        .expect("section")
        .id;
    let forum = site
        .create_forum(
            &op,
            section,
            &ActivityDraft {
                name: "Questions".into(),
                visible: true,
                ..Default::default()
            },
        )
        .expect("forum")
        .id;
    let as_user = |i: usize| Principal::site_user(site.site().id, users[i % WRITERS]);
    let started = Instant::now();
    let discussion = site
        .start_discussion(
            &as_user(0),
            forum,
            NewDiscussion {
                group: Some(mine),
                subject: "The long one".into(),
                body: body(0),
            },
        )
        .expect("discussion");
    // Each reply answers one of the last few posts, so the thread is
    // both deep and wide.
    let mut ids: Vec<PostId> = vec![discussion.first_post];
    for n in 1..POSTS {
        let parent = ids[ids.len().saturating_sub(1 + n % 4)];
        let post = site.reply(&as_user(n), parent, &body(n)).expect("reply");
        ids.push(post.id);
    }
    eprintln!("wrote {POSTS} posts in {:?}", started.elapsed());

    let me = Principal::site_user(site.site().id, reader);
    let mut times = Vec::with_capacity(500);
    for i in 0..550 {
        let t = Instant::now();
        let view = site.discussion(&me, discussion.id).expect("discussion");
        if i >= 50 {
            times.push(t.elapsed());
        }
        assert_eq!(view.posts.len(), POSTS);
        black_box(view);
    }
    times.sort();
    eprintln!(
        "{POSTS}-post discussion through the service, learner in separate groups: p50 {:?}, p90 {:?}",
        percentile(&times, 0.5),
        percentile(&times, 0.9),
    );

    let slug = site.site().slug.clone();
    common::serve(dir.path(), host, |base, agent| {
        let cookie = common::sign_in(agent, base, &slug, "user000000", PASSWORD);
        let url = format!("{base}/s/{slug}/discussions/{}", discussion.id);
        common::time_page(
            agent,
            &url,
            &cookie,
            (50, 500),
            |page| {
                assert!(page.contains("</html>") && page.contains("Reply <strong>1999</strong>"))
            },
            &format!("{POSTS}-post discussion page over HTTP, learner in separate groups"),
            "< 20 ms",
        );
    });
}
