//! CSV imports: which one, and the report of a run.

use serde::{Deserialize, Serialize};

use super::{mirror_enum, mirror_struct};
use crate::services::bulk::{ImportCounts, ImportKind, ImportReport, RowIssue};

/// The four uploads of PRODUCT §5.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
#[schema(as = ImportKind)]
pub enum ImportKindView {
    /// Create segments: `name`, `idnumber`, `description`, `visible`.
    Segments,
    /// Add users to segments: `username` or `email`, `segment` (or
    /// `cohort1…N`).
    SegmentMembers,
    /// Add users to course groups: `username` or `email`, `course`,
    /// `group`.
    GroupMembers,
    /// Create users, with `cohort1…N`, `course1…N` and `group1…N`.
    Users,
}

mirror_enum!(
    ImportKind,
    ImportKindView {
        Segments,
        SegmentMembers,
        GroupMembers,
        Users,
    }
);

/// One problem of a file: the physical line of its row (the header is
/// row 1), the column when it concerns one cell, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = RowIssue)]
pub struct RowIssueView {
    pub row: u64,
    /// The column's header name (or `column N` when it has none); absent
    /// when the issue is about the whole row or file.
    pub column: Option<String>,
    pub reason: String,
}

mirror_struct!(
    RowIssue,
    RowIssueView {
        row,
        column,
        reason
    }
);

/// What an import changed, or would change on a dry run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = ImportCounts)]
pub struct ImportCountsView {
    pub segments_created: u64,
    pub users_created: u64,
    pub segment_members_added: u64,
    /// Enrolments created, re-activated or given the role the file names.
    pub enrolments_changed: u64,
    /// Course groups a user upload creates because a `groupN` names none.
    pub groups_created: u64,
    pub group_members_added: u64,
    /// Things the file asks for that are already in place.
    pub unchanged: u64,
}

mirror_struct!(
    ImportCounts,
    ImportCountsView {
        segments_created,
        users_created,
        segment_members_added,
        enrolments_changed,
        groups_created,
        group_members_added,
        unchanged,
    }
);

/// The answer to an import: the preview of a dry run, the outcome of an
/// apply, or the reasons nothing was applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = ImportReport)]
pub struct ImportReportView {
    pub kind: ImportKindView,
    pub dry_run: bool,
    /// Whether the file was written to the site: never on a dry run or
    /// when there is an error.
    pub applied: bool,
    /// Data rows read (the header and blank lines not counted).
    pub rows: u64,
    /// Every error (at most [`MAX_LISTED_ISSUES`]), in file order.
    pub errors: Vec<RowIssueView>,
    /// Every warning (at most [`MAX_LISTED_ISSUES`]), e.g. ignored columns.
    pub warnings: Vec<RowIssueView>,
    /// How many errors there are, listed or not.
    pub error_count: u64,
    pub warning_count: u64,
    /// What was changed (`applied`) or would be (dry run without errors).
    pub changes: ImportCountsView,
}

mirror_struct!(
    ImportReport,
    ImportReportView {
        kind,
        dry_run,
        applied,
        rows,
        errors,
        warnings,
        error_count,
        warning_count,
        changes,
    }
);
