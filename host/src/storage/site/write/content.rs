//! Writes of course content: sections, activities and groupings, with the
//! order rows and the grouping ↔ group indexes kept in step.

use redb::ReadableTable;

use crate::domain::{
    Activity, ActivityId, CourseGroupId, CourseId, CourseSection, CourseSectionId, Grouping,
    GroupingId, SitePrivacy,
};
use crate::storage::site::SiteTables;
use crate::storage::site::counters::Counter;
use crate::storage::site::read::{ContentRead, PRIVACY_SETTING};
use crate::storage::{Result, encode};

impl SiteTables<'_> {
    pub(crate) fn new_course_section_id(&mut self) -> Result<CourseSectionId> {
        Ok(CourseSectionId(self.next_id(Counter::CourseSection)?))
    }

    pub(crate) fn new_activity_id(&mut self) -> Result<ActivityId> {
        Ok(ActivityId(self.next_id(Counter::Activity)?))
    }

    pub(crate) fn new_grouping_id(&mut self) -> Result<GroupingId> {
        Ok(GroupingId(self.next_id(Counter::Grouping)?))
    }

    /// Writes `section`; a new one goes last in its course's order.
    pub(crate) fn put_course_section(&mut self, section: &CourseSection) -> Result<()> {
        let is_new = self.course_sections.get(section.id.0)?.is_none();
        self.course_sections
            .insert(section.id.0, encode(section).as_slice())?;
        if is_new {
            let mut order = self.course_section_ids(section.course)?;
            order.push(section.id);
            self.set_course_section_order(section.course, &order)?;
        }
        Ok(())
    }

    /// Sets the page order of `course`'s sections (the caller checked it
    /// names exactly the course's sections).
    pub(crate) fn set_course_section_order(
        &mut self,
        course: CourseId,
        order: &[CourseSectionId],
    ) -> Result<()> {
        let ids: Vec<u64> = order.iter().map(|s| s.0).collect();
        if ids.is_empty() {
            self.course_section_order.remove(course.0)?;
        } else {
            self.course_section_order
                .insert(course.0, encode(&ids).as_slice())?;
        }
        Ok(())
    }

    /// Removes `section`'s row and its place in the course's order; its
    /// activities must be gone already.
    pub(crate) fn delete_course_section_row(&mut self, section: &CourseSection) -> Result<()> {
        self.course_sections.remove(section.id.0)?;
        self.section_activity_order.remove(section.id.0)?;
        let mut order = self.course_section_ids(section.course)?;
        order.retain(|&s| s != section.id);
        self.set_course_section_order(section.course, &order)
    }

    /// Writes `activity`; a new one goes last in its section. Moving one
    /// to another section goes through [`Self::move_activity`].
    pub(crate) fn put_activity(&mut self, activity: &Activity) -> Result<()> {
        let is_new = self.activities.get(activity.id.0)?.is_none();
        self.activities
            .insert(activity.id.0, encode(activity).as_slice())?;
        if is_new {
            let mut order = self.section_activity_ids(activity.section)?;
            order.push(activity.id);
            self.set_section_activity_order(activity.section, &order)?;
        }
        Ok(())
    }

    /// Sets the page order of `section`'s activities.
    pub(crate) fn set_section_activity_order(
        &mut self,
        section: CourseSectionId,
        order: &[ActivityId],
    ) -> Result<()> {
        let ids: Vec<u64> = order.iter().map(|a| a.0).collect();
        if ids.is_empty() {
            self.section_activity_order.remove(section.0)?;
        } else {
            self.section_activity_order
                .insert(section.0, encode(&ids).as_slice())?;
        }
        Ok(())
    }

    /// Moves `activity` out of its section's order into `to`'s at
    /// `position` (clamped), and writes it with its new section.
    pub(crate) fn move_activity(
        &mut self,
        activity: &mut Activity,
        to: CourseSectionId,
        position: usize,
    ) -> Result<()> {
        let mut from = self.section_activity_ids(activity.section)?;
        from.retain(|&a| a != activity.id);
        self.set_section_activity_order(activity.section, &from)?;
        let mut order = self.section_activity_ids(to)?;
        order.retain(|&a| a != activity.id);
        order.insert(position.min(order.len()), activity.id);
        self.set_section_activity_order(to, &order)?;
        activity.section = to;
        self.activities
            .insert(activity.id.0, encode(&*activity).as_slice())?;
        Ok(())
    }

    /// Removes `activity`'s row and its place in its section's order.
    pub(crate) fn delete_activity_row(&mut self, activity: &Activity) -> Result<()> {
        self.activities.remove(activity.id.0)?;
        let mut order = self.section_activity_ids(activity.section)?;
        order.retain(|&a| a != activity.id);
        self.set_section_activity_order(activity.section, &order)
    }

    pub(crate) fn put_grouping(&mut self, grouping: &Grouping) -> Result<()> {
        self.groupings
            .insert(grouping.id.0, encode(grouping).as_slice())?;
        self.course_groupings
            .insert((grouping.course.0, grouping.id.0), ())?;
        Ok(())
    }

    /// Removes `grouping` and its group rows.
    pub(crate) fn delete_grouping_row(&mut self, grouping: &Grouping) -> Result<()> {
        for group in self.grouping_group_ids(grouping.id)? {
            self.remove_grouping_group(grouping.id, group)?;
        }
        self.groupings.remove(grouping.id.0)?;
        self.course_groupings
            .remove((grouping.course.0, grouping.id.0))?;
        Ok(())
    }

    /// Puts `group` in `grouping`; whether it was not in it yet.
    pub(crate) fn add_grouping_group(
        &mut self,
        grouping: GroupingId,
        group: CourseGroupId,
    ) -> Result<bool> {
        let new = self
            .grouping_groups
            .insert((grouping.0, group.0), ())?
            .is_none();
        self.group_groupings.insert((group.0, grouping.0), ())?;
        Ok(new)
    }

    /// Takes `group` out of `grouping`; whether it was in it.
    pub(crate) fn remove_grouping_group(
        &mut self,
        grouping: GroupingId,
        group: CourseGroupId,
    ) -> Result<bool> {
        let was = self
            .grouping_groups
            .remove((grouping.0, group.0))?
            .is_some();
        self.group_groupings.remove((group.0, grouping.0))?;
        Ok(was)
    }

    pub(crate) fn put_site_privacy(&mut self, privacy: &SitePrivacy) -> Result<()> {
        self.settings
            .insert(PRIVACY_SETTING, encode(privacy).as_slice())?;
        Ok(())
    }
}
