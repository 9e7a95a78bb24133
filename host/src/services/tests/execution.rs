//! Executing enrolment methods (issue 4, item 5): plans checked against
//! the method's scope and applied whole or not at all, events reaching
//! the methods that asked, requests authorised before the plugin runs,
//! reconcile, and hostile plugins contained with their error recorded.

use std::time::Duration;

use serde_json::json;

use super::{refusal, refused};
use crate::domain::*;
use crate::runtime::RuntimeConfig;
use crate::services::ServiceError;
use crate::services::enrolments::MethodUpdate;
use crate::services::execution::MethodRequest;
use crate::services::testing::{Audited, TestSite, audited, test_plugin};

const HOSTILE: &str = "charon-test-hostile";

/// A site whose runtime stops plugins quickly: 200 ms, 16 MiB.
fn strict_site() -> TestSite {
    TestSite::with_runtime(
        "acme",
        RuntimeConfig {
            deadline: Duration::from_millis(200),
            memory_limit: 16 << 20,
            ..Default::default()
        },
    )
}

/// A hostile-plugin method on the fixture's course.
fn hostile(fx: &TestSite, config: serde_json::Value) -> EnrolmentMethodId {
    fx.with_plugin_method(&test_plugin(HOSTILE), config)
}

/// A method whose plugin is not called: for applying hand-made plans.
fn added_method(fx: &TestSite) -> EnrolmentMethod {
    let id = hostile(
        fx,
        json!({"behaviour": "well-behaved", "user": fx.learners[4].0}),
    );
    fx.site.get_method(&fx.operator, id).unwrap()
}

fn act(op: PlanOp, reason: &str) -> PlanAction {
    PlanAction {
        op,
        reason: reason.into(),
    }
}

fn plan(actions: Vec<PlanAction>) -> Plan {
    Plan { actions }
}

/// Applies `p` as `m`; the rejection's message when it is rejected.
fn rejected(fx: &TestSite, m: &EnrolmentMethod, p: &Plan) -> String {
    match fx.site.apply_method_plan(m, p, false) {
        Err(ServiceError::PluginFailed { code, message }) => {
            assert_eq!(code, "plan_rejected");
            message
        }
        other => panic!("expected the plan to be rejected, got {other:?}"),
    }
}

/// Marks the site's last event as caused `depth` plan steps deep, as if a
/// cascade of plans had led to it.
fn last_event_at_depth(fx: &TestSite, depth: u32) {
    let seq = fx
        .site
        .events_after(&fx.operator, 0, 1000)
        .unwrap()
        .last()
        .unwrap()
        .seq;
    fx.site.executor().set_depth(fx.id(), seq, depth);
}

fn status(fx: &TestSite, m: EnrolmentMethodId) -> (Option<String>, u64) {
    let s = fx.site.method_status(&fx.admin, m).unwrap();
    (s.last_error.map(|e| e.code), s.error_count)
}

// ------------------------------------------------------------ plan rules

