//! Suspended accounts and the sync (issue 16, finding 10). The rule is
//! Moodle's: suspending an account does not change its enrolments — the
//! account cannot sign in, its enrolments stay as the methods made them,
//! and the participants list shows the account as suspended. A segment's
//! suspended member is enrolled like any other, so suspending before or
//! after the sync ends the same. An active participant is one with an
//! active enrolment *and* an active account.
//!
//! The fixture (`TestSite`): segment HR holds learners 1–3, Finance
//! learners 4–5; course COMP101 has a manual method enrolling the teacher
//! and learners 1–4.

use serde_json::json;

use super::segment_sync::{ACTIVE_LEARNER, SYNC, Sync, owned};
use crate::domain::*;
use crate::services::enrolments::NewMethod;

impl Sync {
    fn suspend(&self, user: UserId) {
        self.site
            .suspend_user(&self.operator, user)
            .expect("suspend");
        self.settle();
    }

    /// Learner 3 of HR as the participants list shows them: the account's
    /// status, and whether they count as an active participant.
    fn as_participant(&self, user: UserId) -> (UserStatus, bool) {
        let found = self
            .site
            .course_participants(&self.operator, self.course, None, None, 100)
            .expect("participants");
        let p = found
            .participants
            .items
            .into_iter()
            .find(|p| p.user.id == user)
            .expect("a participant");
        (p.user.status, p.is_active())
    }
}

/// What the sync left for learner 3 of HR: their enrolment through it,
/// whether they are in its group, and how the participants list shows
/// them.
fn outcome(s: &Sync, m: EnrolmentMethodId) -> (Vec<UserId>, bool, (UserStatus, bool)) {
    let group = s.group_named("HR segment").expect("the method's group");
    assert_eq!(s.enrolment(m, s.l(3)), ACTIVE_LEARNER);
    (
        s.enrolled(m),
        s.members(group).contains(&(s.l(3), owned(m))),
        s.as_participant(s.l(3)),
    )
}

#[test]
fn suspended_before_or_after_the_sync_the_account_ends_enrolled_and_shown_suspended() {
    let before = Sync::new();
    before.suspend(before.l(3));
    let m_before = before.add(SYNC, json!({"segment": before.hr.0, "group": "new"}));

    let after = Sync::new();
    let m_after = after.add(SYNC, json!({"segment": after.hr.0, "group": "new"}));
    after.suspend(after.l(3));

    let hr = vec![before.l(1), before.l(2), before.l(3)];
    let want = (hr, true, (UserStatus::Suspended, false));
    assert_eq!(outcome(&before, m_before), want, "suspended, then synced");
    assert_eq!(outcome(&after, m_after), want, "synced, then suspended");
    for (s, m) in [(&before, m_before), (&after, m_after)] {
        s.reconcile_method_now(m);
        assert_eq!(outcome(s, m), want, "a reconcile changes nothing");
        assert_eq!(s.last_error(m), None);
    }
}

#[test]
fn a_suspended_account_that_joins_the_segment_is_enrolled_and_counts_again_once_reactivated() {
    let s = Sync::new();
    let m = s.add(SYNC, json!({"segment": s.hr.0, "group": "new"}));
    s.suspend(s.l(5));
    s.join(s.hr, &[s.l(5)]);
    assert_eq!(s.enrolment(m, s.l(5)), ACTIVE_LEARNER);
    assert_eq!(s.as_participant(s.l(5)), (UserStatus::Suspended, false));
    s.site.reactivate_user(&s.operator, s.l(5)).unwrap();
    s.settle();
    assert_eq!(s.as_participant(s.l(5)), (UserStatus::Active, true));
}

impl Sync {
    fn reconcile_method_now(&self, m: EnrolmentMethodId) {
        self.site
            .reconcile_method(&self.operator, m, false)
            .expect("reconcile");
        self.settle();
    }
}

#[test]
fn the_preview_counts_suspended_accounts_among_those_it_would_enrol() {
    let s = Sync::new();
    s.suspend(s.l(3));
    let preview = s
        .site
        .preview_method(
            &s.operator,
            s.course,
            NewMethod {
                plugin: SYNC.into(),
                name: String::new(),
                config: json!({"segment": s.hr.0}),
                enabled: true,
            },
        )
        .expect("preview");
    assert_eq!((preview.enrolments, preview.suspended_accounts), (3, 1));
}
