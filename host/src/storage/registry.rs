//! The registry file (`registry.redb`): the sites of this host, its
//! operator accounts and API tokens, the plugin versions installed on it and
//! which plugin each site may use.

use redb::{
    ReadOnlyTable, ReadTransaction, ReadableDatabase, ReadableTable, ReadableTableMetadata, Table,
    TableDefinition, WriteTransaction,
};

use super::{Result, decode, encode, migrations};
use crate::domain::{
    ApiToken, ApiTokenId, Operator, OperatorId, PluginVersion, Session, Site, SiteId, SitePlugin,
};

/// `name → u64`: `schema_version` and the counters `next.site`, `next.operator`.
const META: TableDefinition<&str, u64> = TableDefinition::new("meta-v1");
/// `SiteId → Site`.
const SITES: TableDefinition<u64, &[u8]> = TableDefinition::new("sites-v1");
/// `slug → SiteId`.
const SITES_BY_SLUG: TableDefinition<&str, u64> = TableDefinition::new("sites-by-slug-v1");
/// `lower-case host name → SiteId`.
const SITES_BY_HOST: TableDefinition<&str, u64> = TableDefinition::new("sites-by-host-v1");
/// `OperatorId → Operator`.
const OPERATORS: TableDefinition<u64, &[u8]> = TableDefinition::new("operators-v1");
/// `lower-case username → OperatorId`.
const OPERATORS_BY_USERNAME: TableDefinition<&str, u64> =
    TableDefinition::new("operators-by-username-v1");

/// `ApiTokenId → ApiToken`.
const API_TOKENS: TableDefinition<u64, &[u8]> = TableDefinition::new("api-tokens-v1");
/// `SHA-256 of the secret → ApiTokenId`.
const API_TOKENS_BY_HASH: TableDefinition<&[u8], u64> =
    TableDefinition::new("api-tokens-by-hash-v1");

/// `(plugin id, version) → PluginVersion` (migration 2).
const PLUGIN_VERSIONS: TableDefinition<(&str, &str), &[u8]> =
    TableDefinition::new("plugin-versions-v1");
/// `(SiteId, plugin id) → SitePlugin` (migration 2).
const SITE_PLUGINS: TableDefinition<(u64, &str), &[u8]> = TableDefinition::new("site-plugins-v1");

/// `SHA-256(session secret) → Session` (migration 3): the page sessions of
/// operators and site users. The secret itself lives only in the cookie.
const SESSIONS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("sessions-v1");

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
    pub fn write<T, E: From<super::StorageError>>(
        &self,
        f: impl FnOnce(&mut RegistryTables<'_>) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let tx = self.db.begin_write().map_err(super::StorageError::from)?;
        let out = {
            let mut tables = RegistryTables::open(&tx)?;
            f(&mut tables)?
        };
        tx.commit().map_err(super::StorageError::from)?;
        Ok(out)
    }

    pub fn read<T, E: From<super::StorageError>>(
        &self,
        f: impl FnOnce(&RegistryReadTables) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let tx = self.db.begin_read().map_err(super::StorageError::from)?;
        let tables = RegistryReadTables::open(&tx)?;
        f(&tables)
    }
}

pub struct RegistryTables<'tx> {
    meta: Table<'tx, &'static str, u64>,
    sites: Table<'tx, u64, &'static [u8]>,
    sites_by_slug: Table<'tx, &'static str, u64>,
    sites_by_host: Table<'tx, &'static str, u64>,
    operators: Table<'tx, u64, &'static [u8]>,
    operators_by_username: Table<'tx, &'static str, u64>,
    api_tokens: Table<'tx, u64, &'static [u8]>,
    api_tokens_by_hash: Table<'tx, &'static [u8], u64>,
    plugin_versions: Table<'tx, (&'static str, &'static str), &'static [u8]>,
    site_plugins: Table<'tx, (u64, &'static str), &'static [u8]>,
    sessions: Table<'tx, &'static [u8], &'static [u8]>,
}

