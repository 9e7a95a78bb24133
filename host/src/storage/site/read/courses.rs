//! Queries about courses.

use redb::ReadableTable;

use super::{SiteTablesRead, all_records, get_record};
use crate::domain::{Course, CourseId};
use crate::storage::Result;

/// Courses.
pub trait CourseRead: SiteTablesRead {
    fn course(&self, id: CourseId) -> Result<Option<Course>> {
        get_record(self.courses()?, "courses", id.0)
    }

    fn course_id_by_shortname(&self, shortname: &str) -> Result<Option<CourseId>> {
        let key = shortname.to_lowercase();
        Ok(self
            .courses_by_shortname()?
            .get(key.as_str())?
            .map(|g| CourseId(g.value())))
    }

    fn all_courses(&self) -> Result<Vec<Course>> {
        all_records(self.courses()?, "courses")
    }
}

impl<T: SiteTablesRead> CourseRead for T {}
