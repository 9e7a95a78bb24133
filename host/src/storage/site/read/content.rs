//! Queries about what courses teach: sections and their activities in
//! page order, and groupings with their groups.

use redb::ReadableTable;

use super::{SiteTablesRead, get_record, pair_prefix};
use crate::domain::{
    Activity, ActivityId, CourseGroupId, CourseId, CourseSection, CourseSectionId, Grouping,
    GroupingId, SitePrivacy,
};
use crate::storage::{Result, decode};

/// Sections, activities and groupings.
pub trait ContentRead: SiteTablesRead {
    fn course_section(&self, id: CourseSectionId) -> Result<Option<CourseSection>> {
        get_record(self.course_sections()?, "course-sections", id.0)
    }

    /// The ids of `course`'s sections in page order.
    fn course_section_ids(&self, course: CourseId) -> Result<Vec<CourseSectionId>> {
        Ok(order_row(
            self.course_section_order()?,
            "course-section-order",
            course.0,
        )?
        .into_iter()
        .map(CourseSectionId)
        .collect())
    }

    /// `course`'s sections in page order.
    fn sections_of_course(&self, course: CourseId) -> Result<Vec<CourseSection>> {
        let mut out = Vec::new();
        for id in self.course_section_ids(course)? {
            if let Some(section) = self.course_section(id)? {
                out.push(section);
            }
        }
        Ok(out)
    }

    fn activity(&self, id: ActivityId) -> Result<Option<Activity>> {
        get_record(self.activities()?, "activities", id.0)
    }

    /// The ids of `section`'s activities in page order.
    fn section_activity_ids(&self, section: CourseSectionId) -> Result<Vec<ActivityId>> {
        Ok(order_row(
            self.section_activity_order()?,
            "section-activity-order",
            section.0,
        )?
        .into_iter()
        .map(ActivityId)
        .collect())
    }

    /// `section`'s activities in page order.
    fn section_activities(&self, section: CourseSectionId) -> Result<Vec<Activity>> {
        let table = self.activities()?;
        let mut out = Vec::new();
        for id in self.section_activity_ids(section)? {
            if let Some(activity) = get_record(table, "activities", id.0)? {
                out.push(activity);
            }
        }
        Ok(out)
    }

    fn grouping(&self, id: GroupingId) -> Result<Option<Grouping>> {
        get_record(self.groupings()?, "groupings", id.0)
    }

    /// `course`'s groupings in id order.
    fn groupings_of_course(&self, course: CourseId) -> Result<Vec<Grouping>> {
        let mut out = Vec::new();
        for row in self.course_groupings()?.range(pair_prefix(course.0))? {
            let (k, _) = row?;
            if let Some(g) = self.grouping(GroupingId(k.value().1))? {
                out.push(g);
            }
        }
        Ok(out)
    }

    /// The groups in `grouping`, in id order.
    fn grouping_group_ids(&self, grouping: GroupingId) -> Result<Vec<CourseGroupId>> {
        let mut out = Vec::new();
        for row in self.grouping_groups()?.range(pair_prefix(grouping.0))? {
            out.push(CourseGroupId(row?.0.value().1));
        }
        Ok(out)
    }

    /// The groupings `group` is in, in id order.
    fn group_grouping_ids(&self, group: CourseGroupId) -> Result<Vec<GroupingId>> {
        let mut out = Vec::new();
        for row in self.group_groupings()?.range(pair_prefix(group.0))? {
            out.push(GroupingId(row?.0.value().1));
        }
        Ok(out)
    }

    fn grouping_has_group(&self, grouping: GroupingId, group: CourseGroupId) -> Result<bool> {
        Ok(self
            .grouping_groups()?
            .get((grouping.0, group.0))?
            .is_some())
    }

    /// What the site lets participants see of each other (the default
    /// when never set).
    fn site_privacy(&self) -> Result<SitePrivacy> {
        Ok(get_record(self.settings()?, "settings", PRIVACY_SETTING)?.unwrap_or_default())
    }
}

/// The `settings` key of the site's [`SitePrivacy`].
pub(crate) const PRIVACY_SETTING: &str = "privacy";

impl<T: SiteTablesRead> ContentRead for T {}

/// An order row: the ids of a list (empty when it has no row).
fn order_row(
    table: &impl ReadableTable<u64, &'static [u8]>,
    name: &'static str,
    key: u64,
) -> Result<Vec<u64>> {
    match table.get(key)? {
        Some(v) => decode(name, v.value()),
        None => Ok(Vec::new()),
    }
}
