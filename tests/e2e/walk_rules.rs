//! Rule-based segments in a real browser (issue 20's acceptance): on the
//! demo site, the site admin makes sure the `department` profile field is
//! a menu holding HR and Finance, creates the segments "HR people" and
//! "Finance people" and gives each a rule through the rule pages
//! (`profile.department equals HR` / `Finance`), syncs each into the
//! compliance course with segment sync creating a new group, then moves
//! one HR employee to Finance on their user page — and the course's
//! groups follow: the employee shows up in the Finance people group and
//! leaves the HR people group, with nobody touching a member list by
//! hand. Every step is a screenshot in
//! `target/browser-artifacts/rule_walk/`.
//!
//! The rule and the sync react on the server's event dispatcher, so the
//! walk waits on what the pages show — reloading until it holds, within a
//! generous deadline — never on a fixed pause.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use serde_json::{Value, json};

use crate::chromium::Browser;
use crate::support::TestServer;

const COURSE: &str = "Mandatory Compliance Training";
/// How long the dispatcher may take to carry a change through a rule and
/// a sync on a loaded two-core machine.
const DEADLINE: Duration = Duration::from_secs(120);
/// Between two reloads of a page that is not there yet.
const POLL: Duration = Duration::from_millis(250);

fn sign_in(b: &Browser, username: &str, password: &str) -> Result<()> {
    b.goto("/sign-in")?;
    b.fill_by_label("Username", username)?;
    b.fill_by_label("Password", password)?;
    b.click_button("Sign in")
}

