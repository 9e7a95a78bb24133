//! Writes of assignments: settings, submissions with their owner index,
//! the content-addressed file store with its reference counts, and grade
//! items and entries with their course index.
//!
//! A file's bytes are written once per content and counted once per
//! submission file naming them (`files-v1`); [`SiteTables::put_submission`]
//! moves the counts from the old file list to the new one, so the last
//! submission to let a content go takes its chunks with it in the same
//! transaction — no sweep, nothing left behind by a crash.

use std::collections::BTreeMap;

use redb::ReadableTable;

use crate::domain::{
    ActivityId, AssignmentSettings, CourseId, GradeEntry, GradeItem, GradeItemId, Submission,
    SubmissionId, SubmittedFile, UserId,
};
use crate::storage::site::SiteTables;
use crate::storage::site::counters::Counter;
use crate::storage::site::grade_row;
use crate::storage::site::read::owner_key;
use crate::storage::{Result, StorageError, encode};

/// The size of one row of a file's content: small enough that redb keeps
/// pages of a sane size, large enough that a 10 MiB file is ten rows.
pub(crate) const FILE_CHUNK_BYTES: usize = 1024 * 1024;

impl SiteTables<'_> {
    pub(crate) fn new_submission_id(&mut self) -> Result<SubmissionId> {
        Ok(SubmissionId(self.next_id(Counter::Submission)?))
    }

    pub(crate) fn new_grade_item_id(&mut self) -> Result<GradeItemId> {
        Ok(GradeItemId(self.next_id(Counter::GradeItem)?))
    }

    pub(crate) fn put_assignment_settings(&mut self, settings: &AssignmentSettings) -> Result<()> {
        self.assignments
            .insert(settings.activity.0, encode(settings).as_slice())?;
        Ok(())
    }

    /// Stores `content` under its digest if it is not stored yet. It has
    /// no reference until a submission names it (`put_submission`): call
    /// both in one transaction.
    pub(crate) fn store_file_content(&mut self, sha256: &[u8; 32], content: &[u8]) -> Result<()> {
        if self.files.get(sha256)?.is_some() {
            return Ok(());
        }
        for (n, chunk) in content.chunks(FILE_CHUNK_BYTES).enumerate() {
            let n = u32::try_from(n).map_err(|_| StorageError::Corrupt {
                table: "file-chunks",
                reason: "a file of more than 4 billion chunks".into(),
            })?;
            self.file_chunks.insert((*sha256, n), chunk)?;
        }
        self.files.insert(sha256, (content.len() as u64, 0))?;
        Ok(())
    }

    /// Writes `submission` and its owner index, moving file references
    /// from `previous` (the stored version, if any) to it. Every file it
    /// names must be stored (`store_file_content`) in this transaction or
    /// before.
    pub(crate) fn put_submission(
        &mut self,
        submission: &Submission,
        previous: Option<&Submission>,
    ) -> Result<()> {
        let mut deltas = file_deltas(previous.map_or(&[][..], |p| &p.files[..]), -1);
        for f in &submission.files {
            *deltas.entry(f.sha256).or_default() += 1;
        }
        self.add_file_references(&deltas)?;
        let (kind, owner) = owner_key(submission.owner);
        self.assignment_submissions
            .insert((submission.assignment.0, kind, owner), submission.id.0)?;
        self.submissions
            .insert(submission.id.0, encode(submission).as_slice())?;
        Ok(())
    }

    /// Removes `submission`, its owner index row and its file references.
    pub(crate) fn delete_submission_row(&mut self, submission: &Submission) -> Result<()> {
        let deltas = file_deltas(&submission.files, -1);
        self.add_file_references(&deltas)?;
        let (kind, owner) = owner_key(submission.owner);
        self.assignment_submissions
            .remove((submission.assignment.0, kind, owner))?;
        self.submissions.remove(submission.id.0)?;
        Ok(())
    }

    /// Removes an assignment's settings row (its submissions and grade
    /// item are removed by their own calls).
    pub(crate) fn delete_assignment_settings(&mut self, activity: ActivityId) -> Result<()> {
        self.assignments.remove(activity.0)?;
        Ok(())
    }

    /// Applies reference-count changes; a content left with none goes,
    /// chunks and all.
    fn add_file_references(&mut self, deltas: &BTreeMap<[u8; 32], i64>) -> Result<()> {
        for (sha256, delta) in deltas {
            if *delta == 0 {
                continue;
            }
            let Some((bytes, refs)) = self.files.get(sha256)?.map(|v| v.value()) else {
                return Err(StorageError::Corrupt {
                    table: "files",
                    reason: "a submission names a file that is not stored".into(),
                });
            };
            let refs = refs.saturating_add_signed(*delta);
            if refs == 0 {
                self.files.remove(sha256)?;
                let chunks = bytes.div_ceil(FILE_CHUNK_BYTES as u64).max(1);
                for n in 0..u32::try_from(chunks).unwrap_or(u32::MAX) {
                    self.file_chunks.remove((*sha256, n))?;
                }
            } else {
                self.files.insert(sha256, (bytes, refs))?;
            }
        }
        Ok(())
    }

    pub(crate) fn put_grade_item(&mut self, item: &GradeItem) -> Result<()> {
        self.grade_items
            .insert(item.id.0, encode(item).as_slice())?;
        self.course_grade_items
            .insert((item.course.0, item.id.0), ())?;
        Ok(())
    }

    /// Removes a grade item and every entry of it.
    pub(crate) fn delete_grade_item(&mut self, item: &GradeItem) -> Result<()> {
        let users: Vec<u64> = self
            .grade_entries
            .range((item.id.0, 0)..=(item.id.0, u64::MAX))?
            .map(|row| row.map(|(k, _)| k.value().1))
            .collect::<std::result::Result<_, _>>()?;
        for user in users {
            self.grade_entries.remove((item.id.0, user))?;
            self.edit_grade_row(item.course, UserId(user), |cells| {
                grade_row::remove(cells, item.id);
            })?;
        }
        self.course_grade_items.remove((item.course.0, item.id.0))?;
        self.grade_items.remove(item.id.0)?;
        Ok(())
    }

    /// Writes `entry` of an item of `course`, with its value in the user's
    /// row of the course.
    pub(crate) fn put_grade_entry(&mut self, course: CourseId, entry: &GradeEntry) -> Result<()> {
        self.grade_entries
            .insert((entry.item.0, entry.user.0), encode(entry).as_slice())?;
        self.edit_grade_row(course, entry.user, |cells| {
            grade_row::set(cells, entry.item, entry.value);
        })
    }

    /// Removes the entry of `user` for `item` (of `course`), if any.
    pub(crate) fn delete_grade_entry(
        &mut self,
        course: CourseId,
        item: GradeItemId,
        user: UserId,
    ) -> Result<()> {
        self.grade_entries.remove((item.0, user.0))?;
        self.edit_grade_row(course, user, |cells| {
            grade_row::remove(cells, item);
        })
    }

    /// Removes `user`'s entries in `course` (they are being deleted).
    pub(crate) fn delete_user_grade_entries(
        &mut self,
        course: CourseId,
        user: UserId,
    ) -> Result<()> {
        let Some(row) = self.course_user_grades.remove((course.0, user.0))? else {
            return Ok(());
        };
        let mut cells = Vec::new();
        grade_row::decode_into(row.value(), &mut cells)?;
        drop(row);
        for (item, _) in cells {
            self.grade_entries.remove((item.0, user.0))?;
        }
        Ok(())
    }

    /// Applies `edit` to `user`'s row of values in `course`; an emptied
    /// row is removed.
    fn edit_grade_row(
        &mut self,
        course: CourseId,
        user: UserId,
        edit: impl FnOnce(&mut Vec<(GradeItemId, Option<f64>)>),
    ) -> Result<()> {
        let mut cells = Vec::new();
        if let Some(row) = self.course_user_grades.get((course.0, user.0))? {
            grade_row::decode_into(row.value(), &mut cells)?;
        }
        edit(&mut cells);
        if cells.is_empty() {
            self.course_user_grades.remove((course.0, user.0))?;
        } else {
            self.course_user_grades
                .insert((course.0, user.0), grade_row::encode(&cells).as_slice())?;
        }
        Ok(())
    }
}

/// `delta` per digest of `files` (a digest named twice counts twice).
fn file_deltas(files: &[SubmittedFile], delta: i64) -> BTreeMap<[u8; 32], i64> {
    let mut out = BTreeMap::new();
    for f in files {
        *out.entry(f.sha256).or_default() += delta;
    }
    out
}