pub struct RegistryReadTables {
    sites: ReadOnlyTable<u64, &'static [u8]>,
    sites_by_slug: ReadOnlyTable<&'static str, u64>,
    sites_by_host: ReadOnlyTable<&'static str, u64>,
    operators: ReadOnlyTable<u64, &'static [u8]>,
    operators_by_username: ReadOnlyTable<&'static str, u64>,
    api_tokens: ReadOnlyTable<u64, &'static [u8]>,
    api_tokens_by_hash: ReadOnlyTable<&'static [u8], u64>,
    plugin_versions: ReadOnlyTable<(&'static str, &'static str), &'static [u8]>,
    site_plugins: ReadOnlyTable<(u64, &'static str), &'static [u8]>,
    sessions: ReadOnlyTable<&'static [u8], &'static [u8]>,
}

impl RegistryReadTables {
    fn open(tx: &ReadTransaction) -> Result<Self> {
        Ok(Self {
            sites: tx.open_table(SITES)?,
            sites_by_slug: tx.open_table(SITES_BY_SLUG)?,
            sites_by_host: tx.open_table(SITES_BY_HOST)?,
            operators: tx.open_table(OPERATORS)?,
            operators_by_username: tx.open_table(OPERATORS_BY_USERNAME)?,
            api_tokens: tx.open_table(API_TOKENS)?,
            api_tokens_by_hash: tx.open_table(API_TOKENS_BY_HASH)?,
            plugin_versions: tx.open_table(PLUGIN_VERSIONS)?,
            site_plugins: tx.open_table(SITE_PLUGINS)?,
            sessions: tx.open_table(SESSIONS)?,
        })
    }
}

/// Registry queries, shared by reads and writes.
pub trait RegistryRead {
    fn sites_table(&self) -> &impl ReadableTable<u64, &'static [u8]>;
    fn sites_by_slug_table(&self) -> &impl ReadableTable<&'static str, u64>;
    fn sites_by_host_table(&self) -> &impl ReadableTable<&'static str, u64>;
    fn operators_table(&self) -> &impl ReadableTable<u64, &'static [u8]>;
    fn operators_by_username_table(&self) -> &impl ReadableTable<&'static str, u64>;
    fn api_tokens_table(&self) -> &impl ReadableTable<u64, &'static [u8]>;
    fn api_tokens_by_hash_table(&self) -> &impl ReadableTable<&'static [u8], u64>;
    fn plugin_versions_table(
        &self,
    ) -> &impl ReadableTable<(&'static str, &'static str), &'static [u8]>;
    fn site_plugins_table(&self) -> &impl ReadableTable<(u64, &'static str), &'static [u8]>;
    fn sessions_table(&self) -> &impl ReadableTable<&'static [u8], &'static [u8]>;

    /// The session whose secret hashes to `hash`.
    fn session(&self, hash: &[u8]) -> Result<Option<Session>> {
        match self.sessions_table().get(hash)? {
            Some(g) => Ok(Some(decode("sessions", g.value())?)),
            None => Ok(None),
        }
    }

    fn plugin_version(&self, id: &str, version: &str) -> Result<Option<PluginVersion>> {
        match self.plugin_versions_table().get((id, version))? {
            Some(g) => Ok(Some(decode("plugin-versions", g.value())?)),
            None => Ok(None),
        }
    }

    /// Every installed version, by id then version text.
    fn plugin_versions(&self) -> Result<Vec<PluginVersion>> {
        let mut out = Vec::new();
        for row in self.plugin_versions_table().iter()? {
            let (_, v) = row?;
            out.push(decode("plugin-versions", v.value())?);
        }
        Ok(out)
    }

    /// The installed versions of one plugin.
    fn plugin_versions_of(&self, id: &str) -> Result<Vec<PluginVersion>> {
        Ok(self
            .plugin_versions()?
            .into_iter()
            .filter(|v| v.id == id)
            .collect())
    }

    fn site_plugin(&self, site: SiteId, plugin: &str) -> Result<Option<SitePlugin>> {
        match self.site_plugins_table().get((site.0, plugin))? {
            Some(g) => Ok(Some(decode("site-plugins", g.value())?)),
            None => Ok(None),
        }
    }

    /// The plugin records of one site, by plugin id.
    fn site_plugins(&self, site: SiteId) -> Result<Vec<SitePlugin>> {
        let mut out = Vec::new();
        for row in self
            .site_plugins_table()
            .range((site.0, "")..(site.0.saturating_add(1), ""))?
        {
            let (_, v) = row?;
            out.push(decode("site-plugins", v.value())?);
        }
        Ok(out)
    }

    /// Every site's record of one plugin.
    fn plugin_sites(&self, plugin: &str) -> Result<Vec<SitePlugin>> {
        let mut out = Vec::new();
        for row in self.site_plugins_table().iter()? {
            let (k, v) = row?;
            if k.value().1 == plugin {
                out.push(decode("site-plugins", v.value())?);
            }
        }
        Ok(out)
    }

    fn api_token(&self, id: ApiTokenId) -> Result<Option<ApiToken>> {
        match self.api_tokens_table().get(id.0)? {
            Some(g) => Ok(Some(decode("api-tokens", g.value())?)),
            None => Ok(None),
        }
    }

    fn api_token_by_hash(&self, hash: &[u8]) -> Result<Option<ApiToken>> {
        match self.api_tokens_by_hash_table().get(hash)? {
            Some(g) => self.api_token(ApiTokenId(g.value())),
            None => Ok(None),
        }
    }

    fn api_tokens(&self) -> Result<Vec<ApiToken>> {
        let mut out = Vec::new();
        for row in self.api_tokens_table().iter()? {
            let (_, v) = row?;
            out.push(decode("api-tokens", v.value())?);
        }
        Ok(out)
    }

    fn site(&self, id: SiteId) -> Result<Option<Site>> {
        match self.sites_table().get(id.0)? {
            Some(g) => Ok(Some(decode("sites", g.value())?)),
            None => Ok(None),
        }
    }

    fn site_id_by_slug(&self, slug: &str) -> Result<Option<SiteId>> {
        Ok(self
            .sites_by_slug_table()
            .get(slug)?
            .map(|g| SiteId(g.value())))
    }

    fn site_id_by_host(&self, host: &str) -> Result<Option<SiteId>> {
        let key = host.to_lowercase();
        Ok(self
            .sites_by_host_table()
            .get(key.as_str())?
            .map(|g| SiteId(g.value())))
    }

    fn sites(&self) -> Result<Vec<Site>> {
        let mut out = Vec::new();
        for row in self.sites_table().iter()? {
            let (_, v) = row?;
            out.push(decode("sites", v.value())?);
        }
        Ok(out)
    }

    fn operator(&self, id: OperatorId) -> Result<Option<Operator>> {
        match self.operators_table().get(id.0)? {
            Some(g) => Ok(Some(decode("operators", g.value())?)),
            None => Ok(None),
        }
    }

    fn operator_id_by_username(&self, username: &str) -> Result<Option<OperatorId>> {
        let key = username.to_lowercase();
        Ok(self
            .operators_by_username_table()
            .get(key.as_str())?
            .map(|g| OperatorId(g.value())))
    }

    fn first_operator_id(&self) -> Result<Option<OperatorId>> {
        Ok(self
            .operators_table()
            .first()?
            .map(|(k, _)| OperatorId(k.value())))
    }

    fn operator_count(&self) -> Result<u64> {
        Ok(self.operators_table().len()?)
    }
}

impl RegistryRead for RegistryReadTables {
    fn sites_table(&self) -> &impl ReadableTable<u64, &'static [u8]> {
        &self.sites
    }
    fn sites_by_slug_table(&self) -> &impl ReadableTable<&'static str, u64> {
        &self.sites_by_slug
    }
    fn sites_by_host_table(&self) -> &impl ReadableTable<&'static str, u64> {
        &self.sites_by_host
    }
    fn operators_table(&self) -> &impl ReadableTable<u64, &'static [u8]> {
        &self.operators
    }
    fn operators_by_username_table(&self) -> &impl ReadableTable<&'static str, u64> {
        &self.operators_by_username
    }
    fn api_tokens_table(&self) -> &impl ReadableTable<u64, &'static [u8]> {
        &self.api_tokens
    }
    fn api_tokens_by_hash_table(&self) -> &impl ReadableTable<&'static [u8], u64> {
        &self.api_tokens_by_hash
    }
    fn plugin_versions_table(
        &self,
    ) -> &impl ReadableTable<(&'static str, &'static str), &'static [u8]> {
        &self.plugin_versions
    }
    fn site_plugins_table(&self) -> &impl ReadableTable<(u64, &'static str), &'static [u8]> {
        &self.site_plugins
    }
    fn sessions_table(&self) -> &impl ReadableTable<&'static [u8], &'static [u8]> {
        &self.sessions
    }
}

