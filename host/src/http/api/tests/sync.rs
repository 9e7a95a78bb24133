//! Segment sync through the API: a plugin's site-wide settings
//! (`/plugins/{plugin}/settings`), the preview of a new enrolment method
//! (`/courses/{id}/methods/preview`) and the reconcile of a site or a
//! course (`/reconcile`). What the plugins do is stated in
//! `services/tests/segment_sync.rs`; here, what each route answers, who
//! may call it, and that a refusal, a preview or a dry run writes nothing.
//!
//! The in-process app runs no dispatcher: an enrolment method added through the
//! services here has done nothing yet, which leaves work for a reconcile.

use std::collections::BTreeSet;

use actix_web::http::StatusCode;
use serde_json::{Value, json};

use super::ApiTest;
use super::support::code;
use crate::domain::{CourseId, EnrolmentMethodId};
use crate::services::Principal;
use crate::services::enrolments::NewMethod;
use crate::services::testing::test_plugin;

const SYNC: &str = "segment-sync";
const SETTINGS: &str = "/plugins/segment-sync/settings";

/// The keys of a `config_rejected` body's `errors`.
fn refused_keys(body: &Value) -> BTreeSet<String> {
    body["error"]["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors in {body}"))
        .iter()
        .map(|e| e["field"].as_str().expect("field").to_owned())
        .collect()
}

fn keys(keys: &[&str]) -> BTreeSet<String> {
    keys.iter().map(|k| (*k).to_owned()).collect()
}

/// An enabled enrolment method of `plugin` on `course`, added through the
/// services: its `method-added` is never delivered, so it has enrolled
/// nobody yet.
fn added_method(t: &ApiTest, course: CourseId, plugin: &str, config: Value) -> EnrolmentMethodId {
    t.fx.site
        .add_method(
            &Principal::system(),
            course,
            NewMethod {
                plugin: plugin.into(),
                name: String::new(),
                config,
                enabled: true,
            },
        )
        .expect("method")
        .id
}

/// `(method, course)` of every enrolment method of `courses`, as the
/// site admin lists them.
async fn methods_of(t: &ApiTest, courses: &[CourseId]) -> BTreeSet<(u64, u64)> {
    let mut out = BTreeSet::new();
    for course in courses {
        let (status, page) = t
            .admin()
            .get(&format!("/courses/{course}/methods?limit=1000"))
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        for m in page["items"].as_array().expect("items") {
            out.insert((m["id"].as_u64().unwrap(), course.0));
        }
    }
    out
}

/// `(method, course)` of each entry of a reconcile's answer.
fn reconciled(body: &Value) -> BTreeSet<(u64, u64)> {
    body.as_array()
        .unwrap_or_else(|| panic!("not a list: {body}"))
        .iter()
        .map(|e| (e["method"].as_u64().unwrap(), e["course"].as_u64().unwrap()))
        .collect()
}

/// The entry of `method` in a reconcile's answer.
fn entry(body: &Value, method: EnrolmentMethodId) -> &Value {
    body.as_array()
        .unwrap_or_else(|| panic!("not a list: {body}"))
        .iter()
        .find(|e| e["method"] == method.0)
        .unwrap_or_else(|| panic!("no entry for method {method}: {body}"))
}

/// Users enrolled in the course through `method`, from the participants
/// list.
async fn enrolled_through(t: &ApiTest, method: EnrolmentMethodId) -> Vec<u64> {
    let (status, page) = t
        .admin()
        .get(&format!("/courses/{}/participants?limit=1000", t.fx.course))
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|p| {
            p["enrolments"]
                .as_array()
                .expect("enrolments")
                .iter()
                .any(|e| e["method"] == method.0)
        })
        .map(|p| p["user"]["id"].as_u64().unwrap())
        .collect()
}

// ---------------------------------------------------------------- settings

