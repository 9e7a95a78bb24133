//! Bulk CSV imports (PRODUCT §5, issue 7): create segments, add users to
//! segments and to course groups, upload users — in Moodle's formats, so
//! files people already have import as they are.
//!
//! An import is three steps, each its own module: [`parse`] reads the bytes
//! into rows (encoding, separator, line ends, quoting), [`formats`] checks
//! every row of one kind against the site and turns the file into a plan,
//! and the plan is applied through the same storage functions the other
//! services write with (`create_segment_in`, `insert_user`,
//! `add_segment_member_in`, `enrol_existing_user`, `add_group_member_in`),
//! so an imported membership is audited and evented exactly as one added
//! by hand.
//!
//! The whole file is checked before anything is written, and a file with
//! any error changes nothing. Applying runs the checks again inside the
//! write transaction, so the check and the change see the same state (a
//! user deleted between a preview and its apply is an error, not a dangling
//! membership). Everything the plan finds already in place is counted as
//! unchanged, which makes re-applying a file a no-op.

pub mod formats;
pub mod parse;
pub mod staged;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use super::auth::{Need, authorize};
use super::error::{ServiceError, ServiceResult};
use super::{Principal, Services, SiteServices, password};
use crate::storage::site::prelude::*;

/// Files larger than this are refused unless the caller sets another
/// limit (`ImportOptions::max_bytes`): 10 MiB holds ~200,000 membership
/// rows, far more than one upload of a person should need.
pub const DEFAULT_MAX_BYTES: usize = 10 * 1024 * 1024;

/// At most this many errors and as many warnings are listed in a report;
/// the counts stay exact. A 10 MiB file of bad rows would otherwise answer
/// with a report larger than itself.
pub const MAX_LISTED_ISSUES: usize = 10_000;

/// The four uploads of PRODUCT §5.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImportKind {
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

impl ImportKind {
    pub const ALL: [ImportKind; 4] = [
        ImportKind::Segments,
        ImportKind::SegmentMembers,
        ImportKind::GroupMembers,
        ImportKind::Users,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ImportKind::Segments => "segments",
            ImportKind::SegmentMembers => "segment-members",
            ImportKind::GroupMembers => "group-members",
            ImportKind::Users => "users",
        }
    }
}

impl std::fmt::Display for ImportKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ImportKind {
    type Err = ServiceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ImportKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                ServiceError::invalid(
                    "kind",
                    format!(
                        "{s:?} is not an import; use one of segments, segment-members, \
                         group-members, users"
                    ),
                )
            })
    }
}

/// One problem of a file: the physical line of its row (the header is
/// row 1), the column when it concerns one cell, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowIssue {
    pub row: u64,
    /// The column's header name (or `column N` when it has none); absent
    /// when the issue is about the whole row or file.
    pub column: Option<String>,
    pub reason: String,
}

impl RowIssue {
    pub fn new(row: u64, column: Option<String>, reason: String) -> Self {
        Self {
            row,
            column,
            reason,
        }
    }
}

/// What an import changed, or would change on a dry run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportCounts {
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

impl ImportCounts {
    /// Everything counted as a change.
    pub fn changed(&self) -> u64 {
        self.segments_created
            + self.users_created
            + self.segment_members_added
            + self.enrolments_changed
            + self.groups_created
            + self.group_members_added
    }
}

/// The answer to an import: the preview of a dry run, the outcome of an
/// apply, or the reasons nothing was applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    pub kind: ImportKind,
    pub dry_run: bool,
    /// Whether the file was written to the site: never on a dry run or
    /// when there is an error.
    pub applied: bool,
    /// Data rows read (the header and blank lines not counted).
    pub rows: u64,
    /// Every error (at most [`MAX_LISTED_ISSUES`]), in file order.
    pub errors: Vec<RowIssue>,
    /// Every warning (at most [`MAX_LISTED_ISSUES`]), e.g. ignored columns.
    pub warnings: Vec<RowIssue>,
    /// How many errors there are, listed or not.
    pub error_count: u64,
    pub warning_count: u64,
    /// What was changed (`applied`) or would be (dry run without errors).
    pub changes: ImportCounts,
}

