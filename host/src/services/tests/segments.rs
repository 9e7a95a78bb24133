//! User segments (PRODUCT §2): name required, idnumber optional and unique
//! in the site, idempotent membership changes, managed segments, deletion.

use super::{refused, says};
use crate::domain::*;
use crate::services::segments::{MembershipChange, NewSegment, SegmentUpdate};
use crate::services::testing::{TestSite, assert_same_tables};

/// Every member of a segment, page by page, as the admin sees them.
fn members(fx: &TestSite, segment: SegmentId) -> Vec<UserId> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = fx
            .site
            .segment_members(&fx.admin, segment, after, 1000)
            .expect("members");
        out.extend(page.items.iter().map(|u| u.id));
        match page.next {
            Some(next) => after = Some(next),
            None => return out,
        }
    }
}

fn change(changed: u64, unchanged: u64) -> MembershipChange {
    MembershipChange { changed, unchanged }
}

fn named(name: &str, idnumber: Option<&str>) -> NewSegment {
    NewSegment {
        name: name.into(),
        idnumber: idnumber.map(Into::into),
        ..Default::default()
    }
}

#[test]
fn a_segment_needs_only_a_name() {
    let fx = TestSite::new();
    let segment = fx
        .site
        .create_segment(&fx.admin, named("  Sales  ", None))
        .unwrap();
    assert_eq!(
        segment,
        Segment {
            id: segment.id,
            name: "Sales".into(),
            idnumber: None,
            description: String::new(),
            visible: true,
            managed_by: None,
            created_at: segment.created_at,
        }
    );
    // Segments without idnumber never clash with each other.
    let second = fx
        .site
        .create_segment(&fx.admin, named("Sales", Some("  ")));
    assert_eq!(second.unwrap().idnumber, None);
}

#[test]
fn a_segment_without_a_name_is_refused_and_nothing_is_written() {
    let fx = TestSite::new();
    let before = fx.snapshot();
    let err = refused(fx.site.create_segment(&fx.admin, named(" \t ", Some("x"))));
    assert_eq!(err, says("Invalid", "name: is required"));
    fx.assert_unchanged(&before);
}

#[test]
fn an_over_long_segment_name_is_refused_and_nothing_is_written() {
    let fx = TestSite::new();
    let before = fx.snapshot();
    let err = refused(
        fx.site
            .create_segment(&fx.admin, named(&"x".repeat(255), None)),
    );
    assert_eq!(
        err,
        says(
            "Invalid",
            "name: is 255 characters long; the maximum is 254"
        )
    );
    let err = refused(fx.site.update_segment(
        &fx.admin,
        fx.hr,
        SegmentUpdate {
            name: Some("é".repeat(255)),
            ..Default::default()
        },
    ));
    assert_eq!(
        err,
        says(
            "Invalid",
            "name: is 255 characters long; the maximum is 254"
        )
    );
    fx.assert_unchanged(&before);
    // 254 characters is fine.
    fx.site
        .create_segment(&fx.admin, named(&"x".repeat(254), None))
        .unwrap();
}

#[test]
fn a_duplicate_segment_idnumber_is_refused_and_nothing_is_written() {
    let fx = TestSite::new();
    let before = fx.snapshot();
    let err = refused(
        fx.site
            .create_segment(&fx.admin, named("Human resources", Some("hr"))),
    );
    assert_eq!(
        err,
        says(
            "Duplicate",
            r#"idnumber: segment #1 already has the idnumber "hr""#
        )
    );
    let err = refused(fx.site.update_segment(
        &fx.admin,
        fx.finance,
        SegmentUpdate {
            idnumber: Some("hr".into()),
            ..Default::default()
        },
    ));
    assert_eq!(
        err,
        says(
            "Duplicate",
            r#"idnumber: segment #1 already has the idnumber "hr""#
        )
    );
    // Not even the id counter moved.
    fx.assert_unchanged(&before);
}

