//! Profile field rules, rule by rule, against the mock host.

use std::collections::BTreeSet;

use super::*;
use charon_sdk::mock::MockHost;

const SEGMENT: SegmentId = 7;
const ADA: UserId = 10;
const BOB: UserId = 11;
const CY: UserId = 12;

fn config(matching: Match, rule: &str) -> Config {
    Config {
        matching,
        rule: rule.into(),
    }
}

fn ctx(matching: Match, rule: &str) -> RuleContext<Config> {
    RuleContext {
        segment: SEGMENT,
        config: config(matching, rule),
        settings: Default::default(),
        now: 0,
    }
}

/// As the real host: only the manifest's capabilities.
fn only_declared(host: MockHost) -> MockHost {
    host.only(&ProfileFieldRules::manifest().capabilities)
}

/// ADA is in HR at acme, BOB in Sales at acme, CY in HR elsewhere; BOB is
/// already a member of the segment.
fn site() -> MockHost {
    only_declared(
        MockHost::new()
            .user(ADA, "ada")
            .email(ADA, "ada@acme.example")
            .profile(ADA, "department", "HR")
            .user(BOB, "bob")
            .email(BOB, "bob@acme.example")
            .profile(BOB, "department", "Sales")
            .user(CY, "cy")
            .email(CY, "cy@elsewhere.example")
            .profile(CY, "department", "hr")
            .segment(SEGMENT, "Acme HR", [BOB]),
    )
}

/// Applies a segment plan to the mock, as the host does.
fn apply(host: &mut MockHost, plan: &SegmentPlan) {
    let (_, members) = host
        .segments
        .entry(SEGMENT)
        .or_insert_with(|| ("segment".into(), BTreeSet::new()));
    for action in &plan.actions {
        match action.op {
            SegmentOperation::Add(user) => members.insert(user),
            SegmentOperation::Remove(user) => members.remove(&user),
        };
    }
}

fn members(host: &MockHost) -> BTreeSet<UserId> {
    host.segments
        .get(&SEGMENT)
        .map(|(_, m)| m.clone())
        .unwrap_or_default()
}

// --- Manifest and validation ---------------------------------------------