impl RegistryRead for RegistryTables<'_> {
    fn sites_table(&self) -> &impl ReadableTable<u64, &'static [u8]> {
        &self.sites
    }
    fn sites_by_slug_table(&self) -> &impl ReadableTable<&'static str, u64> {
        &self.sites_by_slug
    }
    fn sites_by_host_table(&self) -> &impl ReadableTable<&'static str, u64> {
        &self.sites_by_host
    }
    fn operators_table(&self) -> &impl ReadableTable<u64, &'static [u8]> {
        &self.operators
    }
    fn operators_by_username_table(&self) -> &impl ReadableTable<&'static str, u64> {
        &self.operators_by_username
    }
    fn api_tokens_table(&self) -> &impl ReadableTable<u64, &'static [u8]> {
        &self.api_tokens
    }
    fn api_tokens_by_hash_table(&self) -> &impl ReadableTable<&'static [u8], u64> {
        &self.api_tokens_by_hash
    }
    fn plugin_versions_table(
        &self,
    ) -> &impl ReadableTable<(&'static str, &'static str), &'static [u8]> {
        &self.plugin_versions
    }
    fn site_plugins_table(&self) -> &impl ReadableTable<(u64, &'static str), &'static [u8]> {
        &self.site_plugins
    }
    fn sessions_table(&self) -> &impl ReadableTable<&'static [u8], &'static [u8]> {
        &self.sessions
    }
}

