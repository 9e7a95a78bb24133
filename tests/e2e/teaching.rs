//! Teaching in groups in a real browser (issue 18): in the demo's
//! compliance course (separate groups, one group per department) the
//! teacher adds a discussion forum and an assignment with group
//! submission; an HR learner posts in the forum and submits for the HR
//! group; a Finance learner sees neither the HR post nor the HR
//! submission; the teacher grades the HR submission and both HR members
//! see the grade. Every step is a screenshot in
//! `target/browser-artifacts/teaching/`.

use anyhow::{Context, Result, ensure};
use serde_json::{Value, json};

use crate::api::create_token;
use crate::chromium::Browser;
use crate::support::{ApiClient, TestServer, arg};

const PASSWORD: &str = "correct horse battery";
const FORUM: &str = "Team discussion";
const ASSIGNMENT: &str = "Policy summary";
const HR_SUBJECT: &str = "HR questions about the policy";
const HR_TEXT: &str = "The HR team summarises the policy in three points.";

/// The id of the one item of `list` whose `field` is `value`.
fn id_where(list: &[Value], field: &str, value: &str) -> Result<u64> {
    list.iter()
        .find(|v| v[field] == value)
        .and_then(|v| v["id"].as_u64())
        .with_context(|| format!("no {field} {value:?} in {list:?}"))
}

/// A new user with a password, enrolled in the course with `role` and,
/// for a learner, put in the course group `group`.
fn person(
    api: &ApiClient,
    manual: u64,
    username: &str,
    role: &str,
    group: Option<u64>,
) -> Result<()> {
    let user = api.expect(
        201,
        "POST",
        "/users",
        json!({
            "username": username,
            "email": format!("{username}@example.org"),
            "firstname": username,
            "lastname": "Person",
            "password": PASSWORD,
        }),
    )?;
    api.expect(
        200,
        "POST",
        &format!("/methods/{manual}/enrolments"),
        json!({"user": user["id"], "role": role}),
    )?;
    if let Some(group) = group {
        api.expect(
            200,
            "POST",
            &format!("/groups/{group}/members"),
            json!({"users": [user["id"]]}),
        )?;
    }
    Ok(())
}

fn sign_in(b: &Browser, username: &str) -> Result<()> {
    b.goto("/sign-in")?;
    b.fill_by_label("Username", username)?;
    b.fill_by_label("Password", PASSWORD)?;
    b.click_button("Sign in")
}

fn open_course(b: &Browser) -> Result<()> {
    b.goto("/courses")?;
    b.click_link("Mandatory Compliance Training")
}

#[test]
fn a_teacher_teaches_in_groups_and_the_groups_stay_apart() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let server = TestServer::start_with(&data, &["--demo"])?;
    let (_, secret, _) = create_token(arg(&data)?, &["--name", "setup", "--user", "siteadmin"])?;
    let api = server.api(&secret, "/s/default/api/v1");
    let courses = api.all("/courses?q=COMPLIANCE")?;
    let course = id_where(&courses, "shortname", "COMPLIANCE")?;
    let methods = api.all(&format!("/courses/{course}/methods"))?;
    let manual = id_where(&methods, "plugin", "manual")?;
    let groups = api.all(&format!("/courses/{course}/groups"))?;
    let hr = id_where(&groups, "name", "HR")?;
    let finance = id_where(&groups, "name", "Finance")?;
    person(&api, manual, "tess.teacher", "teacher", None)?;
    person(&api, manual, "hana.hr", "learner", Some(hr))?;
    person(&api, manual, "hugo.hr", "learner", Some(hr))?;
    person(&api, manual, "fina.finance", "learner", Some(finance))?;

    let mut b = Browser::start(&server.url, "teaching")?;

    // 1. The teacher adds a forum and an assignment with group submission.
    sign_in(&b, "tess.teacher")?;
    open_course(&b)?;
    b.assert_text_contains("Week 1: Policies")?;
    b.click_link("Discussion forum")?;
    b.fill_by_label("Name", FORUM)?;
    b.fill_by_label("Description", "Discuss the policy **with your team**.")?;
    b.click_button("Add forum")?;
    b.assert_text_contains(FORUM)?;
    open_course(&b)?;
    b.click_link("Assignment")?;
    b.fill_by_label("Name", ASSIGNMENT)?;
    b.fill_by_label("Instructions", "Summarise the policy as a team.")?;
    b.fill_by_label("Maximum grade", "10")?;
    b.check_by_label("Group submission (one per group)")?;
    b.click_button("Save assignment")?;
    open_course(&b)?;
    b.assert_text_contains(ASSIGNMENT)?;
    b.screenshot("teacher-course-page")?;
    b.click_button("Sign out")?;

    // 2. An HR learner posts in the forum and submits for the HR group.
    sign_in(&b, "hana.hr")?;
    open_course(&b)?;
    b.click_link(FORUM)?;
    b.fill_by_label("Subject", HR_SUBJECT)?;
    b.fill_by_label("Message", "Who do we ask about **data protection**?")?;
    b.click_button("Post to forum")?;
    b.assert_text_contains(HR_SUBJECT)?;
    b.screenshot("hr-learner-posted")?;
    open_course(&b)?;
    b.click_link(ASSIGNMENT)?;
    b.fill_by_label("Online text", HR_TEXT)?;
    b.click_button("Submit for grading")?;
    let status = b.text_by_id("submission-status")?.unwrap_or_default();
    ensure!(
        status.contains("Submitted"),
        "submission status: {status:?}"
    );
    b.screenshot("hr-learner-submitted")?;
    b.click_button("Sign out")?;

    // 3. A Finance learner sees neither the HR post nor the HR submission.
    sign_in(&b, "fina.finance")?;
    open_course(&b)?;
    b.click_link(FORUM)?;
    let forum = b.text()?;
    ensure!(
        !forum.contains(HR_SUBJECT),
        "Finance sees the HR post:\n{forum}"
    );
    b.screenshot("finance-learner-forum")?;
    open_course(&b)?;
    b.click_link(ASSIGNMENT)?;
    let page = b.text()?;
    ensure!(
        !page.contains(HR_TEXT),
        "Finance sees the HR submission:\n{page}"
    );
    let status = b.text_by_id("submission-status")?.unwrap_or_default();
    ensure!(
        !status.contains("Submitted"),
        "Finance's status: {status:?}"
    );
    b.screenshot("finance-learner-assignment")?;
    b.click_button("Sign out")?;

    // 4. The teacher grades the HR submission.
    sign_in(&b, "tess.teacher")?;
    open_course(&b)?;
    b.click_link(ASSIGNMENT)?;
    b.click_link("View submissions")?;
    b.assert_text_contains("HR")?;
    b.screenshot("teacher-submissions")?;
    b.click_link("Grade")?;
    b.assert_text_contains(HR_TEXT)?;
    b.fill_by_label("Grade (out of 10)", "8")?;
    b.fill_by_label("Feedback", "A clear summary, **well done**.")?;
    b.click_button("Save grade")?;
    b.screenshot("teacher-graded")?;
    b.click_button("Sign out")?;

    // 5. Both HR members see the grade.
    for learner in ["hana.hr", "hugo.hr"] {
        sign_in(&b, learner)?;
        open_course(&b)?;
        b.click_link(ASSIGNMENT)?;
        let grade = b.text_by_id("my-grade")?.unwrap_or_default();
        ensure!(grade.contains('8'), "{learner} sees grade {grade:?}");
        b.assert_text_contains("well done")?;
        b.screenshot(&format!("{}-sees-the-grade", learner.replace('.', "-")))?;
        b.click_button("Sign out")?;
    }
    Ok(())
}
