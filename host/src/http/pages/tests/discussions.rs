//! Page tests of forums: in the fixture's separate-groups course a Team A
//! learner starts a discussion in Team A from the forum page, a Team B
//! learner neither sees it in the list nor opens it by its address, a
//! post to a group that is not theirs comes back on the form with nothing
//! written, and a `<script>` in a post is never on the page.

use actix_web::http::StatusCode;

use super::Pages;
use crate::http::pages::session::url_escape;

fn form(token: &str, fields: &[(&str, &str)]) -> String {
    let mut body = format!("csrf={token}");
    for (k, v) in fields {
        body.push_str(&format!("&{k}={}", url_escape(v)));
    }
    body
}

#[actix_web::test]
async fn a_team_a_discussion_is_invisible_to_team_b_on_every_page() {
    let p = Pages::new();
    let fx = &p.fx;
    // learner1 (the pages' learner) in Team A, learner2 in Team B.
    fx.site
        .add_group_members(&fx.admin, fx.team_a, &[fx.learners[0]])
        .unwrap();
    fx.site
        .add_group_members(&fx.admin, fx.team_b, &[fx.learners[1]])
        .unwrap();
    let team_b = fx
        .services
        .test_session(crate::domain::SessionSubject::SiteUser {
            site: fx.id(),
            user: fx.learners[1],
        });
    let forum = format!("/s/acme/forums/{}", p.content.forum);

    let page = p.get(&forum, Some(&p.learner)).await;
    page.assert_shows(StatusCode::OK, "id=\"new-discussion\"");
    assert!(page.body.contains("Welcome"), "the all-participants one");

    // Team B is not one of learner1's choices; forging it is refused.
    let token = p.csrf(&p.learner);
    let url = format!("{forum}/discussions");
    let before = fx.snapshot();
    let team_b_group = fx.team_b.to_string();
    let refused = p
        .post(
            &url,
            Some(&p.learner),
            &form(
                &token,
                &[
                    ("group", team_b_group.as_str()),
                    ("subject", "Sneaky"),
                    ("body", "Hi B"),
                ],
            ),
        )
        .await;
    refused.assert_form_refused("you may start discussions only in your own groups");
    fx.assert_unchanged(&before);

    let team_a_group = fx.team_a.to_string();
    let started = p
        .post(
            &url,
            Some(&p.learner),
            &form(
                &token,
                &[
                    ("group", team_a_group.as_str()),
                    ("subject", "Team A plans"),
                    ("body", "**Monday** <script>alert(1)</script>"),
                ],
            ),
        )
        .await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    let thread = started.location().to_owned();
    let shown = p.get(&thread, Some(&p.learner)).await;
    shown.assert_shows(StatusCode::OK, "<strong>Monday</strong>");
    assert!(!shown.body.contains("<script>alert"), "{}", shown.body);
    assert!(shown.body.contains("id=\"reply\""));

    // Team B: not in the list, not found by its address.
    let list = p.get(&forum, Some(&team_b)).await;
    list.assert_shows(StatusCode::OK, "Welcome");
    assert!(!list.body.contains("Team A plans"), "{}", list.body);
    let opened = p.get(&thread, Some(&team_b)).await;
    assert_eq!(opened.status, StatusCode::NOT_FOUND, "{}", opened.body);
    assert!(!opened.body.contains("Team A plans"));

    // The teacher sees both and may delete.
    let teacher = p.get(&forum, Some(&p.teacher)).await;
    teacher.assert_shows(StatusCode::OK, "Team A plans");
    let thread_for_teacher = p.get(&thread, Some(&p.teacher)).await;
    thread_for_teacher.assert_shows(StatusCode::OK, ">Delete</a>");
}
