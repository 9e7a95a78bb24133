//! Writes of enrolments; each notes what it did to the user's
//! `user-courses` row (written by `flush`).

use crate::domain::{CourseId, Enrolment, EnrolmentMethodId, UserId};
use crate::storage::site::SiteTables;
use crate::storage::site::read::EnrolmentRead;
use crate::storage::{Result, decode, encode};

impl SiteTables<'_> {
    pub(crate) fn put_enrolment(&mut self, e: &Enrolment) -> Result<()> {
        let updated = self
            .enrolments
            .insert((e.course.0, e.user.0, e.method.0), encode(e).as_slice())?
            .is_some();
        // An update (status, role) leaves the user's courses as they were.
        if !updated {
            self.note_enrolled(e.user, e.course);
        }
        Ok(())
    }

    /// Writes a new enrolment with its index row, unless `(course,
    /// user, method)` already has one: then the file is left as it was and
    /// the existing enrolment is returned. One B-tree descent finds out
    /// and writes, where a look-up before `put_enrolment` takes two — the
    /// difference is a tenth of a 100,000-member initial sync.
    pub(crate) fn insert_enrolment_if_absent(
        &mut self,
        e: &Enrolment,
    ) -> Result<Option<Enrolment>> {
        let key = (e.course.0, e.user.0, e.method.0);
        let old = self
            .enrolments
            .insert(key, encode(e).as_slice())?
            .map(|g| g.value().to_vec());
        if let Some(old) = old {
            self.enrolments.insert(key, old.as_slice())?;
            return Ok(Some(decode("enrolments", &old)?));
        }
        self.note_enrolled(e.user, e.course);
        Ok(None)
    }

    pub(crate) fn delete_enrolment_row(
        &mut self,
        course: CourseId,
        user: UserId,
        method: EnrolmentMethodId,
    ) -> Result<bool> {
        let existed = self
            .enrolments
            .remove((course.0, user.0, method.0))?
            .is_some();
        if existed && !self.has_enrolment_in(course, user)? {
            self.note_unenrolled(user, course);
        }
        Ok(existed)
    }
}
