//! Rule-based segments: a segment-rule plugin (the bundled
//! `profile-field-rules`) manages a segment's members, live on user events,
//! with a reconcile and a dry run, as the rule's own principal.

use serde_json::json;

use crate::domain::*;
use crate::services::error::ServiceError;
use crate::services::queries::SiteView;
use crate::services::segments::NewSegment;
use crate::services::testing::TestSite;
use crate::storage::site::prelude::*;

const HR: &str = "profile.department equals HR";
const FINANCE: &str = "profile.department equals Finance";

/// The fixture with learners 1–3 in HR and 4–5 in Finance by department.
fn departments() -> TestSite {
    let fx = TestSite::new();
    for (i, &l) in fx.learners.iter().enumerate() {
        fx.set_department(l, if i < 3 { "HR" } else { "Finance" });
    }
    fx
}

fn members(fx: &TestSite, segment: SegmentId) -> Vec<UserId> {
    fx.site
        .read(|t| Ok(t.segment_member_ids(segment, None, 1000)?))
        .unwrap()
}

fn drain(fx: &TestSite) {
    while fx.site.dispatch_pending().unwrap().events > 0 {}
}

fn new_segment(fx: &TestSite, name: &str) -> SegmentId {
    fx.site
        .create_segment(
            &fx.admin,
            NewSegment {
                name: name.into(),
                ..Default::default()
            },
        )
        .unwrap()
        .id
}

#[test]
fn a_rule_fills_its_segment_and_its_changes_are_audited_as_the_rule() {
    let fx = departments();
    let hr = fx.rule_segment("HR people", HR);
    assert_eq!(members(&fx, hr), fx.learners[..3]);
    let segment = fx.site.get_segment(&fx.admin, hr).unwrap().segment;
    assert_eq!(segment.managed_by.as_deref(), Some("profile-field-rules"));
    let rule = fx.site.segment_rule(&fx.admin, hr).unwrap().unwrap();
    assert_eq!(rule.plugin_name, "Profile field rules");
    let run = rule.rule.last_run.unwrap();
    assert_eq!(
        (run.trigger.as_str(), run.joined, run.left),
        ("reconcile", 3, 0)
    );
    assert_eq!(run.error, None);
    let log = fx
        .site
        .audit_log(&fx.admin, &Default::default(), None, 100)
        .unwrap();
    let added: Vec<&AuditEntry> = log
        .items
        .iter()
        .filter(|e| {
            e.action == "segment.member_added" && e.target.ends_with(&format!(" in segment #{hr}"))
        })
        .collect();
    assert_eq!(added.len(), 3, "{added:?}");
    assert!(
        added.iter().all(|e| e.actor == Actor::Rule(hr)),
        "{added:?}"
    );
    assert!(
        added[0].reason.contains("department equals HR"),
        "{}",
        added[0].reason
    );
    assert!(log.items.iter().any(|e| e.action == "segment.rule_set"));
}

#[test]
fn a_managed_segment_refuses_changes_by_hand() {
    let fx = departments();
    let hr = fx.rule_segment("HR people", HR);
    for refused in [
        fx.site
            .add_segment_members(&fx.admin, hr, &[fx.learners[4]]),
        fx.site
            .remove_segment_members(&fx.admin, hr, &[fx.learners[0]]),
    ] {
        assert!(
            matches!(&refused, Err(ServiceError::Conflict(m)) if m.contains("profile-field-rules")),
            "{refused:?}"
        );
    }
    assert_eq!(members(&fx, hr), fx.learners[..3]);
}

