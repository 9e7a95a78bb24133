//! Exports: the grader report (all the learners the caller sees, or one
//! group) and the per-group statistics, as CSV or as one `.xlsx` workbook
//! with a sheet of each. CSV cells a spreadsheet would take for a formula
//! are escaped as in the import reports; the workbook writes text as text
//! and grades as numbers.

use rust_xlsxwriter::{Format, Workbook, XlsxError};

use super::analysis::{GroupStatistics, group_statistics_in};
use super::report::{GraderReport, ReportQuery, grader_report_in};
use super::stats::Summary;
use super::{ItemView as GradeItemView, format_grade};
use crate::domain::*;
use crate::services::SiteServices;
use crate::services::auth::Principal;
use crate::services::bulk::spreadsheet_safe;
use crate::services::course_access::CourseAccess;
use crate::services::error::{ServiceError, ServiceResult};
use crate::storage::site::prelude::*;

/// An export: its file name and bytes.
#[derive(Clone, Debug)]
pub struct Export {
    pub filename: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

pub const CSV_TYPE: &str = "text/csv; charset=utf-8";
pub const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The fixed columns before the items in a grade export.
pub const LEARNER_COLUMNS: [&str; 5] = ["First name", "Last name", "Username", "Email", "Groups"];

/// A column heading for an item: its name and maximum, as Moodle heads
/// them ("Essay (max 20)"); the import reads the name before " (max".
pub fn item_heading(item: &GradeItemView) -> String {
    format!(
        "{} (max {})",
        item.item.name,
        format_grade(item.effective_max)
    )
}

/// The statistics columns, after the item's name, maximum, pass grade and
/// the cohort.
pub const STATISTICS_COLUMNS: [&str; 14] = [
    "Item",
    "Maximum",
    "Pass grade",
    "Group",
    "Members",
    "Graded",
    "Missing",
    "Mean",
    "Median",
    "Minimum",
    "Maximum grade",
    "Standard deviation",
    "Completion %",
    "Passed %",
];

pub(super) fn file_part(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn report_rows(report: &GraderReport) -> Vec<Vec<String>> {
    let mut rows = Vec::with_capacity(report.rows.len() + 1);
    let mut head: Vec<String> = LEARNER_COLUMNS.iter().map(|s| (*s).to_owned()).collect();
    head.extend(report.items.iter().map(item_heading));
    rows.push(head);
    for r in &report.rows {
        let mut line = vec![
            r.firstname.clone(),
            r.lastname.clone(),
            r.username.clone(),
            r.email.clone(),
            r.groups.join("; "),
        ];
        line.extend(
            r.cells
                .iter()
                .map(|c| c.value.map(format_grade).unwrap_or_default()),
        );
        rows.push(line);
    }
    rows
}

fn pct(v: Option<f64>) -> String {
    v.map(|x| format_grade(x * 100.0)).unwrap_or_default()
}

fn statistics_rows(stats: &GroupStatistics) -> Vec<Vec<String>> {
    let mut rows = vec![STATISTICS_COLUMNS.iter().map(|s| (*s).to_owned()).collect()];
    let n = |v: Option<f64>| v.map(format_grade).unwrap_or_default();
    for item in &stats.items {
        for (cohort, s) in stats.cohorts.iter().zip(&item.cohorts) {
            rows.push(vec![
                item.item.item.name.clone(),
                format_grade(item.item.effective_max),
                n(item.item.item.pass_grade),
                cohort.name.clone(),
                s.members.to_string(),
                s.graded.to_string(),
                s.missing.to_string(),
                n(s.mean),
                n(s.median),
                n(s.min),
                n(s.max),
                n(s.std_dev),
                pct(s.completion),
                pct(s.passed),
            ]);
        }
    }
    rows
}

/// Rows as CSV, every cell made spreadsheet-safe.
pub fn to_csv(rows: &[Vec<String>]) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    for row in rows {
        // Writing to a Vec cannot fail.
        let _ = w.write_record(row.iter().map(|c| spreadsheet_safe(c).into_owned()));
    }
    w.into_inner().unwrap_or_default()
}

/// A statistics row's numbers, for the workbook (the text columns are
/// written as text).
fn summary_numbers(s: &Summary) -> [Option<f64>; 10] {
    [
        Some(s.members as f64),
        Some(s.graded as f64),
        Some(s.missing as f64),
        s.mean,
        s.median,
        s.min,
        s.max,
        s.std_dev,
        s.completion.map(|x| x * 100.0),
        s.passed.map(|x| x * 100.0),
    ]
}

fn xlsx(report: &GraderReport, stats: &GroupStatistics) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let sheet = book.add_worksheet();
    sheet.set_name("Grades")?;
    let head: Vec<String> = LEARNER_COLUMNS
        .iter()
        .map(|s| (*s).to_owned())
        .chain(report.items.iter().map(item_heading))
        .collect();
    for (c, h) in head.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, h, &bold)?;
    }
    for (r, row) in report.rows.iter().enumerate() {
        let r = r as u32 + 1;
        let texts = [
            &row.firstname,
            &row.lastname,
            &row.username,
            &row.email,
            &row.groups.join("; "),
        ];
        for (c, text) in texts.iter().enumerate() {
            sheet.write_string(r, c as u16, text.as_str())?;
        }
        for (c, cell) in row.cells.iter().enumerate() {
            if let Some(v) = cell.value {
                sheet.write_number(r, (c + LEARNER_COLUMNS.len()) as u16, v)?;
            }
        }
    }
    sheet.set_freeze_panes(1, 2)?;
    let sheet = book.add_worksheet();
    sheet.set_name("Statistics")?;
    for (c, h) in STATISTICS_COLUMNS.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    let mut r = 1u32;
    for item in &stats.items {
        for (cohort, s) in stats.cohorts.iter().zip(&item.cohorts) {
            sheet.write_string(r, 0, item.item.item.name.as_str())?;
            sheet.write_number(r, 1, item.item.effective_max)?;
            if let Some(p) = item.item.item.pass_grade {
                sheet.write_number(r, 2, p)?;
            }
            sheet.write_string(r, 3, cohort.name.as_str())?;
            for (k, v) in summary_numbers(s).into_iter().enumerate() {
                if let Some(v) = v {
                    sheet.write_number(r, 4 + k as u16, v)?;
                }
            }
            r += 1;
        }
    }
    sheet.set_freeze_panes(1, 1)?;
    book.save_to_buffer()
}