impl ImportReport {
    pub fn has_errors(&self) -> bool {
        self.error_count > 0
    }

    /// The report as CSV (`row,column,severity,reason`), errors first, for
    /// a spreadsheet: every cell a spreadsheet would read as a formula is
    /// escaped (see [`spreadsheet_safe`]).
    pub fn to_csv(&self) -> String {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(Vec::new());
        let mut out = Ok(());
        let mut write = |cells: [&str; 4]| {
            if out.is_ok() {
                out = w.write_record(cells.map(|c| spreadsheet_safe(c).into_owned()));
            }
        };
        write(["row", "column", "severity", "reason"]);
        let lists = [("error", &self.errors), ("warning", &self.warnings)];
        for (severity, list) in lists {
            for issue in list {
                let row = issue.row.to_string();
                write([
                    &row,
                    issue.column.as_deref().unwrap_or(""),
                    severity,
                    &issue.reason,
                ]);
            }
        }
        // Writing to a Vec cannot fail, and every cell is valid UTF-8.
        match (out, w.into_inner()) {
            (Ok(()), Ok(bytes)) => String::from_utf8(bytes).unwrap_or_default(),
            _ => String::new(),
        }
    }
}

/// A cell a spreadsheet would take for a formula (`=`, `+`, `-`, `@`, or a
/// tab or CR that some strip before looking) gets a leading `'`, which
/// makes it text: a report echoes what the uploaded file said, and that
/// must not run in whoever opens the report (CSV injection).
pub fn spreadsheet_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

/// A CSV to fill in, per kind: the header of every column the import
/// reads and one example row.
pub fn template_csv(kind: ImportKind) -> &'static str {
    match kind {
        ImportKind::Segments => {
            "name,idnumber,description,visible\r\n\
             Human resources,hr,Everyone in the HR department,yes\r\n"
        }
        ImportKind::SegmentMembers => {
            "username,email,segment\r\n\
             jdoe,,hr\r\n\
             ,mary.major@example.org,Human resources\r\n"
        }
        ImportKind::GroupMembers => {
            "username,email,course,group\r\n\
             jdoe,,COMP101,Team A\r\n\
             ,mary.major@example.org,COMP101,team-a\r\n"
        }
        ImportKind::Users => {
            "username,email,firstname,lastname,password,profile_field_department,cohort1,course1,role1,group1\r\n\
             jdoe,jane.doe@example.org,Jane,Doe,Change-me-2024,HR,hr,COMP101,student,Team A\r\n"
        }
    }
}

/// Limits of one import, and where to report how far it got.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// Larger files are refused before they are read.
    pub max_bytes: usize,
    /// Updated as the import goes, for a progress bar (the pages' staged
    /// imports, [`staged`]); `None` costs nothing.
    pub progress: Option<Arc<ImportProgress>>,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            max_bytes: DEFAULT_MAX_BYTES,
            progress: None,
        }
    }
}

/// The loops of an import report their position every this many rows (or
/// writes): a relaxed atomic store per 512 rows costs nothing measurable
/// next to the row itself, and a poll every half second sees it move.
pub const PROGRESS_EVERY: usize = 512;

/// Where an import is: what a progress bar shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImportPhase {
    /// Not started yet.
    Waiting,
    /// Reading the bytes into rows.
    Reading,
    /// Checking every row against the site (rows done of rows).
    Checking,
    /// Hashing the passwords of new users (Argon2id, slow on purpose).
    Hashing,
    /// Writing the changes (changes done of changes).
    Applying,
    /// Making the transaction durable.
    Committing,
    /// Finished, whatever the outcome.
    Done,
}

