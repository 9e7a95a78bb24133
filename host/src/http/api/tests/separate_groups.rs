//! Issue 18's route-by-role proof for the API: in the fixture's
//! separate-groups course, a learner of Team A calls every site GET route
//! of the document, each id naming Team B's things (or B's members) where
//! the route takes one, and no answer carries anything of Team B. Driven
//! by the document, so a route added later is walked too; a path
//! parameter it does not know fails with where to teach it.

use actix_web::http::StatusCode;

use super::ApiTest;
use crate::http::api::{openapi, operator_paths};
use crate::services::testing::{TeamB, TestSite};

#[actix_web::test]
async fn a_learner_of_team_a_reads_nothing_of_team_b_through_the_api() {
    let fx = TestSite::new().with_teams();
    let b = fx.team_b_things();
    let total = super::cross_site::course_total(&fx);
    let (course, team_b, section, hr, manual, learner3) = (
        fx.course,
        fx.team_b,
        fx.section,
        fx.hr,
        fx.manual,
        fx.learners[2],
    );
    let id_of = |name: &str| -> Option<u64> {
        Some(match name {
            "courses" => course.0,
            "groups" => team_b.0,
            "sections" => section.0,
            "activities" => b.page.0,
            "groupings" => b.grouping.0,
            "forums" => b.forum.0,
            "discussions" => b.discussion.0,
            "posts" => b.post.0,
            "assignments" => b.assignment.0,
            "submissions" => b.submission.0,
            "grade-items" => total.0,
            // learner3, of Team B.
            "users" => learner3.0,
            "segments" => hr.0,
            "methods" | "enrolment-methods" => manual.0,
            "announcements" | "inbox" | "mass-enrolments" | "tokens" | "profile-fields" => 1,
            _ => return None,
        })
    };
    let t = ApiTest::with(fx);
    let doc = serde_json::to_value(openapi()).expect("document");
    let operator = operator_paths();
    let (mut walked, mut naming_b) = (0, 0);
    for (path, item) in doc["paths"].as_object().expect("paths") {
        if operator.contains(path) || item.get("get").is_none() {
            continue;
        }
        let mut previous = "";
        let mut concrete = Vec::new();
        for segment in path.trim_start_matches("/api/v1").split('/') {
            let value = match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                None => segment.to_owned(),
                Some("kind") => "segment-members".to_owned(),
                Some("format") => "grades.csv".to_owned(),
                Some("plugin") => "noop".to_owned(),
                Some("version") => "1.0.0".to_owned(),
                Some("sha256") => b.file.clone(),
                Some(param) => {
                    let name = if param == "id" { previous } else { param };
                    id_of(name)
                        .unwrap_or_else(|| {
                            panic!(
                                "teach the Team B walk which id to put for {{{param}}} in {path}"
                            )
                        })
                        .to_string()
                }
            };
            previous = segment;
            concrete.push(value);
        }
        let url = concrete.join("/");
        let (status, body) = t.learner().get(&url).await;
        let text = body.to_string();
        for marker in TeamB::MARKERS {
            assert!(
                !text.contains(marker),
                "GET {url} shows {marker:?} of Team B to a learner of Team A ({status}): {text}"
            );
        }
        if [
            "/groups/{id}",
            "/activities/{id}",
            "/groupings/{id}",
            "/users/{id}",
            "/discussions/{id}",
            "/posts/{id}",
            "/submissions/{id}",
        ]
        .iter()
        .any(|p| path.contains(p))
        {
            assert_ne!(
                status,
                StatusCode::OK,
                "GET {url} answers a learner of Team A"
            );
            naming_b += 1;
        }
        walked += 1;
    }
    assert!(
        walked >= 30 && naming_b >= 5,
        "walked {walked}, naming B {naming_b}"
    );
}
