//! Site schema version 13: a user's grade values in a course become one
//! row (`course-user-grades-v3`, FORMAT.md §9) instead of one row per
//! grade, so the per-group statistics scan 10,000 rows for a course of
//! 10,000 learners, not 500,000.

use redb::{ReadableTable, TableDefinition, WriteTransaction};

use super::v12;
use crate::storage::Result;

pub(super) const COURSE_USER_GRADES: TableDefinition<(u64, u64), &[u8]> =
    TableDefinition::new("course-user-grades-v3");

/// A frozen copy of the row encoding: 16-byte cells in item order, the
/// item id then the value's bits (a NaN for an entry without a value),
/// both little-endian.
fn push_cell(row: &mut Vec<u8>, item: u64, value: Option<f64>) {
    row.extend_from_slice(&item.to_le_bytes());
    row.extend_from_slice(&value.unwrap_or(f64::NAN).to_bits().to_le_bytes());
}

pub(super) fn pack_grade_rows(tx: &WriteTransaction) -> Result<()> {
    {
        let old = tx.open_table(v12::COURSE_USER_GRADES)?;
        let mut new = tx.open_table(COURSE_USER_GRADES)?;
        // The old keys run (course, user, item) in order: a user's cells
        // are consecutive and already sorted by item.
        let mut current: Option<(u64, u64)> = None;
        let mut row = Vec::new();
        for entry in old.iter()? {
            let (k, v) = entry?;
            let (course, user, item) = k.value();
            if current != Some((course, user)) {
                if let Some(key) = current {
                    new.insert(key, row.as_slice())?;
                }
                current = Some((course, user));
                row.clear();
            }
            push_cell(&mut row, item, v.value());
        }
        if let Some(key) = current {
            new.insert(key, row.as_slice())?;
        }
    }
    tx.delete_table(v12::COURSE_USER_GRADES)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testing::Migrated;
    use super::*;
    use crate::domain::*;
    use crate::storage::site::prelude::*;

    /// Migration 13 on a version-12 file: each user's grades in each
    /// course, values and feedback-only entries alike, in one row.
    #[test]
    fn migration_13_packs_each_users_grades_into_one_row() {
        let file = Migrated::from(12, |tx| {
            let mut index = tx.open_table(v12::COURSE_USER_GRADES).unwrap();
            index.insert((1, 7, 4), Some(12.5)).unwrap();
            index.insert((1, 7, 6), None).unwrap();
            index.insert((1, 8, 4), Some(3.0)).unwrap();
            index.insert((2, 7, 9), Some(0.0)).unwrap();
        });
        assert_eq!(file.applied, vec![13, 14, 15]);
        assert!(
            !file
                .table_names()
                .contains(&"course-user-grades-v2".to_owned())
        );
        let t = file.tables();
        assert_eq!(
            t.course_grade_values(CourseId(1), UserId(7)).unwrap(),
            [(GradeItemId(4), Some(12.5)), (GradeItemId(6), None)]
        );
        assert_eq!(
            t.course_grade_values(CourseId(2), UserId(7)).unwrap(),
            [(GradeItemId(9), Some(0.0))]
        );
        let mut users = Vec::new();
        t.course_grade_rows(CourseId(1), |u, cells| users.push((u, cells.len())))
            .unwrap();
        assert_eq!(users, [(UserId(7), 2), (UserId(8), 1)]);
    }
}
