//! The forum rules as Moodle users meet them, in the fixture's
//! separate-groups course: learner1 in Team A, learner2 in Team A and
//! Team B, learner3 in Team B, learner4 in no group.

use crate::domain::*;
use crate::services::discussions::{ActivityDraft, NewDiscussion, PostDeletion};
use crate::services::testing::TestSite;
use crate::services::tests::{refused, says};
use crate::services::{Principal, ServiceError};
use crate::storage::site::prelude::*;

/// The fixture with its groups filled and a forum in a first section.
struct Forum {
    fx: TestSite,
    forum: ActivityId,
    section: CourseSectionId,
}

impl Forum {
    fn new() -> Self {
        Self::with(|_| {})
    }

    /// A forum whose draft `change` adjusts (group mode, grouping, …).
    fn with(change: impl FnOnce(&mut ActivityDraft)) -> Self {
        let fx = TestSite::new();
        let s = &fx.site;
        s.add_group_members(&fx.admin, fx.team_a, &fx.learners[0..2])
            .unwrap();
        s.add_group_members(&fx.admin, fx.team_b, &fx.learners[1..3])
            .unwrap();
        let section = section_of(&fx, "Week 1");
        let mut draft = draft("Questions");
        change(&mut draft);
        let forum = s.create_forum(&fx.teacher, section, &draft).unwrap().id;
        Self { fx, forum, section }
    }

    fn start(&self, who: &Principal, group: Option<CourseGroupId>, subject: &str) -> Discussion {
        self.fx
            .site
            .start_discussion(
                who,
                self.forum,
                NewDiscussion {
                    group,
                    subject: subject.into(),
                    body: format!("About {subject}."),
                },
            )
            .unwrap()
    }

    /// The subjects of the discussions `who` sees, newest first.
    fn seen_by(&self, who: &Principal) -> Vec<String> {
        self.fx
            .site
            .forum(who, self.forum, None, None, 100)
            .unwrap()
            .discussions
            .items
            .into_iter()
            .map(|d| d.discussion.subject)
            .collect()
    }

    /// A discussion in each of Team A, Team B and for all participants,
    /// started by the teacher.
    fn three(&self) -> [Discussion; 3] {
        let t = &self.fx.teacher;
        [
            self.start(t, Some(self.fx.team_a), "A"),
            self.start(t, Some(self.fx.team_b), "B"),
            self.start(t, None, "All"),
        ]
    }
}

/// A visible section of the fixture's course.
fn section_of(fx: &TestSite, name: &str) -> CourseSectionId {
    let draft = crate::services::content::SectionDraft {
        name: name.into(),
        summary: String::new(),
        visible: true,
    };
    fx.site
        .create_section(&fx.teacher, fx.course, &draft)
        .unwrap()
        .id
}

/// A grouping of the fixture's course holding `groups`.
fn grouping_of(fx: &TestSite, name: &str, groups: &[CourseGroupId]) -> GroupingId {
    fx.site
        .create_grouping(&fx.teacher, fx.course, name, "", groups)
        .unwrap()
        .grouping
        .id
}

fn draft(name: &str) -> ActivityDraft {
    ActivityDraft {
        name: name.into(),
        description: "Ask here.".into(),
        visible: true,
        group_mode: None,
        grouping: None,
    }
}

fn not_found<T: std::fmt::Debug>(result: crate::services::ServiceResult<T>) {
    assert_eq!(refused(result).0, "NotFound");
}

#[test]
fn separate_groups_show_a_learner_their_groups_and_all_participants_only() {
    let f = Forum::new();
    let [a, b, _] = f.three();
    let fx = &f.fx;
    assert_eq!(f.seen_by(&fx.learner(0)), ["All", "A"]);
    assert_eq!(f.seen_by(&fx.learner(2)), ["All", "B"]);
    // In two groups: both.
    assert_eq!(f.seen_by(&fx.learner(1)), ["All", "B", "A"]);
    // In none: all participants only.
    assert_eq!(f.seen_by(&fx.learner(3)), ["All"]);
    assert_eq!(f.seen_by(&fx.teacher), ["All", "B", "A"]);

    // Team B's discussion and post through their ids: as if they did not exist.
    not_found(fx.site.discussion(&fx.learner(0), b.id));
    not_found(fx.site.post(&fx.learner(0), b.first_post));
    not_found(fx.site.reply(&fx.learner(0), b.first_post, "hi"));
    let (_, message) = refused(fx.site.discussion(&fx.learner(0), b.id));
    assert_eq!(message, format!("discussion #{} not found", b.id));
    assert!(fx.site.discussion(&fx.learner(0), a.id).is_ok());
    // Asking for Team B's list by its id narrows nothing for a Team A learner.
    let narrowed = fx
        .site
        .forum(&fx.learner(0), f.forum, Some(fx.team_b), None, 100)
        .unwrap();
    assert_eq!(narrowed.narrowed_to, None);
    assert_eq!(narrowed.discussions.items.len(), 2);
}

