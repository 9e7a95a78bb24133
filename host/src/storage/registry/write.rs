//! Registry writes: inherent methods of [`RegistryTables`] that keep the
//! slug, host-name, username and token-hash indexes in step with the
//! records. None checks a domain rule or opens a transaction.

use redb::ReadableTable;

use super::read::RegistryRead;
use super::tables::RegistryTables;
use crate::domain::{
    ApiToken, ApiTokenId, Operator, OperatorId, PluginVersion, Session, Site, SiteId, SitePlugin,
};
use crate::storage::{Result, decode, encode};

/// Writes. Each keeps its indexes in step; none checks a domain rule.
impl RegistryTables<'_> {
    fn next_id(&mut self, key: &'static str) -> Result<u64> {
        let next = self.meta_table.get(key)?.map_or(1, |g| g.value());
        self.meta_table.insert(key, next + 1)?;
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
            self.sites_by_slug_table.remove(old.slug.as_str())?;
            for h in &old.hostnames {
                self.sites_by_host_table.remove(h.as_str())?;
            }
        }
        self.sites_table
            .insert(site.id.0, encode(site).as_slice())?;
        self.sites_by_slug_table
            .insert(site.slug.as_str(), site.id.0)?;
        for h in &site.hostnames {
            self.sites_by_host_table
                .insert(h.to_lowercase().as_str(), site.id.0)?;
        }
        Ok(())
    }

    pub(crate) fn delete_site_row(&mut self, site: &Site) -> Result<()> {
        self.sites_table.remove(site.id.0)?;
        self.sites_by_slug_table.remove(site.slug.as_str())?;
        for h in &site.hostnames {
            self.sites_by_host_table.remove(h.to_lowercase().as_str())?;
        }
        Ok(())
    }

    pub(crate) fn new_api_token_id(&mut self) -> Result<ApiTokenId> {
        Ok(ApiTokenId(self.next_id("next.api_token")?))
    }

    /// Inserts or replaces a token; `hash` is indexed on first insert.
    pub(crate) fn put_api_token(&mut self, token: &ApiToken, hash: Option<&[u8]>) -> Result<()> {
        self.api_tokens_table
            .insert(token.id.0, encode(token).as_slice())?;
        if let Some(hash) = hash {
            self.api_tokens_by_hash_table.insert(hash, token.id.0)?;
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
        self.api_tokens_table
            .retain(|id, _| !doomed.contains(&id))?;
        self.api_tokens_by_hash_table
            .retain(|_, id| !doomed.contains(&id))?;
        Ok(())
    }

    pub(crate) fn put_operator(&mut self, op: &Operator) -> Result<()> {
        if let Some(old) = self.operator(op.id)? {
            self.operators_by_username_table
                .remove(old.username.to_lowercase().as_str())?;
        }
        self.operators_table
            .insert(op.id.0, encode(op).as_slice())?;
        self.operators_by_username_table
            .insert(op.username.to_lowercase().as_str(), op.id.0)?;
        Ok(())
    }

    pub(crate) fn put_plugin_version(&mut self, v: &PluginVersion) -> Result<()> {
        self.plugin_versions_table
            .insert((v.id.as_str(), v.version.as_str()), encode(v).as_slice())?;
        Ok(())
    }

    pub(crate) fn delete_plugin_version(&mut self, id: &str, version: &str) -> Result<()> {
        self.plugin_versions_table.remove((id, version))?;
        Ok(())
    }

    pub(crate) fn put_site_plugin(&mut self, p: &SitePlugin) -> Result<()> {
        self.site_plugins_table
            .insert((p.site.0, p.plugin.as_str()), encode(p).as_slice())?;
        Ok(())
    }

    pub(crate) fn put_session(&mut self, hash: &[u8], session: &Session) -> Result<()> {
        self.sessions_table
            .insert(hash, encode(session).as_slice())?;
        Ok(())
    }

    pub(crate) fn delete_session(&mut self, hash: &[u8]) -> Result<()> {
        self.sessions_table.remove(hash)?;
        Ok(())
    }

    /// Removes the sessions `doomed` says should go (expired ones, or all
    /// of a deleted site), in one pass.
    pub(crate) fn delete_sessions_where(
        &mut self,
        doomed: impl Fn(&Session) -> bool,
    ) -> Result<usize> {
        let mut removed = 0;
        self.sessions_table
            .retain(|_, v| match decode::<Session>("sessions", v) {
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
        self.site_plugins_table.retain(|(s, _), _| s != site.0)?;
        Ok(())
    }
}
