//! Segment sync, rule by rule, against the mock host.

use std::cell::Cell;
use std::collections::BTreeSet;

use super::*;
use charon_sdk::mock::{self, MockHost};

const METHOD: MethodId = 1;
const HR: SegmentId = 5;
const IT: SegmentId = 6;
const ADA: UserId = 10;
const BOB: UserId = 11;
/// A user whose site account is suspended, in no segment: the tests of
/// suspended accounts add them to HR (`with_cy`).
const CY: UserId = 12;
/// In IT, not in HR.
const DEE: UserId = 13;
const TEAM_A: GroupId = 3;
const TEAM_B: GroupId = 4;

fn ctx(config: Config) -> Context<Config> {
    Context {
        method: METHOD,
        course: 2,
        config,
        settings: Default::default(),
        enabled: true,
        now: 0,
    }
}

fn hr() -> Config {
    Config::new(HR)
}

fn hr_into(group: GroupChoice) -> Config {
    Config { group, ..hr() }
}

fn hr_removing(action: MethodRemoval) -> Config {
    Config {
        removal_action: action,
        ..hr()
    }
}

/// The context with the site-wide removal action set.
fn site_default(mut ctx: Context<Config>, action: &str) -> Context<Config> {
    ctx.settings.insert(REMOVAL_SETTING.into(), action.into());
    ctx
}

fn disabled(mut ctx: Context<Config>) -> Context<Config> {
    ctx.enabled = false;
    ctx
}

fn site() -> MockHost {
    MockHost::new()
        .user(ADA, "ada")
        .user(BOB, "bob")
        .suspended_user(CY, "cy")
        .user(DEE, "dee")
        .segment(HR, "HR", [ADA, BOB])
        .segment(IT, "IT", [DEE])
        .group(TEAM_A, "Team A")
        .group(TEAM_B, "Team B")
        // As the real host: only the manifest's capabilities.
        .only(&SegmentSync::manifest().capabilities)
}

/// The site with CY, whose account is suspended, a member of HR.
fn with_cy() -> MockHost {
    site().segment(HR, "HR", [ADA, BOB, CY])
}

fn joined(user: UserId, segment: SegmentId) -> Event {
    Event::SegmentMemberAdded(MembershipEvent { user, segment })
}

fn left(user: UserId, segment: SegmentId) -> Event {
    Event::SegmentMemberRemoved(MembershipEvent { user, segment })
}

fn event(ctx: &Context<Config>, event: Event, host: &MockHost) -> Vec<String> {
    SegmentSync::handle_event(ctx, event, host)
        .expect("the event is handled")
        .lines()
}

