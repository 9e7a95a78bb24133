//! The built component, in Charon's real runtime.

use charon_plugin_harness::{Harness, build_plugin};
use charon_sdk::mock::MockHost;
use charon_sdk::{EnrolmentEvent, Event, Role};

#[test]
fn welcomes_newcomers_and_catches_up_with_the_others() {
    let harness = Harness::load(build_plugin(env!("CARGO_MANIFEST_DIR")));
    assert_eq!(harness.manifest().id, "welcome-group");

    let site = MockHost::new()
        .user(10, "ada")
        .user(11, "bob")
        .group(3, "Welcome")
        .enrolled(10, 5, Role::Learner);
    let mut scenario = harness.scenario(site).applying();

    // The admin saves the form.
    let refused = scenario.validate(r#"{"group":9}"#).unwrap_err();
    assert_eq!(refused.field_errors().unwrap()[0].field, "group");
    scenario.configure(r#"{"group":3}"#).unwrap();

    // Users enrolled before the method was added.
    let pages = scenario.reconcile().unwrap();
    assert_eq!(
        pages[0].lines(),
        ["add #10 to group #3: welcome: newly enrolled"]
    );

    // A newcomer.
    scenario.site = scenario.site.clone().enrolled(11, 5, Role::Learner);
    let plan = scenario
        .event(Event::UserEnrolled(EnrolmentEvent {
            user: 11,
            method: 5,
        }))
        .unwrap();
    assert_eq!(
        plan.lines(),
        ["add #11 to group #3: welcome: newly enrolled"]
    );

    // Everything applied: nothing left to do.
    assert!(scenario.reconcile().unwrap().iter().all(|p| p.is_empty()));
}