impl ImportPhase {
    const ALL: [ImportPhase; 7] = [
        ImportPhase::Waiting,
        ImportPhase::Reading,
        ImportPhase::Checking,
        ImportPhase::Hashing,
        ImportPhase::Applying,
        ImportPhase::Committing,
        ImportPhase::Done,
    ];

    /// The phase as a person reads it, e.g. on a progress bar.
    pub fn label(self) -> &'static str {
        match self {
            ImportPhase::Waiting => "Waiting to start",
            ImportPhase::Reading => "Reading the file",
            ImportPhase::Checking => "Checking rows",
            ImportPhase::Hashing => "Hashing passwords",
            ImportPhase::Applying => "Writing changes",
            ImportPhase::Committing => "Saving",
            ImportPhase::Done => "Done",
        }
    }
}

/// How far one running import got, shared between the thread running it
/// and whoever shows its progress. Atomics, not a lock: the import never
/// waits for a reader.
#[derive(Debug, Default)]
pub struct ImportProgress {
    phase: AtomicU8,
    done: AtomicU64,
    total: AtomicU64,
}

/// A reading of [`ImportProgress`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressSnapshot {
    pub phase: ImportPhase,
    /// Rows (or changes, or passwords) done in this phase…
    pub done: u64,
    /// …of this many; 0 when the phase has no count.
    pub total: u64,
}

impl ImportProgress {
    pub fn snapshot(&self) -> ProgressSnapshot {
        let phase = ImportPhase::ALL
            .get(usize::from(self.phase.load(Ordering::Relaxed)))
            .copied()
            .unwrap_or(ImportPhase::Waiting);
        ProgressSnapshot {
            phase,
            done: self.done.load(Ordering::Relaxed),
            total: self.total.load(Ordering::Relaxed),
        }
    }

    /// Enters `phase` with `total` steps to go.
    pub fn start(&self, phase: ImportPhase, total: u64) {
        self.total.store(total, Ordering::Relaxed);
        self.done.store(0, Ordering::Relaxed);
        self.phase.store(phase as u8, Ordering::Relaxed);
    }

    pub fn advance(&self, done: u64) {
        self.done.store(done, Ordering::Relaxed);
    }
}

/// `progress.start(…)` when there is a progress to report to.
fn phase(progress: Option<&ImportProgress>, phase: ImportPhase, total: u64) {
    if let Some(p) = progress {
        p.start(phase, total);
    }
}

/// Reports step `i` (0-based) of the current phase every
/// [`PROGRESS_EVERY`] steps.
#[inline]
pub(crate) fn tick(progress: Option<&ImportProgress>, i: usize) {
    if let Some(p) = progress
        && i.is_multiple_of(PROGRESS_EVERY)
    {
        p.advance(i as u64);
    }
}

/// The errors and warnings found so far, listed up to
/// [`MAX_LISTED_ISSUES`] each and counted in full.
#[derive(Clone, Debug, Default)]
pub struct Issues {
    pub errors: Vec<RowIssue>,
    pub warnings: Vec<RowIssue>,
    pub error_count: u64,
    pub warning_count: u64,
}

impl Issues {
    pub fn error(&mut self, issue: RowIssue) {
        self.error_count += 1;
        if self.errors.len() < MAX_LISTED_ISSUES {
            self.errors.push(issue);
        }
    }

    pub fn warning(&mut self, issue: RowIssue) {
        self.warning_count += 1;
        if self.warnings.len() < MAX_LISTED_ISSUES {
            self.warnings.push(issue);
        }
    }

