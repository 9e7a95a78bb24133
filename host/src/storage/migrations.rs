//! Schema versions and numbered migrations for both kinds of redb file.
//!
//! A file records its schema version in its `meta` table. Opening a file
//! runs, in order, each migration newer than that version, each in its own
//! write transaction that also bumps the version, so a crash between two
//! migrations leaves a file at a well-defined older version. A file newer
//! than this binary knows is refused rather than misread.
//!
//! Migration 1 creates the schema. From migration 2 on, each migration
//! ships with a fixture file of the previous version under
//! `host/tests/fixtures/` and a test that opens it.

use redb::{ReadableDatabase, TableDefinition, WriteTransaction};

use super::{Result, StorageError};

/// One step from version `version - 1` to `version`.
pub struct Migration {
    pub version: u64,
    pub name: &'static str,
    pub apply: fn(&WriteTransaction) -> Result<()>,
}

pub const SITE_MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "create the site schema",
        apply: super::site::create_all_tables,
    },
    Migration {
        version: 2,
        name: "enrolment-method run state and the event dispatcher's cursor",
        apply: add_method_runs,
    },
    Migration {
        version: 3,
        name: "groups created by enrolment methods and plugins' site-wide settings",
        apply: add_method_groups,
    },
];

/// Creates `method-groups-v1` and `plugin-settings-v1`, both empty: no
/// instance has created a group by key and no site has settings yet.
fn add_method_groups(tx: &WriteTransaction) -> Result<()> {
    tx.open_table(super::site::defs::METHOD_GROUPS)?;
    tx.open_table(super::site::defs::PLUGIN_SETTINGS)?;
    Ok(())
}

/// Creates `method-runs-v1` and `dispatch-v1`. The dispatcher starts at
/// the end of the existing outbox: events written before plugins ran had
/// no instance to reach, and replaying a site's whole history to its
/// instances on upgrade would redo (idempotently, but slowly) what they
/// never asked for.
fn add_method_runs(tx: &WriteTransaction) -> Result<()> {
    use redb::ReadableTable;
    tx.open_table(super::site::defs::METHOD_RUNS)?;
    let last = tx
        .open_table(super::site::defs::EVENTS)?
        .last()?
        .map_or(0, |(k, _)| k.value());
    tx.open_table(super::site::defs::DISPATCH)?
        .insert("cursor", last)?;
    Ok(())
}

pub const REGISTRY_MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "create the registry schema",
        apply: super::registry::create_all_tables,
    },
    Migration {
        version: 2,
        name: "add installed plugin versions and per-site plugin records",
        apply: super::registry::create_plugin_tables,
    },
    Migration {
        version: 3,
        name: "add page sessions",
        apply: super::registry::create_session_table,
    },
];

/// The schema version this binary writes.
pub fn latest(migrations: &[Migration]) -> u64 {
    migrations.last().map_or(0, |m| m.version)
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_file_gets_every_migration_and_a_second_open_none() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.redb");
        let db = redb::Database::create(&path).unwrap();
        assert_eq!(migrate(&db, &path, SITE_MIGRATIONS).unwrap(), vec![1, 2, 3]);
        assert!(migrate(&db, &path, SITE_MIGRATIONS).unwrap().is_empty());
        assert_eq!(stored_version(&db).unwrap(), latest(SITE_MIGRATIONS));
    }

    /// Migration 2 on a version-1 file with history: the run-state table
    /// appears and the dispatcher starts after the existing events.
    #[test]
    fn migration_2_starts_the_dispatcher_at_the_end_of_the_outbox() {
        use crate::storage::site::{SiteRead, SiteReadTables, defs};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.redb");
        let db = redb::Database::create(&path).unwrap();
        let tx = db.begin_write().unwrap();
        // Version 1 as it was: every table but the two of migration 2.
        for m in &SITE_MIGRATIONS[..1] {
            (m.apply)(&tx).unwrap();
        }
        tx.delete_table(defs::METHOD_RUNS).unwrap();
        tx.delete_table(defs::DISPATCH).unwrap();
        tx.delete_table(defs::METHOD_GROUPS).unwrap();
        tx.delete_table(defs::PLUGIN_SETTINGS).unwrap();
        {
            let mut events = tx.open_table(defs::EVENTS).unwrap();
            events.insert(1, [0u8].as_slice()).unwrap();
            events.insert(7, [0u8].as_slice()).unwrap();
        }
        tx.open_table(META)
            .unwrap()
            .insert("schema_version", 1)
            .unwrap();
        tx.commit().unwrap();
        assert_eq!(migrate(&db, &path, SITE_MIGRATIONS).unwrap(), vec![2, 3]);
        let tx = db.begin_read().unwrap();
        let t = SiteReadTables::open(&tx).unwrap();
        assert_eq!(t.dispatch_cursor().unwrap(), 7);
        assert!(
            t.method_run(crate::domain::EnrolmentMethodId(1))
                .unwrap()
                .is_none()
        );
    }

    /// Migration 3 on a version-2 file: the two new tables appear empty
    /// and what was there stays.
    #[test]
    fn migration_3_adds_method_groups_and_plugin_settings() {
        use crate::domain::{CourseGroupId, EnrolmentMethodId};
        use crate::storage::site::{SiteRead, SiteReadTables, defs};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.redb");
        let db = redb::Database::create(&path).unwrap();
        let tx = db.begin_write().unwrap();
        for m in &SITE_MIGRATIONS[..2] {
            (m.apply)(&tx).unwrap();
        }
        tx.delete_table(defs::METHOD_GROUPS).unwrap();
        tx.delete_table(defs::PLUGIN_SETTINGS).unwrap();
        tx.open_table(defs::DISPATCH)
            .unwrap()
            .insert("cursor", 5)
            .unwrap();
        tx.open_table(META)
            .unwrap()
            .insert("schema_version", 2)
            .unwrap();
        tx.commit().unwrap();
        assert_eq!(migrate(&db, &path, SITE_MIGRATIONS).unwrap(), vec![3]);
        let tx = db.begin_read().unwrap();
        let t = SiteReadTables::open(&tx).unwrap();
        assert_eq!(t.dispatch_cursor().unwrap(), 5);
        assert_eq!(
            t.method_group(EnrolmentMethodId(1), "group").unwrap(),
            None::<CourseGroupId>
        );
        assert_eq!(t.plugin_settings_json("segment-sync").unwrap(), None);
    }

    #[test]
    fn a_registry_of_the_previous_release_opens_and_migrates() {
        // `registry-v1.redb` was written by the release before plugins: a
        // default site, a site "acme", the first operator and a token.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("registry.redb");
        std::fs::copy(
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/registry-v1.redb"
            ),
            &path,
        )
        .unwrap();
        let db = redb::Database::create(&path).unwrap();
        assert_eq!(stored_version(&db).unwrap(), 1);
        assert_eq!(migrate(&db, &path, REGISTRY_MIGRATIONS).unwrap(), vec![2]);
        drop(db);
        let store = crate::storage::registry::RegistryStore::open(&path).unwrap();
        use crate::storage::registry::RegistryRead;
        store
            .read(|t| {
                let slugs: Vec<String> = t.sites()?.into_iter().map(|s| s.slug).collect();
                assert_eq!(slugs, ["default", "acme"]);
                assert_eq!(t.operator_count()?, 1);
                assert_eq!(t.api_tokens()?.len(), 1);
                assert!(t.plugin_versions()?.is_empty());
                assert!(t.site_plugins(crate::domain::SiteId(1))?.is_empty());
                Ok::<_, StorageError>(())
            })
            .unwrap();
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