#[test]
fn a_plan_creates_a_group_enrols_and_groups_in_one_transaction_audited_as_the_instance() {
    let fx = TestSite::new();
    let m = added_method(&fx);
    let newbie = fx.user("newbie");
    let mark = fx.mark();
    let p = plan(vec![
        act(
            PlanOp::CreateGroup {
                key: "hr".into(),
                name: "HR people".into(),
                idnumber: None,
            },
            "the method's own group",
        ),
        act(
            PlanOp::Enrol {
                user: newbie,
                role: Role::Learner,
            },
            "member of segment HR",
        ),
        act(
            PlanOp::AddToGroup {
                user: newbie,
                group: PlanGroup::Created("hr".into()),
            },
            "member of segment HR",
        ),
    ]);
    let (tally, _) = fx.site.apply_method_plan(&m, &p, false).unwrap();
    assert_eq!((tally.changed, tally.unchanged), (3, 0));
    let group = fx
        .site
        .find_group(&fx.admin, fx.course, "HR people")
        .unwrap();
    let members = fx
        .site
        .group_members(&fx.admin, group.id, None, 10)
        .unwrap();
    assert_eq!(members.items.len(), 1);
    assert_eq!(
        members.items[0].membership.owner,
        MembershipOwner::Method(m.id)
    );
    let by = Actor::Method(m.id);
    let changes = fx.changes_since(&mark);
    let expected: Vec<Audited> = vec![
        audited(
            by,
            "group.created",
            &format!("group #{} \"HR people\" in course #{}", group.id, fx.course),
            "the method's own group",
        ),
        audited(
            by,
            "enrolment.created",
            &format!(
                "user #{newbie} in course #{} via method #{}",
                fx.course, m.id
            ),
            "member of segment HR",
        ),
        audited(
            by,
            "group.member_added",
            &format!("user #{newbie} in group #{}", group.id),
            "member of segment HR",
        ),
    ];
    assert_eq!(changes.audit, expected);

    // The same plan minus the group creation again changes nothing and
    // writes nothing.
    let again = plan(
        p.actions[1..]
            .iter()
            .cloned()
            .map(|mut a| {
                if let PlanOp::AddToGroup { group: g, .. } = &mut a.op {
                    *g = PlanGroup::Existing(group.id);
                }
                a
            })
            .collect(),
    );
    let before = fx.snapshot();
    let (tally, events) = fx.site.apply_method_plan(&m, &again, false).unwrap();
    assert_eq!((tally.changed, tally.unchanged), (0, 2));
    assert!(events.is_empty());
    fx.assert_unchanged(&before);
}

#[test]
fn a_rejected_plan_changes_nothing_and_is_recorded_with_a_count() {
    let fx = TestSite::new();
    let m = added_method(&fx);
    let newbie = fx.user("newbie");
    let before = fx.data_without_runs();
    // A good first action does not save a bad second one.
    let p = plan(vec![
        act(
            PlanOp::Enrol {
                user: newbie,
                role: Role::Learner,
            },
            "ok",
        ),
        act(
            PlanOp::Enrol {
                user: UserId(999_999),
                role: Role::Learner,
            },
            "no such user",
        ),
    ]);
    let message = rejected(&fx, &m, &p);
    assert_eq!(
        message,
        "enrolment method \"hostile\": the plan was rejected at action 2 (enrol): user #999999 is not a user of this site"
    );
    assert_eq!(fx.data_without_runs(), before);
    assert_eq!(status(&fx, m.id), (Some("plan_rejected".into()), 1));
    rejected(&fx, &m, &p);
    assert_eq!(status(&fx, m.id), (Some("plan_rejected".into()), 2));
    assert_eq!(fx.data_without_runs(), before);
}

#[test]
fn enrol_needs_a_user_of_the_site_suspended_or_not() {
    let fx = TestSite::new();
    let m = added_method(&fx);
    let enrol = |user| {
        plan(vec![act(
            PlanOp::Enrol {
                user,
                role: Role::Learner,
            },
            "r",
        )])
    };
    assert!(
        rejected(&fx, &m, &enrol(UserId(9999))).ends_with("user #9999 is not a user of this site")
    );
    // Suspension changes no enrolment (Moodle's rule): a suspended account
    // is enrolled like any other.
    fx.site.suspend_user(&fx.admin, fx.learners[4]).unwrap();
    let (tally, _) = fx
        .site
        .apply_method_plan(&m, &enrol(fx.learners[4]), false)
        .unwrap();
    assert_eq!(tally.changed, 1);
}

