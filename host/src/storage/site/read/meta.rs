//! Queries about the site file as a whole: its schema version and how
//! many transactions have changed it.

use redb::ReadableTable;

use super::SiteTablesRead;
use crate::storage::Result;
use crate::storage::site::counters::CHANGES;

/// The facts `meta` holds besides the id counters.
pub trait MetaRead: SiteTablesRead {
    fn schema_version(&self) -> Result<u64> {
        Ok(self.meta()?.get("schema_version")?.map_or(0, |g| g.value()))
    }

    /// How many transactions have changed the site (see `CHANGES`):
    /// equal in two snapshots, nothing audited or evented happened
    /// between them.
    fn changes(&self) -> Result<u64> {
        Ok(self.meta()?.get(CHANGES)?.map_or(0, |g| g.value()))
    }
}

impl<T: SiteTablesRead> MetaRead for T {}
