//! Site schema version 4: the audit log and the outbox in chunks of
//! entries.

use redb::{ReadableTable, TableDefinition, WriteTransaction};

use super::v1;
use crate::storage::{Result, encode};

/// `first AuditId → [AuditEntry]`, at most [`CHUNK`] consecutive ids.
pub(super) const AUDIT: TableDefinition<u64, &[u8]> = TableDefinition::new("audit-v2");
/// `first seq → [SiteEvent]`, chunked like `AUDIT`.
pub(super) const EVENTS: TableDefinition<u64, &[u8]> = TableDefinition::new("events-v2");

/// The most entries this migration puts in one row (what the writers of
/// version 4 did; readers of any version take a row's length from the row).
const CHUNK: usize = 256;

/// Moves `audit-v1` and `events-v1` into the chunked `audit-v2` and
/// `events-v2` and deletes the old tables. Ids and seqs stay what they
/// were, so audit page cursors and the dispatcher's cursor still point at
/// the same entries.
pub(super) fn chunk_audit_and_outbox(tx: &WriteTransaction) -> Result<()> {
    rechunk(tx, v1::AUDIT, AUDIT)?;
    rechunk(tx, v1::EVENTS, EVENTS)?;
    Ok(())
}

/// Copies one-entry-per-row `old` into `new` as chunks of consecutive
/// keys. Old rows have no gaps (a rolled-back write takes no id), but a
/// chunk is closed at a gap anyway: the readers take a row's entries to
/// run on from its key, and a wrong seq would be worse than a short chunk.
///
/// A row is regrouped as bytes, never decoded: postcard encodes a
/// sequence as its length (a varint) followed by its elements, so a chunk
/// of rows is the count followed by the rows' bytes, whatever the record
/// type. That keeps this migration independent of today's `AuditEntry`
/// and `SiteEvent`.
fn rechunk(
    tx: &WriteTransaction,
    old: TableDefinition<u64, &[u8]>,
    new: TableDefinition<u64, &[u8]>,
) -> Result<()> {
    {
        let from = tx.open_table(old)?;
        let mut to = tx.open_table(new)?;
        let mut first = 0;
        let mut count = 0usize;
        let mut bytes = Vec::new();
        let mut close = |first: u64, count: &mut usize, bytes: &mut Vec<u8>| {
            let mut row = encode(&(*count as u64));
            row.append(bytes);
            *count = 0;
            to.insert(first, row.as_slice()).map(drop)
        };
        for row in from.iter()? {
            let (k, v) = row?;
            let key = k.value();
            if count > 0 && (count == CHUNK || key != first + count as u64) {
                close(first, &mut count, &mut bytes)?;
            }
            if count == 0 {
                first = key;
            }
            bytes.extend_from_slice(v.value());
            count += 1;
        }
        if count > 0 {
            close(first, &mut count, &mut bytes)?;
        }
    }
    tx.delete_table(old)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testing::{Migrated, member_added};
    use super::super::v2;
    use super::*;
    use crate::domain::*;
    use crate::storage::site::SiteTablesRead;
    use crate::storage::site::prelude::*;
    use redb::ReadableTableMetadata;

    /// Migration 4 on a version-3 file: every audit entry and event is
    /// found under its old id and seq, chunks stop at a gap in the keys,
    /// and the old tables are gone.
    #[test]
    fn migration_4_chunks_the_audit_log_and_the_outbox() {
        // Two chunks and a bit, then a gap (no write has made one, but
        // a chunk must not run across it), then a short run.
        let ids: Vec<u64> = (1..=2 * CHUNK as u64 + 10).chain(600..=605).collect();
        let entry = |id: u64| AuditEntry {
            id: AuditId(id),
            at: Timestamp(1_700_000_000_000 + id as i64),
            actor: Actor::User(UserId(id)),
            action: "user.updated".into(),
            target: format!("user #{id}"),
            reason: String::new(),
        };
        let file = Migrated::from(3, |tx| {
            let mut audit = tx.open_table(v1::AUDIT).unwrap();
            let mut events = tx.open_table(v1::EVENTS).unwrap();
            for &id in &ids {
                audit.insert(id, encode(&entry(id)).as_slice()).unwrap();
                events
                    .insert(id, encode(&member_added(id)).as_slice())
                    .unwrap();
            }
            tx.open_table(v2::DISPATCH)
                .unwrap()
                .insert("cursor", 300)
                .unwrap();
        });
        assert_eq!(file.applied, vec![4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
        let names = file.table_names();
        assert!(!names.contains(&"audit-v1".to_owned()), "{names:?}");
        assert!(!names.contains(&"events-v1".to_owned()), "{names:?}");
        let t = file.tables();
        let audit = t.audit_page(None, usize::MAX, |_| true).unwrap();
        let want: Vec<AuditEntry> = ids.iter().rev().map(|&id| entry(id)).collect();
        assert_eq!(audit, want);
        let events = t.events_after(SiteId(1), 0, usize::MAX).unwrap();
        let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, ids);
        for e in &events {
            assert_eq!(e.event, member_added(e.seq));
        }
        // The dispatcher carries on where it was.
        assert_eq!(t.dispatch_cursor().unwrap(), 300);
        let next: Vec<u64> = t
            .events_after(SiteId(1), 300, 3)
            .unwrap()
            .iter()
            .map(|e| e.seq)
            .collect();
        assert_eq!(next, [301, 302, 303]);
        // 256 + 256 + 10 before the gap, 6 after it.
        assert_eq!(t.audit().unwrap().len().unwrap(), 4);
        assert_eq!(t.events().unwrap().len().unwrap(), 4);
    }
}
