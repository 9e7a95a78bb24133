//! The audit log and the outbox (PRODUCT §2): every change records who,
//! what, when and why, and announces itself to enrolment methods in order.
//!
//! The rule for events: taking something out of a container that stays
//! (a user out of a segment, a group or a course) is announced as that
//! removal; deleting the container itself is announced once, as the
//! container's deletion. Each scenario compares the complete trail a call
//! left: its audit entries (checked to be stamped between the call's start
//! and end by `changes_since`) and its events, in order.

use super::refused;
use crate::domain::*;
use crate::services::AuditFilter;
use crate::services::courses::{CourseUpdate, NewCourse};
use crate::services::enrolments::{MethodUpdate, NewMethod};
use crate::services::groups::NewGroup;
use crate::services::segments::{NewSegment, SegmentUpdate};
use crate::services::testing::{Changes, TestSite, audited};
use crate::services::users::{NewUser, UserUpdate};

const ADMIN: Actor = Actor::User(UserId(1));

#[test]
fn a_refused_call_leaves_no_trail() {
    let fx = TestSite::new();
    let mark = fx.mark();
    let mut bus = fx.services.events().subscribe();
    let _ = refused(fx.site.add_group_members(
        &fx.admin,
        fx.team_a,
        &[fx.learners[0], fx.learners[4]],
    ));
    let _ = refused(fx.site.create_user(&fx.learner(0), NewUser::default()));
    assert_eq!(fx.changes_since(&mark), Changes::none());
    assert!(bus.try_recv().is_err(), "nothing is published");
}

#[test]
fn committed_events_reach_subscribers_as_the_outbox_holds_them() {
    let fx = TestSite::new();
    let mut bus = fx.services.events().subscribe();
    let mark = fx.mark();
    fx.site
        .add_segment_members(&fx.admin, fx.finance, &[fx.learners[0], fx.learners[1]])
        .unwrap();
    let published: Vec<EventEnvelope> = std::iter::from_fn(|| bus.try_recv().ok()).collect();
    let outbox = fx.site.events_after(&fx.operator, 0, 1000).unwrap();
    let outbox: Vec<EventEnvelope> = outbox
        .into_iter()
        .filter(|e| e.seq > published[0].seq - 1)
        .collect();
    assert_eq!(published, outbox);
    assert_eq!(
        fx.changes_since(&mark).events,
        vec![
            SiteEvent::SegmentMemberAdded {
                segment: fx.finance,
                user: fx.learners[0],
            },
            SiteEvent::SegmentMemberAdded {
                segment: fx.finance,
                user: fx.learners[1],
            },
        ]
    );
    // Sequence numbers increase by one, so a consumer sees any gap.
    assert_eq!(published[1].seq, published[0].seq + 1);
}

