//! Site schema version 12: the gradebook. Grade items gain what manual
//! items, categories and totals need, every course gets its course-total
//! item, and a user's grades in a course carry their values so the grader
//! report and the per-group statistics read no entry record.

use redb::{ReadableTable, TableDefinition, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::{v1, v11};
use crate::storage::{Result, decode, encode};

pub(super) const GRADE_ITEMS: TableDefinition<u64, &[u8]> = TableDefinition::new("grade-items-v2");
pub(super) const COURSE_USER_GRADES: TableDefinition<(u64, u64, u64), Option<f64>> =
    TableDefinition::new("course-user-grades-v2");

/// Frozen copies of the records this migration reads and writes.
mod frozen {
    use super::*;

    #[derive(Serialize, Deserialize)]
    pub(super) enum SourceV1 {
        Assignment(u64),
    }

    #[derive(Serialize, Deserialize)]
    pub(super) struct ItemV1 {
        pub id: u64,
        pub course: u64,
        pub source: SourceV1,
        pub name: String,
        pub max_grade: f64,
        pub hidden: bool,
        pub created_at: i64,
    }

    #[derive(Serialize, Deserialize)]
    pub(super) enum SourceV2 {
        Assignment(u64),
        Manual,
        Category,
        Course,
    }

    #[derive(Serialize, Deserialize)]
    pub(super) enum AggregationV1 {
        Mean,
        WeightedMean,
        Sum,
    }

    #[derive(Serialize, Deserialize)]
    pub(super) struct ItemV2 {
        pub id: u64,
        pub course: u64,
        pub source: SourceV2,
        pub name: String,
        pub max_grade: f64,
        pub pass_grade: Option<f64>,
        pub due_at: Option<i64>,
        pub parent: Option<u64>,
        pub weight: f64,
        pub aggregation: AggregationV1,
        pub hidden: bool,
        pub created_at: i64,
    }

    /// The leading field of a grade entry after its item and user: what
    /// the index now carries (postcard reads a prefix of a record).
    #[derive(Deserialize)]
    pub(super) struct EntryValue {
        pub _item: u64,
        pub _user: u64,
        pub value: Option<f64>,
    }
}

/// Rewrites the grade items in their new layout (no category, weight 1,
/// mean aggregation), adds a "Course total" item to every course, and
/// rebuilds a user's grades in a course with each grade's value.
pub(super) fn add_gradebook(tx: &WriteTransaction) -> Result<()> {
    {
        let old = tx.open_table(v11::GRADE_ITEMS)?;
        let mut items = tx.open_table(GRADE_ITEMS)?;
        for row in old.iter()? {
            let (k, v) = row?;
            let o: frozen::ItemV1 = decode("grade-items", v.value())?;
            let frozen::SourceV1::Assignment(a) = o.source;
            let n = frozen::ItemV2 {
                id: o.id,
                course: o.course,
                source: frozen::SourceV2::Assignment(a),
                name: o.name,
                max_grade: o.max_grade,
                pass_grade: None,
                due_at: None,
                parent: None,
                weight: 1.0,
                aggregation: frozen::AggregationV1::Mean,
                hidden: o.hidden,
                created_at: o.created_at,
            };
            items.insert(k.value(), encode(&n).as_slice())?;
        }
        let mut meta = tx.open_table(v1::META)?;
        let first = meta.get("next.grade_item")?.map_or(1, |g| g.value());
        let mut next = first;
        let mut course_items = tx.open_table(v11::COURSE_GRADE_ITEMS)?;
        let courses: Vec<u64> = tx
            .open_table(v1::COURSES)?
            .iter()?
            .map(|row| row.map(|(k, _)| k.value()))
            .collect::<std::result::Result<_, _>>()?;
        let now = crate::domain::Timestamp::now().0;
        for course in courses {
            let total = frozen::ItemV2 {
                id: next,
                course,
                source: frozen::SourceV2::Course,
                name: "Course total".to_owned(),
                max_grade: 100.0,
                pass_grade: None,
                due_at: None,
                parent: None,
                weight: 1.0,
                aggregation: frozen::AggregationV1::Mean,
                hidden: false,
                created_at: now,
            };
            items.insert(next, encode(&total).as_slice())?;
            course_items.insert((course, next), ())?;
            next += 1;
        }
        // A new file has no course, and keeps no counter it never used.
        if next != first {
            meta.insert("next.grade_item", next)?;
        }

        let entries = tx.open_table(v11::GRADE_ENTRIES)?;
        let mut index = tx.open_table(COURSE_USER_GRADES)?;
        for row in tx.open_table(v11::COURSE_USER_GRADES)?.iter()? {
            let (course, user, item) = row?.0.value();
            let value = match entries.get((item, user))? {
                Some(v) => decode::<frozen::EntryValue>("grade-entries", v.value())?.value,
                None => continue,
            };
            index.insert((course, user, item), value)?;
        }
    }
    tx.delete_table(v11::GRADE_ITEMS)?;
    tx.delete_table(v11::COURSE_USER_GRADES)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testing::Migrated;
    use super::*;
    use crate::domain::*;
    use crate::storage::site::prelude::*;

    /// Migration 12 on a version-11 file: an assignment's item keeps its
    /// name, maximum and hidden flag, each course gets one course total,
    /// and a user's grades carry their values.
    #[test]
    fn migration_12_rewrites_grade_items_and_adds_course_totals() {
        let file = Migrated::from(11, |tx| {
            let item = frozen::ItemV1 {
                id: 4,
                course: 1,
                source: frozen::SourceV1::Assignment(9),
                name: "Essay".into(),
                max_grade: 20.0,
                hidden: true,
                created_at: 5,
            };
            tx.open_table(v11::GRADE_ITEMS)
                .unwrap()
                .insert(4, encode(&item).as_slice())
                .unwrap();
            tx.open_table(v11::COURSE_GRADE_ITEMS)
                .unwrap()
                .insert((1, 4), ())
                .unwrap();
            let entry = GradeEntry {
                item: GradeItemId(4),
                user: UserId(7),
                value: Some(12.5),
                feedback: "ok".into(),
                graded_by: Actor::System,
                graded_at: Timestamp(6),
            };
            tx.open_table(v11::GRADE_ENTRIES)
                .unwrap()
                .insert((4, 7), encode(&entry).as_slice())
                .unwrap();
            tx.open_table(v11::COURSE_USER_GRADES)
                .unwrap()
                .insert((1, 7, 4), ())
                .unwrap();
            let mut courses = tx.open_table(v1::COURSES).unwrap();
            courses.insert(1, [0u8].as_slice()).unwrap();
            courses.insert(2, [0u8].as_slice()).unwrap();
            tx.open_table(v1::META)
                .unwrap()
                .insert("next.grade_item", 5)
                .unwrap();
        });
        assert_eq!(file.applied, vec![12, 13, 14, 15]);
        let names = file.table_names();
        assert!(!names.contains(&"grade-items-v1".to_owned()));
        assert!(!names.contains(&"course-user-grades-v1".to_owned()));
        let t = file.tables();
        let essay = t.grade_item(GradeItemId(4)).unwrap().unwrap();
        assert_eq!(essay.source, GradeSource::Assignment(ActivityId(9)));
        assert_eq!(
            (essay.max_grade, essay.hidden, essay.weight),
            (20.0, true, 1.0)
        );
        assert_eq!(essay.parent, None);
        let items = t.grade_items_of_course(CourseId(1)).unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[1].source, GradeSource::Course);
        assert_eq!(items[1].id, GradeItemId(5));
        assert_eq!(items[1].aggregation, Aggregation::Mean);
        let other = t.grade_items_of_course(CourseId(2)).unwrap();
        assert_eq!(other.len(), 1);
        assert_eq!(other[0].id, GradeItemId(6));
        assert_eq!(
            t.course_grade_values(CourseId(1), UserId(7)).unwrap(),
            [(GradeItemId(4), Some(12.5))]
        );
    }
}
