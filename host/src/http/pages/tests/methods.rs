//! Page tests of `methods`: the enrolment methods of a course, the form
//! generated from a plugin's config form, its preview, and the actions.

use actix_web::http::{StatusCode, header};
use serde_json::json;

use super::{Answer, Pages, form_of};
use crate::domain::*;
use crate::services::enrolments::NewMethod;
use crate::services::testing::test_plugin;
use crate::storage::site::prelude::*;

fn url(p: &Pages, rest: &str) -> String {
    format!("/s/acme/courses/{}/methods{rest}", p.fx.course)
}

/// The text of the flash a redirect carries.
pub(crate) fn flash(answer: &Answer) -> String {
    let raw = answer
        .headers
        .get_all(header::SET_COOKIE)
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("charon_flash="))
        .and_then(|c| c.split(';').next())
        .unwrap_or_default();
    let bytes = raw.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(&raw[i + 1..i + 3], 16).expect("hex"));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    // The first character says success or error.
    String::from_utf8(out)
        .expect("utf-8")
        .chars()
        .skip(1)
        .collect()
}

/// The add form of segment sync, as the teacher fills it in.
fn segment_sync_form(token: &str, segment: &str, group: &str) -> String {
    form_of(&[
        ("csrf", token),
        ("plugin", "segment-sync"),
        ("name", "HR sync"),
        ("enabled", "1"),
        ("config.segment", segment),
        ("config.role", "learner"),
        ("config.group", group),
        ("config.removal-action", "site-default"),
    ])
}

fn segment_sync(p: &Pages) -> Option<EnrolmentMethod> {
    p.fx.site
        .list_methods(&p.fx.operator, p.fx.course)
        .unwrap()
        .into_iter()
        .find(|m| m.plugin == "segment-sync")
}

#[actix_web::test]
async fn the_preview_lists_the_actions_the_host_would_refuse() {
    let p = Pages::new();
    p.fx.with_plugin_method(
        &test_plugin("charon-test-hostile"),
        json!({"behaviour": "well-behaved"}),
    );
    let (other, _) = p.fx.other_course("OTHER");
    let foreign = p.fx.add_group(other, "Elsewhere").to_string();
    let user = p.fx.learners[4].to_string();
    let token = p.csrf(&p.teacher);
    let before = p.fx.snapshot();
    let body = form_of(&[
        ("csrf", &token),
        ("plugin", "hostile"),
        ("name", ""),
        ("enabled", "1"),
        ("config.behaviour", "mixed"),
        ("config.user", &user),
        ("config.group", &foreign),
    ]);
    let answer = p.post(&url(&p, "/preview"), Some(&p.teacher), &body).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert!(
        answer
            .body
            .contains("The host would refuse 2 actions of its plugin"),
        "{}",
        answer.body
    );
    assert!(answer.body.contains(&format!(
        "page 1, action 2 (add user #{user} to group #{foreign}): group #{foreign} belongs to another course"
    )));
    assert!(answer.body.contains("1 user would be enrolled."));
    p.fx.assert_unchanged(&before);
}

