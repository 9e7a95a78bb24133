//! Segment members to group, rule by rule, against the mock host.

use std::cell::Cell;
use std::collections::BTreeSet;

use super::*;
use charon_sdk::mock::{self, MockHost};

const METHOD: MethodId = 1;
/// Another method of the course (say, manual enrolment).
const MANUAL: MethodId = 9;
const HR: SegmentId = 5;
const IT: SegmentId = 6;
const ADA: UserId = 10;
const BOB: UserId = 11;
const CY: UserId = 12;
/// In IT, not in HR.
const DEE: UserId = 13;
const TEAM_A: GroupId = 3;
const TEAM_B: GroupId = 4;

fn ctx(group: GroupId) -> Context<Config> {
    Context {
        method: METHOD,
        course: 2,
        config: Config { segment: HR, group },
        settings: Default::default(),
        enabled: true,
        now: 0,
    }
}

fn disabled(mut ctx: Context<Config>) -> Context<Config> {
    ctx.enabled = false;
    ctx
}

/// HR is ADA, BOB and CY; ADA and DEE are enrolled (by another method),
/// BOB and CY are not.
fn site() -> MockHost {
    MockHost::new()
        .user(ADA, "ada")
        .user(BOB, "bob")
        .user(CY, "cy")
        .user(DEE, "dee")
        .segment(HR, "HR", [ADA, BOB, CY])
        .segment(IT, "IT", [DEE])
        .group(TEAM_A, "Team A")
        .group(TEAM_B, "Team B")
        .enrolled(ADA, MANUAL, Role::Learner)
        .enrolled(DEE, MANUAL, Role::Learner)
        // As the real host: only the manifest's capabilities.
        .only(&SegmentGroup::manifest().capabilities)
}

fn own() -> MembershipOwner {
    MembershipOwner::Method(METHOD)
}

fn enrolled(user: UserId) -> Event {
    Event::UserEnrolled(EnrolmentEvent {
        user,
        method: MANUAL,
    })
}

fn unenrolled(user: UserId) -> Event {
    Event::UserUnenrolled(EnrolmentEvent {
        user,
        method: MANUAL,
    })
}

fn joined(user: UserId, segment: SegmentId) -> Event {
    Event::SegmentMemberAdded(MembershipEvent { user, segment })
}

fn left(user: UserId, segment: SegmentId) -> Event {
    Event::SegmentMemberRemoved(MembershipEvent { user, segment })
}

/// The method enrols nobody and changes no enrolment: it only groups.
fn assert_only_groups(plan: &Plan) {
    for action in &plan.actions {
        assert!(
            matches!(
                action.op,
                Operation::AddToGroup(_)
                    | Operation::RemoveFromGroup(_)
                    | Operation::DisableMethod
                    | Operation::Reconcile
            ),
            "{action}"
        );
    }
}

fn event(ctx: &Context<Config>, event: Event, host: &MockHost) -> Vec<String> {
    let plan = SegmentGroup::handle_event(ctx, event, host).expect("the event is handled");
    assert_only_groups(&plan);
    plan.lines()
}

/// Handles an event and applies its plan, as the host does.
fn event_applied(ctx: &Context<Config>, event: Event, host: &mut MockHost) -> Vec<String> {
    let plan = SegmentGroup::handle_event(ctx, event, host).expect("the event is handled");
    assert_only_groups(&plan);
    host.apply(METHOD, &plan)
        .expect("the host accepts the plan");
    plan.lines()
}

/// A host that counts the queries made through it.
struct Counting<'a> {
    host: &'a MockHost,
    calls: Cell<usize>,
}

impl Counting<'_> {
    fn tick(&self) {
        self.calls.set(self.calls.get() + 1);
    }
}

