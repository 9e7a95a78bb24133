//! Queries over the audit log and the event outbox: pages that start
//! anywhere inside a chunk row and run on across rows, then into this
//! transaction's unflushed entries (see `FORMAT.md`).

use redb::ReadableTable;

use super::{SiteTablesRead, Unflushed};
use crate::domain::{AuditEntry, AuditId, EventEnvelope, SiteEvent, SiteId};
use crate::storage::{Result, decode};

/// The audit log and the event outbox.
pub trait LogRead: SiteTablesRead + Unflushed {
    /// Audit entries newest first, before `before`, that `keep` accepts.
    fn audit_page(
        &self,
        before: Option<AuditId>,
        limit: usize,
        mut keep: impl FnMut(&AuditEntry) -> bool,
    ) -> Result<Vec<AuditEntry>> {
        let end = before.map_or(u64::MAX, |a| a.0);
        let mut wanted = |entry: &AuditEntry| entry.id.0 < end && keep(entry);
        let mut out = Vec::new();
        for entry in self.unflushed_audit()?.into_iter().rev() {
            if out.len() >= limit {
                return Ok(out);
            }
            if wanted(&entry) {
                out.push(entry);
            }
        }
        // A row whose first id is below `end` may still hold ids at or
        // above it: `wanted` skips those.
        for row in self.audit()?.range(..end)?.rev() {
            let (_, v) = row?;
            let chunk: Vec<AuditEntry> = decode("audit", v.value())?;
            for entry in chunk.into_iter().rev() {
                if out.len() >= limit {
                    return Ok(out);
                }
                if wanted(&entry) {
                    out.push(entry);
                }
            }
        }
        Ok(out)
    }

    /// The newest audit id, 0 when the log is empty.
    fn last_audit_id(&self) -> Result<u64> {
        if let Some(id) = self.last_unflushed_audit_id() {
            return Ok(id);
        }
        match self.audit()?.last()? {
            Some((_, v)) => {
                let chunk: Vec<AuditEntry> = decode("audit", v.value())?;
                Ok(chunk.last().map_or(0, |e| e.id.0))
            }
            None => Ok(0),
        }
    }

    /// Outbox events with `seq > after`, oldest first.
    fn events_after(&self, site: SiteId, after: u64, limit: usize) -> Result<Vec<EventEnvelope>> {
        let start = after.saturating_add(1);
        let mut out = Vec::new();
        // The row holding `start` begins at or before it.
        let first = match self.events()?.range(..=start)?.next_back() {
            Some(row) => row?.0.value(),
            None => start,
        };
        for row in self.events()?.range(first..)? {
            let (k, v) = row?;
            let chunk: Vec<SiteEvent> = decode("events", v.value())?;
            for (seq, event) in (k.value()..).zip(chunk) {
                if seq < start {
                    continue;
                }
                if out.len() >= limit {
                    return Ok(out);
                }
                out.push(EventEnvelope { site, seq, event });
            }
        }
        for envelope in self.unflushed_events() {
            if out.len() >= limit {
                break;
            }
            if envelope.seq >= start {
                out.push(envelope.clone());
            }
        }
        Ok(out)
    }

    /// The newest outbox seq, 0 when the outbox is empty.
    fn last_event_seq(&self) -> Result<u64> {
        if let Some(e) = self.unflushed_events().last() {
            return Ok(e.seq);
        }
        match self.events()?.last()? {
            Some((k, v)) => {
                let chunk: Vec<SiteEvent> = decode("events", v.value())?;
                Ok(k.value() + chunk.len().saturating_sub(1) as u64)
            }
            None => Ok(0),
        }
    }
}

impl<T: SiteTablesRead + Unflushed> LogRead for T {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::*;
    use crate::storage::StorageError;
    use crate::storage::pool::SiteStore;
    use crate::storage::site::prelude::*;
    use crate::storage::site::tests::{SITE, store};
    use crate::storage::site::{CHUNK, SiteTables};
    use redb::ReadableTableMetadata;

