//! Registry schema version 3: page sessions.

use redb::{TableDefinition, WriteTransaction};

use crate::storage::Result;

/// `SHA-256(session secret) → Session`.
const SESSIONS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("sessions-v1");

/// Creates the session table, empty.
pub(super) fn add_session_table(tx: &WriteTransaction) -> Result<()> {
    tx.open_table(SESSIONS)?;
    Ok(())
}
