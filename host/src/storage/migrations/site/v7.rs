//! Site schema version 7: one-off mass enrolments of a segment's members
//! into a course, kept so they can be shown and undone.

use redb::{TableDefinition, WriteTransaction};

use crate::storage::Result;

/// `MassEnrolmentId → MassEnrolment` (postcard).
const MASS_ENROLMENTS: TableDefinition<u64, &[u8]> = TableDefinition::new("mass-enrolments-v1");
/// `MassEnrolmentId → MassEnrolmentUsers` (postcard).
const MASS_ENROLMENT_USERS: TableDefinition<u64, &[u8]> =
    TableDefinition::new("mass-enrolment-users-v1");
/// `(CourseId, MassEnrolmentId) → ()`.
const COURSE_MASS_ENROLMENTS: TableDefinition<(u64, u64), ()> =
    TableDefinition::new("course-mass-enrolments-v1");
/// `(SegmentId, MassEnrolmentId) → ()`.
const SEGMENT_MASS_ENROLMENTS: TableDefinition<(u64, u64), ()> =
    TableDefinition::new("segment-mass-enrolments-v1");

/// Creates the mass-enrolment tables, empty: before this version there
/// was no mass enrolment to carry over (the CSV import and the methods
/// leave no such record).
pub(super) fn add_mass_enrolments(tx: &WriteTransaction) -> Result<()> {
    tx.open_table(MASS_ENROLMENTS)?;
    tx.open_table(MASS_ENROLMENT_USERS)?;
    tx.open_table(COURSE_MASS_ENROLMENTS)?;
    tx.open_table(SEGMENT_MASS_ENROLMENTS)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testing::Migrated;
    use crate::domain::{CourseId, MassEnrolmentId, SegmentId};
    use crate::storage::site::prelude::*;

    /// Migration 7 on a version-6 file: the new tables appear empty.
    #[test]
    fn migration_7_adds_empty_mass_enrolment_tables() {
        let file = Migrated::from(6, |_| {});
        assert_eq!(file.applied, vec![7, 8, 9, 10, 11, 12, 13, 14, 15]);
        let t = file.tables();
        assert_eq!(t.mass_enrolment(MassEnrolmentId(1)).unwrap(), None);
        assert_eq!(
            t.mass_enrolment_user_lists(MassEnrolmentId(1)).unwrap(),
            None
        );
        assert!(
            t.course_mass_enrolment_list(CourseId(1))
                .unwrap()
                .is_empty()
        );
        assert!(
            t.segment_mass_enrolment_list(SegmentId(1))
                .unwrap()
                .is_empty()
        );
        let names = file.table_names();
        for table in [
            "mass-enrolments-v1",
            "mass-enrolment-users-v1",
            "course-mass-enrolments-v1",
            "segment-mass-enrolments-v1",
        ] {
            assert!(names.contains(&table.to_owned()), "{table} missing");
        }
    }
}
