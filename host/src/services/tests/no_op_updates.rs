//! An update that changes nothing writes nothing: no audit entry, no event
//! (issue 16, finding 15), whether it names no field or only the values
//! the record already has.

use crate::services::courses::CourseUpdate;
use crate::services::enrolments::MethodUpdate;
use crate::services::groups::GroupUpdate;
use crate::services::segments::SegmentUpdate;
use crate::services::testing::{Changes, TestSite};
use crate::services::users::UserUpdate;

#[test]
fn updates_that_change_nothing_leave_no_audit_entry_and_no_event() {
    let fx = TestSite::new();
    let user = fx.learners[0];
    let method = fx.add_named_noop("Quiet", serde_json::json!({"a": 1}));
    let current_user = fx.site.get_user(&fx.admin, user).unwrap();
    let mark = fx.mark();
    let same_user = UserUpdate {
        username: Some(current_user.username.clone()),
        email: Some(current_user.email.clone()),
        ..UserUpdate::default()
    };
    for update in [UserUpdate::default(), same_user] {
        fx.site.update_user(&fx.admin, user, update).unwrap();
    }
    fx.site
        .update_course(&fx.admin, fx.course, CourseUpdate::default())
        .unwrap();
    fx.site
        .update_course(
            &fx.admin,
            fx.course,
            CourseUpdate {
                shortname: Some("COMP101".into()),
                ..CourseUpdate::default()
            },
        )
        .unwrap();
    fx.site
        .update_segment(&fx.admin, fx.hr, SegmentUpdate::default())
        .unwrap();
    fx.site
        .update_segment(
            &fx.admin,
            fx.hr,
            SegmentUpdate {
                name: Some("HR".into()),
                ..SegmentUpdate::default()
            },
        )
        .unwrap();
    fx.site
        .update_group(&fx.admin, fx.team_a, GroupUpdate::default())
        .unwrap();
    fx.site
        .update_method(&fx.admin, method, MethodUpdate::default())
        .unwrap();
    fx.site
        .update_method(
            &fx.admin,
            method,
            MethodUpdate {
                name: Some("Quiet".into()),
                config: Some(serde_json::json!({"a": 1})),
            },
        )
        .unwrap();
    assert_eq!(fx.changes_since(&mark), Changes::none());

    // A real change is still recorded.
    fx.site
        .update_segment(
            &fx.admin,
            fx.hr,
            SegmentUpdate {
                name: Some("Human resources".into()),
                ..SegmentUpdate::default()
            },
        )
        .unwrap();
    assert_eq!(fx.changes_since(&mark).audit.len(), 1);
}
