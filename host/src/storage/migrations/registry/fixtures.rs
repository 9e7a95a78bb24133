//! The registry fixture of each schema version (`host/tests/fixtures/
//! registry-v{N}.redb`, written by the code of that version; see the
//! folder's README), opened and migrated to today's schema, then read
//! through today's queries.

use crate::domain::*;
use crate::storage::StorageError;
use crate::storage::migrations::testing::fixture_copy;
use crate::storage::migrations::{migrate, stored_version};
use crate::storage::registry::{RegistryRead, RegistryStore};
use redb::ReadableTableMetadata;

/// A copy of the registry fixture of `version`, migrated to today's
/// schema, with exactly today's tables.
fn migrated(version: u64) -> (tempfile::TempDir, RegistryStore) {
    let (dir, path) = fixture_copy(&format!("registry-v{version}.redb"));
    let db = redb::Database::create(&path).unwrap();
    assert_eq!(stored_version(&db).unwrap(), version);
    let want: Vec<u64> = (version + 1..=3).collect();
    assert_eq!(
        migrate(&db, &path, super::REGISTRY_MIGRATIONS).unwrap(),
        want
    );
    {
        use redb::ReadableDatabase;
        let tx = db.begin_read().unwrap();
        let live = crate::storage::registry::dump_all_tables(&tx).unwrap();
        let live: Vec<String> = live.into_iter().map(|(name, _)| name).collect();
        assert_eq!(
            crate::storage::tables::stored_table_names(&tx).unwrap(),
            live
        );
    }
    drop(db);
    (dir, RegistryStore::open(&path).unwrap())
}

/// The plugins of the fixtures of versions 2 and 3: the `bundled` ones
/// and the two test plugins, all enabled on "acme".
fn assert_the_plugins(t: &impl RegistryRead, bundled: &[&str]) -> Result<(), StorageError> {
    let installed: Vec<(String, bool)> = t
        .plugin_versions()?
        .into_iter()
        .map(|p| (p.id, p.bundled))
        .collect();
    let mut want: Vec<(String, bool)> = bundled.iter().map(|id| (id.to_string(), true)).collect();
    want.extend(["hostile", "noop"].map(|id| (id.to_owned(), false)));
    want.sort();
    assert_eq!(installed, want);
    let manual = t.plugin_versions_of("manual")?;
    assert_eq!(manual.len(), 1);
    assert_eq!(
        t.plugin_version("manual", &manual[0].version)?,
        Some(manual[0].clone())
    );
    let enabled: Vec<(String, bool)> = t
        .site_plugins(SiteId(1))?
        .into_iter()
        .map(|p| (p.plugin, p.enabled))
        .collect();
    assert_eq!(enabled.len(), want.len());
    assert!(enabled.iter().all(|(_, on)| *on), "{enabled:?}");
    assert_eq!(t.plugin_sites("hostile")?.len(), 1);
    Ok(())
}

/// Site "acme", operator "fixture-op", a site token and a revoked
/// operator token: the registry part of the fixtures of versions 2 and 3.
fn assert_the_accounts(t: &impl RegistryRead) -> Result<(), StorageError> {
    let slugs: Vec<String> = t.sites()?.into_iter().map(|s| s.slug).collect();
    assert_eq!(slugs, ["acme"]);
    assert_eq!(t.site_id_by_slug("acme")?, Some(SiteId(1)));
    assert_eq!(t.site_id_by_host("ACME.test")?, Some(SiteId(1)));
    assert_eq!(
        t.operator_id_by_username("Fixture-Op")?,
        Some(OperatorId(1))
    );
    assert_eq!(t.first_operator_id()?, Some(OperatorId(1)));
    let op = t.operator(OperatorId(1))?.unwrap();
    assert!(!op.must_change_password);
    assert!(op.password_hash.starts_with("$argon2id$"));
    let tokens: Vec<(TokenScope, bool)> = t
        .api_tokens()?
        .into_iter()
        .map(|k| (k.scope, k.revoked_at.is_some()))
        .collect();
    assert_eq!(
        tokens,
        [
            (
                TokenScope::SiteUser {
                    site: SiteId(1),
                    user: UserId(1)
                },
                false
            ),
            (
                TokenScope::Operator {
                    operator: OperatorId(1)
                },
                true
            ),
        ]
    );
    assert_eq!(t.api_tokens_by_hash_table()?.len()?, 2);
    Ok(())
}

/// New ids follow the ones the fixture used.
fn assert_ids_continue(store: &RegistryStore, sites: u64, operators: u64, tokens: u64) {
    let next = store
        .write(|t| {
            Ok::<_, StorageError>((
                t.new_site_id()?,
                t.new_operator_id()?,
                t.new_api_token_id()?,
            ))
        })
        .unwrap();
    assert_eq!(
        next,
        (
            SiteId(sites + 1),
            OperatorId(operators + 1),
            ApiTokenId(tokens + 1)
        )
    );
}

#[test]
fn a_version_3_registry_opens_unchanged_with_its_content() {
    let (_dir, store) = migrated(3);
    store
        .read(|t| {
            assert_the_accounts(t)?;
            assert_the_plugins(t, &["manual", "segment-group", "segment-sync", "self"])?;
            Ok::<_, StorageError>(())
        })
        .unwrap();
    // The operator's page session, found by its subject.
    let signed_in = store
        .write(|t| {
            t.delete_sessions_where(|s| s.subject == SessionSubject::Operator(OperatorId(1)))
        })
        .unwrap();
    assert_eq!(signed_in, 1);
    assert_ids_continue(&store, 1, 1, 2);
}

#[test]
fn a_registry_of_the_previous_release_opens_and_migrates() {
    // `registry-v1.redb` was written by the release before plugins: a
    // default site, a site "acme", the first operator and a token.
    let (_dir, store) = migrated(1);
    store
        .read(|t| {
            let slugs: Vec<String> = t.sites()?.into_iter().map(|s| s.slug).collect();
            assert_eq!(slugs, ["default", "acme"]);
            assert_eq!(t.site_id_by_host("localhost")?, Some(SiteId(1)));
            assert_eq!(t.operator_count()?, 1);
            assert_eq!(t.operator_id_by_username("admin")?, Some(OperatorId(1)));
            assert_eq!(t.api_tokens()?.len(), 1);
            assert!(t.plugin_versions()?.is_empty());
            assert!(t.site_plugins(SiteId(1))?.is_empty());
            Ok::<_, StorageError>(())
        })
        .unwrap();
    assert_ids_continue(&store, 2, 1, 1);
}

#[test]
fn a_version_2_registry_migrates_with_its_content() {
    let (_dir, store) = migrated(2);
    store
        .read(|t| {
            assert_the_accounts(t)?;
            assert_the_plugins(t, &["manual", "self"])?;
            Ok::<_, StorageError>(())
        })
        .unwrap();
    // Migration 3 added the session table, empty.
    let sessions = store.write(|t| t.delete_sessions_where(|_| true)).unwrap();
    assert_eq!(sessions, 0);
    assert_ids_continue(&store, 1, 1, 2);
}
