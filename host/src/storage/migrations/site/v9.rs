//! Site schema version 9: what a course teaches — its sections, their
//! activities, and the groupings that restrict who sees an activity.

use redb::{TableDefinition, WriteTransaction};

use crate::storage::Result;

const COURSE_SECTIONS: TableDefinition<u64, &[u8]> = TableDefinition::new("course-sections-v1");
const COURSE_SECTION_ORDER: TableDefinition<u64, &[u8]> =
    TableDefinition::new("course-section-order-v1");
const ACTIVITIES: TableDefinition<u64, &[u8]> = TableDefinition::new("activities-v1");
const SECTION_ACTIVITY_ORDER: TableDefinition<u64, &[u8]> =
    TableDefinition::new("section-activity-order-v1");
const GROUPINGS: TableDefinition<u64, &[u8]> = TableDefinition::new("groupings-v1");
const COURSE_GROUPINGS: TableDefinition<(u64, u64), ()> =
    TableDefinition::new("course-groupings-v1");
const GROUPING_GROUPS: TableDefinition<(u64, u64), ()> = TableDefinition::new("grouping-groups-v1");
const GROUP_GROUPINGS: TableDefinition<(u64, u64), ()> = TableDefinition::new("group-groupings-v1");

/// Creates the content tables, empty: before this version a course held
/// enrolments and groups only.
pub(super) fn add_course_content(tx: &WriteTransaction) -> Result<()> {
    tx.open_table(COURSE_SECTIONS)?;
    tx.open_table(COURSE_SECTION_ORDER)?;
    tx.open_table(ACTIVITIES)?;
    tx.open_table(SECTION_ACTIVITY_ORDER)?;
    tx.open_table(GROUPINGS)?;
    tx.open_table(COURSE_GROUPINGS)?;
    tx.open_table(GROUPING_GROUPS)?;
    tx.open_table(GROUP_GROUPINGS)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testing::Migrated;

    /// Migration 9 on a version-8 file: the new tables appear, empty.
    #[test]
    fn migration_9_adds_the_course_content_tables() {
        let file = Migrated::from(8, |_| {});
        assert_eq!(file.applied, vec![9, 10, 11, 12, 13, 14, 15]);
        let names = file.table_names();
        for table in [
            "course-sections-v1",
            "course-section-order-v1",
            "activities-v1",
            "section-activity-order-v1",
            "groupings-v1",
            "course-groupings-v1",
            "grouping-groups-v1",
            "group-groupings-v1",
        ] {
            assert!(names.contains(&table.to_owned()), "{table} missing");
        }
    }
}
