//! When scheduled announcements go out: the host keeps, in memory, when
//! each site's soonest scheduled announcement is due, so the scheduler
//! job opens only the files of sites with one due instead of every site's
//! file on every tick (the idle-site sweep would never close one).
//!
//! The map is a cache of the sites' `scheduled-announcements` tables:
//! filled from them at the scheduler's first run, told of each new
//! schedule by the services, re-read for a site after its due ones are
//! sent. A site missing from it has nothing scheduled.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::domain::{SiteId, SiteStatus, Timestamp};
use crate::services::auth::Principal;
use crate::services::error::ServiceResult;
use crate::services::{Services, SiteServices};
use crate::storage::site::prelude::*;

#[derive(Default)]
pub(crate) struct DueAnnouncements {
    /// `None` until the first run has read every site.
    soonest: Mutex<Option<HashMap<SiteId, i64>>>,
}

impl DueAnnouncements {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<HashMap<SiteId, i64>>> {
        // A panic while holding it left a plain map: still usable.
        self.soonest.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Notes that `site` has an announcement scheduled at `at`.
    pub(crate) fn note(&self, site: SiteId, at: Timestamp) {
        if let Some(map) = self.lock().as_mut() {
            let slot = map.entry(site).or_insert(at.0);
            *slot = (*slot).min(at.0);
        }
    }

    fn set(&self, site: SiteId, at: Option<Timestamp>) {
        if let Some(map) = self.lock().as_mut() {
            match at {
                Some(at) => map.insert(site, at.0),
                None => map.remove(&site),
            };
        }
    }
}

impl SiteServices {
    /// Tells the scheduler that this site has an announcement due at `at`.
    pub(super) fn note_scheduled(&self, at: Timestamp) {
        self.due.note(self.site.id, at);
    }

    fn next_scheduled_at(&self) -> ServiceResult<Option<Timestamp>> {
        self.read(|t| Ok(t.next_scheduled_at()?))
    }
}

impl Services {
    /// Sends the due scheduled announcements of every active site; how
    /// many were sent. The scheduler job calls it on every tick; a site's
    /// failure is logged and the others go on.
    pub fn send_due_announcements(&self) -> ServiceResult<usize> {
        let due = &self.inner.due;
        {
            // Held while the sites are read: a schedule noted meanwhile
            // waits, rather than being lost between a site's read and the
            // map's arrival. Only the first run reads them.
            let mut slot = due.lock();
            if slot.is_none() {
                let mut map = HashMap::new();
                for site in self.list_sites(&Principal::system())? {
                    if site.status != SiteStatus::Active {
                        continue;
                    }
                    if let Some(at) = self.site(site.id)?.next_scheduled_at()? {
                        map.insert(site.id, at.0);
                    }
                }
                *slot = Some(map);
            }
        }
        let now = Timestamp::now().0;
        let ready: Vec<SiteId> = due
            .lock()
            .iter()
            .flatten()
            .filter(|(_, at)| **at <= now)
            .map(|(site, _)| *site)
            .collect();
        let mut sent = 0;
        for id in ready {
            let outcome = self.site(id).and_then(|site| {
                let n = site.send_due_announcements()?;
                due.set(id, site.next_scheduled_at()?);
                Ok(n)
            });
            match outcome {
                Ok(n) => sent += n,
                Err(e) => {
                    tracing::error!(site = %id, error = %e, "sending due announcements failed")
                }
            }
        }
        Ok(sent)
    }
}
