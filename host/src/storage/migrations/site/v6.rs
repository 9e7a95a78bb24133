//! Site schema version 6: what an enrolment method's course staff must
//! act on (its group was deleted).

use redb::{TableDefinition, WriteTransaction};

use crate::storage::Result;

/// `EnrolmentMethodId → MethodWarning` (postcard).
const METHOD_WARNINGS: TableDefinition<u64, &[u8]> = TableDefinition::new("method-warnings-v1");

/// Creates `method-warnings-v1`, empty: before this version a deleted
/// group left no warning behind, so there is none to carry over.
pub(super) fn add_method_warnings(tx: &WriteTransaction) -> Result<()> {
    tx.open_table(METHOD_WARNINGS)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testing::Migrated;
    use crate::domain::EnrolmentMethodId;
    use crate::storage::site::prelude::*;

    /// Migration 6 on a version-5 file: the new table appears empty.
    #[test]
    fn migration_6_adds_an_empty_method_warnings_table() {
        let file = Migrated::from(5, |_| {});
        assert_eq!(file.applied, vec![6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
        let t = file.tables();
        assert!(t.all_method_warnings().unwrap().is_empty());
        assert_eq!(t.method_warning(EnrolmentMethodId(1)).unwrap(), None);
        assert!(
            file.table_names()
                .contains(&"method-warnings-v1".to_owned())
        );
    }
}
