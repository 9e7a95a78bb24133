//! The `user-courses` rows: a user's courses, each with the user's groups
//! there, and the edit buffer that writes each row once per transaction.
//!
//! A row's value is its group ids as little-endian u64s, ascending, with
//! no length (the row's length says how many). Enrolment and membership
//! writes record what they did to a row as a [`UserCourseEdit`];
//! readers inside the transaction apply the edits to what the table holds
//! (`rows_of`, `groups_in`), and `flush` writes each touched row once.
//! This module owns the row layout and the edits; it never decides who is
//! enrolled (the write functions of `write/` do).

use redb::ReadableTable;

use super::SiteTables;
use super::read::{SiteTablesRead, Unflushed};
use crate::domain::{CourseGroupId, CourseId, UserId};
use crate::storage::{Result, StorageError};

/// What a write transaction did to one `user_courses` row, applied to the
/// row by `flush` (and by the readers in between): the user's first
/// enrolment in the course, their last one gone, groups added and removed.
/// Kept as changes rather than the row's new value so that the common
/// case — a new enrolment, then a group — writes the row without reading
/// it first. A row lives while the user has an enrolment or a group in
/// the course: the groups of a user whose last enrolment just went stay
/// findable until they are removed (`unenrol_in` removes them next).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UserCourseEdit {
    /// The user's last enrolment in the course went.
    unenrolled: bool,
    /// The user has an enrolment in the course (made in this transaction).
    enrolled: bool,
    add: Vec<u64>,
    remove: Vec<u64>,
}

impl UserCourseEdit {
    /// The user's first enrolment in the course was made.
    fn enrol(&mut self) {
        self.enrolled = true;
    }

    fn unenrol(&mut self) {
        self.unenrolled = true;
        self.enrolled = false;
    }

    fn add_group(&mut self, group: u64) {
        self.remove.retain(|g| *g != group);
        if !self.add.contains(&group) {
            self.add.push(group);
        }
    }

    fn remove_group(&mut self, group: u64) {
        self.add.retain(|g| *g != group);
        if !self.remove.contains(&group) {
            self.remove.push(group);
        }
    }

    /// The row after this edit (its groups; `None`: no row), from the
    /// row before it.
    fn apply(&self, before: Option<Vec<u64>>) -> Option<Vec<u64>> {
        let enrolled = self.enrolled || (before.is_some() && !self.unenrolled);
        let mut groups = before.unwrap_or_default();
        groups.retain(|g| !self.remove.contains(g));
        for g in &self.add {
            if !groups.contains(g) {
                groups.push(*g);
            }
        }
        groups.sort_unstable();
        (enrolled || !groups.is_empty()).then_some(groups)
    }
}

fn pack_groups(groups: &[u64]) -> Vec<u8> {
    groups.iter().flat_map(|g| g.to_le_bytes()).collect()
}

fn unpack_groups(bytes: &[u8]) -> Result<Vec<u64>> {
    if !bytes.len().is_multiple_of(8) {
        return Err(StorageError::Corrupt {
            table: "user-courses",
            reason: format!("a row of {} bytes is not a list of ids", bytes.len()),
        });
    }
    Ok(bytes
        .chunks_exact(8)
        .map(|c| {
            let mut id = [0; 8];
            id.copy_from_slice(c);
            u64::from_le_bytes(id)
        })
        .collect())
}

/// `user`'s rows, by course, as this transaction sees them: the table's
/// rows with its unflushed edits applied.
pub(super) fn rows_of(
    t: &(impl SiteTablesRead + Unflushed + ?Sized),
    user: UserId,
) -> Result<Vec<(CourseId, Vec<CourseGroupId>)>> {
    let mut rows = std::collections::BTreeMap::new();
    for row in t.user_courses()?.range((user.0, 0)..=(user.0, u64::MAX))? {
        let (k, v) = row?;
        rows.insert(k.value().1, unpack_groups(v.value())?);
    }
    for (course, edit) in t.user_course_edits(user.0) {
        match edit.apply(rows.remove(&course)) {
            Some(groups) => rows.insert(course, groups),
            None => None,
        };
    }
    Ok(rows
        .into_iter()
        .map(|(c, groups)| (CourseId(c), groups.into_iter().map(CourseGroupId).collect()))
        .collect())
}

/// `user`'s groups in `course`, as this transaction sees them.
pub(super) fn groups_in(
    t: &(impl SiteTablesRead + Unflushed + ?Sized),
    course: CourseId,
    user: UserId,
) -> Result<Vec<CourseGroupId>> {
    let before = match t.user_courses()?.get((user.0, course.0))? {
        Some(g) => Some(unpack_groups(g.value())?),
        None => None,
    };
    let edit = t
        .user_course_edits(user.0)
        .into_iter()
        .find(|(c, _)| *c == course.0);
    let groups = match edit {
        Some((_, edit)) => edit.apply(before),
        None => before,
    };
    Ok(groups
        .unwrap_or_default()
        .into_iter()
        .map(CourseGroupId)
        .collect())
}

