//! Page tests of `groups`: a course's groups, creating and editing one,
//! members with the owner of each membership (those kept by an enrolment
//! method cannot be removed by hand, and the page says why), adding
//! participants, and the confirmations before removing and deleting.

use actix_web::http::StatusCode;

use super::{Pages, form_of};
use crate::domain::UserId;

fn members_of(p: &Pages) -> Vec<UserId> {
    p.fx.site
        .group_members(&p.fx.admin, p.fx.team_a, None, 100)
        .unwrap()
        .items
        .into_iter()
        .map(|m| m.user.id)
        .collect()
}

#[actix_web::test]
async fn a_courses_groups_are_listed_with_their_member_counts() {
    let p = Pages::new();
    p.fx.site
        .add_group_members(&p.fx.admin, p.fx.team_b, &p.fx.learners[0..3])
        .unwrap();
    let page = p.get("/s/acme/courses/1/groups", Some(&p.teacher)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<h1>Course groups</h1>"));
    assert!(page.body.contains("<a href=\"/s/acme/groups/2\">Team B</a></th>\n        <td></td>\n        <td class=\"num\">3</td>"), "{}", page.body);
    assert!(page.body.contains("href=\"/s/acme/courses/1/groups/new\""));
    let searched = p
        .get("/s/acme/courses/1/groups?q=team+a", Some(&p.teacher))
        .await;
    assert!(searched.body.contains("Team A") && !searched.body.contains("Team B"));
}

#[actix_web::test]
async fn a_teacher_creates_a_course_group() {
    let p = Pages::new();
    let form = p
        .get("/s/acme/courses/1/groups/new", Some(&p.teacher))
        .await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("In Compliance 101."));
    assert!(
        form.body
            .contains("<label for=\"f-description\">Description</label>")
    );
    let token = p.csrf(&p.teacher);
    let body = form_of(&[
        ("csrf", &token),
        ("name", "Night shift"),
        ("idnumber", "night"),
        ("description", "Works 22–6"),
    ]);
    let created = p
        .post("/s/acme/courses/1/groups", Some(&p.teacher), &body)
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    assert_eq!(created.location(), "/s/acme/groups/3");
    let page = p.get("/s/acme/groups/3", Some(&p.teacher)).await;
    assert!(page.body.contains("<h1>Night shift</h1>"));
    assert!(page.body.contains("value=\"night\""));
    assert!(page.body.contains("Works 22–6</textarea>"));
}

#[actix_web::test]
async fn a_taken_group_name_is_answered_on_the_form_and_writes_nothing() {
    let p = Pages::new();
    let token = p.csrf(&p.teacher);
    let before = p.fx.snapshot();
    let body = form_of(&[("csrf", &token), ("name", "team a"), ("idnumber", "x")]);
    let answer = p
        .post("/s/acme/courses/1/groups", Some(&p.teacher), &body)
        .await;
    answer.assert_form_refused("the course already has a group named");
    assert!(
        answer
            .body
            .contains("value=\"team a\" required aria-invalid=\"true\"")
    );
    p.fx.assert_unchanged(&before);
}

#[actix_web::test]
async fn the_group_page_names_the_owner_of_each_membership_and_offers_removal_of_manual_ones_only()
{
    let p = Pages::new();
    p.fx.site
        .add_group_members(&p.fx.teacher, p.fx.team_a, &[p.fx.learners[0]])
        .unwrap();
    p.fx.method_keeping("Segment sync: HR", &[p.fx.learners[1]]);
    let page = p.get("/s/acme/groups/1", Some(&p.teacher)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("<h1>Team A</h1>"));
    assert!(page.body.contains("(2 members)"));
    assert!(page.body.contains("Added by hand"));
    assert!(
        page.body.contains(
            "Kept by the enrolment method “Segment sync: HR”; change the method instead."
        )
    );
    let manual = p.fx.learners[0];
    let kept = p.fx.learners[1];
    assert!(
        page.body
            .contains(&format!("name=\"user\" value=\"{manual}\"")),
        "a manual one can be chosen"
    );
    assert!(
        !page
            .body
            .contains(&format!("name=\"user\" value=\"{kept}\"")),
        "a kept one cannot"
    );
    assert!(page.body.contains("The enrolment method “<a href=\"/s/acme/courses/1/methods\">Segment sync: HR</a>” is configured with this course group."));
    assert!(page.body.contains("href=\"/s/acme/groups/1/members/add\""));
    assert!(page.body.contains("href=\"/s/acme/groups/1/delete\""));

    let searched = p.get("/s/acme/groups/1?q=learner2", Some(&p.teacher)).await;
    assert!(searched.body.contains("learner2") && !searched.body.contains(">learner1<"));
}

