//! Issue 18's route-by-role proof for pages: in the fixture's
//! separate-groups course, a learner of Team A opens every page route,
//! with every id in the path naming Team B's things where the route takes
//! one, and no answer shows anything of Team B — its name, its members,
//! its activities.

use actix_web::http::StatusCode;

use super::{Pages, site_url};
use crate::http::pages::site_page_routes;
use crate::services::testing::TeamB;

#[actix_web::test]
async fn a_learner_of_team_a_reads_nothing_of_team_b_on_any_page() {
    let mut p = Pages::new();
    let fx = &p.fx;
    fx.site
        .add_group_members(&fx.admin, fx.team_a, &fx.learners[0..2])
        .unwrap();
    fx.site
        .add_group_members(&fx.admin, fx.team_b, &fx.learners[2..4])
        .unwrap();
    let b = fx.team_b_things();
    // Team B's things stand in for the fixture's in every path.
    p.fx.team_a = p.fx.team_b;
    p.fx.page = b.page;
    p.fx.grouping = b.grouping;
    p.content.forum = b.forum;
    p.content.discussion = b.discussion;
    p.content.post = b.post;
    p.assignment = b.assignment;
    p.submission = b.submission;
    p.file = b.file;
    let mut walked = 0;
    let mut refused_b = 0;
    for route in site_page_routes().iter().filter(|r| r.method == "get") {
        let url = site_url(route, &p);
        let answer = p.get(&url, Some(&p.learner)).await;
        for marker in TeamB::MARKERS {
            assert!(
                !answer.body.contains(marker),
                "{url} shows {marker:?} of Team B to a learner of Team A ({}): {}",
                answer.status,
                answer.body
            );
        }
        let names_b = [
            "{group}",
            "{activity}",
            "{grouping}",
            "{discussion}",
            "{post}",
            "{submission}",
        ]
        .iter()
        .any(|param| route.path.contains(param));
        if names_b {
            assert_ne!(
                answer.status,
                StatusCode::OK,
                "{url} answers a learner of Team A"
            );
            refused_b += 1;
        }
        walked += 1;
    }
    assert!(
        walked >= 40 && refused_b >= 5,
        "walked {walked}, of them naming B {refused_b}"
    );
    // The same learner does see their own team on the participants page.
    let own = p
        .get(
            &format!("/s/acme/courses/{}/participants", p.fx.course),
            Some(&p.learner),
        )
        .await;
    assert_eq!(own.status, StatusCode::OK);
    assert!(
        own.body.contains("learner2") && own.body.contains("Team A"),
        "{}",
        own.body
    );
}
