//! The columns each kind of file reads, found by name in the header.

use std::collections::HashMap;

use super::super::parse::{Row, Table};
use super::super::{ImportKind, Issues, RowIssue};
use crate::services::validate;

/// The columns of a file that a kind reads, by position.
#[derive(Default)]
pub(super) struct Columns {
    pub(super) username: Option<usize>,
    pub(super) email: Option<usize>,
    pub(super) firstname: Option<usize>,
    pub(super) lastname: Option<usize>,
    pub(super) password: Option<usize>,
    pub(super) name: Option<usize>,
    pub(super) idnumber: Option<usize>,
    pub(super) description: Option<usize>,
    pub(super) visible: Option<usize>,
    pub(super) segment: Option<usize>,
    pub(super) course: Option<usize>,
    pub(super) group: Option<usize>,
    /// `cohortN`: each names a segment to add the row's user to.
    pub(super) cohorts: Vec<usize>,
    /// `courseN` with its `groupN` and `roleN`, by N.
    pub(super) courses: Vec<NumberedCourse>,
    /// `profile_field_<name>`: the profile field's name and the column.
    pub(super) profile: Vec<(String, usize)>,
}

pub(super) struct NumberedCourse {
    pub(super) n: u32,
    pub(super) course: Option<usize>,
    pub(super) group: Option<usize>,
    pub(super) role: Option<usize>,
}

/// The `courseN`/`groupN`/`roleN` columns of one N.
fn slot(k: u32, m: &mut HashMap<u32, NumberedCourse>) -> &mut NumberedCourse {
    m.entry(k).or_insert(NumberedCourse {
        n: k,
        course: None,
        group: None,
        role: None,
    })
}

/// `N` of a column named `{prefix}N` (N ≥ 1).
fn numbered(name: &str, prefix: &str) -> Option<u32> {
    let rest = name.strip_prefix(prefix)?;
    if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    rest.parse().ok().filter(|&n| n >= 1)
}

impl Columns {
    /// Finds the columns `kind` reads. Every other column is a warning
    /// (ignored); a missing required one is an error of the header row.
    /// `None` when the rows cannot be read for want of a column.
    pub(super) fn of(kind: ImportKind, table: &Table, issues: &mut Issues) -> Option<Columns> {
        let mut c = Columns::default();
        let mut numbered_courses: HashMap<u32, NumberedCourse> = HashMap::new();
        for (i, name) in table.columns.iter().enumerate() {
            let known = match (kind, name.as_str()) {
                (
                    ImportKind::SegmentMembers | ImportKind::GroupMembers | ImportKind::Users,
                    "username",
                ) => set(&mut c.username, i),
                (
                    ImportKind::SegmentMembers | ImportKind::GroupMembers | ImportKind::Users,
                    "email",
                ) => set(&mut c.email, i),
                (ImportKind::Users, "firstname") => set(&mut c.firstname, i),
                (ImportKind::Users, "lastname") => set(&mut c.lastname, i),
                (ImportKind::Users, "password") => set(&mut c.password, i),
                (ImportKind::Segments, "name") => set(&mut c.name, i),
                (ImportKind::Segments, "idnumber") => set(&mut c.idnumber, i),
                (ImportKind::Segments, "description") => set(&mut c.description, i),
                (ImportKind::Segments, "visible") => set(&mut c.visible, i),
                (ImportKind::SegmentMembers, "segment") => set(&mut c.segment, i),
                (ImportKind::GroupMembers, "course") => set(&mut c.course, i),
                (ImportKind::GroupMembers, "group") => set(&mut c.group, i),
                (ImportKind::SegmentMembers | ImportKind::Users, n)
                    if numbered(n, "cohort").is_some() =>
                {
                    c.cohorts.push(i);
                    true
                }
                (ImportKind::Users, n) => {
                    if let Some(k) = numbered(n, "course") {
                        slot(k, &mut numbered_courses).course = Some(i);
                        true
                    } else if let Some(k) = numbered(n, "group") {
                        slot(k, &mut numbered_courses).group = Some(i);
                        true
                    } else if let Some(k) = numbered(n, "role") {
                        slot(k, &mut numbered_courses).role = Some(i);
                        true
                    } else if let Some(field) = n.strip_prefix("profile_field_") {
                        match validate::profile_field_name(field) {
                            Ok(field) => {
                                c.profile.push((field, i));
                                true
                            }
                            Err(_) => false,
                        }
                    } else {
                        false
                    }
                }
                _ => false,
            };
            if !known {
                issues.warning(RowIssue::new(
                    header_row(table),
                    Some(table.column_label(i)),
                    format!("the {kind} import does not read this column; it is ignored"),
                ));
            }
        }
        let mut courses: Vec<NumberedCourse> = numbered_courses.into_values().collect();
        courses.sort_by_key(|c| c.n);
        c.courses = courses;

        let header = header_row(table);
        let mut missing = |what: &str| {
            issues.error(RowIssue::new(
                header,
                None,
                format!("the file has no {what} column"),
            ))
        };
        let mut ok = true;
        match kind {
            ImportKind::Segments => {
                if c.name.is_none() {
                    missing("`name`");
                    ok = false;
                }
            }
            ImportKind::SegmentMembers => {
                if c.username.is_none() && c.email.is_none() {
                    missing("`username` or `email`");
                    ok = false;
                }
                if c.segment.is_none() && c.cohorts.is_empty() {
                    missing("`segment` (or `cohort1`)");
                    ok = false;
                }
            }
            ImportKind::GroupMembers => {
                for (col, what) in [
                    (c.username.or(c.email), "`username` or `email`"),
                    (c.course, "`course`"),
                    (c.group, "`group`"),
                ] {
                    if col.is_none() {
                        missing(what);
                        ok = false;
                    }
                }
            }
            ImportKind::Users => {
                for (col, what) in [
                    (c.username, "`username`"),
                    (c.email, "`email`"),
                    (c.firstname, "`firstname`"),
                    (c.lastname, "`lastname`"),
                ] {
                    if col.is_none() {
                        missing(what);
                        ok = false;
                    }
                }
                for nc in &c.courses {
                    if nc.course.is_none() {
                        let n = nc.n;
                        issues.error(RowIssue::new(
                            header,
                            None,
                            format!("group{n} or role{n} needs a course{n} column"),
                        ));
                        ok = false;
                    }
                }
            }
        }
        ok.then_some(c)
    }
}

fn header_row(table: &Table) -> u64 {
    table.header_line
}

fn set(slot: &mut Option<usize>, i: usize) -> bool {
    *slot = Some(i);
    true
}

/// A trimmed cell, empty when the column is absent.
pub(super) fn cell(row: &Row, col: Option<usize>) -> &str {
    col.and_then(|i| row.cells.get(i)).map_or("", |s| s.trim())
}
