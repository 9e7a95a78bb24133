//! Announcements and the inbox (issue 17): who may announce to whom,
//! which recipients a send fixes, the inbox copies and their unread
//! counts, scheduling, editing and withdrawing, and refused input that
//! writes nothing.

use crate::domain::*;
use crate::services::announcements::{AnnouncementDraft, MAX_BODY_BYTES};
use crate::services::testing::TestSite;
use crate::services::{Principal, ServiceError};

fn draft(audience: Audience, subject: &str) -> AnnouncementDraft {
    AnnouncementDraft {
        audience,
        subject: subject.into(),
        body: "The **deadline** moved.".into(),
        send_at: None,
    }
}

fn field_of(error: ServiceError) -> &'static str {
    match error {
        ServiceError::Invalid { field, .. } => field,
        other => panic!("expected a field error, got {other:?}"),
    }
}

/// A non-editing teacher of the fixture's course, in Team A.
fn non_editing_teacher_in_team_a(fx: &TestSite) -> Principal {
    fx.as_user(fx.non_editing_teacher_in("ta", fx.team_a))
}

#[test]
fn a_segment_announcement_reaches_its_active_members_inbox_once() {
    let fx = TestSite::new();
    let mark = fx.mark();
    // Finance: learners 4 and 5; learner 5 suspended takes no copy.
    fx.site.suspend_user(&fx.admin, fx.learners[4]).unwrap();
    let preview = fx
        .site
        .preview_announcement(&fx.admin, &draft(Audience::Segment(fx.finance), "Deadline"))
        .unwrap();
    assert_eq!(preview.recipients, 1);
    assert!(
        preview.html.contains("<strong>deadline</strong>"),
        "{}",
        preview.html
    );

    let sent = fx
        .site
        .create_announcement(
            &fx.admin,
            draft(Audience::Segment(fx.finance), "Compliance deadline moved"),
        )
        .unwrap();
    assert_eq!(sent.state, AnnouncementState::Sent);
    assert_eq!(sent.recipients, 1);

    let member = fx.learner(3);
    let inbox = fx.site.inbox(&member, None, 50).unwrap();
    assert_eq!(inbox.unread, 1);
    assert_eq!(inbox.page.items.len(), 1);
    assert_eq!(inbox.page.items[0].subject, "Compliance deadline moved");
    assert!(!inbox.page.items[0].read);
    assert_eq!(fx.site.unread_count(&member).unwrap(), 1);

    // An HR member sees nothing, and cannot open the message.
    let other = fx.learner(0);
    assert_eq!(fx.site.inbox(&other, None, 50).unwrap().page.items.len(), 0);
    assert!(matches!(
        fx.site.open_inbox_message(&other, sent.id),
        Err(ServiceError::NotFound(_))
    ));

    let opened = fx.site.open_inbox_message(&member, sent.id).unwrap();
    assert!(opened.html.contains("<strong>deadline</strong>"));
    assert_eq!(fx.site.unread_count(&member).unwrap(), 0);
    fx.site.set_inbox_read(&member, sent.id, false).unwrap();
    assert_eq!(fx.site.unread_count(&member).unwrap(), 1);
    assert_eq!(fx.site.mark_inbox_read(&member).unwrap(), 1);
    assert_eq!(fx.site.unread_count(&member).unwrap(), 0);

    let mark_free: Vec<_> = fx
        .changes_since(&mark)
        .audit
        .into_iter()
        .filter(|a| a.action == "announcement.sent")
        .collect();
    assert_eq!(mark_free.len(), 1, "{mark_free:?}");
}

#[test]
fn the_recipient_list_is_fixed_when_sent() {
    let fx = TestSite::new();
    let sent = fx
        .site
        .create_announcement(&fx.admin, draft(Audience::Segment(fx.hr), "Before"))
        .unwrap();
    assert_eq!(sent.recipients, 3);
    let newcomer = fx.user("newcomer");
    fx.site
        .add_segment_members(&fx.admin, fx.hr, &[newcomer])
        .unwrap();
    assert_eq!(
        fx.site
            .inbox(&fx.as_user(newcomer), None, 50)
            .unwrap()
            .total,
        0
    );
    let view = fx.site.announcement(&fx.admin, sent.id).unwrap();
    assert_eq!(view.announcement.recipients, 3);
}

#[test]
fn a_course_announcement_reaches_its_participants_but_not_its_author() {
    let fx = TestSite::new();
    let sent = fx
        .site
        .create_announcement(&fx.teacher, draft(Audience::Course(fx.course), "Week 2"))
        .unwrap();
    // Learners 1–4; the teacher wrote it.
    assert_eq!(sent.recipients, 4);
    assert_eq!(fx.site.inbox(&fx.teacher, None, 50).unwrap().total, 0);
    let list = fx
        .site
        .course_announcements(&fx.teacher, fx.course, None, 50)
        .unwrap();
    assert_eq!(list.items.len(), 1);
    // A learner may not announce, nor list the course's announcements.
    assert!(matches!(
        fx.site
            .create_announcement(&fx.learner(0), draft(Audience::Course(fx.course), "x")),
        Err(ServiceError::Forbidden(_))
    ));
    assert!(
        fx.site
            .course_announcements(&fx.learner(0), fx.course, None, 50)
            .is_err()
    );
}