impl<'tx> RegistryTables<'tx> {
    fn open(tx: &'tx WriteTransaction) -> Result<Self> {
        Ok(Self {
            meta: tx.open_table(META)?,
            sites: tx.open_table(SITES)?,
            sites_by_slug: tx.open_table(SITES_BY_SLUG)?,
            sites_by_host: tx.open_table(SITES_BY_HOST)?,
            operators: tx.open_table(OPERATORS)?,
            operators_by_username: tx.open_table(OPERATORS_BY_USERNAME)?,
            api_tokens: tx.open_table(API_TOKENS)?,
            api_tokens_by_hash: tx.open_table(API_TOKENS_BY_HASH)?,
            plugin_versions: tx.open_table(PLUGIN_VERSIONS)?,
            site_plugins: tx.open_table(SITE_PLUGINS)?,
            sessions: tx.open_table(SESSIONS)?,
        })
    }

    fn next_id(&mut self, key: &'static str) -> Result<u64> {
        let next = self.meta.get(key)?.map_or(1, |g| g.value());
        self.meta.insert(key, next + 1)?;
        Ok(next)
    }

    pub(crate) fn new_site_id(&mut self) -> Result<SiteId> {
        Ok(SiteId(self.next_id("next.site")?))
    }

    pub(crate) fn new_operator_id(&mut self) -> Result<OperatorId> {
        Ok(OperatorId(self.next_id("next.operator")?))
    }

    /// Inserts or replaces a site, moving its slug and host-name index entries.
    pub(crate) fn put_site(&mut self, site: &Site) -> Result<()> {
        if let Some(old) = self.site(site.id)? {
            self.sites_by_slug.remove(old.slug.as_str())?;
            for h in &old.hostnames {
                self.sites_by_host.remove(h.as_str())?;
            }
        }
        self.sites.insert(site.id.0, encode(site).as_slice())?;
        self.sites_by_slug.insert(site.slug.as_str(), site.id.0)?;
        for h in &site.hostnames {
            self.sites_by_host
                .insert(h.to_lowercase().as_str(), site.id.0)?;
        }
        Ok(())
    }