#[test]
fn a_non_editing_teacher_in_separate_groups_sees_only_their_groups() {
    let f = Forum::new();
    let [_, b, _] = f.three();
    let ta = f.fx.as_user(f.fx.non_editing_teacher_in("ta", f.fx.team_a));
    assert_eq!(f.seen_by(&ta), ["All", "A"]);
    not_found(f.fx.site.discussion(&ta, b.id));
}

#[test]
fn learners_start_discussions_only_in_their_own_groups() {
    let f = Forum::new();
    let fx = &f.fx;
    let (other_course, _) = fx.other_course("OTHER");
    let foreign = fx.add_group(other_course, "Elsewhere");
    let before = fx.snapshot();
    let attempt = |who: &Principal, group| {
        fx.site.start_discussion(
            who,
            f.forum,
            NewDiscussion {
                group,
                subject: "Mine".into(),
                body: "Hello".into(),
            },
        )
    };
    assert_eq!(
        refused(attempt(&fx.learner(0), Some(fx.team_b))),
        says(
            "Invalid",
            "group: you may start discussions only in your own groups"
        )
    );
    assert_eq!(
        refused(attempt(&fx.learner(0), None)),
        says(
            "Invalid",
            "group: only teachers post to all participants; choose one of your groups"
        )
    );
    assert_eq!(
        refused(attempt(&fx.learner(3), None)),
        says(
            "Invalid",
            "group: only teachers post to all participants, and you are in no group of this course"
        )
    );
    assert_eq!(
        refused(attempt(&fx.learner(0), Some(foreign))),
        says("Invalid", "group: is not a group of this course")
    );
    fx.assert_unchanged(&before);

    let mine = attempt(&fx.learner(1), Some(fx.team_b)).unwrap();
    assert_eq!(mine.group, Some(fx.team_b));
    assert_eq!(mine.posts, 1);
    let choices: Vec<_> = fx
        .site
        .forum(&fx.learner(1), f.forum, None, None, 10)
        .unwrap()
        .start_in
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(choices, ["Team A", "Team B"]);
}

#[test]
fn visible_groups_let_everyone_read_and_members_reply() {
    let f = Forum::with(|d| d.group_mode = Some(GroupMode::Visible));
    let [a, b, all] = f.three();
    let fx = &f.fx;
    let learner = fx.learner(0);
    assert_eq!(f.seen_by(&learner), ["All", "B", "A"]);
    let view = fx.site.discussion(&learner, b.id).unwrap();
    assert!(!view.can_reply);
    assert_eq!(
        refused(fx.site.reply(&learner, b.first_post, "me too")).0,
        "Forbidden"
    );
    assert!(fx.site.discussion(&learner, a.id).unwrap().can_reply);
    fx.site.reply(&learner, a.first_post, "in A").unwrap();
    // All participants: anyone who reads it answers.
    fx.site.reply(&fx.learner(3), all.first_post, "me").unwrap();
    // Narrowed to Team B by the selector.
    let narrowed = fx
        .site
        .forum(&learner, f.forum, Some(fx.team_b), None, 10)
        .unwrap();
    assert_eq!(narrowed.narrowed_to, Some(fx.team_b));
    let subjects: Vec<_> = narrowed
        .discussions
        .items
        .iter()
        .map(|d| d.discussion.subject.as_str())
        .collect();
    assert_eq!(subjects, ["All", "B"]);
}