#[actix_web::test]
async fn a_site_admin_reads_the_settings_form_and_saves_a_value() {
    let t = ApiTest::new();
    let (status, settings) = t.admin().get(SETTINGS).await;
    assert_eq!(status, StatusCode::OK, "{settings}");
    assert_eq!(settings["plugin"], SYNC);
    let fields = settings["fields"].as_array().expect("fields");
    assert_eq!(fields.len(), 1, "{settings}");
    let field = &fields[0];
    assert_eq!(field["key"], "removal-action");
    assert_eq!(field["default"], "\"unenrol\"", "the default as JSON text");
    let choices: Vec<&str> = field["kind"]["choice"]["choices"]
        .as_array()
        .unwrap_or_else(|| panic!("a choice: {field}"))
        .iter()
        .map(|c| c["value"].as_str().unwrap())
        .collect();
    assert_eq!(choices, ["unenrol", "suspend", "suspend-remove-role"]);
    assert_eq!(settings["values"], json!({"removal-action": "unenrol"}));

    let (status, saved) = t
        .admin()
        .put(SETTINGS, json!({"removal-action": "suspend"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["values"], json!({"removal-action": "suspend"}));
    assert_eq!(saved["fields"], settings["fields"]);
    let (status, read) = t.admin().get(SETTINGS).await;
    assert_eq!((status, &read), (StatusCode::OK, &saved));

    // Settings left out keep their value.
    let (status, same) = t.admin().put(SETTINGS, json!({})).await;
    assert_eq!((status, &same), (StatusCode::OK, &saved));

    let (_, audit) = t.admin().get("/audit?limit=2").await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["plugin.settings_updated", "plugin.settings_updated"],
        "{audit}"
    );
    assert_eq!(
        audit["items"][1]["actor"],
        json!({"kind": "user", "id": t.fx.admin_id.0}),
        "{audit}"
    );
}

#[actix_web::test]
async fn an_unknown_setting_or_a_bad_value_is_422_with_each_key_and_saves_nothing() {
    let t = ApiTest::new();
    let (status, _) = t
        .admin()
        .put(SETTINGS, json!({"removal-action": "suspend"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let before = t.fx.snapshot();
    for (bad, refused) in [
        (
            json!({"removal-action": "explode"}),
            keys(&["removal-action"]),
        ),
        (json!({"removal-action": 3}), keys(&["removal-action"])),
        (json!({"colour": "red"}), keys(&["colour"])),
        (
            json!({"colour": "red", "removal-action": "explode"}),
            keys(&["colour", "removal-action"]),
        ),
        // All or nothing: the good value is not saved either.
        (
            json!({"removal-action": "unenrol", "colour": "red"}),
            keys(&["colour"]),
        ),
    ] {
        let (status, body) = t.admin().put(SETTINGS, bad.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
        assert_eq!(code(&body), "config_rejected", "{bad}: {body}");
        assert_eq!(refused_keys(&body), refused, "{bad}: {body}");
        for e in body["error"]["errors"].as_array().unwrap() {
            assert!(
                !e["message"].as_str().unwrap().is_empty(),
                "each refusal says why: {body}"
            );
        }
    }
    // Not an object at all.
    let (status, body) = t.admin().put(SETTINGS, json!(["suspend"])).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"),
        "{body}"
    );
    t.fx.assert_unchanged(&before);
    let (_, settings) = t.admin().get(SETTINGS).await;
    assert_eq!(settings["values"], json!({"removal-action": "suspend"}));
}

#[actix_web::test]
async fn settings_are_for_site_admins_only() {
    let t = ApiTest::new();
    let before = t.fx.snapshot();
    for (who, name) in [(t.teacher(), "teacher"), (t.learner(), "learner")] {
        let (status, body) = who.get(SETTINGS).await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::FORBIDDEN, "forbidden"),
            "{name}: {body}"
        );
        let (status, body) = who
            .put(SETTINGS, json!({"removal-action": "suspend"}))
            .await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::FORBIDDEN, "forbidden"),
            "{name}: {body}"
        );
        // The refusal does not tell which plugins the site has.
        let (status, _) = who.get("/plugins/no-such-plugin/settings").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{name}");
    }
    let (status, body) = t.anonymous().get(SETTINGS).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );
    let (status, _) = t
        .anonymous()
        .put(SETTINGS, json!({"removal-action": "suspend"}))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    t.fx.assert_unchanged(&before);
}