impl Host for Counting<'_> {
    fn user(&self, id: UserId) -> Result<Option<User>, HostError> {
        self.tick();
        Host::user(self.host, id)
    }
    fn list_users(&self, after: Option<UserId>, limit: u32) -> Result<UserPage, HostError> {
        self.tick();
        self.host.list_users(after, limit)
    }
    fn users_by_email_domain(
        &self,
        domain: &str,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<UserPage, HostError> {
        self.tick();
        self.host.users_by_email_domain(domain, after, limit)
    }
    fn users_by_profile_field(
        &self,
        field: &str,
        value: &str,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<UserPage, HostError> {
        self.tick();
        self.host.users_by_profile_field(field, value, after, limit)
    }
    fn segment_exists(&self, segment: SegmentId) -> Result<Option<String>, HostError> {
        self.tick();
        self.host.segment_exists(segment)
    }
    fn segment_members(
        &self,
        segment: SegmentId,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<SegmentMemberPage, HostError> {
        self.tick();
        self.host.segment_members(segment, after, limit)
    }
    fn is_segment_member(&self, segment: SegmentId, user: UserId) -> Result<bool, HostError> {
        self.tick();
        self.host.is_segment_member(segment, user)
    }
    fn course_enrolments(
        &self,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<EnrolmentPage, HostError> {
        self.tick();
        self.host.course_enrolments(after, limit)
    }
    fn user_enrolments(&self, user: UserId) -> Result<Vec<Enrolment>, HostError> {
        self.tick();
        self.host.user_enrolments(user)
    }
    fn method_enrolments(
        &self,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<EnrolmentPage, HostError> {
        self.tick();
        self.host.method_enrolments(after, limit)
    }
    fn method_enrolment_count(&self) -> Result<u64, HostError> {
        self.tick();
        self.host.method_enrolment_count()
    }
    fn sibling_methods(&self) -> Result<Vec<Sibling>, HostError> {
        self.tick();
        self.host.sibling_methods()
    }
    fn course_groups(&self) -> Result<Vec<CourseGroup>, HostError> {
        self.tick();
        self.host.course_groups()
    }
    fn group_members(
        &self,
        group: GroupId,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<MemberPage, HostError> {
        self.tick();
        self.host.group_members(group, after, limit)
    }
    fn group_membership(
        &self,
        group: GroupId,
        user: UserId,
    ) -> Result<Option<GroupMember>, HostError> {
        self.tick();
        self.host.group_membership(group, user)
    }
    fn method_group(&self, key: &str) -> Result<Option<GroupId>, HostError> {
        self.tick();
        self.host.method_group(key)
    }
    fn log(&self, level: LogLevel, message: &str) {
        self.host.log(level, message);
    }
}

/// Most host queries one reconcile step may make, whatever the size of
/// the segment.
const QUERIES_PER_STEP: usize = 10;

/// Reconciles from the first page to the last, applying each page's plan
/// before asking for the next one, as the host does. Checks that no
/// cursor comes back twice (the host would stop), that each step makes a
/// bounded number of queries, and that no plan enrols anybody.
fn reconcile_all(ctx: &Context<Config>, host: &mut MockHost) -> Vec<Plan> {
    let mut pages = Vec::new();
    let mut cursor = None;
    let mut seen = BTreeSet::new();
    loop {
        assert!(pages.len() < 10_000, "reconcile does not finish");
        let counting = Counting {
            host,
            calls: Cell::new(0),
        };
        let step = SegmentGroup::reconcile(ctx, cursor.clone(), &counting).expect("reconciled");
        assert!(
            counting.calls.get() <= QUERIES_PER_STEP,
            "{} queries in one step (cursor {cursor:?})",
            counting.calls.get()
        );
        assert!(
            step.plan.actions.len() <= 2 * PAGE as usize + 1,
            "{} actions in one step",
            step.plan.actions.len()
        );
        assert_only_groups(&step.plan);
        host.apply(METHOD, &step.plan)
            .unwrap_or_else(|e| panic!("the host refuses page {}: {e}", pages.len() + 1));
        pages.push(step.plan);
        match step.next {
            Some(next) => {
                assert!(seen.insert(next.clone()), "the cursor {next:?} came twice");
                cursor = Some(next);
            }
            None => return pages,
        }
    }
}

fn all_lines(pages: &[Plan]) -> Vec<String> {
    pages.iter().flat_map(Plan::lines).collect()
}

fn converged(ctx: &Context<Config>, host: &mut MockHost) -> bool {
    reconcile_all(ctx, host).iter().all(Plan::is_empty)
}

mod config {
    use super::*;

    fn errors(json: &str) -> Vec<(String, String)> {
        mock::validate::<SegmentGroup>(2, json, &site())
            .expect_err("should be refused")
            .into_iter()
            .map(|e| (e.field, e.message))
            .collect()
    }

    #[test]
    fn a_segment_and_a_group_of_the_course_make_a_config() {
        assert_eq!(
            mock::validate::<SegmentGroup>(2, r#"{"segment":5,"group":3}"#, &site()).unwrap(),
            r#"{"segment":5,"group":3}"#
        );
    }

    #[test]
    fn both_are_required() {
        assert_eq!(
            errors(r#"{"group":3}"#),
            [("segment".into(), "missing field `segment`".into())]
        );
        assert_eq!(
            errors(r#"{"segment":5}"#),
            [("group".into(), "missing field `group`".into())]
        );
    }

    #[test]
    fn the_segment_must_exist_and_the_group_be_the_courses() {
        assert_eq!(
            errors(r#"{"segment":99,"group":9}"#),
            [
                ("segment".into(), "segment #99 does not exist".into()),
                (
                    "group".into(),
                    "group #9 is not a group of this course".into()
                ),
            ]
        );
    }

    #[test]
    fn misspelt_keys_are_refused() {
        assert_eq!(
            errors(r#"{"segment":5,"group":3,"role":"learner"}"#)[0].0,
            "role"
        );
    }

    #[test]
    fn the_manifest_asks_for_no_user_data_and_no_enrolment_right() {
        let m = SegmentGroup::manifest();
        assert_eq!(m.id, "segment-group");
        assert_eq!(m.name, "User segment members to group");
        assert!(m.config.iter().all(|f| f.required));
        assert!(!m.capabilities.contains(&Capability::ReadUsers));
        assert!(m.settings.is_empty());
        assert_eq!(m.events.len(), 9);
    }
}

mod live {
    use super::*;

    #[test]
    fn an_added_enabled_changed_or_disabled_method_asks_for_a_reconcile() {
        for (e, why) in [
            (Event::MethodAdded, "the segment-to-group sync was added"),
            (
                Event::MethodEnabled,
                "the segment-to-group sync was enabled",
            ),
            (
                Event::MethodUpdated,
                "the segment-to-group sync's settings changed",
            ),
            (
                Event::MethodDisabled,
                "the segment-to-group sync was disabled",
            ),
        ] {
            assert_eq!(
                event(&ctx(TEAM_A), e, &site()),
                [format!("reconcile this method: {why}")]
            );
        }
    }

    #[test]
    fn a_member_who_is_enrolled_joins_the_group() {
        let mut host = site().enrolled(BOB, MANUAL, Role::Learner);
        assert_eq!(
            event_applied(&ctx(TEAM_A), enrolled(BOB), &mut host),
            ["add #11 to group #3: member of segment HR"]
        );
        assert_eq!(host.memberships[&(TEAM_A, BOB)], own());
        // Applied: asking again changes nothing.
        assert!(event(&ctx(TEAM_A), enrolled(BOB), &host).is_empty());
    }

    #[test]
    fn a_participant_who_joins_the_segment_joins_the_group() {
        let host = site().segment(HR, "HR", [ADA, DEE]);
        assert_eq!(
            event(&ctx(TEAM_A), joined(DEE, HR), &host),
            ["add #13 to group #3: member of segment HR"]
        );
    }

    #[test]
    fn any_enrolment_counts_even_a_suspended_one() {
        let host = site().enrolment(CY, MANUAL, None, EnrolmentStatus::Suspended);
        assert_eq!(
            event(&ctx(TEAM_A), joined(CY, HR), &host),
            ["add #12 to group #3: member of segment HR"]
        );
    }

    #[test]
    fn non_members_and_users_not_enrolled_are_not_added() {
        assert!(event(&ctx(TEAM_A), enrolled(DEE), &site()).is_empty());
        assert!(event(&ctx(TEAM_A), joined(BOB, HR), &site()).is_empty());
    }

    #[test]
    fn a_membership_by_anyone_is_left_as_it_is() {
        let host = site().member(TEAM_A, ADA, MembershipOwner::Manual);
        assert!(event(&ctx(TEAM_A), enrolled(ADA), &host).is_empty());
        let host = site().member(TEAM_A, ADA, MembershipOwner::Method(7));
        assert!(event(&ctx(TEAM_A), joined(ADA, HR), &host).is_empty());
    }

    #[test]
    fn a_member_who_leaves_loses_only_the_membership_the_method_added() {
        let mut host = site()
            .segment(HR, "HR", [])
            .enrolled(BOB, MANUAL, Role::Learner)
            .enrolled(CY, MANUAL, Role::Learner)
            .member(TEAM_A, ADA, own())
            .member(TEAM_A, BOB, MembershipOwner::Manual)
            .member(TEAM_A, CY, MembershipOwner::Method(7));
        assert_eq!(
            event_applied(&ctx(TEAM_A), left(ADA, HR), &mut host),
            ["remove #10 from group #3: left segment HR"]
        );
        assert!(event(&ctx(TEAM_A), left(BOB, HR), &host).is_empty());
        assert!(event(&ctx(TEAM_A), left(CY, HR), &host).is_empty());
        assert!(event(&ctx(TEAM_A), left(ADA, HR), &host).is_empty());
    }

    #[test]
    fn a_user_with_no_enrolment_left_loses_the_membership() {
        let mut host = site().member(TEAM_A, ADA, own());
        host.enrolments.remove(&(ADA, MANUAL));
        assert_eq!(
            event(&ctx(TEAM_A), unenrolled(ADA), &host),
            ["remove #10 from group #3: no longer enrolled in the course"]
        );
        // Usually the host has already removed it with the enrolment.
        host.memberships.clear();
        assert!(event(&ctx(TEAM_A), unenrolled(ADA), &host).is_empty());
    }

    #[test]
    fn a_user_still_enrolled_by_another_method_keeps_the_membership() {
        let host = site()
            .enrolled(ADA, 8, Role::Learner)
            .member(TEAM_A, ADA, own());
        // Unenrolled by method 8, still enrolled by MANUAL.
        let e = Event::UserUnenrolled(EnrolmentEvent {
            user: ADA,
            method: 8,
        });
        assert!(event(&ctx(TEAM_A), e, &host).is_empty());
    }

    #[test]
    fn a_stale_event_changes_nothing() {
        // BOB joined and left HR before the event was handled.
        let host = site()
            .segment(HR, "HR", [ADA])
            .enrolled(BOB, MANUAL, Role::Learner);
        assert!(event(&ctx(TEAM_A), joined(BOB, HR), &host).is_empty());
        // ADA left and came back.
        let host = site().member(TEAM_A, ADA, own());
        assert!(event(&ctx(TEAM_A), left(ADA, HR), &host).is_empty());
    }

    #[test]
    fn other_segments_are_ignored() {
        let host = site().member(TEAM_A, DEE, own());
        assert!(event(&ctx(TEAM_A), joined(DEE, IT), &host).is_empty());
        assert!(event(&ctx(TEAM_A), left(DEE, IT), &host).is_empty());
        assert!(event(&ctx(TEAM_A), Event::SegmentDeleted(IT), &host).is_empty());
    }

    #[test]
    fn a_disabled_method_adds_nobody() {
        let host = site().enrolled(BOB, MANUAL, Role::Learner);
        assert!(event(&disabled(ctx(TEAM_A)), enrolled(BOB), &host).is_empty());
        assert!(event(&disabled(ctx(TEAM_A)), joined(ADA, HR), &host).is_empty());
    }

    #[test]
    fn a_deleted_group_is_logged_and_nobody_added() {
        let host = site();
        assert!(event(&ctx(30), enrolled(ADA), &host).is_empty());
        assert_eq!(host.logs.borrow()[0].0, LogLevel::Warn);
    }

    #[test]
    fn a_deleted_segment_disables_the_method_and_its_memberships_go() {
        let mut host =
            site()
                .member(TEAM_A, ADA, own())
                .member(TEAM_A, DEE, MembershipOwner::Manual);
        host.segments.remove(&HR);
        assert_eq!(
            event_applied(&ctx(TEAM_A), Event::SegmentDeleted(HR), &mut host),
            [
                "disable this method: its segment #5 was deleted",
                "reconcile this method: its segment #5 was deleted",
            ]
        );
        assert!(host.disabled.contains(&METHOD));
        let ctx = disabled(ctx(TEAM_A));
        assert_eq!(
            all_lines(&reconcile_all(&ctx, &mut host)),
            ["remove #10 from group #3: the segment-to-group sync is disabled"]
        );
        assert_eq!(
            host.memberships.keys().copied().collect::<Vec<_>>(),
            [(TEAM_A, DEE)]
        );
        assert_eq!(host.enrolments.len(), 2, "enrolments are not touched");
    }
}

mod reconcile {
    use super::*;

    #[test]
    fn every_enrolled_member_and_only_they_join_the_group() {
        let mut host = site()
            .enrolment(CY, MANUAL, Some(Role::Teacher), EnrolmentStatus::Suspended)
            .member(TEAM_A, ADA, MembershipOwner::Manual);
        let ctx = ctx(TEAM_A);
        assert_eq!(
            all_lines(&reconcile_all(&ctx, &mut host)),
            ["add #12 to group #3: member of segment HR"]
        );
        assert!(converged(&ctx, &mut host));
        assert!(
            !host.memberships.contains_key(&(TEAM_A, BOB)),
            "not enrolled"
        );
        assert!(
            !host.memberships.contains_key(&(TEAM_A, DEE)),
            "not a member"
        );
    }

    #[test]
    fn memberships_of_users_who_left_the_segment_or_the_course_are_removed() {
        // DEE left HR (still enrolled); #14 left the course (the host
        // would have removed it; here it lingers); BOB is in by hand.
        let mut host = site()
            .user(14, "eve")
            .enrolled(BOB, MANUAL, Role::Learner)
            .member(TEAM_A, ADA, own())
            .member(TEAM_A, BOB, MembershipOwner::Manual)
            .member(TEAM_A, DEE, own())
            .member(TEAM_A, 14, own())
            .segment(HR, "HR", [ADA, BOB, 14]);
        let ctx = ctx(TEAM_A);
        assert_eq!(
            all_lines(&reconcile_all(&ctx, &mut host)),
            [
                "remove #13 from group #3: left segment HR",
                "remove #14 from group #3: no longer enrolled in the course",
            ]
        );
        assert!(converged(&ctx, &mut host));
    }

    #[test]
    fn a_group_change_moves_only_the_methods_own_memberships() {
        let mut host = site()
            .enrolled(BOB, MANUAL, Role::Learner)
            .member(TEAM_A, ADA, own())
            .member(TEAM_A, BOB, MembershipOwner::Manual)
            .member(TEAM_A, DEE, MembershipOwner::Method(7))
            .member(TEAM_B, ADA, MembershipOwner::Manual);
        let ctx = ctx(TEAM_B);
        assert_eq!(
            all_lines(&reconcile_all(&ctx, &mut host)),
            [
                "add #11 to group #4: member of segment HR",
                "remove #10 from group #3: group Team A is no longer the group of segment HR",
            ]
        );
        assert_eq!(host.memberships[&(TEAM_A, BOB)], MembershipOwner::Manual);
        assert_eq!(host.memberships[&(TEAM_A, DEE)], MembershipOwner::Method(7));
        assert_eq!(host.memberships[&(TEAM_B, ADA)], MembershipOwner::Manual);
        assert!(converged(&ctx, &mut host));
    }

    #[test]
    fn a_disabled_method_removes_every_membership_it_added_page_by_page() {
        // 12 groups (more than a step reads) and 1,500 own memberships in
        // one of them, next to manual ones.
        let mut host = site();
        for g in 20..32u64 {
            host = host.group(g, &format!("G{g}"));
        }
        for user in 1_000..2_500u64 {
            host = host
                .enrolled(user, MANUAL, Role::Learner)
                .member(25, user, own())
                .member(31, user, MembershipOwner::Manual);
        }
        host = host.member(31, 1_000, own()).member(TEAM_A, 1_001, own());
        let ctx = disabled(ctx(TEAM_A));
        let pages = reconcile_all(&ctx, &mut host);
        assert!(pages.len() >= 3, "{} steps", pages.len());
        assert_eq!(all_lines(&pages).len(), 1_502);
        assert!(
            host.memberships
                .values()
                .all(|o| *o == MembershipOwner::Manual)
        );
        assert_eq!(host.memberships.len(), 1_499);
        assert!(converged(&ctx, &mut host));
    }

    #[test]
    fn a_reconcile_that_finds_the_segment_gone_disables_and_cleans_up() {
        let mut host = site().member(TEAM_A, ADA, own());
        host.segments.remove(&HR);
        assert_eq!(
            all_lines(&reconcile_all(&ctx(TEAM_A), &mut host)),
            [
                "disable this method: its segment #5 no longer exists",
                "remove #10 from group #3: its segment #5 no longer exists",
            ]
        );
        assert!(host.disabled.contains(&METHOD));
    }

    #[test]
    fn a_deleted_group_adds_nobody_and_still_cleans_the_others() {
        let mut host = site().member(TEAM_B, ADA, own());
        let pages = reconcile_all(&ctx(30), &mut host);
        assert_eq!(
            all_lines(&pages),
            ["remove #10 from group #4: group Team B is no longer the group of segment HR"]
        );
        assert_eq!(host.logs.borrow()[0].0, LogLevel::Warn);
    }

    #[test]
    fn thousands_of_members_are_grouped_page_by_page_and_converge() {
        // 2,500 members; 2,000 users enrolled, of whom 1,000 are members;
        // a few members in the group by hand; 300 own memberships of
        // users who left the segment.
        let mut host = MockHost::new()
            .group(TEAM_A, "Team A")
            .only(&SegmentGroup::manifest().capabilities);
        let members: Vec<UserId> = (1..=5_000u64).filter(|u| u % 2 == 0).collect();
        host = host.segment(HR, "HR", members.iter().copied());
        for user in 2_001..=4_000u64 {
            host = host.user(user, "u").enrolled(user, MANUAL, Role::Learner);
        }
        for user in [2_002, 3_000, 3_998] {
            host = host.member(TEAM_A, user, MembershipOwner::Manual);
        }
        for user in (2_001..2_600u64).filter(|u| u % 2 == 1) {
            host = host.member(TEAM_A, user, own());
        }
        let ctx = ctx(TEAM_A);
        let pages = reconcile_all(&ctx, &mut host);
        assert!(pages.len() <= 8, "{} steps", pages.len());

        let expected: BTreeSet<UserId> = (2_001..=4_000u64).filter(|u| u % 2 == 0).collect();
        let in_group: BTreeSet<UserId> = host.memberships.keys().map(|(_, u)| *u).collect();
        assert_eq!(in_group, expected);
        assert_eq!(host.memberships[&(TEAM_A, 3_000)], MembershipOwner::Manual);
        assert_eq!(
            host.memberships.values().filter(|o| **o == own()).count(),
            1_000 - 3
        );
        assert!(converged(&ctx, &mut host));
    }

    #[test]
    fn a_reconcile_converges_to_the_live_path() {
        let ctx = ctx(TEAM_A);
        let mut live = site().enrolled(CY, MANUAL, Role::Learner);
        for user in [ADA, CY] {
            event_applied(&ctx, enrolled(user), &mut live);
        }
        let mut reconciled = site().enrolled(CY, MANUAL, Role::Learner);
        reconcile_all(&ctx, &mut reconciled);
        assert_eq!(live.memberships, reconciled.memberships);
    }

    #[test]
    fn a_cursor_it_did_not_make_is_refused() {
        for cursor in ["zz", "s:abc", "o:1:x", "q:1"] {
            let refusal =
                SegmentGroup::reconcile(&ctx(TEAM_A), Some(cursor.into()), &site()).unwrap_err();
            assert_eq!(refusal.code, "bad-cursor");
        }
    }

    #[test]
    fn cursors_read_back_as_written() {
        for cursor in [
            Cursor::Sync(None),
            Cursor::Sync(Some(7)),
            Cursor::Others(None, None),
            Cursor::Others(Some(3), Some(9)),
            Cursor::Cleanup(Some(3), None),
        ] {
            assert_eq!(Cursor::parse(Some(&cursor.encode())).unwrap(), Some(cursor));
        }
    }
}
