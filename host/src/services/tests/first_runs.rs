//! Adding an enrolment method answers with its first run (issue 20): a
//! plugin that fails on it is reported at once and marked failing, and
//! the method stays added.

use serde_json::json;

use crate::domain::*;
use crate::services::enrolments::NewMethod;
use crate::services::execution::FirstRun;
use crate::services::testing::{TestSite, test_plugin};
use crate::storage::site::prelude::*;

fn hostile(config: serde_json::Value, enabled: bool) -> NewMethod {
    NewMethod {
        plugin: "hostile".into(),
        name: String::new(),
        config,
        enabled,
    }
}

/// A site with the hostile plugin enabled (through a method of its own).
fn site() -> TestSite {
    let fx = TestSite::new();
    fx.with_plugin_method(
        &test_plugin("charon-test-hostile"),
        json!({"behaviour": "well-behaved"}),
    );
    fx
}

#[test]
fn the_first_run_enrols_before_adding_answers() {
    let fx = site();
    let user = fx.learners[4];
    let config = json!({"behaviour": "well-behaved", "user": user.0});
    let added = fx
        .site
        .add_method_and_run(&fx.admin, fx.course, hostile(config, true))
        .unwrap();
    let FirstRun::Done(report) = &added.first_run else {
        panic!("{added:?}");
    };
    assert_eq!((report.changed, report.applied), (1, true));
    assert!(
        fx.site
            .read(|t| Ok(t.enrolment(fx.course, user, added.method.id)?))
            .unwrap()
            .is_some()
    );
    // The plugin's `method-added` then finds nothing left to do.
    fx.site.dispatch_pending().unwrap();
    let status = fx.site.method_status(&fx.admin, added.method.id).unwrap();
    assert_eq!(status.error_count, 0);
}

#[test]
fn a_failing_first_run_is_reported_recorded_and_leaves_the_method_added() {
    let fx = site();
    let added = fx
        .site
        .add_method_and_run(
            &fx.admin,
            fx.course,
            hostile(json!({"behaviour": "unknown-user"}), true),
        )
        .unwrap();
    let FirstRun::Failed(error) = &added.first_run else {
        panic!("{added:?}");
    };
    assert_eq!(error.code, "plan_rejected");
    assert!(
        error.message.contains("not a user of this site"),
        "{error:?}"
    );
    let status = fx.site.method_status(&fx.admin, added.method.id).unwrap();
    assert_eq!(status.last_error.as_ref(), Some(error));
    assert_eq!(status.status, EnrolmentMethodStatus::Enabled);
}

#[test]
fn a_method_added_disabled_does_not_run() {
    let fx = site();
    let added = fx
        .site
        .add_method_and_run(
            &fx.admin,
            fx.course,
            hostile(json!({"behaviour": "unknown-user"}), false),
        )
        .unwrap();
    assert_eq!(added.first_run, FirstRun::NotRun);
    let status = fx.site.method_status(&fx.admin, added.method.id).unwrap();
    assert_eq!(status.error_count, 0);
}