/// `text` as a query-string value.
fn query_escape(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                char::from(b).to_string()
            }
            b' ' => "+".to_owned(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// Reloads with `step` until it says the page shows what is wanted, or
/// fails after [`DEADLINE`] with `what` and the page as last seen.
fn wait_until(b: &Browser, what: &str, mut step: impl FnMut() -> Result<bool>) -> Result<()> {
    let deadline = Instant::now() + DEADLINE;
    loop {
        if step()? {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!(
                "{what}: not so within {DEADLINE:?}; the page {} reads:\n{}",
                b.path().unwrap_or_default(),
                b.text().unwrap_or_default()
            );
        }
        std::thread::sleep(POLL);
    }
}

/// Makes sure the site's `department` profile field exists, as a menu
/// holding HR and Finance: the demo defines it; a site without it gets it
/// through the profile-fields page.
fn department_field(b: &mut Browser) -> Result<()> {
    b.goto("/users")?;
    b.click_link("Profile fields")?;
    let shortnames = b.eval(
        "return [...document.querySelectorAll('tbody code')].map(c => c.textContent.trim());",
        vec![],
    )?;
    let exists = shortnames
        .as_array()
        .is_some_and(|a| a.iter().any(|s| s == "department"));
    if !exists {
        b.click_link("Add a profile field")?;
        b.fill_by_label("Short name", "department")?;
        b.fill_by_label("Name", "Department")?;
        b.select_by_label("Kind", "Menu of choices")?;
        b.fill_by_label("Choices", "HR\nFinance")?;
        b.screenshot("profile-field-form")?;
        b.click_button("Add profile field")?;
    }
    b.assert_text_contains("department")?;
    b.assert_text_contains("Menu")?;
    b.screenshot("profile-fields")?;
    Ok(())
}

/// Creates the segment `name` and gives it the rule `rule` through the
/// rule pages; returns the segment page's path.
fn rule_segment(b: &mut Browser, name: &str, rule: &str, shot: &str) -> Result<String> {
    b.goto("/segments")?;
    b.click_link("Create user segment")?;
    b.fill_by_label("Name", name)?;
    b.click_button("Create user segment")?;
    ensure!(b.heading()? == name, "the segment's page: {}", b.heading()?);
    let segment = b.path()?;
    b.assert_text_contains("Members are managed by hand.")?;
    b.click_link("Manage members by a rule")?;
    ensure!(
        b.heading()? == format!("Manage the members of {name} by a rule"),
        "{}",
        b.heading()?
    );
    b.select_by_label("Users must match", "All conditions (all of)")?;
    b.fill_by_label("Conditions", rule)?;
    b.screenshot(&format!("{shot}-rule-form"))?;
    b.click_button("Save and run")?;
    ensure!(b.path()? == segment, "back on the segment: {}", b.path()?);
    b.assert_text_contains("Rule saved and run: ")?;
    b.assert_text_contains("Members are managed by the rule of plugin Profile field rules")?;
    b.assert_text_contains(rule)?;
    ensure!(
        !b.text()?.contains("Add members"),
        "a ruled segment offers no by-hand change"
    );
    b.screenshot(&format!("{shot}-ruled"))?;
    Ok(segment)
}

/// The first member listed on the segment page shown: `(name, username)`.
fn first_member(b: &Browser) -> Result<(String, String)> {
    let row = b.eval(
        "const r = document.querySelector('section[aria-labelledby=members-heading] tbody tr');
         return r ? [r.querySelector('th').textContent.trim(), r.querySelector('td').textContent.trim()] : null;",
        vec![],
    )?;
    let field = |i: usize| {
        row.get(i)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .with_context(|| format!("no member row on {row}"))
    };
    Ok((field(0)?, field(1)?))
}

/// Adds segment sync of `segment` to the compliance course, its members
/// as learners in a new group, previewed first.
fn sync_into_course(b: &mut Browser, course: &str, segment: &str, shot: &str) -> Result<()> {
    b.goto(course)?;
    b.click_link("Enrolment methods")?;
    b.select_by_label("Enrolment method", "User segment sync")?;
    b.click_button("Add…")?;
    b.fill_by_label("Name", &format!("{segment} sync"))?;
    b.select_by_label("User segment", segment)?;
    b.select_by_label("Role", "Learner")?;
    b.select_by_label("Add to group", "Create new group")?;
    b.screenshot(&format!("{shot}-sync-form"))?;
    b.click_button("Preview")?;
    b.assert_text_contains("Nothing has been saved yet")?;
    b.screenshot(&format!("{shot}-sync-preview"))?;
    b.click_button("Save")?;
    b.assert_text_contains(&format!("{segment} sync"))?;
    Ok(())
}

/// The path of the course group `group`, from the course's groups page
/// (once the group exists).
fn group_path(b: &Browser, course: &str, group: &str) -> Result<String> {
    let mut path = None;
    wait_until(b, &format!("the course group {group:?} exists"), || {
        b.goto(&format!("{course}/groups"))?;
        let href = b.eval(
            "const a = [...document.querySelectorAll('tbody th a')]
               .find(a => a.textContent.trim() === arguments[0]);
             return a ? a.pathname : null;",
            vec![json!(group)],
        )?;
        path = href.as_str().map(str::to_owned);
        Ok(path.is_some())
    })?;
    path.context("the group's path")
}

/// Whether the group page at `group` lists `username` among its members
/// (searched for, so a long group's paging does not hide them).
fn group_lists(b: &Browser, group: &str, username: &str) -> Result<bool> {
    b.goto(&format!("{group}?q={}", query_escape(username)))?;
    let usernames = b.eval(
        "return [...document.querySelectorAll('section[aria-labelledby=members-heading] tbody tr')]
           .map(r => r.cells[2].textContent.trim());",
        vec![],
    )?;
    Ok(usernames
        .as_array()
        .is_some_and(|a| a.iter().any(|u| u == username)))
}

#[test]
fn a_site_admin_moves_a_user_between_rule_segments_in_the_browser() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let server = TestServer::start_with(&data, &["--demo"])?;
    let password = server.banner_word_after("username siteadmin  password: ")?;
    let mut b = Browser::start(&server.url, "rule_walk")?;

    // 1. The site admin of the default site signs in.
    b.goto("/dashboard")?;
    ensure!(b.path()?.starts_with("/sign-in"), "{}", b.path()?);
    sign_in(&b, "siteadmin", &password)?;
    ensure!(b.path()? == "/dashboard", "{}", b.path()?);
    b.screenshot("dashboard")?;

    // 2. The department profile field, a menu with HR and Finance (the
    //    demo's employees hold it).
    department_field(&mut b)?;

    // 3. Two segments, each managed by its rule; the demo's HR employees
    //    join the first when its rule is saved.
    let hr = rule_segment(&mut b, "HR people", "profile.department equals HR", "hr")?;
    let (name, username) = first_member(&b)?;
    let finance = rule_segment(
        &mut b,
        "Finance people",
        "profile.department equals Finance",
        "finance",
    )?;
    ensure!(
        !b.text()?.contains(&name),
        "{name} is in HR, not yet in Finance people"
    );

    // A dry run of the HR rule: in line already, nothing to do.
    b.goto(&hr)?;
    b.click_button("Dry run")?;
    b.assert_text_contains("Nobody would join.")?;
    b.assert_text_contains("Nobody would leave.")?;
    b.screenshot("hr-dry-run")?;

    // 4. Each segment synced into the compliance course, into a new group.
    b.goto("/courses")?;
    b.click_link(COURSE)?;
    let course = b.path()?;
    sync_into_course(&mut b, &course, "HR people", "hr")?;
    sync_into_course(&mut b, &course, "Finance people", "finance")?;
    let hr_group = group_path(&b, &course, "HR people segment")?;
    let finance_group = group_path(&b, &course, "Finance people segment")?;
    wait_until(&b, &format!("{username} is in the HR people group"), || {
        group_lists(&b, &hr_group, &username)
    })?;
    b.screenshot("hr-group-before")?;
    ensure!(
        !group_lists(&b, &finance_group, &username)?,
        "{username} is not in the Finance people group yet"
    );

    // 5. The employee moves to Finance, on their user page.
    b.goto(&hr)?;
    b.click_link(&name)?;
    b.select_by_label("Department", "Finance")?;
    b.screenshot("user-moved-to-finance")?;
    b.click_button("Save")?;
    b.assert_text_contains("saved")?;

    // 6. The course's groups follow the rules: in Finance, out of HR.
    wait_until(
        &b,
        &format!("{username} is in the Finance people group"),
        || group_lists(&b, &finance_group, &username),
    )?;
    b.screenshot("finance-group-after")?;
    wait_until(
        &b,
        &format!("{username} has left the HR people group"),
        || Ok(!group_lists(&b, &hr_group, &username)?),
    )?;
    b.screenshot("hr-group-after")?;

    // And the segments say the same.
    b.goto(&format!("{finance}?q={}", query_escape(&username)))?;
    b.assert_text_contains(&name)?;
    b.screenshot("finance-people-after")?;

    let errors = b.console_errors()?;
    ensure!(errors.is_empty(), "console errors: {errors:#?}");
    Ok(())
}
