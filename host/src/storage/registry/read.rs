//! Registry queries, written once for reads and writes alike: sites by
//! id, slug and host name, operators, API tokens, installed plugin
//! versions, per-site plugin records and page sessions. A query never
//! writes.

use redb::{ReadableTable, ReadableTableMetadata};

use super::tables::RegistryTablesRead;
use crate::domain::{
    ApiToken, ApiTokenId, Operator, OperatorId, PluginVersion, Session, Site, SiteId, SitePlugin,
};
use crate::storage::{Result, decode};

/// Registry queries, shared by reads and writes.
pub trait RegistryRead: RegistryTablesRead {
    /// The session whose secret hashes to `hash`.
    fn session(&self, hash: &[u8]) -> Result<Option<Session>> {
        match self.sessions_table()?.get(hash)? {
            Some(g) => Ok(Some(decode("sessions", g.value())?)),
            None => Ok(None),
        }
    }

    fn plugin_version(&self, id: &str, version: &str) -> Result<Option<PluginVersion>> {
        match self.plugin_versions_table()?.get((id, version))? {
            Some(g) => Ok(Some(decode("plugin-versions", g.value())?)),
            None => Ok(None),
        }
    }

    /// Every installed version, by id then version text.
    fn plugin_versions(&self) -> Result<Vec<PluginVersion>> {
        let mut out = Vec::new();
        for row in self.plugin_versions_table()?.iter()? {
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
        match self.site_plugins_table()?.get((site.0, plugin))? {
            Some(g) => Ok(Some(decode("site-plugins", g.value())?)),
            None => Ok(None),
        }
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
        match self.api_tokens_table()?.get(id.0)? {
            Some(g) => Ok(Some(decode("api-tokens", g.value())?)),
            None => Ok(None),
        }
    }

    fn api_token_by_hash(&self, hash: &[u8]) -> Result<Option<ApiToken>> {
        match self.api_tokens_by_hash_table()?.get(hash)? {
            Some(g) => self.api_token(ApiTokenId(g.value())),
            None => Ok(None),
        }
    }

    fn api_tokens(&self) -> Result<Vec<ApiToken>> {
        let mut out = Vec::new();
        for row in self.api_tokens_table()?.iter()? {
            let (_, v) = row?;
            out.push(decode("api-tokens", v.value())?);
        }
        Ok(out)
    }

    fn site(&self, id: SiteId) -> Result<Option<Site>> {
        match self.sites_table()?.get(id.0)? {
            Some(g) => Ok(Some(decode("sites", g.value())?)),
            None => Ok(None),
        }
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
        let mut out = Vec::new();
        for row in self.sites_table()?.iter()? {
            let (_, v) = row?;
            out.push(decode("sites", v.value())?);
        }
        Ok(out)
    }

    fn operator(&self, id: OperatorId) -> Result<Option<Operator>> {
        match self.operators_table()?.get(id.0)? {
            Some(g) => Ok(Some(decode("operators", g.value())?)),
            None => Ok(None),
        }
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
