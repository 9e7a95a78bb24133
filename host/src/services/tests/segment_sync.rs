//! Segment sync and "segment members to group" (issue 5, PRODUCT §4) as
//! scenarios against the bundled plugins in the real runtime: each test
//! changes the site through the services, lets the dispatcher deliver the
//! events (as a running host does), and states the enrolments and group
//! memberships that must result.
//!
//! The fixture (`TestSite`): segment HR holds learners 1–3, Finance
//! learners 4–5; course COMP101 has a manual method enrolling the teacher
//! and learners 1–4, and groups Team A and Team B.

use serde_json::{Value, json};

use super::refusal;
use crate::domain::*;
use crate::services::ServiceError;
use crate::services::enrolments::{MethodUpdate, NewMethod};
use crate::services::groups::NewGroup;
use crate::services::testing::TestSite;
use crate::storage::site::prelude::*;

pub(super) const SYNC: &str = "segment-sync";
const GROUPSYNC: &str = "segment-group";

/// The fixture with helpers that read as the scenarios speak.
pub(super) struct Sync {
    fx: TestSite,
}

impl std::ops::Deref for Sync {
    type Target = TestSite;
    fn deref(&self) -> &TestSite {
        &self.fx
    }
}

/// One user's enrolment through one method: `(role, status)`.
pub(super) type Seen = Option<(Option<Role>, EnrolmentStatus)>;

impl Sync {
    pub(super) fn new() -> Self {
        let fx = TestSite::new();
        // Events of the set-up are delivered before the scenario starts.
        fx.site.dispatch_pending().expect("dispatch");
        Sync { fx }
    }

    /// Delivers every pending event, and the events the plans cause, as
    /// the running host's dispatcher does.
    pub(super) fn settle(&self) {
        for _ in 0..50 {
            if self.site.dispatch_pending().expect("dispatch").events == 0 {
                return;
            }
        }
        panic!("events kept coming after 50 rounds");
    }

    pub(super) fn try_add(
        &self,
        plugin: &str,
        config: Value,
    ) -> Result<EnrolmentMethodId, ServiceError> {
        let id = self
            .site
            .add_method(
                &self.operator,
                self.course,
                NewMethod {
                    plugin: plugin.into(),
                    name: String::new(),
                    config,
                    enabled: true,
                },
            )?
            .id;
        self.settle();
        Ok(id)
    }

    pub(super) fn add(&self, plugin: &str, config: Value) -> EnrolmentMethodId {
        self.try_add(plugin, config).expect("add method")
    }

    pub(super) fn reconfigure(&self, id: EnrolmentMethodId, config: Value) {
        self.site
            .update_method(
                &self.operator,
                id,
                MethodUpdate {
                    name: None,
                    config: Some(config),
                },
            )
            .expect("update");
        self.settle();
    }

    pub(super) fn set_status(&self, id: EnrolmentMethodId, status: EnrolmentMethodStatus) {
        self.site
            .set_method_status(&self.operator, id, status)
            .expect("status");
        self.settle();
    }

    pub(super) fn join(&self, segment: SegmentId, users: &[UserId]) {
        self.site
            .add_segment_members(&self.operator, segment, users)
            .expect("join");
        self.settle();
    }

    pub(super) fn leave(&self, segment: SegmentId, users: &[UserId]) {
        self.site
            .remove_segment_members(&self.operator, segment, users)
            .expect("leave");
        self.settle();
    }

    pub(super) fn delete_segment(&self, segment: SegmentId) {
        self.site
            .delete_segment(&self.operator, segment)
            .expect("delete segment");
        self.settle();
    }

    pub(super) fn group(&self, name: &str) -> CourseGroupId {
        self.site
            .create_group(
                &self.operator,
                self.course,
                NewGroup {
                    name: name.into(),
                    ..Default::default()
                },
            )
            .expect("group")
            .id
    }

    pub(super) fn enrolment(&self, method: EnrolmentMethodId, user: UserId) -> Seen {
        self.site
            .read(|t| Ok(t.enrolment(self.course, user, method)?))
            .expect("read")
            .map(|e| (e.role, e.status))
    }