impl SiteTables<'_> {
    /// This transaction's edit of `user`'s row of `course`.
    fn user_course_edit(&mut self, user: UserId, course: CourseId) -> &mut UserCourseEdit {
        self.user_course_edits
            .entry((user.0, course.0))
            .or_default()
    }

    /// Notes `user`'s first enrolment in `course`.
    pub(super) fn note_enrolled(&mut self, user: UserId, course: CourseId) {
        self.user_course_edit(user, course).enrol();
    }

    /// Notes that `user`'s last enrolment in `course` went.
    pub(super) fn note_unenrolled(&mut self, user: UserId, course: CourseId) {
        self.user_course_edit(user, course).unenrol();
    }

    pub(super) fn note_group_added(
        &mut self,
        user: UserId,
        course: CourseId,
        group: CourseGroupId,
    ) {
        self.user_course_edit(user, course).add_group(group.0);
    }

    pub(super) fn note_group_removed(
        &mut self,
        user: UserId,
        course: CourseId,
        group: CourseGroupId,
    ) {
        self.user_course_edit(user, course).remove_group(group.0);
    }

    /// This transaction's unflushed edits of `user`'s rows, by course.
    pub(super) fn user_course_edits_of(&self, user: u64) -> Vec<(u64, &UserCourseEdit)> {
        self.user_course_edits
            .range((user, 0)..=(user, u64::MAX))
            .map(|(&(_, course), edit)| (course, edit))
            .collect()
    }

    /// Writes the transaction's `user_courses` changes. A row that only
    /// gained (a new enrolment, a group) is written without being read:
    /// written as if new, and in the rare case there was a row, written
    /// again merged with it.
    pub(super) fn flush_user_courses(&mut self) -> Result<()> {
        for ((user, course), edit) in std::mem::take(&mut self.user_course_edits) {
            let key = (user, course);
            if edit.unenrolled || !edit.remove.is_empty() {
                let before = match self.user_courses.get(key)? {
                    Some(g) => Some(unpack_groups(g.value())?),
                    None => None,
                };
                match edit.apply(before) {
                    Some(groups) => {
                        self.user_courses
                            .insert(key, pack_groups(&groups).as_slice())?;
                    }
                    None => {
                        self.user_courses.remove(key)?;
                    }
                }
                continue;
            }
            let Some(groups) = edit.apply(None) else {
                continue;
            };
            let old = self
                .user_courses
                .insert(key, pack_groups(&groups).as_slice())?
                .map(|g| g.value().to_vec());
            if let Some(old) = old
                && !old.is_empty()
                && let Some(merged) = edit.apply(Some(unpack_groups(&old)?))
            {
                self.user_courses
                    .insert(key, pack_groups(&merged).as_slice())?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::*;
    use crate::storage::StorageError;
    use crate::storage::site::prelude::*;
    use crate::storage::site::tests::store;

    /// `user_courses` holds a course while the user has any enrolment in
    /// it, however many methods: a user's enrolments, groups and a
    /// method's enrolments are all read through it or the course's rows.
    #[test]
    fn a_users_course_is_indexed_while_any_method_enrols_them() {
        let (_dir, store) = store();
        let (u, other) = (UserId(7), UserId(8));
        let (c1, c2) = (CourseId(1), CourseId(2));
        let (m1, m2, m3) = (
            EnrolmentMethodId(3),
            EnrolmentMethodId(4),
            EnrolmentMethodId(5),
        );
        let enrolment = |course, user, method| Enrolment {
            course,
            user,
            method,
            role: Some(Role::Learner),
            status: EnrolmentStatus::Active,
            created_at: Timestamp(1),
            updated_at: Timestamp(1),
        };
        store
            .write(|t| {
                t.put_enrolment(&enrolment(c1, u, m1))?;
                assert!(
                    t.insert_enrolment_if_absent(&enrolment(c1, u, m2))?
                        .is_none()
                );
                // Already there: answered, not written again.
                assert!(
                    t.insert_enrolment_if_absent(&enrolment(c1, u, m2))?
                        .is_some()
                );
                t.put_enrolment(&enrolment(c2, u, m3))?;
                t.put_enrolment(&enrolment(c1, other, m2))?;
                // An update of an existing enrolment.
                t.put_enrolment(&Enrolment {
                    status: EnrolmentStatus::Suspended,
                    ..enrolment(c2, u, m3)
                })?;
                t.put_group(&CourseGroup {
                    id: CourseGroupId(10),
                    course: c1,
                    name: "Team".into(),
                    idnumber: None,
                    description: String::new(),
                    created_at: Timestamp(1),
                })?;
                t.add_group_member_if_absent(
                    c1,
                    &GroupMembership {
                        group: CourseGroupId(10),
                        user: u,
                        owner: MembershipOwner::Manual,
                        added_at: Timestamp(1),
                    },
                )?;
                // Read back inside the transaction, before `flush`.
                assert_eq!(t.user_course_ids(u)?, [c1, c2]);
                assert_eq!(t.user_group_ids_in(c1, u)?, [CourseGroupId(10)]);
                Ok::<_, StorageError>(())
            })
            .unwrap();
        let t = store.read_tables().unwrap();
        assert_eq!(t.user_course_ids(u).unwrap(), [c1, c2]);
        let keys = |list: Vec<Enrolment>| -> Vec<_> {
            list.iter()
                .map(|e| (e.course, e.method, e.status))
                .collect()
        };
        assert_eq!(
            keys(t.user_enrolment_list(u).unwrap()),
            [
                (c1, m1, EnrolmentStatus::Active),
                (c1, m2, EnrolmentStatus::Active),
                (c2, m3, EnrolmentStatus::Suspended)
            ]
        );
        assert_eq!(t.user_group_ids(u).unwrap(), [CourseGroupId(10)]);
        assert_eq!(
            t.method_enrolment_user_ids(c1, m2, None, 10).unwrap(),
            [u, other]
        );
        assert_eq!(
            t.method_enrolment_user_ids(c1, m2, Some(u), 10).unwrap(),
            [other]
        );
        assert_eq!(t.method_enrolment_user_ids(c1, m2, None, 1).unwrap(), [u]);
        let page = t.method_enrolments_page(c1, m1, None, 10).unwrap();
        assert_eq!(keys(page), [(c1, m1, EnrolmentStatus::Active)]);
        let counts = t.method_enrolment_counts(c1).unwrap();
        assert_eq!((counts[&m1], counts[&m2], counts.get(&m3)), (1, 2, None));
        drop(t);

        // One of two methods goes: the course stays; the last: it goes.
        store
            .write(|t| {
                assert!(t.delete_enrolment_row(c1, u, m1)?);
                assert!(!t.delete_enrolment_row(c1, u, m1)?);
                Ok::<_, StorageError>(())
            })
            .unwrap();
        assert_eq!(
            store.read_tables().unwrap().user_course_ids(u).unwrap(),
            [c1, c2]
        );
        // The last enrolment goes; the group stays findable until it is
        // removed too (as `unenrol_in` does next), then the row goes.
        store
            .write(|t| {
                t.delete_enrolment_row(c1, u, m2)?;
                assert_eq!(t.user_group_ids_in(c1, u)?, [CourseGroupId(10)]);
                t.delete_group_member(c1, CourseGroupId(10), u)?;
                assert_eq!(t.user_course_ids(u)?, [c2]);
                Ok::<_, StorageError>(())
            })
            .unwrap();
        let t = store.read_tables().unwrap();
        assert_eq!(t.user_course_ids(u).unwrap(), [c2]);
        assert!(t.user_group_ids(u).unwrap().is_empty());
        assert_eq!(t.user_course_ids(other).unwrap(), [c1]);
    }

    /// An edit of a `user_courses` row composes as its changes happened in
    /// order, whatever the row was before.
    #[test]
    fn user_course_edits_compose_in_order() {
        let mut e = UserCourseEdit::default();
        assert_eq!(e.apply(None), None);
        assert_eq!(e.apply(Some(vec![3])), Some(vec![3]));
        e.enrolled = true;
        e.add_group(5);
        assert_eq!(e.apply(None), Some(vec![5]));
        assert_eq!(e.apply(Some(vec![9, 1])), Some(vec![1, 5, 9]));
        e.remove_group(5);
        e.remove_group(9);
        assert_eq!(e.apply(Some(vec![9, 1])), Some(vec![1]));
        e.add_group(9);
        assert_eq!(e.apply(Some(vec![9, 1])), Some(vec![1, 9]));
        // Unenrolled with a group left: the row stays for the group.
        e.unenrol();
        assert_eq!(e.apply(Some(vec![1])), Some(vec![1, 9]));
        e.remove_group(9);
        e.remove_group(1);
        assert_eq!(e.apply(Some(vec![1])), None);
        // Enrolled again in the same transaction.
        e.enrolled = true;
        assert_eq!(e.apply(Some(vec![1])), Some(vec![]));
    }
}
