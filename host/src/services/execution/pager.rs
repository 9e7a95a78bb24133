//! The one reconcile page loop: asks a [`PageSource`] for page after page,
//! hands each page's plan to a [`PageSink`], and stops a source whose
//! cursor repeats or never ends. The reconcile and its dry run, the preview
//! of a new method and the native benchmark differ only in their source
//! and sink.

use std::collections::HashSet;
use std::sync::Arc;

use crate::domain::*;
use crate::services::SiteServices;
use crate::services::contract::{Answer, Ask, Refusal};
use crate::services::error::{MethodFailure, ServiceError, ServiceResult};
use crate::services::queries::UsersSeen;
use crate::storage::site::prelude::*;

/// Most pages one reconcile runs; a plugin whose cursor never ends is
/// stopped here.
pub const MAX_RECONCILE_PAGES: u64 = 100_000;

/// Where a reconcile's pages come from.
pub(super) trait PageSource {
    /// The page after `cursor` (`None`: the first) for method `m` as it
    /// is now, with the users its queries found active.
    fn page(
        &mut self,
        site: &SiteServices,
        m: &EnrolmentMethod,
        cursor: Option<&str>,
    ) -> ServiceResult<(Result<Answer, Refusal>, Arc<UsersSeen>)>;
}

/// The method's plugin, in its sandbox: what every reconcile runs.
pub(super) struct Sandbox;

impl PageSource for Sandbox {
    fn page(
        &mut self,
        site: &SiteServices,
        m: &EnrolmentMethod,
        cursor: Option<&str>,
    ) -> ServiceResult<(Result<Answer, Refusal>, Arc<UsersSeen>)> {
        site.call_plugin(m, Ask::Reconcile(cursor))
    }
}

/// What is done with each page's plan.
pub(super) trait PageSink {
    /// Takes the plan of method `m`'s page (`last`: no page follows).
    /// Returns whether the plan may have disabled or deleted the method,
    /// so that the next page is asked for the method as it is then.
    fn take(
        &mut self,
        site: &SiteServices,
        m: &EnrolmentMethod,
        plan: Plan,
        seen: &UsersSeen,
        last: bool,
    ) -> ServiceResult<bool>;
}

/// Runs method `m`'s reconcile from the first page to the last, each
/// page from `source` into `sink`. A refusal is `ServiceError::Refused`, a
/// cursor that repeats or a reconcile past [`MAX_RECONCILE_PAGES`] pages
/// is `PluginFailed` (`reconcile_endless`); `record` also records them as
/// the method's last error (not for a dry run, which writes nothing).
pub(super) fn run_pages(
    site: &SiteServices,
    m: &EnrolmentMethod,
    source: &mut impl PageSource,
    sink: &mut impl PageSink,
    record: bool,
) -> ServiceResult<()> {
    let mut cursor: Option<String> = None;
    let mut cursors = Cursors::default();
    // A page may disable the method: later pages see it as it is.
    let mut m = m.clone();
    loop {
        if let Err(message) = cursors.page() {
            return Err(endless(site, &m, message, record));
        }
        let (answer, seen) = source.page(site, &m, cursor.as_deref())?;
        let answer = answer.map_err(|refusal| {
            if record {
                site.record_refusal(m.id, &refusal);
            }
            ServiceError::from(refusal)
        })?;
        let changed = sink.take(site, &m, answer.plan, &seen, answer.next.is_none())?;
        let Some(next) = answer.next else {
            return Ok(());
        };
        if changed {
            match site.read(|t| Ok(t.method(m.id)?))? {
                Some(now) => m = now,
                // Deleted by its own plan: nothing left to reconcile.
                None => return Ok(()),
            }
        }
        match cursors.next(next) {
            Ok(next) => cursor = Some(next),
            Err(message) => return Err(endless(site, &m, message, record)),
        }
    }
}

/// A reconcile that would never finish, as its failure.
fn endless(
    site: &SiteServices,
    m: &EnrolmentMethod,
    message: String,
    record: bool,
) -> ServiceError {
    let code = MethodFailure::ReconcileEndless;
    if record {
        site.record_method_error(m.id, &code, &message);
    }
    ServiceError::PluginFailed { code, message }
}

/// Guards a reconcile's paging against a plugin whose cursor never ends:
/// at most [`MAX_RECONCILE_PAGES`] pages, and no cursor twice.
#[derive(Default)]
struct Cursors {
    pages: u64,
    seen: HashSet<String>,
}

impl Cursors {
    /// Counts the page about to be asked for; why not, past the limit.
    fn page(&mut self) -> Result<(), String> {
        if self.pages >= MAX_RECONCILE_PAGES {
            return Err(format!(
                "reconcile did not finish in {MAX_RECONCILE_PAGES} pages"
            ));
        }
        self.pages += 1;
        Ok(())
    }

    /// The plugin's next cursor, or why it would never finish.
    fn next(&mut self, next: String) -> Result<String, String> {
        if self.seen.insert(next.clone()) {
            Ok(next)
        } else {
            Err(format!(
                "reconcile returned the cursor {next:?} twice; it would never finish"
            ))
        }
    }
}
