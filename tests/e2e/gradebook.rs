//! The gradebook in a real browser (issue 19): in the demo's compliance
//! course, with its four department groups and generated grades, the site
//! admin opens the grader report, filters to Finance, enters a grade
//! inline and saves, opens the per-group analysis and sees the chart (its
//! title, one bar per cohort), and exports the Finance grades as CSV and
//! the workbook as `.xlsx` — fetched with the browser's session cookie,
//! the workbook read back with `calamine`. Every step is a screenshot in
//! `target/browser-artifacts/gradebook/`.

use anyhow::{Context, Result, ensure};
use calamine::{Data, Reader, Xlsx};
use serde_json::json;

use crate::chromium::Browser;
use crate::support::TestServer;

fn sign_in(b: &Browser, username: &str, password: &str) -> Result<()> {
    b.goto("/sign-in")?;
    b.fill_by_label("Username", username)?;
    b.fill_by_label("Password", password)?;
    b.click_button("Sign in")
}

/// The path (and query) of the link with `id` on the current page.
fn link_path(b: &Browser, id: &str) -> Result<String> {
    let href = b.eval(
        "const a = document.getElementById(arguments[0]); \
         return a ? a.pathname + a.search : null;",
        vec![json!(id)],
    )?;
    href.as_str()
        .map(str::to_owned)
        .with_context(|| format!("no link #{id}"))
}