    /// Audits and emits `n` changes, each event naming its audit id as
    /// the user, so a test can tell an event's entry.
    fn change(t: &mut SiteTables<'_>, n: usize) -> Result<()> {
        for _ in 0..n {
            let id = t.audit_log(Actor::System, "test.change", String::new(), String::new())?;
            t.emit(SiteEvent::SegmentMemberAdded {
                segment: SegmentId(1),
                user: UserId(id.0),
            })?;
        }
        Ok(())
    }

    /// Transactions of these sizes: rows that are one entry, a whole
    /// chunk, more than one chunk, and a chunk cut short by its commit.
    const WRITES: [usize; 6] = [1, 300, 5, CHUNK, 2 * CHUNK + 88, 1];

    fn logged() -> (tempfile::TempDir, SiteStore, u64) {
        let (dir, store) = store();
        for n in WRITES {
            store.write(|t| change(t, n)).unwrap();
        }
        (dir, store, WRITES.iter().sum::<usize>() as u64)
    }

    fn audit_ids(t: &impl SiteRead, before: Option<u64>, limit: usize) -> Vec<u64> {
        t.audit_page(before.map(AuditId), limit, |_| true)
            .unwrap()
            .iter()
            .map(|e| e.id.0)
            .collect()
    }

    fn event_seqs(t: &impl SiteRead, after: u64, limit: usize) -> Vec<u64> {
        t.events_after(SITE, after, limit)
            .unwrap()
            .iter()
            .map(|e| {
                assert_eq!(
                    e.event,
                    SiteEvent::SegmentMemberAdded {
                        segment: SegmentId(1),
                        user: UserId(e.seq)
                    },
                    "the event at seq {} is another's",
                    e.seq
                );
                e.seq
            })
            .collect()
    }

    /// Every row boundary and both neighbours of it, plus the ends.
    fn interesting(n: u64) -> Vec<u64> {
        let mut at = vec![0, 1, 2, n - 1, n, n + 1, n + 2];
        let mut start: u64 = 1;
        for w in WRITES {
            let mut left = w as u64;
            while left > 0 {
                at.extend([start.saturating_sub(1), start, start + 1]);
                let len = left.min(CHUNK as u64);
                start += len;
                left -= len;
            }
        }
        at.sort();
        at.dedup();
        at
    }

    #[test]
    fn a_transaction_writes_its_audit_entries_and_events_in_chunks() {
        let (_dir, store, n) = logged();
        let t = store.read_tables().unwrap();
        // 1 + 2 + 1 + 1 + 3 + 1 rows for 1,163 entries of each kind.
        assert_eq!(t.audit().unwrap().len().unwrap(), 9);
        assert_eq!(t.events().unwrap().len().unwrap(), 9);
        assert_eq!(t.last_audit_id().unwrap(), n);
        assert_eq!(t.last_event_seq().unwrap(), n);
        assert_eq!(
            t.meta()
                .unwrap()
                .get("next.audit")
                .unwrap()
                .unwrap()
                .value(),
            n + 1
        );
        assert_eq!(
            t.meta()
                .unwrap()
                .get("next.event")
                .unwrap()
                .unwrap()
                .value(),
            n + 1
        );
    }

    #[test]
    fn audit_pages_start_anywhere_in_a_chunk_and_cross_chunks() {
        let (_dir, store, n) = logged();
        let t = store.read_tables().unwrap();
        for before in interesting(n) {
            let newest = before.saturating_sub(1).min(n);
            for limit in [0, 1, 3, CHUNK, CHUNK + 1, usize::MAX] {
                let want: Vec<u64> = (1..=newest).rev().take(limit).collect();
                assert_eq!(
                    audit_ids(&t, Some(before), limit),
                    want,
                    "before {before}, limit {limit}"
                );
            }
        }
        let all: Vec<u64> = (1..=n).rev().collect();
        assert_eq!(audit_ids(&t, None, usize::MAX), all);
    }

    #[test]
    fn a_filtered_audit_page_reads_on_across_chunks_until_it_is_full() {
        let (_dir, store, n) = logged();
        let t = store.read_tables().unwrap();
        // Sparse matches: a page of 3 spans several rows.
        let keep = |e: &AuditEntry| e.id.0 % 200 == 7;
        for before in interesting(n) {
            let want: Vec<u64> = (1..before.min(n + 1))
                .rev()
                .filter(|id| id % 200 == 7)
                .take(3)
                .collect();
            let got: Vec<u64> = t
                .audit_page(Some(AuditId(before)), 3, keep)
                .unwrap()
                .iter()
                .map(|e| e.id.0)
                .collect();
            assert_eq!(got, want, "before {before}");
        }
    }

