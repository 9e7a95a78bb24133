//! Writes of courses and their shortname index.

use crate::domain::{Course, CourseId};
use crate::storage::site::SiteTables;
use crate::storage::site::counters::Counter;
use crate::storage::site::read::CourseRead;
use crate::storage::{Result, encode};

impl SiteTables<'_> {
    pub(crate) fn new_course_id(&mut self) -> Result<CourseId> {
        Ok(CourseId(self.next_id(Counter::Course)?))
    }

    pub(crate) fn put_course(&mut self, course: &Course) -> Result<()> {
        if let Some(old) = self.course(course.id)? {
            self.courses_by_shortname
                .remove(old.shortname.to_lowercase().as_str())?;
        }
        self.courses
            .insert(course.id.0, encode(course).as_slice())?;
        self.courses_by_shortname
            .insert(course.shortname.to_lowercase().as_str(), course.id.0)?;
        Ok(())
    }

    pub(crate) fn delete_course_row(&mut self, course: &Course) -> Result<()> {
        self.courses.remove(course.id.0)?;
        self.courses_by_shortname
            .remove(course.shortname.to_lowercase().as_str())?;
        Ok(())
    }
}
