//! The seed's use case as a site admin does it, in a real browser: sign
//! in, create the user segment HR, add its members, add segment sync to
//! the compliance course with a new group (previewed first), open the
//! group and see the members. Every step is a screenshot in
//! `target/browser-artifacts/seed_walk/`.

use anyhow::{Context, Result, ensure};
use serde_json::{Value, json};

use crate::api::create_token;
use crate::chromium::{Browser, PHONE};
use crate::support::{TestServer, arg};

const SITE_API: &str = "/s/default/api/v1";
const PASSWORD: &str = "a long and private passphrase";

#[test]
fn a_site_admin_walks_the_seed_use_case_in_the_browser() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let server = TestServer::start(&data)?;

    // The set-up an operator would have done: a site admin with a
    // password, the people of two departments, the compliance course.
    let (_, secret, _) = create_token(arg(&data)?, &["--name", "set-up", "--operator"])?;
    let api = server.api(&secret, SITE_API);
    api.expect(
        201,
        "POST",
        "/users",
        json!({"username": "alice", "email": "alice@example.org", "firstname": "Alice",
               "lastname": "Admin", "password": PASSWORD, "site_admin": true}),
    )?;
    // The people's department is a profile field of the site.
    api.expect(
        201,
        "POST",
        "/profile-fields",
        json!({"shortname": "department", "name": "Department", "kind": "text"}),
    )?;
    for (dept, n) in [("HR", 4), ("Finance", 2)] {
        for i in 1..=n {
            let username = format!("{}{i}", dept.to_lowercase());
            api.expect(
                201,
                "POST",
                "/users",
                json!({"username": username, "email": format!("{username}@example.org"),
                       "firstname": dept, "lastname": format!("Person {i}"),
                       "profile": {"department": dept}}),
            )?;
        }
    }
    let course = api.expect(
        201,
        "POST",
        "/courses",
        json!({"shortname": "COMPLIANCE", "fullname": "Mandatory Compliance Training",
               "group_mode": "separate"}),
    )?;
    let course_id = course["id"].as_u64().context("course id")?;

    let mut b = Browser::start(&server.url, "seed_walk")?;

    // 1. Sign in (127.0.0.1 is a host name of the default site).
    b.goto("/dashboard")?;
    ensure!(
        b.path()?.starts_with("/sign-in"),
        "a page asks to sign in first: {}",
        b.path()?
    );
    b.fill_by_label("Username", "alice")?;
    b.fill_by_label("Password", PASSWORD)?;
    b.screenshot("sign-in")?;
    b.click_button("Sign in")?;
    ensure!(
        b.path()? == "/dashboard",
        "back where we were going: {}",
        b.path()?
    );
    b.assert_text_contains("Welcome, Alice Admin")?;
    b.screenshot("dashboard")?;

    // 2. Create the user segment HR.
    b.click_link("User segments")?;
    b.click_link("Create user segment")?;
    b.fill_by_label("Name", "HR")?;
    b.fill_by_label("Idnumber", "hr")?;
    b.fill_by_label("Description", "Everyone in the HR department.")?;
    b.screenshot("segment-form")?;
    b.click_button("Create user segment")?;
    ensure!(
        b.heading()?.contains("HR"),
        "the segment's page: {}",
        b.heading()?
    );
    b.assert_text_contains("created")?;
    b.screenshot("segment-created")?;

    // 3. Add its members with the picker.
    b.click_link("Add members")?;
    b.fill_by_label("Search site users by name, username or e-mail", "HR")?;
    b.click_button("Search")?;
    for i in 1..=4 {
        b.check_by_label(&format!("Select HR Person {i}"))?;
    }
    b.screenshot("members-picked")?;
    b.click_button("Add selected")?;
    b.assert_text_contains("4")?;
    for i in 1..=4 {
        b.assert_text_contains(&format!("HR Person {i}"))?;
    }
    ensure!(
        !b.text()?.contains("Finance Person"),
        "only HR people are members"
    );
    b.screenshot("members-added")?;

    // 4. Add segment sync to the compliance course, with a new group,
    //    previewed before it is saved.
    b.click_link("Courses")?;
    b.click_link("Mandatory Compliance Training")?;
    b.click_link("Enrolment methods")?;
    b.screenshot("methods")?;
    b.select_by_label("Enrolment method", "User segment sync")?;
    b.click_button("Add…")?;
    b.select_by_label("User segment", "HR")?;
    b.select_by_label("Role", "Learner")?;
    b.select_by_label("Add to group", "Create new group")?;
    b.screenshot("segment-sync-form")?;
    b.click_button("Preview")?;
    b.assert_text_contains("Nothing has been saved yet")?;
    b.assert_text_contains("4")?;
    b.screenshot("segment-sync-preview")?;
    let before = api.get(&format!("/courses/{course_id}/participants"))?;
    ensure!(
        participants(&before.1) == 0,
        "a preview writes nothing: {}",
        before.1
    );
    b.click_button("Save")?;
    b.assert_text_contains("User segment sync")?;
    b.screenshot("segment-sync-added")?;

    // 5. Open the group and see the members. The first sync runs on the
    //    event dispatcher right after the save: give it a moment.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        b.goto(&format!("/courses/{course_id}"))?;
        b.click_link("Course groups")?;
        if b.text()?.contains("HR segment") {
            break;
        }
        ensure!(
            std::time::Instant::now() < deadline,
            "the new group never appeared: {}",
            b.text()?
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    b.screenshot("groups")?;
    b.click_link("HR segment")?;
    for i in 1..=4 {
        b.assert_text_contains(&format!("HR Person {i}"))?;
    }
    ensure!(
        !b.text()?.contains("Finance Person"),
        "only HR people are in the group"
    );
    b.screenshot("group-members")?;

    // The same page on a phone: it fits the width, nothing scrolls sideways.
    b.set_size(PHONE)?;
    let overflow = b.eval(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
        vec![],
    )?;
    ensure!(
        overflow == json!(0),
        "the group page is {overflow} px too wide for a phone"
    );
    b.assert_text_contains("HR Person 4")?;
    b.screenshot("group-members-phone")?;

    let errors = b.console_errors()?;
    ensure!(errors.is_empty(), "console errors: {errors:#?}");
    Ok(())
}

fn participants(page: &Value) -> usize {
    page["items"].as_array().map_or(0, Vec::len)
}
