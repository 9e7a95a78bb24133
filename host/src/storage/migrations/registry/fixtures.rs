//! The registry fixture of each schema version (`host/tests/fixtures/
//! registry-v{N}.redb`), opened and migrated to today's schema, then read
//! through today's queries.

use crate::storage::StorageError;
use crate::storage::migrations::testing::fixture_copy;
use crate::storage::migrations::{migrate, stored_version};

#[test]
fn a_registry_of_the_previous_release_opens_and_migrates() {
    // `registry-v1.redb` was written by the release before plugins: a
    // default site, a site "acme", the first operator and a token.
    let (_dir, path) = fixture_copy("registry-v1.redb");
    let db = redb::Database::create(&path).unwrap();
    assert_eq!(stored_version(&db).unwrap(), 1);
    assert_eq!(
        migrate(&db, &path, super::REGISTRY_MIGRATIONS).unwrap(),
        vec![2, 3]
    );
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
