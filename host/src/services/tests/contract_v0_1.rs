//! A plugin built against the frozen contract 0.1.0 (`tests/plugins/
//! contract-v0_1`, raw `wit-bindgen`, no SDK) runs on this host next to the
//! bundled plugins, which speak 0.2.0: its plans for events, reconcile
//! pages and requests are applied, its queries answered in v0.1.0's words,
//! its config checked by it, and its capabilities enforced.
//!
//! The fixture (`TestSite`): segment HR holds learners 1–3, Finance
//! learners 4–5; course COMP101 has a manual method enrolling the teacher
//! and learners 1–4.

use serde_json::json;

use crate::domain::*;
use crate::services::ServiceError;
use crate::services::enrolments::NewMethod;
use crate::services::testing::{TestSite, test_plugin};
use crate::storage::site::prelude::*;

const V0_1: &str = "charon-test-contract-v0-1";
/// The group the plugin creates and owns.
const ITS_GROUP: &str = "Contract 0.1.0 members";

fn settle(fx: &TestSite) {
    for _ in 0..50 {
        if fx.site.dispatch_pending().expect("dispatch").events == 0 {
            return;
        }
    }
    panic!("events kept coming after 50 rounds");
}

/// The fixture with the 0.1.0 plugin's method syncing HR, every event
/// delivered.
fn site_with_v0_1_method() -> (TestSite, EnrolmentMethodId) {
    let fx = TestSite::new();
    let m = fx.with_plugin_method(&test_plugin(V0_1), json!({"segment": fx.hr.0}));
    settle(&fx);
    (fx, m)
}

fn enrolled(fx: &TestSite, m: EnrolmentMethodId) -> Vec<UserId> {
    fx.site
        .read(|t| Ok(t.method_enrolment_user_ids(fx.course, m, None, usize::MAX)?))
        .expect("read")
}

/// The members of the plugin's own group, each owned by `m`.
fn its_group(fx: &TestSite, m: EnrolmentMethodId) -> Vec<UserId> {
    let group = fx
        .site
        .read(|t| Ok(t.group_id_by_name(fx.course, ITS_GROUP)?))
        .expect("read")
        .expect("the plugin created its group");
    fx.site
        .read(|t| Ok(t.group_members_page(group, None, usize::MAX)?))
        .expect("read")
        .into_iter()
        .map(|member| {
            assert_eq!(member.owner, MembershipOwner::Method(m));
            member.user
        })
        .collect()
}

fn last_error(fx: &TestSite, m: EnrolmentMethodId) -> Option<MethodError> {
    fx.site
        .method_status(&fx.operator, m)
        .expect("status")
        .last_error
}

#[test]
fn a_plugin_of_contract_0_1_0_installs_next_to_plugins_of_0_2_0() {
    let fx = TestSite::new();
    let old = fx
        .services
        .install_plugin(&fx.operator, &test_plugin(V0_1))
        .unwrap();
    assert_eq!(
        (old.id.as_str(), old.contract.as_str()),
        ("contract-v0-1", "0.1.0")
    );
    assert_eq!(
        old.manifest.events,
        vec![
            "instance-added".to_owned(),
            "segment-member-added".to_owned()
        ]
    );
    let new = fx
        .services
        .install_plugin(&fx.operator, &test_plugin("charon-test-noop"))
        .unwrap();
    assert_eq!(new.contract, "0.4.0");
}

#[test]
fn its_answer_to_being_added_reconciles_page_by_page_into_its_own_group() {
    let (fx, m) = site_with_v0_1_method();
    let hr = [fx.learners[0], fx.learners[1], fx.learners[2]];
    assert_eq!(enrolled(&fx, m), hr);
    assert_eq!(its_group(&fx, m), hr);
    let e = fx
        .site
        .read(|t| Ok(t.enrolment(fx.course, hr[0], m)?))
        .unwrap()
        .unwrap();
    assert_eq!(
        (e.role, e.status),
        (Some(Role::Learner), EnrolmentStatus::Active)
    );
    assert_eq!(last_error(&fx, m), None);
}

#[test]
fn its_answer_to_a_segment_event_is_applied() {
    let (fx, m) = site_with_v0_1_method();
    let learner4 = fx.learners[3];
    fx.site
        .add_segment_members(&fx.operator, fx.hr, &[learner4])
        .unwrap();
    settle(&fx);
    let now = [fx.learners[0], fx.learners[1], fx.learners[2], learner4];
    assert_eq!(enrolled(&fx, m), now);
    assert_eq!(its_group(&fx, m), now);
}

#[test]
fn it_answers_self_enrolment_found_by_what_it_answers_and_finds_its_group() {
    let (fx, m) = site_with_v0_1_method();
    let learner5 = fx.learners[4];
    // The course's first method, manual, does not answer self enrolment
    // (its 0.2.0 manifest says so); a 0.1.0 plugin answers every request.
    let out = fx
        .site
        .self_enrol(&fx.learner(4), fx.course, None, None, false)
        .unwrap();
    assert!(out.applied);
    assert_eq!(
        out.changed, 2,
        "enrolled and added to the existing group: {:?}",
        out.plan
    );
    assert_eq!(enrolled(&fx, m).last(), Some(&learner5));
    assert_eq!(its_group(&fx, m).last(), Some(&learner5));
}

#[test]
fn a_query_outside_its_manifest_is_denied() {
    let (fx, m) = site_with_v0_1_method();
    let before = fx.snapshot();
    let err = fx
        .site
        .method_request(
            &fx.admin,
            m,
            crate::services::execution::MethodRequest::EnrolUsers {
                users: vec![fx.learners[4]],
                role: None,
                group: None,
            },
            false,
        )
        .unwrap_err();
    match err {
        ServiceError::Refused { code, message, .. } => {
            assert_eq!(code, "host-error");
            assert_eq!(
                message,
                "denied: the plugin's manifest does not declare the read-enrolments capability"
            );
        }
        other => panic!("{other:?}"),
    }
    fx.assert_unchanged(&before);
}

#[test]
fn it_checks_its_config_through_the_host() {
    let fx = TestSite::new();
    fx.with_plugin_method(&test_plugin(V0_1), json!({"segment": fx.hr.0}));
    let err = fx
        .site
        .add_method(
            &fx.operator,
            fx.course,
            NewMethod {
                plugin: "contract-v0-1".into(),
                name: String::new(),
                config: json!({"segment": 999}),
                enabled: true,
            },
        )
        .unwrap_err();
    match err {
        ServiceError::ConfigRejected { errors, .. } => {
            assert_eq!(errors.len(), 1);
            assert_eq!(
                (errors[0].field.as_str(), errors[0].message.as_str()),
                ("segment", "there is no segment #999")
            );
        }
        other => panic!("{other:?}"),
    }
}
