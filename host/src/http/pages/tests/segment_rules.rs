//! Page tests of `segment_rules`: the rule form generated from the
//! plugin's manifest, saving a rule with its first run, a bad rule
//! answered beside its field, the managed segment's page, the dry run,
//! pause and resume, removal after a confirmation, and who may do any of
//! it.

use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
use actix_web::test::TestRequest;

use super::methods::flash;
use super::{Answer, Pages, cookie_of, form_of, value_of};
use crate::domain::{SegmentId, UserId};
use crate::services::segments::NewSegment;

const PLUGIN: &str = "profile-field-rules";

fn rule_url(segment: SegmentId, rest: &str) -> String {
    format!("/s/acme/segments/{segment}/rule{rest}")
}

fn members(p: &Pages, segment: SegmentId) -> Vec<UserId> {
    p.fx.site
        .segment_members(&p.fx.admin, segment, None, 100)
        .unwrap()
        .items
        .iter()
        .map(|u| u.id)
        .collect()
}

/// A new segment managed by hand, with no members.
fn empty_segment(p: &Pages, name: &str) -> SegmentId {
    p.fx.site
        .create_segment(
            &p.fx.admin,
            NewSegment {
                name: name.into(),
                ..Default::default()
            },
        )
        .unwrap()
        .id
}

/// Learners 1 and 2 in HR, learner 3 in Finance.
fn departments(p: &Pages) {
    p.fx.set_department(p.fx.learners[0], "HR");
    p.fx.set_department(p.fx.learners[1], "HR");
    p.fx.set_department(p.fx.learners[2], "Finance");
}

fn rule_form(token: &str, matching: &str, rule: &str) -> String {
    form_of(&[
        ("csrf", token),
        ("plugin", PLUGIN),
        ("config.match", matching),
        ("config.rule", rule),
    ])
}

/// The page a post/redirect/get answer leads to, with its flash shown.
async fn follow(p: &Pages, answer: &Answer) -> Answer {
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let mut req = TestRequest::get()
        .uri(answer.location())
        .cookie(Cookie::new("charon_session", p.admin.clone()));
    if let Some(flash) = cookie_of(answer, "charon_flash") {
        req = req.cookie(Cookie::new("charon_flash", value_of(&flash)));
    }
    p.call(req).await
}

#[actix_web::test]
async fn the_rule_form_is_the_plugins_config_form_with_the_only_plugin_chosen() {
    let p = Pages::new();
    let page = p.get(&rule_url(p.fx.hr, ""), Some(&p.admin)).await;
    page.assert_shows(StatusCode::OK, "Manage the members of HR by a rule");
    // One rule plugin on the site: it is chosen, and its form shown.
    assert!(!page.body.contains("Show its form"), "{}", page.body);
    assert!(
        page.body
            .contains(&format!("name=\"plugin\" value=\"{PLUGIN}\"")),
        "{}",
        page.body
    );
    assert!(page.body.contains("Rule of plugin Profile field rules"));
    // `match` is a choice, as a select with the manifest's default.
    assert!(
        page.body
            .contains("<label for=\"f-config.match\">Users must match</label>")
    );
    assert!(
        page.body
            .contains("<select id=\"f-config.match\" name=\"config.match\"")
    );
    assert!(
        page.body
            .contains("<option value=\"all\" selected>All conditions (all of)</option>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Any condition (any of)"));
    // `rule` is multiline text, with the plugin's help.
    assert!(
        page.body
            .contains("<label for=\"f-config.rule\">Conditions</label>")
    );
    assert!(
        page.body
            .contains("<textarea id=\"f-config.rule\" name=\"config.rule\"")
    );
    assert!(page.body.contains("One condition per line"));
    assert!(page.body.contains("Save and run"));
    assert!(
        page.body
            .contains(&format!("name=\"csrf\" value=\"{}\"", p.csrf(&p.admin)))
    );
}

