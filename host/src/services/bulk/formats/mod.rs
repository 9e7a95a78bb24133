//! The four formats of PRODUCT §5: which columns each reads, what each row
//! means, every rule a row must meet, and how a checked file is applied.
//!
//! [`check`] reads the site through one snapshot (`SiteRead`: a read
//! transaction for a preview, the write transaction itself when applying)
//! and turns the file into a [`Plan`] of resolved ids, recording every
//! problem with its row and column. [`apply()`] writes a plan through the
//! services' own write functions. Both count what is already in place as
//! unchanged, so a file applied twice changes nothing the second time.
//!
//! A user upload creates what it names, as Moodle's does: a `cohort1`
//! naming no segment creates the segment (named, and with the idnumber,
//! as the cell says) and a `group1` naming no group of `course1` creates
//! the group; the preview lists each with a warning on the first row that
//! names it. (The segment-members and group-members formats still refuse
//! an unknown segment or group: they only add members.) Where Moodle's
//! behaviour differs from ours, ours is the safer one and is said here: an
//! existing username in a user upload keeps its account as it is while the
//! row's memberships are still added (Moodle's default "add new only, skip
//! existing" also skips the memberships; adding them is what a re-run of a
//! half-done Moodle file needs).

mod apply;
mod columns;
mod rows;
mod site;
mod users;

use std::collections::{HashMap, HashSet};

use self::columns::{Columns, cell};
use self::rows::{add_to_segment, group_member_row, named_user, segment_row};
use self::site::Site;
use self::users::user_row;
use super::parse::Table;
use super::{ImportCounts, ImportKind, ImportProgress, Issues, RowIssue, tick};
use crate::domain::*;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::ops::segments::NewSegment;
use crate::services::ops::users::PreparedUser;
use crate::storage::site::prelude::*;

pub use self::apply::apply;

/// A user a row names: one the site has, or one the file creates (by its
/// position in [`Plan::users`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum UserRef {
    Existing(UserId),
    New(usize),
}

/// A segment a row names: one the site has, or one a user upload creates
/// (by its position in [`Plan::segments`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum SegmentRef {
    Existing(SegmentId),
    New(usize),
}

/// A group a row names: one the site has, or one a user upload creates
/// (by its position in [`Plan::new_groups`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum GroupRef {
    Existing(CourseGroupId),
    New(usize),
}

/// A group a user upload creates: in `course`, named as the cell says.
struct NewImportGroup {
    course: CourseId,
    name: String,
}

/// A new user of a user upload, with the row it came from.
struct PlannedUser {
    line: u64,
    user: PreparedUser,
    /// Hashed only when the file is applied (see `import_csv_with`).
    password: Option<String>,
}

/// What applying a checked file writes, with every name resolved to an
/// id; only what is not already in place.
#[derive(Default)]
pub struct Plan {
    /// What the plan changes, and what it found already in place.
    pub counts: ImportCounts,
    segments: Vec<NewSegment>,
    users: Vec<PlannedUser>,
    new_groups: Vec<NewImportGroup>,
    segment_members: Vec<(SegmentRef, UserRef)>,
    enrolments: Vec<(EnrolmentMethodId, UserRef, Role)>,
    group_members: Vec<(GroupRef, UserRef)>,
    /// The records the memberships need when applied.
    segment_names: HashMap<SegmentId, String>,
    methods: HashMap<EnrolmentMethodId, EnrolmentMethod>,
    groups: HashMap<CourseGroupId, CourseGroup>,
}

impl Plan {
    /// `(row, password)` of every new user with a password.
    /// How many writes applying the plan takes (for a progress bar).
    pub fn writes(&self) -> usize {
        self.segments.len()
            + self.new_groups.len()
            + self.users.len()
            + self.segment_members.len()
            + self.enrolments.len()
            + self.group_members.len()
    }

    pub fn passwords_to_hash(&self) -> Vec<(u64, &str)> {
        self.users
            .iter()
            .filter_map(|u| Some((u.line, u.password.as_deref()?)))
            .collect()
    }
}

/// Checks every row of `table` as a file of `kind`, recording each problem
/// in `issues`, and returns what applying it would write.
pub fn check(
    kind: ImportKind,
    table: &Table,
    t: &impl SiteRead,
    issues: &mut Issues,
    progress: Option<&ImportProgress>,
) -> ServiceResult<Plan> {
    let mut plan = Plan::default();
    let Some(cols) = Columns::of(kind, table, issues) else {
        return Ok(plan);
    };
    let mut site = Site::new(t, kind)?;
    let mut seen = Seen::default();
    for (i, row) in table.rows.iter().enumerate() {
        tick(progress, i);
        match kind {
            ImportKind::Segments => segment_row(&site, &cols, row, &mut seen, &mut plan, issues)?,
            ImportKind::SegmentMembers => {
                if let Some(user) = named_user(&site, &cols, row, issues)? {
                    let mut keys: Vec<(usize, &str)> = Vec::new();
                    if let Some(i) = cols.segment {
                        keys.push((i, cell(row, Some(i))));
                    }
                    keys.extend(cols.cohorts.iter().map(|&i| (i, cell(row, Some(i)))));
                    if keys.iter().all(|(_, k)| k.is_empty()) {
                        issues.error(RowIssue::new(
                            row.line,
                            Some(table.column_label(keys.first().map_or(0, |k| k.0))),
                            "is required: name a segment by its idnumber or name".into(),
                        ));
                    }
                    for (i, key) in keys {
                        add_to_segment(
                            &site,
                            table,
                            row,
                            i,
                            key,
                            UserRef::Existing(user),
                            false,
                            &mut seen,
                            &mut plan,
                            issues,
                        )?;
                    }
                }
            }
            ImportKind::GroupMembers => {
                group_member_row(&mut site, &cols, row, &mut seen, &mut plan, issues)?
            }
            ImportKind::Users => {
                user_row(&mut site, table, &cols, row, &mut seen, &mut plan, issues)?
            }
        }
    }
    Ok(plan)
}

/// What earlier rows of the file claimed, to find duplicates within it.
#[derive(Default)]
struct Seen {
    /// idnumber → row of a segments file.
    idnumbers: HashMap<String, u64>,
    /// username / e-mail (lower case) → row of a users file.
    usernames: HashMap<String, u64>,
    emails: HashMap<String, u64>,
    segment_members: HashSet<(SegmentRef, UserRef)>,
    enrolments: HashSet<(EnrolmentMethodId, UserRef)>,
    group_members: HashSet<(GroupRef, UserRef)>,
    /// Cell (lower case) → the segment a user upload creates for it.
    created_segments: HashMap<String, usize>,
    /// (course, cell in lower case) → the group a user upload creates.
    created_groups: HashMap<(CourseId, String), usize>,
}

/// A refusal of a field rule as an issue of `column`; a storage failure
/// stays a failure of the whole call.
fn field_issue(line: u64, column: &str, e: ServiceError) -> ServiceResult<RowIssue> {
    match e {
        ServiceError::Invalid { message, .. } | ServiceError::Duplicate { message, .. } => {
            Ok(RowIssue::new(line, Some(column.to_owned()), message))
        }
        ServiceError::Storage(_) => Err(e),
        other => Ok(RowIssue::new(
            line,
            Some(column.to_owned()),
            other.to_string(),
        )),
    }
}
