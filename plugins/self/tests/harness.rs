//! The built self-enrolment component, through the real runtime.

use std::sync::LazyLock;

use charon_plugin_harness::{Harness, build_plugin};
use charon_sdk::mock::MockHost;
use charon_sdk::{LogLevel, Request, Role, SelfEnrol};

static HARNESS: LazyLock<Harness> =
    LazyLock::new(|| Harness::load(build_plugin(env!("CARGO_MANIFEST_DIR"))));

/// 2026-12-01 09:00 UTC.
const DEC_1: i64 = 1_796_115_600_000;

fn site() -> MockHost {
    MockHost::new()
        .user(10, "ada")
        .user(11, "bob")
        .user(12, "cy")
        .group(3, "Team A")
        .group(4, "Team B")
}

fn self_enrol(user: u64, key: Option<&str>) -> Request {
    Request::SelfEnrol(SelfEnrol {
        user,
        key: key.map(Into::into),
    })
}

fn code(result: Result<charon_sdk::Plan, charon_plugin_harness::Failure>) -> String {
    result
        .unwrap_err()
        .refusal()
        .expect("a refusal")
        .code
        .clone()
}

#[test]
fn the_config_form_is_checked_against_the_course() {
    let scenario = HARNESS.scenario(site());
    let refused = scenario
        .validate(r#"{"group_keys":{"3":"alpha","9":"beta"},"max_enrolled":-1,"enrol_start":5,"enrol_end":5}"#)
        .unwrap_err();
    let fields: Vec<&str> = refused
        .field_errors()
        .unwrap()
        .iter()
        .map(|e| e.field.as_str())
        .collect();
    assert_eq!(fields, ["group_keys", "max_enrolled", "enrol_end"]);
    assert!(
        scenario
            .validate(r#"{"enrolment_key":"k","group_keys":{"3":"alpha"}}"#)
            .is_ok()
    );
}

#[test]
fn a_term_with_keys_a_limit_and_dates() {
    let config = format!(
        r#"{{"enrolment_key":"sesame","group_keys":{{"3":"alpha"}},"max_enrolled":2,"enrol_start":{DEC_1},"enrol_end":{}}}"#,
        DEC_1 + 7 * 86_400_000
    );
    let mut scenario = HARNESS.scenario(site()).now(DEC_1 - 1).applying();
    scenario.configure(&config).unwrap();

    let early = scenario
        .request(self_enrol(10, Some("sesame")))
        .unwrap_err();
    assert_eq!(
        early.refusal().unwrap().message,
        "enrolment opens on 2026-12-01 09:00 UTC"
    );

    scenario.now = DEC_1;
    let wrong = scenario.request(self_enrol(10, Some("sesam"))).unwrap_err();
    assert_eq!(wrong.refusal().unwrap().field.as_deref(), Some("key"));
    assert_eq!(
        scenario
            .request(self_enrol(10, Some("alpha")))
            .unwrap()
            .lines(),
        [
            "enrol #10 as learner: enrolled themselves as Learner with the key of group Team A",
            "add #10 to group #3: typed the enrolment key of group Team A",
        ]
    );
    assert_eq!(
        code(scenario.request(self_enrol(10, Some("alpha")))),
        "already-enrolled"
    );
    assert_eq!(
        scenario
            .request(self_enrol(11, Some("sesame")))
            .unwrap()
            .lines()
            .len(),
        1
    );
    assert_eq!(
        code(scenario.request(self_enrol(12, Some("sesame")))),
        "course-full"
    );

    // Bob leaves, which frees a place for Cy.
    scenario.request(Request::SelfUnenrol(11)).unwrap();
    assert_eq!(
        scenario
            .request(self_enrol(12, Some("sesame")))
            .unwrap()
            .lines()
            .len(),
        1
    );
    assert!(scenario.site.memberships.contains_key(&(3, 10)));

    scenario.now = DEC_1 + 7 * 86_400_000;
    assert_eq!(
        code(scenario.request(self_enrol(11, Some("sesame")))),
        "closed"
    );
}

#[test]
fn a_stale_group_key_enrols_and_logs_through_the_host() {
    let mut scenario = HARNESS
        .scenario(site())
        .config(r#"{"group_keys":{"9":"omega"}}"#);
    let plan = scenario.request(self_enrol(10, Some("omega"))).unwrap();
    assert_eq!(
        plan.lines(),
        ["enrol #10 as learner: enrolled themselves as Learner with a group key"]
    );
    assert_eq!(scenario.logs()[0].0, LogLevel::Warn);
}

#[test]
fn leaving_can_be_forbidden() {
    let mut scenario = HARNESS
        .scenario(site().enrolled(10, 1, Role::Learner))
        .config(r#"{"allow_unenrol":false}"#);
    assert_eq!(
        code(scenario.request(Request::SelfUnenrol(10))),
        "unenrol-not-allowed"
    );
}

#[test]
fn a_broken_stored_config_is_refused_not_crashed() {
    let mut scenario = HARNESS
        .scenario(site())
        .config(r#"{"max_enrolled":"lots"}"#);
    assert_eq!(
        code(scenario.request(self_enrol(10, None))),
        "invalid-config"
    );
}
