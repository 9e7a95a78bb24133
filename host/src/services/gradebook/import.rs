//! Grades from a CSV file (Moodle's grade import): an identifier column —
//! `username` or `email` — and one column per item, headed by the item's
//! name (an export's "Name (max N)" heading reads as "Name"). The fixed
//! columns of an export (first and last name, groups) are read past, so
//! an exported file imports as it is; a total's column is left alone
//! (totals are computed; override one in the grader report).
//!
//! As with the other imports, a preview checks everything and writes
//! nothing; applying checks again inside the write transaction, and a file
//! with any error changes nothing. Empty cells leave a grade as it is.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use super::compute::{Book, View};
use super::entry::{GradeChange, apply_changes};
use super::{format_grade, load_book, seen_learners};
use crate::domain::*;
use crate::services::SiteServices;
use crate::services::auth::Principal;
use crate::services::bulk::{DEFAULT_MAX_BYTES, Issues, RowIssue, parse::parse, too_large};
use crate::services::course_access::CourseAccess;
use crate::services::error::{ServiceError, ServiceResult};
use crate::storage::site::prelude::*;

/// Columns an export carries that an import reads past.
const PASSED_OVER: [&str; 6] = [
    "first name",
    "last name",
    "groups",
    "full name",
    "id number",
    "idnumber",
];

/// A grade the file sets, for the preview.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlannedGrade {
    pub row: u64,
    pub user: UserId,
    /// The identifier as the file gave it.
    pub who: String,
    pub item: GradeItemId,
    pub item_name: String,
    pub old: Option<f64>,
    pub new: f64,
}

/// The most planned grades a report lists (the counts stay exact).
pub const MAX_LISTED_CHANGES: usize = 1_000;

/// The answer to a grade import: the preview, the outcome, or why nothing
/// was written.
#[derive(Clone, Debug, Serialize)]
pub struct GradeImportReport {
    pub dry_run: bool,
    pub applied: bool,
    /// Data rows read.
    pub rows: u64,
    pub errors: Vec<RowIssue>,
    pub warnings: Vec<RowIssue>,
    pub error_count: u64,
    pub warning_count: u64,
    /// Grades that change (listed up to [`MAX_LISTED_CHANGES`]).
    pub changes: Vec<PlannedGrade>,
    pub changed: u64,
    /// Cells that already hold their value.
    pub unchanged: u64,
}

impl GradeImportReport {
    pub fn has_errors(&self) -> bool {
        self.error_count > 0
    }
}

/// The item a header names: its name before an export's " (max N)".
fn heading_name(header: &str) -> &str {
    match header.rfind(" (max ") {
        Some(i) if header.ends_with(')') => &header[..i],
        _ => header,
    }
}

/// The grades a file sets: each with its row and the identifier it gave.
type Planned = Vec<(u64, String, GradeChange)>;

/// Checks `bytes` against the site as `access` sees it: the changes it
/// asks for, or the issues that refuse it.
fn plan(
    t: &impl SiteRead,
    access: &CourseAccess,
    book: &Book,
    bytes: &[u8],
) -> ServiceResult<(Issues, u64, Planned)> {
    let mut issues = Issues::default();
    let Some(table) = parse(bytes, &mut issues) else {
        if issues.error_count == 0 {
            issues.error(RowIssue::new(
                1,
                None,
                "the file is empty: it needs a header row".into(),
            ));
        }
        return Ok((issues, 0, Vec::new()));
    };
    let header = table.header_line;
    let id_column = table
        .column("username")
        .map(|c| (c, false))
        .or_else(|| table.column("email").map(|c| (c, true)));
    let Some((id_column, by_email)) = id_column else {
        issues.error(RowIssue::new(
            header,
            None,
            "no identifier column: add a \"username\" or \"email\" column".into(),
        ));
        return Ok((issues, table.read, Vec::new()));
    };
    // Column → item position, for the columns that set grades.
    let mut columns: Vec<(usize, usize)> = Vec::new();
    for (c, name) in table.columns.iter().enumerate() {
        if c == id_column
            || PASSED_OVER.contains(&name.as_str())
            || name == "email"
            || name == "username"
        {
            continue;
        }
        let wanted = heading_name(name);
        let matches: Vec<usize> = (0..book.items.len())
            .filter(|&i| book.items[i].name.to_lowercase() == wanted)
            .collect();
        match matches.as_slice() {
            [] => issues.error(RowIssue::new(
                header,
                Some(table.column_label(c)),
                format!("no grade item named {wanted:?} in this course"),
            )),
            [i] if book.items[*i].is_total() => issues.warning(RowIssue::new(
                header,
                Some(table.column_label(c)),
                "a computed total: left as it is (override it in the grader report)".into(),
            )),
            [i] => columns.push((c, *i)),
            _ => issues.error(RowIssue::new(
                header,
                Some(table.column_label(c)),
                format!(
                    "{} grade items are named {wanted:?}: rename all but one",
                    matches.len()
                ),
            )),
        }
    }
    let learners: HashSet<UserId> = seen_learners(t, access, None)?.into_iter().collect();
    let mut seen_users: HashMap<UserId, u64> = HashMap::new();
    let mut out = Vec::new();
    for row in &table.rows {
        let who = row.cells[id_column].trim();
        let id_label = Some(table.column_label(id_column));
        if who.is_empty() {
            issues.error(RowIssue::new(row.line, id_label, "empty identifier".into()));
            continue;
        }
        let found = if by_email {
            t.user_id_by_email(who)?
        } else {
            t.user_id_by_username(&who.to_lowercase())?
        };
        let Some(user) = found else {
            let what = if by_email {
                "e-mail address"
            } else {
                "username"
            };
            issues.error(RowIssue::new(
                row.line,
                id_label,
                format!("no user with the {what} {who:?}"),
            ));
            continue;
        };
        if !learners.contains(&user) {
            issues.error(RowIssue::new(
                row.line,
                id_label,
                format!("{who:?} is not a learner you may grade in this course"),
            ));
            continue;
        }
        if let Some(first) = seen_users.insert(user, row.line) {
            issues.error(RowIssue::new(
                row.line,
                id_label,
                format!("{who:?} is on row {first} too"),
            ));
            continue;
        }
        for &(c, i) in &columns {
            let cell = row.cells[c].trim();
            if cell.is_empty() {
                continue;
            }
            let label = Some(table.column_label(c));
            let Ok(value) = cell.parse::<f64>() else {
                issues.error(RowIssue::new(
                    row.line,
                    label,
                    format!("{cell:?} is not a number"),
                ));
                continue;
            };
            let max = book.max(View::Staff, i);
            if !value.is_finite() || value < 0.0 || value > max {
                issues.error(RowIssue::new(
                    row.line,
                    label,
                    format!(
                        "{cell} is outside 0–{} for {:?}",
                        format_grade(max),
                        book.items[i].name
                    ),
                ));
                continue;
            }
            out.push((
                row.line,
                who.to_owned(),
                GradeChange {
                    user,
                    item: book.items[i].id,
                    value: Some(value),
                },
            ));
        }
    }
    Ok((issues, table.read, out))
}

