//! Page tests of `courses`: the list for admins and for participants,
//! creating a course, the course page for staff and for learners, its
//! settings form, and the participants with their enrolment methods.

use actix_web::http::StatusCode;

use super::{Pages, form_of};
use crate::domain::GroupMode;
use crate::services::enrolments::MethodUpdate;

#[actix_web::test]
async fn admins_list_every_course_and_participants_their_own() {
    let p = Pages::new();
    let (_, _) = p.fx.other_course("HIST1");
    let admin = p.get("/s/acme/courses", Some(&p.admin)).await;
    assert_eq!(admin.status, StatusCode::OK);
    assert!(admin.body.contains("<h1>Courses</h1>"));
    assert!(admin.body.contains("Compliance 101") && admin.body.contains("HIST1 course"));
    assert!(admin.body.contains("Create course"), "admins get the link");
    assert!(admin.body.contains("href=\"/s/acme/courses/1\""));

    let learner = p.get("/s/acme/courses", Some(&p.learner)).await;
    assert_eq!(learner.status, StatusCode::OK);
    assert!(learner.body.contains("<h1>My courses</h1>"));
    assert!(learner.body.contains("Compliance 101"));
    assert!(!learner.body.contains("HIST1 course"), "not theirs");
    assert!(!learner.body.contains("Create course"));

    let searched = p.get("/s/acme/courses?q=hist", Some(&p.admin)).await;
    assert!(searched.body.contains("HIST1 course") && !searched.body.contains("Compliance 101"));
    let none = p.get("/s/acme/courses?q=zzz", Some(&p.admin)).await;
    assert!(none.body.contains("No course matches “zzz”."));
}

#[actix_web::test]
async fn the_course_list_pages() {
    let p = Pages::new();
    for i in 0..super::super::forms::PAGE_SIZE {
        p.fx.other_course(&format!("X{i:03}"));
    }
    let first = p.get("/s/acme/courses", Some(&p.admin)).await;
    assert!(first.body.contains("Next page"));
    assert!(
        !first.body.contains("X049"),
        "the 51st course is on the next page"
    );
    let next = p.get("/s/acme/courses?q=&after=50", Some(&p.admin)).await;
    assert!(next.body.contains("X049") && next.body.contains("First page"));
}

#[actix_web::test]
async fn a_site_admin_creates_a_course() {
    let p = Pages::new();
    let form = p.get("/s/acme/courses/new", Some(&p.admin)).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("<label for=\"f-shortname\">"));
    assert!(form.body.contains("Separate groups"));
    let token = p.csrf(&p.admin);
    let body = form_of(&[
        ("csrf", &token),
        ("fullname", "History of Art"),
        ("shortname", "ART1"),
        ("group_mode", "visible"),
        ("force_group_mode", "1"),
    ]);
    let created = p.post("/s/acme/courses", Some(&p.admin), &body).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    assert_eq!(created.location(), "/s/acme/courses/2");
    let course =
        p.fx.site
            .get_course(&p.fx.admin, crate::domain::CourseId(2))
            .unwrap();
    assert_eq!(course.shortname, "ART1");
    assert_eq!(course.group_mode, GroupMode::Visible);
    assert!(course.force_group_mode);
    let page = p.get("/s/acme/courses/2", Some(&p.admin)).await;
    assert!(page.body.contains("<h1>History of Art</h1>"));
    assert!(page.body.contains("Visible groups (forced)"));
}

#[actix_web::test]
async fn a_taken_short_name_is_answered_on_the_form_and_writes_nothing() {
    let p = Pages::new();
    let token = p.csrf(&p.admin);
    let before = p.fx.snapshot();
    let body = form_of(&[
        ("csrf", &token),
        ("fullname", "Another compliance"),
        ("shortname", "comp101"),
        ("group_mode", "none"),
    ]);
    let answer = p.post("/s/acme/courses", Some(&p.admin), &body).await;
    answer.assert_form_refused("already has the short name");
    assert!(answer.body.contains("id=\"f-shortname\" name=\"shortname\" type=\"text\" value=\"comp101\" required aria-invalid=\"true\""));
    assert!(
        answer.body.contains("value=\"Another compliance\""),
        "the input is kept"
    );
    p.fx.assert_unchanged(&before);

    let forged = form_of(&[
        ("csrf", &token),
        ("fullname", "X"),
        ("shortname", "X1"),
        ("group_mode", "chaos"),
    ]);
    let answer = p.post("/s/acme/courses", Some(&p.admin), &forged).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    p.fx.assert_unchanged(&before);
}

#[actix_web::test]
async fn staff_see_the_course_settings_and_links_and_learners_the_course_only() {
    let p = Pages::new();
    let teacher = p.get("/s/acme/courses/1", Some(&p.teacher)).await;
    assert_eq!(teacher.status, StatusCode::OK);
    assert!(teacher.body.contains("<h1>Compliance 101</h1>"));
    for link in [
        "href=\"/s/acme/courses/1/participants\"",
        "href=\"/s/acme/courses/1/groups\"",
        "href=\"/s/acme/courses/1/methods\"",
    ] {
        assert!(teacher.body.contains(link), "{link}");
    }
    assert!(teacher.body.contains("2 course groups"));
    assert!(teacher.body.contains("1 enrolment method"));
    assert!(
        teacher
            .body
            .contains("<option value=\"separate\" selected>Separate groups</option>")
    );
    assert!(teacher.body.contains("action=\"/s/acme/courses/1\""));

    let learner = p.get("/s/acme/courses/1", Some(&p.learner)).await;
    assert_eq!(learner.status, StatusCode::OK);
    assert!(learner.body.contains("<h1>Compliance 101</h1>"));
    assert!(learner.body.contains("Separate groups"));
    assert!(!learner.body.contains("Course settings"));
    // Learners see the content and the participants, not the staff's
    // links nor the editing controls.
    assert!(
        learner
            .body
            .contains("href=\"/s/acme/courses/1/participants\"")
    );
    assert!(learner.body.contains("Week 1") && learner.body.contains(">Welcome</a>"));
    for staff_only in [
        "/methods",
        "/groups\"",
        "/groupings",
        "Add section",
        "/edit",
        "/visibility",
    ] {
        assert!(!learner.body.contains(staff_only), "{staff_only}");
    }
    assert!(teacher.body.contains("Add section") && teacher.body.contains("/visibility"));

    let outsider = p.get("/s/acme/courses/1", Some(&p.outsider)).await;
    assert_eq!(outsider.status, StatusCode::FORBIDDEN);
}