    /// Users enrolled in the course through `method`, in id order.
    pub(super) fn enrolled(&self, method: EnrolmentMethodId) -> Vec<UserId> {
        self.site
            .read(|t| Ok(t.method_enrolment_user_ids(self.course, method, None, usize::MAX)?))
            .expect("read")
    }

    /// `group`'s members with their owners, in user order.
    pub(super) fn members(&self, group: CourseGroupId) -> Vec<(UserId, MembershipOwner)> {
        self.site
            .read(|t| Ok(t.group_members_page(group, None, usize::MAX)?))
            .expect("read")
            .into_iter()
            .map(|m| (m.user, m.owner))
            .collect()
    }

    pub(super) fn group_named(&self, name: &str) -> Option<CourseGroupId> {
        self.site
            .read(|t| Ok(t.group_id_by_name(self.course, name)?))
            .expect("read")
    }

    pub(super) fn method(&self, id: EnrolmentMethodId) -> Option<EnrolmentMethod> {
        self.site.read(|t| Ok(t.method(id)?)).expect("read")
    }

    pub(super) fn l(&self, i: usize) -> UserId {
        self.learners[i - 1]
    }

    pub(super) fn last_error(&self, id: EnrolmentMethodId) -> Option<MethodError> {
        self.site
            .method_status(&self.operator, id)
            .expect("status")
            .last_error
    }
}

pub(super) fn owned(m: EnrolmentMethodId) -> MembershipOwner {
    MembershipOwner::Method(m)
}

pub(super) const ACTIVE_LEARNER: Seen = Some((Some(Role::Learner), EnrolmentStatus::Active));

// ------------------------------------------------------------ segment sync

#[test]
fn adding_the_instance_enrols_every_member_and_nobody_else() {
    let s = Sync::new();
    let m = s.add(SYNC, json!({"segment": s.hr.0}));
    assert_eq!(s.enrolled(m), vec![s.l(1), s.l(2), s.l(3)]);
    assert_eq!(s.enrolment(m, s.l(1)), ACTIVE_LEARNER);
    assert_eq!(s.last_error(m), None);
}

#[test]
fn several_segments_sync_into_one_course_each_with_its_own_instance() {
    let s = Sync::new();
    let hr = s.add(SYNC, json!({"segment": s.hr.0}));
    let fin = s.add(
        SYNC,
        json!({"segment": s.finance.0, "role": "non-editing-teacher"}),
    );
    assert_eq!(s.enrolled(hr), vec![s.l(1), s.l(2), s.l(3)]);
    assert_eq!(s.enrolled(fin), vec![s.l(4), s.l(5)]);
    assert_eq!(
        s.enrolment(fin, s.l(5)),
        Some((Some(Role::NonEditingTeacher), EnrolmentStatus::Active))
    );
    // A user in both segments holds two enrolments, one per method.
    s.join(s.finance, &[s.l(1)]);
    assert_eq!(s.enrolment(hr, s.l(1)), ACTIVE_LEARNER);
    assert!(s.enrolment(fin, s.l(1)).is_some());
}

#[test]
fn the_same_segment_and_role_twice_in_one_course_is_refused() {
    let s = Sync::new();
    s.add(SYNC, json!({"segment": s.hr.0}));
    let before = s.snapshot();
    let err = s
        .try_add(SYNC, json!({"segment": s.hr.0, "role": "learner"}))
        .unwrap_err();
    assert!(
        matches!(&err, ServiceError::ConfigRejected { errors, .. }
            if errors.iter().any(|e| e.field == "segment" && e.message.contains("HR"))),
        "{err:?}"
    );
    s.assert_unchanged(&before);
    // Another role for the same segment is a different method.
    s.add(SYNC, json!({"segment": s.hr.0, "role": "teacher"}));
}

#[test]
fn a_member_added_later_is_enrolled_at_once_and_a_removed_one_unenrolled_by_default() {
    let s = Sync::new();
    let m = s.add(SYNC, json!({"segment": s.hr.0}));
    s.join(s.hr, &[s.l(5)]);
    assert_eq!(s.enrolment(m, s.l(5)), ACTIVE_LEARNER);
    s.leave(s.hr, &[s.l(2)]);
    assert_eq!(s.enrolment(m, s.l(2)), None);
    // The manual enrolment of the same user is not the method's.
    assert!(s.enrolment(s.manual, s.l(2)).is_some());
}

