//! Site schema version 5: one reverse index of enrolments and group
//! memberships, a user's courses.

use std::collections::{BTreeMap, HashMap};

use redb::{ReadableTable, TableDefinition, WriteTransaction};

use super::v1;
use crate::storage::Result;

/// `(UserId, CourseId) → [CourseGroupId]` as little-endian u64s,
/// ascending.
pub(super) const USER_COURSES: TableDefinition<(u64, u64), &[u8]> =
    TableDefinition::new("user-courses-v1");

/// Builds `user-courses-v1` (a user's courses, each with their groups
/// there) from the enrolments and memberships, and deletes the three
/// indexes it replaces: a method's enrolments are now read from its
/// course's rows, a user's groups through their courses. Three index rows
/// per enrolled group member became one, which is what a 100,000-member
/// sync spent most of its time writing. Reads keys only: no record is
/// decoded.
pub(super) fn index_user_courses(tx: &WriteTransaction) -> Result<()> {
    {
        let mut rows: BTreeMap<(u64, u64), Vec<u64>> = BTreeMap::new();
        for row in tx.open_table(v1::ENROLMENTS)?.iter()? {
            let (course, user, _) = row?.0.value();
            rows.entry((user, course)).or_default();
        }
        let mut course_of = HashMap::new();
        for row in tx.open_table(v1::COURSE_GROUPS)?.iter()? {
            let (course, group) = row?.0.value();
            course_of.insert(group, course);
        }
        for row in tx.open_table(v1::GROUP_MEMBERS)?.iter()? {
            let (group, user) = row?.0.value();
            if let Some(&course) = course_of.get(&group) {
                rows.entry((user, course)).or_default().push(group);
            }
        }
        let mut index = tx.open_table(USER_COURSES)?;
        for (key, groups) in rows {
            let bytes: Vec<u8> = groups.iter().flat_map(|g| g.to_le_bytes()).collect();
            index.insert(key, bytes.as_slice())?;
        }
    }
    tx.delete_table(v1::METHOD_ENROLMENTS)?;
    tx.delete_table(v1::USER_ENROLMENTS)?;
    tx.delete_table(v1::USER_GROUPS)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testing::Migrated;
    use super::*;
    use crate::domain::*;
    use crate::storage::encode;
    use crate::storage::site::prelude::*;

    /// Migration 5 on a version-4 file: each user's courses are indexed
    /// once whatever the number of methods, a user's groups and enrolments
    /// and a method's enrolments read as before, and the old indexes are
    /// gone.
    #[test]
    fn migration_5_indexes_each_users_courses_and_drops_the_old_indexes() {
        let enrolment = |course: u64, user: u64, method: u64| Enrolment {
            course: CourseId(course),
            user: UserId(user),
            method: EnrolmentMethodId(method),
            role: Some(Role::Learner),
            status: EnrolmentStatus::Active,
            created_at: Timestamp(1),
            updated_at: Timestamp(1),
        };
        // User 7: two methods in course 1, one in course 2, a member of
        // group 10 of course 1. User 8: course 2 only.
        let rows = [(1, 7, 3), (1, 7, 4), (2, 7, 5), (2, 8, 5)];
        let file = Migrated::from(4, |tx| {
            let mut enrolments = tx.open_table(v1::ENROLMENTS).unwrap();
            let mut by_method = tx.open_table(v1::METHOD_ENROLMENTS).unwrap();
            let mut by_user = tx.open_table(v1::USER_ENROLMENTS).unwrap();
            for (c, u, m) in rows {
                enrolments
                    .insert((c, u, m), encode(&enrolment(c, u, m)).as_slice())
                    .unwrap();
                by_method.insert((m, u), ()).unwrap();
                by_user.insert((u, c, m), ()).unwrap();
            }
            let membership = GroupMembership {
                group: CourseGroupId(10),
                user: UserId(7),
                owner: MembershipOwner::Manual,
                added_at: Timestamp(1),
            };
            tx.open_table(v1::GROUP_MEMBERS)
                .unwrap()
                .insert((10, 7), encode(&membership).as_slice())
                .unwrap();
            tx.open_table(v1::COURSE_GROUPS)
                .unwrap()
                .insert((1, 10), ())
                .unwrap();
            tx.open_table(v1::USER_GROUPS)
                .unwrap()
                .insert((7, 10), ())
                .unwrap();
        });
        assert_eq!(file.applied, vec![5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
        let names = file.table_names();
        for old in [
            "method-enrolments-v1",
            "user-enrolments-v1",
            "user-course-groups-v1",
        ] {
            assert!(!names.contains(&old.to_owned()), "{old} in {names:?}");
        }
        let t = file.tables();
        assert_eq!(
            t.user_course_ids(UserId(7)).unwrap(),
            [CourseId(1), CourseId(2)]
        );
        assert_eq!(t.user_course_ids(UserId(8)).unwrap(), [CourseId(2)]);
        let mine: Vec<_> = t
            .user_enrolment_list(UserId(7))
            .unwrap()
            .into_iter()
            .map(|e| (e.course.0, e.user.0, e.method.0))
            .collect();
        assert_eq!(mine, rows[..3]);
        assert_eq!(t.user_group_ids(UserId(7)).unwrap(), [CourseGroupId(10)]);
        assert!(t.user_group_ids(UserId(8)).unwrap().is_empty());
        assert_eq!(
            t.method_enrolment_user_ids(CourseId(2), EnrolmentMethodId(5), None, 10)
                .unwrap(),
            [UserId(7), UserId(8)]
        );
    }
}