#[test]
fn a_bad_rule_is_refused_naming_the_field_and_the_line() {
    let fx = departments();
    let segment = new_segment(&fx, "Typos");
    let before = fx.snapshot();
    let refused = fx.site.set_segment_rule(
        &fx.admin,
        segment,
        "profile-field-rules",
        &json!({"match": "all", "rule": "profile.department equals HR\nprofile.city equal Paris"}),
    );
    let Err(ServiceError::ConfigRejected { errors, .. }) = refused else {
        panic!("{refused:?}");
    };
    assert_eq!(errors[0].field, "rule");
    assert!(errors[0].message.starts_with("line 2:"), "{errors:?}");
    // A value of the wrong kind is the host's to name, before the plugin.
    let refused = fx.site.set_segment_rule(
        &fx.admin,
        segment,
        "profile-field-rules",
        &json!({"match": "most", "rule": HR}),
    );
    let Err(ServiceError::ConfigRejected { errors, .. }) = refused else {
        panic!("{refused:?}");
    };
    assert_eq!(errors[0].field, "match");
    fx.assert_unchanged(&before);
}

#[test]
fn a_dry_run_lists_who_would_join_and_leave_with_why_and_changes_nothing() {
    let fx = departments();
    let hr = fx.rule_segment("HR people", HR);
    fx.site
        .set_segment_rule_enabled(&fx.admin, hr, false)
        .unwrap();
    // While paused, the rule hears nothing of these.
    fx.set_department(fx.learners[0], "Finance");
    fx.set_department(fx.learners[4], "HR");
    drain(&fx);
    assert_eq!(members(&fx, hr), fx.learners[..3]);
    let before = fx.snapshot();
    let outcome = fx.site.run_segment_rule(&fx.admin, hr, true).unwrap();
    assert_eq!(
        outcome.joined.iter().map(|c| c.user).collect::<Vec<_>>(),
        [fx.learners[4]]
    );
    assert_eq!(
        outcome.left.iter().map(|c| c.user).collect::<Vec<_>>(),
        [fx.learners[0]]
    );
    assert!(outcome.left[0].reason.starts_with("no longer matches"));
    assert!(outcome.refused.is_empty());
    fx.assert_unchanged(&before);
    // Resuming catches up with what changed meanwhile.
    fx.site
        .set_segment_rule_enabled(&fx.admin, hr, true)
        .unwrap();
    assert_eq!(
        members(&fx, hr),
        [fx.learners[1], fx.learners[2], fx.learners[4]]
    );
}

#[test]
fn a_department_change_moves_the_user_between_rule_segments_and_their_synced_groups() {
    let fx = departments();
    let hr = fx.rule_segment("HR people", HR);
    let finance = fx.rule_segment("Finance people", FINANCE);
    let sync = |segment: SegmentId| {
        fx.site
            .add_method(
                &fx.admin,
                fx.course,
                crate::services::enrolments::NewMethod {
                    plugin: "segment-sync".into(),
                    name: String::new(),
                    config: json!({"segment": segment.0, "group": "new"}),
                    enabled: true,
                },
            )
            .unwrap()
    };
    sync(hr);
    sync(finance);
    drain(&fx);
    let group_of = |name: &str| {
        fx.site
            .read(|t| Ok(t.course_group_list(fx.course)?))
            .unwrap()
            .into_iter()
            .find(|g| g.name.contains(name))
            .unwrap_or_else(|| panic!("no group named after {name}"))
            .id
    };
    let (hr_group, finance_group) = (group_of("HR people"), group_of("Finance people"));
    let in_group = |group: CourseGroupId, user: UserId| {
        fx.site
            .read(|t| Ok(t.group_membership(group, user)?.is_some()))
            .unwrap()
    };
    let mover = fx.learners[0];
    assert!(in_group(hr_group, mover) && !in_group(finance_group, mover));

    fx.set_department(mover, "Finance");
    drain(&fx);

    assert!(!members(&fx, hr).contains(&mover));
    assert!(members(&fx, finance).contains(&mover));
    assert!(!in_group(hr_group, mover), "left the HR group");
    assert!(in_group(finance_group, mover), "joined the Finance group");
    let run = fx
        .site
        .segment_rule(&fx.admin, finance)
        .unwrap()
        .unwrap()
        .rule
        .last_run
        .unwrap();
    assert_eq!((run.trigger.as_str(), run.joined), ("event", 1));
    // A change of name only asks the rules nothing that moves anyone.
    let before_members = (members(&fx, hr), members(&fx, finance));
    fx.site
        .update_user(
            &fx.admin,
            mover,
            crate::services::users::UserUpdate {
                firstname: Some("Renamed".into()),
                ..Default::default()
            },
        )
        .unwrap();
    drain(&fx);
    assert_eq!((members(&fx, hr), members(&fx, finance)), before_members);
}

