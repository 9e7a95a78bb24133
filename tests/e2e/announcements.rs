//! Announcements in a real browser (issue 17): the demo's site admin
//! announces "Compliance deadline moved" to the Finance segment (preview
//! with the recipient count, then send); a Finance member signs in and
//! finds it in the inbox with the unread count in the header; an IT member
//! does not. Every step is a screenshot in
//! `target/browser-artifacts/announcements/`.

use anyhow::{Context, Result, ensure};
use serde_json::json;

use crate::api::create_token;
use crate::chromium::Browser;
use crate::support::{ApiClient, TestServer, arg};

const SUBJECT: &str = "Compliance deadline moved";
const PASSWORD: &str = "correct horse battery";

/// A new user with a password, made a member of the segment named
/// `segment` through the API: the demo's employees have no password.
fn member_of(api: &ApiClient, segment: &str, username: &str) -> Result<()> {
    let segments = api.all(&format!("/segments?q={segment}"))?;
    let id = segments
        .iter()
        .find(|s| s["name"] == segment)
        .and_then(|s| s["id"].as_u64())
        .with_context(|| format!("no segment {segment}: {segments:?}"))?;
    let user = api.expect(
        201,
        "POST",
        "/users",
        json!({
            "username": username,
            "email": format!("{username}@example.org"),
            "firstname": username,
            "lastname": "Member",
            "password": PASSWORD,
        }),
    )?;
    api.expect(
        200,
        "POST",
        &format!("/segments/{id}/members"),
        json!({"users": [user["id"]]}),
    )?;
    Ok(())
}

fn sign_in(b: &Browser, username: &str, password: &str) -> Result<()> {
    b.goto("/sign-in")?;
    b.fill_by_label("Username", username)?;
    b.fill_by_label("Password", password)?;
    b.click_button("Sign in")
}

/// The unread count the header shows, if any.
fn unread_badge(b: &Browser) -> Result<Option<String>> {
    b.text_by_id("unread-count")
}

#[test]
fn a_site_admin_announces_to_finance_and_only_finance_sees_it_in_the_inbox() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let server = TestServer::start_with(&data, &["--demo"])?;
    let password = server.banner_word_after("username siteadmin  password: ")?;
    let (_, secret, _) = create_token(arg(&data)?, &["--name", "setup", "--user", "siteadmin"])?;
    let api = server.api(&secret, "/s/default/api/v1");
    member_of(&api, "Finance", "fiona.finance")?;
    member_of(&api, "IT", "ivan.it")?;

    let mut b = Browser::start(&server.url, "announcements")?;

    // 1. The site admin composes, previews, then sends.
    sign_in(&b, "siteadmin", &password)?;
    b.click_link("Announcements")?;
    ensure!(b.heading()? == "Announcements", "{}", b.heading()?);
    b.click_link("New announcement")?;
    let finance = b.eval(
        "return [...document.querySelectorAll('#f-audience option')].map(o => o.textContent).find(t => t.startsWith('Segment: Finance'));",
        vec![],
    )?;
    let finance = finance.as_str().context("a Finance option")?.to_owned();
    b.select_by_label("To", &finance)?;
    b.fill_by_label("Subject", SUBJECT)?;
    b.fill_by_label(
        "Message",
        "The compliance deadline is now **Friday 18 December**.\n\nPlease finish the course by then.",
    )?;
    b.click_button("Preview")?;
    b.assert_text_contains("Preview")?;
    b.assert_text_contains("recipients if it were sent now")?;
    let bold = b.eval(
        "const s = document.querySelector('#preview .announcement-body strong'); return s ? s.textContent : null;",
        vec![],
    )?;
    ensure!(
        bold == json!("Friday 18 December"),
        "the body is rendered: {bold}"
    );
    b.screenshot("preview")?;
    b.click_button("Send")?;
    b.assert_text_contains("Announcement sent.")?;
    b.assert_text_contains("segment Finance")?;
    b.screenshot("sent")?;
    b.click_button("Sign out")?;

    // 2. A Finance member sees it, unread, with the count in the header.
    sign_in(&b, "fiona.finance", PASSWORD)?;
    ensure!(
        unread_badge(&b)?.as_deref() == Some("1"),
        "unread badge: {:?}",
        unread_badge(&b)?
    );
    b.screenshot("finance-member-signed-in")?;
    b.click_link("Inbox 1")?;
    b.assert_text_contains(SUBJECT)?;
    b.assert_text_contains("1 message, 1 unread")?;
    b.screenshot("finance-inbox")?;
    b.click_link(&format!("New {SUBJECT}"))?;
    b.assert_text_contains("Friday 18 December")?;
    ensure!(unread_badge(&b)?.is_none(), "read once opened");
    b.screenshot("finance-message")?;
    b.click_button("Sign out")?;

    // 3. An IT member does not.
    sign_in(&b, "ivan.it", PASSWORD)?;
    ensure!(unread_badge(&b)?.is_none(), "no unread badge for IT");
    b.click_link("Inbox")?;
    b.assert_text_contains("Your inbox is empty.")?;
    ensure!(
        !b.text()?.contains(SUBJECT),
        "IT sees no Finance announcement"
    );
    b.screenshot("it-inbox")?;
    let errors = b.console_errors()?;
    ensure!(errors.is_empty(), "console errors: {errors:?}");
    Ok(())
}