#[actix_web::test]
async fn the_methods_page_lists_each_method_with_its_status_enrolments_and_actions() {
    let p = Pages::new();
    let manual = p.fx.site.get_method(&p.fx.operator, p.fx.manual).unwrap();
    let page = p.get(&url(&p, ""), Some(&p.teacher)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Enrolment methods of Compliance 101"));
    assert!(page.body.contains(&manual.name), "{}", page.body);
    assert!(page.body.contains("Manual enrolment"), "the plugin's name");
    assert!(page.body.contains("Enabled"));
    assert!(
        page.body.contains("5 enrolments"),
        "teacher and four learners"
    );
    for action in ["Edit", "Disable", "Reconcile now", "Delete"] {
        assert!(page.body.contains(action), "{action}");
    }
    assert!(page.body.contains("Add an enrolment method"));
    assert!(
        page.body
            .contains(r#"<option value="segment-sync">User segment sync</option>"#)
    );
}

#[actix_web::test]
async fn a_failing_method_shows_its_last_error_and_reconcile_now_says_it_failed() {
    let p = Pages::new();
    let m = p.fx.with_plugin_method(
        &test_plugin("charon-test-hostile"),
        json!({"behaviour": "panic"}),
    );
    // It panics on the course events it hears, e.g. an enrolment.
    let newbie = p.fx.user("newbie");
    p.fx.site
        .enrol(&p.fx.admin, p.fx.manual, newbie, Role::Learner)
        .unwrap();
    // Off the test's async runtime, as the host's dispatcher runs: a
    // panicking guest's WASI output blocks on a runtime of its own.
    std::thread::scope(|s| {
        s.spawn(|| p.fx.site.dispatch_pending().unwrap())
            .join()
            .unwrap()
    });
    let page = p.get(&url(&p, ""), Some(&p.teacher)).await;
    assert!(
        page.body.contains("hostile plugin panicked on purpose"),
        "{}",
        page.body
    );
    assert!(page.body.contains("1 failure so far"));

    let token = p.csrf(&p.teacher);
    let answer = p
        .post(
            &url(&p, &format!("/{m}/reconcile")),
            Some(&p.teacher),
            &format!("csrf={token}"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(answer.location(), url(&p, ""));
    let text = flash(&answer);
    assert!(text.starts_with("Reconcile failed"), "{text}");
}

#[actix_web::test]
async fn reconcile_now_reports_what_changed() {
    let p = Pages::new();
    let m =
        p.fx.site
            .add_method(
                &p.fx.operator,
                p.fx.course,
                NewMethod {
                    plugin: "segment-sync".into(),
                    name: String::new(),
                    config: json!({"segment": p.fx.finance.0}),
                    enabled: true,
                },
            )
            .unwrap();
    let token = p.csrf(&p.teacher);
    let answer = p
        .post(
            &url(&p, &format!("/{}/reconcile", m.id)),
            Some(&p.teacher),
            &format!("csrf={token}"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    assert_eq!(flash(&answer), "Reconciled: 2 changes made.");
    let again = p
        .post(
            &url(&p, &format!("/{}/reconcile", m.id)),
            Some(&p.teacher),
            &format!("csrf={token}"),
        )
        .await;
    assert!(
        flash(&again).starts_with("Reconciled: nothing"),
        "{}",
        flash(&again)
    );
}

#[actix_web::test]
async fn the_segment_sync_form_speaks_of_user_segments_roles_and_a_new_group() {
    let p = Pages::new();
    let page = p
        .get(&url(&p, "/new?plugin=segment-sync"), Some(&p.teacher))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    for label in [
        r#"<label for="f-config.segment">User segment"#,
        r#"<label for="f-config.role">Role"#,
        r#"<label for="f-config.group">Add to group"#,
        r#"<label for="f-config.removal-action">When a member leaves the segment"#,
        r#"<label for="f-name">Name"#,
    ] {
        assert!(page.body.contains(label), "{label}");
    }
    for option in [
        r#"<option value="" selected>Choose a user segment</option>"#,
        &format!(r#"<option value="{}">HR</option>"#, p.fx.hr),
        r#"<option value="learner" selected>Learner</option>"#,
        r#"<option value="none" selected>No group</option>"#,
        r#"<option value="new">Create new group</option>"#,
        &format!(r#"<option value="{}">Team A</option>"#, p.fx.team_a),
    ] {
        assert!(page.body.contains(option), "{option}: {}", page.body);
    }
    assert!(
        page.body.contains(r#"value="User segment sync""#),
        "the name starts as the plugin's"
    );
    assert!(page.body.contains(">Preview</button>"));

    let chooser = p.get(&url(&p, "/new"), Some(&p.teacher)).await;
    assert_eq!(chooser.status, StatusCode::OK);
    assert!(chooser.body.contains("User segment sync"));
}

#[actix_web::test]
async fn the_preview_shows_the_plan_and_writes_nothing() {
    let p = Pages::new();
    let token = p.csrf(&p.teacher);
    let before = p.fx.snapshot();
    let body = segment_sync_form(&token, &p.fx.hr.to_string(), "new");
    let answer = p.post(&url(&p, "/preview"), Some(&p.teacher), &body).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert!(
        answer.body.contains("3 users would be enrolled."),
        "{}",
        answer.body
    );
    assert!(
        answer
            .body
            .contains("The course group “HR segment” would be created.")
    );
    assert!(answer.body.contains("3 group memberships would be added."));
    assert!(
        answer
            .body
            .contains(r#"<input type="hidden" name="config.group" value="new">"#)
    );
    assert!(answer.body.contains(">Save</button>"));
    assert!(answer.body.contains("Back to the form"));
    p.fx.assert_unchanged(&before);

    // Back to the form: the values as typed.
    let back = p.post(&url(&p, "/new"), Some(&p.teacher), &body).await;
    assert_eq!(back.status, StatusCode::OK);
    assert!(
        back.body
            .contains(r#"<option value="new" selected>Create new group</option>"#)
    );
    assert!(back.body.contains(r#"value="HR sync""#));
    p.fx.assert_unchanged(&before);
}

#[actix_web::test]
async fn saving_adds_the_method_and_the_sync_creates_its_group() {
    let p = Pages::new();
    let token = p.csrf(&p.teacher);
    let body = segment_sync_form(&token, &p.fx.hr.to_string(), "new");
    let answer = p.post(&url(&p, ""), Some(&p.teacher), &body).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    assert_eq!(answer.location(), url(&p, ""));
    // Its first run: the group, three enrolments, three memberships.
    assert_eq!(
        flash(&answer),
        "Enrolment method “HR sync” added. Its first run made 7 changes."
    );
    let m = segment_sync(&p).expect("added");
    assert_eq!(m.name, "HR sync");
    assert_eq!(m.status, EnrolmentMethodStatus::Enabled);
    // Done before the answer: the dispatcher's `method-added` finds the
    // group made and the members in it.
    let groups = p.fx.site.list_groups(&p.fx.operator, p.fx.course).unwrap();
    let group = groups
        .iter()
        .find(|g| g.group.name == "HR segment")
        .expect("group created");
    assert_eq!(group.members, 3);
    let page = p.get(&url(&p, ""), Some(&p.teacher)).await;
    assert!(page.body.contains("HR sync"));
    assert!(page.body.contains("3 enrolments"), "{}", page.body);
}

#[actix_web::test]
async fn saving_a_method_whose_first_run_fails_says_so_and_keeps_it() {
    let p = Pages::new();
    p.fx.with_plugin_method(
        &test_plugin("charon-test-hostile"),
        json!({"behaviour": "well-behaved"}),
    );
    let token = p.csrf(&p.teacher);
    let body = form_of(&[
        ("csrf", &token),
        ("plugin", "hostile"),
        ("name", "Broken"),
        ("enabled", "1"),
        ("config.behaviour", "unknown-user"),
        ("config.user", "0"),
        ("config.group", "0"),
    ]);
    let answer = p.post(&url(&p, ""), Some(&p.teacher), &body).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let text = flash(&answer);
    assert!(
        text.starts_with("Enrolment method “Broken” added, but its first run failed: ")
            && text.contains("not a user of this site"),
        "{text}"
    );
    // The list marks it failing.
    let page = p.get(&url(&p, ""), Some(&p.teacher)).await;
    assert!(page.body.contains("Broken"));
    assert!(
        page.body.contains("not a user of this site"),
        "{}",
        page.body
    );
}

#[actix_web::test]
async fn a_refused_config_is_answered_beside_its_field_and_writes_nothing() {
    let p = Pages::new();
    p.fx.site
        .add_method(
            &p.fx.operator,
            p.fx.course,
            NewMethod {
                plugin: "segment-sync".into(),
                name: String::new(),
                config: json!({"segment": p.fx.hr.0}),
                enabled: true,
            },
        )
        .unwrap();
    p.fx.site.dispatch_pending().unwrap();
    let token = p.csrf(&p.teacher);
    let before = p.fx.snapshot();
    for path in ["/preview", ""] {
        // The same segment with the same role is synced already.
        let body = segment_sync_form(&token, &p.fx.hr.to_string(), "new");
        let answer = p.post(&url(&p, path), Some(&p.teacher), &body).await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path}: {}",
            answer.body
        );
        assert!(answer.body.contains("Nothing was saved"));
        assert!(
            answer
                .body
                .contains(r#"id="f-config.segment-error">segment &#34;HR&#34; is already synced"#)
                || answer.body.contains(
                    r#"id="f-config.segment-error">segment &quot;HR&quot; is already synced"#
                ),
            "{}",
            answer.body
        );
        assert!(
            answer
                .body
                .contains(r#"aria-invalid="true" aria-describedby="f-config.segment-error""#)
        );
        assert!(
            answer
                .body
                .contains(r#"<option value="new" selected>Create new group</option>"#),
            "kept"
        );
        assert!(answer.body.contains(r#"value="HR sync""#), "kept");
        p.fx.assert_unchanged(&before);
    }
    // No segment at all: the plugin names the field it misses.
    let body = segment_sync_form(&token, "", "none");
    let answer = p.post(&url(&p, "/preview"), Some(&p.teacher), &body).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        answer
            .body
            .contains(r#"id="f-config.segment-error">missing field"#),
        "{}",
        answer.body
    );
    assert!(
        answer.body.contains("Segment: missing field"),
        "the summary names the field"
    );
    p.fx.assert_unchanged(&before);
}

#[actix_web::test]
async fn a_method_is_edited_with_its_current_values() {
    let p = Pages::new();
    let path = url(&p, &format!("/{}", p.fx.manual));
    let form = p.get(&path, Some(&p.teacher)).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.body.contains("Save changes"));
    assert!(
        form.body
            .contains(r#"<label for="f-config.role">Default role"#)
    );

    let token = p.csrf(&p.teacher);
    let body = form_of(&[
        ("csrf", &token),
        ("name", "Staff enrolment"),
        ("config.role", "non-editing-teacher"),
    ]);
    let saved = p.post(&path, Some(&p.teacher), &body).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(flash(&saved), "Changes to “Staff enrolment” saved.");
    let m = p.fx.site.get_method(&p.fx.operator, p.fx.manual).unwrap();
    assert_eq!(m.name, "Staff enrolment");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&m.config).unwrap()["role"],
        "non-editing-teacher"
    );
    let again = p.get(&path, Some(&p.teacher)).await;
    assert!(
        again.body.contains(
            r#"<option value="non-editing-teacher" selected>Non-editing teacher</option>"#
        ),
        "{}",
        again.body
    );

    let before = p.fx.snapshot();
    let blank = form_of(&[("csrf", &token), ("name", " "), ("config.role", "teacher")]);
    let refused = p.post(&path, Some(&p.teacher), &blank).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(refused.body.contains(r#"aria-describedby="f-name-error""#));
    p.fx.assert_unchanged(&before);
}

#[actix_web::test]
async fn a_method_is_disabled_enabled_and_deleted_after_a_confirmation() {
    let p = Pages::new();
    let token = p.csrf(&p.teacher);
    let base = url(&p, &format!("/{}", p.fx.manual));
    let off = p
        .post(
            &format!("{base}/disable"),
            Some(&p.teacher),
            &format!("csrf={token}"),
        )
        .await;
    assert_eq!(off.status, StatusCode::SEE_OTHER);
    assert!(flash(&off).contains("is disabled"));
    let m = p.fx.site.get_method(&p.fx.operator, p.fx.manual).unwrap();
    assert_eq!(m.status, EnrolmentMethodStatus::Disabled);
    let list = p.get(&url(&p, ""), Some(&p.teacher)).await;
    assert!(list.body.contains("Disabled") && list.body.contains(">Enable"));
    let on = p
        .post(
            &format!("{base}/enable"),
            Some(&p.teacher),
            &format!("csrf={token}"),
        )
        .await;
    assert!(flash(&on).contains("is enabled"));

    let confirm = p.get(&format!("{base}/delete"), Some(&p.teacher)).await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(
        confirm.body.contains("Remove its 5 enrolments"),
        "{}",
        confirm.body
    );
    assert!(confirm.body.contains("Delete enrolment method</button>"));
    let deleted = p
        .post(
            &format!("{base}/delete"),
            Some(&p.admin),
            &format!("csrf={}", p.csrf(&p.admin)),
        )
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER, "{}", deleted.body);
    assert!(p.fx.site.get_method(&p.fx.operator, p.fx.manual).is_err());
}

#[actix_web::test]
async fn a_method_of_another_course_is_not_found_under_this_one() {
    let p = Pages::new();
    let elsewhere = format!(
        "/s/acme/courses/{}/methods/{}",
        p.fx.course.0 + 100,
        p.fx.manual
    );
    let answer = p.get(&elsewhere, Some(&p.admin)).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn a_deleted_group_warns_on_the_method_its_course_and_the_dashboard_until_dismissed() {
    let p = Pages::new();
    let token = p.csrf(&p.teacher);
    let body = segment_sync_form(&token, &p.fx.hr.to_string(), "new");
    p.post(&url(&p, ""), Some(&p.teacher), &body).await;
    p.fx.site.dispatch_pending().unwrap();
    let m = segment_sync(&p).expect("added");
    let group =
        p.fx.site
            .find_group(&p.fx.operator, p.fx.course, "HR segment")
            .unwrap();
    p.fx.site.delete_group(&p.fx.operator, group.id).unwrap();

    let warning = "its group &#39;HR segment&#39; was deleted on ";
    let advice = "choose a group or create a new one";
    let method_page = url(&p, &format!("/{}", m.id));
    let dashboard = "/s/acme/dashboard";
    for (path, who) in [
        (url(&p, ""), &p.teacher),
        (method_page.clone(), &p.teacher),
        (dashboard.to_owned(), &p.admin),
    ] {
        let page = p.get(&path, Some(who)).await;
        assert!(
            page.body.contains(warning) && page.body.contains(advice),
            "{path}: {}",
            page.body
        );
        assert!(page.body.contains("Dismiss"), "{path}");
    }

    let dismissed = p
        .post(
            &format!("{method_page}/dismiss-warning"),
            Some(&p.teacher),
            &format!("csrf={token}"),
        )
        .await;
    assert_eq!(
        dismissed.status,
        StatusCode::SEE_OTHER,
        "{}",
        dismissed.body
    );
    assert!(flash(&dismissed).starts_with("Warning dismissed."));
    for (path, who) in [
        (url(&p, ""), &p.teacher),
        (method_page, &p.teacher),
        (dashboard.to_owned(), &p.admin),
    ] {
        let page = p.get(&path, Some(who)).await;
        // (The dashboard's recent changes still quote it, as dismissed.)
        let shown = r#"<span class="status status-off">Warning</span>"#;
        assert!(!page.body.contains(shown), "{path}: {}", page.body);
    }
    let logged =
        p.fx.site
            .read(|t| Ok(t.audit_page(None, 1, |_| true)?))
            .unwrap();
    assert_eq!(logged[0].action, "method.warning_dismissed");
}

#[actix_web::test]
async fn the_preview_says_how_many_it_would_enrol_have_a_suspended_account() {
    let p = Pages::new();
    p.fx.site
        .suspend_user(&p.fx.admin, p.fx.learners[2])
        .unwrap();
    let token = p.csrf(&p.teacher);
    let body = segment_sync_form(&token, &p.fx.hr.to_string(), "none");
    let answer = p.post(&url(&p, "/preview"), Some(&p.teacher), &body).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert!(
        answer.body.contains("3 users would be enrolled."),
        "{}",
        answer.body
    );
    assert!(
        answer.body.contains(
            "1 of them has a suspended site account: enrolled all the same, active participants once re-activated."
        ),
        "{}",
        answer.body
    );
}

/// Issue 16, finding 14: the edit form of a self method never carries its
/// stored enrolment key; blank keeps it, the "clear" box removes it.
#[actix_web::test]
async fn a_stored_enrolment_key_is_never_sent_to_the_browser() {
    const KEY: &str = "s3cret-course-key";
    let p = Pages::new();
    let method =
        p.fx.site
            .add_method(
                &p.fx.admin,
                p.fx.course,
                NewMethod {
                    plugin: "self".into(),
                    name: "Self".into(),
                    config: json!({"enrolment_key": KEY}),
                    enabled: true,
                },
            )
            .unwrap()
            .id;
    let stored_key = |p: &Pages| {
        let m = p.fx.site.get_method(&p.fx.operator, method).unwrap();
        serde_json::from_str::<serde_json::Value>(&m.config).unwrap()["enrolment_key"].clone()
    };
    let path = url(&p, &format!("/{method}"));
    let form = p.get(&path, Some(&p.teacher)).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(!form.body.contains(KEY), "the stored key is in the page");
    assert!(form.body.contains("Leave blank to keep"), "{}", form.body);
    assert!(
        form.body.contains(r#"name="config.enrolment_key.clear""#),
        "{}",
        form.body
    );

    // Saved with the key left blank: it stays.
    let token = p.csrf(&p.teacher);
    let blank = form_of(&[
        ("csrf", &token),
        ("name", "Self"),
        ("config.enrolment_key", ""),
        ("config.role", "learner"),
    ]);
    let saved = p.post(&path, Some(&p.teacher), &blank).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(stored_key(&p), KEY);

    // A refused save shows the form again, still without the key.
    let refused = form_of(&[
        ("csrf", &token),
        ("name", " "),
        ("config.enrolment_key", ""),
    ]);
    let again = p.post(&path, Some(&p.teacher), &refused).await;
    assert_eq!(
        again.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        again.body
    );
    assert!(!again.body.contains(KEY), "the stored key is in the page");

    // The clear box removes it.
    let clear = form_of(&[
        ("csrf", &token),
        ("name", "Self"),
        ("config.enrolment_key", ""),
        ("config.enrolment_key.clear", "1"),
        ("config.role", "learner"),
    ]);
    let cleared = p.post(&path, Some(&p.teacher), &clear).await;
    assert_eq!(cleared.status, StatusCode::SEE_OTHER, "{}", cleared.body);
    assert_eq!(stored_key(&p), serde_json::Value::Null);
}