#[test]
fn a_new_user_who_matches_joins_at_once() {
    let fx = departments();
    let hr = fx.rule_segment("HR people", HR);
    let newcomer = fx
        .site
        .create_user(
            &fx.admin,
            crate::services::users::NewUser {
                username: "newcomer".into(),
                email: "newcomer@example.org".into(),
                firstname: "New".into(),
                lastname: "Comer".into(),
                profile: [("department".to_owned(), "hr".to_owned())].into(),
                ..Default::default()
            },
        )
        .unwrap()
        .id;
    drain(&fx);
    assert!(
        members(&fx, hr).contains(&newcomer),
        "comparisons ignore case"
    );
}

#[test]
fn rule_and_enrolment_method_plugins_are_not_interchangeable() {
    let fx = departments();
    let segment = new_segment(&fx, "Wrong kind");
    let refused = fx.site.set_segment_rule(
        &fx.admin,
        segment,
        "segment-sync",
        &json!({"segment": fx.hr.0}),
    );
    assert!(
        matches!(&refused, Err(ServiceError::Invalid { field: "plugin", message }) if message.contains("not a segment rule")),
        "{refused:?}"
    );
    let refused = fx.site.add_method(
        &fx.admin,
        fx.course,
        crate::services::enrolments::NewMethod {
            plugin: "profile-field-rules".into(),
            name: String::new(),
            config: json!({"rule": HR}),
            enabled: true,
        },
    );
    assert!(
        matches!(&refused, Err(ServiceError::Invalid { field: "plugin", message }) if message.contains("segment rule")),
        "{refused:?}"
    );
    let offered: Vec<String> = fx
        .site
        .rule_plugins(&fx.admin)
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(offered, ["profile-field-rules"]);
}

#[test]
fn a_rule_sees_users_and_its_own_segment_only() {
    use crate::runtime::contract::HostError;
    let fx = departments();
    let hr = fx.rule_segment("HR people", HR);
    let plugin = fx.site.plugin("profile-field-rules").unwrap();
    let (mut q, _) = fx.site.rule_call_inputs(hr, &plugin).unwrap();
    assert_eq!(q.segment_members(hr, None, 10).unwrap().items.len(), 3);
    assert!(matches!(
        q.segment_members(fx.finance, None, 10),
        Err(HostError::OutOfScope(_))
    ));
    assert!(matches!(
        q.is_segment_member(fx.hr, fx.learners[0]),
        Err(HostError::OutOfScope(_))
    ));
    assert!(matches!(q.course_groups(), Err(HostError::OutOfScope(_))));
    assert!(matches!(
        q.user_enrolments(fx.learners[0]),
        Err(HostError::OutOfScope(_))
    ));
    assert_eq!(q.list_users(None, 1000).unwrap().items.len(), 7);
    // A method's queries are as they were.
    let m = fx.site.read(|t| Ok(t.method(fx.manual)?.unwrap())).unwrap();
    let manual = fx.site.plugin("manual").unwrap();
    let (mut mq, _, _) = fx
        .site
        .method_call_inputs_in(&m, &manual, SiteView::AsIs)
        .unwrap();
    assert!(mq.course_groups().is_ok());
}