#[test]
fn suspend_unenrol_and_set_role_touch_only_the_instances_own_enrolments() {
    let fx = TestSite::new();
    let m = added_method(&fx);
    // learner1 is enrolled through the manual method, not this method.
    let other = fx.learners[0];
    for op in [
        PlanOp::Suspend { user: other },
        PlanOp::Unenrol { user: other },
        PlanOp::SetRole {
            user: other,
            role: Some(Role::Teacher),
        },
    ] {
        let before = fx.data_without_runs();
        let message = rejected(&fx, &m, &plan(vec![act(op, "r")]));
        assert!(
            message.ends_with(&format!(
                "user #{other} has no enrolment through this enrolment method; it changes only its own"
            )),
            "{message}"
        );
        assert_eq!(fx.data_without_runs(), before);
    }

    // Its own: each works once, and a repeat writes nothing.
    let mine = fx.learners[4];
    fx.site
        .apply_method_plan(
            &m,
            &plan(vec![act(
                PlanOp::Enrol {
                    user: mine,
                    role: Role::Learner,
                },
                "r",
            )]),
            false,
        )
        .unwrap();
    for op in [
        PlanOp::SetRole {
            user: mine,
            role: Some(Role::NonEditingTeacher),
        },
        PlanOp::Suspend { user: mine },
        PlanOp::Unenrol { user: mine },
    ] {
        let p = plan(vec![act(op.clone(), "because")]);
        let mark = fx.mark();
        let (tally, _) = fx.site.apply_method_plan(&m, &p, false).unwrap();
        assert_eq!(tally.changed, 1, "{op:?}");
        assert!(
            fx.changes_since(&mark)
                .audit
                .iter()
                .all(|a| a.reason == "because" && a.actor == Actor::Method(m.id))
        );
        if !matches!(op, PlanOp::Unenrol { .. }) {
            let before = fx.snapshot();
            let (tally, _) = fx.site.apply_method_plan(&m, &p, false).unwrap();
            assert_eq!((tally.changed, tally.unchanged), (0, 1), "{op:?}");
            fx.assert_unchanged(&before);
        }
    }
    assert!(fx.site.user_enrolments(&fx.admin, mine).unwrap().is_empty());
}

#[test]
fn add_to_group_needs_a_group_of_the_course_and_an_enrolled_user() {
    let fx = TestSite::new();
    let m = added_method(&fx);
    let (other, _) = fx.other_course("OTHER");
    let foreign = fx.add_group(other, "Elsewhere");
    let add = |user, group| {
        plan(vec![act(
            PlanOp::AddToGroup {
                user,
                group: PlanGroup::Existing(group),
            },
            "r",
        )])
    };
    let before = fx.data_without_runs();
    assert!(rejected(&fx, &m, &add(fx.learners[0], foreign)).contains("belongs to another course"));
    assert!(
        rejected(&fx, &m, &add(fx.learners[0], CourseGroupId(999)))
            .ends_with("group #999 does not exist")
    );
    // learner5 is in no enrolment of the course.
    assert!(
        rejected(&fx, &m, &add(fx.learners[4], fx.team_a)).contains("is not enrolled in course")
    );
    let unknown = plan(vec![act(
        PlanOp::AddToGroup {
            user: fx.learners[0],
            group: PlanGroup::Created("nope".into()),
        },
        "r",
    )]);
    assert!(
        rejected(&fx, &m, &unknown)
            .contains("the enrolment method has created no group with the key \"nope\"")
    );
    assert_eq!(fx.data_without_runs(), before);
    assert_eq!(status(&fx, m.id).1, 4);

    // Enrolled by another method is enough; a manual membership stays
    // manual and counts unchanged.
    fx.site
        .add_group_members(&fx.admin, fx.team_b, &[fx.learners[1]])
        .unwrap();
    let p = plan(vec![
        act(
            PlanOp::AddToGroup {
                user: fx.learners[0],
                group: PlanGroup::Existing(fx.team_a),
            },
            "r",
        ),
        act(
            PlanOp::AddToGroup {
                user: fx.learners[1],
                group: PlanGroup::Existing(fx.team_b),
            },
            "r",
        ),
    ]);
    let (tally, _) = fx.site.apply_method_plan(&m, &p, false).unwrap();
    assert_eq!((tally.changed, tally.unchanged), (1, 1));
    let owner = |g, u| {
        fx.site
            .group_members(&fx.admin, g, None, 100)
            .unwrap()
            .items
            .into_iter()
            .find(|x| x.user.id == u)
            .map(|x| x.membership.owner)
    };
    assert_eq!(
        owner(fx.team_a, fx.learners[0]),
        Some(MembershipOwner::Method(m.id))
    );
    assert_eq!(
        owner(fx.team_b, fx.learners[1]),
        Some(MembershipOwner::Manual)
    );
}

