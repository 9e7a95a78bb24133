//! A group deleted under the enrolment methods that group into it
//! (issue 16, finding 9): each stops grouping, with a warning its course's
//! staff see, and no group is made again until a person asks by saving
//! the method — whatever its plugin asks, on any contract version.
//!
//! The fixture (`TestSite`): segment HR holds learners 1–3, Finance
//! learners 4–5; course COMP101 has groups Team A and Team B.

use serde_json::json;

use super::segment_sync::{SYNC, Sync, owned};
use crate::domain::*;
use crate::services::testing::test_plugin;
use crate::storage::site::prelude::*;

impl Sync {
    fn delete_group(&self, group: CourseGroupId) {
        self.site
            .delete_group(&self.operator, group)
            .expect("delete group");
        self.settle();
    }

    fn config(&self, m: EnrolmentMethodId) -> serde_json::Value {
        serde_json::from_str(&self.method(m).expect("method").config).expect("json")
    }

    fn warning(&self, m: EnrolmentMethodId) -> Option<MethodWarning> {
        self.site
            .method_status(&self.operator, m)
            .expect("status")
            .warning
    }

    fn reconcile(&self, m: EnrolmentMethodId) {
        self.site
            .reconcile_method(&self.operator, m, false)
            .expect("reconcile");
        self.settle();
    }

    /// Every group of the course, by name.
    fn group_names(&self) -> Vec<String> {
        self.site
            .read(|t| Ok(t.course_group_list(self.course)?))
            .expect("read")
            .into_iter()
            .map(|g| g.name)
            .collect()
    }
}

fn group_deleted(group: CourseGroupId, name: &str, key: Option<&str>) -> MethodWarningKind {
    MethodWarningKind::GroupDeleted {
        group,
        name: name.into(),
        key: key.map(Into::into),
    }
}

#[test]
fn a_deleted_new_group_is_not_made_again_by_the_next_member_event_nor_by_reconcile() {
    let s = Sync::new();
    let m = s.add(SYNC, json!({"segment": s.hr.0, "group": "new"}));
    let g = s.group_named("HR segment").expect("created once, on add");
    let before = s.group_names();
    s.delete_group(g);

    let warning = s.warning(m).expect("a warning on the method");
    assert_eq!(warning.kind, group_deleted(g, "HR segment", Some("group")));
    assert!(
        warning
            .message()
            .starts_with("its group 'HR segment' was deleted on "),
        "{}",
        warning.message()
    );
    assert_eq!(s.config(m)["group"], "none", "the method stops grouping");

    // The next member is enrolled, into no group.
    s.join(s.hr, &[s.l(5)]);
    assert_eq!(s.enrolled(m), [s.l(1), s.l(2), s.l(3), s.l(5)]);
    s.reconcile(m);
    assert_eq!(s.group_named("HR segment"), None);
    assert_eq!(s.group_names().len(), before.len() - 1);
    assert_eq!(s.last_error(m), None);
    assert!(s.warning(m).is_some(), "still there until acted on");
}

#[test]
fn a_deleted_existing_group_is_cleared_from_the_config_and_members_are_enrolled_ungrouped() {
    let s = Sync::new();
    let team = s.group("Team HR");
    let m = s.add(SYNC, json!({"segment": s.hr.0, "group": team.0}));
    assert_eq!(s.members(team).len(), 3);
    s.delete_group(team);

    assert_eq!(
        s.warning(m).expect("warned").kind,
        group_deleted(team, "Team HR", None)
    );
    assert_eq!(s.config(m)["group"], "none", "no longer the dead group");
    s.join(s.hr, &[s.l(5)]);
    s.reconcile(m);
    assert_eq!(s.enrolled(m), [s.l(1), s.l(2), s.l(3), s.l(5)]);
    assert_eq!(s.last_error(m), None);
}

