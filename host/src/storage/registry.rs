//! The registry file (`registry.redb`): the sites of this host and its
//! operator accounts. Plugins installed on the host join it later.

use redb::{
    ReadOnlyTable, ReadTransaction, ReadableDatabase, ReadableTable, ReadableTableMetadata, Table,
    TableDefinition, WriteTransaction,
};

use super::{Result, decode, encode, migrations};
use crate::domain::{Operator, OperatorId, Site, SiteId};

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

pub(crate) fn create_all_tables(tx: &WriteTransaction) -> Result<()> {
    tx.open_table(META)?;
    tx.open_table(SITES)?;
    tx.open_table(SITES_BY_SLUG)?;
    tx.open_table(SITES_BY_HOST)?;
    tx.open_table(OPERATORS)?;
    tx.open_table(OPERATORS_BY_USERNAME)?;
    Ok(())
}

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
}

pub struct RegistryReadTables {
    sites: ReadOnlyTable<u64, &'static [u8]>,
    sites_by_slug: ReadOnlyTable<&'static str, u64>,
    sites_by_host: ReadOnlyTable<&'static str, u64>,
    operators: ReadOnlyTable<u64, &'static [u8]>,
    operators_by_username: ReadOnlyTable<&'static str, u64>,
}

impl RegistryReadTables {
    fn open(tx: &ReadTransaction) -> Result<Self> {
        Ok(Self {
            sites: tx.open_table(SITES)?,
            sites_by_slug: tx.open_table(SITES_BY_SLUG)?,
            sites_by_host: tx.open_table(SITES_BY_HOST)?,
            operators: tx.open_table(OPERATORS)?,
            operators_by_username: tx.open_table(OPERATORS_BY_USERNAME)?,
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
}
