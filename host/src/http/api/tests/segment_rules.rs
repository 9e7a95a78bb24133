//! `/segments/{id}/rule` and `/rule-plugins`: rule-based segments through
//! the API, with the bundled `profile-field-rules` plugin.

use actix_web::http::StatusCode;
use serde_json::{Value, json};

use super::ApiTest;
use super::support::code;

const HR: &str = "profile.department equals HR";

/// The fixture with learners 1–3 in HR and 4–5 in Finance, set through
/// `/users`.
async fn departments() -> ApiTest {
    let t = ApiTest::new();
    for (i, l) in t.fx.learners.iter().enumerate() {
        let department = if i < 3 { "HR" } else { "Finance" };
        set_department(&t, l.0, department).await;
    }
    t
}

async fn set_department(t: &ApiTest, user: u64, department: &str) {
    let (status, body) = t
        .admin()
        .patch(
            &format!("/users/{user}"),
            json!({"profile": {"department": department}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn new_segment(t: &ApiTest, name: &str) -> u64 {
    let (status, seg) = t.admin().post("/segments", json!({"name": name})).await;
    assert_eq!(status, StatusCode::CREATED, "{seg}");
    seg["id"].as_u64().unwrap()
}

/// Attaches `rule` (all conditions) to `segment`: the answer, checked 200.
async fn attach(t: &ApiTest, segment: u64, rule: &str) -> Value {
    let (status, set) = t
        .admin()
        .put(
            &format!("/segments/{segment}/rule"),
            json!({"plugin": "profile-field-rules", "config": {"match": "all", "rule": rule}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{set}");
    set
}

async fn member_ids(t: &ApiTest, segment: u64) -> Vec<u64> {
    let (status, page) = t
        .admin()
        .get(&format!("/segments/{segment}/members?limit=100"))
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_u64().unwrap())
        .collect()
}

fn ids(changes: &Value) -> Vec<u64> {
    changes
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["user"].as_u64().unwrap())
        .collect()
}

#[actix_web::test]
async fn a_rule_attached_through_the_api_fills_its_segment_and_follows_users() {
    let t = departments().await;
    let learners: Vec<u64> = t.fx.learners.iter().map(|l| l.0).collect();
    let segment = new_segment(&t, "HR people").await;

    let set = attach(&t, segment, HR).await;
    let rule = &set["rule"];
    assert_eq!(rule["segment"], segment);
    assert_eq!(rule["plugin"], "profile-field-rules");
    assert_eq!(rule["plugin_name"], "Profile field rules");
    assert_eq!(
        rule["config"]["rule"], HR,
        "the config is an object: {rule}"
    );
    assert_eq!(rule["enabled"], true);
    assert_eq!(
        set["first_run"],
        json!({"outcome": "done", "joined": 3, "left": 0, "error": null})
    );
    assert_eq!(member_ids(&t, segment).await, learners[..3]);

    let (status, read) = t.admin().get(&format!("/segments/{segment}/rule")).await;
    assert_eq!(status, StatusCode::OK, "{read}");
    assert_eq!(read, set["rule"]);
    assert_eq!(read["last_run"]["trigger"], "reconcile");
    assert_eq!(
        (&read["last_run"]["joined"], &read["last_run"]["left"]),
        (&json!(3), &json!(0))
    );
    let (_, seg) = t.admin().get(&format!("/segments/{segment}")).await;
    assert_eq!(seg["managed_by"], "profile-field-rules");
    assert_eq!(seg["members"], 3);

    // A user who changes department moves with the next event.
    set_department(&t, learners[0], "Finance").await;
    set_department(&t, learners[4], "HR").await;
    while t.fx.site.dispatch_pending().unwrap().events > 0 {}
    assert_eq!(
        member_ids(&t, segment).await,
        [learners[1], learners[2], learners[4]]
    );
    let (_, read) = t.admin().get(&format!("/segments/{segment}/rule")).await;
    assert_eq!(read["last_run"]["trigger"], "event", "{read}");

    // Every change is the rule's in the audit log.
    let (_, log) = t
        .admin()
        .get("/audit?action=segment.member_&limit=100")
        .await;
    let by_rule: Vec<&Value> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["target"]
                .as_str()
                .unwrap()
                .ends_with(&format!(" in segment #{segment}"))
        })
        .collect();
    assert_eq!(
        by_rule.len(),
        5,
        "3 joined, then 1 left and 1 joined: {log}"
    );
    assert!(
        by_rule
            .iter()
            .all(|e| e["actor"] == json!({"kind": "rule", "segment": segment})),
        "{by_rule:?}"
    );
}

#[actix_web::test]
async fn a_bad_rule_is_refused_naming_the_field_and_its_line() {
    let t = departments().await;
    let segment = new_segment(&t, "Typos").await;
    let before = t.fx.snapshot();
    let (status, refused) = t
        .admin()
        .put(
            &format!("/segments/{segment}/rule"),
            json!({"plugin": "profile-field-rules",
                   "config": {"match": "all", "rule": "profile.department equals HR\nprofile.city equal Paris"}}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(code(&refused), "config_rejected");
    let errors = refused["error"]["errors"].as_array().unwrap();
    assert_eq!(errors[0]["field"], "rule", "{refused}");
    assert!(
        errors[0]["message"].as_str().unwrap().contains("line 2"),
        "{refused}"
    );

    // A plugin that is no segment rule, and a config that is no object.
    for (body, field) in [
        (json!({"plugin": "segment-sync", "config": {}}), "plugin"),
        (json!({"plugin": "no-such-plugin", "config": {}}), "plugin"),
        (
            json!({"plugin": "profile-field-rules", "config": HR}),
            "config",
        ),
    ] {
        let (status, refused) = t
            .admin()
            .put(&format!("/segments/{segment}/rule"), body.clone())
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {refused}"
        );
        assert_eq!(refused["error"]["field"], field, "{body}: {refused}");
    }
    t.fx.assert_unchanged(&before);
    let (status, _) = t.admin().get(&format!("/segments/{segment}/rule")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn a_dry_run_lists_who_would_join_and_leave_and_changes_nothing() {
    let t = departments().await;
    let learners: Vec<u64> = t.fx.learners.iter().map(|l| l.0).collect();
    let segment = new_segment(&t, "HR people").await;
    attach(&t, segment, HR).await;
    let (status, paused) = t
        .admin()
        .patch(
            &format!("/segments/{segment}/rule"),
            json!({"enabled": false}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{paused}");
    assert_eq!(paused["enabled"], false);
    assert_eq!(paused["plugin_name"], "Profile field rules");
    set_department(&t, learners[0], "Finance").await;
    set_department(&t, learners[4], "HR").await;
    // Paused, the rule hears nothing of these.
    while t.fx.site.dispatch_pending().unwrap().events > 0 {}
    assert_eq!(member_ids(&t, segment).await, learners[..3]);

    let before = t.fx.snapshot();
    let (status, dry) = t
        .admin()
        .post(
            &format!("/segments/{segment}/rule/run"),
            json!({"dry_run": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{dry}");
    assert_eq!(ids(&dry["joined"]), [learners[4]], "{dry}");
    assert_eq!(ids(&dry["left"]), [learners[0]], "{dry}");
    assert!(
        dry["joined"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("department equals HR"),
        "{dry}"
    );
    assert_eq!(dry["refused"], json!([]));
    assert!(dry["pages"].as_u64().unwrap() >= 1, "{dry}");
    t.fx.assert_unchanged(&before);

    // A real run waits for the rule to be resumed; resuming catches up.
    let (status, refused) = t
        .admin()
        .post(&format!("/segments/{segment}/rule/run"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    let (status, resumed) = t
        .admin()
        .patch(
            &format!("/segments/{segment}/rule"),
            json!({"enabled": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{resumed}");
    assert_eq!(resumed["enabled"], true);
    assert_eq!(
        (&resumed["last_run"]["joined"], &resumed["last_run"]["left"]),
        (&json!(1), &json!(1)),
        "{resumed}"
    );
    assert_eq!(
        member_ids(&t, segment).await,
        [learners[1], learners[2], learners[4]]
    );
    let (status, again) = t
        .admin()
        .post(&format!("/segments/{segment}/rule/run"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!((&again["joined"], &again["left"]), (&json!([]), &json!([])));
}

#[actix_web::test]
async fn a_managed_segment_refuses_members_by_hand_until_its_rule_is_removed() {
    let t = departments().await;
    let learners: Vec<u64> = t.fx.learners.iter().map(|l| l.0).collect();
    let segment = new_segment(&t, "HR people").await;
    attach(&t, segment, HR).await;

    let (status, refused) = t
        .admin()
        .post(
            &format!("/segments/{segment}/members"),
            json!({"users": [learners[4]]}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(code(&refused), "conflict");
    let (status, refused) = t
        .admin()
        .delete(&format!("/segments/{segment}/members/{}", learners[0]))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(member_ids(&t, segment).await, learners[..3]);

    let (status, body) = t.admin().delete(&format!("/segments/{segment}/rule")).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, gone) = t.admin().get(&format!("/segments/{segment}/rule")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{gone}");
    let (_, seg) = t.admin().get(&format!("/segments/{segment}")).await;
    assert_eq!(seg["managed_by"], Value::Null, "{seg}");
    assert_eq!(member_ids(&t, segment).await, learners[..3], "members kept");
    let (status, change) = t
        .admin()
        .post(
            &format!("/segments/{segment}/members"),
            json!({"users": [learners[4]]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{change}");
    assert_eq!(change, json!({"changed": 1, "unchanged": 0}));
}

#[actix_web::test]
async fn only_site_admins_read_set_and_run_rules() {
    let t = departments().await;
    let segment = new_segment(&t, "HR people").await;
    attach(&t, segment, HR).await;
    let before = t.fx.snapshot();
    let rule = format!("/segments/{segment}/rule");
    let body = json!({"plugin": "profile-field-rules", "config": {"match": "any", "rule": HR}});
    for api in [t.teacher(), t.learner()] {
        let answers = [
            api.get(&rule).await,
            api.put(&rule, body.clone()).await,
            api.patch(&rule, json!({"enabled": false})).await,
            api.delete(&rule).await,
            api.post(&format!("{rule}/run"), json!({"dry_run": true}))
                .await,
            api.get("/rule-plugins").await,
        ];
        for (status, answer) in answers {
            assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
        }
    }
    let (status, _) = t.anonymous().get(&rule).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    t.fx.assert_unchanged(&before);

    // The admin sees the rule plugins alone, with their forms.
    let (status, plugins) = t.admin().get("/rule-plugins").await;
    assert_eq!(status, StatusCode::OK, "{plugins}");
    let items = plugins["items"].as_array().unwrap();
    let names: Vec<&str> = items.iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!(names, ["profile-field-rules"], "{plugins}");
    assert_eq!(items[0]["name"], "Profile field rules");
    let keys: Vec<&str> = items[0]["config"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["match", "rule"]);
}

#[actix_web::test]
async fn a_segment_without_a_rule_has_none_to_read_run_or_remove() {
    let t = ApiTest::new();
    let hr = t.fx.hr.0;
    let (status, none) = t.admin().get(&format!("/segments/{hr}/rule")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{none}");
    assert_eq!(code(&none), "not_found");
    let (status, none) = t.admin().delete(&format!("/segments/{hr}/rule")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{none}");
    let (status, none) = t
        .admin()
        .post(
            &format!("/segments/{hr}/rule/run"),
            json!({"dry_run": true}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{none}");
    let (status, none) = t
        .admin()
        .patch(&format!("/segments/{hr}/rule"), json!({"enabled": false}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{none}");
    let (status, none) = t.admin().get("/segments/999/rule").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{none}");
}

#[actix_web::test]
async fn another_sites_admin_reaches_no_rule_of_this_site() {
    let (a, b) = crate::services::testing::TestSite::two_sites();
    let t = ApiTest::with(a);
    for &l in &b.learners[..3] {
        b.set_department(l, "HR");
    }
    let hr = b.rule_segment("HR people", HR).0;
    let before = b.snapshot();
    let site_b = format!("/s/{}/api/v1", b.site.site().slug);
    let rule = format!("/segments/{hr}/rule");
    let body = json!({"plugin": "profile-field-rules", "config": {"match": "any", "rule": HR}});
    let api = t.admin().at(&site_b);
    let answers = [
        api.get(&rule).await,
        api.put(&rule, body).await,
        api.patch(&rule, json!({"enabled": false})).await,
        api.post(&format!("{rule}/run"), json!({"dry_run": true}))
            .await,
        api.delete(&rule).await,
        api.get("/rule-plugins").await,
    ];
    for (status, answer) in answers {
        assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    }
    b.assert_unchanged(&before);
    // The same id on the admin's own site names no segment there.
    let (status, mine) = t.admin().get(&rule).await;
    assert!(matches!(status, StatusCode::NOT_FOUND), "{status} {mine}");
}
