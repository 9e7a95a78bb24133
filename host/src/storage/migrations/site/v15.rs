//! Site schema version 15: rule-based segments. A segment's rule (the
//! segment-rule plugin that manages its members, with its config and last
//! run) gets a table keyed by segment id. Nothing else changes: a segment
//! already says which component manages it (`managed_by`).

use redb::{TableDefinition, WriteTransaction};

use crate::storage::Result;

pub(super) const SEGMENT_RULES: TableDefinition<u64, &[u8]> =
    TableDefinition::new("segment-rules-v1");

pub(super) fn add_segment_rules(tx: &WriteTransaction) -> Result<()> {
    tx.open_table(SEGMENT_RULES)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testing::Migrated;
    use crate::storage::site::prelude::*;

    #[test]
    fn migration_15_adds_an_empty_table_of_segment_rules() {
        let file = Migrated::from(14, |_| {});
        assert_eq!(file.applied, vec![15]);
        assert!(file.table_names().contains(&"segment-rules-v1".to_owned()));
        assert_eq!(file.tables().all_segment_rules().unwrap(), vec![]);
    }
}