#[test]
fn a_forum_without_groups_takes_no_group_and_lets_learners_start() {
    let f = Forum::with(|d| d.group_mode = Some(GroupMode::None));
    let fx = &f.fx;
    let d = f.start(&fx.learner(3), None, "Open");
    assert_eq!(d.group, None);
    assert_eq!(
        refused(fx.site.start_discussion(
            &fx.learner(0),
            f.forum,
            NewDiscussion {
                group: Some(fx.team_a),
                subject: "x".into(),
                body: "y".into()
            }
        )),
        says(
            "Invalid",
            "group: this forum has no groups; post to all participants"
        )
    );
    assert_eq!(f.seen_by(&fx.learner(0)), ["Open"]);
}

#[test]
fn a_hidden_forum_stays_hidden_through_its_ids() {
    let f = Forum::new();
    let [a, _, _] = f.three();
    let fx = &f.fx;
    let mut hidden = draft("Questions");
    hidden.visible = false;
    fx.site.update_forum(&fx.teacher, f.forum, &hidden).unwrap();
    let learner = fx.learner(0);
    not_found(fx.site.forum(&learner, f.forum, None, None, 10));
    not_found(fx.site.discussion(&learner, a.id));
    not_found(fx.site.post(&learner, a.first_post));
    not_found(fx.site.reply(&learner, a.first_post, "hi"));
    not_found(
        fx.site
            .set_subscription(&learner, SubscriptionTarget::Forum(f.forum), true),
    );
    assert_eq!(f.seen_by(&fx.teacher).len(), 3);
}

#[test]
fn a_forum_restricted_to_a_grouping_is_invisible_outside_it() {
    let f = Forum::new();
    let fx = &f.fx;
    let grouping = grouping_of(fx, "Only A", &[fx.team_a]);
    let mut restricted = draft("Questions");
    restricted.grouping = Some(grouping);
    fx.site
        .update_forum(&fx.teacher, f.forum, &restricted)
        .unwrap();
    assert!(
        fx.site
            .forum(&fx.learner(0), f.forum, None, None, 10)
            .is_ok()
    );
    not_found(fx.site.forum(&fx.learner(2), f.forum, None, None, 10));
    not_found(fx.site.forum(&fx.learner(3), f.forum, None, None, 10));
}

#[test]
fn markdown_is_rendered_once_and_never_runs_a_script() {
    let f = Forum::new();
    let fx = &f.fx;
    let d = fx
        .site
        .start_discussion(
            &fx.learner(0),
            f.forum,
            NewDiscussion {
                group: Some(fx.team_a),
                subject: "Hi".into(),
                body: "**bold** <script>alert(1)</script> [x](javascript:alert(2))".into(),
            },
        )
        .unwrap();
    let post = fx
        .site
        .post(&fx.learner(0), d.first_post)
        .unwrap()
        .post
        .post;
    assert!(
        post.body_html.contains("<strong>bold</strong>"),
        "{}",
        post.body_html
    );
    assert!(!post.body_html.contains("<script"), "{}", post.body_html);
    assert!(
        !post.body_html.contains("javascript:"),
        "{}",
        post.body_html
    );
    assert!(
        post.body.contains("<script>"),
        "the Markdown is kept as written"
    );
}

#[test]
fn authors_edit_within_the_window_and_editing_teachers_always() {
    let f = Forum::new();
    let fx = &f.fx;
    let d = f.start(&fx.learner(0), Some(fx.team_a), "Draft");
    let learner = fx.learner(0);
    let edited = fx
        .site
        .edit_post(&learner, d.first_post, "Better", Some("Final"))
        .unwrap();
    assert!(edited.edited_at.is_some());
    assert_eq!(
        fx.site
            .discussion(&learner, d.id)
            .unwrap()
            .discussion
            .subject,
        "Final"
    );
    // Another learner of the group: not theirs.
    assert_eq!(
        refused(
            fx.site
                .edit_post(&fx.learner(1), d.first_post, "Mine", None)
        )
        .0,
        "Forbidden"
    );
    // 31 minutes later.
    fx.site
        .write(|t| {
            let mut p = t.post(d.first_post)?.unwrap();
            p.created_at = Timestamp(p.created_at.0 - 31 * 60_000);
            t.put_post(&p)?;
            Ok(())
        })
        .unwrap();
    let before = fx.snapshot();
    let (kind, message) = refused(fx.site.edit_post(&learner, d.first_post, "Late", None));
    assert_eq!(kind, "Conflict");
    assert!(
        message.starts_with("a post may be edited for 30 minutes"),
        "{message}"
    );
    fx.assert_unchanged(&before);
    assert!(!fx.site.discussion(&learner, d.id).unwrap().posts[0].can_edit);
    // A longer window set by the site admin lets it through.
    assert_eq!(
        refused(fx.site.set_discussion_edit_window(&fx.teacher, 60)).0,
        "Forbidden"
    );
    fx.site.set_discussion_edit_window(&fx.admin, 60).unwrap();
    fx.site
        .edit_post(&learner, d.first_post, "Late", None)
        .unwrap();
    fx.site
        .edit_post(&fx.teacher, d.first_post, "By teacher", None)
        .unwrap();
}