#[actix_web::test]
async fn bad_group_settings_are_answered_on_the_group_page_and_write_nothing() {
    let p = Pages::new();
    let token = p.csrf(&p.teacher);
    let before = p.fx.snapshot();
    let body = form_of(&[
        ("csrf", &token),
        ("name", ""),
        ("idnumber", "a"),
        ("description", "typed"),
    ]);
    let answer = p.post("/s/acme/groups/1", Some(&p.teacher), &body).await;
    answer.assert_form_refused("aria-invalid=\"true\" aria-describedby=\"f-name-error\"");
    assert!(
        answer.body.contains("typed</textarea>"),
        "the input is kept"
    );
    p.fx.assert_unchanged(&before);

    let good = form_of(&[
        ("csrf", &token),
        ("name", "Team Alpha"),
        ("idnumber", ""),
        ("description", ""),
    ]);
    let saved = p.post("/s/acme/groups/1", Some(&p.teacher), &good).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let group = p.fx.site.get_group(&p.fx.admin, p.fx.team_a).unwrap().group;
    assert_eq!(group.name, "Team Alpha");
}

#[actix_web::test]
async fn removing_members_is_confirmed_first_and_kept_memberships_stay() {
    let p = Pages::new();
    let (manual, kept) = (p.fx.learners[0], p.fx.learners[1]);
    p.fx.site
        .add_group_members(&p.fx.teacher, p.fx.team_a, &[manual])
        .unwrap();
    p.fx.method_keeping("Segment sync: HR", &[kept]);

    let confirm = p
        .get(
            &format!("/s/acme/groups/1/members/remove?user={manual}&user={kept}"),
            Some(&p.teacher),
        )
        .await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
    assert!(
        confirm
            .body
            .contains("<h1>Remove members from Team A?</h1>")
    );
    assert!(confirm.body.contains("<li>learner1 Test (learner1)</li>"));
    assert!(confirm.body.contains("These stay members:"));
    assert!(
        confirm
            .body
            .contains("learner2 Test (learner2): Kept by the enrolment method “Segment sync: HR”")
    );
    assert!(confirm.body.contains(&format!(
        "<input type=\"hidden\" name=\"user\" value=\"{manual}\">"
    )));
    assert!(!confirm.body.contains(&format!(
        "<input type=\"hidden\" name=\"user\" value=\"{kept}\">"
    )));

    // A forged form naming the kept member is refused whole.
    let token = p.csrf(&p.teacher);
    let before = p.fx.snapshot();
    let forged = form_of(&[
        ("csrf", &token),
        ("user", &manual.to_string()),
        ("user", &kept.to_string()),
    ]);
    let refused = p
        .post("/s/acme/groups/1/members/remove", Some(&p.teacher), &forged)
        .await;
    refused.assert_shows(
        StatusCode::UNPROCESSABLE_ENTITY,
        "only that method can remove them",
    );
    p.fx.assert_unchanged(&before);

    let body = form_of(&[("csrf", &token), ("user", &manual.to_string())]);
    let removed = p
        .post("/s/acme/groups/1/members/remove", Some(&p.teacher), &body)
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    assert_eq!(removed.location(), "/s/acme/groups/1");
    assert_eq!(members_of(&p), [kept]);

    let nothing = p
        .get("/s/acme/groups/1/members/remove", Some(&p.teacher))
        .await;
    assert_eq!(nothing.status, StatusCode::OK);
    assert!(
        nothing
            .body
            .contains("No member that can be removed here is selected.")
    );
    assert!(!nothing.body.contains("Remove from course group"));
}