#[test]
fn remove_from_group_removes_only_memberships_the_instance_owns() {
    let fx = TestSite::new();
    let m = added_method(&fx);
    fx.site
        .add_group_members(&fx.admin, fx.team_a, &[fx.learners[0]])
        .unwrap();
    fx.site
        .add_group_members(&fx.as_method(fx.manual), fx.team_b, &[fx.learners[1]])
        .unwrap();
    let remove = |user, group| {
        plan(vec![act(
            PlanOp::RemoveFromGroup {
                user,
                group: PlanGroup::Existing(group),
            },
            "r",
        )])
    };
    let before = fx.data_without_runs();
    let manual = rejected(&fx, &m, &remove(fx.learners[0], fx.team_a));
    assert!(
        manual.ends_with(&format!(
            "user #{} was added to group #{} by hand: a membership it does not own",
            fx.learners[0], fx.team_a
        )),
        "{manual}"
    );
    let by_other = rejected(&fx, &m, &remove(fx.learners[1], fx.team_b));
    assert!(by_other.contains(&format!(
        "by enrolment method #{}: a membership it does not own",
        fx.manual
    )));
    assert_eq!(fx.data_without_runs(), before);

    // Absent: unchanged. Its own: removed.
    let before = fx.snapshot();
    let (tally, _) = fx
        .site
        .apply_method_plan(&m, &remove(fx.learners[2], fx.team_a), false)
        .unwrap();
    assert_eq!((tally.changed, tally.unchanged), (0, 1));
    fx.assert_unchanged(&before);
    fx.site
        .apply_method_plan(
            &m,
            &plan(vec![act(
                PlanOp::AddToGroup {
                    user: fx.learners[2],
                    group: PlanGroup::Existing(fx.team_a),
                },
                "r",
            )]),
            false,
        )
        .unwrap();
    let (tally, _) = fx
        .site
        .apply_method_plan(&m, &remove(fx.learners[2], fx.team_a), false)
        .unwrap();
    assert_eq!(tally.changed, 1);
}

#[test]
fn create_group_needs_a_new_name_and_a_new_key() {
    let fx = TestSite::new();
    let m = added_method(&fx);
    let create = |key: &str, name: &str| {
        act(
            PlanOp::CreateGroup {
                key: key.into(),
                name: name.into(),
                idnumber: None,
            },
            "r",
        )
    };
    let before = fx.data_without_runs();
    assert!(
        rejected(&fx, &m, &plan(vec![create("a", "team a")])).contains("already has a group named")
    );
    assert!(
        rejected(&fx, &m, &plan(vec![create("a", "X"), create("a", "Y")]))
            .contains("two groups with the key \"a\"")
    );
    assert!(rejected(&fx, &m, &plan(vec![create("", "X")])).contains("needs a key"));
    assert_eq!(fx.data_without_runs(), before);
}

#[test]
fn a_dry_run_checks_and_counts_but_writes_nothing() {
    let fx = TestSite::new();
    let m = added_method(&fx);
    let p = plan(vec![act(
        PlanOp::Enrol {
            user: fx.learners[4],
            role: Role::Learner,
        },
        "r",
    )]);
    let before = fx.snapshot();
    let (tally, events) = fx.site.apply_method_plan(&m, &p, true).unwrap();
    assert_eq!(tally.changed, 1);
    assert!(events.is_empty());
    // A rejected dry run is reported and not recorded.
    let bad = plan(vec![act(
        PlanOp::Suspend {
            user: fx.learners[0],
        },
        "r",
    )]);
    assert!(fx.site.apply_method_plan(&m, &bad, true).is_err());
    fx.assert_unchanged(&before);
}

// --------------------------------------------------------------- requests

fn enrol_request(users: Vec<UserId>) -> MethodRequest {
    MethodRequest::EnrolUsers {
        users,
        role: None,
        group: None,
    }
}

