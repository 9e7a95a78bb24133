//! Queries about assignments: an assignment's settings, its submissions
//! (all, or one owner's), a stored file's content, and grade items and
//! entries.

use redb::ReadableTable;

use super::{SiteTablesRead, get_record, pair_prefix};
use crate::domain::{
    ActivityId, AssignmentSettings, CourseId, GradeEntry, GradeItem, GradeItemId, Submission,
    SubmissionId, SubmissionOwner, UserId,
};
use crate::storage::site::grade_row;
use crate::storage::{Result, decode};

/// The key of `owner`'s row in `assignment-submissions`: kind and id.
pub(crate) fn owner_key(owner: SubmissionOwner) -> (u8, u64) {
    match owner {
        SubmissionOwner::User(u) => (0, u.0),
        SubmissionOwner::Group(g) => (1, g.0),
    }
}

/// Assignments, submissions, stored files and grades.
pub trait AssignmentRead: SiteTablesRead {
    fn assignment_settings(&self, activity: ActivityId) -> Result<Option<AssignmentSettings>> {
        get_record(self.assignments()?, "assignments", activity.0)
    }

    fn submission(&self, id: SubmissionId) -> Result<Option<Submission>> {
        get_record(self.submissions()?, "submissions", id.0)
    }

    /// The submission of `owner` to `assignment`, if it has one.
    fn submission_of(
        &self,
        assignment: ActivityId,
        owner: SubmissionOwner,
    ) -> Result<Option<Submission>> {
        let (kind, id) = owner_key(owner);
        match self
            .assignment_submissions()?
            .get((assignment.0, kind, id))?
        {
            Some(v) => self.submission(SubmissionId(v.value())),
            None => Ok(None),
        }
    }

    /// Every submission to `assignment`: the users' then the groups', each
    /// in owner id order.
    fn assignment_submissions_all(&self, assignment: ActivityId) -> Result<Vec<Submission>> {
        let table = self.submissions()?;
        let mut out = Vec::new();
        for row in self
            .assignment_submissions()?
            .range((assignment.0, 0, 0)..=(assignment.0, u8::MAX, u64::MAX))?
        {
            let (_, v) = row?;
            if let Some(s) = get_record(table, "submissions", v.value())? {
                out.push(s);
            }
        }
        Ok(out)
    }

    /// How many submissions `assignment` has (drafts included).
    fn assignment_submission_count(&self, assignment: ActivityId) -> Result<u64> {
        Ok(self
            .assignment_submissions()?
            .range((assignment.0, 0, 0)..=(assignment.0, u8::MAX, u64::MAX))?
            .count() as u64)
    }

    /// The stored content of the file `sha256`, whole; `None` when no
    /// submission names it any more.
    fn file_content(&self, sha256: &[u8; 32]) -> Result<Option<Vec<u8>>> {
        let Some((bytes, _)) = self.files()?.get(sha256)?.map(|v| v.value()) else {
            return Ok(None);
        };
        let mut out = Vec::with_capacity(usize::try_from(bytes).unwrap_or(0));
        for row in self
            .file_chunks()?
            .range((*sha256, 0)..=(*sha256, u32::MAX))?
        {
            let (_, v) = row?;
            out.extend_from_slice(v.value());
        }
        Ok(Some(out))
    }

    /// How many submission files name the content `sha256` (0: not stored).
    fn file_references(&self, sha256: &[u8; 32]) -> Result<u64> {
        Ok(self.files()?.get(sha256)?.map_or(0, |v| v.value().1))
    }

    fn grade_item(&self, id: GradeItemId) -> Result<Option<GradeItem>> {
        get_record(self.grade_items()?, "grade-items", id.0)
    }

    /// The grade items of `course`, in id order.
    fn grade_items_of_course(&self, course: CourseId) -> Result<Vec<GradeItem>> {
        let table = self.grade_items()?;
        let mut out = Vec::new();
        for row in self.course_grade_items()?.range(pair_prefix(course.0))? {
            let (k, _) = row?;
            if let Some(item) = get_record(table, "grade-items", k.value().1)? {
                out.push(item);
            }
        }
        Ok(out)
    }

    fn grade_entry(&self, item: GradeItemId, user: UserId) -> Result<Option<GradeEntry>> {
        get_record(self.grade_entries()?, "grade-entries", (item.0, user.0))
    }

    /// Every entry of `item`, in user id order.
    fn grade_entries_of(&self, item: GradeItemId) -> Result<Vec<GradeEntry>> {
        let mut out = Vec::new();
        for row in self.grade_entries()?.range(pair_prefix(item.0))? {
            let (_, v) = row?;
            out.push(decode("grade-entries", v.value())?);
        }
        Ok(out)
    }

    /// `user`'s grade values in `course` (`None`: feedback only), in item
    /// id order, from the index alone.
    fn course_grade_values(
        &self,
        course: CourseId,
        user: UserId,
    ) -> Result<Vec<(GradeItemId, Option<f64>)>> {
        let mut out = Vec::new();
        if let Some(row) = self.course_user_grades()?.get((course.0, user.0))? {
            grade_row::decode_into(row.value(), &mut out)?;
        }
        Ok(out)
    }

    /// Every user's grade values in `course`, in user order, each row in
    /// item order: one scan of the index (the per-group statistics). Users
    /// without any entry are not visited.
    fn course_grade_rows(
        &self,
        course: CourseId,
        mut each: impl FnMut(UserId, &[(GradeItemId, Option<f64>)]),
    ) -> Result<()> {
        let mut cells = Vec::new();
        for row in self
            .course_user_grades()?
            .range((course.0, 0)..=(course.0, u64::MAX))?
        {
            let (k, v) = row?;
            grade_row::decode_into(v.value(), &mut cells)?;
            each(UserId(k.value().1), &cells);
        }
        Ok(())
    }

    /// `user`'s entries in `course`, in item id order.
    fn user_grade_entries(&self, course: CourseId, user: UserId) -> Result<Vec<GradeEntry>> {
        let table = self.grade_entries()?;
        let mut out = Vec::new();
        for (item, _) in self.course_grade_values(course, user)? {
            if let Some(entry) = get_record(table, "grade-entries", (item.0, user.0))? {
                out.push(entry);
            }
        }
        Ok(out)
    }
}

impl<T: SiteTablesRead> AssignmentRead for T {}
