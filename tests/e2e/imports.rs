//! Bulk CSV import through the pages, in a real browser (issue 7): the
//! demo's site admin uploads a group-members file with a bad row (the
//! preview shows the error, nothing changes), then the corrected file,
//! applies it and finds the members on the group's page; then a users
//! file large enough to watch its progress bar, and a file over the
//! server's upload limit (`--import-max-mib 1`). Every step is a
//! screenshot in `target/browser-artifacts/csv_import/`.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Result, bail, ensure};

use crate::chromium::{Browser, LAPTOP, PHONE};
use crate::support::TestServer;

const GROUP_FIELD: &str = "CSV file to add users to course groups";
const GROUP_UPLOAD: &str = "Upload and check: add users to course groups";
const USERS_FIELD: &str = "CSV file to upload users";
const USERS_UPLOAD: &str = "Upload and check: upload users";

#[test]
fn a_site_admin_imports_group_members_from_a_csv_file_in_the_browser() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let server = TestServer::start_with(
        &dir.path().join("data"),
        &["--demo", "--import-max-mib", "1"],
    )?;
    let password = server.banner_word_after("username siteadmin  password: ")?;

    // Demo employees: ada.abbott is in HR, ben.abbott in IT and
    // jonas.abbott in Finance (see demo::employee).
    let bad = write(
        dir.path(),
        "finance-team.csv",
        "username,course,group\r\nada.abbott,COMPLIANCE,Finance\r\nnobody.here,COMPLIANCE,Finance\r\n",
    )?;
    let good = write(
        dir.path(),
        "finance-team-fixed.csv",
        "username,course,group\r\nada.abbott,COMPLIANCE,Finance\r\nben.abbott,COMPLIANCE,Finance\r\njonas.abbott,COMPLIANCE,Finance\r\n",
    )?;

    let mut b = Browser::start(&server.url, "csv_import")?;

    // 1. Sign in as the demo's site admin.
    b.goto("/sign-in")?;
    b.fill_by_label("Username", "siteadmin")?;
    b.fill_by_label("Password", &password)?;
    b.click_button("Sign in")?;
    b.assert_text_contains("Import users, user segments or group members from a CSV file")?;

    // Before: the Finance group has none of the two.
    let group_page = open_finance_group(&b)?;
    ensure!(
        !b.text()?.contains("Ada Abbott") && !b.text()?.contains("Ben Abbott"),
        "not members yet"
    );

    // 2. The imports page, from the navigation.
    b.click_link("Imports")?;
    ensure!(b.heading()? == "Import from CSV", "{}", b.heading()?);
    b.assert_text_contains("Add users to course groups")?;
    b.assert_text_contains("at most 1 MiB")?;
    b.screenshot("imports")?;

    // 3. A file with a bad row: the preview shows the error first and
    //    offers no Apply.
    b.upload_by_label(GROUP_FIELD, &bad)?;
    b.click_button(GROUP_UPLOAD)?;
    ensure!(
        b.heading()? == "Check finance-team.csv",
        "the preview: {}",
        b.heading()?
    );
    b.assert_text_contains("1 error")?;
    b.assert_text_contains("Nothing will be written")?;
    b.assert_text_contains("nobody.here")?;
    let applies = b.eval(
        "return [...document.querySelectorAll('button')].filter(b => b.textContent.trim() === 'Apply').length;",
        vec![],
    )?;
    ensure!(applies == 0, "no Apply button with errors: {applies}");
    b.screenshot("preview-with-error")?;
    // The error table fits a phone: nothing scrolls sideways.
    b.set_size(PHONE)?;
    ensure!(fits(&b)?, "the preview is too wide for a phone");
    b.screenshot("preview-with-error-phone")?;
    b.set_size(LAPTOP)?;
    let preview = b.path()?;
    b.goto(&group_page)?;
    ensure!(
        !b.text()?.contains("Ada Abbott"),
        "a file with an error changes nothing"
    );
    b.goto(&preview)?;

    // 4. The corrected file: its preview, the apply, the outcome.
    b.click_link("upload the corrected file")?;
    b.upload_by_label(GROUP_FIELD, &good)?;
    b.click_button(GROUP_UPLOAD)?;
    b.assert_text_contains("Add 2 memberships of course groups")?;
    b.assert_text_contains("1 thing already in place, left unchanged")?;
    b.screenshot("preview-ok")?;
    b.click_button("Apply")?;
    wait_for_text(&b, "The file is imported.")?;
    b.assert_text_contains("Added 2 memberships of course groups")?;
    b.screenshot("applied")?;

    // 5. The members are in the group.
    b.goto(&group_page)?;
    b.assert_text_contains("Ada Abbott")?;
    b.assert_text_contains("Ben Abbott")?;
    b.screenshot("group-members")?;

    // 6. A users file whose passwords take a few seconds to hash: the
    //    progress bar moves, then the outcome replaces it.
    let mut users = String::from("username,email,firstname,lastname,password,cohort1\r\n");
    for i in 1..=80 {
        users.push_str(&format!(
            "new{i:03},new{i:03}@example.org,New,Person {i},a long passphrase {i},finance\r\n"
        ));
    }
    let users = write(dir.path(), "new-staff.csv", &users)?;
    b.goto("/imports")?;
    b.upload_by_label(USERS_FIELD, &users)?;
    b.click_button(USERS_UPLOAD)?;
    b.assert_text_contains("Create 80 users")?;
    b.click_button("Apply")?;
    let running = b.eval(
        "return document.querySelector('progress') !== null;",
        vec![],
    )?;
    if running == serde_json::json!(true) {
        // Let the script poll once or twice, so the bar has moved.
        std::thread::sleep(Duration::from_millis(1200));
        if b.text().is_ok_and(|t| t.contains("Importing")) {
            b.screenshot("progress")?;
        }
    } else {
        eprintln!("the users import finished before its page showed a progress bar");
    }
    wait_for_text(&b, "The file is imported.")?;
    b.assert_text_contains("Created 80 users")?;
    b.screenshot("users-applied")?;

    // 7. A file over the limit: the upload page again, the sizes beside
    //    the field, nothing kept.
    let mut big = String::from("username,segment\r\n");
    while big.len() < 1536 * 1024 {
        big.push_str("ada.abbott,finance\r\n");
    }
    let big = write(dir.path(), "too-big.csv", &big)?;
    b.goto("/imports")?;
    b.upload_by_label("CSV file to add users to user segments", &big)?;
    b.click_button("Upload and check: add users to user segments")?;
    b.assert_text_contains("The file is 1.5 MiB; the largest upload is 1 MiB.")?;
    b.assert_text_contains("Nothing was uploaded")?;
    b.screenshot("over-the-limit")?;
    b.set_size(PHONE)?;
    ensure!(fits(&b)?, "the upload page is too wide for a phone");
    b.screenshot("over-the-limit-phone")?;

    // Chromium logs every 4xx page it loads as an error: the 413 of the
    // refused upload is the answer asked for, anything else is not.
    let errors: Vec<String> = b
        .console_errors()?
        .into_iter()
        .filter(|e| !(e.contains("/imports/segment-members ") && e.contains("status of 413")))
        .collect();
    ensure!(errors.is_empty(), "console errors: {errors:#?}");
    Ok(())
}

/// Whether the page fits the window's width.
fn fits(b: &Browser) -> Result<bool> {
    let overflow = b.eval(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
        vec![],
    )?;
    Ok(overflow == serde_json::json!(0))
}

fn write(dir: &Path, name: &str, text: &str) -> Result<std::path::PathBuf> {
    let path = dir.join(name);
    std::fs::write(&path, text)?;
    Ok(path)
}

/// Courses → the compliance course → its groups → Finance; returns the
/// group page's path.
fn open_finance_group(b: &Browser) -> Result<String> {
    b.click_link("Courses")?;
    b.click_link("Mandatory Compliance Training")?;
    b.click_link("Course groups")?;
    b.click_link("Finance")?;
    b.path()
}

/// Reloads until the page reads `wanted` (the page's own script reloads
/// it too when the import ends; either is fine).
fn wait_for_text(b: &Browser, wanted: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        // Mid-reload the document may be gone: that is not a failure.
        if b.text().is_ok_and(|t| t.contains(wanted)) {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!(
                "{wanted:?} never appeared on {}; it reads:\n{}",
                b.path().unwrap_or_default(),
                b.text().unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}