#[actix_web::test]
async fn a_plugin_that_is_unknown_or_not_enabled_on_the_site_has_no_settings_here() {
    let t = ApiTest::new();
    // Installed on the host, not enabled on the site.
    t.fx.services
        .install_plugin(&Principal::system(), &test_plugin("charon-test-capped-v1"))
        .expect("install");
    // Enabled, then disabled by the operator.
    let (status, body) = t
        .operator()
        .at("/api/v1")
        .post("/sites/acme/plugins/segment-group/disable", json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let before = t.fx.snapshot();
    for plugin in ["no-such-plugin", "capped", "segment-group"] {
        let path = format!("/plugins/{plugin}/settings");
        let (status, body) = t.admin().get(&path).await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::CONFLICT, "conflict"),
            "GET {plugin}: {body}"
        );
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("is enabled on site"),
            "{body}"
        );
        let (status, body) = t.admin().put(&path, json!({})).await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::CONFLICT, "conflict"),
            "PUT {plugin}: {body}"
        );
    }
    t.fx.assert_unchanged(&before);
    // A plugin without settings has an empty form.
    let (status, body) = t.admin().get("/plugins/noop/settings").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"plugin": "noop", "fields": [], "values": {}}));
}

// ----------------------------------------------------------------- preview

#[actix_web::test]
async fn a_preview_counts_what_adding_the_sync_would_do_and_adds_nothing() {
    let t = ApiTest::new();
    let course = t.fx.course;
    let before = t.fx.snapshot();
    let participants = t
        .admin()
        .get(&format!("/courses/{course}/participants?limit=1000"))
        .await;
    let groups = t.admin().get(&format!("/courses/{course}/groups")).await;
    let methods = methods_of(&t, &[course]).await;

    let body = json!({
        "plugin": SYNC,
        "name": "HR sync",
        "config": {"segment": t.fx.hr.0, "group": "new"},
    });
    let path = format!("/courses/{course}/methods/preview");
    let (status, preview) = t.admin().post(&path, body.clone()).await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview["enrolments"], 3, "HR holds learners 1–3: {preview}");
    assert_eq!(preview["group_memberships"], 3, "{preview}");
    assert_eq!(preview["groups_created"], json!(["HR segment"]));
    // One group created, three enrolments, three memberships.
    assert_eq!(preview["actions"], 7, "{preview}");
    assert_eq!(
        preview["plan"].as_array().map(Vec::len),
        Some(7),
        "{preview}"
    );
    assert!(preview["pages"].as_u64().unwrap() >= 1, "{preview}");
    let enrolled: BTreeSet<u64> = preview["plan"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["op"]["enrol"]["user"].as_u64())
        .collect();
    assert_eq!(
        enrolled,
        t.fx.learners[0..3].iter().map(|u| u.0).collect(),
        "{preview}"
    );

    // The course's teacher may configure it, so may preview.
    let (status, theirs) = t.teacher().post(&path, body).await;
    assert_eq!((status, &theirs), (StatusCode::OK, &preview));

    t.fx.assert_unchanged(&before);
    assert_eq!(
        t.admin()
            .get(&format!("/courses/{course}/participants?limit=1000"))
            .await,
        participants
    );
    assert_eq!(
        t.admin().get(&format!("/courses/{course}/groups")).await,
        groups,
        "no group created"
    );
    assert_eq!(methods_of(&t, &[course]).await, methods, "no method added");
}

#[actix_web::test]
async fn a_preview_of_an_instance_added_disabled_does_nothing_as_adding_it_does_nothing() {
    let t = ApiTest::new();
    let course = t.fx.course;
    let body = json!({
        "plugin": SYNC,
        "config": {"segment": t.fx.hr.0, "group": "new"},
        "enabled": false,
    });
    let (status, preview) = t
        .admin()
        .post(&format!("/courses/{course}/methods/preview"), body.clone())
        .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(
        (
            &preview["enrolments"],
            &preview["group_memberships"],
            &preview["groups_created"],
            &preview["actions"],
        ),
        (&json!(0), &json!(0), &json!([]), &json!(0)),
        "a disabled method enrols nobody: {preview}"
    );
    // What adding it really does, once its events are delivered.
    let (_, groups) = t.admin().get(&format!("/courses/{course}/groups")).await;
    let (status, added) = t
        .admin()
        .post(&format!("/courses/{course}/methods"), body)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    t.fx.site.dispatch_pending().expect("dispatch");
    let id = EnrolmentMethodId(added["id"].as_u64().unwrap());
    assert_eq!(enrolled_through(&t, id).await, Vec::<u64>::new());
    assert_eq!(
        t.admin().get(&format!("/courses/{course}/groups")).await.1,
        groups
    );
}

