//! The built segment-sync component, through the real runtime.

use std::sync::LazyLock;

use charon_plugin_harness::{Harness, build_plugin};
use charon_sdk::mock::MockHost;
use charon_sdk::{EnrolmentStatus, Event, MembershipEvent, MembershipOwner, Plan};

static HARNESS: LazyLock<Harness> =
    LazyLock::new(|| Harness::load(build_plugin(env!("CARGO_MANIFEST_DIR"))));

const HR: u64 = 5;

fn site() -> MockHost {
    MockHost::new()
        .user(10, "ada")
        .user(11, "bob")
        .user(12, "cy")
        .segment(HR, "HR", [10, 11])
        .group(3, "Team A")
}

fn joined(user: u64) -> Event {
    Event::SegmentMemberAdded(MembershipEvent { user, segment: HR })
}

fn left(user: u64) -> Event {
    Event::SegmentMemberRemoved(MembershipEvent { user, segment: HR })
}

fn all_empty(pages: &[Plan]) -> bool {
    pages.iter().all(Plan::is_empty)
}

#[test]
fn the_component_loads_and_declares_its_capabilities() {
    let m = HARNESS.manifest();
    assert_eq!(
        (m.id.as_str(), HARNESS.contract()),
        ("segment-sync", charon_sdk::CONTRACT_VERSION)
    );
    assert_eq!(m.capabilities.len(), 4);
    assert_eq!(m.settings[0].key, "removal-action");
}

#[test]
fn the_form_is_checked_against_the_course_and_its_other_syncs() {
    let mut scenario = HARNESS.scenario(site().sibling(7, r#"{"segment":5}"#, true));
    let refused = scenario.validate(r#"{"segment":5,"group":9}"#).unwrap_err();
    let errors: Vec<(&str, &str)> = refused
        .field_errors()
        .unwrap()
        .iter()
        .map(|e| (e.field.as_str(), e.message.as_str()))
        .collect();
    assert_eq!(
        errors,
        [
            ("group", "group #9 is not a group of this course"),
            (
                "segment",
                r#"segment "HR" is already synced into this course with the role Learner by another enrolment method"#
            ),
        ]
    );
    scenario
        .configure(r#"{"segment":5,"role":"teacher","group":"new"}"#)
        .unwrap();
    assert_eq!(
        scenario.config,
        r#"{"segment":5,"role":"teacher","group":"new","removal-action":"site-default"}"#
    );
}

#[test]
fn an_added_method_syncs_its_segment_into_a_new_group_and_follows_it() {
    let mut scenario = HARNESS
        .scenario(site())
        .settings(r#"{"removal-action":"suspend"}"#)
        .applying();
    scenario
        .configure(r#"{"segment":5,"group":"new"}"#)
        .unwrap();
    assert_eq!(
        scenario.event(Event::MethodAdded).unwrap().lines(),
        ["reconcile this method: the segment sync was added"]
    );
    let pages = scenario.reconcile().unwrap();
    assert_eq!(
        pages[0].lines(),
        [
            r#"create group "group" named "HR segment": the group of the members of segment HR"#,
            "enrol #10 as learner: member of segment HR",
            r#"add #10 to new group "group": member of segment HR"#,
            "enrol #11 as learner: member of segment HR",
            r#"add #11 to new group "group": member of segment HR"#,
        ]
    );
    let group = scenario.site.method_groups[&(1, "group".to_owned())];

    // Live: CY joins, ADA leaves (the site suspends), ADA comes back.
    scenario.site = scenario.site.clone().segment(HR, "HR", [11, 12]);
    assert_eq!(
        scenario.event(joined(12)).unwrap().lines(),
        [
            "enrol #12 as learner: member of segment HR",
            format!("add #12 to group #{group}: member of segment HR").as_str(),
        ]
    );
    assert_eq!(
        scenario.event(left(10)).unwrap().lines(),
        ["suspend #10: left segment HR"]
    );
    assert_eq!(
        scenario.site.enrolments[&(10, 1)].status,
        EnrolmentStatus::Suspended
    );
    assert!(scenario.site.memberships.contains_key(&(group, 10)));
    assert!(all_empty(&scenario.reconcile().unwrap()), "converged");

    scenario.site = scenario.site.clone().segment(HR, "HR", [10, 11, 12]);
    assert_eq!(
        scenario.event(joined(10)).unwrap().lines(),
        ["enrol #10 as learner: member of segment HR: enrolment re-activated as Learner"]
    );
    assert!(all_empty(&scenario.reconcile().unwrap()));
}

#[test]
fn a_deleted_segment_deletes_the_method_or_disables_it() {
    let mut site = site().enrolled(10, 1, charon_sdk::Role::Learner);
    site.segments.remove(&HR);

    let mut scenario = HARNESS
        .scenario(site.clone())
        .config(r#"{"segment":5}"#)
        .applying();
    assert_eq!(
        scenario.event(Event::SegmentDeleted(HR)).unwrap().lines(),
        ["delete this method: its segment #5 was deleted"]
    );
    assert!(scenario.site.deleted.contains(&1));

    let mut scenario = HARNESS
        .scenario(site)
        .config(r#"{"segment":5,"removal-action":"suspend-remove-role"}"#)
        .applying();
    assert_eq!(
        scenario
            .event(Event::SegmentDeleted(HR))
            .unwrap()
            .actions
            .len(),
        2
    );
    assert!(scenario.site.disabled.contains(&1));
    scenario.enabled = false;
    let pages = scenario.reconcile().unwrap();
    assert_eq!(
        pages[0].lines(),
        [
            "suspend #10: its segment #5 no longer exists",
            "remove the role of #10: its segment #5 no longer exists",
        ]
    );
    assert!(all_empty(&scenario.reconcile().unwrap()));
}

#[test]
fn thousands_of_members_reconcile_in_pages_within_the_sandbox_limits() {
    let mut site = MockHost::new().group(3, "Team A");
    for id in 1..=2_500u64 {
        site = site.user(id, "u");
    }
    // A manual membership in the target group, and one of the method in
    // a group it no longer uses.
    let site = site
        .segment(HR, "HR", 1..=2_500)
        .group(4, "Team B")
        .enrolled(7, 9, charon_sdk::Role::Learner)
        .member(3, 7, MembershipOwner::Manual)
        .enrolled(8, 1, charon_sdk::Role::Learner)
        .member(4, 8, MembershipOwner::Method(1));
    let mut scenario = HARNESS
        .scenario(site)
        .config(r#"{"segment":5,"group":3}"#)
        .applying();
    let pages = scenario.reconcile().unwrap();
    assert!(pages.len() <= 4, "{} pages", pages.len());
    assert_eq!(
        scenario
            .site
            .enrolments
            .keys()
            .filter(|(_, i)| *i == 1)
            .count(),
        2_500
    );
    assert!(!scenario.site.memberships.contains_key(&(4, 8)));
    assert_eq!(scenario.site.memberships[&(3, 7)], MembershipOwner::Manual);
    assert!(all_empty(&scenario.reconcile().unwrap()));
}