#[test]
fn user_changes_are_audited_and_announced() {
    let fx = TestSite::new();
    let mark = fx.mark();
    let alice = fx
        .site
        .create_user(
            &fx.admin,
            NewUser {
                username: "alice".into(),
                email: "alice@example.org".into(),
                firstname: "Alice".into(),
                lastname: "Brown".into(),
                password: Some("correct horse".into()),
                ..Default::default()
            },
        )
        .unwrap()
        .id;
    let rename = UserUpdate {
        lastname: Some("Green".into()),
        ..Default::default()
    };
    fx.site.update_user(&fx.admin, alice, rename).unwrap();
    fx.site
        .set_user_password(&fx.admin, alice, "battery staple")
        .unwrap();
    fx.site.suspend_user(&fx.admin, alice).unwrap();
    fx.site.reactivate_user(&fx.admin, alice).unwrap();
    assert_eq!(
        fx.changes_since(&mark),
        Changes {
            audit: vec![
                audited(ADMIN, "user.created", r#"user #8 "alice""#, "user created"),
                audited(ADMIN, "user.updated", "user #8", "user updated"),
                audited(ADMIN, "user.password_set", "user #8", "password changed"),
                audited(ADMIN, "user.suspended", "user #8", "user suspended"),
                audited(ADMIN, "user.reactivated", "user #8", "user reactivated"),
            ],
            events: vec![
                SiteEvent::UserCreated { user: alice },
                SiteEvent::UserChanged {
                    user: alice,
                    changes: UserChanges {
                        name: true,
                        ..Default::default()
                    }
                },
                SiteEvent::UserSuspended { user: alice },
                SiteEvent::UserReactivated { user: alice },
            ],
        }
    );
}

#[test]
fn deleting_a_user_announces_every_membership_and_enrolment_it_ends() {
    let fx = TestSite::new();
    let l = fx.learners[0];
    fx.site
        .add_group_members(&fx.admin, fx.team_a, &[l])
        .unwrap();
    let mark = fx.mark();
    fx.site.delete_user(&fx.admin, l).unwrap();
    assert_eq!(
        fx.changes_since(&mark),
        Changes {
            audit: vec![audited(
                ADMIN,
                "user.deleted",
                r#"user #3 "learner1""#,
                r#"user "learner1" deleted"#
            )],
            events: vec![
                SiteEvent::SegmentMemberRemoved {
                    segment: fx.hr,
                    user: l,
                },
                SiteEvent::GroupMemberRemoved {
                    group: fx.team_a,
                    user: l,
                },
                SiteEvent::UserUnenrolled {
                    course: fx.course,
                    user: l,
                    method: fx.manual,
                },
                SiteEvent::UserDeleted { user: l },
            ],
        }
    );
}

#[test]
fn segment_changes_are_audited_and_announced() {
    let fx = TestSite::new();
    let l = &fx.learners;
    let mark = fx.mark();
    let temp = fx
        .site
        .create_segment(
            &fx.admin,
            NewSegment {
                name: "Temp".into(),
                ..Default::default()
            },
        )
        .unwrap()
        .id;
    let rename = SegmentUpdate {
        name: Some("Temporary".into()),
        ..Default::default()
    };
    fx.site.update_segment(&fx.admin, temp, rename).unwrap();
    fx.site
        .add_segment_members(&fx.admin, temp, &[l[0], l[1], l[0]])
        .unwrap();
    fx.site
        .remove_segment_members(&fx.admin, temp, &[l[1], l[2]])
        .unwrap();
    fx.site.delete_segment(&fx.admin, temp).unwrap();
    let added = r#"added to segment "Temporary""#;
    assert_eq!(
        fx.changes_since(&mark),
        Changes {
            audit: vec![
                audited(
                    ADMIN,
                    "segment.created",
                    r#"segment #3 "Temp""#,
                    "segment created"
                ),
                audited(
                    ADMIN,
                    "segment.updated",
                    r#"segment #3 "Temporary""#,
                    "segment updated"
                ),
                audited(
                    ADMIN,
                    "segment.member_added",
                    "user #3 in segment #3",
                    added
                ),
                audited(
                    ADMIN,
                    "segment.member_added",
                    "user #4 in segment #3",
                    added
                ),
                audited(
                    ADMIN,
                    "segment.member_removed",
                    "user #4 in segment #3",
                    r#"removed from segment "Temporary""#
                ),
                audited(
                    ADMIN,
                    "segment.deleted",
                    r#"segment #3 "Temporary""#,
                    "segment deleted"
                ),
            ],
            events: vec![
                SiteEvent::SegmentMemberAdded {
                    segment: temp,
                    user: l[0],
                },
                SiteEvent::SegmentMemberAdded {
                    segment: temp,
                    user: l[1],
                },
                SiteEvent::SegmentMemberRemoved {
                    segment: temp,
                    user: l[1],
                },
                SiteEvent::SegmentDeleted { segment: temp },
            ],
        }
    );
}

#[test]
fn enrolment_changes_are_audited_and_announced() {
    let fx = TestSite::new();
    let (c, m, newcomer) = (fx.course, fx.manual, fx.learners[4]);
    let mark = fx.mark();
    fx.site
        .enrol(&fx.teacher, m, newcomer, Role::Learner)
        .unwrap();
    fx.site
        .set_enrolment_status(&fx.teacher, m, newcomer, EnrolmentStatus::Suspended, false)
        .unwrap();
    fx.site
        .enrol(&fx.teacher, m, newcomer, Role::Learner)
        .unwrap();
    fx.site
        .set_enrolment_role(&fx.teacher, m, newcomer, None)
        .unwrap();
    fx.site
        .add_group_members(&fx.teacher, fx.team_b, &[newcomer])
        .unwrap();
    fx.site.unenrol(&fx.teacher, m, newcomer).unwrap();
    let teacher = Actor::User(fx.teacher_id);
    let target = "user #7 in course #1 via method #1";
    let enrolment = SiteEvent::EnrolmentUpdated {
        course: c,
        user: newcomer,
        method: m,
    };
    assert_eq!(
        fx.changes_since(&mark),
        Changes {
            audit: vec![
                audited(teacher, "enrolment.created", target, "enrolled as Learner"),
                audited(
                    teacher,
                    "enrolment.suspended",
                    target,
                    "enrolment suspended"
                ),
                audited(
                    teacher,
                    "enrolment.reactivated",
                    target,
                    "enrolled as Learner"
                ),
                audited(teacher, "enrolment.role_set", target, "role set to no role"),
                audited(
                    teacher,
                    "group.member_added",
                    "user #7 in group #2",
                    r#"added to group "Team B""#
                ),
                audited(teacher, "enrolment.deleted", target, "unenrolled"),
                audited(
                    teacher,
                    "group.member_removed",
                    "user #7 in group #2",
                    "no longer enrolled in the course"
                ),
            ],
            events: vec![
                SiteEvent::UserEnrolled {
                    course: c,
                    user: newcomer,
                    method: m,
                },
                enrolment.clone(),
                enrolment.clone(),
                enrolment,
                SiteEvent::GroupMemberAdded {
                    group: fx.team_b,
                    user: newcomer,
                },
                SiteEvent::UserUnenrolled {
                    course: c,
                    user: newcomer,
                    method: m,
                },
                SiteEvent::GroupMemberRemoved {
                    group: fx.team_b,
                    user: newcomer,
                },
            ],
        }
    );
}

#[test]
fn a_method_acting_for_itself_is_the_actor_of_its_changes() {
    let fx = TestSite::new();
    let sync = fx.add_method("noop");
    let newcomer = fx.learners[4];
    let mark = fx.mark();
    fx.site
        .enrol(&fx.as_method(sync), sync, newcomer, Role::Learner)
        .unwrap();
    fx.site
        .add_group_members(&fx.as_method(sync), fx.team_a, &[newcomer])
        .unwrap();
    let by_sync = Actor::Method(sync);
    assert_eq!(
        fx.changes_since(&mark).audit,
        vec![
            audited(
                by_sync,
                "enrolment.created",
                "user #7 in course #1 via method #2",
                "enrolled as Learner"
            ),
            audited(
                by_sync,
                "group.member_added",
                "user #7 in group #1",
                r#"added to group "Team A""#
            ),
        ]
    );
}

#[test]
fn method_changes_are_audited_and_announced() {
    let fx = TestSite::new();
    let c = fx.course;
    let mark = fx.mark();
    let new = NewMethod {
        plugin: "self".into(),
        name: "Self enrolment".into(),
        config: serde_json::json!({}),
        enabled: true,
    };
    let m = fx.site.add_method(&fx.admin, c, new).unwrap().id;
    let update = MethodUpdate {
        config: Some(serde_json::json!({"role": "teacher"})),
        ..Default::default()
    };
    fx.site.update_method(&fx.admin, m, update).unwrap();
    fx.site
        .set_method_status(&fx.admin, m, EnrolmentMethodStatus::Disabled)
        .unwrap();
    fx.site
        .set_method_status(&fx.admin, m, EnrolmentMethodStatus::Enabled)
        .unwrap();
    let target = "enrolment method #2";
    assert_eq!(
        fx.changes_since(&mark),
        Changes {
            audit: vec![
                audited(
                    ADMIN,
                    "method.added",
                    "enrolment method #2 in course #1",
                    r#""Self enrolment" added"#
                ),
                audited(ADMIN, "method.updated", target, "settings changed"),
                audited(ADMIN, "method.disabled", target, "method disabled"),
                audited(ADMIN, "method.enabled", target, "method enabled"),
            ],
            events: vec![
                SiteEvent::MethodAdded {
                    course: c,
                    method: m
                },
                SiteEvent::MethodUpdated {
                    course: c,
                    method: m
                },
                SiteEvent::MethodDisabled {
                    course: c,
                    method: m
                },
                SiteEvent::MethodEnabled {
                    course: c,
                    method: m
                },
            ],
        }
    );
}

#[test]
fn deleting_a_method_records_who_deleted_it_on_everything_it_takes_along() {
    let fx = TestSite::new();
    let sync = fx.add_method("noop");
    let (c, l) = (fx.course, fx.learners[4]);
    fx.site
        .enrol(&fx.as_method(sync), sync, l, Role::Learner)
        .unwrap();
    fx.site
        .add_group_members(&fx.as_method(sync), fx.team_a, &[l])
        .unwrap();
    let mark = fx.mark();
    fx.site.delete_method(&fx.admin, sync).unwrap();
    let reason = r#"enrolment method "noop" deleted"#;
    assert_eq!(
        fx.changes_since(&mark),
        Changes {
            audit: vec![
                audited(
                    ADMIN,
                    "enrolment.deleted",
                    "user #7 in course #1 via method #2",
                    reason
                ),
                audited(
                    ADMIN,
                    "group.member_removed",
                    "user #7 in group #1",
                    "no longer enrolled in the course"
                ),
                audited(
                    ADMIN,
                    "method.deleted",
                    "enrolment method #2 in course #1",
                    r#""noop" deleted"#
                ),
            ],
            events: vec![
                SiteEvent::UserUnenrolled {
                    course: c,
                    user: l,
                    method: sync,
                },
                SiteEvent::GroupMemberRemoved {
                    group: fx.team_a,
                    user: l,
                },
                SiteEvent::MethodDeleted {
                    course: c,
                    method: sync,
                },
            ],
        }
    );
}

#[test]
fn course_and_group_changes_are_audited_and_announced() {
    let fx = TestSite::new();
    let l = fx.learners[0];
    let mark = fx.mark();
    let new = NewCourse {
        shortname: "HIST1".into(),
        fullname: "History".into(),
        group_mode: GroupMode::None,
        force_group_mode: false,
    };
    let history = fx.site.create_course(&fx.admin, new).unwrap().id;
    let update = CourseUpdate {
        group_mode: Some(GroupMode::Separate),
        ..Default::default()
    };
    fx.site.update_course(&fx.admin, history, update).unwrap();
    let manual = EnrolmentMethodId(2);
    fx.site.enrol(&fx.admin, manual, l, Role::Learner).unwrap();
    let group = NewGroup {
        name: "Evening".into(),
        ..Default::default()
    };
    let evening = fx.site.create_group(&fx.admin, history, group).unwrap().id;
    fx.site.add_group_members(&fx.admin, evening, &[l]).unwrap();
    fx.site
        .remove_group_members(&fx.admin, evening, &[l])
        .unwrap();
    fx.site.delete_group(&fx.admin, evening).unwrap();
    fx.site.delete_course(&fx.admin, history).unwrap();
    assert_eq!(
        fx.changes_since(&mark),
        Changes {
            audit: vec![
                audited(
                    ADMIN,
                    "course.created",
                    r#"course #2 "HIST1""#,
                    "course created"
                ),
                audited(ADMIN, "course.updated", "course #2", "course updated"),
                audited(
                    ADMIN,
                    "enrolment.created",
                    "user #3 in course #2 via method #2",
                    "enrolled as Learner"
                ),
                audited(
                    ADMIN,
                    "group.created",
                    r#"group #3 "Evening" in course #2"#,
                    "group created"
                ),
                audited(
                    ADMIN,
                    "group.member_added",
                    "user #3 in group #3",
                    r#"added to group "Evening""#
                ),
                audited(
                    ADMIN,
                    "group.member_removed",
                    "user #3 in group #3",
                    r#"removed from group "Evening""#
                ),
                audited(
                    ADMIN,
                    "group.deleted",
                    r#"group #3 "Evening" in course #2"#,
                    "group deleted"
                ),
                audited(
                    ADMIN,
                    "enrolment.deleted",
                    "user #3 in course #2 via method #2",
                    r#"enrolment method "Manual enrolments" deleted"#
                ),
                audited(
                    ADMIN,
                    "course.deleted",
                    r#"course #2 "HIST1""#,
                    "course deleted"
                ),
            ],
            events: vec![
                SiteEvent::MethodAdded {
                    course: history,
                    method: manual,
                },
                SiteEvent::UserEnrolled {
                    course: history,
                    user: l,
                    method: manual,
                },
                SiteEvent::GroupMemberAdded {
                    group: evening,
                    user: l,
                },
                SiteEvent::GroupMemberRemoved {
                    group: evening,
                    user: l,
                },
                SiteEvent::GroupDeleted {
                    course: history,
                    group: evening,
                },
                SiteEvent::UserUnenrolled {
                    course: history,
                    user: l,
                    method: manual,
                },
                SiteEvent::MethodDeleted {
                    course: history,
                    method: manual,
                },
                SiteEvent::CourseDeleted { course: history },
            ],
        }
    );
}

#[test]
fn site_lifecycle_is_audited_in_the_site_itself() {
    let fx = TestSite::new();
    let mark = fx.mark();
    fx.services.suspend_site(&fx.operator, "acme").unwrap();
    fx.services.resume_site(&fx.operator, "acme").unwrap();
    assert_eq!(
        fx.changes_since(&mark),
        Changes {
            audit: vec![
                audited(
                    Actor::System,
                    "site.suspended",
                    r#"site "acme""#,
                    "site suspended"
                ),
                audited(
                    Actor::System,
                    "site.resumed",
                    r#"site "acme""#,
                    "site resumed"
                ),
            ],
            events: vec![],
        }
    );
    let first = fx
        .site
        .audit_log(&fx.admin, &AuditFilter::default(), None, 1000)
        .unwrap()
        .items
        .pop()
        .unwrap();
    assert_eq!(
        (first.actor, first.action.as_str(), first.target.as_str()),
        (Actor::System, "site.created", r#"site "acme""#)
    );
}

#[test]
fn the_audit_log_pages_newest_first_and_filters() {
    let fx = TestSite::new();
    let all = fx
        .site
        .audit_log(&fx.admin, &AuditFilter::default(), None, 1000)
        .unwrap();
    let ids: Vec<u64> = all.items.iter().map(|e| e.id.0).collect();
    let newest_first: Vec<u64> = (1..=ids.len() as u64).rev().collect();
    assert_eq!(ids, newest_first);
    assert_eq!(all.next, None);

    let first_page = fx
        .site
        .audit_log(&fx.admin, &AuditFilter::default(), None, 5)
        .unwrap();
    let second_page = fx
        .site
        .audit_log(&fx.admin, &AuditFilter::default(), first_page.next, 5)
        .unwrap();
    let paged: Vec<AuditEntry> = first_page
        .items
        .into_iter()
        .chain(second_page.items)
        .collect();
    assert_eq!(paged, all.items[..10].to_vec());

    let segments = AuditFilter {
        action_prefix: Some("segment.".into()),
        text: Some("SEGMENT #2".into()),
        actor: Some(Actor::System),
    };
    let found = fx.site.audit_log(&fx.admin, &segments, None, 100).unwrap();
    let targets: Vec<&str> = found.items.iter().map(|e| e.target.as_str()).collect();
    assert_eq!(
        targets,
        vec![
            "user #7 in segment #2",
            "user #6 in segment #2",
            r#"segment #2 "Finance""#
        ]
    );
}

#[test]
fn the_audit_log_takes_an_actor_by_name() {
    let fx = TestSite::new();
    let operator = fx.services.console_operator().unwrap_or_else(|_| {
        fx.services.first_run().unwrap();
        fx.services.console_operator().unwrap()
    });
    let new = |name: &str| NewSegment {
        name: name.into(),
        ..Default::default()
    };
    fx.site.create_segment(&fx.admin, new("By admin")).unwrap();
    fx.site
        .create_segment(&operator, new("By operator"))
        .unwrap();
    let targets = |actor: &str| -> Vec<String> {
        fx.site
            .audit_log_by_name(&fx.admin, &AuditFilter::default(), Some(actor), None, 1000)
            .unwrap()
            .items
            .into_iter()
            .filter(|e| e.action == "segment.created")
            .map(|e| e.target)
            .collect()
    };
    assert_eq!(targets("ADMIN").len(), 1);
    assert!(targets("admin")[0].contains("By admin"));
    assert!(targets("operator")[0].contains("By operator"));
    assert_eq!(targets("system").len(), 2, "HR and Finance of the set-up");
    assert!(targets(&format!("user #{}", fx.admin_id))[0].contains("By admin"));
    assert_eq!(
        refused(fx.site.audit_log_by_name(
            &fx.admin,
            &AuditFilter::default(),
            Some("nobody"),
            None,
            10
        ))
        .0,
        "Invalid"
    );
    assert_eq!(
        refused(
            fx.site
                .audit_log_by_name(&fx.teacher, &AuditFilter::default(), None, None, 10)
        )
        .0,
        "Forbidden"
    );
}