    fn report(
        mut self,
        kind: ImportKind,
        dry_run: bool,
        rows: u64,
        changes: ImportCounts,
    ) -> ImportReport {
        // Checks run column by column within a row, and file-level ones
        // first: sort so the report reads top to bottom like the file.
        self.errors.sort_by_key(|i| i.row);
        self.warnings.sort_by_key(|i| i.row);
        let applied = !dry_run && self.error_count == 0;
        ImportReport {
            kind,
            dry_run,
            applied,
            rows,
            errors: self.errors,
            warnings: self.warnings,
            error_count: self.error_count,
            warning_count: self.warning_count,
            changes: if self.error_count == 0 {
                changes
            } else {
                ImportCounts::default()
            },
        }
    }
}

/// The refusal of a file over the limit, in the units people think in.
pub fn too_large(size: usize, max_bytes: usize) -> ServiceError {
    ServiceError::invalid("file", too_large_message(size, max_bytes))
}

/// "the file is 12.3 MiB; the largest upload is 10 MiB" (in bytes when
/// the rounded figures would read the same).
pub fn too_large_message(size: usize, max_bytes: usize) -> String {
    let (file, max) = (size_label(size), size_label(max_bytes));
    if file == max {
        return format!(
            "the file is {size} bytes; the largest upload is {max_bytes} bytes ({max})"
        );
    }
    format!("the file is {file}; the largest upload is {max}")
}

/// `12.3 MiB`, `10 MiB`, `512 KiB`, `80 bytes`.
pub fn size_label(bytes: usize) -> String {
    const KIB: f64 = 1024.0;
    let b = bytes as f64;
    let (value, unit) = if bytes >= 1 << 20 {
        (b / (KIB * KIB), "MiB")
    } else if bytes >= 1 << 10 {
        (b / KIB, "KiB")
    } else {
        return match bytes {
            1 => "1 byte".to_owned(),
            n => format!("{n} bytes"),
        };
    };
    // One decimal, but none on a round figure: "10 MiB", "12.3 MiB".
    let text = format!("{value:.1}");
    format!("{} {unit}", text.strip_suffix(".0").unwrap_or(&text))
}

/// Checks the parsed file against the site (nothing to check when the
/// file had no header: that error is already recorded).
fn check(
    kind: ImportKind,
    table: Option<&parse::Table>,
    t: &impl SiteRead,
    mut issues: Issues,
    progress: Option<&ImportProgress>,
) -> ServiceResult<(formats::Plan, Issues)> {
    let plan = match table {
        Some(table) => {
            phase(progress, ImportPhase::Checking, table.rows.len() as u64);
            formats::check(kind, table, t, &mut issues, progress)?
        }
        None => formats::Plan::default(),
    };
    Ok((plan, issues))
}

impl SiteServices {
    /// Imports a CSV file of `kind` with the default limits; see
    /// [`import_csv_with`](Self::import_csv_with).
    pub fn import_csv(
        &self,
        who: &Principal,
        kind: ImportKind,
        bytes: &[u8],
        dry_run: bool,
    ) -> ServiceResult<ImportReport> {
        self.import_csv_with(who, kind, bytes, dry_run, &ImportOptions::default())
    }

    /// Checks a CSV file of `kind` against the site and, unless `dry_run`
    /// or the file has an error, applies it in one transaction. Site
    /// admins only. A file's mistakes are not a failed call: they come
    /// back as the report's errors, and nothing is written. The call
    /// fails only for a caller who may not import, a file over
    /// `options.max_bytes`, or a storage failure.
    pub fn import_csv_with(
        &self,
        who: &Principal,
        kind: ImportKind,
        bytes: &[u8],
        dry_run: bool,
        options: &ImportOptions,
    ) -> ServiceResult<ImportReport> {
        let progress = options.progress.as_deref();
        let outcome = self.import(who, kind, bytes, dry_run, options.max_bytes, progress);
        phase(progress, ImportPhase::Done, 0);
        outcome
    }