#[test]
fn a_request_runs_the_plugin_and_applies_its_plan() {
    let fx = TestSite::new();
    let m = hostile(
        &fx,
        json!({"behaviour": "well-behaved", "user": fx.learners[4].0}),
    );
    let before = fx.snapshot();
    let dry = fx
        .site
        .method_request(&fx.teacher, m, enrol_request(vec![]), true)
        .unwrap();
    assert!(!dry.applied);
    assert_eq!(dry.changed, 1);
    assert_eq!(
        dry.plan.actions,
        vec![act(
            PlanOp::Enrol {
                user: fx.learners[4],
                role: Role::Learner
            },
            "well-behaved enrolment"
        )]
    );
    fx.assert_unchanged(&before);
    let done = fx
        .site
        .method_request(&fx.teacher, m, enrol_request(vec![]), false)
        .unwrap();
    assert!(done.applied);
    let enrolments = fx.site.user_enrolments(&fx.admin, fx.learners[4]).unwrap();
    assert_eq!(enrolments.len(), 1);
    assert_eq!(enrolments[0].method, m);
}

#[test]
fn requests_are_authorised_before_the_plugin_runs() {
    let fx = TestSite::new();
    let m = hostile(
        &fx,
        json!({"behaviour": "well-behaved", "user": fx.learners[4].0}),
    );
    let before = fx.snapshot();
    assert_eq!(
        refused(fx.site.method_request(
            &fx.learner(0),
            m,
            enrol_request(vec![fx.learners[4]]),
            false
        )),
        (
            "Forbidden",
            "not allowed: you do not teach course #1".into()
        )
    );
    assert_eq!(
        refused(fx.site.method_request(
            &fx.learner(0),
            m,
            MethodRequest::UnenrolUsers { users: vec![] },
            false
        ))
        .0,
        "Forbidden"
    );
    let someone_else = MethodRequest::SelfEnrol {
        user: Some(fx.learners[1]),
        key: None,
    };
    assert_eq!(
        refused(
            fx.site
                .method_request(&fx.learner(0), m, someone_else, false)
        ),
        (
            "Forbidden",
            "not allowed: you can enrol or unenrol only yourself".into()
        )
    );
    let for_self = MethodRequest::SelfUnenrol { user: None };
    assert_eq!(
        refused(fx.site.method_request(&fx.operator, m, for_self, false)).0,
        "Forbidden"
    );
    fx.site.suspend_user(&fx.admin, fx.learners[4]).unwrap();
    let suspended = fx.as_user(fx.learners[4]);
    let before_suspended = fx.snapshot();
    assert_eq!(
        refused(fx.site.method_request(
            &suspended,
            m,
            MethodRequest::SelfEnrol {
                user: None,
                key: None
            },
            false
        )),
        ("Forbidden", "not allowed: your account is suspended".into())
    );
    fx.assert_unchanged(&before_suspended);
    // Another site's principal.
    let globex = fx.another_site("globex");
    assert_eq!(
        refused(
            globex
                .site
                .method_request(&fx.admin, m, enrol_request(vec![]), false)
        )
        .0,
        "Forbidden"
    );
    assert_eq!(fx.site.method_status(&fx.admin, m).unwrap().error_count, 0);
    let _ = before;
}

#[test]
fn a_disabled_instance_takes_no_requests_and_a_refusal_carries_the_plugins_code() {
    let fx = TestSite::new();
    let m = hostile(&fx, json!({"behaviour": "nonsense"}));
    let e = fx
        .site
        .method_request(&fx.admin, m, enrol_request(vec![]), false)
        .unwrap_err();
    match e {
        ServiceError::Refused {
            code,
            message,
            field,
        } => {
            assert_eq!(code, "unknown-behaviour");
            assert_eq!(message, "no behaviour \"nonsense\"");
            assert_eq!(field, None);
        }
        other => panic!("{other:?}"),
    }
    fx.site
        .set_method_status(&fx.admin, m, EnrolmentMethodStatus::Disabled)
        .unwrap();
    let before = fx.snapshot();
    assert_eq!(
        refused(
            fx.site
                .method_request(&fx.admin, m, enrol_request(vec![]), false)
        ),
        (
            "Conflict",
            "enrolment method \"hostile\" is disabled".into()
        )
    );
    fx.assert_unchanged(&before);
}