#[test]
fn staff_delete_a_reply_with_its_subtree_or_the_whole_discussion() {
    let f = Forum::new();
    let fx = &f.fx;
    let d = f.start(&fx.learner(0), Some(fx.team_a), "Thread");
    let r1 = fx.site.reply(&fx.learner(1), d.first_post, "one").unwrap();
    let r2 = fx.site.reply(&fx.learner(0), r1.id, "two").unwrap();
    let r3 = fx
        .site
        .reply(&fx.learner(0), d.first_post, "three")
        .unwrap();
    let view = fx.site.discussion(&fx.teacher, d.id).unwrap();
    let order: Vec<_> = view.posts.iter().map(|p| (p.post.id, p.depth)).collect();
    assert_eq!(
        order,
        [(d.first_post, 0), (r1.id, 1), (r2.id, 2), (r3.id, 1)]
    );
    assert_eq!(view.discussion.posts, 4);

    assert_eq!(
        refused(fx.site.delete_post(&fx.learner(0), r2.id)).0,
        "Forbidden"
    );
    assert_eq!(
        fx.site.delete_post(&fx.teacher, r1.id).unwrap(),
        PostDeletion::Subtree { replies: 1 }
    );
    let view = fx.site.discussion(&fx.teacher, d.id).unwrap();
    assert_eq!(view.posts.len(), 2);
    assert_eq!(view.discussion.posts, 2);
    not_found(fx.site.post(&fx.teacher, r2.id));

    assert_eq!(
        fx.site.delete_post(&fx.teacher, d.first_post).unwrap(),
        PostDeletion::Discussion
    );
    not_found(fx.site.discussion(&fx.teacher, d.id));
    not_found(fx.site.post(&fx.teacher, r3.id));
    assert!(f.seen_by(&fx.teacher).is_empty());
}

#[test]
fn subscribers_who_may_see_a_post_get_an_inbox_copy() {
    let f = Forum::new();
    let fx = &f.fx;
    let forum = SubscriptionTarget::Forum(f.forum);
    for i in [1, 2] {
        assert!(
            fx.site
                .set_subscription(&fx.learner(i), forum, true)
                .unwrap()
        );
    }
    assert!(
        !fx.site
            .set_subscription(&fx.learner(2), forum, true)
            .unwrap()
    );
    // learner1 starts in Team A: learner2 (Team A and B) hears of it,
    // learner3 (Team B only) does not; the author follows it.
    let d = f.start(&fx.learner(0), Some(fx.team_a), "Quiz dates");
    let inbox = |i: usize| fx.site.inbox(&fx.learner(i), None, 10).unwrap();
    assert_eq!(inbox(1).unread, 1);
    assert_eq!(inbox(1).page.items[0].subject, "Quiz dates");
    assert_eq!(inbox(2).unread, 0);
    assert_eq!(inbox(0).unread, 0);
    // A reply reaches the discussion's author, not the one who wrote it.
    fx.site
        .reply(&fx.learner(1), d.first_post, "Friday")
        .unwrap();
    assert_eq!(inbox(0).unread, 1);
    assert_eq!(inbox(0).page.items[0].subject, "Re: Quiz dates");
    assert_eq!(inbox(1).unread, 1);
    let opened = fx
        .site
        .open_inbox_message(&fx.learner(0), inbox(0).page.items[0].announcement)
        .unwrap();
    assert!(opened.html.contains("Friday"), "{}", opened.html);
    // Unsubscribed: nothing more.
    fx.site
        .set_subscription(&fx.learner(1), forum, false)
        .unwrap();
    fx.site
        .reply(&fx.learner(0), d.first_post, "Thanks")
        .unwrap();
    assert_eq!(inbox(1).unread, 1);
    // Not an announcement of the course or the site.
    assert!(
        fx.site
            .course_announcements(&fx.teacher, fx.course, None, 50)
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        fx.site
            .site_announcements(&fx.admin, None, 50)
            .unwrap()
            .items
            .is_empty()
    );
}