/// What to export.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ExportKind {
    /// The grader report as CSV.
    GradesCsv,
    /// The statistics as CSV.
    StatisticsCsv,
    /// Both, as one workbook.
    Xlsx,
}

impl SiteServices {
    /// An export of `course` (its staff), for `group` (one they see) or
    /// all the learners they see; statistics always cover every group they
    /// see.
    pub fn export_gradebook(
        &self,
        who: &Principal,
        course: CourseId,
        group: Option<CourseGroupId>,
        kind: ExportKind,
    ) -> ServiceResult<Export> {
        self.read(|t| {
            let access = CourseAccess::of(&self.site, t, who, course)?;
            access.require_staff()?;
            let query = ReportQuery {
                group,
                per_page: u32::MAX,
                ..ReportQuery::default()
            };
            let base = format!("grades-{}", file_part(&access.course.shortname));
            let suffix = match group.and_then(|g| t.group(g).ok().flatten()) {
                Some(g) => format!("-{}", file_part(&g.name)),
                None => String::new(),
            };
            let report = || grader_report_in(t, &access, &query, u32::MAX);
            Ok(match kind {
                ExportKind::GradesCsv => Export {
                    filename: format!("{base}{suffix}.csv"),
                    content_type: CSV_TYPE,
                    bytes: to_csv(&report_rows(&report()?)),
                },
                ExportKind::StatisticsCsv => Export {
                    filename: format!("{base}-statistics.csv"),
                    content_type: CSV_TYPE,
                    bytes: to_csv(&statistics_rows(&group_statistics_in(t, &access)?)),
                },
                ExportKind::Xlsx => {
                    let stats = group_statistics_in(t, &access)?;
                    Export {
                        filename: format!("{base}{suffix}.xlsx"),
                        content_type: XLSX_TYPE,
                        bytes: xlsx(&report()?, &stats).map_err(|e| {
                            ServiceError::Internal(format!("writing the workbook: {e}"))
                        })?,
                    }
                }
            })
        })
    }
}
