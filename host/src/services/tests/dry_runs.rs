//! Dry runs and previews check every action of a plugin's plans against
//! the host's rules and list each one the host would refuse, with its
//! reason (issue 20), where a real run stops at the first.

use serde_json::json;

use crate::services::ServiceError;
use crate::services::enrolments::NewMethod;
use crate::services::testing::{TestSite, test_plugin};

const HOSTILE: &str = "charon-test-hostile";

/// A site with a group of another course, and the hostile plugin's
/// `behaviour` as a method config aimed at it.
fn site_with(behaviour: &str) -> (TestSite, serde_json::Value) {
    let fx = TestSite::new();
    let (other, _) = fx.other_course("OTHER");
    let foreign = fx.add_group(other, "Elsewhere");
    let config = json!({"behaviour": behaviour, "user": fx.learners[4].0, "group": foreign.0});
    (fx, config)
}

#[test]
fn a_dry_run_reconcile_lists_every_refused_action_and_a_real_one_stops_at_the_first() {
    let (fx, config) = site_with("mixed");
    let m = fx.with_plugin_method(&test_plugin(HOSTILE), config);
    let before = fx.snapshot();
    let dry = fx.site.reconcile_method(&fx.teacher, m, true).unwrap();
    assert_eq!((dry.actions, dry.changed, dry.refused_actions), (3, 1, 2));
    let refused = dry.refused.clone().unwrap();
    assert_eq!(
        refused
            .iter()
            .map(|r| (r.page, r.position))
            .collect::<Vec<_>>(),
        [(1, 2), (1, 3)]
    );
    assert!(
        refused[0].reason.contains("belongs to another course"),
        "{refused:?}"
    );
    assert!(refused[1].reason.contains("not a user of this site"));
    assert_eq!(
        refused[1].to_string(),
        "page 1, action 3 (enrol user #999999999 as Learner): \
         user #999999999 is not a user of this site"
    );
    fx.assert_unchanged(&before);
    let e = fx.site.reconcile_method(&fx.teacher, m, false).unwrap_err();
    assert!(
        matches!(&e, ServiceError::PluginFailed { message, .. } if message.contains("rejected at action 2")),
        "{e:?}"
    );
}

#[test]
fn a_preview_counts_only_what_the_host_would_apply_and_lists_the_rest() {
    let (fx, config) = site_with("mixed");
    fx.with_plugin_method(&test_plugin(HOSTILE), json!({"behaviour": "well-behaved"}));
    let before = fx.snapshot();
    let new = NewMethod {
        plugin: "hostile".into(),
        name: String::new(),
        config,
        enabled: true,
    };
    let preview = fx.site.preview_method(&fx.admin, fx.course, new).unwrap();
    assert_eq!(
        (
            preview.enrolments,
            preview.group_memberships,
            preview.actions
        ),
        (1, 0, 1)
    );
    assert_eq!(preview.plan.len(), 1);
    assert_eq!(preview.refused_actions, 2);
    assert!(
        preview.refused[0]
            .reason
            .contains("belongs to another course")
    );
    fx.assert_unchanged(&before);
}

#[test]
fn a_dry_run_checks_a_later_page_as_if_the_earlier_ones_were_applied() {
    let (fx, config) = site_with("two-pages");
    let m = fx.with_plugin_method(&test_plugin(HOSTILE), config);
    let before = fx.snapshot();
    // Page 2 groups into the group page 1 creates and the user page 1
    // enrols: neither exists in page 2's own (rolled back) transaction.
    let dry = fx.site.reconcile_method(&fx.teacher, m, true).unwrap();
    assert_eq!(
        (dry.pages, dry.changed, dry.refused_actions),
        (2, 3, 0),
        "{dry:?}"
    );
    fx.assert_unchanged(&before);
    let done = fx.site.reconcile_method(&fx.teacher, m, false).unwrap();
    assert_eq!((done.pages, done.changed), (2, 3));
}
