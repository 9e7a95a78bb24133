//! The registry file (`registry.redb`): the sites of this host, its
//! operator accounts and API tokens, the plugin versions installed on it,
//! which plugin each site may use, and page sessions.
//!
//! Laid out like a site file: `tables.rs` declares the tables with the
//! same macro, `read.rs` holds the queries ([`RegistryRead`]), `write.rs`
//! the writes on [`RegistryTables`]. [`RegistryStore`] opens the file,
//! migrates it and runs transactions; nothing here decides whether a
//! change is allowed.

mod read;
mod tables;
mod write;

use redb::ReadableDatabase;

pub use self::read::RegistryRead;
#[cfg(test)]
pub(crate) use self::tables::dump_all_tables;
pub use self::tables::{RegistryReadTables, RegistryTables, RegistryTablesRead, defs};
use super::{Result, StorageError, migrations};

/// The registry database, open for the life of the process.
pub struct RegistryStore {
    db: redb::Database,
}

impl RegistryStore {
    pub fn open(path: &std::path::Path) -> Result<Self> {
        let db = super::open_database(path)?;
        migrations::migrate(&db, path, migrations::REGISTRY_MIGRATIONS)?;
        Ok(Self { db })
    }

    /// Runs `f` in one write transaction, committed only if `f` succeeds.
    pub fn write<T, E: From<StorageError>>(
        &self,
        f: impl FnOnce(&mut RegistryTables<'_>) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let tx = self.db.begin_write().map_err(StorageError::from)?;
        let out = {
            let mut tables = RegistryTables::open(&tx)?;
            f(&mut tables)?
        };
        tx.commit().map_err(StorageError::from)?;
        Ok(out)
    }

    /// Runs `f` on one consistent read snapshot.
    pub fn read<T, E: From<StorageError>>(
        &self,
        f: impl FnOnce(&RegistryReadTables) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let tx = self.db.begin_read().map_err(StorageError::from)?;
        f(&RegistryReadTables::open(tx))
    }
}