#[test]
fn the_manifest_describes_the_form() {
    let m = ProfileFieldRules::manifest();
    assert_eq!(
        (m.id.as_str(), m.name.as_str(), m.version.as_str()),
        ("profile-field-rules", "Profile field rules", "0.1.0")
    );
    assert!(!m.description.is_empty());
    assert_eq!(
        m.capabilities,
        [Capability::ReadUsers, Capability::ReadSegments]
    );
    assert_eq!(m.events, [EventKind::UserCreated, EventKind::UserUpdated]);
    let keys: Vec<&str> = m.config.iter().map(|f| f.key.as_str()).collect();
    assert_eq!(keys, ["match", "rule"]);
    let matching = &m.config[0];
    assert_eq!(matching.default.as_deref(), Some(r#""all""#));
    let FieldKind::Choice(choices) = &matching.kind else {
        panic!("match is a choice: {:?}", matching.kind);
    };
    assert_eq!(
        choices,
        &[
            Choice::new("all", "All conditions (all of)"),
            Choice::new("any", "Any condition (any of)"),
        ]
    );
    // Each choice and the default are values the config takes.
    for json in choices
        .iter()
        .map(|c| format!("{:?}", c.value))
        .chain(matching.default.clone())
    {
        let config = format!(r#"{{"match": {json}, "rule": "site-role equals admin"}}"#);
        assert!(serde_json::from_str::<Config>(&config).is_ok(), "{config}");
    }
    let rule = &m.config[1];
    assert_eq!(rule.kind, FieldKind::Multiline);
    assert!(rule.required);
    assert!(rule.help.contains("profile.<field>") && rule.help.contains("Example"));
}

/// Checks a config as the host does: parse the JSON, then validate.
fn validate(json: &str) -> Result<Config, Vec<FieldError>> {
    let config: Config =
        serde_json::from_str(json).map_err(|e| vec![FieldError::new("", e.to_string())])?;
    ProfileFieldRules::validate(SEGMENT, &config, &site())?;
    Ok(config)
}

#[test]
fn validates_a_rule() {
    let config = validate(r#"{"rule": "profile.department equals HR"}"#).expect("valid");
    assert_eq!(config.matching, Match::All);
    assert_eq!(
        serde_json::to_string(&config).expect("serialises"),
        r#"{"match":"all","rule":"profile.department equals HR"}"#
    );
    let config = validate(r#"{"match": "any", "rule": "site-role equals admin"}"#).expect("valid");
    assert_eq!(config.matching, Match::Any);
}

#[test]
fn validation_reports_every_line() {
    let errors =
        validate(r#"{"rule": "dept equals HR\nemail-domain equals"}"#).expect_err("invalid");
    assert_eq!(
        errors,
        [
            FieldError::new(
                "rule",
                "line 1: unknown subject \"dept\"; use profile.<field>, email-domain or site-role"
            ),
            FieldError::new("rule", "line 2: \"equals\" needs a value"),
        ]
    );
    assert_eq!(
        validate(r#"{"rule": "  "}"#).expect_err("invalid"),
        [FieldError::new("rule", "write at least one condition")]
    );
}

#[test]
fn the_config_refuses_unknown_keys_and_matches() {
    for json in [
        r#"{"rule": "site-role equals admin", "extra": 1}"#,
        r#"{"match": "some", "rule": "site-role equals admin"}"#,
        r#"{"match": "all"}"#,
    ] {
        assert!(serde_json::from_str::<Config>(json).is_err(), "{json}");
    }
}

// --- Events --------------------------------------------------------------

const HR_AT_ACME: &str = "profile.department equals HR\nemail-domain equals acme.example";
const IN: &str = "matches: department equals HR and e-mail domain equals acme.example";
const OUT: &str = "no longer matches: department equals HR and e-mail domain equals acme.example";

fn event(host: &MockHost, event: Event) -> Vec<String> {
    ProfileFieldRules::handle_event(&ctx(Match::All, HR_AT_ACME), event, host)
        .expect("the event is handled")
        .lines()
}

fn updated(user: UserId, changes: UserChanges) -> Event {
    Event::UserUpdated(UserUpdate { user, changes })
}

#[test]
fn a_created_user_who_matches_is_added() {
    assert_eq!(
        event(&site(), Event::UserCreated(ADA)),
        [format!("add #{ADA} ({IN})")]
    );
}

#[test]
fn a_created_user_who_does_not_match_is_not() {
    assert!(event(&site(), Event::UserCreated(CY)).is_empty());
    assert!(event(&site(), Event::UserCreated(BOB)).is_empty());
    // Deleted before the event was handled.
    assert!(event(&site(), Event::UserCreated(99)).is_empty());
}

#[test]
fn an_updated_user_who_now_matches_is_added() {
    let host = only_declared(site().profile(BOB, "department", "hr").segment(
        SEGMENT,
        "Acme HR",
        [],
    ));
    assert_eq!(
        event(&host, updated(BOB, UserChanges::PROFILE)),
        [format!("add #{BOB} ({IN})")]
    );
    let host = only_declared(site().email(CY, "cy@ACME.example"));
    assert_eq!(
        event(&host, updated(CY, UserChanges::EMAIL | UserChanges::NAME)),
        [format!("add #{CY} ({IN})")]
    );
}

#[test]
fn an_updated_member_who_no_longer_matches_is_removed() {
    // BOB is a member but in Sales.
    assert_eq!(
        event(&site(), updated(BOB, UserChanges::PROFILE)),
        [format!("remove #{BOB} ({OUT})")]
    );
    let host = only_declared(site().email(BOB, "bob@elsewhere.example"));
    assert_eq!(
        event(&host, updated(BOB, UserChanges::EMAIL)),
        [format!("remove #{BOB} ({OUT})")]
    );
}

#[test]
fn an_update_that_changes_nothing_plans_nothing() {
    // Matches and is a member already.
    let host = only_declared(site().segment(SEGMENT, "Acme HR", [ADA]));
    assert!(event(&host, updated(ADA, UserChanges::PROFILE)).is_empty());
    // Does not match and is not a member.
    assert!(event(&site(), updated(CY, UserChanges::PROFILE)).is_empty());
    // Deleted since.
    assert!(event(&site(), updated(99, UserChanges::EMAIL)).is_empty());
}

#[test]
fn a_change_of_name_or_username_asks_nothing() {
    // No capability: any query would fail the call.
    let host = site().only(&[]);
    for changes in [
        UserChanges::NAME,
        UserChanges::USERNAME,
        UserChanges::NAME | UserChanges::USERNAME,
        UserChanges::empty(),
    ] {
        assert!(
            event(&host, updated(BOB, changes)).is_empty(),
            "{changes:?}"
        );
    }
    assert!(
        ProfileFieldRules::handle_event(
            &ctx(Match::All, HR_AT_ACME),
            updated(BOB, UserChanges::PROFILE),
            &host
        )
        .is_err()
    );
}

#[test]
fn a_change_of_site_role_is_followed() {
    let rule = ctx(Match::Any, "site-role equals admin");
    let mut host = site();
    host.users.entry(CY).and_modify(|u| u.site_admin = true);
    let plan = ProfileFieldRules::handle_event(&rule, updated(CY, UserChanges::SITE_ROLE), &host)
        .expect("handled");
    assert_eq!(
        plan.lines(),
        [format!("add #{CY} (matches: site role equals admin)")]
    );
    let plan = ProfileFieldRules::handle_event(&rule, updated(BOB, UserChanges::SITE_ROLE), &host)
        .expect("handled");
    assert_eq!(
        plan.lines(),
        [format!(
            "remove #{BOB} (no longer matches: site role equals admin)"
        )]
    );
}

#[test]
fn other_events_plan_nothing() {
    for e in [
        Event::UserDeleted(BOB),
        Event::UserSuspended(ADA),
        Event::SegmentDeleted(SEGMENT),
        Event::MethodUpdated,
    ] {
        assert!(event(&site(), e).is_empty(), "{e:?}");
    }
}

#[test]
fn a_stored_rule_that_no_longer_parses_is_refused() {
    let refusal = ProfileFieldRules::handle_event(
        &ctx(Match::All, "dept equals HR"),
        Event::UserCreated(ADA),
        &site(),
    )
    .expect_err("refused");
    assert_eq!(refusal.code, "invalid-rule");
    assert!(
        refusal.message.contains("line 1: unknown subject"),
        "{}",
        refusal.message
    );
    let refusal =
        ProfileFieldRules::reconcile(&ctx(Match::All, ""), None, &site()).expect_err("refused");
    assert_eq!(refusal.code, "invalid-rule");
}

// --- Reconcile -----------------------------------------------------------

/// Runs a whole reconcile, checking each step's size and cursor; returns
/// the plans.
fn reconcile_all(host: &dyn Host, rule: &RuleContext<Config>) -> Vec<SegmentPlan> {
    let mut plans = Vec::new();
    let mut cursor = None;
    loop {
        let step = ProfileFieldRules::reconcile(rule, cursor.clone(), host).expect("reconciles");
        assert!(step.plan.actions.len() <= PAGE as usize);
        plans.push(step.plan);
        match step.next {
            Some(next) => {
                assert_ne!(Some(&next), cursor.as_ref(), "the cursor moves on");
                cursor = Some(next);
            }
            None => return plans,
        }
        assert!(plans.len() < 100, "the reconcile ends");
    }
}

/// 2,500 users with ids 5, 8, 11, … (gaps between them): every
/// third one works in HR. The segment holds every fifth user.
fn big_site() -> (MockHost, BTreeSet<UserId>) {
    let ids: Vec<UserId> = (0..2500).map(|i| 5 + 3 * i).collect();
    let mut host = MockHost::new();
    let mut hr = BTreeSet::new();
    for (i, id) in ids.iter().enumerate() {
        let department = if i % 3 == 0 { "HR" } else { "Sales" };
        host = host
            .user(*id, &format!("u{id}"))
            .profile(*id, "department", department);
        if i % 3 == 0 {
            hr.insert(*id);
        }
    }
    let members = ids.iter().step_by(5).copied();
    (only_declared(host.segment(SEGMENT, "HR", members)), hr)
}

#[test]
fn reconcile_pages_through_the_site() {
    let (mut host, hr) = big_site();
    let before = members(&host);
    let rule = ctx(Match::All, "profile.department equals hr");
    let plans = reconcile_all(&host, &rule);
    assert_eq!(plans.len(), 3, "pages of 1,000, 1,000 and 500 users");

    let mut added = BTreeSet::new();
    let mut removed = BTreeSet::new();
    for plan in &plans {
        for action in &plan.actions {
            match action.op {
                SegmentOperation::Add(u) => {
                    assert_eq!(action.reason, "matches: department equals hr");
                    added.insert(u);
                }
                SegmentOperation::Remove(u) => {
                    assert_eq!(action.reason, "no longer matches: department equals hr");
                    removed.insert(u);
                }
            }
        }
    }
    assert_eq!(added, &hr - &before, "matching users who were not members");
    assert_eq!(removed, &before - &hr, "members who do not match");
    assert!(!added.is_empty() && !removed.is_empty());

    for plan in &plans {
        apply(&mut host, plan);
    }
    assert_eq!(members(&host), hr);
    // Once applied, there is nothing left to do.
    assert!(
        reconcile_all(&host, &rule)
            .iter()
            .all(SegmentPlan::is_empty)
    );
}

#[test]
fn reconcile_cursors_are_the_last_user_of_each_page() {
    let (host, _) = big_site();
    let rule = ctx(Match::All, "profile.department equals HR");
    let first = ProfileFieldRules::reconcile(&rule, None, &host).expect("reconciles");
    let last_of_first = 5 + 3 * 999;
    assert_eq!(first.next, Some(last_of_first.to_string()));
    let second = ProfileFieldRules::reconcile(&rule, first.next, &host).expect("reconciles");
    assert_eq!(second.next, Some((5 + 3 * 1999).to_string()));
    let third = ProfileFieldRules::reconcile(&rule, second.next, &host).expect("reconciles");
    assert_eq!(third.next, None);
    // Past the last user: done, with nothing to do.
    let after =
        ProfileFieldRules::reconcile(&rule, Some("1000000".into()), &host).expect("reconciles");
    assert!(after.plan.is_empty() && after.next.is_none());
}

#[test]
fn reconcile_fills_an_empty_segment_and_empties_a_full_one() {
    let rule = ctx(Match::Any, HR_AT_ACME);
    let mut host = site();
    let plans = reconcile_all(&host, &rule);
    assert_eq!(plans.len(), 1);
    let reason = "matches: department equals HR or e-mail domain equals acme.example";
    assert_eq!(
        plans[0].lines(),
        [
            format!("add #{ADA} ({reason})"),
            format!("add #{CY} ({reason})")
        ]
    );
    apply(&mut host, &plans[0]);
    assert_eq!(members(&host), BTreeSet::from([ADA, BOB, CY]));

    let nobody = ctx(Match::All, "profile.department equals Legal");
    let plans = reconcile_all(&host, &nobody);
    assert_eq!(plans[0].actions.len(), 3);
    apply(&mut host, &plans[0]);
    assert!(members(&host).is_empty());
    assert!(
        reconcile_all(&host, &nobody)
            .iter()
            .all(SegmentPlan::is_empty)
    );
}

#[test]
fn reconcile_of_an_empty_site_is_done_at_once() {
    let host = only_declared(MockHost::new().segment(SEGMENT, "HR", []));
    let step = ProfileFieldRules::reconcile(&ctx(Match::All, HR_AT_ACME), None, &host)
        .expect("reconciles");
    assert!(step.plan.is_empty());
    assert_eq!(step.next, None);
}

#[test]
fn reconcile_refuses_a_cursor_it_did_not_make() {
    for cursor in ["", "abc", "-1", "s:10"] {
        let refusal = ProfileFieldRules::reconcile(
            &ctx(Match::All, HR_AT_ACME),
            Some(cursor.into()),
            &site(),
        )
        .expect_err("refused");
        assert_eq!(refusal.code, "bad-cursor", "{cursor:?}");
    }
}

/// A host whose segment pages are short, to read members on until the
/// range of users is passed.
struct ShortMemberPages(MockHost);

impl Host for ShortMemberPages {
    fn user(&self, id: UserId) -> Result<Option<User>, HostError> {
        Host::user(&self.0, id)
    }
    fn list_users(&self, after: Option<UserId>, limit: u32) -> Result<UserPage, HostError> {
        self.0.list_users(after, limit)
    }
    fn users_by_email_domain(
        &self,
        domain: &str,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<UserPage, HostError> {
        self.0.users_by_email_domain(domain, after, limit)
    }
    fn users_by_profile_field(
        &self,
        field: &str,
        value: &str,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<UserPage, HostError> {
        self.0.users_by_profile_field(field, value, after, limit)
    }
    fn segment_exists(&self, segment: SegmentId) -> Result<Option<String>, HostError> {
        self.0.segment_exists(segment)
    }
    fn segment_members(
        &self,
        segment: SegmentId,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<SegmentMemberPage, HostError> {
        self.0.segment_members(segment, after, limit.min(7))
    }
    fn is_segment_member(&self, segment: SegmentId, user: UserId) -> Result<bool, HostError> {
        self.0.is_segment_member(segment, user)
    }
    fn course_enrolments(
        &self,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<EnrolmentPage, HostError> {
        self.0.course_enrolments(after, limit)
    }
    fn user_enrolments(&self, user: UserId) -> Result<Vec<Enrolment>, HostError> {
        self.0.user_enrolments(user)
    }
    fn method_enrolments(
        &self,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<EnrolmentPage, HostError> {
        self.0.method_enrolments(after, limit)
    }
    fn method_enrolment_count(&self) -> Result<u64, HostError> {
        self.0.method_enrolment_count()
    }
    fn sibling_methods(&self) -> Result<Vec<Sibling>, HostError> {
        self.0.sibling_methods()
    }
    fn course_groups(&self) -> Result<Vec<CourseGroup>, HostError> {
        self.0.course_groups()
    }
    fn group_members(
        &self,
        group: GroupId,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<MemberPage, HostError> {
        self.0.group_members(group, after, limit)
    }
    fn group_membership(
        &self,
        group: GroupId,
        user: UserId,
    ) -> Result<Option<GroupMember>, HostError> {
        self.0.group_membership(group, user)
    }
    fn method_group(&self, key: &str) -> Result<Option<GroupId>, HostError> {
        self.0.method_group(key)
    }
    fn log(&self, level: LogLevel, message: &str) {
        self.0.log(level, message)
    }
}

#[test]
fn reconcile_reads_every_member_page_of_its_range() {
    let (host, hr) = big_site();
    let mut short = ShortMemberPages(host);
    let rule = ctx(Match::All, "profile.department equals HR");
    let plans = reconcile_all(&short, &rule);
    for plan in &plans {
        apply(&mut short.0, plan);
    }
    assert_eq!(members(&short.0), hr);
    assert!(
        reconcile_all(&short, &rule)
            .iter()
            .all(SegmentPlan::is_empty)
    );
}
