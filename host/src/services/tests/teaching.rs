//! Issue 18's rules of who sees what in a course: content (hidden
//! activities and sections, grouping restrictions), the group modes on
//! participants and groups, e-mail privacy, groupings, and bad input that
//! must write nothing.

use super::{refused, says};
use crate::domain::*;
use crate::services::Principal;
use crate::services::content::{ActivityDraft, ActivityUpdate, SectionDraft, SectionUpdate};
use crate::services::courses::CourseUpdate;
use crate::services::groupings::GroupingUpdate;
use crate::services::testing::{TestSite, audited};

/// The fixture with teams (learners 1–2 in Team A, 3–4 in Team B).
fn teams() -> TestSite {
    TestSite::new().with_teams()
}

fn page(fx: &TestSite, name: &str, set: impl FnOnce(&mut ActivityDraft)) -> ActivityId {
    let mut draft = ActivityDraft {
        name: name.into(),
        description: format!("About {name}."),
        visible: true,
        ..Default::default()
    };
    set(&mut draft);
    fx.site
        .create_page(&fx.teacher, fx.section, &draft)
        .unwrap()
        .id
}

/// The names of the activities `who` sees on the course page.
fn seen(fx: &TestSite, who: &Principal) -> Vec<String> {
    fx.site
        .course_content(who, fx.course)
        .unwrap()
        .sections
        .into_iter()
        .flat_map(|s| s.activities)
        .map(|a| a.name)
        .collect()
}

fn names(participants: &[crate::services::enrolments::Participant]) -> Vec<String> {
    participants
        .iter()
        .map(|p| p.user.username.clone())
        .collect()
}

#[test]
fn a_hidden_activity_stays_hidden_from_learners_even_by_its_id() {
    let fx = teams();
    let hidden = page(&fx, "Draft", |d| d.visible = false);
    assert_eq!(seen(&fx, &fx.learner(0)), ["Welcome"]);
    assert_eq!(seen(&fx, &fx.teacher), ["Welcome", "Draft"]);
    assert_eq!(
        refused(fx.site.activity_page(&fx.learner(0), hidden)),
        says("NotFound", &format!("activity #{hidden} not found"))
    );
    assert!(fx.site.activity_page(&fx.teacher, hidden).is_ok());
    // A non-editing teacher sees hidden activities too (Moodle's
    // "view hidden activities" of the teacher roles).
    let assistant = fx.non_editing_teacher_in("assistant", fx.team_a);
    assert!(
        fx.site
            .activity_page(&fx.as_user(assistant), hidden)
            .is_ok()
    );
    // Shown again, the learner finds it.
    fx.site
        .set_activity_visible(&fx.teacher, hidden, true)
        .unwrap();
    assert!(fx.site.activity_page(&fx.learner(0), hidden).is_ok());
}

#[test]
fn a_hidden_section_hides_every_activity_in_it() {
    let fx = teams();
    fx.site
        .update_section(
            &fx.teacher,
            fx.section,
            &SectionUpdate {
                visible: Some(false),
                ..Default::default()
            },
        )
        .unwrap();
    assert!(seen(&fx, &fx.learner(0)).is_empty());
    assert_eq!(
        refused(fx.site.activity_page(&fx.learner(0), fx.page)),
        says("NotFound", &format!("activity #{} not found", fx.page))
    );
    assert_eq!(
        refused(fx.site.get_section(&fx.learner(0), fx.section)),
        says(
            "NotFound",
            &format!("course section #{} not found", fx.section)
        )
    );
    assert_eq!(seen(&fx, &fx.teacher), ["Welcome"]);
}