#[actix_web::test]
async fn a_preview_is_refused_as_adding_would_be_and_writes_nothing() {
    let t = ApiTest::new();
    let course = t.fx.course;
    let path = format!("/courses/{course}/methods/preview");
    let before = t.fx.snapshot();
    for (config, refused) in [
        (json!({"segment": 999_999}), "segment"),
        (json!({"segment": t.fx.hr.0, "group": 999_999}), "group"),
    ] {
        let (status, body) = t
            .admin()
            .post(&path, json!({"plugin": SYNC, "config": config}))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{config}: {body}");
        assert_eq!(code(&body), "config_rejected", "{body}");
        assert_eq!(body["error"]["field"], "config", "{body}");
        assert!(refused_keys(&body).contains(refused), "{refused} in {body}");
    }
    t.fx.assert_unchanged(&before);
    // The same segment and role as an existing sync of the course.
    added_method(&t, course, SYNC, json!({"segment": t.fx.hr.0}));
    let before = t.fx.snapshot();
    let (status, body) = t
        .admin()
        .post(
            &path,
            json!({"plugin": SYNC, "config": {"segment": t.fx.hr.0}}),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "config_rejected"),
        "{body}"
    );
    assert!(refused_keys(&body).contains("segment"), "{body}");
    t.fx.assert_unchanged(&before);

    let fine = json!({"plugin": SYNC, "config": {"segment": t.fx.finance.0}});
    let (status, body) = t.learner().post(&path, fine.clone()).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "forbidden"),
        "{body}"
    );
    let (status, _) = t.anonymous().post(&path, fine.clone()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = t
        .admin()
        .post("/courses/999999/methods/preview", fine)
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, "not_found"),
        "{body}"
    );
    let (status, body) = t
        .admin()
        .post(&path, json!({"plugin": "no-such-plugin", "config": {}}))
        .await;
    assert_eq!(
        (status, code(&body), body["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("plugin")),
        "{body}"
    );
    let (status, body) = t.admin().post(&path, json!({"config": {}})).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "missing_field"),
        "{body}"
    );
    t.fx.assert_unchanged(&before);
}

// --------------------------------------------------------------- reconcile

#[actix_web::test]
async fn a_site_admin_reconciles_every_method_of_the_site_after_a_dry_run() {
    let t = ApiTest::new();
    let course = t.fx.course;
    let (other, _) = t.fx.other_course("OTHER101");
    let sync = added_method(&t, course, SYNC, json!({"segment": t.fx.hr.0}));
    let expected = methods_of(&t, &[course, other]).await;
    assert_eq!(expected.len(), 3, "two manual methods and the sync");

    let before = t.fx.snapshot();
    let (status, dry) = t.admin().post("/reconcile?dry_run=true", json!(null)).await;
    assert_eq!(status, StatusCode::OK, "{dry}");
    assert_eq!(reconciled(&dry), expected);
    for e in dry.as_array().unwrap() {
        assert_eq!(e["error"], Value::Null, "{dry}");
        assert_eq!(e["report"]["applied"], false, "{dry}");
    }
    let report = &entry(&dry, sync)["report"];
    assert_eq!(report["changed"], 3, "learners 1–3 to enrol: {dry}");
    assert_eq!(
        report["plan"].as_array().map(Vec::len),
        report["actions"].as_u64().map(|n| n as usize),
        "a dry run shows its plan: {dry}"
    );
    t.fx.assert_unchanged(&before);
    assert_eq!(enrolled_through(&t, sync).await, Vec::<u64>::new());

    let (status, done) = t.admin().post("/reconcile", json!(null)).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(reconciled(&done), expected);
    let report = &entry(&done, sync)["report"];
    assert_eq!(
        (&report["applied"], &report["changed"], report.get("plan")),
        (&json!(true), &json!(3), None),
        "{done}"
    );
    assert_eq!(
        enrolled_through(&t, sync).await,
        t.fx.learners[0..3].iter().map(|u| u.0).collect::<Vec<_>>()
    );

    // Converged: nothing more to change.
    let (status, again) = t.admin().post("/reconcile", json!(null)).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    for e in again.as_array().unwrap() {
        assert_eq!(e["report"]["changed"], 0, "{again}");
    }
}