    pub(crate) fn delete_site_row(&mut self, site: &Site) -> Result<()> {
        self.sites.remove(site.id.0)?;
        self.sites_by_slug.remove(site.slug.as_str())?;
        for h in &site.hostnames {
            self.sites_by_host.remove(h.to_lowercase().as_str())?;
        }
        Ok(())
    }

    pub(crate) fn new_api_token_id(&mut self) -> Result<ApiTokenId> {
        Ok(ApiTokenId(self.next_id("next.api_token")?))
    }

    /// Inserts or replaces a token; `hash` is indexed on first insert.
    pub(crate) fn put_api_token(&mut self, token: &ApiToken, hash: Option<&[u8]>) -> Result<()> {
        self.api_tokens
            .insert(token.id.0, encode(token).as_slice())?;
        if let Some(hash) = hash {
            self.api_tokens_by_hash.insert(hash, token.id.0)?;
        }
        Ok(())
    }

    /// Removes every token acting on `site` (when the site is deleted).
    pub(crate) fn delete_site_api_tokens(&mut self, site: SiteId) -> Result<()> {
        let doomed: Vec<u64> = self
            .api_tokens()?
            .into_iter()
            .filter(|t| matches!(t.scope, crate::domain::TokenScope::SiteUser { site: s, .. } if s == site))
            .map(|t| t.id.0)
            .collect();
        self.api_tokens.retain(|id, _| !doomed.contains(&id))?;
        self.api_tokens_by_hash
            .retain(|_, id| !doomed.contains(&id))?;
        Ok(())
    }

    pub(crate) fn put_operator(&mut self, op: &Operator) -> Result<()> {
        if let Some(old) = self.operator(op.id)? {
            self.operators_by_username
                .remove(old.username.to_lowercase().as_str())?;
        }
        self.operators.insert(op.id.0, encode(op).as_slice())?;
        self.operators_by_username
            .insert(op.username.to_lowercase().as_str(), op.id.0)?;
        Ok(())
    }

    pub(crate) fn put_plugin_version(&mut self, v: &PluginVersion) -> Result<()> {
        self.plugin_versions
            .insert((v.id.as_str(), v.version.as_str()), encode(v).as_slice())?;
        Ok(())
    }

    pub(crate) fn delete_plugin_version(&mut self, id: &str, version: &str) -> Result<()> {
        self.plugin_versions.remove((id, version))?;
        Ok(())
    }

    pub(crate) fn put_site_plugin(&mut self, p: &SitePlugin) -> Result<()> {
        self.site_plugins
            .insert((p.site.0, p.plugin.as_str()), encode(p).as_slice())?;
        Ok(())
    }

    pub(crate) fn put_session(&mut self, hash: &[u8], session: &Session) -> Result<()> {
        self.sessions.insert(hash, encode(session).as_slice())?;
        Ok(())
    }

    pub(crate) fn delete_session(&mut self, hash: &[u8]) -> Result<()> {
        self.sessions.remove(hash)?;
        Ok(())
    }

    /// Removes the sessions `doomed` says should go (expired ones, or all
    /// of a deleted site), in one pass.
    pub(crate) fn delete_sessions_where(
        &mut self,
        doomed: impl Fn(&Session) -> bool,
    ) -> Result<usize> {
        let mut removed = 0;
        self.sessions
            .retain(|_, v| match super::decode::<Session>("sessions", v) {
                Ok(s) if doomed(&s) => {
                    removed += 1;
                    false
                }
                // A row that does not decode is kept for an operator to see
                // rather than silently dropped.
                _ => true,
            })?;
        Ok(removed)
    }

    /// Removes every plugin record of `site` (when the site is deleted).
    pub(crate) fn delete_site_plugins(&mut self, site: SiteId) -> Result<()> {
        self.site_plugins.retain(|(s, _), _| s != site.0)?;
        Ok(())
    }
}