#[test]
fn self_enrol_finds_the_courses_self_instance() {
    let fx = TestSite::new();
    assert_eq!(
        refused(
            fx.site
                .self_enrol(&fx.learner(4), fx.course, None, None, false)
        ),
        ("NotFound", "self enrolment in course #1 not found".into())
    );
    let m = hostile(
        &fx,
        json!({"behaviour": "well-behaved", "user": fx.learners[4].0}),
    );
    // Named explicitly (it is not a `self` plugin).
    let out = fx
        .site
        .self_enrol(&fx.learner(4), fx.course, Some(m), None, false)
        .unwrap();
    assert_eq!(out.changed, 1);
}

// -------------------------------------------------------------- reconcile

#[test]
fn reconcile_applies_each_page_and_a_dry_run_writes_nothing() {
    let fx = TestSite::new();
    let m = hostile(
        &fx,
        json!({"behaviour": "well-behaved", "user": fx.learners[4].0}),
    );
    let before = fx.snapshot();
    let dry = fx.site.reconcile_method(&fx.teacher, m, true).unwrap();
    assert_eq!(
        (dry.pages, dry.actions, dry.changed, dry.applied),
        (1, 1, 1, false)
    );
    assert_eq!(dry.plan.as_ref().map(Vec::len), Some(1));
    fx.assert_unchanged(&before);
    let done = fx.site.reconcile_method(&fx.teacher, m, false).unwrap();
    assert_eq!((done.changed, done.applied), (1, true));
    assert_eq!(done.plan, None, "an applied reconcile lists no plan");
    let before = fx.snapshot();
    let again = fx.site.reconcile_method(&fx.teacher, m, false).unwrap();
    assert_eq!((again.changed, again.unchanged), (0, 1));
    fx.assert_unchanged(&before);
    assert_eq!(
        refused(fx.site.reconcile_method(&fx.learner(0), m, false)).0,
        "Forbidden"
    );
}

// ----------------------------------------------------------------- events

#[test]
fn events_reach_the_instances_that_asked_and_their_plans_cascade_to_a_fixed_point() {
    let fx = TestSite::new();
    fx.site.dispatch_pending().unwrap();
    let m = hostile(
        &fx,
        json!({"behaviour": "well-behaved", "user": fx.learners[4].0}),
    );
    let newbie = fx.user("newbie");
    fx.site
        .enrol(&fx.admin, fx.manual, newbie, Role::Learner)
        .unwrap();
    let mark = fx.mark();
    let report = fx.site.dispatch_pending().unwrap();
    // newbie's enrolment → the method enrols learner5 → its own
    // enrolment event → the method again, which changes nothing.
    assert_eq!(report.errors, 0, "{report:?}");
    assert_eq!(report.applied, 1, "{report:?}");
    let changes = fx.changes_since(&mark);
    assert_eq!(
        changes.audit,
        vec![audited(
            Actor::Method(m),
            "enrolment.created",
            &format!(
                "user #{} in course #{} via method #{m}",
                fx.learners[4], fx.course
            ),
            "well-behaved enrolment"
        )]
    );
    // Drained: nothing more to do, and the cursor is at the end.
    let again = fx.site.dispatch_pending().unwrap();
    assert_eq!((again.events, again.calls), (0, 0));
    assert_eq!(
        again.cursor,
        fx.site
            .events_after(&fx.operator, 0, 1000)
            .unwrap()
            .last()
            .unwrap()
            .seq
    );
}

#[test]
fn a_disabled_instance_hears_no_course_events() {
    let fx = TestSite::new();
    let m = hostile(&fx, json!({"behaviour": "panic"}));
    fx.site
        .set_method_status(&fx.admin, m, EnrolmentMethodStatus::Disabled)
        .unwrap();
    fx.site.dispatch_pending().unwrap();
    let newbie = fx.user("newbie");
    fx.site
        .enrol(&fx.admin, fx.manual, newbie, Role::Learner)
        .unwrap();
    let report = fx.site.dispatch_pending().unwrap();
    assert_eq!(report.calls, 0);
    assert_eq!(status(&fx, m), (None, 0));
    // Enabling it is its own event, delivered to it whatever it is.
    fx.site
        .set_method_status(&fx.admin, m, EnrolmentMethodStatus::Enabled)
        .unwrap();
    let report = fx.site.dispatch_pending().unwrap();
    assert_eq!(report.calls, 1);
    assert_eq!(status(&fx, m), (Some("plugin_crashed".into()), 1));
}