/// Handles an event and applies its plan, as the host does.
fn event_applied(ctx: &Context<Config>, event: Event, host: &mut MockHost) -> Vec<String> {
    let plan = SegmentSync::handle_event(ctx, event, host).expect("the event is handled");
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
const QUERIES_PER_STEP: usize = 12;

/// Reconciles from the first page to the last, applying each page's plan
/// before asking for the next one, as the host does. Checks that no
/// cursor comes back twice (the host would stop), that each step makes a
/// bounded number of queries and holds at most a page of users.
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
        let step = SegmentSync::reconcile(ctx, cursor.clone(), &counting).expect("reconciled");
        assert!(
            counting.calls.get() <= QUERIES_PER_STEP,
            "{} queries in one step (cursor {cursor:?})",
            counting.calls.get()
        );
        // A page of members (enrol, add to group) and a page of former
        // members' enrolments (suspend, remove the role), and the group.
        assert!(
            step.plan.actions.len() <= 4 * PAGE as usize + 1,
            "{} actions in one step",
            step.plan.actions.len()
        );
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

fn enrolment(host: &MockHost, user: UserId) -> Option<&Enrolment> {
    host.enrolments.get(&(user, METHOD))
}

mod config {
    use super::*;

    fn errors(json: &str, host: &MockHost) -> Vec<(String, String)> {
        mock::validate::<SegmentSync>(2, json, host)
            .expect_err("should be refused")
            .into_iter()
            .map(|e| (e.field, e.message))
            .collect()
    }

    #[test]
    fn a_segment_alone_syncs_learners_without_a_group_with_the_sites_removal_action() {
        assert_eq!(
            mock::validate::<SegmentSync>(2, r#"{"segment":5}"#, &site()).unwrap(),
            r#"{"segment":5,"role":"learner","group":"none","removal-action":"site-default"}"#
        );
    }

    #[test]
    fn the_segment_is_required_and_must_exist() {
        assert_eq!(
            errors("{}", &site()),
            [("segment".into(), "missing field `segment`".into())]
        );
        assert_eq!(
            errors(r#"{"segment":99}"#, &site()),
            [("segment".into(), "segment #99 does not exist".into())]
        );
    }

    #[test]
    fn the_group_is_none_new_or_a_group_of_the_course() {
        for (json, stored) in [
            (r#""none""#, r#""none""#),
            (r#""new""#, r#""new""#),
            ("3", "3"),
            (r#""3""#, "3"),
        ] {
            let config = format!(r#"{{"segment":5,"group":{json}}}"#);
            let out = mock::validate::<SegmentSync>(2, &config, &site()).unwrap();
            assert!(out.contains(&format!(r#""group":{stored}"#)), "{out}");
        }
        assert_eq!(
            errors(r#"{"segment":5,"group":9}"#, &site()),
            [(
                "group".into(),
                "group #9 is not a group of this course".into()
            )]
        );
        let refused = errors(r#"{"segment":5,"group":"maybe"}"#, &site());
        assert_eq!(
            refused[0].1,
            r#"group: "none", "new" or the id of a group of the course, not "maybe""#
        );
    }

    #[test]
    fn the_removal_action_is_the_sites_or_one_of_three() {
        for action in ["site-default", "unenrol", "suspend", "suspend-remove-role"] {
            let config = format!(r#"{{"segment":5,"removal-action":"{action}"}}"#);
            assert!(mock::validate::<SegmentSync>(2, &config, &site()).is_ok());
        }
        assert!(
            mock::validate::<SegmentSync>(2, r#"{"segment":5,"removal-action":"x"}"#, &site())
                .is_err()
        );
    }

    #[test]
    fn misspelt_keys_are_refused() {
        assert_eq!(
            errors(r#"{"segment":5,"removal_action":"suspend"}"#, &site())[0].0,
            "removal_action"
        );
    }

    #[test]
    fn the_same_segment_and_role_twice_in_a_course_is_refused() {
        // A disabled sibling counts: enabling it would enrol them twice.
        let host = site().sibling(7, r#"{"segment":5,"role":"learner"}"#, false);
        assert_eq!(
            errors(r#"{"segment":5}"#, &host),
            [(
                "segment".into(),
                r#"segment "HR" is already synced into this course with the role Learner by another enrolment method"#.into()
            )]
        );
        // Another role, or another segment, is fine.
        assert!(
            mock::validate::<SegmentSync>(2, r#"{"segment":5,"role":"teacher"}"#, &host).is_ok()
        );
        assert!(mock::validate::<SegmentSync>(2, r#"{"segment":6}"#, &host).is_ok());
    }

    #[test]
    fn a_siblings_config_is_read_leniently() {
        // A key this version does not know, the role left to its default.
        let host = site().sibling(7, r#"{"segment":5,"future-key":true}"#, true);
        assert_eq!(errors(r#"{"segment":5}"#, &host)[0].0, "segment");
        // Unreadable: it cannot be a duplicate of anything.
        let host = site().sibling(7, "not json", true);
        assert!(mock::validate::<SegmentSync>(2, r#"{"segment":5}"#, &host).is_ok());
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let fields: Vec<String> = errors(r#"{"segment":99,"group":9}"#, &site())
            .into_iter()
            .map(|(field, _)| field)
            .collect();
        assert_eq!(fields, ["segment", "group"]);
    }

    #[test]
    fn the_manifest_offers_the_form_and_a_site_default_removal_action() {
        let m = SegmentSync::manifest();
        assert_eq!(m.id, "segment-sync");
        assert_eq!(m.name, "User segment sync");
        let keys: Vec<&str> = m.config.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(keys, ["segment", "role", "group", "removal-action"]);
        assert!(m.config[0].required);
        assert_eq!(
            m.config[2].kind,
            FieldKind::GroupChoice(GroupChoiceOptions {
                none: true,
                new: true
            })
        );
        assert_eq!(m.settings[0].key, "removal-action");
        assert_eq!(m.settings[0].default.as_deref(), Some(r#""unenrol""#));
    }
}

mod live {
    use super::*;

    #[test]
    fn an_added_enabled_or_changed_method_asks_for_a_reconcile() {
        for (e, why) in [
            (Event::MethodAdded, "the segment sync was added"),
            (Event::MethodEnabled, "the segment sync was enabled"),
            (Event::MethodUpdated, "the segment sync's settings changed"),
        ] {
            assert_eq!(
                event(&ctx(hr()), e, &site()),
                [format!("reconcile this method: {why}")]
            );
        }
    }

    #[test]
    fn a_member_who_joins_is_enrolled_and_grouped() {
        let mut host = site();
        let ctx = ctx(hr_into(GroupChoice::Existing(TEAM_A)));
        assert_eq!(
            event_applied(&ctx, joined(ADA, HR), &mut host),
            [
                "enrol #10 as learner: member of segment HR",
                "add #10 to group #3: member of segment HR",
            ]
        );
        // Applied: asking again changes nothing.
        assert!(event(&ctx, joined(ADA, HR), &host).is_empty());
    }

    #[test]
    fn a_member_gets_the_configured_role() {
        let config = Config {
            role: Role::Teacher,
            ..hr()
        };
        assert_eq!(
            event(&ctx(config), joined(ADA, HR), &site()),
            ["enrol #10 as teacher: member of segment HR"]
        );
    }

    #[test]
    fn a_re_added_member_is_re_activated_with_the_role() {
        let host = site()
            .enrolment(ADA, METHOD, Some(Role::Learner), EnrolmentStatus::Suspended)
            .enrolment(BOB, METHOD, None, EnrolmentStatus::Suspended);
        assert_eq!(
            event(&ctx(hr()), joined(ADA, HR), &host),
            ["enrol #10 as learner: member of segment HR: enrolment re-activated as Learner"]
        );
        assert_eq!(
            event(&ctx(hr()), joined(BOB, HR), &host),
            ["enrol #11 as learner: member of segment HR: enrolment re-activated as Learner"]
        );
    }

    #[test]
    fn a_member_enrolled_with_another_role_or_none_gets_the_role_back() {
        let host = site().enrolled(ADA, METHOD, Role::Teacher).enrolment(
            BOB,
            METHOD,
            None,
            EnrolmentStatus::Active,
        );
        assert_eq!(
            event(&ctx(hr()), joined(ADA, HR), &host),
            ["enrol #10 as learner: member of segment HR: role set to Learner"]
        );
        assert_eq!(
            event(&ctx(hr()), joined(BOB, HR), &host),
            ["enrol #11 as learner: member of segment HR: role set to Learner"]
        );
    }

    #[test]
    fn an_enrolment_by_another_method_does_not_count() {
        let host = site().enrolled(ADA, 9, Role::Learner);
        assert_eq!(
            event(&ctx(hr()), joined(ADA, HR), &host),
            ["enrol #10 as learner: member of segment HR"]
        );
    }

    #[test]
    fn a_membership_of_the_group_by_anyone_is_left_as_it_is() {
        let host = site()
            .enrolled(ADA, METHOD, Role::Learner)
            .member(TEAM_A, ADA, MembershipOwner::Manual)
            .enrolled(BOB, 9, Role::Learner)
            .member(TEAM_A, BOB, MembershipOwner::Method(9));
        let ctx = ctx(hr_into(GroupChoice::Existing(TEAM_A)));
        assert!(event(&ctx, joined(ADA, HR), &host).is_empty());
        assert_eq!(
            event(&ctx, joined(BOB, HR), &host),
            ["enrol #11 as learner: member of segment HR"]
        );
    }

    #[test]
    fn a_suspended_account_is_enrolled_like_any_other_an_unknown_one_is_not() {
        // Suspension changes no enrolment (Moodle's rule).
        assert_eq!(
            event(&ctx(hr()), joined(CY, HR), &with_cy()),
            ["enrol #12 as learner: member of segment HR"]
        );
        let host = site().segment(HR, "HR", [ADA, 404]);
        assert!(event(&ctx(hr()), joined(404, HR), &host).is_empty());
        assert!(
            !SegmentSync::manifest()
                .events
                .contains(&EventKind::UserReactivated),
            "a re-activated account has nothing to catch up on"
        );
    }

    #[test]
    fn other_segments_are_ignored() {
        assert!(event(&ctx(hr()), joined(DEE, IT), &site()).is_empty());
        assert!(event(&ctx(hr()), left(DEE, IT), &site()).is_empty());
        assert!(event(&ctx(hr()), Event::SegmentDeleted(IT), &site()).is_empty());
    }

    #[test]
    fn a_stale_event_changes_nothing() {
        // DEE joined HR and left again before the event was handled.
        assert!(event(&ctx(hr()), joined(DEE, HR), &site()).is_empty());
        // ADA left and came back.
        let host = site().enrolled(ADA, METHOD, Role::Learner);
        assert!(event(&ctx(hr()), left(ADA, HR), &host).is_empty());
    }

    #[test]
    fn a_disabled_method_ignores_members() {
        let host = site()
            .segment(HR, "HR", [BOB])
            .enrolled(ADA, METHOD, Role::Learner);
        assert!(event(&disabled(ctx(hr())), joined(BOB, HR), &host).is_empty());
        assert!(event(&disabled(ctx(hr())), left(ADA, HR), &host).is_empty());
    }

    #[test]
    fn a_member_event_never_creates_the_new_group_the_reconcile_of_adding_does() {
        let mut host = site();
        let ctx = ctx(hr_into(GroupChoice::New));
        // Before the reconcile that adding asks for: enrolled, no group.
        assert_eq!(
            event_applied(&ctx, joined(ADA, HR), &mut host),
            ["enrol #10 as learner: member of segment HR"]
        );
        assert_eq!(host.method_group(GROUP_KEY).unwrap(), None);
        let lines = all_lines(&reconcile_all(&ctx, &mut host));
        assert!(
            lines.contains(
                &r#"create group "group" named "HR segment": the group of the members of segment HR"#
                    .to_owned()
            ),
            "{lines:?}"
        );
        let created = host.method_group(GROUP_KEY).unwrap().expect("created");
        assert_eq!(host.groups[&created].name, "HR segment");
        // The next member joins it: no second group.
        let host = host.segment(HR, "HR", [ADA, BOB, CY, DEE]);
        assert_eq!(
            event(&ctx, joined(DEE, HR), &host),
            [
                "enrol #13 as learner: member of segment HR",
                format!("add #13 to group #{created}: member of segment HR").as_str(),
            ]
        );
    }

    #[test]
    fn a_new_group_deleted_since_is_not_made_again_by_a_member_event() {
        let mut host = site();
        let ctx = ctx(hr_into(GroupChoice::New));
        reconcile_all(&ctx, &mut host);
        let created = host.method_group(GROUP_KEY).unwrap().expect("created");
        host.groups.remove(&created);
        assert_eq!(host.method_group(GROUP_KEY).unwrap(), None);
        assert_eq!(
            event(
                &ctx,
                joined(DEE, HR),
                &host.segment(HR, "HR", [ADA, BOB, DEE])
            ),
            ["enrol #13 as learner: member of segment HR"]
        );
    }

    #[test]
    fn a_new_groups_name_is_numbered_when_taken() {
        let ctx = ctx(hr_into(GroupChoice::New));
        let creates = |host: &mut MockHost| {
            all_lines(&reconcile_all(&ctx, host))
                .into_iter()
                .find(|l| l.starts_with("create group"))
                .expect("created")
        };
        let mut host = site().group(20, "hr SEGMENT");
        assert!(
            creates(&mut host).contains(r#"named "HR segment (2)""#),
            "a clash, case aside, gets (2)"
        );
        let mut host = site().group(20, "hr SEGMENT").group(21, "HR segment (2)");
        assert_eq!(
            creates(&mut host),
            r#"create group "group" named "HR segment (3)": the group of the members of segment HR"#
        );
        let created = host.method_group(GROUP_KEY).unwrap().unwrap();
        assert_eq!(host.groups[&created].name, "HR segment (3)");
    }

    #[test]
    fn its_configured_group_deleted_is_logged_and_changes_nothing() {
        let host = site();
        let ctx = ctx(hr_into(GroupChoice::Existing(TEAM_A)));
        assert!(event(&ctx, Event::GroupDeleted(TEAM_A), &host).is_empty());
        let (level, line) = host.logs.borrow()[0].clone();
        assert_eq!(level, LogLevel::Warn);
        assert!(
            line.starts_with("enrolment method #1 of course #2: group #3 "),
            "{line}"
        );
        // Another group's deletion is none of its business.
        assert!(event(&ctx, Event::GroupDeleted(TEAM_B), &site()).is_empty());
        assert!(
            SegmentSync::manifest()
                .events
                .contains(&EventKind::GroupDeleted)
        );
    }

    #[test]
    fn a_configured_group_deleted_since_is_skipped_and_logged() {
        let host = site().segment(HR, "HR", [ADA]);
        let ctx = ctx(hr_into(GroupChoice::Existing(30)));
        assert_eq!(
            event(&ctx, joined(ADA, HR), &host),
            ["enrol #10 as learner: member of segment HR"]
        );
        assert_eq!(host.logs.borrow()[0].0, LogLevel::Warn);
    }

    fn leaving(ctx: &Context<Config>) -> (Vec<String>, MockHost) {
        let mut host = site()
            .segment(HR, "HR", [BOB])
            .enrolled(ADA, METHOD, Role::Learner)
            .member(TEAM_A, ADA, MembershipOwner::Method(METHOD));
        let lines = event_applied(ctx, left(ADA, HR), &mut host);
        (lines, host)
    }

    #[test]
    fn a_member_who_leaves_is_unenrolled_by_default_with_the_methods_groups() {
        let (lines, host) = leaving(&ctx(hr()));
        assert_eq!(lines, ["unenrol #10: left segment HR"]);
        assert!(enrolment(&host, ADA).is_none());
        assert!(host.memberships.is_empty());
    }

    #[test]
    fn suspend_keeps_the_role_and_the_group() {
        let ctx = ctx(hr_removing(MethodRemoval::Suspend));
        let (lines, host) = leaving(&ctx);
        assert_eq!(lines, ["suspend #10: left segment HR"]);
        let e = enrolment(&host, ADA).unwrap();
        assert_eq!(
            (e.status, e.role),
            (EnrolmentStatus::Suspended, Some(Role::Learner))
        );
        assert!(host.memberships.contains_key(&(TEAM_A, ADA)));
        // Already so: nothing more.
        assert!(event(&ctx, left(ADA, HR), &host).is_empty());
    }

    #[test]
    fn suspend_and_remove_role_drops_the_role_too() {
        let ctx = ctx(hr_removing(MethodRemoval::SuspendRemoveRole));
        let (lines, host) = leaving(&ctx);
        assert_eq!(
            lines,
            [
                "suspend #10: left segment HR",
                "remove the role of #10: left segment HR",
            ]
        );
        assert!(event(&ctx, left(ADA, HR), &host).is_empty());
        // Half done (suspended by an earlier action, role still there).
        let host = site().segment(HR, "HR", []).enrolment(
            ADA,
            METHOD,
            Some(Role::Learner),
            EnrolmentStatus::Suspended,
        );
        assert_eq!(
            event(&ctx, left(ADA, HR), &host),
            ["remove the role of #10: left segment HR"]
        );
    }

    #[test]
    fn the_site_default_applies_unless_the_method_chooses() {
        let (lines, _) = leaving(&site_default(ctx(hr()), "suspend"));
        assert_eq!(lines, ["suspend #10: left segment HR"]);
        let (lines, _) = leaving(&site_default(ctx(hr()), "suspend-remove-role"));
        assert_eq!(lines.len(), 2);
        let own = ctx(hr_removing(MethodRemoval::Unenrol));
        let (lines, _) = leaving(&site_default(own, "suspend"));
        assert_eq!(lines, ["unenrol #10: left segment HR"]);
        // A setting this version does not know reads as unenrol.
        let (lines, _) = leaving(&site_default(ctx(hr()), "keep"));
        assert_eq!(lines, ["unenrol #10: left segment HR"]);
    }

    #[test]
    fn a_member_who_leaves_without_an_enrolment_here_is_left_alone() {
        let host = site().segment(HR, "HR", []).enrolled(ADA, 9, Role::Learner);
        assert!(event(&ctx(hr()), left(ADA, HR), &host).is_empty());
    }

    #[test]
    fn a_deleted_segment_deletes_the_method_when_members_are_unenrolled() {
        let mut host = site().enrolled(ADA, METHOD, Role::Learner);
        host.segments.remove(&HR);
        assert_eq!(
            event_applied(&ctx(hr()), Event::SegmentDeleted(HR), &mut host),
            ["delete this method: its segment #5 was deleted"]
        );
        assert!(host.deleted.contains(&METHOD));
        assert!(host.enrolments.is_empty());
    }

    #[test]
    fn a_deleted_segment_otherwise_disables_the_method_and_suspends_its_enrolments() {
        let mut host = site()
            .enrolled(ADA, METHOD, Role::Learner)
            .enrolled(BOB, METHOD, Role::Learner)
            .enrolled(DEE, 9, Role::Learner);
        host.segments.remove(&HR);
        let ctx = site_default(ctx(hr()), "suspend-remove-role");
        assert_eq!(
            event_applied(&ctx, Event::SegmentDeleted(HR), &mut host),
            [
                "disable this method: its segment #5 was deleted",
                "reconcile this method: its segment #5 was deleted",
            ]
        );
        assert!(host.disabled.contains(&METHOD));
        // The host reconciles the now disabled method.
        let ctx = disabled(ctx);
        assert_eq!(
            all_lines(&reconcile_all(&ctx, &mut host)),
            [
                "suspend #10: its segment #5 no longer exists",
                "remove the role of #10: its segment #5 no longer exists",
                "suspend #11: its segment #5 no longer exists",
                "remove the role of #11: its segment #5 no longer exists",
            ]
        );
        assert_eq!(host.enrolments[&(DEE, 9)].status, EnrolmentStatus::Active);
        assert!(reconcile_all(&ctx, &mut host).iter().all(Plan::is_empty));
    }
}

mod reconcile {
    use super::*;

    #[test]
    fn an_added_method_enrols_every_active_member_into_its_new_group() {
        let mut host = site();
        let ctx = ctx(hr_into(GroupChoice::New));
        let pages = reconcile_all(&ctx, &mut host);
        let created = host.method_group(GROUP_KEY).unwrap().unwrap();
        assert_eq!(
            all_lines(&pages),
            [
                r#"create group "group" named "HR segment": the group of the members of segment HR"#,
                "enrol #10 as learner: member of segment HR",
                r#"add #10 to new group "group": member of segment HR"#,
                "enrol #11 as learner: member of segment HR",
                r#"add #11 to new group "group": member of segment HR"#,
            ]
        );
        assert!(host.memberships.contains_key(&(created, BOB)));
        assert!(
            reconcile_all(&ctx, &mut host).iter().all(Plan::is_empty),
            "a second reconcile changes nothing"
        );
    }

    #[test]
    fn suspended_accounts_are_enrolled_like_any_other() {
        let mut host = with_cy();
        reconcile_all(&ctx(hr()), &mut host);
        assert_eq!(
            enrolment(&host, CY).map(|e| e.status),
            Some(EnrolmentStatus::Active)
        );
        assert!(enrolment(&host, ADA).is_some());
        // Already enrolled: a second reconcile changes nothing.
        assert!(
            reconcile_all(&ctx(hr()), &mut host)
                .iter()
                .all(Plan::is_empty)
        );
    }

    #[test]
    fn suspended_or_wrong_role_enrolments_are_set_right() {
        let mut host = site()
            .enrolment(ADA, METHOD, Some(Role::Learner), EnrolmentStatus::Suspended)
            .enrolled(BOB, METHOD, Role::Teacher);
        assert_eq!(
            all_lines(&reconcile_all(&ctx(hr()), &mut host)),
            [
                "enrol #10 as learner: member of segment HR: enrolment re-activated as Learner",
                "enrol #11 as learner: member of segment HR: role set to Learner",
            ]
        );
    }

    #[test]
    fn a_membership_of_the_group_by_anyone_is_left_as_it_is() {
        let mut host = site()
            .enrolled(BOB, 9, Role::Learner)
            .member(TEAM_A, ADA, MembershipOwner::Manual)
            .member(TEAM_A, BOB, MembershipOwner::Method(9));
        let ctx = ctx(hr_into(GroupChoice::Existing(TEAM_A)));
        assert_eq!(
            all_lines(&reconcile_all(&ctx, &mut host)),
            [
                "enrol #10 as learner: member of segment HR",
                "enrol #11 as learner: member of segment HR",
            ]
        );
        assert_eq!(host.memberships[&(TEAM_A, ADA)], MembershipOwner::Manual);
        assert_eq!(host.memberships[&(TEAM_A, BOB)], MembershipOwner::Method(9));
    }

    fn former_members() -> MockHost {
        // ADA and BOB are members; DEE and #14 were.
        site()
            .user(14, "eve")
            .enrolled(ADA, METHOD, Role::Learner)
            .enrolled(BOB, METHOD, Role::Learner)
            .enrolled(DEE, METHOD, Role::Learner)
            .enrolment(14, METHOD, Some(Role::Learner), EnrolmentStatus::Suspended)
            .member(TEAM_A, ADA, MembershipOwner::Method(METHOD))
            .member(TEAM_A, BOB, MembershipOwner::Method(METHOD))
            .member(TEAM_A, DEE, MembershipOwner::Method(METHOD))
    }

    fn hr_in_team_a(removal: MethodRemoval) -> Config {
        Config {
            removal_action: removal,
            ..hr_into(GroupChoice::Existing(TEAM_A))
        }
    }

    #[test]
    fn enrolments_of_former_members_get_the_removal_action() {
        let mut host = former_members();
        let ctx = ctx(hr_in_team_a(MethodRemoval::SiteDefault));
        assert_eq!(
            all_lines(&reconcile_all(&ctx, &mut host)),
            [
                "unenrol #13: left segment HR",
                "unenrol #14: left segment HR"
            ]
        );
        assert!(
            !host.memberships.contains_key(&(TEAM_A, DEE)),
            "the method's membership goes with the enrolment"
        );

        let mut host = former_members();
        let ctx = site_default(ctx, "suspend");
        assert_eq!(
            all_lines(&reconcile_all(&ctx, &mut host)),
            ["suspend #13: left segment HR"],
            "#14 is already suspended"
        );
        assert!(
            host.memberships.contains_key(&(TEAM_A, DEE)),
            "a suspended member stays in the group"
        );

        let mut host = former_members();
        let ctx = ctx.with_config(hr_in_team_a(MethodRemoval::SuspendRemoveRole));
        assert_eq!(
            all_lines(&reconcile_all(&ctx, &mut host)),
            [
                "suspend #13: left segment HR",
                "remove the role of #13: left segment HR",
                "remove the role of #14: left segment HR",
            ]
        );
        assert!(reconcile_all(&ctx, &mut host).iter().all(Plan::is_empty));
    }

    #[test]
    fn a_group_change_moves_only_the_methods_own_memberships() {
        // The method used to put HR in Team A; now Team B. ADA was added
        // by hand to Mentors and BOB by hand to Team A; DEE is grouped by
        // another method.
        let mut host = site()
            .group(7, "Mentors")
            .enrolled(ADA, METHOD, Role::Learner)
            .enrolled(BOB, METHOD, Role::Learner)
            .enrolled(DEE, 9, Role::Learner)
            .member(TEAM_A, ADA, MembershipOwner::Method(METHOD))
            .member(7, ADA, MembershipOwner::Manual)
            .member(TEAM_A, BOB, MembershipOwner::Manual)
            .member(TEAM_A, DEE, MembershipOwner::Method(9));
        let ctx = ctx(hr_into(GroupChoice::Existing(TEAM_B)));
        assert_eq!(
            all_lines(&reconcile_all(&ctx, &mut host)),
            [
                "add #10 to group #4: member of segment HR",
                "add #11 to group #4: member of segment HR",
                "remove #10 from group #3: group Team A is no longer the group of segment HR",
            ]
        );
        assert_eq!(
            host.memberships,
            [
                ((TEAM_A, BOB), MembershipOwner::Manual),
                ((TEAM_A, DEE), MembershipOwner::Method(9)),
                ((TEAM_B, ADA), MembershipOwner::Method(METHOD)),
                ((TEAM_B, BOB), MembershipOwner::Method(METHOD)),
                ((7, ADA), MembershipOwner::Manual),
            ]
            .into_iter()
            .collect()
        );
        assert!(reconcile_all(&ctx, &mut host).iter().all(Plan::is_empty));
    }

    #[test]
    fn without_a_group_the_methods_memberships_leave_every_group() {
        let mut host = site()
            .enrolled(ADA, METHOD, Role::Learner)
            .member(TEAM_A, ADA, MembershipOwner::Method(METHOD))
            .member(TEAM_B, ADA, MembershipOwner::Manual);
        let lines = all_lines(&reconcile_all(&ctx(hr()), &mut host));
        assert_eq!(
            lines.last().unwrap(),
            "remove #10 from group #3: group Team A is no longer the group of segment HR"
        );
        assert!(host.memberships.contains_key(&(TEAM_B, ADA)));
    }

    #[test]
    fn the_created_group_is_kept_while_the_method_uses_it() {
        let mut host = site()
            .group(8, "HR segment")
            .created_group(METHOD, GROUP_KEY, 8)
            .enrolled(ADA, METHOD, Role::Learner)
            .member(8, ADA, MembershipOwner::Method(METHOD));
        let ctx = ctx(hr_into(GroupChoice::New));
        assert_eq!(
            all_lines(&reconcile_all(&ctx, &mut host)),
            [
                "enrol #11 as learner: member of segment HR",
                "add #11 to group #8: member of segment HR",
            ]
        );
    }

    #[test]
    fn thousands_of_members_are_synced_page_by_page_and_converge() {
        // 2,500 members, every 100th account suspended; about a hundred
        // former members still enrolled, interleaved; a few members in
        // another group by hand.
        let mut host = MockHost::new().only(&SegmentSync::manifest().capabilities);
        let mut members = Vec::new();
        for id in 1..=2_800u64 {
            host = if id % 100 == 0 {
                host.suspended_user(id, &format!("u{id}"))
            } else {
                host.user(id, &format!("u{id}"))
            };
            if id % 28 == 0 && id % 100 != 0 {
                host = host.enrolled(id, METHOD, Role::Learner);
            } else if members.len() < 2_500 {
                members.push(id);
            }
        }
        let member_set: BTreeSet<UserId> = members.iter().copied().collect();
        host = host.segment(HR, "HR", members.iter().copied());
        for id in [1, 501, 1_999] {
            host = host
                .enrolled(id, 9, Role::Learner)
                .member(TEAM_A, id, MembershipOwner::Manual);
        }
        let mut host = host.group(TEAM_A, "Team A");
        let ctx = ctx(hr_into(GroupChoice::New));

        let pages = reconcile_all(&ctx, &mut host);
        assert!(pages.len() >= 3, "{} pages", pages.len());
        assert!(pages.len() <= 12, "{} pages", pages.len());

        // Suspended accounts (every hundredth) are enrolled and grouped
        // like any other.
        let active = members.len();
        let group = host.method_group(GROUP_KEY).unwrap().unwrap();
        for (&(user, method), e) in &host.enrolments {
            if method != METHOD {
                continue;
            }
            assert!(member_set.contains(&user), "#{user} was not unenrolled");
            assert_eq!(e.status, EnrolmentStatus::Active);
        }
        assert_eq!(host.method_enrolment_count().unwrap(), active as u64);
        let grouped = host.memberships.keys().filter(|(g, _)| *g == group).count();
        assert_eq!(grouped, active);
        assert_eq!(
            host.memberships[&(TEAM_A, 501)],
            MembershipOwner::Manual,
            "a manual membership is left alone"
        );

        let again = reconcile_all(&ctx, &mut host);
        assert!(again.iter().all(Plan::is_empty), "converged");
    }

    #[test]
    fn a_step_is_a_thousand_members_so_5_000_take_about_5_steps() {
        // (100,000 take about 100 steps the same way; the mock host is too
        // slow at applying plans to run that here.)
        let mut host = MockHost::new().only(&SegmentSync::manifest().capabilities);
        for id in 1..=5_000u64 {
            host = host.user(id, "u");
        }
        let mut host = host.segment(HR, "HR", 1..=5_000);
        let ctx = ctx(hr_into(GroupChoice::New));
        let pages = reconcile_all(&ctx, &mut host);
        assert!(pages.len() <= 6, "{} steps", pages.len());
        assert_eq!(host.method_enrolment_count().unwrap(), 5_000);
        let again = reconcile_all(&ctx, &mut host);
        assert!(again.len() <= 6, "{} steps", again.len());
        assert!(again.iter().all(Plan::is_empty));
    }

    #[test]
    fn many_enrolments_between_few_members_still_page_by_page() {
        // 3 members spread over 2,500 former members' enrolments: the
        // member page covers them all, the enrolment pages do not.
        let mut host = MockHost::new().only(&SegmentSync::manifest().capabilities);
        for id in 1..=2_503u64 {
            host = host.user(id, "u");
        }
        for id in 1..=2_500u64 {
            host = host.enrolled(id, METHOD, Role::Learner);
        }
        let mut host = host.segment(HR, "HR", [1, 1_800, 2_503]);
        let ctx = site_default(ctx(hr()), "suspend");
        let pages = reconcile_all(&ctx, &mut host);
        let lines = all_lines(&pages);
        assert_eq!(
            lines.iter().filter(|l| l.starts_with("suspend")).count(),
            2_498
        );
        assert!(lines.contains(&"enrol #2503 as learner: member of segment HR".to_owned()));
        assert!(reconcile_all(&ctx, &mut host).iter().all(Plan::is_empty));
    }

    #[test]
    fn a_reconcile_that_finds_the_segment_gone_does_what_its_deletion_does() {
        let mut host = site().enrolled(ADA, METHOD, Role::Learner);
        host.segments.remove(&HR);
        assert_eq!(
            all_lines(&reconcile_all(&ctx(hr()), &mut host)),
            ["delete this method: its segment #5 no longer exists"]
        );

        // 1,500 enrolments to suspend: two pages, disabled once.
        let mut host = MockHost::new().only(&SegmentSync::manifest().capabilities);
        for id in 1..=1_500u64 {
            host = host.user(id, "u").enrolled(id, METHOD, Role::Learner);
        }
        let ctx = ctx(hr_removing(MethodRemoval::Suspend));
        let pages = reconcile_all(&ctx, &mut host);
        assert_eq!(pages.len(), 2);
        assert_eq!(
            pages[0].lines()[0],
            "disable this method: its segment #5 no longer exists"
        );
        assert_eq!(pages[0].actions.len(), 1_001);
        assert_eq!(pages[1].actions.len(), 500);
        assert!(
            host.enrolments
                .values()
                .all(|e| e.status == EnrolmentStatus::Suspended)
        );
    }

    #[test]
    fn a_disabled_method_whose_segment_is_gone_is_suspended_not_deleted() {
        let mut host = site().enrolled(ADA, METHOD, Role::Learner);
        host.segments.remove(&HR);
        assert_eq!(
            all_lines(&reconcile_all(&disabled(ctx(hr())), &mut host)),
            ["suspend #10: its segment #5 no longer exists"]
        );
        assert!(!host.deleted.contains(&METHOD));
    }

    #[test]
    fn a_disabled_method_is_left_alone() {
        let mut host = site();
        assert!(
            reconcile_all(&disabled(ctx(hr())), &mut host)
                .iter()
                .all(Plan::is_empty)
        );
        assert!(host.enrolments.is_empty());
    }

    #[test]
    fn a_cursor_it_did_not_make_is_refused() {
        for cursor in ["zz", "m:abc", "g:1:x", "q:1"] {
            let refusal =
                SegmentSync::reconcile(&ctx(hr()), Some(cursor.into()), &site()).unwrap_err();
            assert_eq!(refusal.code, "bad-cursor");
        }
    }

    #[test]
    fn cursors_read_back_as_written() {
        for cursor in [
            Cursor::Members(None),
            Cursor::Members(Some(7)),
            Cursor::Groups(None, None),
            Cursor::Groups(Some(3), None),
            Cursor::Groups(Some(3), Some(9)),
            Cursor::Orphaned(Some(4)),
        ] {
            assert_eq!(Cursor::parse(Some(&cursor.encode())).unwrap(), Some(cursor));
        }
    }

    #[test]
    fn a_reconcile_converges_to_the_live_path() {
        // The same site, brought in line by events and by a reconcile.
        let ctx = ctx(hr_into(GroupChoice::New));
        // Added while the segment was empty (its reconcile makes the
        // group), then joined one by one.
        let mut live = site().segment(HR, "HR", []);
        reconcile_all(&ctx, &mut live);
        let mut live = live.segment(HR, "HR", [ADA, BOB, CY]);
        for user in [ADA, BOB, CY] {
            event_applied(&ctx, joined(user, HR), &mut live);
        }
        let mut reconciled = with_cy();
        reconcile_all(&ctx, &mut reconciled);
        assert_eq!(live.enrolments, reconciled.enrolments);
        assert_eq!(live.memberships, reconciled.memberships);
        assert_eq!(live.groups, reconciled.groups);
    }
}
