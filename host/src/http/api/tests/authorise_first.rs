//! Issue 16, finding 8: whoever may not call a route hears 401 or 403
//! whatever body they send, never a 400, 413, 415 or 422 describing the
//! body the route expects. Walks every operation of the document that
//! takes a body, so a route added later is walked too.

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;

use super::ApiTest;
use super::cross_site::{SiteB, operations};
use crate::services::testing::TestSite;

/// Operations a learner may call, where a bad body is rightly a 422: self
/// enrolment, a request to an enrolment method, marking one or every
/// message of their inbox and their own message preferences are the
/// learner's own.
const A_LEARNERS_OWN: &[&str] = &[
    "/self-enrol",
    "/requests",
    "/read",
    "/me/inbox",
    "/me/preferences",
    // A participant starts discussions, replies, edits their own posts
    // and subscribes: their bad body is rightly 422.
    "/discussions",
    "/subscription",
    "/replies",
    "/submission",
    "/submission/files/essay.txt",
];

/// The same for a resource a learner may change by its own id: a path
/// with this prefix, by this method (a learner edits their own post).
const A_LEARNERS_OWN_RESOURCES: &[(&str, &str)] = &[("PATCH", "/posts/")];

/// Bad bodies: an empty object, an unknown field, and no JSON at all.
fn bad_bodies() -> Vec<(Option<&'static str>, Vec<u8>)> {
    vec![
        (Some("application/json"), b"{}".to_vec()),
        (Some("application/json"), br#"{"x":1}"#.to_vec()),
        (Some("application/json"), b"not json".to_vec()),
        (None, b"{}".to_vec()),
    ]
}

#[actix_web::test]
async fn nobody_who_may_not_write_learns_the_shape_of_the_body() {
    let (a, b) = TestSite::two_sites();
    // Site A gets the teaching things site B gets, in the same order, so
    // B's ids name them: a learner of A is refused by the course of a
    // forum or an assignment, never by a missing id.
    super::cross_site::ForumIds::of(&a);
    a.assignment_sample();
    let t = ApiTest::with(a);
    let b = SiteB::new(b);
    let site_a = t.fx.site.site().slug.clone();
    let site_b = b.fx.site.site().slug.clone();
    // Both sites are populated alike, so site B's ids name site A's
    // things too.
    let mut walks = Vec::new();
    for operator in [false, true] {
        for op in operations(&b, operator) {
            if op.bodies.iter().all(Option::is_none) {
                continue;
            }
            walks.push((operator, op.method, op.path));
        }
    }
    assert!(
        walks.len() >= 30,
        "only {} operations take a body",
        walks.len()
    );
    let mut failures = Vec::new();
    let callers = [
        ("anonymous", None, StatusCode::UNAUTHORIZED),
        ("a learner", Some(t.learner.as_str()), StatusCode::FORBIDDEN),
        (
            "another site's admin",
            Some(t.admin.as_str()),
            StatusCode::FORBIDDEN,
        ),
    ];
    for (operator, method, path) in &walks {
        for (who, token, refused) in &callers {
            let learners_own = A_LEARNERS_OWN.iter().any(|own| path.ends_with(own))
                || A_LEARNERS_OWN_RESOURCES
                    .iter()
                    .any(|(m, prefix)| method.as_str() == *m && path.starts_with(prefix));
            if *who == "a learner" && learners_own {
                continue;
            }
            // A site route on the site the caller is not a learner of;
            // the learner's own site otherwise.
            let uri = match (operator, *who) {
                (true, _) => format!("/api/v1{path}"),
                (false, "another site's admin") => format!("/s/{site_b}/api/v1{path}"),
                (false, _) => format!("/s/{site_a}/api/v1{path}"),
            };
            for (content_type, bytes) in bad_bodies() {
                let mut req = TestRequest::default()
                    .method(method.clone())
                    .uri(&uri)
                    .set_payload(bytes.clone());
                if let Some(ct) = content_type {
                    req = req.insert_header(("Content-Type", ct));
                }
                let (status, body) = t.client(*token).send(req).await;
                if status != *refused {
                    failures.push(format!(
                        "{method} {uri} by {who} with {:?}: {status} {body}",
                        String::from_utf8_lossy(&bytes)
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "answered before authorising:\n{}",
        failures.join("\n")
    );
}
