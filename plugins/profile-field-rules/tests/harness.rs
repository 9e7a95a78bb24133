//! The built profile-field-rules component, through the real runtime: the
//! host's side of the `segment-rule` interface (contract 0.4.0).

use std::sync::LazyLock;

use charon_plugin_harness::{Harness, build_plugin};
use charon_sdk::mock::MockHost;
use charon_sdk::{Event, PluginKind, UserChanges, UserUpdate};

static HARNESS: LazyLock<Harness> =
    LazyLock::new(|| Harness::load(build_plugin(env!("CARGO_MANIFEST_DIR"))));

const HR: u64 = 9;

fn site() -> MockHost {
    MockHost::new()
        .user(1, "ada")
        .profile(1, "department", "HR")
        .user(2, "bob")
        .profile(2, "department", "Finance")
        .user(3, "cy")
        .profile(3, "department", "hr")
        .segment(HR, "HR people", [2])
}

#[test]
fn the_component_is_a_segment_rule_of_the_sdk_contract() {
    let m = HARNESS.manifest();
    assert_eq!(
        (m.id.as_str(), m.kind, HARNESS.contract()),
        (
            "profile-field-rules",
            PluginKind::SegmentRule,
            charon_sdk::CONTRACT_VERSION
        )
    );
}

#[test]
fn a_reconcile_makes_the_segment_the_users_the_rule_selects_and_then_rests() {
    let mut scenario = HARNESS.rule_scenario(site(), HR).applying();
    scenario
        .configure(r#"{"rule":"profile.department equals HR"}"#)
        .unwrap();
    let pages = scenario.reconcile().unwrap();
    let lines: Vec<String> = pages.iter().flat_map(|p| p.lines()).collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(
        scenario.site.segments[&HR]
            .1
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        [1, 3]
    );
    assert!(scenario.reconcile().unwrap().iter().all(|p| p.is_empty()));
}

#[test]
fn a_department_change_moves_the_user_in_and_out() {
    let mut scenario = HARNESS.rule_scenario(site(), HR).applying();
    scenario
        .configure(r#"{"rule":"profile.department equals Finance"}"#)
        .unwrap();
    scenario.reconcile().unwrap();
    scenario.site = scenario.site.clone().profile(1, "department", "Finance");
    let changed = |user| {
        Event::UserUpdated(UserUpdate {
            user,
            changes: UserChanges::PROFILE,
        })
    };
    let plan = scenario.event(changed(1)).unwrap();
    assert_eq!(plan.actions.len(), 1, "{:?}", plan.lines());
    assert!(scenario.site.segments[&HR].1.contains(&1));
    scenario.site = scenario.site.clone().profile(2, "department", "HR");
    scenario.event(changed(2)).unwrap();
    assert!(!scenario.site.segments[&HR].1.contains(&2));
}

#[test]
fn a_bad_rule_is_refused_with_its_line() {
    let scenario = HARNESS.rule_scenario(site(), HR);
    let failure = scenario
        .validate(r#"{"rule":"profile.department equals HR\nemail-domain sort-of x"}"#)
        .unwrap_err();
    let errors = failure.field_errors().unwrap();
    assert_eq!(errors[0].field, "rule");
    assert!(errors[0].message.starts_with("line 2:"), "{errors:?}");
}
