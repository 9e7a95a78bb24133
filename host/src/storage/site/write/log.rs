//! The audit log and the outbox of a write transaction: entries and
//! events take their ids as they are logged and reach their tables, in
//! chunks, at `flush`.

use crate::domain::{Actor, AuditId, EventEnvelope, SiteEvent};
use crate::storage::site::audit_codec::AuditText;
use crate::storage::site::counters::Counter;
use crate::storage::site::{CHUNK, SiteTables};
use crate::storage::{Result, encode};

impl SiteTables<'_> {
    /// Records an event in the outbox (written by `flush`, in this
    /// transaction); it reaches subscribers after commit.
    pub(crate) fn emit(&mut self, event: SiteEvent) -> Result<()> {
        let seq = self.next_id(Counter::Event)?;
        self.pending.push(EventEnvelope {
            site: self.site,
            seq,
            event,
        });
        Ok(())
    }

    /// Logs a change: `target` and `reason` are anything printable — a
    /// `String`, a `&str`, or `format_args!(…)`, which a bulk change
    /// should use: the entry is encoded at once, so it allocates nothing.
    pub(crate) fn audit_log(
        &mut self,
        actor: Actor,
        action: &str,
        target: impl AuditText,
        reason: impl AuditText,
    ) -> Result<AuditId> {
        let id = AuditId(self.next_id(Counter::Audit)?);
        self.unflushed_audit
            .push(id, self.now, actor, action, target, reason);
        Ok(id)
    }

    /// Writes the unflushed audit entries and events as chunk rows.
    pub(super) fn flush_log(&mut self) -> Result<()> {
        // Ids and seqs of one transaction are consecutive (only
        // `audit_log` and `emit` take them), so each chunk is a run that
        // starts at its key, as the readers assume.
        for (first, row) in std::mem::take(&mut self.unflushed_audit).rows() {
            self.audit.insert(first, row.as_slice())?;
        }
        for chunk in self.pending[self.events_flushed..].chunks(CHUNK) {
            let events: Vec<&SiteEvent> = chunk.iter().map(|e| &e.event).collect();
            self.events
                .insert(chunk[0].seq, encode(&events).as_slice())?;
        }
        self.events_flushed = self.pending.len();
        Ok(())
    }
}
