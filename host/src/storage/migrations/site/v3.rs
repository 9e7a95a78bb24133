//! Site schema version 3: groups created by enrolment methods and
//! plugins' site-wide settings.

use redb::{TableDefinition, WriteTransaction};

use crate::storage::Result;

/// `(EnrolmentMethodId, key) → CourseGroupId`.
const METHOD_GROUPS: TableDefinition<(u64, &str), u64> = TableDefinition::new("method-groups-v1");
/// `plugin id → JSON object`.
const PLUGIN_SETTINGS: TableDefinition<&str, &str> = TableDefinition::new("plugin-settings-v1");

/// Creates `method-groups-v1` and `plugin-settings-v1`, both empty: no
/// method has created a group by key and no site has settings yet.
pub(super) fn add_method_groups(tx: &WriteTransaction) -> Result<()> {
    tx.open_table(METHOD_GROUPS)?;
    tx.open_table(PLUGIN_SETTINGS)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testing::Migrated;
    use super::super::v2;
    use crate::domain::{CourseGroupId, EnrolmentMethodId};
    use crate::storage::site::prelude::*;

    /// Migration 3 on a version-2 file: the two new tables appear empty
    /// and what was there stays.
    #[test]
    fn migration_3_adds_method_groups_and_plugin_settings() {
        let file = Migrated::from(2, |tx| {
            tx.open_table(v2::DISPATCH)
                .unwrap()
                .insert("cursor", 5)
                .unwrap();
        });
        assert_eq!(
            file.applied,
            vec![3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
        );
        let t = file.tables();
        assert_eq!(t.dispatch_cursor().unwrap(), 5);
        assert_eq!(
            t.method_group(EnrolmentMethodId(1), "group").unwrap(),
            None::<CourseGroupId>
        );
        assert_eq!(t.plugin_settings_json("segment-sync").unwrap(), None);
    }
}