// -------------------------------------------------------- hostile plugins

/// Every misbehaviour of `tests/plugins/hostile` and the error code it
/// must leave on its method.
const HOSTILE_CASES: &[(&str, &[&str])] = &[
    ("loop", &["plugin_timeout"]),
    ("memory", &["plugin_out_of_memory"]),
    ("recursion", &["plugin_stack_overflow"]),
    ("panic", &["plugin_crashed"]),
    ("huge-plan", &["plan_too_large", "plugin_out_of_memory"]),
    ("many-actions", &["plan_too_large", "plugin_out_of_memory"]),
    ("other-course", &["plan_rejected"]),
    ("foreign-membership", &["plan_rejected"]),
    ("unknown-user", &["plan_rejected"]),
];

/// The config of a hostile method on `fx`: the groups and users its
/// out-of-scope behaviours reach for.
fn hostile_config(fx: &TestSite, behaviour: &str, foreign: CourseGroupId) -> serde_json::Value {
    match behaviour {
        "other-course" => {
            json!({"behaviour": behaviour, "user": fx.learners[0].0, "group": foreign.0})
        }
        "foreign-membership" => {
            json!({"behaviour": behaviour, "user": fx.learners[0].0, "group": fx.team_a.0})
        }
        _ => json!({"behaviour": behaviour}),
    }
}

/// A strict site with a group of another course and a manual membership
/// for the hostile plugins to reach for.
fn hostile_site() -> (TestSite, CourseGroupId) {
    let fx = strict_site();
    let (other, _) = fx.other_course("OTHER");
    let foreign = fx.add_group(other, "Elsewhere");
    fx.site
        .add_group_members(&fx.admin, fx.team_a, &[fx.learners[0]])
        .unwrap();
    (fx, foreign)
}

/// Makes the method well-behaved and shows it works again.
fn well_behaved_again(fx: &TestSite, m: EnrolmentMethodId) {
    fx.site
        .update_method(
            &fx.admin,
            m,
            MethodUpdate {
                config: Some(json!({"behaviour": "well-behaved", "user": fx.learners[4].0})),
                ..Default::default()
            },
        )
        .unwrap();
    let out = fx
        .site
        .method_request(&fx.admin, m, enrol_request(vec![]), false)
        .unwrap();
    assert_eq!(out.changed, 1);
    fx.site.unenrol(&fx.admin, m, fx.learners[4]).unwrap();
}

#[test]
fn every_hostile_plugin_is_contained_through_a_request() {
    let (fx, foreign) = hostile_site();
    for (behaviour, codes) in HOSTILE_CASES {
        let m = hostile(&fx, hostile_config(&fx, behaviour, foreign));
        let before = fx.data_without_runs();
        let e = fx
            .site
            .method_request(&fx.admin, m, enrol_request(vec![]), false)
            .unwrap_err();
        let ServiceError::PluginFailed { code, .. } = &e else {
            panic!("{behaviour}: {e:?}");
        };
        assert!(codes.contains(&code.as_str()), "{behaviour}: {code} ({e})");
        assert_eq!(
            fx.data_without_runs(),
            before,
            "{behaviour} changed the site"
        );
        assert_eq!(status(&fx, m), (Some(code.to_string()), 1), "{behaviour}");
        well_behaved_again(&fx, m);
    }
}