#[test]
fn a_segment_keeps_its_own_idnumber_and_frees_an_old_one() {
    let fx = TestSite::new();
    let keep = SegmentUpdate {
        name: Some("Human resources".into()),
        idnumber: Some("hr".into()),
        ..Default::default()
    };
    fx.site.update_segment(&fx.admin, fx.hr, keep).unwrap();
    let rename = SegmentUpdate {
        idnumber: Some("people".into()),
        ..Default::default()
    };
    fx.site.update_segment(&fx.admin, fx.hr, rename).unwrap();
    assert_eq!(
        fx.site.segment_by_idnumber(&fx.admin, "people").unwrap().id,
        fx.hr
    );
    assert_eq!(
        refused(fx.site.segment_by_idnumber(&fx.admin, "hr")),
        says("NotFound", r#"segment with idnumber "hr" not found"#)
    );
    // The freed idnumber can be taken by another segment.
    let again = fx.site.create_segment(&fx.admin, named("HR 2", Some("hr")));
    assert!(again.is_ok());
}

#[test]
fn adding_a_member_twice_is_a_silent_no_op() {
    let fx = TestSite::new();
    let before = fx.snapshot();
    let l = &fx.learners;
    let result = fx.site.add_segment_members(&fx.admin, fx.hr, &l[0..3]);
    assert_eq!(result.unwrap(), change(0, 3));
    // Nothing at all is written: no audit entry, no event, and the
    // membership keeps the time it was added.
    fx.assert_unchanged(&before);
}

#[test]
fn a_batch_counts_new_and_existing_members_and_repeats_once() {
    let fx = TestSite::new();
    let l = &fx.learners;
    let result = fx
        .site
        .add_segment_members(&fx.admin, fx.hr, &[l[0], l[3], l[3], l[4]]);
    assert_eq!(result.unwrap(), change(2, 2));
    assert_eq!(members(&fx, fx.hr), vec![l[0], l[1], l[2], l[3], l[4]]);
}

#[test]
fn removing_a_non_member_is_a_silent_no_op() {
    let fx = TestSite::new();
    let before = fx.snapshot();
    let l = &fx.learners;
    let result = fx
        .site
        .remove_segment_members(&fx.admin, fx.hr, &[l[3], l[4], UserId(999)]);
    assert_eq!(result.unwrap(), change(0, 3));
    fx.assert_unchanged(&before);
}

#[test]
fn removing_members_keeps_the_others_and_both_indexes_in_step() {
    let fx = TestSite::new();
    let l = &fx.learners;
    let result = fx
        .site
        .remove_segment_members(&fx.admin, fx.hr, &[l[1], l[3]]);
    assert_eq!(result.unwrap(), change(1, 1));
    assert_eq!(members(&fx, fx.hr), vec![l[0], l[2]]);
    assert!(fx.site.user_segments(&fx.admin, l[1]).unwrap().is_empty());
    assert_eq!(fx.site.get_segment(&fx.admin, fx.hr).unwrap().members, 2);
}

#[test]
fn one_unknown_user_in_a_batch_adds_nobody() {
    let fx = TestSite::new();
    let before = fx.snapshot();
    let l = &fx.learners;
    let err = refused(fx.site.add_segment_members(
        &fx.admin,
        fx.finance,
        &[l[0], UserId(999), l[1]],
    ));
    assert_eq!(err, says("NotFound", "user #999 not found"));
    fx.assert_unchanged(&before);
    assert_eq!(members(&fx, fx.finance), vec![l[3], l[4]]);
}

#[test]
fn a_managed_segment_refuses_member_changes_from_admins_and_operators() {
    let fx = TestSite::new();
    let managed = fx
        .site
        .create_segment(
            &fx.admin,
            NewSegment {
                name: "Auto HR".into(),
                managed_by: Some("profile-rules".into()),
                ..Default::default()
            },
        )
        .unwrap();
    let before = fx.snapshot();
    let message =
        r#"segment "Auto HR" is managed by "profile-rules"; its members change only through it"#;
    for who in [&fx.admin, &fx.operator] {
        let add = fx
            .site
            .add_segment_members(who, managed.id, &[fx.learners[0]]);
        assert_eq!(refused(add), says("Conflict", message));
        let remove = fx
            .site
            .remove_segment_members(who, managed.id, &[fx.learners[0]]);
        assert_eq!(refused(remove), says("Conflict", message));
    }
    fx.assert_unchanged(&before);
}

#[test]
fn deleting_a_segment_leaves_the_site_as_it_was_before_it_existed() {
    let fx = TestSite::new();
    let before = fx.data();
    let l = &fx.learners;
    let segment = fx
        .site
        .create_segment(&fx.admin, named("Temp", Some("temp")))
        .unwrap();
    fx.site
        .add_segment_members(&fx.admin, segment.id, &[l[0], l[4]])
        .unwrap();
    fx.site.delete_segment(&fx.admin, segment.id).unwrap();
    assert_same_tables(&fx.data(), &before);
    assert_eq!(
        refused(fx.site.segment_members(&fx.admin, segment.id, None, 10)),
        says("NotFound", "segment #3 not found")
    );
    let hr = fx.site.get_segment(&fx.admin, fx.hr).unwrap().segment;
    assert_eq!(fx.site.user_segments(&fx.admin, l[0]).unwrap(), vec![hr]);
    assert!(fx.site.user_segments(&fx.admin, l[4]).unwrap().len() == 1);
    // Its idnumber is free again.
    assert!(
        fx.site
            .create_segment(&fx.admin, named("Temp", Some("temp")))
            .is_ok()
    );
}

#[test]
fn segments_list_by_name_with_their_member_counts() {
    let fx = TestSite::new();
    fx.site
        .create_segment(&fx.admin, named("accounting", None))
        .unwrap();
    let page = fx.site.list_segments(&fx.admin, None, 0, 10).unwrap();
    let listed: Vec<(&str, u64)> = page
        .items
        .iter()
        .map(|s| (s.segment.name.as_str(), s.members))
        .collect();
    assert_eq!(listed, vec![("accounting", 0), ("Finance", 2), ("HR", 3)]);
    assert_eq!(page.next, None);
    let searched = fx
        .site
        .list_segments(&fx.admin, Some("FIN"), 0, 10)
        .unwrap();
    assert_eq!(searched.items.len(), 1);
    let paged = fx.site.list_segments(&fx.admin, None, 1, 1).unwrap();
    assert_eq!(paged.items[0].segment.name, "Finance");
    assert_eq!(paged.next, Some(2));
}

#[test]
fn ten_thousand_members_in_one_call_page_back_once_each_in_id_order() {
    let fx = TestSite::new();
    let users = fx.bulk_users(10_000);
    let segment = fx
        .site
        .create_segment(&fx.admin, named("Everyone", None))
        .unwrap();
    let result = fx.site.add_segment_members(&fx.admin, segment.id, &users);
    assert_eq!(result.unwrap(), change(10_000, 0));
    assert_eq!(members(&fx, segment.id), users);
    assert_eq!(
        fx.site.get_segment(&fx.admin, segment.id).unwrap().members,
        10_000
    );
    // A page ends exactly at its limit and says where to go on.
    let first = fx
        .site
        .segment_members(&fx.admin, segment.id, None, 1000)
        .unwrap();
    assert_eq!(first.items.len(), 1000);
    assert_eq!(first.next, Some(users[999]));
    let last = fx
        .site
        .segment_members(&fx.admin, segment.id, Some(users[8999]), 1000)
        .unwrap();
    assert_eq!(last.items.len(), 1000);
    assert_eq!(last.next, None);
}

// ------------------------------------------------- what the pages read

#[test]
fn members_are_searched_and_paged_within_the_segment() {
    let fx = TestSite::new();
    let found = fx
        .site
        .find_segment_members(&fx.admin, fx.hr, Some("LEARNER2"), None, 10)
        .unwrap();
    assert_eq!(found.segment.segment.name, "HR");
    assert_eq!(found.segment.members, 3);
    let ids: Vec<UserId> = found.users.items.iter().map(|u| u.id).collect();
    assert_eq!(ids, [fx.learners[1]]);
    let first = fx
        .site
        .find_segment_members(&fx.admin, fx.hr, Some("learner"), None, 2)
        .unwrap();
    assert_eq!(first.users.items.len(), 2);
    let rest = fx
        .site
        .find_segment_members(&fx.admin, fx.hr, Some("learner"), first.users.next, 2)
        .unwrap();
    let ids: Vec<UserId> = rest.users.items.iter().map(|u| u.id).collect();
    assert_eq!(ids, [fx.learners[2]]);
    assert_eq!(rest.users.next, None);
}

#[test]
fn candidates_are_the_users_who_are_not_members() {
    let fx = TestSite::new();
    let found = fx
        .site
        .segment_candidates(&fx.admin, fx.hr, Some("learner"), None, 10)
        .unwrap();
    let ids: Vec<UserId> = found.users.items.iter().map(|u| u.id).collect();
    assert_eq!(ids, [fx.learners[3], fx.learners[4]]);
    let everyone = fx
        .site
        .segment_candidates(&fx.admin, fx.hr, None, None, 100)
        .unwrap();
    assert_eq!(
        everyone.users.items.len(),
        4,
        "admin, teacher, learner4, learner5"
    );
}

#[test]
fn members_among_keeps_only_members_once() {
    let fx = TestSite::new();
    let l = &fx.learners;
    let found = fx
        .site
        .segment_members_among(&fx.admin, fx.hr, &[l[2], l[0], l[4], l[0], UserId(999)])
        .unwrap();
    let ids: Vec<UserId> = found.users.items.iter().map(|u| u.id).collect();
    assert_eq!(ids, [l[0], l[2]]);
}

#[test]
fn segment_usage_shows_a_plugin_that_would_change_fail_or_refuse() {
    use crate::services::execution::{Foreseen, ForeseenCounts};
    use crate::services::testing::test_plugin;
    let fx = TestSite::new();
    let hostile = |behaviour: &str| {
        fx.with_plugin_method(
            &test_plugin("charon-test-hostile"),
            serde_json::json!({"behaviour": behaviour, "user": fx.learners[4].0}),
        )
    };
    // None of them names the segment: each is listed for what its plugin
    // answers to the segment's deletion.
    let enrols = hostile("well-behaved");
    let panics = hostile("panic");
    let refuses = hostile("nonsense");
    let unknown = hostile("unknown-user");
    let before = fx.snapshot();
    let usage = fx.site.segment_usage(&fx.admin, fx.hr).unwrap();
    fx.assert_unchanged(&before);
    let found: Vec<(EnrolmentMethodId, String)> = usage
        .uses
        .iter()
        .map(|u| (u.method.id, u.on_delete.to_string()))
        .collect();
    assert_eq!(found.len(), 4, "{found:?}");
    assert_eq!(found[0], (enrols, "Enrols 1 user.".to_owned()));
    assert_eq!(
        usage.uses[0].on_delete,
        Foreseen::Plans(ForeseenCounts {
            enrols: 1,
            ..Default::default()
        })
    );
    assert_eq!(found[1].0, panics);
    assert!(found[1].1.starts_with("Its plugin fails: "), "{found:?}");
    assert_eq!(
        found[2],
        (
            refuses,
            "Its plugin refuses: no behaviour \"nonsense\"".to_owned()
        )
    );
    // A plan the host would reject is shown as the failure it would be.
    assert_eq!(found[3].0, unknown);
    assert!(
        found[3].1.starts_with("Its plugin fails: ") && found[3].1.contains("999999999"),
        "{found:?}"
    );
    // A dry run records no failure.
    for m in [panics, unknown] {
        assert_eq!(
            fx.site.method_status(&fx.operator, m).unwrap().last_error,
            None
        );
    }
}

#[test]
fn segment_usage_lists_the_methods_whose_config_names_the_segment_with_their_plugins_answer() {
    use crate::services::enrolments::NewMethod;
    use crate::services::execution::{Foreseen, ForeseenCounts};
    let fx = TestSite::new();
    let add = |plugin: &str, config: serde_json::Value, enabled: bool| {
        fx.site
            .add_method(
                &fx.operator,
                fx.course,
                NewMethod {
                    plugin: plugin.into(),
                    name: String::new(),
                    config,
                    enabled,
                },
            )
            .unwrap()
            .id
    };
    let sync = add(
        "segment-sync",
        serde_json::json!({"segment": fx.hr.0}),
        true,
    );
    let suspend = add(
        "segment-sync",
        serde_json::json!({"segment": fx.hr.0, "role": "teacher", "removal-action": "suspend"}),
        true,
    );
    let group = add(
        "segment-group",
        serde_json::json!({"segment": fx.hr.0, "group": fx.team_a.0}),
        false,
    );
    add(
        "segment-sync",
        serde_json::json!({"segment": fx.finance.0}),
        true,
    );
    // The methods have enrolled HR's three members.
    while fx.site.dispatch_pending().unwrap().events > 0 {}
    let before = fx.snapshot();
    let usage = fx.site.segment_usage(&fx.admin, fx.hr).unwrap();
    // Asking the plugins wrote nothing, and the segment is still there.
    fx.assert_unchanged(&before);
    assert_eq!(usage.segment.members, 3);
    let found: Vec<(EnrolmentMethodId, Foreseen)> = usage
        .uses
        .iter()
        .map(|u| (u.method.id, u.on_delete.clone()))
        .collect();
    let suspended = |roles_removed| {
        Foreseen::Plans(ForeseenCounts {
            disables: true,
            suspends: 3,
            roles_removed,
            ..Default::default()
        })
    };
    assert_eq!(
        found,
        [
            (sync, Foreseen::Deleted { enrolments: 3 }),
            (suspend, suspended(0)),
            (group, Foreseen::NotTold { disabled: true }),
        ],
        "Finance's method is not listed"
    );
    assert_eq!(
        usage.uses[0].on_delete.to_string(),
        "Deletes this enrolment method and its 3 enrolments, with the group memberships it added."
    );
    assert_eq!(
        usage.uses[1].on_delete.to_string(),
        "Disables this enrolment method, suspends 3 enrolments."
    );
    assert_eq!(
        usage.uses[2].on_delete.to_string(),
        "No change: it is disabled, so it is not told."
    );
    assert!(usage.uses.iter().all(|u| u.course.id == fx.course));

    // The site-wide removal action decides for "site-default".
    fx.site
        .set_plugin_settings(
            &fx.admin,
            "segment-sync",
            serde_json::json!({"removal-action": "suspend-remove-role"})
                .as_object()
                .unwrap()
                .clone(),
        )
        .unwrap();
    let usage = fx.site.segment_usage(&fx.admin, fx.hr).unwrap();
    assert_eq!(usage.uses[0].on_delete, suspended(3), "{:?}", usage.uses[0]);
    assert_eq!(
        usage.uses[0].on_delete.to_string(),
        "Disables this enrolment method, suspends 3 enrolments, removes the role of 3 enrolments."
    );
    assert!(
        refused(fx.site.segment_usage(&fx.teacher, fx.hr))
            .1
            .contains("site admin")
    );
}