#[test]
fn changing_the_role_changes_every_enrolment_of_the_instance() {
    let s = Sync::new();
    let m = s.add(SYNC, json!({"segment": s.hr.0}));
    s.reconfigure(m, json!({"segment": s.hr.0, "role": "teacher"}));
    for i in 1..=3 {
        assert_eq!(
            s.enrolment(m, s.l(i)),
            Some((Some(Role::Teacher), EnrolmentStatus::Active))
        );
    }
}

#[test]
fn create_new_group_on_add_then_members_leave_and_join() {
    let s = Sync::new();
    let m = s.add(SYNC, json!({"segment": s.hr.0, "group": "new"}));
    let g = s.group_named("HR segment").expect("the group was created");
    assert_eq!(
        s.members(g),
        vec![(s.l(1), owned(m)), (s.l(2), owned(m)), (s.l(3), owned(m))]
    );
    s.leave(s.hr, &[s.l(1)]);
    s.join(s.hr, &[s.l(5)]);
    assert_eq!(
        s.members(g),
        vec![(s.l(2), owned(m)), (s.l(3), owned(m)), (s.l(5), owned(m))]
    );
    // Asking again (a reconcile) creates no second group.
    s.site.reconcile_method(&s.operator, m, false).unwrap();
    assert_eq!(s.group_named("HR segment (2)"), None);
}

#[test]
fn a_new_group_whose_name_is_taken_is_numbered_2_then_3() {
    let s = Sync::new();
    s.group("HR segment");
    s.add(SYNC, json!({"segment": s.hr.0, "group": "new"}));
    assert!(s.group_named("HR segment (2)").is_some());
    s.add(
        SYNC,
        json!({"segment": s.hr.0, "role": "teacher", "group": "new"}),
    );
    assert!(s.group_named("HR segment (3)").is_some());
}

#[test]
fn switching_an_existing_instance_to_create_new_group_creates_it_and_groups_everyone() {
    let s = Sync::new();
    let m = s.add(SYNC, json!({"segment": s.hr.0}));
    assert_eq!(s.group_named("HR segment"), None);
    s.reconfigure(m, json!({"segment": s.hr.0, "group": "new"}));
    let g = s.group_named("HR segment").expect("created");
    assert_eq!(s.members(g).len(), 3);
}

#[test]
fn moving_the_instance_to_another_group_moves_its_memberships_and_leaves_manual_ones() {
    let s = Sync::new();
    let m = s.add(SYNC, json!({"segment": s.hr.0, "group": s.team_a.0}));
    let (a, b) = (s.team_a, s.team_b);
    assert_eq!(s.members(a).len(), 3);
    s.reconfigure(m, json!({"segment": s.hr.0, "group": b.0}));
    assert_eq!(s.members(a), vec![]);
    assert_eq!(
        s.members(b),
        vec![(s.l(1), owned(m)), (s.l(2), owned(m)), (s.l(3), owned(m))]
    );
}

#[test]
fn a_manual_group_member_is_left_alone_after_leaving_the_segment() {
    let s = Sync::new();
    // Learner 1 is in Team A by hand before the method exists.
    s.site
        .add_group_members(&s.operator, s.team_a, &[s.l(1)])
        .unwrap();
    let m = s.add(
        SYNC,
        json!({"segment": s.hr.0, "group": s.team_a.0, "removal-action": "suspend"}),
    );
    assert_eq!(
        s.members(s.team_a),
        vec![
            (s.l(1), MembershipOwner::Manual),
            (s.l(2), owned(m)),
            (s.l(3), owned(m))
        ]
    );
    s.leave(s.hr, &[s.l(1)]);
    s.reconfigure(m, json!({"segment": s.hr.0, "group": s.team_b.0}));
    assert_eq!(s.members(s.team_a), vec![(s.l(1), MembershipOwner::Manual)]);
}

#[test]
fn removal_action_unenrol_removes_the_enrolment_and_the_instances_memberships() {
    let s = Sync::new();
    let m = s.add(
        SYNC,
        json!({"segment": s.hr.0, "group": "new", "removal-action": "unenrol"}),
    );
    let g = s.group_named("HR segment").unwrap();
    s.leave(s.hr, &[s.l(3)]);
    assert_eq!(s.enrolment(m, s.l(3)), None);
    assert!(!s.members(g).iter().any(|(u, _)| *u == s.l(3)));
}

