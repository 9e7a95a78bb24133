//! The built manual-enrolment component, through the real runtime.

use std::sync::LazyLock;

use charon_plugin_harness::{Harness, build_plugin};
use charon_sdk::mock::MockHost;
use charon_sdk::{EnrolUsers, Request, Role, SelfEnrol};

static HARNESS: LazyLock<Harness> =
    LazyLock::new(|| Harness::load(build_plugin(env!("CARGO_MANIFEST_DIR"))));

fn site() -> MockHost {
    MockHost::new()
        .user(7, "teacher")
        .user(10, "ada")
        .user(11, "bob")
        .group(3, "Team A")
}

fn enrol(users: &[u64], group: Option<u64>) -> Request {
    Request::EnrolUsers(EnrolUsers {
        users: users.to_vec(),
        role: None,
        group,
        requested_by: 7,
    })
}

#[test]
fn the_component_loads_and_declares_its_capabilities() {
    let m = HARNESS.manifest();
    assert_eq!(
        (m.id.as_str(), HARNESS.contract()),
        ("manual", charon_sdk::CONTRACT_VERSION)
    );
    // The runtime denies undeclared queries: the other tests would be
    // refused with `host-error` if the manifest missed one.
    assert_eq!(m.capabilities.len(), 3);
}

#[test]
fn the_config_is_normalised_and_checked() {
    let mut scenario = HARNESS.scenario(site());
    scenario.configure("{}").unwrap();
    assert_eq!(scenario.config, r#"{"role":"learner"}"#);
    let refused = scenario.validate(r#"{"role":"boss"}"#).unwrap_err();
    assert!(
        refused.field_errors().unwrap()[0]
            .message
            .contains("unknown role")
    );
}

#[test]
fn enrolling_into_a_group_converges() {
    let mut scenario = HARNESS
        .scenario(site())
        .config(r#"{"role":"teacher"}"#)
        .applying();
    assert_eq!(
        scenario.request(enrol(&[10, 11], Some(3))).unwrap().lines(),
        [
            "enrol #10 as teacher: enrolled by user #7 as Teacher",
            "add #10 to group #3: added to group Team A by user #7 when enrolled",
            "enrol #11 as teacher: enrolled by user #7 as Teacher",
            "add #11 to group #3: added to group Team A by user #7 when enrolled",
        ]
    );
    assert!(
        scenario
            .request(enrol(&[10, 11], Some(3)))
            .unwrap()
            .is_empty()
    );
    assert_eq!(scenario.site.enrolments[&(10, 1)].role, Some(Role::Teacher));
}

#[test]
fn refusals_cross_the_component_boundary_intact() {
    let mut scenario = HARNESS.scenario(site());
    let refused = scenario.request(enrol(&[10, 99], None)).unwrap_err();
    let r = refused.refusal().unwrap();
    assert_eq!(
        (r.code.as_str(), r.field.as_deref()),
        ("unknown-users", Some("users"))
    );
    assert_eq!(r.message, "this user does not exist: #99");
    let refused = scenario.request(enrol(&[10], Some(42))).unwrap_err();
    assert_eq!(refused.refusal().unwrap().field.as_deref(), Some("group"));
    let refused = scenario
        .request(Request::SelfEnrol(SelfEnrol {
            user: 10,
            key: None,
        }))
        .unwrap_err();
    assert_eq!(refused.refusal().unwrap().code, "no-self-enrolment");
}

#[test]
fn unenrolling_removes_only_this_methods_users() {
    let mut scenario = HARNESS
        .scenario(
            site()
                .enrolled(10, 1, Role::Learner)
                .enrolled(11, 2, Role::Learner),
        )
        .applying();
    assert_eq!(
        scenario
            .request(Request::UnenrolUsers(vec![11]))
            .unwrap_err()
            .refusal()
            .unwrap()
            .code,
        "not-enrolled"
    );
    scenario.request(Request::UnenrolUsers(vec![10])).unwrap();
    assert!(scenario.site.enrolments.keys().all(|(user, _)| *user == 11));
}
