//! Writes of one-off mass enrolments: the record with its user lists and
//! its two index rows, written and removed together.

use crate::domain::{CourseId, MassEnrolment, MassEnrolmentId, MassEnrolmentUsers};
use crate::storage::site::SiteTables;
use crate::storage::site::counters::Counter;
use crate::storage::site::read::MassEnrolmentRead;
use crate::storage::{Result, encode};

impl SiteTables<'_> {
    pub(crate) fn new_mass_enrolment_id(&mut self) -> Result<MassEnrolmentId> {
        Ok(MassEnrolmentId(self.next_id(Counter::MassEnrolment)?))
    }

    /// Writes a new mass enrolment with the users it enrolled and grouped,
    /// indexed by its course and its segment.
    pub(crate) fn insert_mass_enrolment(
        &mut self,
        record: &MassEnrolment,
        users: &MassEnrolmentUsers,
    ) -> Result<()> {
        self.put_mass_enrolment(record)?;
        self.mass_enrolment_users
            .insert(record.id.0, encode(users).as_slice())?;
        self.course_mass_enrolments
            .insert((record.course.0, record.id.0), ())?;
        self.segment_mass_enrolments
            .insert((record.segment.0, record.id.0), ())?;
        Ok(())
    }

    /// Rewrites a mass enrolment's record (its undo); the user lists and
    /// indexes stay as they are, since course and segment never change.
    pub(crate) fn put_mass_enrolment(&mut self, record: &MassEnrolment) -> Result<()> {
        self.mass_enrolments
            .insert(record.id.0, encode(record).as_slice())?;
        Ok(())
    }

    /// Removes every mass enrolment into `course` (the course is being
    /// deleted, and its enrolments with it): records, user lists and both
    /// index rows.
    pub(crate) fn delete_course_mass_enrolments(&mut self, course: CourseId) -> Result<()> {
        for record in self.course_mass_enrolment_list(course)? {
            let id = record.id.0;
            self.mass_enrolments.remove(id)?;
            self.mass_enrolment_users.remove(id)?;
            self.course_mass_enrolments.remove((course.0, id))?;
            self.segment_mass_enrolments
                .remove((record.segment.0, id))?;
        }
        Ok(())
    }
}
