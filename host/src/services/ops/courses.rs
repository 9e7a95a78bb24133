//! Courses inside a transaction: looking one up, and the manual enrolment
//! method every course starts with (the CSV import enrols through it).
//!
//! Never authorises and never opens a transaction.

use crate::domain::*;
use crate::services::error::{ServiceError, ServiceResult};
use crate::storage::site::prelude::*;

/// The plugin id of the manual enrolment method every course starts with.
pub const MANUAL_PLUGIN: &str = "manual";

/// The config the bundled manual plugin normalises `{}` to: new members
/// are learners.
pub const MANUAL_DEFAULT_CONFIG: &str = r#"{"role":"learner"}"#;

pub(crate) fn load_course(t: &impl SiteRead, id: CourseId) -> ServiceResult<Course> {
    t.course(id)?
        .ok_or_else(|| ServiceError::not_found(format!("course #{id}")))
}
