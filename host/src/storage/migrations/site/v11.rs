//! Site schema version 11: assignments, their submissions, the
//! content-addressed store of submitted files, and grade items and
//! entries (what the gradebook of issue 19 reads).

use redb::{TableDefinition, WriteTransaction};

use crate::storage::Result;

const ASSIGNMENTS: TableDefinition<u64, &[u8]> = TableDefinition::new("assignments-v1");
const SUBMISSIONS: TableDefinition<u64, &[u8]> = TableDefinition::new("submissions-v1");
const ASSIGNMENT_SUBMISSIONS: TableDefinition<(u64, u8, u64), u64> =
    TableDefinition::new("assignment-submissions-v1");
const FILES: TableDefinition<[u8; 32], (u64, u64)> = TableDefinition::new("files-v1");
const FILE_CHUNKS: TableDefinition<([u8; 32], u32), &[u8]> = TableDefinition::new("file-chunks-v1");
pub(super) const GRADE_ITEMS: TableDefinition<u64, &[u8]> = TableDefinition::new("grade-items-v1");
pub(super) const COURSE_GRADE_ITEMS: TableDefinition<(u64, u64), ()> =
    TableDefinition::new("course-grade-items-v1");
pub(super) const GRADE_ENTRIES: TableDefinition<(u64, u64), &[u8]> =
    TableDefinition::new("grade-entries-v1");
pub(super) const COURSE_USER_GRADES: TableDefinition<(u64, u64, u64), ()> =
    TableDefinition::new("course-user-grades-v1");

/// Creates the assignment and grade tables, empty: before this version a
/// site had no activities to submit to.
pub(super) fn add_assignments(tx: &WriteTransaction) -> Result<()> {
    tx.open_table(ASSIGNMENTS)?;
    tx.open_table(SUBMISSIONS)?;
    tx.open_table(ASSIGNMENT_SUBMISSIONS)?;
    tx.open_table(FILES)?;
    tx.open_table(FILE_CHUNKS)?;
    tx.open_table(GRADE_ITEMS)?;
    tx.open_table(COURSE_GRADE_ITEMS)?;
    tx.open_table(GRADE_ENTRIES)?;
    tx.open_table(COURSE_USER_GRADES)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testing::Migrated;

    /// Migration 11 on a version-10 file: the new tables appear, empty.
    #[test]
    fn migration_11_adds_the_assignment_tables() {
        let file = Migrated::from(10, |_| {});
        assert_eq!(file.applied, vec![11, 12, 13, 14, 15]);
        let names = file.table_names();
        for table in [
            "assignments-v1",
            "submissions-v1",
            "assignment-submissions-v1",
            "files-v1",
            "file-chunks-v1",
            "grade-items-v2",
            "course-grade-items-v1",
            "grade-entries-v1",
            "course-user-grades-v3",
        ] {
            assert!(names.contains(&table.to_owned()), "{table} missing");
        }
    }
}