#[test]
fn every_hostile_plugin_is_contained_through_an_event() {
    let (fx, foreign) = hostile_site();
    for (behaviour, codes) in HOSTILE_CASES {
        let m = hostile(&fx, hostile_config(&fx, behaviour, foreign));
        let newbie = fx.user(&format!("newbie-{behaviour}"));
        fx.site
            .enrol(&fx.admin, fx.manual, newbie, Role::Learner)
            .unwrap();
        let before = fx.data_without_runs();
        let report = fx.site.dispatch_pending().unwrap();
        assert!(report.errors >= 1, "{behaviour}: {report:?}");
        assert_eq!(
            fx.data_without_runs(),
            before,
            "{behaviour} changed the site"
        );
        let (code, count) = status(&fx, m);
        let code = code.unwrap_or_default();
        assert!(codes.contains(&code.as_str()), "{behaviour}: {code}");
        assert!(count >= 1);
        // Out of the way of the next case's event.
        fx.site
            .set_method_status(&fx.admin, m, EnrolmentMethodStatus::Disabled)
            .unwrap();
        fx.site.dispatch_pending().unwrap();
        fx.site
            .set_method_status(&fx.admin, m, EnrolmentMethodStatus::Enabled)
            .unwrap();
        well_behaved_again(&fx, m);
        fx.site.delete_method(&fx.admin, m).unwrap();
        fx.site.dispatch_pending().unwrap();
    }
    // The host still runs well-behaved plugins through events.
    let m = hostile(
        &fx,
        json!({"behaviour": "well-behaved", "user": fx.learners[4].0}),
    );
    let newbie = fx.user("last");
    fx.site
        .enrol(&fx.admin, fx.manual, newbie, Role::Learner)
        .unwrap();
    fx.site.dispatch_pending().unwrap();
    let mine = fx.site.user_enrolments(&fx.admin, fx.learners[4]).unwrap();
    assert_eq!(mine.iter().map(|e| e.method).collect::<Vec<_>>(), vec![m]);
    let _ = refusal;
}

#[test]
fn an_event_caused_by_too_long_a_chain_of_plans_is_not_delivered() {
    let fx = TestSite::new();
    let m = hostile(
        &fx,
        json!({"behaviour": "well-behaved", "user": fx.learners[4].0}),
    );
    let newbie = fx.user("newbie");
    fx.site
        .enrol(&fx.admin, fx.manual, newbie, Role::Learner)
        .unwrap();
    last_event_at_depth(&fx, crate::services::execution::MAX_CASCADE);
    let before = fx.data_without_runs();
    let report = fx.site.dispatch_pending().unwrap();
    assert_eq!((report.calls, report.errors), (0, 1));
    assert_eq!(fx.data_without_runs(), before);
    assert_eq!(status(&fx, m), (Some("cascade_limit".into()), 1));
    // One short of the bound is delivered, and the plan's own events are
    // one deeper: with the bound reached there, the method is not
    // called again.
    let other = fx.user("other");
    fx.site
        .enrol(&fx.admin, fx.manual, other, Role::Learner)
        .unwrap();
    last_event_at_depth(&fx, crate::services::execution::MAX_CASCADE - 1);
    let report = fx.site.dispatch_pending().unwrap();
    assert_eq!(
        (report.calls, report.applied, report.errors),
        (1, 1, 1),
        "{report:?}"
    );
    assert_eq!(
        fx.site
            .user_enrolments(&fx.admin, fx.learners[4])
            .unwrap()
            .len(),
        1
    );
    assert_eq!(status(&fx, m), (Some("cascade_limit".into()), 2));
}

// ------------------------------------------------- the enrolment methods page

#[test]
fn a_course_methods_overview_counts_enrolments_and_lists_the_sites_plugins() {
    let fx = TestSite::new();
    let o = fx.site.course_methods(&fx.teacher, fx.course).unwrap();
    assert_eq!(o.course.id, fx.course);
    assert_eq!(o.methods.len(), 1);
    assert_eq!(o.methods[0].method.id, fx.manual);
    assert_eq!(o.methods[0].enrolments, 5, "the teacher and four learners");
    assert_eq!(o.methods[0].run, MethodRun::default());
    assert!(o.plugins.iter().any(|m| m.id == "segment-sync"));
    let one = fx.site.method_overview(&fx.teacher, fx.manual).unwrap();
    assert_eq!(one, o.methods[0]);
    // Configuring the course is what it takes; a learner may not.
    let learner = fx.learner(0);
    assert_eq!(
        refused(fx.site.course_methods(&learner, fx.course)).0,
        "Forbidden"
    );
    assert_eq!(
        refused(fx.site.method_overview(&learner, fx.manual)).0,
        "Forbidden"
    );
    assert_eq!(
        refused(fx.site.method_overview(&fx.teacher, EnrolmentMethodId(99))).0,
        "NotFound"
    );
}