#[test]
fn a_teacher_filters_grades_to_finance_enters_one_analyses_and_exports() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let server = TestServer::start_with(&data, &["--demo"])?;
    let password = server.banner_word_after("username siteadmin  password: ")?;
    let mut b = Browser::start(&server.url, "gradebook")?;

    // 1. The grader report of the compliance course, all departments.
    sign_in(&b, "siteadmin", &password)?;
    b.goto("/courses")?;
    b.click_link("Mandatory Compliance Training")?;
    b.click_link("Grades")?;
    ensure!(
        b.heading()? == "Grades: Mandatory Compliance Training",
        "{}",
        b.heading()?
    );
    b.assert_text_contains("Overall average")?;
    b.assert_text_contains("300 learners")?;
    b.screenshot("grader-report")?;

    // 2. Filtered to Finance: every row is a Finance learner.
    b.select_by_label("Group", "Finance")?;
    b.click_button("Show")?;
    b.assert_text_contains("60 learners")?;
    let groups = b.eval(
        "return [...document.querySelectorAll('#grader-report tbody tr')] \
           .map(r => r.cells[1].textContent.trim());",
        vec![],
    )?;
    let groups = groups.as_array().context("rows")?;
    ensure!(
        !groups.is_empty() && groups.iter().all(|g| g == "Finance"),
        "{groups:?}"
    );
    b.screenshot("grader-report-finance")?;

    // 3. Edit mode (the report opens as text), then a grade entered
    // inline in the first Policy quiz cell, saved.
    ensure!(
        b.eval(
            "return document.querySelectorAll('#grader-report input').length;",
            vec![]
        )? == json!(0),
        "the report opens as text"
    );
    b.click_link("Turn editing on")?;
    b.assert_text_contains("60 learners")?;
    // The input is named by its column's header and its row's: "Policy
    // quiz for <learner>", through aria-labelledby.
    let cell = b.eval(
        "const h = [...document.querySelectorAll('#grader-report thead a')] \
           .find(a => a.textContent.trim() === 'Policy quiz'); \
         const i = document.querySelector(`input[aria-labelledby^=\"${h.id} \"]`); \
         const name = i.getAttribute('aria-labelledby').split(' ') \
           .map(id => document.getElementById(id).textContent.trim()).join(' '); \
         return [i.getAttribute('aria-labelledby'), name, i.value];",
        vec![],
    )?;
    let label = cell[0].as_str().context("cell label")?.to_owned();
    let name = cell[1].as_str().context("accessible name")?;
    ensure!(name.starts_with("Policy quiz for "), "{name}");
    let new = if cell[2] == "3" { "4" } else { "3" };
    b.fill_by_css(&format!("input[aria-labelledby=\"{label}\"]"), new)?;
    b.screenshot("grade-typed")?;
    b.click_button("Save grades")?;
    b.assert_text_contains("1 grade saved.")?;
    b.assert_text_contains("60 learners")?;
    let saved = b.eval(
        "return document.querySelector(`input[aria-labelledby=\"${arguments[0]}\"]`).value;",
        vec![json!(label)],
    )?;
    ensure!(saved == json!(new), "{label}: {saved}");
    b.screenshot("grade-saved")?;
    let csv_path = link_path(&b, "export-csv")?;
    let xlsx_path = link_path(&b, "export-xlsx")?;
    ensure!(csv_path.contains("group="), "filtered export: {csv_path}");

    // 4. The per-group analysis: the chart of the course total.
    b.click_link("Per-group analysis")?;
    b.assert_text_contains("A learner who is in several groups counts in each.")?;
    let chart = b.eval(
        "const s = document.querySelector('svg.chart'); \
         return [s.querySelector('title').textContent, \
                 s.querySelectorAll('rect.bar').length, \
                 s.getAttribute('role'), \
                 [...s.querySelectorAll('g.cohort text')].map(t => t.textContent)];",
        vec![],
    )?;
    ensure!(chart[0] == "Course total: mean by group", "{chart}");
    // All participants and the four departments, each with grades.
    ensure!(chart[1] == 5, "bars: {chart}");
    ensure!(chart[2] == "img", "{chart}");
    let labels = chart[3].to_string();
    for department in ["Finance", "HR", "IT", "Operations"] {
        ensure!(labels.contains(department), "{department} in {labels}");
    }
    b.screenshot("analysis-chart")?;
    b.select_by_label("Grade item", "Practical check")?;
    b.click_button("Show")?;
    ensure!(
        b.eval(
            "return document.querySelector('svg.chart title').textContent;",
            vec![]
        )? == "Practical check: mean by group"
    );
    b.assert_text_contains("Lowest mean: Finance")?;
    b.screenshot("analysis-practical-check")?;

    // 5. The exports, as the signed-in browser downloads them.
    let cookie = format!("charon_session={}", b.cookie("charon_session")?);
    let (status, disposition, kind, bytes) = server.download(&csv_path, &cookie)?;
    ensure!(status == 200, "CSV: {status}");
    ensure!(kind.starts_with("text/csv"), "{kind}");
    ensure!(
        disposition.starts_with("attachment;") && disposition.contains("Finance.csv"),
        "{disposition}"
    );
    let csv = String::from_utf8(bytes)?;
    let mut lines = csv.lines();
    let head = lines.next().unwrap_or_default();
    ensure!(
        head.starts_with("First name,Last name,Username,Email,Groups,Practical check (max 50)"),
        "{head}"
    );
    let rows: Vec<&str> = lines.collect();
    ensure!(rows.len() == 60, "{} rows", rows.len());
    ensure!(
        rows.iter().all(|r| r.contains("@example.org,Finance,")),
        "{csv}"
    );
    let (status, disposition, kind, bytes) = server.download(&xlsx_path, &cookie)?;
    ensure!(status == 200, "XLSX: {status}");
    ensure!(kind.contains("spreadsheetml"), "{kind}");
    ensure!(disposition.contains(".xlsx"), "{disposition}");
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes))?;
    let grades = book.worksheet_range("Grades")?;
    ensure!(
        grades.get_value((0, 0)) == Some(&Data::String("First name".into())),
        "{:?}",
        grades.get_value((0, 0))
    );
    ensure!(grades.height() == 61, "{} rows", grades.height());
    ensure!(
        (1..grades.height() as u32)
            .all(|r| grades.get_value((r, 4)) == Some(&Data::String("Finance".into()))),
        "every learner of the sheet is of Finance"
    );
    let stats = book.worksheet_range("Statistics")?;
    let finance_rows = (1..stats.height() as u32)
        .filter(|&r| stats.get_value((r, 3)) == Some(&Data::String("Finance".into())))
        .count();
    ensure!(
        finance_rows >= 4,
        "Finance rows in the statistics: {finance_rows}"
    );
    let errors = b.console_errors()?;
    ensure!(errors.is_empty(), "console errors: {errors:?}");
    Ok(())
}
