//! Teaching in groups (issue 18, BENCHMARKS.md), through the real HTTP
//! server on loopback with a signed-in learner's session cookie (routing,
//! session, service, template), p50/p90/p99 of 2,000 requests after 100:
//! - the course page of a course with 30 sections × 10 activities, for a
//!   learner in 3 groups (some activities restricted to groupings, some
//!   hidden): target p50 < 5 ms;
//! - the participants page of a 10,000-learner separate-groups course for
//!   a learner of a 25-member group: target p50 < 10 ms.
//!
//! Run: `cargo bench -p charon-host --bench teaching`.

mod common;
use common::{machine, percentile};

use std::hint::black_box;
use std::time::Instant;

use charon_host::domain::{CourseGroupId, CourseId, GroupMode, Role, UserId};
use charon_host::services::content::{ActivityDraft, SectionDraft};
use charon_host::services::courses::NewCourse;
use charon_host::services::groups::NewGroup;
use charon_host::services::{Principal, SiteServices};

const LEARNERS: usize = 10_000;
const GROUP_SIZE: usize = 25;
const SECTIONS: usize = 30;
const PER_SECTION: usize = 10;
const PASSWORD: &str = "bench password 1";

fn course(site: &SiteServices, op: &Principal, shortname: &str) -> CourseId {
    site.create_course(
        op,
        NewCourse {
            shortname: shortname.into(),
            fullname: format!("{shortname} course"),
            group_mode: GroupMode::Separate,
            force_group_mode: false,
        },
    )
    .expect("course")
    .id
}

fn group(site: &SiteServices, op: &Principal, course: CourseId, name: &str) -> CourseGroupId {
    site.create_group(
        op,
        course,
        NewGroup {
            name: name.into(),
            ..Default::default()
        },
    )
    .expect("group")
    .id
}

/// The content course: 30 sections of 10 activities; every fifth
/// restricted to a grouping of the learner's first group, every seventh
/// hidden. The learner is in 3 of its 10 groups.
fn content_course(site: &SiteServices, op: &Principal, learner: UserId) -> CourseId {
    let id = course(site, op, "CONTENT");
    let manual = site.list_methods(op, id).expect("methods")[0].id;
    site.enrol(op, manual, learner, Role::Learner)
        .expect("enrol");
    let groups: Vec<CourseGroupId> = (0..10)
        .map(|i| group(site, op, id, &format!("G{i}")))
        .collect();
    for &g in &groups[0..3] {
        site.add_group_members(op, g, &[learner]).expect("member");
    }
    let grouping = site
        .create_grouping(op, id, "First", "", &groups[0..1])
        .expect("grouping")
        .grouping
        .id;
    for s in 0..SECTIONS {
        let section = site
            .create_section(
                op,
                id,
                &SectionDraft {
                    name: format!("Week {s}"),
                    summary: format!("What week **{s}** covers."),
                    visible: true,
                },
            )
            .expect("section")
            .id;
        for a in 0..PER_SECTION {
            let n = s * PER_SECTION + a;
            site.create_page(
                op,
                section,
                &ActivityDraft {
                    name: format!("Activity {n}"),
                    description: format!("The body of activity {n}, with **Markdown**."),
                    visible: !n.is_multiple_of(7),
                    group_mode: None,
                    grouping: n.is_multiple_of(5).then_some(grouping),
                },
            )
            .expect("page");
        }
    }
    id
}

/// The people course: every user a learner, in groups of 25.
fn people_course(site: &SiteServices, op: &Principal, users: &[UserId]) -> CourseId {
    let id = course(site, op, "PEOPLE");
    let manual = site.list_methods(op, id).expect("methods")[0].id;
    site.enrol_users(op, manual, users, Role::Learner)
        .expect("enrol all");
    for (i, chunk) in users.chunks(GROUP_SIZE).enumerate() {
        let g = group(site, op, id, &format!("Team {i:03}"));
        site.add_group_members(op, g, chunk).expect("members");
    }
    id
}

fn main() {
    eprintln!("machine: {}", machine());
    let (dir, host, site, op, users) = common::host_with_users(LEARNERS);
    let learner = users[0];
    site.set_user_password(&op, learner, PASSWORD)
        .expect("password");
    let content = content_course(&site, &op, learner);
    let people = people_course(&site, &op, &users);
    let slug = site.site().slug.clone();
    let username = "user000000";
    common::serve(dir.path(), host, |base, agent| {
        let cookie = sign_in(agent, base, &slug, username);
        for (what, path, target) in [
            (
                "course page, 30 sections × 10 activities, learner in 3 groups",
                format!("/s/{slug}/courses/{content}"),
                "< 5 ms",
            ),
            (
                "participants page, 10,000-learner separate-groups course, learner of a 25-member group",
                format!("/s/{slug}/courses/{people}/participants"),
                "< 10 ms",
            ),
        ] {
            let url = format!("{base}{path}");
            let mut times = Vec::with_capacity(2000);
            for i in 0..2100 {
                let t = Instant::now();
                let mut response = agent
                    .get(&url)
                    .header("Cookie", &cookie)
                    .call()
                    .expect("page");
                let body = response.body_mut().read_to_string().expect("body");
                if i >= 100 {
                    times.push(t.elapsed());
                }
                assert!(body.contains("</html>"), "{path}: a whole page");
                black_box(body);
            }
            times.sort();
            eprintln!(
                "{what}: p50 {:?}, p90 {:?}, p99 {:?} ({} requests; target p50 {target})",
                percentile(&times, 0.5),
                percentile(&times, 0.9),
                percentile(&times, 0.99),
                times.len()
            );
        }
    });
}

/// Signs `username` in through the sign-in form and returns the `Cookie`
/// header of their session.
fn sign_in(agent: &ureq::Agent, base: &str, slug: &str, username: &str) -> String {
    let url = format!("{base}/s/{slug}/sign-in");
    let page = agent.get(&url).call().expect("sign-in page");
    let token_cookie = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("charon_sign_in="))
        .expect("the sign-in token cookie")
        .split(';')
        .next()
        .unwrap_or_default()
        .to_owned();
    let token = token_cookie
        .trim_start_matches("charon_sign_in=")
        .to_owned();
    let answer = agent
        .post(&url)
        .header("Cookie", &token_cookie)
        .content_type("application/x-www-form-urlencoded")
        .config()
        .max_redirects(0)
        .build()
        .send(format!(
            "csrf={token}&username={username}&password={}&next=",
            PASSWORD.replace(' ', "+")
        ))
        .expect("sign in");
    answer
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("charon_session="))
        .expect("a session cookie")
        .split(';')
        .next()
        .unwrap_or_default()
        .to_owned()
}
