//! When a reconcile's pages commit durably.

use crate::domain::Plan;
use crate::services::SiteServices;
use crate::services::error::ServiceResult;

/// By default a reconcile page waits for the disk when the last one that
/// did is this old (`serve --reconcile-durable-ms`). Every page waiting
/// costs a disk sync per 1,000 users (most of a 100,000-member sync on a
/// slow disk); none waiting would let a crash take back everything a long
/// reconcile had shown. A crash loses at most this much work, in whole
/// pages, and the start-up reconcile redoes it.
pub const DEFAULT_DURABLE_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

/// When a reconcile's pages commit durably (see [`DEFAULT_DURABLE_EVERY`]).
pub(super) struct Pacing {
    every: std::time::Duration,
    last_durable: std::time::Instant,
    /// A page committed without waiting since the last durable one.
    pending: bool,
}

impl Pacing {
    pub(super) fn new(every: std::time::Duration) -> Self {
        Pacing {
            every,
            last_durable: std::time::Instant::now(),
            pending: false,
        }
    }

    /// Whether this page's commit waits for the disk.
    pub(super) fn durable(&mut self, plan: &Plan, dry_run: bool, last: bool) -> bool {
        if dry_run || plan.actions.is_empty() {
            // No commit at all.
            return false;
        }
        if last || self.last_durable.elapsed() >= self.every {
            self.last_durable = std::time::Instant::now();
            self.pending = false;
            true
        } else {
            self.pending = true;
            false
        }
    }

    /// Makes the pages that did not wait durable (e.g. when the last page
    /// changed nothing).
    pub(super) fn finish(&self, site: &SiteServices) -> ServiceResult<()> {
        if self.pending { site.flush() } else { Ok(()) }
    }
}