#[test]
fn in_separate_groups_a_teacher_reaches_only_their_own_groups() {
    let fx = TestSite::new();
    let ta = non_editing_teacher_in_team_a(&fx);
    fx.site
        .add_group_members(&fx.admin, fx.team_a, &[fx.learners[0]])
        .unwrap();
    fx.site
        .add_group_members(&fx.admin, fx.team_b, &[fx.learners[1]])
        .unwrap();
    let reach = fx.site.announcement_reach(&ta, fx.course).unwrap();
    assert!(!reach.whole_course);
    assert_eq!(
        reach.groups.iter().map(|g| g.id).collect::<Vec<_>>(),
        vec![fx.team_a]
    );

    let to = |groups: Vec<CourseGroupId>| Audience::Groups {
        course: fx.course,
        groups,
    };
    for audience in [
        to(vec![fx.team_b]),
        to(vec![fx.team_a, fx.team_b]),
        Audience::Course(fx.course),
    ] {
        assert!(
            matches!(
                fx.site
                    .create_announcement(&ta, draft(audience.clone(), "x")),
                Err(ServiceError::Forbidden(_))
            ),
            "{audience:?}"
        );
    }
    let sent = fx
        .site
        .create_announcement(&ta, draft(to(vec![fx.team_a]), "Team A only"))
        .unwrap();
    assert_eq!(sent.recipients, 1);
    assert_eq!(fx.site.unread_count(&fx.learner(0)).unwrap(), 1);
    assert_eq!(fx.site.unread_count(&fx.learner(1)).unwrap(), 0);

    // The editing teacher sees all groups and reaches Team B.
    let reach = fx.site.announcement_reach(&fx.teacher, fx.course).unwrap();
    assert!(reach.whole_course);
    fx.site
        .create_announcement(&fx.teacher, draft(to(vec![fx.team_b]), "Team B"))
        .unwrap();
    assert_eq!(fx.site.unread_count(&fx.learner(1)).unwrap(), 1);
}

#[test]
fn in_visible_groups_a_non_editing_teacher_reaches_any_group() {
    let fx = TestSite::new();
    fx.site
        .update_course(
            &fx.admin,
            fx.course,
            crate::services::courses::CourseUpdate {
                group_mode: Some(GroupMode::Visible),
                ..Default::default()
            },
        )
        .unwrap();
    let ta = non_editing_teacher_in_team_a(&fx);
    let reach = fx.site.announcement_reach(&ta, fx.course).unwrap();
    assert!(reach.whole_course);
    assert_eq!(reach.groups.len(), 2);
}

#[test]
fn bad_input_is_refused_field_by_field_and_writes_nothing() {
    let (fx, other) = TestSite::two_sites();
    let course2 = fx
        .site
        .create_course(
            &fx.admin,
            crate::services::courses::NewCourse {
                shortname: "OTHER".into(),
                fullname: "Other".into(),
                group_mode: GroupMode::None,
                force_group_mode: false,
            },
        )
        .unwrap();
    let before = fx.site.snapshot();
    let refused =
        |who: &Principal, d: AnnouncementDraft| fx.site.create_announcement(who, d).unwrap_err();

    let mut d = draft(Audience::Course(fx.course), "  ");
    assert_eq!(field_of(refused(&fx.admin, d.clone())), "subject");
    d.subject = "ok".into();
    d.body = "x".repeat(MAX_BODY_BYTES + 1);
    assert_eq!(field_of(refused(&fx.admin, d.clone())), "body");
    d.body = " ".into();
    assert_eq!(field_of(refused(&fx.admin, d)), "body");
    let mut past = draft(Audience::Course(fx.course), "ok");
    past.send_at = Some(Timestamp(Timestamp::now().0 - 3_600_000));
    assert_eq!(field_of(refused(&fx.admin, past)), "send_at");
    let other_course_group = Audience::Groups {
        course: course2.id,
        groups: vec![fx.team_a],
    };
    assert_eq!(
        field_of(refused(&fx.admin, draft(other_course_group, "ok"))),
        "audience"
    );
    let no_group = Audience::Groups {
        course: fx.course,
        groups: vec![],
    };
    assert_eq!(
        field_of(refused(&fx.admin, draft(no_group, "ok"))),
        "audience"
    );
    // A segment of another site: its id names nothing here.
    let foreign = SegmentId(other.finance.0 + 100);
    assert_eq!(
        field_of(refused(&fx.admin, draft(Audience::Segment(foreign), "ok"))),
        "audience"
    );
    // A teacher may not announce to a segment; another site's admin not here.
    assert!(matches!(
        refused(&fx.teacher, draft(Audience::Segment(fx.hr), "ok")),
        ServiceError::Forbidden(_)
    ));
    assert!(matches!(
        refused(&other.admin, draft(Audience::Course(fx.course), "ok")),
        ServiceError::Forbidden(_)
    ));
    assert_eq!(fx.site.snapshot(), before);
    assert!(
        fx.site
            .site_announcements(&fx.admin, None, 50)
            .unwrap()
            .items
            .is_empty()
    );
}

