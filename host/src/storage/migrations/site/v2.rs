//! Site schema version 2: enrolment-method run state and the event
//! dispatcher's cursor.

use redb::{ReadableTable, TableDefinition, WriteTransaction};

use super::v1;
use crate::storage::Result;

/// `EnrolmentMethodId → MethodRun`.
pub(super) const METHOD_RUNS: TableDefinition<u64, &[u8]> = TableDefinition::new("method-runs-v1");
/// `name → u64`: `cursor`, the last outbox seq delivered.
pub(super) const DISPATCH: TableDefinition<&str, u64> = TableDefinition::new("dispatch-v1");

/// Creates `method-runs-v1` and `dispatch-v1`. The dispatcher starts at
/// the end of the existing outbox: events written before plugins ran had
/// no method to reach, and replaying a site's whole history to its
/// methods on upgrade would redo (idempotently, but slowly) what they
/// never asked for.
pub(super) fn add_method_runs(tx: &WriteTransaction) -> Result<()> {
    tx.open_table(METHOD_RUNS)?;
    let last = tx
        .open_table(v1::EVENTS)?
        .last()?
        .map_or(0, |(k, _)| k.value());
    tx.open_table(DISPATCH)?.insert("cursor", last)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testing::{Migrated, member_added};
    use super::*;
    use crate::storage::encode;
    use crate::storage::site::prelude::*;

    /// Migration 2 on a version-1 file with history: the run-state table
    /// appears and the dispatcher starts after the existing events.
    #[test]
    fn migration_2_starts_the_dispatcher_at_the_end_of_the_outbox() {
        let file = Migrated::from(1, |tx| {
            let mut events = tx.open_table(v1::EVENTS).unwrap();
            for seq in 1..=7 {
                events
                    .insert(seq, encode(&member_added(seq)).as_slice())
                    .unwrap();
            }
        });
        assert_eq!(
            file.applied,
            vec![2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
        );
        let t = file.tables();
        assert_eq!(t.dispatch_cursor().unwrap(), 7);
        assert!(
            t.method_run(crate::domain::EnrolmentMethodId(1))
                .unwrap()
                .is_none()
        );
    }
}