#[actix_web::test]
async fn participants_who_are_not_members_are_added_from_the_picker() {
    let p = Pages::new();
    p.fx.site
        .add_group_members(&p.fx.admin, p.fx.team_a, &[p.fx.learners[0]])
        .unwrap();
    let picker = p
        .get("/s/acme/groups/1/members/add", Some(&p.teacher))
        .await;
    assert_eq!(picker.status, StatusCode::OK);
    assert!(picker.body.contains("<h1>Add members to Team A</h1>"));
    assert!(picker.body.contains("learner2@example.org"));
    assert!(
        !picker.body.contains("learner1@example.org"),
        "already a member"
    );
    assert!(
        !picker.body.contains("learner5@example.org"),
        "not a participant"
    );
    assert!(
        picker
            .body
            .contains("<label class=\"visually-hidden\" for=\"user-")
    );
    let searched = p
        .get("/s/acme/groups/1/members/add?q=learner3", Some(&p.teacher))
        .await;
    assert!(
        searched.body.contains("learner3@example.org")
            && !searched.body.contains("learner2@example.org")
    );

    let token = p.csrf(&p.teacher);
    let before = p.fx.snapshot();
    let outsider = p.fx.learners[4].to_string();
    let bad = form_of(&[
        ("csrf", &token),
        ("user", &p.fx.learners[1].to_string()),
        ("user", &outsider),
    ]);
    let refused = p
        .post("/s/acme/groups/1/members/add", Some(&p.teacher), &bad)
        .await;
    refused.assert_form_refused("not enrolled");
    p.fx.assert_unchanged(&before);

    let body = form_of(&[
        ("csrf", &token),
        ("user", &p.fx.learners[1].to_string()),
        ("user", &p.fx.learners[2].to_string()),
    ]);
    let added = p
        .post("/s/acme/groups/1/members/add", Some(&p.teacher), &body)
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER);
    assert_eq!(added.location(), "/s/acme/groups/1");
    assert_eq!(members_of(&p), p.fx.learners[0..3].to_vec());
    let shown = p.get("/s/acme/groups/1", Some(&p.teacher)).await;
    assert_eq!(shown.body.matches("Added by hand").count(), 3);
}

#[actix_web::test]
async fn deleting_a_group_is_confirmed_with_what_goes_and_which_method_uses_it() {
    let p = Pages::new();
    p.fx.site
        .add_group_members(&p.fx.admin, p.fx.team_a, &p.fx.learners[0..2])
        .unwrap();
    p.fx.method_keeping("Segment sync: HR", &[p.fx.learners[2]]);
    let confirm = p.get("/s/acme/groups/1/delete", Some(&p.teacher)).await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(
        confirm
            .body
            .contains("<h1>Delete course group Team A?</h1>")
    );
    assert!(confirm.body.contains(
        "remove its 3 memberships: 2 added by hand, 1 kept by the enrolment method “Segment sync: HR”."
    ), "{}", confirm.body);
    assert!(confirm.body.contains("leave the enrolment method “Segment sync: HR” configured with a course group that no longer exists"));
    let plain = p.get("/s/acme/groups/2/delete", Some(&p.teacher)).await;
    assert!(plain.body.contains("remove no membership"));
    assert!(
        plain
            .body
            .contains("no enrolment method uses this course group")
    );

    let token = p.csrf(&p.teacher);
    let deleted = p
        .post(
            "/s/acme/groups/1/delete",
            Some(&p.teacher),
            &format!("csrf={token}"),
        )
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    assert_eq!(deleted.location(), "/s/acme/courses/1/groups");
    assert!(p.fx.site.get_group(&p.fx.admin, p.fx.team_a).is_err());
    assert_eq!(
        p.get("/s/acme/groups/1", Some(&p.teacher)).await.status,
        StatusCode::NOT_FOUND
    );
}
