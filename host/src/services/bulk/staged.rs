//! Staged imports: the pages' upload → preview → apply (PRODUCT §5).
//!
//! A browser uploads a file once. Its dry run is shown as a preview, and
//! the admin applies it from that page, maybe minutes later: the file is
//! kept here between the two, in memory, under a random id, so the apply
//! runs exactly the bytes that were previewed and the browser need not
//! send them twice. Nothing of a staged file is in the site's data file
//! until it is applied, so a restart simply forgets it.
//!
//! Bounds, so uploads cannot grow the host without limit: a staged file
//! lives [`StagedLimits::ttl`] (an hour), a site keeps at most
//! [`StagedLimits::per_site`] of them and the host
//! [`StagedLimits::total`] and [`StagedLimits::total_bytes`]; past a
//! bound the oldest file that is not being applied is forgotten. Once
//! applied, the bytes go and only the reports stay.
//!
//! A staged file belongs to its site and to the admin who uploaded it:
//! anyone else asking for its id is told it does not exist (NotFound, not
//! Forbidden, so an id reveals nothing). Operators, who may do anything on
//! every site, may open any staged file of a site.
//!
//! Applying runs [`SiteServices::import_csv_with`] on a thread of its own
//! with an [`ImportProgress`] the page polls; a large file takes a second
//! or two and the request that started it answers at once. The import is
//! one write transaction whatever happens to the thread or the process.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::{
    DEFAULT_MAX_BYTES, ImportKind, ImportOptions, ImportProgress, ImportReport, ProgressSnapshot,
};
use crate::domain::{SiteId, Timestamp};
use crate::services::auth::{Need, authorize};
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::{Principal, SiteServices};

/// How many staged files, how large, for how long.
#[derive(Clone, Debug)]
pub struct StagedLimits {
    /// A staged file is forgotten this long after its upload (unless it
    /// is being applied).
    pub ttl: Duration,
    /// Staged files one site keeps.
    pub per_site: usize,
    /// Staged files the host keeps.
    pub total: usize,
    /// Bytes of staged files the host keeps (the newest file is always
    /// kept, even alone over this).
    pub total_bytes: usize,
}

impl Default for StagedLimits {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(3600),
            per_site: 16,
            total: 128,
            total_bytes: 256 * 1024 * 1024,
        }
    }
}

/// What became of the apply of a staged file.
#[derive(Clone, Debug)]
pub enum ApplyState {
    /// Previewed only.
    NotStarted,
    /// Running now.
    Running(Arc<ImportProgress>),
    /// Finished: the report says whether it was written (`applied`) or,
    /// if the site changed since the preview, why not.
    Finished(ImportReport),
    /// The import failed (a storage fault, or the uploader lost the
    /// right to import): what to tell the admin.
    Failed(String),
}

/// Where the apply of a staged file is, without its reports: what a
/// progress bar polls (twice a second, so it copies no report).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApplyStatus {
    NotStarted,
    Running(ProgressSnapshot),
    /// Finished or failed: the page has the outcome.
    Ended,
}

/// A staged file as its uploader sees it.
#[derive(Clone, Debug)]
pub struct StagedImport {
    pub id: String,
    pub kind: ImportKind,
    /// The name the browser gave the file (shown, never used as a path).
    pub filename: String,
    pub size: usize,
    pub uploaded_at: Timestamp,
    /// The dry run made at upload.
    pub preview: ImportReport,
    pub apply: ApplyState,
}

impl StagedImport {
    /// Where the apply is, for a progress bar: `None` before it starts.
    pub fn progress(&self) -> Option<ProgressSnapshot> {
        match &self.apply {
            ApplyState::Running(p) => Some(p.snapshot()),
            _ => None,
        }
    }
}

struct Entry {
    site: SiteId,
    owner: Principal,
    created: Instant,
    /// The file, until it is applied.
    bytes: Option<Arc<[u8]>>,
    view: StagedImport,
}

impl Entry {
    fn held_bytes(&self) -> usize {
        self.bytes.as_ref().map_or(0, |b| b.len())
    }

    fn running(&self) -> bool {
        matches!(self.view.apply, ApplyState::Running(_))
    }
}

/// The host's staged files (one per host, shared by its sites' services).
pub struct StagedImports {
    limits: StagedLimits,
    /// The upload limit of the pages and the JSON API (`serve
    /// --import-max-mib`), here so every client of the services reads
    /// the same figure.
    max_bytes: AtomicUsize,
    entries: Mutex<HashMap<String, Entry>>,
}

impl Default for StagedImports {
    fn default() -> Self {
        Self::with_limits(StagedLimits::default())
    }
}

