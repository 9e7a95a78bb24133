//! Browser tests: the real binary's pages in headless Chromium, as a user
//! sees them (see `chromium.rs` for the harness and where screenshots go).

use anyhow::{Context, Result, ensure};
use serde_json::json;

use crate::chromium::{Browser, PHONE};
use crate::support::TestServer;

#[test]
fn the_demo_home_page_renders_styled_on_a_laptop_and_a_phone() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let server = TestServer::start_with(&dir.path().join("data"), &["--demo"])?;
    let mut browser = Browser::start(&server.url, "demo_home_page")?;

    // 127.0.0.1 is a host name of the default site.
    browser.goto("/")?;
    ensure!(browser.heading()? == "Charon", "the default site's name");
    ensure!(
        browser.title()?.contains("Charon"),
        "title {:?}",
        browser.title()?
    );
    for shown in [
        "Courses open to self enrolment",
        "Mandatory Compliance Training",
        "COMPLIANCE",
    ] {
        browser.assert_text_contains(shown)?;
    }
    // Segments are an admin's tool, not public (issue 16, finding 5).
    let text = browser.text()?;
    for hidden in ["segment", "Everyone in the HR department.", "members"] {
        ensure!(
            !text.contains(hidden),
            "{hidden:?} on the public page: {text}"
        );
    }

    // The stylesheet arrived and applies: the header is painted in the
    // brand colour the page declares (unstyled, it would be transparent).
    let brand = browser.eval(
        "return document.querySelector('meta[name=theme-color]').content;",
        vec![],
    )?;
    let brand = brand.as_str().context("theme-color")?;
    let painted = browser.computed_style(".site-header", "background-color")?;
    ensure!(
        painted == css_rgb(brand)?,
        "site header background {painted:?}, brand {brand:?}"
    );
    let sheets = browser.eval(
        "return [...document.styleSheets].filter(s => s.href).map(s => s.cssRules.length);",
        vec![],
    )?;
    ensure!(
        sheets
            .as_array()
            .is_some_and(|s| s.len() == 1 && s[0].as_u64() > Some(10)),
        "one linked stylesheet, with its rules: {sheets}"
    );
    // The only console error today: the pages name no icon, so Chromium
    // asks for /favicon.ico and gets a 404 (left to the pages' owners;
    // drop the filter once they serve or declare one).
    let errors: Vec<String> = browser
        .console_errors()?
        .into_iter()
        .filter(|e| !e.contains("/favicon.ico "))
        .collect();
    ensure!(errors.is_empty(), "console errors: {errors:#?}");
    let laptop = browser.screenshot("home-laptop")?;

    // A phone: the same page fits its width (nothing scrolls sideways).
    browser.set_size(PHONE)?;
    let width = browser.eval("return window.innerWidth;", vec![])?;
    ensure!(width == json!(PHONE.0), "viewport width {width}");
    let overflow = browser.eval(
        "const d = document.documentElement; return d.scrollWidth - d.clientWidth;",
        vec![],
    )?;
    ensure!(
        overflow == json!(0),
        "the page is {overflow} px too wide for a phone"
    );
    browser.assert_text_contains("Mandatory Compliance Training")?;
    let phone = browser.screenshot("home-phone")?;

    for shot in [laptop, phone] {
        let png = std::fs::read(&shot)?;
        ensure!(
            png.starts_with(b"\x89PNG\r\n\x1a\n"),
            "{} is a PNG",
            shot.display()
        );
    }
    Ok(())
}

/// `#rrggbb` as CSS's computed `rgb(r, g, b)`.
fn css_rgb(hex: &str) -> Result<String> {
    let digits = hex
        .strip_prefix('#')
        .filter(|d| d.len() == 6)
        .context(hex.to_owned())?;
    let channel = |i: usize| u8::from_str_radix(&digits[i..i + 2], 16);
    Ok(format!(
        "rgb({}, {}, {})",
        channel(0)?,
        channel(2)?,
        channel(4)?
    ))
}