    fn import(
        &self,
        who: &Principal,
        kind: ImportKind,
        bytes: &[u8],
        dry_run: bool,
        max_bytes: usize,
        progress: Option<&ImportProgress>,
    ) -> ServiceResult<ImportReport> {
        if bytes.len() > max_bytes {
            return Err(too_large(bytes.len(), max_bytes));
        }
        phase(progress, ImportPhase::Reading, 0);
        let mut issues = Issues::default();
        let table = parse::parse(bytes, &mut issues);
        let table = table.as_ref();
        let rows = table.map_or(0, |t| t.read);

        // The preview, and for a file of users the pass that finds which
        // new users need a password hash: in one read snapshot.
        let needs_hashes = kind == ImportKind::Users && !dry_run;
        if dry_run || needs_hashes {
            let (plan, checked) = self.read(|t| {
                authorize(&self.site, t, who, Need::SiteAdmin)?;
                check(kind, table, t, issues.clone(), progress)
            })?;
            if dry_run || checked.error_count > 0 {
                return Ok(checked.report(kind, dry_run, rows, plan.counts));
            }
            // Hashing is slow (Argon2id) and must not hold the site's
            // write lock: hash here, apply below.
            let to_hash = plan.passwords_to_hash();
            phase(progress, ImportPhase::Hashing, to_hash.len() as u64);
            let mut hashes: HashMap<u64, String> = HashMap::with_capacity(to_hash.len());
            for (i, (line, pw)) in to_hash.into_iter().enumerate() {
                hashes.insert(line, password::hash(pw));
                // Each hash takes tens of milliseconds: report every one.
                if let Some(p) = progress {
                    p.advance(i as u64 + 1);
                }
            }
            return self.apply(who, kind, table, rows, issues, &hashes, progress);
        }
        self.apply(who, kind, table, rows, issues, &HashMap::new(), progress)
    }

    /// Checks again and applies in one write transaction. A file that
    /// turns out to have errors now (the site changed since the preview)
    /// is answered with its report and rolls the transaction back.
    #[allow(clippy::too_many_arguments)]
    fn apply(
        &self,
        who: &Principal,
        kind: ImportKind,
        table: Option<&parse::Table>,
        rows: u64,
        issues: Issues,
        hashes: &HashMap<u64, String>,
        progress: Option<&ImportProgress>,
    ) -> ServiceResult<ImportReport> {
        let mut refused = None;
        let outcome = self.write(|t| {
            let actor = authorize(&self.site, t, who, Need::SiteAdmin)?;
            let (plan, checked) = check(kind, table, t, issues, progress)?;
            if checked.error_count > 0 {
                refused = Some(checked.report(kind, false, rows, ImportCounts::default()));
                // Any error rolls the transaction back; the report says why.
                return Err(ServiceError::Conflict("the file has errors".into()));
            }
            phase(progress, ImportPhase::Applying, plan.writes() as u64);
            let done = formats::apply(t, actor, kind, plan, hashes, progress)?;
            // Returning commits (and waits for the disk).
            phase(progress, ImportPhase::Committing, 0);
            // A file applied again changes nothing, and says nothing.
            if done.changed() == 0 {
                return Ok(checked.report(kind, false, rows, done));
            }
            t.audit_log(
                actor,
                "import.applied",
                format!("CSV import of {kind}"),
                format!(
                    "{rows} row(s): {} change(s), {} unchanged",
                    done.changed(),
                    done.unchanged
                ),
            )?;
            Ok(checked.report(kind, false, rows, done))
        });
        match (outcome, refused) {
            (Err(_), Some(report)) => Ok(report),
            (outcome, _) => outcome,
        }
    }
}

impl Services {
    /// [`SiteServices::import_csv_with`] on the site `key` (slug or id),
    /// for the operator's console.
    pub fn import_csv_by_key(
        &self,
        who: &Principal,
        key: &str,
        kind: ImportKind,
        bytes: &[u8],
        dry_run: bool,
        options: &ImportOptions,
    ) -> ServiceResult<ImportReport> {
        let site = self.site(self.find_site(who, key)?.id)?;
        site.import_csv_with(who, kind, bytes, dry_run, options)
    }
}