    #[test]
    fn events_after_any_seq_start_at_the_next_one() {
        let (_dir, store, n) = logged();
        let t = store.read_tables().unwrap();
        for after in 0..=n + 1 {
            for limit in [1, 7] {
                let want: Vec<u64> = (after + 1..=n).take(limit).collect();
                assert_eq!(
                    event_seqs(&t, after, limit),
                    want,
                    "after {after}, limit {limit}"
                );
            }
        }
        for after in interesting(n) {
            let want: Vec<u64> = (after + 1..=n).collect();
            assert_eq!(event_seqs(&t, after, usize::MAX), want, "after {after}");
        }
    }

    /// Reads inside a write see the transaction's own entries before they
    /// are flushed, newest first after the committed ones.
    #[test]
    fn a_write_reads_its_own_unflushed_entries() {
        let (_dir, store, n) = logged();
        store
            .write(|t| {
                change(t, 3)?;
                assert_eq!(audit_ids(&*t, None, 5), [n + 3, n + 2, n + 1, n, n - 1]);
                assert_eq!(audit_ids(&*t, Some(n + 2), 2), [n + 1, n]);
                assert_eq!(event_seqs(&*t, n - 1, 10), [n, n + 1, n + 2, n + 3]);
                assert_eq!(event_seqs(&*t, n + 1, 1), [n + 2]);
                assert_eq!(t.last_audit_id()?, n + 3);
                assert_eq!(t.last_event_seq()?, n + 3);
                Ok::<_, StorageError>(())
            })
            .unwrap();
        let t = store.read_tables().unwrap();
        assert_eq!(event_seqs(&t, n - 1, 10), [n, n + 1, n + 2, n + 3]);
    }

    #[test]
    fn an_audit_entry_reads_back_as_it_was_logged_before_and_after_its_commit() {
        let (_dir, store) = store();
        let user = UserId(7);
        let logged = |t: &SiteTables<'_>| t.audit_page(None, 10, |_| true);
        let before = store
            .write(|t| {
                t.audit_log(
                    Actor::Method(EnrolmentMethodId(3)),
                    "a.b",
                    "target é",
                    String::from("why"),
                )?;
                t.audit_log(Actor::User(user), "c.d", format_args!("user #{user}"), "")?;
                logged(t)
            })
            .unwrap()
            .0;
        let after = store
            .read_tables()
            .unwrap()
            .audit_page(None, 10, |_| true)
            .unwrap();
        assert_eq!(before, after);
        let now = after[0].at;
        let entry = |id, actor, action: &str, target: &str, reason: &str| AuditEntry {
            id: AuditId(id),
            at: now,
            actor,
            action: action.into(),
            target: target.into(),
            reason: reason.into(),
        };
        assert_eq!(
            after,
            [
                entry(2, Actor::User(user), "c.d", "user #7", ""),
                entry(
                    1,
                    Actor::Method(EnrolmentMethodId(3)),
                    "a.b",
                    "target é",
                    "why"
                ),
            ]
        );
    }

    #[test]
    fn a_refused_write_leaves_no_audit_entry_or_event() {
        let (_dir, store, n) = logged();
        let refused = store.write(|t| {
            change(t, CHUNK + 1)?;
            Err::<(), _>(StorageError::Corrupt {
                table: "test",
                reason: "refused".into(),
            })
        });
        assert!(refused.is_err());
        let t = store.read_tables().unwrap();
        assert_eq!(t.last_audit_id().unwrap(), n);
        assert!(event_seqs(&t, n, 10).is_empty());
        // The ids the refused write took are free again.
        drop(t);
        store.write(|t| change(t, 1)).unwrap();
        let t = store.read_tables().unwrap();
        assert_eq!(audit_ids(&t, None, 1), [n + 1]);
    }
}