#[actix_web::test]
async fn saving_a_rule_fills_the_segment_and_says_what_its_first_run_did() {
    let p = Pages::new();
    departments(&p);
    let segment = empty_segment(&p, "HR people");
    let token = p.csrf(&p.admin);
    let saved = p
        .post(
            &rule_url(segment, ""),
            Some(&p.admin),
            &rule_form(&token, "all", "profile.department equals HR"),
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(saved.location(), format!("/s/acme/segments/{segment}"));
    assert_eq!(flash(&saved), "Rule saved and run: 2 joined, 0 left.");
    assert_eq!(members(&p, segment), p.fx.learners[0..2].to_vec());

    let page = follow(&p, &saved).await;
    page.assert_shows(StatusCode::OK, "Rule saved and run: 2 joined, 0 left.");
    assert!(
        page.body
            .contains("Members are managed by the rule of plugin Profile field rules")
    );
    assert!(
        page.body
            .contains("<pre>profile.department equals HR</pre>")
    );
    assert!(page.body.contains("All conditions (all of)"));
    assert!(
        page.body.contains("(reconcile): 2 joined, 0 left."),
        "{}",
        page.body
    );
    assert!(page.body.contains("learner1") && page.body.contains("learner2"));
}

#[actix_web::test]
async fn a_bad_rule_is_answered_beside_its_field_with_the_line_and_the_text_kept() {
    let p = Pages::new();
    let segment = empty_segment(&p, "HR people");
    let token = p.csrf(&p.admin);
    let before = p.fx.snapshot();
    let typed = "profile.department equals HR\nprofile.department frobs X";
    let answer = p
        .post(
            &rule_url(segment, ""),
            Some(&p.admin),
            &rule_form(&token, "any", typed),
        )
        .await;
    answer.assert_form_refused("id=\"f-config.rule-error\">line 2: ");
    assert!(
        answer
            .body
            .contains("aria-invalid=\"true\" aria-describedby=\"f-config.rule-error\""),
        "{}",
        answer.body
    );
    // What was typed is kept, the choice too.
    assert!(answer.body.contains(typed), "{}", answer.body);
    assert!(answer.body.contains("<option value=\"any\" selected>"));
    p.fx.assert_unchanged(&before);
}

#[actix_web::test]
async fn a_managed_segment_names_its_rule_and_shows_no_member_controls() {
    let p = Pages::new();
    departments(&p);
    let segment =
        p.fx.rule_segment("HR people", "profile.department equals HR");
    let page = p
        .get(&format!("/s/acme/segments/{segment}"), Some(&p.admin))
        .await;
    page.assert_shows(
        StatusCode::OK,
        "Members are managed by the rule of plugin Profile field rules",
    );
    assert!(page.body.contains("they cannot be added or removed here"));
    assert!(page.body.contains("learner1"), "its members are shown");
    assert!(!page.body.contains("Add members"));
    assert!(!page.body.contains("Remove selected"));
    assert!(!page.body.contains("name=\"user\""));
    assert!(!page.body.contains("members/remove"));
    assert!(!page.body.contains("Manage members by a rule"));
    for action in ["Dry run", "Run now", "Pause", "Edit rule", "Remove rule…"] {
        assert!(page.body.contains(action), "{action}: {}", page.body);
    }

    // The edit form holds the rule as saved.
    let edit = p.get(&rule_url(segment, ""), Some(&p.admin)).await;
    edit.assert_shows(StatusCode::OK, "Edit the rule of HR people");
    assert!(
        edit.body
            .contains(">profile.department equals HR</textarea>"),
        "{}",
        edit.body
    );

    // A segment managed by hand offers a rule instead.
    let by_hand = p
        .get(&format!("/s/acme/segments/{}", p.fx.hr), Some(&p.admin))
        .await;
    assert!(by_hand.body.contains("Members are managed by hand."));
    assert!(by_hand.body.contains("Manage members by a rule"));
    assert!(by_hand.body.contains("Add members"));
}

#[actix_web::test]
async fn the_dry_run_lists_who_would_join_and_leave_with_why_and_changes_nothing() {
    let p = Pages::new();
    departments(&p);
    let segment =
        p.fx.rule_segment("HR people", "profile.department equals HR");
    // Changed since, with no event delivered: the segment is behind.
    p.fx.set_department(p.fx.learners[0], "Finance");
    p.fx.set_department(p.fx.learners[2], "HR");
    let before = p.fx.snapshot();
    let token = p.csrf(&p.admin);
    let page = p
        .post(
            &rule_url(segment, "/dry-run"),
            Some(&p.admin),
            &format!("csrf={token}"),
        )
        .await;
    page.assert_shows(StatusCode::OK, "Dry run of the rule of HR people");
    assert!(
        page.body
            .contains("Run now, the rule would make 1 user join and 1 user leave."),
        "{}",
        page.body
    );
    let joined = page.body.split("Would leave").next().unwrap();
    let left = page.body.split("Would leave").nth(1).unwrap();
    assert!(joined.contains("learner3") && !joined.contains("learner1"));
    assert!(left.contains("learner1") && !left.contains("learner3"));
    assert!(page.body.contains("Why"));
    p.fx.assert_unchanged(&before);

    // Run now does it.
    let ran = p
        .post(
            &rule_url(segment, "/run"),
            Some(&p.admin),
            &format!("csrf={token}"),
        )
        .await;
    assert_eq!(flash(&ran), "The rule ran: 1 joined, 1 left.");
    assert_eq!(
        members(&p, segment),
        vec![p.fx.learners[1], p.fx.learners[2]]
    );
}

#[actix_web::test]
async fn a_rule_is_paused_resumed_and_removed_after_a_confirmation_keeping_the_members() {
    let p = Pages::new();
    departments(&p);
    let segment =
        p.fx.rule_segment("HR people", "profile.department equals HR");
    let token = p.csrf(&p.admin);
    let csrf = format!("csrf={token}");
    let paused = p
        .post(&rule_url(segment, "/pause"), Some(&p.admin), &csrf)
        .await;
    assert!(
        flash(&paused).starts_with("Rule paused"),
        "{}",
        flash(&paused)
    );
    let page = follow(&p, &paused).await;
    assert!(page.body.contains("The rule is paused"));
    assert!(page.body.contains(">Resume</button>"));
    assert!(!page.body.contains(">Run now</button>"));

    p.fx.set_department(p.fx.learners[2], "HR");
    let resumed = p
        .post(&rule_url(segment, "/resume"), Some(&p.admin), &csrf)
        .await;
    assert_eq!(flash(&resumed), "Rule resumed and run: 1 joined, 0 left.");

    // "Remove rule…" asks first, saying the members stay.
    let before = p.fx.snapshot();
    let confirm = p
        .post(&rule_url(segment, "/remove"), Some(&p.admin), &csrf)
        .await;
    confirm.assert_shows(StatusCode::OK, "Remove the rule of HR people?");
    assert!(
        confirm
            .body
            .contains("Keep its 3 members: nobody leaves the segment")
    );
    assert!(confirm.body.contains("name=\"confirm\" value=\"1\""));
    p.fx.assert_unchanged(&before);
    let removed = p
        .post(
            &rule_url(segment, "/remove"),
            Some(&p.admin),
            &format!("{csrf}&confirm=1"),
        )
        .await;
    assert_eq!(
        flash(&removed),
        "Rule removed. The members stay; from now on they are managed by hand."
    );
    assert_eq!(members(&p, segment), p.fx.learners[0..3].to_vec());
    let page = follow(&p, &removed).await;
    assert!(page.body.contains("Members are managed by hand."));
    assert!(page.body.contains("Add members"));
}

#[actix_web::test]
async fn only_a_site_admin_sees_or_changes_a_rule() {
    let p = Pages::new();
    departments(&p);
    let segment =
        p.fx.rule_segment("HR people", "profile.department equals HR");
    let before = p.fx.snapshot();
    for who in [&p.teacher, &p.learner] {
        let form = p.get(&rule_url(segment, ""), Some(who)).await;
        assert_eq!(form.status, StatusCode::FORBIDDEN);
        let token = p.csrf(who);
        let save = p
            .post(
                &rule_url(segment, ""),
                Some(who),
                &rule_form(&token, "all", "profile.department equals Finance"),
            )
            .await;
        assert_eq!(save.status, StatusCode::FORBIDDEN, "{}", save.body);
        for action in ["/dry-run", "/run", "/pause", "/resume", "/remove"] {
            let answer = p
                .post(
                    &rule_url(segment, action),
                    Some(who),
                    &format!("csrf={token}&confirm=1"),
                )
                .await;
            assert_eq!(answer.status, StatusCode::FORBIDDEN, "{action}");
        }
    }
    p.fx.assert_unchanged(&before);
}
