//! Site files opened on demand and closed when idle.
//!
//! A host may register hundreds of sites while only a few are busy; keeping
//! every redb file open would cost a file handle, a page cache and memory
//! per site. [`SitePool`] opens a site's file on first use, hands out
//! shared [`SiteStore`] handles, and [`SitePool::close_idle`] drops files
//! nobody has used for a while and nobody holds.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redb::ReadableDatabase;

use super::site::{SiteReadTables, SiteTables};
use super::{Result, StorageError, migrations};
use crate::domain::{EventEnvelope, Site, SiteId};

/// One open site file.
pub struct SiteStore {
    db: redb::Database,
    site: SiteId,
}

impl SiteStore {
    /// Opens (creating if needed) and migrates a site file.
    pub fn open(path: &Path, site: SiteId) -> Result<Self> {
        let db = super::open_database(path)?;
        migrations::migrate(&db, path, migrations::SITE_MIGRATIONS)?;
        Ok(Self { db, site })
    }

    pub fn site_id(&self) -> SiteId {
        self.site
    }

    /// Runs `f` in one write transaction. It commits only if `f` returns
    /// `Ok`; an error drops the transaction and nothing is written. Returns
    /// the events `f` emitted, for publishing after the commit.
    pub fn write<T, E: From<StorageError>>(
        &self,
        f: impl FnOnce(&mut SiteTables<'_>) -> std::result::Result<T, E>,
    ) -> std::result::Result<(T, Vec<EventEnvelope>), E> {
        self.write_with(redb::Durability::Immediate, f)
    }

    /// As [`write`](Self::write), but the commit does not wait for the
    /// disk: it is visible at once and made durable by the next durable
    /// commit; a crash before that loses it whole (never part of it). For
    /// work that is redone anyway after a crash: the dispatcher's cursor
    /// (events are delivered again) and all but the last page of a
    /// reconcile (the start-up reconcile redoes them).
    pub fn write_lazy<T, E: From<StorageError>>(
        &self,
        f: impl FnOnce(&mut SiteTables<'_>) -> std::result::Result<T, E>,
    ) -> std::result::Result<(T, Vec<EventEnvelope>), E> {
        self.write_with(redb::Durability::None, f)
    }

    /// Moves the event dispatcher's cursor, lazily (see
    /// [`write_lazy`](Self::write_lazy)). Opens only the one table it
    /// writes: opening (and at commit, closing) every table of the site is
    /// most of the cost of so small a transaction.
    pub fn set_dispatch_cursor_lazy(&self, seq: u64) -> Result<()> {
        let mut tx = self.db.begin_write()?;
        tx.set_durability(redb::Durability::None)
            .map_err(redb::Error::from)?;
        tx.open_table(super::site::defs::DISPATCH)?
            .insert("cursor", seq)?;
        tx.commit()?;
        Ok(())
    }

    /// Makes every earlier commit durable: one durable commit of nothing.
    pub fn sync(&self) -> Result<()> {
        let mut tx = self.db.begin_write()?;
        tx.set_durability(redb::Durability::Immediate)
            .map_err(redb::Error::from)?;
        tx.commit()?;
        Ok(())
    }

    fn write_with<T, E: From<StorageError>>(
        &self,
        durability: redb::Durability,
        f: impl FnOnce(&mut SiteTables<'_>) -> std::result::Result<T, E>,
    ) -> std::result::Result<(T, Vec<EventEnvelope>), E> {
        let mut tx = self.db.begin_write().map_err(StorageError::from)?;
        tx.set_durability(durability)
            .map_err(|e| StorageError::from(redb::Error::from(e)))?;
        let (out, events) = {
            let mut tables = SiteTables::open(&tx, self.site)?;
            let out = f(&mut tables)?;
            tables.flush()?;
            (out, std::mem::take(&mut tables.pending))
        };
        tx.commit().map_err(StorageError::from)?;
        Ok((out, events))
    }

    /// Every table of the file, byte for byte, in one read snapshot.
    /// Fails if the file holds a table the schema does not define, so a
    /// stray table cannot hide from a comparison.
    #[cfg(test)]
    pub(crate) fn snapshot(&self) -> Result<super::site::TableDump> {
        use redb::TableHandle;
        let tx = self.db.begin_read()?;
        let dump = super::site::dump_all_tables(&tx)?;
        for handle in tx.list_tables()? {
            if !dump.iter().any(|(name, _)| name == handle.name()) {
                return Err(StorageError::Corrupt {
                    table: "(schema)",
                    reason: format!("table {:?} is not in the site schema", handle.name()),
                });
            }
        }
        Ok(dump)
    }

    /// One consistent read snapshot that outlives this call: the tables
    /// keep their transaction alive. For a plugin call, whose queries all
    /// answer from the same state however long it runs.
    pub fn read_tables(&self) -> Result<SiteReadTables> {
        Ok(SiteReadTables::open(self.db.begin_read()?))
    }

    /// Runs `f` on one consistent read snapshot.
    pub fn read<T, E: From<StorageError>>(
        &self,
        f: impl FnOnce(&SiteReadTables) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let tx = self.db.begin_read().map_err(StorageError::from)?;
        f(&SiteReadTables::open(tx))
    }
}

struct Entry {
    store: Arc<SiteStore>,
    last_used: Instant,
}

/// The open site files of a host.
pub struct SitePool {
    dir: PathBuf,
    open: Mutex<HashMap<SiteId, Entry>>,
}

impl SitePool {
    /// `dir` is the folder holding `{slug}.redb` files; created if missing.
    pub fn new(dir: PathBuf) -> Result<Self> {
        super::private::create_private_dir(&dir)?;
        Ok(Self {
            dir,
            open: Mutex::new(HashMap::new()),
        })
    }

    pub fn path_of(&self, site: &Site) -> PathBuf {
        self.dir.join(format!("{}.redb", site.slug))
    }

    /// The store of `site`, opening its file if it is not open.
    pub fn get(&self, site: &Site) -> Result<Arc<SiteStore>> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(entry) = open.get_mut(&site.id) {
            entry.last_used = Instant::now();
            return Ok(entry.store.clone());
        }
        // Opening under the lock keeps two requests from opening one file twice.
        let store = Arc::new(SiteStore::open(&self.path_of(site), site.id)?);
        open.insert(
            site.id,
            Entry {
                store: store.clone(),
                last_used: Instant::now(),
            },
        );
        Ok(store)
    }

    /// Closes files unused for `idle` and not held by anyone. Returns how
    /// many it closed.
    pub fn close_idle(&self, idle: Duration) -> usize {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let before = open.len();
        open.retain(|_, e| e.last_used.elapsed() < idle || Arc::strong_count(&e.store) > 1);
        before - open.len()
    }

    /// Forgets `site`'s open file, e.g. before deleting it. The file closes
    /// when the last holder drops its handle.
    pub fn evict(&self, site: SiteId) {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        open.remove(&site);
    }

    pub fn open_count(&self) -> usize {
        self.open.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}