#[test]
fn an_activity_restricted_to_a_grouping_is_seen_by_its_groups_members_and_staff_only() {
    let fx = teams();
    let a_only = fx
        .site
        .create_grouping(&fx.teacher, fx.course, "A only", "", &[fx.team_a])
        .unwrap()
        .grouping
        .id;
    let restricted = page(&fx, "For A", |d| d.grouping = Some(a_only));
    assert_eq!(
        seen(&fx, &fx.learner(0)),
        ["Welcome", "For A"],
        "learner1 is in Team A"
    );
    assert_eq!(
        seen(&fx, &fx.learner(2)),
        ["Welcome"],
        "learner3 is in Team B"
    );
    assert!(fx.site.activity_page(&fx.learner(2), restricted).is_err());
    assert_eq!(seen(&fx, &fx.teacher), ["Welcome", "For A"]);
    // A learner in no group sees no restricted activity.
    fx.site
        .remove_group_members(&fx.admin, fx.team_a, &[fx.learners[1]])
        .unwrap();
    assert_eq!(seen(&fx, &fx.learner(1)), ["Welcome"]);
    // Team B joins the grouping: its members see it.
    fx.site
        .update_grouping(
            &fx.teacher,
            a_only,
            &GroupingUpdate {
                groups: Some(vec![fx.team_a, fx.team_b]),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(seen(&fx, &fx.learner(2)), ["Welcome", "For A"]);
}

#[test]
fn in_separate_groups_a_learner_sees_only_their_groups_people_and_no_addresses() {
    let fx = teams();
    let mine = fx
        .site
        .participants(&fx.learner(0), fx.course, None, 100)
        .unwrap()
        .items;
    assert_eq!(names(&mine), ["learner1", "learner2"]);
    let emails: Vec<&str> = mine.iter().map(|p| p.user.email.as_str()).collect();
    assert_eq!(
        emails,
        ["learner1@example.org", ""],
        "only one's own address"
    );
    assert!(mine.iter().all(|p| p.user.password_hash.is_none()));
    // The page's list, and its search, say the same; another's address
    // finds nobody, so it cannot be probed.
    let page = fx
        .site
        .course_participants(&fx.learner(0), fx.course, Some("learner2@"), None, 100)
        .unwrap();
    assert!(page.participants.items.is_empty());
    assert!(!page.manages && !page.shows_emails && page.limited_to_groups);
    let page = fx
        .site
        .course_participants(&fx.learner(0), fx.course, None, None, 100)
        .unwrap();
    assert_eq!(
        page.groups,
        [vec!["Team A".to_owned()], vec!["Team A".to_owned()]]
    );
    assert!(
        page.participants
            .items
            .iter()
            .flat_map(|p| &p.enrolments)
            .all(|e| e.method.config.is_empty()),
        "a learner never sees a method's config"
    );
    // A learner in both groups sees both; one in none sees themself.
    fx.site
        .add_group_members(&fx.admin, fx.team_b, &[fx.learners[0]])
        .unwrap();
    let both = fx
        .site
        .participants(&fx.learner(0), fx.course, None, 100)
        .unwrap();
    assert_eq!(
        names(&both.items),
        ["learner1", "learner2", "learner3", "learner4"]
    );
    let alone = fx.user("alone");
    fx.site
        .enrol(&fx.admin, fx.manual, alone, Role::Learner)
        .unwrap();
    let alone = fx
        .site
        .participants(&fx.as_user(alone), fx.course, None, 100)
        .unwrap();
    assert_eq!(names(&alone.items), ["alone"]);
    // The editing teacher sees everyone, with addresses.
    let all = fx
        .site
        .participants(&fx.teacher, fx.course, None, 100)
        .unwrap();
    assert_eq!(all.items.len(), 6);
    assert!(all.items.iter().all(|p| !p.user.email.is_empty()));
}

#[test]
fn a_non_editing_teacher_sees_their_groups_only_and_editing_teachers_all() {
    let fx = teams();
    let assistant = fx.non_editing_teacher_in("assistant", fx.team_b);
    let who = fx.as_user(assistant);
    let seen = fx.site.participants(&who, fx.course, None, 100).unwrap();
    assert_eq!(names(&seen.items), ["learner3", "learner4", "assistant"]);
    assert!(
        seen.items.iter().all(|p| !p.user.email.is_empty()),
        "staff see addresses"
    );
    let groups: Vec<String> = fx
        .site
        .list_groups(&who, fx.course)
        .unwrap()
        .into_iter()
        .map(|g| g.group.name)
        .collect();
    assert_eq!(groups, ["Team B"]);
    assert_eq!(
        refused(fx.site.group_members(&who, fx.team_a, None, 10)),
        says(
            "NotFound",
            &format!("course group #{} not found", fx.team_a)
        )
    );
    assert_eq!(
        fx.site.list_groups(&fx.teacher, fx.course).unwrap().len(),
        2
    );
}

#[test]
fn visible_groups_and_no_groups_show_every_participant() {
    let fx = teams();
    for mode in [GroupMode::Visible, GroupMode::None] {
        fx.site
            .update_course(
                &fx.admin,
                fx.course,
                CourseUpdate {
                    group_mode: Some(mode),
                    ..Default::default()
                },
            )
            .unwrap();
        let all = fx
            .site
            .participants(&fx.learner(0), fx.course, None, 100)
            .unwrap();
        assert_eq!(all.items.len(), 5, "{mode:?}");
        assert!(
            fx.site
                .group_members(&fx.learner(0), fx.team_b, None, 10)
                .is_ok()
        );
    }
}

#[test]
fn the_site_may_let_learners_see_addresses() {
    let fx = teams();
    let saved = fx
        .site
        .set_site_privacy(
            &fx.admin,
            &SitePrivacy {
                learners_see_emails: true,
            },
        )
        .unwrap();
    assert!(saved.learners_see_emails);
    let mine = fx
        .site
        .participants(&fx.learner(0), fx.course, None, 100)
        .unwrap();
    assert!(mine.items.iter().all(|p| !p.user.email.is_empty()));
    let members = fx
        .site
        .group_members(&fx.learner(0), fx.team_a, None, 10)
        .unwrap();
    assert!(members.items.iter().all(|m| !m.user.email.is_empty()));
    assert_eq!(
        refused(
            fx.site
                .set_site_privacy(&fx.teacher, &SitePrivacy::default())
        ),
        says("Forbidden", "not allowed: this needs the site admin role")
    );
}

#[test]
fn sections_and_activities_are_reordered_and_moved_within_their_course_only() {
    let fx = teams();
    let week2 = fx
        .site
        .create_section(
            &fx.teacher,
            fx.course,
            &SectionDraft {
                name: "Week 2".into(),
                ..Default::default()
            },
        )
        .unwrap()
        .id;
    let second = page(&fx, "Second", |_| {});
    let (_, order) = fx.site.move_section(&fx.teacher, week2, 0).unwrap();
    assert_eq!(order, [week2, fx.section]);
    fx.site
        .move_activity(&fx.teacher, second, fx.section, 0)
        .unwrap();
    assert_eq!(seen(&fx, &fx.teacher), ["Second", "Welcome"]);
    fx.site
        .move_activity(&fx.teacher, second, week2, 0)
        .unwrap();
    let content = fx.site.course_content(&fx.teacher, fx.course).unwrap();
    let by_section: Vec<(String, Vec<String>)> = content
        .sections
        .into_iter()
        .map(|s| {
            (
                s.section.name,
                s.activities.into_iter().map(|a| a.name).collect(),
            )
        })
        .collect();
    assert_eq!(
        by_section,
        [
            ("Week 2".to_owned(), vec!["Second".to_owned()]),
            ("Week 1".to_owned(), vec!["Welcome".to_owned()])
        ]
    );
    // A section of another course: refused, nothing written.
    let (other, _) = fx.other_course("HIST1");
    let (elsewhere, _, _) = fx.content_in(other, &[]);
    let before = fx.snapshot();
    assert_eq!(
        refused(fx.site.move_activity(&fx.teacher, second, elsewhere, 0)),
        says(
            "Invalid",
            &format!("section: section #{elsewhere} is not a section of course \"COMP101\"")
        )
    );
    fx.assert_unchanged(&before);
}

#[test]
fn bad_activities_are_refused_and_write_nothing() {
    let fx = teams();
    let (other, _) = fx.other_course("HIST1");
    let foreign = fx
        .site
        .create_grouping(&fx.admin, other, "Theirs", "", &[])
        .unwrap()
        .grouping
        .id;
    let before = fx.snapshot();
    let draft = |set: &dyn Fn(&mut ActivityDraft)| {
        let mut d = ActivityDraft {
            name: "Fine".into(),
            visible: true,
            ..Default::default()
        };
        set(&mut d);
        d
    };
    for (bad, want) in [
        (
            draft(&|d| d.name = "  ".into()),
            says("Invalid", "name: is required"),
        ),
        (
            draft(&|d| d.grouping = Some(foreign)),
            says(
                "Invalid",
                &format!("grouping: grouping #{foreign} is not a grouping of course #1"),
            ),
        ),
        (
            draft(&|d| d.description = "x".repeat(100_001)),
            says(
                "Invalid",
                "description: is 100001 characters long; the maximum is 100000",
            ),
        ),
    ] {
        assert_eq!(
            refused(fx.site.create_page(&fx.teacher, fx.section, &bad)),
            want
        );
    }
    // A learner may not add content at all.
    assert_eq!(
        refused(
            fx.site
                .create_page(&fx.learner(0), fx.section, &draft(&|_| {}))
        ),
        says(
            "Forbidden",
            "not allowed: only the editing teachers of course \"COMP101\" and site admins change its content"
        )
    );
    fx.assert_unchanged(&before);
    // Nor may a non-editing teacher.
    let assistant = fx.non_editing_teacher_in("assistant", fx.team_a);
    let before_assistant = fx.snapshot();
    assert!(
        fx.site
            .create_page(&fx.as_user(assistant), fx.section, &draft(&|_| {}))
            .is_err()
    );
    fx.assert_unchanged(&before_assistant);
}

#[test]
fn markdown_is_sanitised_and_a_script_is_never_rendered() {
    let fx = teams();
    let id = page(&fx, "Hostile", |d| {
        d.description =
            "Hi <script>alert(1)</script> [x](javascript:alert(2)) <img src=x onerror=alert(3)>"
                .into()
    });
    let html = fx.site.activity_page(&fx.learner(0), id).unwrap().html;
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.contains("javascript:"), "{html}");
    assert!(!html.contains("onerror"), "{html}");
    assert!(html.contains("Hi"), "{html}");
}

#[test]
fn content_changes_are_audited_and_evented() {
    let fx = teams();
    let mark = fx.mark();
    let id = page(&fx, "Notes", |_| {});
    fx.site
        .update_activity(
            &fx.teacher,
            id,
            &ActivityUpdate {
                name: Some("Notes v2".into()),
                ..Default::default()
            },
        )
        .unwrap();
    fx.site.delete_activity(&fx.teacher, id).unwrap();
    let changes = fx.changes_since(&mark);
    let teacher = Actor::User(fx.teacher_id);
    assert_eq!(
        changes.audit,
        [
            audited(
                teacher,
                "activity.created",
                &format!("page #{id} \"Notes\" in course #1 section #{}", fx.section),
                ""
            ),
            audited(
                teacher,
                "activity.updated",
                &format!("activity #{id} \"Notes v2\""),
                "name \"Notes\" → \"Notes v2\""
            ),
            audited(
                teacher,
                "activity.deleted",
                &format!("page #{id} \"Notes v2\" in course #1"),
                ""
            ),
        ]
    );
    let course = fx.course;
    assert_eq!(
        changes.events,
        [
            SiteEvent::ActivityCreated {
                course,
                activity: id
            },
            SiteEvent::ActivityUpdated {
                course,
                activity: id
            },
            SiteEvent::ActivityDeleted {
                course,
                activity: id
            },
        ]
    );
    // An update that changes nothing writes nothing.
    let mark = fx.mark();
    fx.site
        .update_activity(&fx.teacher, fx.page, &ActivityUpdate::default())
        .unwrap();
    assert_eq!(
        fx.changes_since(&mark),
        crate::services::testing::Changes::none()
    );
}

#[test]
fn a_group_leaves_its_groupings_when_deleted_and_a_deleted_grouping_hides_its_activities() {
    let fx = teams();
    let other = fx
        .site
        .create_grouping(&fx.teacher, fx.course, "B too", "", &[fx.team_b])
        .unwrap()
        .grouping
        .id;
    let restricted = page(&fx, "For B", |d| d.grouping = Some(other));
    fx.site.delete_group(&fx.admin, fx.team_b).unwrap();
    let ids = |g| {
        fx.site
            .get_grouping(&fx.teacher, g)
            .unwrap()
            .groups
            .into_iter()
            .map(|g| g.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(fx.grouping), [fx.team_a], "Team B left both groupings");
    assert!(ids(other).is_empty());
    fx.site.delete_grouping(&fx.teacher, other).unwrap();
    let a = fx
        .site
        .activity_page(&fx.teacher, restricted)
        .unwrap()
        .activity;
    assert!(!a.visible && a.grouping.is_none(), "{a:?}");
    assert!(fx.site.activity_page(&fx.learner(0), restricted).is_err());
    assert_eq!(
        refused(
            fx.site
                .create_grouping(&fx.teacher, fx.course, "both TEAMS", "", &[])
        ),
        says(
            "Duplicate",
            "name: the course already has a grouping named \"Both teams\""
        )
    );
}

#[test]
fn deleting_a_course_deletes_its_content() {
    let fx = teams();
    fx.site.delete_course(&fx.admin, fx.course).unwrap();
    assert!(fx.site.get_section(&fx.admin, fx.section).is_err());
    assert!(fx.site.activity_page(&fx.admin, fx.page).is_err());
    assert!(fx.site.get_grouping(&fx.admin, fx.grouping).is_err());
}
