//! Registry queries, written once for reads and writes alike: sites by
//! id, slug and host name, operators, API tokens, installed plugin
//! versions, per-site plugin records and page sessions. A query never
//! writes.

use redb::{ReadableTable, ReadableTableMetadata};

use super::tables::RegistryTablesRead;
use crate::domain::{
    ApiToken, ApiTokenId, Operator, OperatorId, PluginVersion, Session, Site, SiteId, SitePlugin,
};
use crate::storage::tables::{all_records, get_record};
use crate::storage::{Result, decode};

/// Registry queries, shared by reads and writes.
pub trait RegistryRead: RegistryTablesRead {
    /// The session whose secret hashes to `hash`.
    fn session(&self, hash: &[u8]) -> Result<Option<Session>> {
        get_record(self.sessions_table()?, "sessions", hash)
    }

    fn plugin_version(&self, id: &str, version: &str) -> Result<Option<PluginVersion>> {
        get_record(
            self.plugin_versions_table()?,
            "plugin-versions",
            (id, version),
        )
    }

    /// Every installed version, by id then version text.
    fn plugin_versions(&self) -> Result<Vec<PluginVersion>> {
        all_records(self.plugin_versions_table()?, "plugin-versions")
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
        get_record(self.site_plugins_table()?, "site-plugins", (site.0, plugin))
    }

    /// The plugin records of one site, by plugin id.
    fn site_plugins(&self, site: SiteId) -> Result<Vec<SitePlugin>> {
        let mut out = Vec::new();
        for row in self
            .site_plugins_table()?
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
        for row in self.site_plugins_table()?.iter()? {
            let (k, v) = row?;
            if k.value().1 == plugin {
                out.push(decode("site-plugins", v.value())?);
            }
        }
        Ok(out)
    }

    fn api_token(&self, id: ApiTokenId) -> Result<Option<ApiToken>> {
        get_record(self.api_tokens_table()?, "api-tokens", id.0)
    }

    fn api_token_by_hash(&self, hash: &[u8]) -> Result<Option<ApiToken>> {
        match self.api_tokens_by_hash_table()?.get(hash)? {
            Some(g) => self.api_token(ApiTokenId(g.value())),
            None => Ok(None),
        }
    }

    fn api_tokens(&self) -> Result<Vec<ApiToken>> {
        all_records(self.api_tokens_table()?, "api-tokens")
    }

    fn site(&self, id: SiteId) -> Result<Option<Site>> {
        get_record(self.sites_table()?, "sites", id.0)
    }

    fn site_id_by_slug(&self, slug: &str) -> Result<Option<SiteId>> {
        Ok(self
            .sites_by_slug_table()?
            .get(slug)?
            .map(|g| SiteId(g.value())))
    }

    fn site_id_by_host(&self, host: &str) -> Result<Option<SiteId>> {
        let key = host.to_lowercase();
        Ok(self
            .sites_by_host_table()?
            .get(key.as_str())?
            .map(|g| SiteId(g.value())))
    }

    fn sites(&self) -> Result<Vec<Site>> {
        all_records(self.sites_table()?, "sites")
    }

    fn operator(&self, id: OperatorId) -> Result<Option<Operator>> {
        get_record(self.operators_table()?, "operators", id.0)
    }

    fn operator_id_by_username(&self, username: &str) -> Result<Option<OperatorId>> {
        let key = username.to_lowercase();
        Ok(self
            .operators_by_username_table()?
            .get(key.as_str())?
            .map(|g| OperatorId(g.value())))
    }

    fn first_operator_id(&self) -> Result<Option<OperatorId>> {
        Ok(self
            .operators_table()?
            .first()?
            .map(|(k, _)| OperatorId(k.value())))
    }

    fn operator_count(&self) -> Result<u64> {
        Ok(self.operators_table()?.len()?)
    }
}

impl<T: RegistryTablesRead> RegistryRead for T {}
