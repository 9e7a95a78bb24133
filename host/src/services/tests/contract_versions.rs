//! Contracts 0.1.0 to 0.4.0 side by side: plugins of all four run on one
//! site, and a 0.3.0 plugin lists and finds the
//! site's users through the host's indexes and hears users being created
//! and changed.
//!
//! The fixture (`TestSite`): segment HR holds learners 1–3; users have
//! e-mails at `example.org`; the site has a `department` text field.

use std::collections::BTreeMap;

use serde_json::json;

use crate::domain::*;
use crate::services::testing::{TestSite, test_plugin};
use crate::services::users::{NewUser, UserUpdate};
use crate::storage::site::prelude::*;

fn settle(fx: &TestSite) {
    for _ in 0..50 {
        if fx.site.dispatch_pending().expect("dispatch").events == 0 {
            return;
        }
    }
    panic!("events kept coming after 50 rounds");
}

fn enrolled(fx: &TestSite, m: EnrolmentMethodId) -> Vec<UserId> {
    fx.site
        .read(|t| Ok(t.method_enrolment_user_ids(fx.course, m, None, usize::MAX)?))
        .expect("read")
}

#[test]
fn plugins_of_contracts_0_1_0_to_0_4_0_run_side_by_side_on_one_site() {
    let fx = TestSite::new();
    let v1 = fx.with_plugin_method(
        &test_plugin("charon-test-contract-v0-1"),
        json!({"segment": fx.hr.0}),
    );
    let v2 = fx.with_plugin_method(
        &test_plugin("charon-test-contract-v0-2"),
        json!({"segment": fx.hr.0}),
    );
    let v03 = fx.with_plugin_method(
        &test_plugin("charon-test-contract-v0-3"),
        json!({"segment": fx.hr.0}),
    );
    let v3 = fx
        .site
        .add_method(
            &fx.admin,
            fx.course,
            crate::services::enrolments::NewMethod {
                plugin: "segment-sync".into(),
                name: String::new(),
                config: json!({"segment": fx.hr.0}),
                enabled: true,
            },
        )
        .unwrap();
    let contracts: BTreeMap<String, String> = fx
        .services
        .list_plugins(&fx.operator)
        .unwrap()
        .into_iter()
        .map(|p| (p.plugin.id, p.plugin.contract))
        .collect();
    assert_eq!(contracts["contract-v0-1"], "0.1.0");
    assert_eq!(contracts["contract-v0-2"], "0.2.0");
    assert_eq!(contracts["contract-v0-3"], "0.3.0");
    assert_eq!(contracts["segment-sync"], "0.4.0");
    settle(&fx);
    let hr = vec![fx.learners[0], fx.learners[1], fx.learners[2]];
    for m in [v1, v2, v03, v3.id] {
        assert_eq!(enrolled(&fx, m), hr, "method #{m}");
    }
    // A new member reaches all three, each in its own words.
    fx.site
        .add_segment_members(&fx.admin, fx.hr, &[fx.learners[3]])
        .unwrap();
    settle(&fx);
    let mut now = hr.clone();
    now.push(fx.learners[3]);
    for m in [v1, v2, v03, v3.id] {
        assert_eq!(enrolled(&fx, m), now, "method #{m}");
        let status = fx.site.method_status(&fx.operator, m).unwrap();
        assert_eq!(status.last_error, None, "method #{m}");
    }
}

/// What the probe plugin (`tests/plugins/probe`) last reported as method
/// `m`: it answers every event with a refusal carrying its findings.
fn reported(fx: &TestSite, m: EnrolmentMethodId) -> BTreeMap<String, String> {
    let error = fx
        .site
        .method_status(&fx.operator, m)
        .unwrap()
        .last_error
        .expect("the probe reported");
    serde_json::from_str(&error.message).unwrap_or_else(|_| panic!("{}", error.message))
}

#[test]
fn a_0_3_0_plugin_lists_users_and_finds_them_by_e_mail_domain_and_profile_value() {
    let fx = TestSite::new();
    let set = |user: UserId, department: &str| {
        let update = UserUpdate {
            profile: BTreeMap::from([("department".to_owned(), department.to_owned())]),
            ..Default::default()
        };
        fx.site.update_user(&fx.admin, user, update).unwrap();
    };
    set(fx.learners[0], "HR");
    set(fx.learners[2], "hr");
    set(fx.learners[1], "Finance");
    let elsewhere = fx
        .site
        .create_user(
            &fx.admin,
            NewUser {
                username: "ext".into(),
                email: "ext@partner.example".into(),
                firstname: "Ex".into(),
                lastname: "Ternal".into(),
                ..Default::default()
            },
        )
        .unwrap();
    let probe = fx.with_plugin_method(&test_plugin("charon-test-probe"), json!({"probe": "users"}));
    let newbie = fx.user("newbie");
    fx.site
        .enrol(&fx.admin, fx.manual, newbie, Role::Learner)
        .unwrap();
    settle(&fx);
    let found = reported(&fx, probe);
    assert_eq!(found["list"], "[1, 2] next Some(2)");
    let at_example: Vec<u64> = fx
        .site
        .read(|t| Ok(t.user_ids_by_email_domain("example.org", None, 100)?))
        .unwrap()
        .into_iter()
        .map(|u| u.0)
        .collect();
    assert!(!at_example.contains(&elsewhere.id.0));
    assert_eq!(found["domain"], format!("{at_example:?} next None"));
    assert_eq!(
        found["profile"],
        format!("{:?} next None", [fx.learners[0].0, fx.learners[2].0])
    );
}

#[test]
fn a_0_3_0_plugin_hears_users_created_and_what_changed_in_them() {
    let fx = TestSite::new();
    let probe = fx.with_plugin_method(
        &test_plugin("charon-test-probe"),
        json!({"probe": "events"}),
    );
    let newbie = fx.user("newbie");
    settle(&fx);
    assert_eq!(
        reported(&fx, probe)["event"],
        format!("Event::UserCreated({newbie})")
    );
    let update = UserUpdate {
        email: Some("newbie@acme.example".into()),
        profile: BTreeMap::from([("department".to_owned(), "HR".to_owned())]),
        ..Default::default()
    };
    fx.site.update_user(&fx.admin, newbie, update).unwrap();
    settle(&fx);
    let event = &reported(&fx, probe)["event"];
    assert!(
        event.starts_with(&format!(
            "Event::UserUpdated(UserUpdate {{ user: {newbie}, changes: UserChanges(EMAIL | PROFILE)"
        )),
        "{event}"
    );
}