#[test]
fn starting_a_discussion_is_audited_and_evented() {
    let f = Forum::new();
    let fx = &f.fx;
    let mark = fx.mark();
    let d = f.start(&fx.learner(0), Some(fx.team_a), "Hello");
    let changes = fx.changes_since(&mark);
    let actions: Vec<_> = changes.audit.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(actions, ["discussion.started"]);
    assert_eq!(
        changes.events,
        [
            SiteEvent::DiscussionStarted {
                course: fx.course,
                forum: f.forum,
                discussion: d.id
            },
            SiteEvent::PostCreated {
                course: fx.course,
                discussion: d.id,
                post: d.first_post
            }
        ]
    );
    let _ = f.section;
}

#[test]
fn deleting_the_forum_deletes_its_discussions_and_subscriptions() {
    let f = Forum::new();
    let fx = &f.fx;
    let [a, ..] = f.three();
    fx.site
        .set_subscription(&fx.learner(0), SubscriptionTarget::Forum(f.forum), true)
        .unwrap();
    fx.site.delete_activity(&fx.teacher, f.forum).unwrap();
    fx.site
        .read(|t| {
            assert!(t.discussion(a.id)?.is_none());
            assert!(t.post(a.first_post)?.is_none());
            assert!(t.all_forum_discussion_ids(f.forum)?.is_empty());
            assert!(
                t.subscribers_of(SubscriptionTarget::Forum(f.forum))?
                    .is_empty()
            );
            Ok(())
        })
        .unwrap();
}

#[test]
fn a_deleted_groups_discussions_stay_for_those_who_access_all_groups() {
    let f = Forum::new();
    let [a, ..] = f.three();
    let fx = &f.fx;
    fx.site.delete_group(&fx.admin, fx.team_a).unwrap();
    not_found(fx.site.discussion(&fx.learner(0), a.id));
    let view = fx.site.discussion(&fx.teacher, a.id).unwrap();
    assert_eq!(view.group_name, format!("deleted group #{}", fx.team_a));
}

#[test]
fn another_sites_user_learns_nothing() {
    let f = Forum::new();
    let other = f.fx.another_site("globex");
    let [a, ..] = f.three();
    let stranger = Principal::site_user(other.id(), other.admin_id);
    let err = f.fx.site.discussion(&stranger, a.id).unwrap_err();
    assert!(matches!(err, ServiceError::Forbidden(_)), "{err:?}");
}

#[test]
fn where_the_site_sends_mail_a_post_queues_its_subscribers_e_mail_copies() {
    let f = Forum::new();
    let fx = &f.fx;
    fx.site
        .save_smtp_settings(
            &fx.admin,
            crate::services::mail::SmtpSettingsInput {
                host: "127.0.0.1".into(),
                port: 2525,
                security: Some(SmtpSecurity::None),
                from_address: "lms@example.org".into(),
                ..Default::default()
            },
        )
        .unwrap();
    fx.site
        .set_subscription(&fx.learner(1), SubscriptionTarget::Forum(f.forum), true)
        .unwrap();
    let d = f.start(&fx.learner(0), Some(fx.team_a), "Mail me");
    let jobs = fx.site.read(|t| Ok(t.mail_jobs_after(None, 10)?)).unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].recipients, [fx.learners[1]]);
    let message = fx
        .site
        .read(|t| Ok(t.announcement(jobs[0].announcement)?))
        .unwrap();
    let message = message.expect("the notification's message");
    assert_eq!(message.subject, "Mail me");
    assert_eq!(
        message.audience,
        Audience::ForumSubscribers {
            course: fx.course,
            forum: f.forum,
            discussion: d.id,
            post: d.first_post
        }
    );
    assert_eq!(message.delivery.queued, 1);
}
