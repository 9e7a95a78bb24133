//! Courses and their group mode.

use serde::{Deserialize, Serialize};

use super::{CourseIdView, TimestampView, mirror_enum, mirror_struct};
use crate::domain::{Course, GroupMode};

#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = GroupMode)]
pub enum GroupModeView {
    /// No groups are used for separation.
    None,
    /// Learners see only their own groups.
    Separate,
    /// Learners see all groups and take part in their own.
    Visible,
}

mirror_enum!(
    GroupMode,
    GroupModeView {
        None,
        Separate,
        Visible
    }
);

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = Course)]
pub struct CourseView {
    pub id: CourseIdView,
    /// Unique in the site.
    pub shortname: String,
    pub fullname: String,
    pub group_mode: GroupModeView,
    /// When true, the group mode applies to every activity of the course.
    pub force_group_mode: bool,
    pub created_at: TimestampView,
}

mirror_struct!(
    Course,
    CourseView {
        id,
        shortname,
        fullname,
        group_mode,
        force_group_mode,
        created_at,
    }
);