#[actix_web::test]
async fn a_teacher_reconciles_their_own_course_but_not_the_site() {
    let t = ApiTest::new();
    let course = t.fx.course;
    let (other, _) = t.fx.other_course("OTHER101");
    let sync = added_method(&t, course, SYNC, json!({"segment": t.fx.finance.0}));
    added_method(&t, other, SYNC, json!({"segment": t.fx.hr.0}));

    let (status, body) = t
        .teacher()
        .post(&format!("/reconcile?course={course}"), json!(null))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(reconciled(&body), methods_of(&t, &[course]).await);
    assert_eq!(entry(&body, sync)["report"]["changed"], 2, "{body}");
    // The other course's sync did not run.
    let (_, site) = t.admin().post("/reconcile?dry_run=true", json!(null)).await;
    let pending: Vec<u64> = site
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["report"]["changed"] != 0)
        .map(|e| e["course"].as_u64().unwrap())
        .collect();
    assert_eq!(pending, [other.0], "{site}");

    let before = t.fx.snapshot();
    for (who, path, status) in [
        (t.teacher(), "/reconcile".to_owned(), StatusCode::FORBIDDEN),
        (
            t.teacher(),
            format!("/reconcile?course={other}"),
            StatusCode::FORBIDDEN,
        ),
        (
            t.learner(),
            format!("/reconcile?course={course}"),
            StatusCode::FORBIDDEN,
        ),
        (t.learner(), "/reconcile".to_owned(), StatusCode::FORBIDDEN),
        (
            t.anonymous(),
            "/reconcile".to_owned(),
            StatusCode::UNAUTHORIZED,
        ),
        (
            t.admin(),
            "/reconcile?course=999999".to_owned(),
            StatusCode::NOT_FOUND,
        ),
        (
            t.admin(),
            "/reconcile?course=COMP101".to_owned(),
            StatusCode::BAD_REQUEST,
        ),
        (
            t.admin(),
            "/reconcile?everything=yes".to_owned(),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let (answered, body) = who.post(&path, json!(null)).await;
        assert_eq!(answered, status, "{path}: {body}");
    }
    t.fx.assert_unchanged(&before);
}

#[actix_web::test]
async fn one_failing_method_is_reported_and_the_others_still_reconcile() {
    let t = ApiTest::new();
    let hostile = t.fx.with_plugin_method(
        &test_plugin("charon-test-hostile"),
        json!({"behaviour": "unknown-user"}),
    );
    let sync = added_method(&t, t.fx.course, SYNC, json!({"segment": t.fx.hr.0}));
    let (status, body) = t.admin().post("/reconcile", json!(null)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let failed = entry(&body, hostile);
    assert_eq!(failed["report"], Value::Null, "{body}");
    assert!(
        failed["error"]
            .as_str()
            .is_some_and(|e| e.contains("not a user of this site")),
        "{body}"
    );
    assert_eq!(entry(&body, sync)["report"]["changed"], 3, "{body}");
    assert_eq!(enrolled_through(&t, sync).await.len(), 3);
    let (_, status_body) = t.admin().get(&format!("/methods/{hostile}/status")).await;
    assert_eq!(
        status_body["last_error"]["code"], "plan_rejected",
        "{status_body}"
    );
}

#[actix_web::test]
async fn adding_a_method_answers_with_its_first_run_even_when_it_fails() {
    let t = ApiTest::new();
    t.fx.with_plugin_method(
        &test_plugin("charon-test-hostile"),
        json!({"behaviour": "well-behaved"}),
    );
    let path = format!("/courses/{}/methods", t.fx.course);
    let (status, added) = t
        .admin()
        .post(
            &path,
            json!({"plugin": "hostile", "config": {"behaviour": "unknown-user"}}),
        )
        .await;
    // Added all the same: the failure is its first run's, not the request's.
    assert_eq!(status, StatusCode::CREATED, "{added}");
    assert_eq!(added["first_run"]["outcome"], "failed", "{added}");
    assert_eq!(added["first_run"]["error"]["code"], "plan_rejected");
    let id = added["id"].as_u64().unwrap();
    let (_, run) = t.admin().get(&format!("/methods/{id}/status")).await;
    assert_eq!(run["last_error"], added["first_run"]["error"]);

    // Not waiting leaves the run to the dispatcher, which the in-process
    // app does not run: nothing has failed yet.
    let (status, deferred) = t
        .admin()
        .post(
            &path,
            json!({"plugin": "hostile", "config": {"behaviour": "unknown-user"}, "wait_for_first_run": false}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{deferred}");
    assert_eq!(
        deferred["first_run"],
        json!({"outcome": "deferred", "report": null, "error": null})
    );
}