impl StagedImports {
    pub fn with_limits(limits: StagedLimits) -> Self {
        Self {
            limits,
            max_bytes: AtomicUsize::new(DEFAULT_MAX_BYTES),
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub fn max_bytes(&self) -> usize {
        self.max_bytes.load(Ordering::Relaxed)
    }

    pub fn set_max_bytes(&self, max_bytes: usize) {
        self.max_bytes.store(max_bytes.max(1), Ordering::Relaxed);
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        // A panic while holding the lock leaves a consistent map (every
        // change is one insert or remove): carry on with it.
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Forgets files past their time, except those being applied.
    fn expire(&self, map: &mut HashMap<String, Entry>, now: Instant) {
        let ttl = self.limits.ttl;
        map.retain(|_, e| e.running() || now.duration_since(e.created) < ttl);
    }

    /// Keeps `entry` under `id`, first forgetting the oldest files that
    /// are not being applied until it fits every bound. Refused only when
    /// every file in the way is being applied.
    fn insert(&self, id: String, entry: Entry) -> ServiceResult<()> {
        let mut map = self.lock();
        let now = Instant::now();
        self.expire(&mut map, now);
        let site = entry.site;
        let incoming = entry.held_bytes();
        loop {
            let of_site = map.values().filter(|e| e.site == site).count();
            let held: usize = map.values().map(Entry::held_bytes).sum();
            let site_full = of_site >= self.limits.per_site;
            let host_full = map.len() >= self.limits.total
                || (held > 0 && held + incoming > self.limits.total_bytes);
            if !site_full && !host_full {
                break;
            }
            // A full site gives up one of its own files, not another
            // site's.
            let oldest = map
                .iter()
                .filter(|(_, e)| !e.running() && (!site_full || e.site == site))
                .min_by_key(|(_, e)| e.created)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => {
                    map.remove(&k);
                }
                None => {
                    return Err(ServiceError::Conflict(
                        "too many uploads are being applied right now; try again in a minute"
                            .into(),
                    ));
                }
            }
        }
        map.insert(id, entry);
        Ok(())
    }

    /// The entry `id` of `site` if `who` may see it.
    fn with_entry<T>(
        &self,
        site: SiteId,
        who: &Principal,
        id: &str,
        f: impl FnOnce(&mut Entry) -> T,
    ) -> ServiceResult<T> {
        let mut map = self.lock();
        self.expire(&mut map, Instant::now());
        match map.get_mut(id) {
            Some(e) if e.site == site && (e.owner == *who || who.is_operator()) => Ok(f(e)),
            _ => Err(ServiceError::not_found("upload")),
        }
    }

    #[cfg(test)]
    fn ids(&self) -> Vec<String> {
        let mut map = self.lock();
        self.expire(&mut map, Instant::now());
        map.keys().cloned().collect()
    }
}

impl SiteServices {
    /// The largest file an import accepts here (see
    /// [`StagedImports::max_bytes`]).
    pub fn import_max_bytes(&self) -> usize {
        self.staged.max_bytes()
    }

    /// The upload limit, for those who may import (site admins): what
    /// the upload page asks before it shows its forms.
    pub fn import_limit(&self, who: &Principal) -> ServiceResult<usize> {
        self.read(|t| authorize(&self.site, t, who, Need::SiteAdmin))?;
        Ok(self.import_max_bytes())
    }

    /// The template of `kind`, for a site admin (the pages offer it only
    /// to those who may import).
    pub fn import_template(
        &self,
        who: &Principal,
        kind: ImportKind,
    ) -> ServiceResult<&'static str> {
        self.read(|t| authorize(&self.site, t, who, Need::SiteAdmin))?;
        Ok(super::template_csv(kind))
    }

    /// Checks an uploaded file (a dry run) and keeps it for
    /// [`apply_staged_import`](Self::apply_staged_import). Site admins
    /// only. A file over the limit or empty is refused as the `file`
    /// field, and nothing is kept; a file with errors is kept, its
    /// preview saying what to correct.
    pub fn stage_import(
        &self,
        who: &Principal,
        kind: ImportKind,
        filename: &str,
        bytes: Vec<u8>,
    ) -> ServiceResult<StagedImport> {
        // Who first: a teacher learns nothing about the file's shape.
        self.read(|t| authorize(&self.site, t, who, Need::SiteAdmin))?;
        if bytes.is_empty() {
            return Err(ServiceError::invalid(
                "file",
                "choose a CSV file to upload (the one chosen is empty)",
            ));
        }
        // The dry run refuses a file over the limit, as the `file` field.
        let options = ImportOptions {
            max_bytes: self.import_max_bytes(),
            progress: None,
        };
        let preview = self.import_csv_with(who, kind, &bytes, true, &options)?;
        let id = crate::services::sessions::random_hex();
        // Keep a plain base name: browsers may send a path.
        let filename: String = filename
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or_default()
            .chars()
            .filter(|c| !c.is_control())
            .take(200)
            .collect();
        let view = StagedImport {
            id: id.clone(),
            kind,
            filename: if filename.is_empty() {
                format!("{kind}.csv")
            } else {
                filename
            },
            size: bytes.len(),
            uploaded_at: Timestamp::now(),
            preview,
            apply: ApplyState::NotStarted,
        };
        let entry = Entry {
            site: self.site.id,
            owner: who.clone(),
            created: Instant::now(),
            bytes: Some(bytes.into()),
            view: view.clone(),
        };
        self.staged.insert(id, entry)?;
        Ok(view)
    }

    /// A staged file of this site, for its uploader (or an operator).
    pub fn staged_import(&self, who: &Principal, id: &str) -> ServiceResult<StagedImport> {
        self.read(|t| authorize(&self.site, t, who, Need::SiteAdmin))?;
        self.staged
            .with_entry(self.site.id, who, id, |e| e.view.clone())
    }

    /// Where the apply of a staged file is (see [`ApplyStatus`]).
    pub fn staged_import_status(&self, who: &Principal, id: &str) -> ServiceResult<ApplyStatus> {
        self.read(|t| authorize(&self.site, t, who, Need::SiteAdmin))?;
        self.staged
            .with_entry(self.site.id, who, id, |e| match &e.view.apply {
                ApplyState::NotStarted => ApplyStatus::NotStarted,
                ApplyState::Running(p) => ApplyStatus::Running(p.snapshot()),
                ApplyState::Finished(_) | ApplyState::Failed(_) => ApplyStatus::Ended,
            })
    }

    /// Starts applying a staged file in the background and returns at
    /// once; [`staged_import`](Self::staged_import) then shows its
    /// progress and, when done, its outcome. A file whose preview has
    /// errors is refused (nothing would be written). Asking again while
    /// it runs or after it finished starts nothing: the answer is the
    /// state it is in, so a double click or a resent form applies once.
    pub fn apply_staged_import(&self, who: &Principal, id: &str) -> ServiceResult<StagedImport> {
        self.read(|t| authorize(&self.site, t, who, Need::SiteAdmin))?;
        let progress = Arc::new(ImportProgress::default());
        let started = self.staged.with_entry(self.site.id, who, id, |e| {
            if !matches!(e.view.apply, ApplyState::NotStarted) {
                return Ok(None);
            }
            if e.view.preview.has_errors() {
                return Err(ServiceError::Conflict(
                    "the file has errors, so nothing will be written; upload a corrected file"
                        .into(),
                ));
            }
            let Some(bytes) = e.bytes.clone() else {
                return Ok(None);
            };
            e.view.apply = ApplyState::Running(progress.clone());
            Ok(Some((bytes, e.view.clone())))
        })??;
        let Some((bytes, view)) = started else {
            return self.staged_import(who, id);
        };
        let site = self.clone();
        let who = who.clone();
        let id_owned = id.to_owned();
        let options = ImportOptions {
            max_bytes: self.import_max_bytes(),
            progress: Some(progress),
        };
        let spawned = std::thread::Builder::new()
            .name("charon-import".into())
            .spawn(move || {
                let outcome = site.import_csv_with(&who, view.kind, &bytes, false, &options);
                let state = match outcome {
                    Ok(report) => ApplyState::Finished(report),
                    Err(e) => {
                        if matches!(e, ServiceError::Storage(_) | ServiceError::Internal(_)) {
                            tracing::error!(error = %e, "a staged CSV import failed");
                        }
                        ApplyState::Failed(e.to_string())
                    }
                };
                site.staged.finish(&id_owned, state);
            });
        if let Err(e) = spawned {
            self.staged.finish(
                id,
                ApplyState::Failed("the import could not be started; try again".into()),
            );
            return Err(ServiceError::Internal(format!(
                "cannot start an import thread: {e}"
            )));
        }
        Ok(view)
    }
}

impl SiteServices {
    /// Marks a staged file as being applied with `progress`, without
    /// applying it: how page tests see a running import.
    #[cfg(test)]
    pub(crate) fn pretend_running(&self, id: &str, progress: Arc<ImportProgress>) {
        if let Some(e) = self.staged.lock().get_mut(id) {
            e.view.apply = ApplyState::Running(progress);
        }
    }
}

impl StagedImports {
    /// Records the end of an apply and lets the bytes go.
    fn finish(&self, id: &str, state: ApplyState) {
        let mut map = self.lock();
        if let Some(e) = map.get_mut(id) {
            e.view.apply = state;
            e.bytes = None;
            // The hour starts again, so the outcome can still be read.
            e.created = Instant::now();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::UserId;

    fn entry(site: u64, bytes: usize) -> Entry {
        let kind = ImportKind::Segments;
        Entry {
            site: SiteId(site),
            owner: Principal::site_user(SiteId(site), UserId(1)),
            created: Instant::now(),
            bytes: Some(vec![b'a'; bytes].into()),
            view: StagedImport {
                id: String::new(),
                kind,
                filename: "f.csv".into(),
                size: bytes,
                uploaded_at: Timestamp::now(),
                preview: ImportReport {
                    kind,
                    dry_run: true,
                    applied: false,
                    rows: 0,
                    errors: vec![],
                    warnings: vec![],
                    error_count: 0,
                    warning_count: 0,
                    changes: Default::default(),
                },
                apply: ApplyState::NotStarted,
            },
        }
    }

    fn sorted(mut ids: Vec<String>) -> Vec<String> {
        ids.sort();
        ids
    }

    #[test]
    fn staged_files_expire() {
        let store = StagedImports::with_limits(StagedLimits {
            ttl: Duration::from_millis(20),
            ..StagedLimits::default()
        });
        store.insert("a".into(), entry(1, 10)).unwrap();
        assert_eq!(store.ids(), ["a"]);
        std::thread::sleep(Duration::from_millis(30));
        assert!(store.ids().is_empty(), "forgotten after its time");
    }

    #[test]
    fn a_file_being_applied_does_not_expire_nor_get_evicted() {
        let store = StagedImports::with_limits(StagedLimits {
            ttl: Duration::from_millis(20),
            per_site: 1,
            ..StagedLimits::default()
        });
        let mut running = entry(1, 10);
        running.view.apply = ApplyState::Running(Arc::default());
        store.insert("a".into(), running).unwrap();
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(store.ids(), ["a"]);
        let refused = store.insert("b".into(), entry(1, 10));
        assert!(
            matches!(refused, Err(ServiceError::Conflict(_))),
            "{refused:?}"
        );
        // Finished, it ages again from its end.
        store.finish("a", ApplyState::Failed("x".into()));
        std::thread::sleep(Duration::from_millis(30));
        assert!(store.ids().is_empty());
    }

    #[test]
    fn the_oldest_files_make_room_per_site_by_count_and_per_host_by_bytes() {
        let store = StagedImports::with_limits(StagedLimits {
            per_site: 2,
            total: 4,
            total_bytes: 100,
            ..StagedLimits::default()
        });
        for id in ["a1", "a2", "a3"] {
            store.insert(id.into(), entry(1, 10)).unwrap();
            std::thread::sleep(Duration::from_millis(2));
        }
        assert_eq!(sorted(store.ids()), ["a2", "a3"], "a site keeps two");
        store.insert("b1".into(), entry(2, 10)).unwrap();
        std::thread::sleep(Duration::from_millis(2));
        store.insert("b2".into(), entry(2, 10)).unwrap();
        std::thread::sleep(Duration::from_millis(2));
        assert_eq!(store.ids().len(), 4);
        // Host full by count: the oldest of any site goes.
        store.insert("c1".into(), entry(3, 10)).unwrap();
        assert_eq!(sorted(store.ids()), ["a3", "b1", "b2", "c1"]);
        std::thread::sleep(Duration::from_millis(2));
        // Host full by bytes: 40 held + 95 > 100, so the older go.
        store.insert("c2".into(), entry(3, 95)).unwrap();
        assert_eq!(sorted(store.ids()), ["c2"]);
        // A file alone over the byte bound is still kept.
        store.insert("d".into(), entry(4, 500)).unwrap();
        assert_eq!(store.ids(), ["d"]);
    }

    #[test]
    fn another_user_or_site_finds_nothing() {
        let store = StagedImports::default();
        store.insert("a".into(), entry(1, 10)).unwrap();
        let owner = Principal::site_user(SiteId(1), UserId(1));
        assert!(store.with_entry(SiteId(1), &owner, "a", |_| ()).is_ok());
        for (site, who) in [
            (SiteId(1), Principal::site_user(SiteId(1), UserId(2))),
            (SiteId(2), Principal::site_user(SiteId(2), UserId(1))),
            (SiteId(2), owner.clone()),
        ] {
            let found = store.with_entry(site, &who, "a", |_| ());
            assert!(matches!(found, Err(ServiceError::NotFound(_))), "{found:?}");
        }
    }
}
