//! Writes of course groups, their name and idnumber indexes, members and
//! member counts; each membership change is noted on the user's
//! `user-courses` row (written by `flush`).

use crate::domain::{CourseGroup, CourseGroupId, CourseId, GroupMembership, UserId};
use crate::storage::site::SiteTables;
use crate::storage::site::counters::Counter;
use crate::storage::site::read::GroupRead;
use crate::storage::{Result, encode};

impl SiteTables<'_> {
    pub(crate) fn new_group_id(&mut self) -> Result<CourseGroupId> {
        Ok(CourseGroupId(self.next_id(Counter::Group)?))
    }

    pub(crate) fn put_group(&mut self, group: &CourseGroup) -> Result<()> {
        if let Some(old) = self.group(group.id)? {
            self.group_names
                .remove((old.course.0, old.name.to_lowercase().as_str()))?;
            if let Some(idn) = &old.idnumber {
                self.group_idnumbers.remove((old.course.0, idn.as_str()))?;
            }
        }
        self.groups.insert(group.id.0, encode(group).as_slice())?;
        self.course_groups
            .insert((group.course.0, group.id.0), ())?;
        self.group_names.insert(
            (group.course.0, group.name.to_lowercase().as_str()),
            group.id.0,
        )?;
        if let Some(idn) = &group.idnumber {
            self.group_idnumbers
                .insert((group.course.0, idn.as_str()), group.id.0)?;
        }
        Ok(())
    }

    pub(crate) fn delete_group_row(&mut self, group: &CourseGroup) -> Result<()> {
        self.forget_method_group(group.id)?;
        self.groups.remove(group.id.0)?;
        self.group_member_counts.remove(group.id.0)?;
        self.group_count_deltas.remove(&group.id.0);
        self.course_groups.remove((group.course.0, group.id.0))?;
        self.group_names
            .remove((group.course.0, group.name.to_lowercase().as_str()))?;
        if let Some(idn) = &group.idnumber {
            self.group_idnumbers
                .remove((group.course.0, idn.as_str()))?;
        }
        Ok(())
    }

    /// Adds a membership unless `(group, user)` has one already, which is
    /// then kept as it is (its owner too): whether it was added. One
    /// B-tree descent for the common case, a new member (see
    /// `insert_enrolment_if_absent`).
    pub(crate) fn add_group_member_if_absent(
        &mut self,
        course: CourseId,
        m: &GroupMembership,
    ) -> Result<bool> {
        let key = (m.group.0, m.user.0);
        let old = self
            .group_members
            .insert(key, encode(m).as_slice())?
            .map(|g| g.value().to_vec());
        if let Some(old) = old {
            self.group_members.insert(key, old.as_slice())?;
            return Ok(false);
        }
        self.note_group_added(m.user, course, m.group);
        *self.group_count_deltas.entry(m.group.0).or_default() += 1;
        Ok(true)
    }

    pub(crate) fn delete_group_member(
        &mut self,
        course: CourseId,
        group: CourseGroupId,
        user: UserId,
    ) -> Result<bool> {
        let existed = self.group_members.remove((group.0, user.0))?.is_some();
        if existed {
            self.note_group_removed(user, course, group);
            *self.group_count_deltas.entry(group.0).or_default() -= 1;
        }
        Ok(existed)
    }
}
