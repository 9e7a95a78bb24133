//! Who may give which course role (issue 16, finding 13): Moodle's default
//! "allow role assignments", where an editing teacher gives the
//! non-editing teacher and learner roles and only a site admin gives the
//! editing teacher role — directly or through a method's config.

use serde_json::json;

use super::{refused, says};
use crate::domain::Role;
use crate::services::enrolments::{EnrolmentUpdate, NewMethod};
use crate::services::testing::TestSite;

const ONLY_ADMINS: &str = "not allowed: an editing teacher may give the non-editing teacher and learner roles only; ask a site admin of \"acme\" to give or take the editing teacher role";

#[test]
fn an_editing_teacher_gives_the_roles_below_their_own_and_a_site_admin_any() {
    let fx = TestSite::new();
    let newcomer = fx.learners[4];
    assert_eq!(
        refused(
            fx.site
                .enrol(&fx.teacher, fx.manual, newcomer, Role::Teacher)
        ),
        says("Forbidden", ONLY_ADMINS)
    );
    assert_eq!(
        refused(
            fx.site
                .enrol_users(&fx.teacher, fx.manual, &[newcomer], Role::Teacher)
        ),
        says("Forbidden", ONLY_ADMINS)
    );
    fx.site
        .enrol(&fx.teacher, fx.manual, newcomer, Role::NonEditingTeacher)
        .unwrap();
    assert_eq!(
        refused(fx.site.update_enrolment(
            &fx.teacher,
            fx.manual,
            newcomer,
            EnrolmentUpdate {
                status: None,
                role: Some(Some(Role::Teacher)),
            },
        )),
        says("Forbidden", ONLY_ADMINS)
    );
    fx.site
        .enrol(&fx.admin, fx.manual, newcomer, Role::Teacher)
        .unwrap();
    // Taking the role away is the admin's too.
    assert_eq!(
        refused(
            fx.site
                .set_enrolment_role(&fx.teacher, fx.manual, newcomer, Some(Role::Learner))
        ),
        says("Forbidden", ONLY_ADMINS)
    );
}

#[test]
fn an_editing_teacher_cannot_configure_a_method_that_gives_the_editing_teacher_role() {
    let fx = TestSite::new();
    let method = |role: &str| NewMethod {
        plugin: "segment-sync".into(),
        name: String::new(),
        config: json!({"segment": fx.hr.0, "role": role}),
        enabled: true,
    };
    assert_eq!(
        refused(
            fx.site
                .add_method(&fx.teacher, fx.course, method("teacher"))
        ),
        says("Forbidden", ONLY_ADMINS)
    );
    fx.site
        .add_method(&fx.teacher, fx.course, method("non-editing-teacher"))
        .unwrap();
    fx.site
        .add_method(&fx.admin, fx.course, method("teacher"))
        .unwrap();
}