#[actix_web::test]
async fn a_teacher_changes_the_group_mode() {
    let p = Pages::new();
    let token = p.csrf(&p.teacher);
    let body = form_of(&[
        ("csrf", &token),
        ("fullname", "Compliance 101"),
        ("shortname", "COMP101"),
        ("group_mode", "none"),
    ]);
    let saved = p.post("/s/acme/courses/1", Some(&p.teacher), &body).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(saved.location(), "/s/acme/courses/1");
    let course = p.fx.site.get_course(&p.fx.admin, p.fx.course).unwrap();
    assert_eq!(course.group_mode, GroupMode::None);
    assert!(!course.force_group_mode);
}

#[actix_web::test]
async fn bad_course_settings_are_answered_on_the_course_page_and_write_nothing() {
    let p = Pages::new();
    p.fx.other_course("HIST1");
    let token = p.csrf(&p.teacher);
    let before = p.fx.snapshot();
    let body = form_of(&[
        ("csrf", &token),
        ("fullname", "Compliance 101"),
        ("shortname", "HIST1"),
        ("group_mode", "visible"),
    ]);
    let answer = p.post("/s/acme/courses/1", Some(&p.teacher), &body).await;
    answer.assert_form_refused("aria-invalid=\"true\" aria-describedby=\"f-shortname-error\"");
    assert!(
        answer.body.contains("<option value=\"visible\" selected>"),
        "the choice is kept"
    );
    p.fx.assert_unchanged(&before);

    // A learner's own token does not make them staff.
    let token = p.csrf(&p.learner);
    let empty = form_of(&[("csrf", &token), ("fullname", ""), ("shortname", "COMP101")]);
    let answer = p.post("/s/acme/courses/1", Some(&p.learner), &empty).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    let answer = p
        .post(
            "/s/acme/courses/1",
            Some(&p.learner),
            &body.replace(&p.csrf(&p.teacher), &token),
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    p.fx.assert_unchanged(&before);
}

#[actix_web::test]
async fn participants_show_their_roles_methods_and_status() {
    let p = Pages::new();
    let fx = &p.fx;
    fx.mixed_participants("Segment sync: HR");
    fx.site
        .update_method(
            &fx.admin,
            fx.manual,
            MethodUpdate {
                name: Some("By hand".into()),
                ..Default::default()
            },
        )
        .unwrap();

    let page = p
        .get("/s/acme/courses/1/participants", Some(&p.teacher))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<h1>Participants</h1>"));
    let row = |username: &str| -> String {
        let start = page
            .body
            .find(&format!("{username}</span>"))
            .expect("row of the user");
        let end = page.body[start..]
            .find("</tr>")
            .map_or(page.body.len(), |e| start + e);
        page.body[start..end].to_owned()
    };
    let teacher = row("teacher");
    assert!(teacher.contains("<td>Teacher</td>"), "{teacher}");
    let two = row("learner2");
    assert!(
        two.contains("By hand") && two.contains("Segment sync: HR"),
        "{two}"
    );
    assert!(two.contains("status-on\">Active"), "{two}");
    let three = row("learner3");
    assert!(three.contains("(Learner, suspended)"), "{three}");
    assert!(three.contains("status-off\">Suspended"), "{three}");
    assert!(!page.body.contains("learner5"), "not a participant");

    let searched = p
        .get(
            "/s/acme/courses/1/participants?q=learner4",
            Some(&p.teacher),
        )
        .await;
    assert!(searched.body.contains("learner4") && !searched.body.contains("learner2"));
    let none = p
        .get("/s/acme/courses/1/participants?q=zzz", Some(&p.teacher))
        .await;
    assert!(none.body.contains("No participant matches “zzz”."));
}

#[actix_web::test]
async fn participants_show_a_suspended_account_beside_its_active_enrolment() {
    let p = Pages::new();
    let l2 = p.fx.learners[1];
    p.fx.site.suspend_user(&p.fx.admin, l2).unwrap();
    let page = p
        .get("/s/acme/courses/1/participants", Some(&p.teacher))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("<th scope=\"col\">Account</th>"));
    let username = p.fx.site.get_user(&p.fx.admin, l2).unwrap().username;
    let row = page
        .body
        .split("<tr>")
        .find(|r| r.contains(&format!("<span class=\"description\">{username}</span>")))
        .expect("the suspended learner's row");
    let cells: Vec<&str> = row.split("<td>").collect();
    let (enrolment, account) = (cells[cells.len() - 2], cells[cells.len() - 1]);
    assert!(enrolment.contains(">Active<"), "{row}");
    assert!(account.contains(">Suspended<"), "{row}");
}
