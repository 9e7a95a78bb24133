//! Storage: redb files, typed tables and migrations.
//!
//! The layout is one registry file (`registry.redb`: sites, operators) and
//! one file per site (`sites/{slug}.redb`: everything of that site), so a
//! site is backed up, restored, moved or deleted as a unit. This module owns
//! the table definitions, the byte encoding of records and the schema
//! versions. It knows nothing of authorisation or domain rules: callers in
//! `services` decide *whether* to write; storage only says *how*.
//!
//! Every write runs inside one redb write transaction that the caller hands
//! in (`SiteTables`, `RegistryTables`); storage functions never open or
//! commit transactions of their own.

pub mod migrations;
pub mod pool;
pub mod registry;
pub mod site;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// Errors of the storage layer. None of them is the user's fault: a
/// service maps them to an internal error and logs the detail.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("database error: {0}")]
    Redb(#[from] redb::Error),
    #[error("the data file {path} is open in another process (is `charon serve` running?)")]
    AlreadyOpen { path: String },
    #[error("corrupt record in table {table}: {reason}")]
    Corrupt { table: &'static str, reason: String },
    #[error(
        "the data file {path} has schema version {found}, newer than this Charon knows ({known}); upgrade Charon"
    )]
    TooNew {
        path: String,
        found: u64,
        known: u64,
    },
    #[error("I/O error on {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

macro_rules! redb_error_from {
    ($($t:ty),*) => {$(
        impl From<$t> for StorageError {
            fn from(e: $t) -> Self {
                StorageError::Redb(e.into())
            }
        }
    )*};
}
redb_error_from!(
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);

pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// Records are stored as postcard: compact, fast, and with serde. postcard
/// is not self-describing, so a changed record layout needs a migration.
pub(crate) fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Serialising plain data structs into a Vec cannot fail.
    postcard::to_allocvec(value).unwrap_or_default()
}

pub(crate) fn decode<T: DeserializeOwned>(table: &'static str, bytes: &[u8]) -> Result<T> {
    postcard::from_bytes(bytes).map_err(|e| StorageError::Corrupt {
        table,
        reason: e.to_string(),
    })
}

/// Opens (or creates) a redb file, turning "locked by another process" into
/// an error that says what to do.
pub(crate) fn open_database(path: &std::path::Path) -> Result<redb::Database> {
    match redb::Database::create(path) {
        Ok(db) => Ok(db),
        Err(redb::DatabaseError::DatabaseAlreadyOpen) => Err(StorageError::AlreadyOpen {
            path: path.display().to_string(),
        }),
        Err(e) => Err(e.into()),
    }
}
