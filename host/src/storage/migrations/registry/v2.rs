//! Registry schema version 2: installed plugin versions and per-site
//! plugin records.

use redb::{TableDefinition, WriteTransaction};

use crate::storage::Result;

/// `(plugin id, version) → PluginVersion`.
const PLUGIN_VERSIONS: TableDefinition<(&str, &str), &[u8]> =
    TableDefinition::new("plugin-versions-v1");
/// `(SiteId, plugin id) → SitePlugin`.
const SITE_PLUGINS: TableDefinition<(u64, &str), &[u8]> = TableDefinition::new("site-plugins-v1");

/// Creates both tables, empty: the bundled plugins are installed at start,
/// after migrating.
pub(super) fn add_plugin_tables(tx: &WriteTransaction) -> Result<()> {
    tx.open_table(PLUGIN_VERSIONS)?;
    tx.open_table(SITE_PLUGINS)?;
    Ok(())
}
