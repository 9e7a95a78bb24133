//! Page tests of `audit`: the log, its filters (kind of action, who, text)
//! and its pages.

use actix_web::http::StatusCode;

use super::Pages;
use crate::services::segments::NewSegment;

fn segment(p: &Pages, who: &crate::services::Principal, name: &str) {
    p.fx.site
        .create_segment(
            who,
            NewSegment {
                name: name.into(),
                ..Default::default()
            },
        )
        .unwrap();
}

/// The actions of the rows an audit page shows.
fn actions(body: &str) -> Vec<String> {
    body.split("<span class=\"tag\">")
        .skip(1)
        .filter_map(|rest| rest.split('<').next())
        .map(str::to_owned)
        .collect()
}

#[actix_web::test]
async fn the_audit_log_shows_changes_newest_first() {
    let p = Pages::new();
    segment(&p, &p.fx.admin, "Auditors");
    let page = p.get("/s/acme/audit", Some(&p.admin)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<h1>Audit log</h1>"));
    let shown = actions(&page.body);
    assert_eq!(
        shown.first().map(String::as_str),
        Some("segment.created"),
        "{shown:?}"
    );
    assert!(shown.iter().any(|a| a == "user.created"));
    assert!(
        page.body.contains(&format!("user #{}", p.fx.admin_id)),
        "the actor"
    );
    assert!(page.body.contains("Auditors"), "the target");
    for label in [
        "<label for=\"f-action\">",
        "<label for=\"f-actor\">",
        "<label for=\"f-q\">",
    ] {
        assert!(page.body.contains(label), "the filter has {label}");
    }
}

#[actix_web::test]
async fn the_action_filter_keeps_one_kind_of_change() {
    let p = Pages::new();
    let page = p.get("/s/acme/audit?action=segment.", Some(&p.admin)).await;
    assert_eq!(page.status, StatusCode::OK);
    let shown = actions(&page.body);
    assert!(!shown.is_empty());
    assert!(shown.iter().all(|a| a.starts_with("segment.")), "{shown:?}");
    assert!(
        page.body.contains("<option value=\"segment.\" selected>"),
        "the choice is kept"
    );
    // An unknown prefix filters nothing rather than everything.
    let odd = p.get("/s/acme/audit?action=nonsense", Some(&p.admin)).await;
    assert!(actions(&odd.body).iter().any(|a| a == "user.created"));
}

#[actix_web::test]
async fn the_actor_filter_takes_a_username_system_or_operator() {
    let p = Pages::new();
    segment(&p, &p.fx.admin, "By the admin");
    let operator = p.fx.services.console_operator().unwrap();
    segment(&p, &operator, "By the operator");

    let admin = p.get("/s/acme/audit?actor=admin", Some(&p.admin)).await;
    assert!(admin.body.contains("By the admin"));
    assert!(!admin.body.contains("By the operator"));
    assert!(
        !admin.body.contains("user.created"),
        "the set-up was the system's"
    );

    let system = p.get("/s/acme/audit?actor=system", Some(&p.admin)).await;
    assert!(system.body.contains("user.created"));
    assert!(!system.body.contains("By the admin") && !system.body.contains("By the operator"));

    let ops = p.get("/s/acme/audit?actor=Operator", Some(&p.admin)).await;
    assert!(ops.body.contains("By the operator"));
    assert!(!ops.body.contains("By the admin") && !ops.body.contains("user.created"));

    let shown = p
        .get(
            &format!("/s/acme/audit?actor=user+%23{}", p.fx.admin_id),
            Some(&p.admin),
        )
        .await;
    assert!(shown.body.contains("By the admin") && !shown.body.contains("By the operator"));
}

#[actix_web::test]
async fn an_unknown_actor_is_answered_on_the_filter() {
    let p = Pages::new();
    let page = p.get("/s/acme/audit?actor=nobody", Some(&p.admin)).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.body
            .contains("name=\"actor\" type=\"text\" value=\"nobody\" aria-invalid=\"true\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("no user has the username"));
    assert!(
        actions(&page.body).is_empty(),
        "no rows for a filter that names nobody"
    );
}

#[actix_web::test]
async fn the_text_filter_searches_what_and_why() {
    let p = Pages::new();
    let page = p.get("/s/acme/audit?q=finance", Some(&p.admin)).await;
    let shown = actions(&page.body);
    assert!(!shown.is_empty());
    assert!(!page.body.contains("learner1@"), "{shown:?}");
    assert!(shown.iter().all(|a| a.starts_with("segment.")), "{shown:?}");
    let nothing = p.get("/s/acme/audit?q=zzzz", Some(&p.admin)).await;
    assert!(nothing.body.contains("No change matches this filter."));
}

#[actix_web::test]
async fn the_audit_log_pages_back_with_before() {
    let p = Pages::new();
    for i in 0..60 {
        segment(&p, &p.fx.admin, &format!("Batch {i:02}"));
    }
    let first = p
        .get("/s/acme/audit?action=segment.&actor=admin", Some(&p.admin))
        .await;
    assert!(first.body.contains("Batch 59") && !first.body.contains("Batch 09"));
    let next = first
        .body
        .split("href=\"")
        .filter_map(|s| s.split('"').next())
        .find(|h| h.contains("before="))
        .expect("a next page link")
        .replace("&#38;", "&");
    assert!(
        next.contains("action=segment.") && next.contains("actor=admin"),
        "{next}"
    );
    let second = p.get(&next, Some(&p.admin)).await;
    assert_eq!(second.status, StatusCode::OK);
    assert!(second.body.contains("Batch 09") && !second.body.contains("Batch 59"));
    assert!(second.body.contains("First page"));
}