#[test]
fn removing_the_rule_keeps_the_members_and_frees_the_segment() {
    let fx = departments();
    let hr = fx.rule_segment("HR people", HR);
    fx.site.remove_segment_rule(&fx.admin, hr).unwrap();
    assert_eq!(members(&fx, hr), fx.learners[..3]);
    assert_eq!(fx.site.segment_rule(&fx.admin, hr).unwrap(), None);
    fx.site
        .add_segment_members(&fx.admin, hr, &[fx.learners[4]])
        .unwrap();
    fx.set_department(fx.learners[0], "Finance");
    drain(&fx);
    assert!(
        members(&fx, hr).contains(&fx.learners[0]),
        "no rule moves anyone now"
    );
}

#[test]
fn deleting_a_managed_segment_deletes_its_rule() {
    let fx = departments();
    let hr = fx.rule_segment("HR people", HR);
    fx.site.delete_segment(&fx.admin, hr).unwrap();
    assert!(
        fx.site
            .read(|t| Ok(t.all_segment_rules()?))
            .unwrap()
            .is_empty()
    );
    fx.set_department(fx.learners[4], "HR");
    let report = fx.site.dispatch_pending().unwrap();
    assert_eq!(report.errors, 0);
}

#[test]
fn a_rule_plan_is_applied_whole_or_not_at_all() {
    let fx = departments();
    let hr = fx.rule_segment("HR people", HR);
    let rule = fx.site.read(|t| Ok(t.segment_rule(hr)?.unwrap())).unwrap();
    // A plan naming a user who does not exist changes nothing, not even
    // the actions before it, and is recorded as the rule's failure.
    let before = members(&fx, hr);
    let plan = SegmentPlan {
        actions: vec![
            SegmentAction {
                op: SegmentOp::Remove(fx.learners[0]),
                reason: "test".into(),
            },
            SegmentAction {
                op: SegmentOp::Add(UserId(9999)),
                reason: "test".into(),
            },
        ],
    };
    let refused = fx.site.apply_rule_plan_for_test(&rule, &plan);
    assert!(
        matches!(&refused, Err(ServiceError::PluginFailed { message, .. }) if message.contains("#9999")),
        "{refused:?}"
    );
    assert_eq!(members(&fx, hr), before);
}

#[test]
fn only_site_admins_of_the_site_manage_rules() {
    let (a, b) = TestSite::two_sites();
    let hr = a.rule_segment("HR people", HR);
    let config = json!({"rule": HR});
    // Site b's admin is a principal of another site: nothing of a.
    for who in [&b.admin, &a.teacher, &a.learner(0)] {
        assert!(a.site.segment_rule(who, hr).is_err());
        assert!(
            a.site
                .set_segment_rule(who, hr, "profile-field-rules", &config)
                .is_err()
        );
        assert!(a.site.run_segment_rule(who, hr, true).is_err());
        assert!(a.site.set_segment_rule_enabled(who, hr, false).is_err());
        assert!(a.site.remove_segment_rule(who, hr).is_err());
        assert!(a.site.rule_plugins(who).is_err());
    }
    assert!(a.site.segment_rule(&a.admin, hr).unwrap().is_some());
}

#[test]
fn a_plugin_s_calls_are_counted_for_the_operator() {
    let fx = departments();
    let hr = fx.rule_segment("HR people", HR);
    fx.site.run_segment_rule(&fx.admin, hr, true).unwrap();
    let stats = fx
        .services
        .plugin_call_stats(&fx.operator, "profile-field-rules")
        .unwrap();
    let (version, s) = &stats[0];
    assert_eq!(version, "0.1.0");
    // validate, the first run's page and the dry run's page at least.
    assert!(s.calls >= 3, "{s:?}");
    assert_eq!(s.failures, 0);
    assert!(s.longest >= s.mean() && s.longest > std::time::Duration::ZERO);
    assert!(
        fx.services
            .plugin_call_stats(&fx.admin, "profile-field-rules")
            .is_err()
    );
}