#[test]
fn removal_action_suspend_keeps_the_role_and_the_group() {
    let s = Sync::new();
    let m = s.add(
        SYNC,
        json!({"segment": s.hr.0, "group": "new", "removal-action": "suspend"}),
    );
    let g = s.group_named("HR segment").unwrap();
    s.leave(s.hr, &[s.l(3)]);
    assert_eq!(
        s.enrolment(m, s.l(3)),
        Some((Some(Role::Learner), EnrolmentStatus::Suspended))
    );
    assert!(s.members(g).contains(&(s.l(3), owned(m))));
    // Re-added: active again.
    s.join(s.hr, &[s.l(3)]);
    assert_eq!(s.enrolment(m, s.l(3)), ACTIVE_LEARNER);
}

#[test]
fn removal_action_suspend_and_remove_role_then_re_activation_on_re_add() {
    let s = Sync::new();
    let m = s.add(
        SYNC,
        json!({"segment": s.hr.0, "removal-action": "suspend-remove-role"}),
    );
    s.leave(s.hr, &[s.l(2)]);
    assert_eq!(
        s.enrolment(m, s.l(2)),
        Some((None, EnrolmentStatus::Suspended))
    );
    s.join(s.hr, &[s.l(2)]);
    assert_eq!(s.enrolment(m, s.l(2)), ACTIVE_LEARNER);
}

#[test]
fn the_site_default_removal_action_applies_unless_the_instance_overrides_it() {
    let s = Sync::new();
    s.site
        .set_plugin_settings(
            &s.operator,
            SYNC,
            json!({"removal-action": "suspend"})
                .as_object()
                .cloned()
                .unwrap(),
        )
        .unwrap();
    let by_default = s.add(SYNC, json!({"segment": s.hr.0}));
    let overridden = s.add(
        SYNC,
        json!({"segment": s.hr.0, "role": "teacher", "removal-action": "unenrol"}),
    );
    s.leave(s.hr, &[s.l(1)]);
    assert_eq!(
        s.enrolment(by_default, s.l(1)),
        Some((Some(Role::Learner), EnrolmentStatus::Suspended))
    );
    assert_eq!(s.enrolment(overridden, s.l(1)), None);
}

#[test]
fn a_setting_the_plugin_does_not_have_or_a_bad_value_is_refused() {
    let s = Sync::new();
    let before = s.snapshot();
    for bad in [
        json!({"removal-action": "explode"}),
        json!({"colour": "red"}),
        json!({"removal-action": 3}),
    ] {
        let err = s
            .site
            .set_plugin_settings(&s.operator, SYNC, bad.as_object().cloned().unwrap())
            .unwrap_err();
        assert!(
            matches!(err, ServiceError::ConfigRejected { .. }),
            "{err:?}"
        );
    }
    s.assert_unchanged(&before);
    let err = s.site.plugin_settings(&s.learner(0), SYNC).unwrap_err();
    assert_eq!(refusal(&err).0, "Forbidden");
}

#[test]
fn deleting_the_segment_with_unenrol_deletes_the_instance_and_its_enrolments() {
    let s = Sync::new();
    let m = s.add(SYNC, json!({"segment": s.hr.0, "group": "new"}));
    let g = s.group_named("HR segment").unwrap();
    s.delete_segment(s.hr);
    assert_eq!(s.method(m), None);
    assert_eq!(s.enrolled(m), Vec::<UserId>::new());
    assert_eq!(s.members(g), vec![]);
    // Other enrolments of the same users stay.
    assert!(s.enrolment(s.manual, s.l(1)).is_some());
}

#[test]
fn deleting_the_segment_with_suspend_disables_the_instance_and_suspends_its_enrolments() {
    for (action, role) in [
        ("suspend", Some(Role::Learner)),
        ("suspend-remove-role", None),
    ] {
        let s = Sync::new();
        let m = s.add(SYNC, json!({"segment": s.hr.0, "removal-action": action}));
        s.delete_segment(s.hr);
        let method = s.method(m).expect("kept");
        assert_eq!(method.status, EnrolmentMethodStatus::Disabled, "{action}");
        for i in 1..=3 {
            assert_eq!(
                s.enrolment(m, s.l(i)),
                Some((role, EnrolmentStatus::Suspended)),
                "{action}"
            );
        }
    }
}

