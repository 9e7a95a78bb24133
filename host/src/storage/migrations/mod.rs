//! Schema versions and numbered migrations for both kinds of redb file.
//!
//! A file records its schema version in its `meta` table. Opening a file
//! runs, in order, each migration newer than that version, each in its own
//! write transaction that also bumps the version, so a crash between two
//! migrations leaves a file at a well-defined older version. A file newer
//! than this binary knows is refused rather than misread.
//!
//! Every migration works on *frozen* table definitions of its own version
//! (`site/v1.rs` … , `registry/v1.rs` …): migration 1 creates the schema
//! exactly as version 1 had it, and each later one adds or reshapes
//! tables to reach the next version. A migration never names a live
//! definition (`site::defs`, `registry::defs`) or a live constant, so
//! changing today's schema can never change what an old migration does.
//! A fresh file runs them all and ends with exactly the live tables (a
//! test holds the two together), and a fixture file written by the code
//! of each version (`host/tests/fixtures/`) is opened and migrated by a
//! test that checks its content.

mod registry;
mod site;

use redb::{ReadableDatabase, TableDefinition, WriteTransaction};

pub use self::registry::REGISTRY_MIGRATIONS;
pub use self::site::SITE_MIGRATIONS;
use super::{Result, StorageError};

/// One step from version `version - 1` to `version`.
pub struct Migration {
    pub version: u64,
    pub name: &'static str,
    pub apply: fn(&WriteTransaction) -> Result<()>,
}

/// The schema version this binary writes.
pub fn latest(migrations: &[Migration]) -> u64 {
    migrations.last().map_or(0, |m| m.version)
}

/// `name → u64`, where both kinds of file keep `schema_version` in every
/// version: the runner's own definition, frozen like the migrations'.
const META: TableDefinition<&str, u64> = TableDefinition::new("meta-v1");

fn stored_version(db: &redb::Database) -> Result<u64> {
    let tx = db.begin_read()?;
    let meta = match tx.open_table(META) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(0),
        Err(e) => return Err(e.into()),
    };
    Ok(meta.get("schema_version")?.map_or(0, |g| g.value()))
}

/// Brings `db` up to the newest version in `migrations`. Returns the
/// versions it applied.
pub fn migrate(
    db: &redb::Database,
    path: &std::path::Path,
    migrations: &[Migration],
) -> Result<Vec<u64>> {
    let known = latest(migrations);
    let found = stored_version(db)?;
    if found > known {
        return Err(StorageError::TooNew {
            path: path.display().to_string(),
            found,
            known,
        });
    }
    let mut applied = Vec::new();
    for m in migrations.iter().filter(|m| m.version > found) {
        let tx = db.begin_write()?;
        (m.apply)(&tx)?;
        tx.open_table(META)?.insert("schema_version", m.version)?;
        tx.commit()?;
        tracing::info!(file = %path.display(), version = m.version, "applied migration: {}", m.name);
        applied.push(m.version);
    }
    Ok(applied)
}

/// Helpers of the migration and fixture tests.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// Begins a file at `version` as that version left it: the frozen
    /// migrations up to it, and its version in `meta`. The caller fills
    /// and commits it.
    pub(crate) fn file_at(
        db: &redb::Database,
        migrations: &[Migration],
        version: u64,
    ) -> WriteTransaction {
        let tx = db.begin_write().unwrap();
        for m in migrations.iter().filter(|m| m.version <= version) {
            (m.apply)(&tx).unwrap();
        }
        tx.open_table(META)
            .unwrap()
            .insert("schema_version", version)
            .unwrap();
        tx
    }

    /// A copy of fixture `name` (`host/tests/fixtures/{name}`) in a
    /// temporary folder, so a test can migrate it without touching the
    /// original.
    pub(crate) fn fixture_copy(name: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        let from = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name);
        std::fs::copy(&from, &path).unwrap_or_else(|e| panic!("{}: {e}", from.display()));
        (dir, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::tables::stored_table_names;

    #[test]
    fn a_new_file_gets_every_migration_and_a_second_open_none() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.redb");
        let db = redb::Database::create(&path).unwrap();
        assert_eq!(
            migrate(&db, &path, SITE_MIGRATIONS).unwrap(),
            vec![1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
        );
        assert!(migrate(&db, &path, SITE_MIGRATIONS).unwrap().is_empty());
        assert_eq!(stored_version(&db).unwrap(), latest(SITE_MIGRATIONS));
    }

    /// The frozen migrations, run one after the other on an empty file,
    /// end with exactly the live tables: the same names, each with the
    /// key and value types of its live definition (opening a table with
    /// another type fails). So a live definition cannot drift from the
    /// migrations that build it.
    #[test]
    fn a_new_file_holds_exactly_the_live_tables_of_each_kind() {
        type Dump = fn(&redb::ReadTransaction) -> Result<crate::storage::tables::TableDump>;
        let kinds: [(&[Migration], Dump); 2] = [
            (SITE_MIGRATIONS, crate::storage::site::dump_all_tables),
            (
                REGISTRY_MIGRATIONS,
                crate::storage::registry::dump_all_tables,
            ),
        ];
        for (migrations, dump_live) in kinds {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("new.redb");
            let db = redb::Database::create(&path).unwrap();
            migrate(&db, &path, migrations).unwrap();
            let tx = db.begin_read().unwrap();
            let live: Vec<String> = dump_live(&tx)
                .unwrap_or_else(|e| panic!("a live table does not open as defined: {e}"))
                .into_iter()
                .map(|(name, _)| name)
                .collect();
            assert_eq!(stored_table_names(&tx).unwrap(), live);
        }
    }

    /// What a new site file holds besides empty tables: its version, and
    /// the dispatcher's cursor at the start of the empty outbox (migration
    /// 2 puts it at the end of the outbox it finds).
    #[test]
    fn a_new_site_file_holds_only_its_version_and_the_dispatchers_cursor() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.redb");
        let db = redb::Database::create(&path).unwrap();
        migrate(&db, &path, SITE_MIGRATIONS).unwrap();
        let tx = db.begin_read().unwrap();
        let filled: crate::storage::tables::TableDump = crate::storage::site::dump_all_tables(&tx)
            .unwrap()
            .into_iter()
            .filter(|(_, rows)| !rows.is_empty())
            .collect();
        let row = |key: &str, value: u64| (key.as_bytes().to_vec(), value.to_le_bytes().to_vec());
        assert_eq!(
            filled,
            [
                ("dispatch-v1".to_owned(), vec![row("cursor", 0)]),
                (
                    "meta-v1".to_owned(),
                    vec![row("schema_version", latest(SITE_MIGRATIONS))]
                ),
            ]
        );
    }

    #[test]
    fn a_file_from_a_newer_charon_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.redb");
        let db = redb::Database::create(&path).unwrap();
        let tx = db.begin_write().unwrap();
        tx.open_table(META)
            .unwrap()
            .insert("schema_version", 999)
            .unwrap();
        tx.commit().unwrap();
        let err = migrate(&db, &path, SITE_MIGRATIONS).unwrap_err();
        assert!(
            matches!(err, StorageError::TooNew { found: 999, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("upgrade Charon"));
    }
}
