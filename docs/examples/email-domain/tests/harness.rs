//! The built component, in Charon's real runtime: a reconcile through the
//! host's index of users by e-mail domain, and the user events of
//! contract 0.3.0.

use charon_plugin_harness::{Harness, build_plugin};
use charon_sdk::mock::MockHost;
use charon_sdk::{Event, UserChanges, UserUpdate};

#[test]
fn enrols_the_domain_and_follows_accounts_that_join_or_leave_it() {
    let harness = Harness::load(build_plugin(env!("CARGO_MANIFEST_DIR")));
    assert_eq!(harness.manifest().id, "email-domain");

    let site = MockHost::new()
        .user(10, "ada")
        .email(10, "ada@acme.example")
        .user(11, "bo")
        .email(11, "bo@other.example");
    let mut scenario = harness.scenario(site).applying();

    let refused = scenario.validate(r#"{"domain":"acme"}"#).unwrap_err();
    assert_eq!(refused.field_errors().unwrap()[0].field, "domain");
    scenario.configure(r#"{"domain":"acme.example"}"#).unwrap();

    let pages = scenario.reconcile().unwrap();
    let lines: Vec<String> = pages.iter().flat_map(|p| p.lines()).collect();
    assert_eq!(
        lines,
        ["enrol #10 as learner: e-mail address @acme.example"]
    );

    // A new account in the domain.
    scenario.site = scenario
        .site
        .clone()
        .user(12, "cy")
        .email(12, "cy@acme.example");
    let plan = scenario.event(Event::UserCreated(12)).unwrap();
    assert_eq!(
        plan.lines(),
        ["enrol #12 as learner: e-mail address @acme.example"]
    );

    // Ada moves to another company.
    scenario.site = scenario.site.clone().email(10, "ada@elsewhere.example");
    let moved = UserUpdate {
        user: 10,
        changes: UserChanges::EMAIL,
    };
    let plan = scenario.event(Event::UserUpdated(moved)).unwrap();
    assert_eq!(
        plan.lines(),
        ["unenrol #10: the e-mail address is no longer in the domain"]
    );

    // Everything applied: a reconcile finds nothing to change but the
    // enrolment it asks for again (already there).
    let again: Vec<String> = scenario
        .reconcile()
        .unwrap()
        .iter()
        .flat_map(|p| p.lines())
        .collect();
    assert_eq!(
        again,
        ["enrol #12 as learner: e-mail address @acme.example"]
    );
}