#[test]
fn a_disabled_instance_enrols_nobody_new_and_catches_up_when_enabled() {
    let s = Sync::new();
    let m = s.add(SYNC, json!({"segment": s.hr.0}));
    s.set_status(m, EnrolmentMethodStatus::Disabled);
    s.join(s.hr, &[s.l(5)]);
    assert_eq!(s.enrolment(m, s.l(5)), None);
    s.set_status(m, EnrolmentMethodStatus::Enabled);
    assert_eq!(s.enrolment(m, s.l(5)), ACTIVE_LEARNER);
}

#[test]
fn deleting_the_instance_removes_its_enrolments_and_memberships_only() {
    let s = Sync::new();
    let m = s.add(SYNC, json!({"segment": s.hr.0, "group": s.team_a.0}));
    s.site.delete_method(&s.operator, m).unwrap();
    s.settle();
    assert_eq!(s.enrolled(m), Vec::<UserId>::new());
    assert_eq!(s.members(s.team_a), vec![]);
    assert_eq!(s.enrolled(s.manual).len(), 5);
}

#[test]
fn adding_can_first_show_its_plan_without_applying_it() {
    let s = Sync::new();
    let before = s.snapshot();
    let preview = s
        .site
        .preview_method(
            &s.operator,
            s.course,
            NewMethod {
                plugin: SYNC.into(),
                name: String::new(),
                config: json!({"segment": s.hr.0, "group": "new"}),
                enabled: true,
            },
        )
        .unwrap();
    assert_eq!(preview.enrolments, 3);
    assert_eq!(preview.group_memberships, 3);
    assert_eq!(preview.groups_created, vec!["HR segment".to_owned()]);
    s.assert_unchanged(&before);
    // A learner may not configure the course's methods: no preview either.
    let err = s
        .site
        .preview_method(
            &s.learner(0),
            s.course,
            NewMethod {
                plugin: SYNC.into(),
                name: String::new(),
                config: json!({"segment": s.hr.0}),
                enabled: true,
            },
        )
        .unwrap_err();
    assert_eq!(refusal(&err).0, "Forbidden");
}

#[test]
fn reconcile_is_idempotent_and_converges_to_what_the_live_path_produced() {
    // Live: every change delivered as it happens. Offline: the same
    // changes with their events never delivered (a crash lost them), then
    // one reconcile. Both sites are built alike, so their ids match.
    let live = Sync::new();
    let offline = Sync::new();
    for s in [&live, &offline] {
        s.add(
            SYNC,
            json!({"segment": s.hr.0, "group": "new", "removal-action": "suspend"}),
        );
        s.add(SYNC, json!({"segment": s.finance.0}));
        s.site
            .add_segment_members(&s.operator, s.hr, &[s.l(4), s.l(5)])
            .unwrap();
        s.site
            .remove_segment_members(&s.operator, s.hr, &[s.l(1)])
            .unwrap();
        s.site
            .remove_segment_members(&s.operator, s.finance, &[s.l(5)])
            .unwrap();
    }
    live.settle();
    offline.site.skip_pending_events().unwrap();
    let report = offline
        .site
        .reconcile_site(&offline.operator, None, false)
        .unwrap();
    assert!(report.iter().all(|r| r.error.is_none()), "{report:?}");
    let state = |s: &Sync| {
        s.site
            .read(|t| {
                let mut out = Vec::new();
                for m in t.course_methods_list(s.course)? {
                    for u in t.method_enrolment_user_ids(s.course, m.id, None, usize::MAX)? {
                        let e = t.enrolment(s.course, u, m.id)?.unwrap();
                        out.push(format!("{} {} {:?} {:?}", m.id, u, e.role, e.status));
                    }
                }
                for g in t.course_group_list(s.course)? {
                    for mem in t.group_members_page(g.id, None, usize::MAX)? {
                        out.push(format!("{} {} {:?}", g.name, mem.user, mem.owner));
                    }
                }
                Ok(out)
            })
            .unwrap()
    };
    assert_eq!(state(&offline), state(&live));
    // Idempotent: nothing more to change, on either.
    for s in [&live, &offline] {
        for r in s.site.reconcile_site(&s.operator, None, false).unwrap() {
            assert_eq!(r.report.unwrap().changed, 0);
        }
    }
}