#[test]
fn a_method_grouping_elsewhere_is_not_warned() {
    let s = Sync::new();
    let other = s.group("Other");
    let m = s.add(SYNC, json!({"segment": s.hr.0, "group": "new"}));
    let g = s.group_named("HR segment").expect("created");
    // Moved to another group: the one it made is no longer its group.
    s.reconfigure(m, json!({"segment": s.hr.0, "group": other.0}));
    s.delete_group(g);
    assert_eq!(s.warning(m), None);
    assert_eq!(s.config(m)["group"], other.0);
    s.delete_group(other);
    assert!(s.warning(m).is_some());
}

#[test]
fn saving_create_new_group_again_is_the_admin_asking_and_clears_the_warning() {
    let s = Sync::new();
    let m = s.add(SYNC, json!({"segment": s.hr.0, "group": "new"}));
    let g = s.group_named("HR segment").expect("created");
    s.delete_group(g);
    s.reconfigure(m, json!({"segment": s.hr.0, "group": "new"}));
    assert_eq!(s.warning(m), None);
    let again = s.group_named("HR segment").expect("made again, as asked");
    assert_ne!(again, g);
    assert_eq!(
        s.members(again),
        vec![(s.l(1), owned(m)), (s.l(2), owned(m)), (s.l(3), owned(m))]
    );
}

#[test]
fn a_dismissed_warning_is_hidden_audited_and_still_holds_the_method() {
    let s = Sync::new();
    let m = s.add(SYNC, json!({"segment": s.hr.0, "group": "new"}));
    let g = s.group_named("HR segment").expect("created");
    s.delete_group(g);
    assert!(s.site.dismiss_method_warning(&s.operator, m).unwrap());
    assert_eq!(s.warning(m), None);
    assert!(!s.site.dismiss_method_warning(&s.operator, m).unwrap());
    let stored = s.site.read(|t| Ok(t.method_warning(m)?)).unwrap();
    assert!(stored.is_some_and(|w| w.dismissed));
    let logged = s
        .site
        .read(|t| Ok(t.audit_page(None, 1, |_| true)?))
        .unwrap();
    assert_eq!(logged[0].action, "method.warning_dismissed");
    s.reconcile(m);
    assert_eq!(s.group_named("HR segment"), None);
    // A learner may not dismiss it.
    assert!(s.site.dismiss_method_warning(&s.learner(1), m).is_err());
}

#[test]
fn the_dashboard_lists_the_warned_method_until_dismissed() {
    let s = Sync::new();
    let m = s.add(SYNC, json!({"segment": s.hr.0, "group": "new"}));
    s.delete_group(s.group_named("HR segment").expect("created"));
    let warned = |s: &Sync| {
        s.site
            .dashboard(&s.operator)
            .unwrap()
            .admin
            .expect("admin")
            .warned
            .into_iter()
            .map(|w| w.method.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(warned(&s), [m]);
    s.site.dismiss_method_warning(&s.operator, m).unwrap();
    assert!(warned(&s).is_empty());
}

/// The 0.1.0 fixture plugin creates its group on every event and page
/// (`tests/plugins/contract-v0_1`), with no group field in its config: the
/// host alone holds it to the deletion.
#[test]
fn a_plugin_of_contract_0_1_0_that_asks_for_its_group_every_time_does_not_get_it_back() {
    let s = Sync::new();
    let m = s.with_plugin_method(
        &test_plugin("charon-test-contract-v0-1"),
        json!({"segment": s.hr.0}),
    );
    s.settle();
    let g = s
        .group_named("Contract 0.1.0 members")
        .expect("the plugin made its group");
    s.delete_group(g);
    assert_eq!(
        s.warning(m).expect("warned").kind,
        group_deleted(g, "Contract 0.1.0 members", Some("members"))
    );
    s.join(s.hr, &[s.l(5)]);
    s.reconcile(m);
    assert_eq!(s.group_named("Contract 0.1.0 members"), None);
    assert_eq!(s.enrolled(m), [s.l(1), s.l(2), s.l(3), s.l(5)]);
    assert_eq!(s.last_error(m), None);
}