fn report(
    t: &impl SiteRead,
    book: &Book,
    dry_run: bool,
    applied: bool,
    mut issues: Issues,
    rows: u64,
    planned: &[(u64, String, GradeChange)],
) -> ServiceResult<GradeImportReport> {
    issues.errors.sort_by_key(|i| i.row);
    issues.warnings.sort_by_key(|i| i.row);
    let ok = issues.error_count == 0;
    let mut changes = Vec::new();
    let (mut changed, mut unchanged) = (0, 0);
    if ok {
        for (row, who, c) in planned {
            let old = t.grade_entry(c.item, c.user)?.and_then(|e| e.value);
            let new = c.value.unwrap_or_default();
            if old == Some(new) {
                unchanged += 1;
                continue;
            }
            changed += 1;
            if changes.len() < MAX_LISTED_CHANGES {
                changes.push(PlannedGrade {
                    row: *row,
                    user: c.user,
                    who: who.clone(),
                    item: c.item,
                    item_name: book
                        .position(c.item)
                        .map(|i| book.items[i].name.clone())
                        .unwrap_or_default(),
                    old,
                    new,
                });
            }
        }
    }
    Ok(GradeImportReport {
        dry_run,
        applied: applied && ok,
        rows,
        errors: issues.errors,
        warnings: issues.warnings,
        error_count: issues.error_count,
        warning_count: issues.warning_count,
        changes,
        changed,
        unchanged,
    })
}

impl SiteServices {
    /// Checks a grade CSV for `course` and says what it would change
    /// (any teacher of the course, for the learners they see); writes
    /// nothing. With `apply`, writes it all if it has no error.
    pub fn import_grades(
        &self,
        who: &Principal,
        course: CourseId,
        bytes: &[u8],
        apply: bool,
    ) -> ServiceResult<GradeImportReport> {
        if bytes.len() > DEFAULT_MAX_BYTES {
            return Err(too_large(bytes.len(), DEFAULT_MAX_BYTES));
        }
        if !apply {
            return self.read(|t| {
                let access = CourseAccess::of(&self.site, t, who, course)?;
                access.require_staff()?;
                let book = load_book(t, course)?;
                let (issues, rows, planned) = plan(t, &access, &book, bytes)?;
                report(t, &book, true, false, issues, rows, &planned)
            });
        }
        // A refused file is reported from the transaction that found it,
        // which rolls back.
        let mut refused = None;
        let outcome = self.write(|t| {
            let access = CourseAccess::of(&self.site, t, who, course)?;
            access.require_staff()?;
            let book = load_book(t, course)?;
            let (issues, rows, planned) = plan(t, &access, &book, bytes)?;
            let listed = report(t, &book, false, true, issues, rows, &planned)?;
            if listed.has_errors() {
                refused = Some(listed);
                return Err(ServiceError::Conflict("the file has errors".into()));
            }
            let changes: Vec<GradeChange> = planned.iter().map(|(_, _, c)| *c).collect();
            apply_changes(t, access.actor, course, &book, &changes, "CSV import")?;
            Ok(listed)
        });
        match (outcome, refused) {
            (Err(_), Some(report)) => Ok(report),
            (outcome, _) => outcome,
        }
    }
}