// ------------------------------------------------ segment members to group

#[test]
fn groupsync_adding_the_instance_groups_the_enrolled_members_and_enrols_nobody() {
    let s = Sync::new();
    let m = s.add(GROUPSYNC, json!({"segment": s.hr.0, "group": s.team_b.0}));
    // Learners 1–3 are in HR and enrolled (manually).
    assert_eq!(
        s.members(s.team_b),
        vec![(s.l(1), owned(m)), (s.l(2), owned(m)), (s.l(3), owned(m))]
    );
    assert_eq!(s.enrolled(m), Vec::<UserId>::new());
    // Learner 5 joins HR but is not enrolled: not grouped.
    s.join(s.hr, &[s.l(5)]);
    assert!(!s.members(s.team_b).iter().any(|(u, _)| *u == s.l(5)));
}

#[test]
fn groupsync_enrolling_a_member_groups_them_and_joining_later_groups_them() {
    let s = Sync::new();
    let m = s.add(
        GROUPSYNC,
        json!({"segment": s.finance.0, "group": s.team_b.0}),
    );
    // Learner 4 is enrolled and in Finance; learner 5 is in Finance only.
    assert_eq!(s.members(s.team_b), vec![(s.l(4), owned(m))]);
    s.site
        .enrol(&s.operator, s.manual, s.l(5), Role::Learner)
        .unwrap();
    s.settle();
    assert!(s.members(s.team_b).contains(&(s.l(5), owned(m))));
    s.join(s.finance, &[s.l(1)]);
    assert!(s.members(s.team_b).contains(&(s.l(1), owned(m))));
}

#[test]
fn groupsync_leaving_the_segment_removes_only_its_own_memberships() {
    let s = Sync::new();
    s.site
        .add_group_members(&s.operator, s.team_b, &[s.l(1)])
        .unwrap();
    let m = s.add(GROUPSYNC, json!({"segment": s.hr.0, "group": s.team_b.0}));
    s.leave(s.hr, &[s.l(1), s.l(2)]);
    assert_eq!(
        s.members(s.team_b),
        vec![(s.l(1), MembershipOwner::Manual), (s.l(3), owned(m))]
    );
}

#[test]
fn groupsync_with_segment_sync_groups_whom_the_sync_enrols() {
    let s = Sync::new();
    let g = s.add(
        GROUPSYNC,
        json!({"segment": s.finance.0, "group": s.team_a.0}),
    );
    let sync = s.add(SYNC, json!({"segment": s.finance.0}));
    // Learner 5 was enrolled by the sync, then grouped by the groupsync.
    assert_eq!(s.enrolment(sync, s.l(5)), ACTIVE_LEARNER);
    assert!(s.members(s.team_a).contains(&(s.l(5), owned(g))));
}

#[test]
fn groupsync_disabled_removes_what_it_created() {
    let s = Sync::new();
    s.site
        .add_group_members(&s.operator, s.team_b, &[s.l(1)])
        .unwrap();
    let m = s.add(GROUPSYNC, json!({"segment": s.hr.0, "group": s.team_b.0}));
    s.set_status(m, EnrolmentMethodStatus::Disabled);
    assert_eq!(s.members(s.team_b), vec![(s.l(1), MembershipOwner::Manual)]);
    s.set_status(m, EnrolmentMethodStatus::Enabled);
    assert_eq!(s.members(s.team_b).len(), 3);
}

#[test]
fn groupsync_unenrolled_users_lose_its_memberships() {
    let s = Sync::new();
    let m = s.add(GROUPSYNC, json!({"segment": s.hr.0, "group": s.team_b.0}));
    s.site.unenrol(&s.operator, s.manual, s.l(2)).unwrap();
    s.settle();
    assert_eq!(
        s.members(s.team_b),
        vec![(s.l(1), owned(m)), (s.l(3), owned(m))]
    );
}
