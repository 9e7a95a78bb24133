//! The built segment-members-to-group component, through the real runtime.

use std::sync::LazyLock;

use charon_plugin_harness::{Harness, build_plugin};
use charon_sdk::mock::MockHost;
use charon_sdk::{EnrolmentEvent, Event, MembershipEvent, MembershipOwner, Plan, Role};

static HARNESS: LazyLock<Harness> =
    LazyLock::new(|| Harness::load(build_plugin(env!("CARGO_MANIFEST_DIR"))));

const HR: u64 = 5;
/// Another method of the course, which enrols.
const MANUAL: u64 = 9;

fn site() -> MockHost {
    MockHost::new()
        .user(10, "ada")
        .user(11, "bob")
        .user(12, "cy")
        .segment(HR, "HR", [10, 11])
        .group(3, "Team A")
        .group(4, "Team B")
        .enrolled(10, MANUAL, Role::Learner)
        .enrolled(12, MANUAL, Role::Learner)
}

fn all_empty(pages: &[Plan]) -> bool {
    pages.iter().all(Plan::is_empty)
}

#[test]
fn the_component_loads_and_declares_its_capabilities() {
    let m = HARNESS.manifest();
    assert_eq!(
        (m.id.as_str(), HARNESS.contract()),
        ("segment-group", charon_sdk::CONTRACT_VERSION)
    );
    assert_eq!(m.capabilities.len(), 3);
}

#[test]
fn the_form_needs_a_segment_and_a_group_of_the_course() {
    let mut scenario = HARNESS.scenario(site());
    let refused = scenario
        .validate(r#"{"segment":99,"group":9}"#)
        .unwrap_err();
    let fields: Vec<&str> = refused
        .field_errors()
        .unwrap()
        .iter()
        .map(|e| e.field.as_str())
        .collect();
    assert_eq!(fields, ["segment", "group"]);
    scenario.configure(r#"{"segment":5,"group":3}"#).unwrap();
    assert_eq!(scenario.config, r#"{"segment":5,"group":3}"#);
}

#[test]
fn enrolled_members_join_the_group_and_leave_it_and_nobody_is_enrolled() {
    let mut scenario = HARNESS
        .scenario(site())
        .config(r#"{"segment":5,"group":3}"#)
        .applying();
    assert_eq!(
        scenario.event(Event::MethodAdded).unwrap().lines(),
        ["reconcile this method: the segment-to-group sync was added"]
    );
    let pages = scenario.reconcile().unwrap();
    assert_eq!(
        pages[0].lines(),
        ["add #10 to group #3: member of segment HR"]
    );

    // BOB is enrolled by another method: he joins the group.
    scenario.site = scenario.site.clone().enrolled(11, MANUAL, Role::Learner);
    let plan = scenario
        .event(Event::UserEnrolled(EnrolmentEvent {
            user: 11,
            method: MANUAL,
        }))
        .unwrap();
    assert_eq!(plan.lines(), ["add #11 to group #3: member of segment HR"]);

    // ADA leaves the segment, having also been put in the group by hand
    // in Team B: only the method's membership goes.
    scenario.site =
        scenario
            .site
            .clone()
            .segment(HR, "HR", [11])
            .member(4, 10, MembershipOwner::Manual);
    let plan = scenario
        .event(Event::SegmentMemberRemoved(MembershipEvent {
            user: 10,
            segment: HR,
        }))
        .unwrap();
    assert_eq!(plan.lines(), ["remove #10 from group #3: left segment HR"]);
    assert!(all_empty(&scenario.reconcile().unwrap()), "converged");

    // Disabled: its memberships go, the enrolments stay.
    scenario.enabled = false;
    assert_eq!(
        scenario.event(Event::MethodDisabled).unwrap().lines(),
        ["reconcile this method: the segment-to-group sync was disabled"]
    );
    let pages = scenario.reconcile().unwrap();
    assert_eq!(
        pages[0].lines(),
        ["remove #11 from group #3: the segment-to-group sync is disabled"]
    );
    assert_eq!(
        scenario
            .site
            .memberships
            .keys()
            .copied()
            .collect::<Vec<_>>(),
        [(4, 10)]
    );
    assert_eq!(scenario.site.enrolments.len(), 3);
}

#[test]
fn a_deleted_segment_disables_the_method() {
    let mut site = site().member(3, 10, MembershipOwner::Method(1));
    site.segments.remove(&HR);
    let mut scenario = HARNESS
        .scenario(site)
        .config(r#"{"segment":5,"group":3}"#)
        .applying();
    assert_eq!(
        scenario.event(Event::SegmentDeleted(HR)).unwrap().lines(),
        [
            "disable this method: its segment #5 was deleted",
            "reconcile this method: its segment #5 was deleted",
        ]
    );
    scenario.enabled = false;
    scenario.reconcile().unwrap();
    assert!(scenario.site.memberships.is_empty());
}

#[test]
fn thousands_of_participants_reconcile_in_pages_within_the_sandbox_limits() {
    let mut site = MockHost::new().group(3, "Team A");
    for id in 1..=3_000u64 {
        site = site.user(id, "u").enrolled(id, MANUAL, Role::Learner);
    }
    let site = site.segment(HR, "HR", (1..=5_000).filter(|u| u % 2 == 0));
    let mut scenario = HARNESS
        .scenario(site)
        .config(r#"{"segment":5,"group":3}"#)
        .applying();
    let pages = scenario.reconcile().unwrap();
    assert!(pages.len() <= 6, "{} pages", pages.len());
    assert_eq!(scenario.site.memberships.len(), 1_500);
    assert!(all_empty(&scenario.reconcile().unwrap()));
}
