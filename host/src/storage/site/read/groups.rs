//! Queries about course groups and their members; a user's groups are
//! read through their courses (`user-courses`).

use redb::ReadableTable;

use super::{EnrolmentRead, SiteTablesRead, Unflushed, get_record, pair_after, pair_prefix};
use crate::domain::{CourseGroup, CourseGroupId, CourseId, GroupMembership, UserId};
use crate::storage::site::user_courses;
use crate::storage::{Result, decode};

/// Course groups and their members.
pub trait GroupRead: EnrolmentRead {
    fn group(&self, id: CourseGroupId) -> Result<Option<CourseGroup>> {
        get_record(self.groups()?, "course-groups", id.0)
    }

    fn group_id_by_name(&self, course: CourseId, name: &str) -> Result<Option<CourseGroupId>> {
        let key = name.to_lowercase();
        Ok(self
            .group_names()?
            .get((course.0, key.as_str()))?
            .map(|g| CourseGroupId(g.value())))
    }

    fn group_id_by_idnumber(
        &self,
        course: CourseId,
        idnumber: &str,
    ) -> Result<Option<CourseGroupId>> {
        Ok(self
            .group_idnumbers()?
            .get((course.0, idnumber))?
            .map(|g| CourseGroupId(g.value())))
    }

    fn course_group_list(&self, course: CourseId) -> Result<Vec<CourseGroup>> {
        let mut out = Vec::new();
        for row in self.course_groups()?.range(pair_prefix(course.0))? {
            let (k, _) = row?;
            if let Some(g) = self.group(CourseGroupId(k.value().1))? {
                out.push(g);
            }
        }
        Ok(out)
    }

    fn group_membership(
        &self,
        group: CourseGroupId,
        user: UserId,
    ) -> Result<Option<GroupMembership>> {
        match self.group_members()?.get((group.0, user.0))? {
            Some(g) => Ok(Some(decode("course-group-members", g.value())?)),
            None => Ok(None),
        }
    }

    fn group_members_page(
        &self,
        group: CourseGroupId,
        after: Option<UserId>,
        limit: usize,
    ) -> Result<Vec<GroupMembership>> {
        let mut out = Vec::new();
        for row in self
            .group_members()?
            .range(pair_after(group.0, after.map(|u| u.0)))?
        {
            if out.len() >= limit {
                break;
            }
            let (_, v) = row?;
            out.push(decode("course-group-members", v.value())?);
        }
        Ok(out)
    }

    /// The members of `group` in user order, from the keys alone.
    fn group_member_ids(&self, group: CourseGroupId) -> Result<Vec<UserId>> {
        let mut out = Vec::new();
        for row in self.group_members()?.range(pair_after(group.0, None))? {
            out.push(UserId(row?.0.value().1));
        }
        Ok(out)
    }

    fn group_member_count(&self, group: CourseGroupId) -> Result<u64> {
        Ok(self
            .group_member_counts()?
            .get(group.0)?
            .map_or(0, |g| g.value()))
    }

    /// The groups of `course` that have `user` as a member.
    fn user_group_ids_in(&self, course: CourseId, user: UserId) -> Result<Vec<CourseGroupId>> {
        user_courses::groups_in(self, course, user)
    }

    /// Every group that has `user` as a member.
    fn user_group_ids(&self, user: UserId) -> Result<Vec<CourseGroupId>> {
        Ok(self
            .user_course_rows(user)?
            .into_iter()
            .flat_map(|(_, groups)| groups)
            .collect())
    }
}

impl<T: SiteTablesRead + Unflushed> GroupRead for T {}
