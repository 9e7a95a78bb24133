//! The gradebook inside a transaction: a course's total item, loading an
//! item of a course, and deleting a course's grade items (course
//! deletion).
//!
//! Never authorises and never opens a transaction.

use crate::domain::*;
use crate::services::error::{ServiceError, ServiceResult};
use crate::storage::site::{SiteTables, prelude::*};

/// The name a new course total carries.
pub(crate) const COURSE_TOTAL_NAME: &str = "Course total";

/// Creates the course total item of a new `course`.
pub(crate) fn create_course_total_in(
    t: &mut SiteTables<'_>,
    course: CourseId,
) -> ServiceResult<GradeItem> {
    let item = GradeItem::new(
        t.new_grade_item_id()?,
        course,
        GradeSource::Course,
        COURSE_TOTAL_NAME.to_owned(),
        100.0,
        t.now,
    );
    t.put_grade_item(&item)?;
    Ok(item)
}

/// Grade item `id`; not found unless it is of `course` (when given).
pub(crate) fn load_grade_item(
    t: &impl SiteRead,
    id: GradeItemId,
    course: Option<CourseId>,
) -> ServiceResult<GradeItem> {
    match t.grade_item(id)? {
        Some(item) if course.is_none_or(|c| c == item.course) => Ok(item),
        _ => Err(ServiceError::not_found(format!("grade item #{id}"))),
    }
}

/// Deletes every grade item of `course` with its entries (the course is
/// being deleted; assignments' items went with their activities).
pub(crate) fn delete_course_grades_in(
    t: &mut SiteTables<'_>,
    course: CourseId,
) -> ServiceResult<()> {
    for item in t.grade_items_of_course(course)? {
        t.delete_grade_item(&item)?;
    }
    Ok(())
}