#[test]
fn a_scheduled_announcement_is_edited_or_withdrawn_until_it_is_sent() {
    let fx = TestSite::new();
    let mark = fx.mark();
    let mut later = draft(Audience::Course(fx.course), "Later");
    later.send_at = Some(Timestamp(Timestamp::now().0 + 3_600_000));
    let scheduled = fx
        .site
        .create_announcement(&fx.teacher, later.clone())
        .unwrap();
    assert_eq!(scheduled.state, AnnouncementState::Scheduled);
    assert_eq!(fx.site.unread_count(&fx.learner(0)).unwrap(), 0);
    assert_eq!(fx.site.send_due_announcements().unwrap(), 0);

    later.subject = "Later, edited".into();
    let edited = fx
        .site
        .update_announcement(&fx.teacher, scheduled.id, later.clone())
        .unwrap();
    assert_eq!(edited.subject, "Later, edited");
    // Another teacher's learner cannot touch it.
    assert!(
        fx.site
            .withdraw_announcement(&fx.learner(0), scheduled.id)
            .is_err()
    );

    // Moved to now: it is sent by the edit itself.
    later.send_at = None;
    let sent = fx
        .site
        .update_announcement(&fx.teacher, scheduled.id, later.clone())
        .unwrap();
    assert_eq!(sent.state, AnnouncementState::Sent);
    assert_eq!(fx.site.unread_count(&fx.learner(0)).unwrap(), 1);
    assert!(matches!(
        fx.site.withdraw_announcement(&fx.teacher, scheduled.id),
        Err(ServiceError::Conflict(_))
    ));

    let mut other = draft(Audience::Course(fx.course), "Never");
    other.send_at = Some(Timestamp(Timestamp::now().0 + 3_600_000));
    let other = fx.site.create_announcement(&fx.teacher, other).unwrap();
    let withdrawn = fx
        .site
        .withdraw_announcement(&fx.teacher, other.id)
        .unwrap();
    assert_eq!(withdrawn.state, AnnouncementState::Withdrawn);
    assert_eq!(fx.site.unread_count(&fx.learner(0)).unwrap(), 1);
    assert!(
        fx.site
            .update_announcement(&fx.teacher, other.id, later)
            .is_err()
    );
    let actions: Vec<String> = fx
        .changes_since(&mark)
        .audit
        .into_iter()
        .map(|e| e.action)
        .collect();
    for action in [
        "announcement.scheduled",
        "announcement.updated",
        "announcement.sent",
        "announcement.withdrawn",
    ] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} not in {actions:?}"
        );
    }
}

#[test]
fn due_announcements_are_sent_by_the_scheduler() {
    let fx = TestSite::new();
    let mut soon = draft(Audience::Course(fx.course), "Soon");
    // A schedule a moment ahead, then the clock passes it: the test waits
    // on the state the service reports, not on a duration it guesses.
    let at = Timestamp::now().0 + 200;
    soon.send_at = Some(Timestamp(at));
    // The host's scheduler first reads every site (nothing due yet), then
    // hears of the new schedule from the service.
    assert_eq!(fx.services.send_due_announcements().unwrap(), 0);
    let scheduled = fx.site.create_announcement(&fx.teacher, soon).unwrap();
    assert_eq!(scheduled.state, AnnouncementState::Scheduled);
    while Timestamp::now().0 <= at {
        std::thread::yield_now();
    }
    assert_eq!(fx.services.send_due_announcements().unwrap(), 1);
    assert_eq!(fx.services.send_due_announcements().unwrap(), 0);
    assert_eq!(fx.site.unread_count(&fx.learner(0)).unwrap(), 1);
}

#[test]
fn a_deleted_user_leaves_no_inbox_behind() {
    let fx = TestSite::new();
    fx.site
        .create_announcement(&fx.admin, draft(Audience::Segment(fx.hr), "x"))
        .unwrap();
    fx.site.delete_user(&fx.admin, fx.learners[0]).unwrap();
    let dump = fx.site.snapshot();
    let (_, rows) = dump.iter().find(|(name, _)| name == "inbox-v1").unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
}

#[test]
fn the_scheduler_finds_announcements_scheduled_before_it_started() {
    let fx = TestSite::new();
    let at = Timestamp::now().0 + 200;
    let mut soon = draft(Audience::Segment(fx.hr), "Soon");
    soon.send_at = Some(Timestamp(at));
    fx.site.create_announcement(&fx.admin, soon).unwrap();
    while Timestamp::now().0 <= at {
        std::thread::yield_now();
    }
    // Its first run reads the site's schedule from the file.
    assert_eq!(fx.services.send_due_announcements().unwrap(), 1);
    assert_eq!(fx.site.unread_count(&fx.learner(0)).unwrap(), 1);
}
