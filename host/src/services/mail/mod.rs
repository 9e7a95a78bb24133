//! E-mail (issue 17): the durable mail queue in each site's file, the
//! SMTP settings (a site's own or the operator's default), the e-mail
//! copies of announcements and the send worker's pass over every site.
//!
//! `queue` puts an announcement's copies into the queue inside the
//! caller's transaction and requeues failed copies; `settings` keeps the
//! SMTP settings (the password is only ever written); `preferences` is a
//! user's choice of e-mail copies; `message` renders one copy; `worker`
//! delivers what is due with lettre and records its progress.
//!
//! [`MailHost`] is the host-wide part: the operator's default settings,
//! the public address links in a message start from, one SMTP connection
//! per server reused across passes (`smtp`), and the worker's figures.
//! Nothing here ever writes a password into a log line, a page or an
//! answer, and no copy is marked sent before the server accepted it.

#[cfg(any(test, feature = "bench"))]
mod fixture;
pub mod message;
pub mod preferences;
pub mod queue;
pub mod settings;
pub mod smtp;
pub mod worker;

#[cfg(test)]
#[path = "../../../../tests/e2e/support/smtp_sink.rs"]
pub(crate) mod smtp_sink;
#[cfg(test)]
pub(crate) mod tests;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};

use crate::domain::{SmtpSettings, Timestamp};

// The announcement send transaction (services::announcements) calls it.
#[allow(unused_imports)]
pub(crate) use queue::queue_announcement_in;
pub use queue::{MailQueueOverview, SiteMailFigures};
pub use settings::{SmtpOverview, SmtpSettingsInput, SmtpSource};
pub use worker::MailPassReport;

/// The host-wide state of e-mail: shared by every site of the host.
pub struct MailHost {
    default_settings: RwLock<Option<SmtpSettings>>,
    /// `scheme://host[:port]` the host is reached at, without a trailing
    /// slash; a site's links are `{public_url}/s/{slug}/…`.
    public_url: RwLock<String>,
    /// Wakes the worker before its next poll (mail was queued).
    wake: tokio::sync::Notify,
    transports: Mutex<worker::TransportCache>,
    /// Held through a pass, so two never overlap (the worker and a test,
    /// or two callers).
    pass_lock: tokio::sync::Mutex<()>,
    figures: WorkerFigures,
    /// The first wait after a temporary failure, in milliseconds
    /// (`serve --mail-retry-secs`; [`worker::FIRST_BACKOFF`] by default).
    first_backoff_ms: AtomicU64,
}

impl Default for MailHost {
    fn default() -> Self {
        Self {
            default_settings: RwLock::new(None),
            public_url: RwLock::new("http://localhost".to_owned()),
            wake: tokio::sync::Notify::new(),
            transports: Mutex::new(worker::TransportCache::default()),
            pass_lock: tokio::sync::Mutex::new(()),
            figures: WorkerFigures::default(),
            first_backoff_ms: AtomicU64::new(
                u64::try_from(worker::FIRST_BACKOFF.as_millis()).unwrap_or(u64::MAX),
            ),
        }
    }
}

/// What the worker did since the host started: the figures the operator
/// page shows and the tests wait on (never on durations).
#[derive(Default)]
struct WorkerFigures {
    passes: AtomicU64,
    sent: AtomicU64,
    failed: AtomicU64,
    deferred: AtomicU64,
    last_pass_at: AtomicU64,
    last_error: Mutex<Option<String>>,
}

/// A copy of [`MailHost`]'s worker figures.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WorkerStats {
    /// Passes over the sites the worker finished.
    pub passes: u64,
    /// Copies the servers accepted.
    pub sent: u64,
    /// Copies recorded as failed.
    pub failed: u64,
    /// Times a job was put back to wait after a temporary failure.
    pub deferred: u64,
    /// When the last pass ended.
    pub last_pass_at: Option<Timestamp>,
    /// The last temporary failure, as the server or connection said it.
    pub last_error: Option<String>,
}

impl MailHost {
    /// The operator's default, used by every site without its own.
    pub fn default_settings(&self) -> Option<SmtpSettings> {
        self.default_settings
            .read()
            .map_or(None, |s| s.as_ref().cloned())
    }

    pub fn public_url(&self) -> String {
        self.public_url
            .read()
            .map_or_else(|_| String::new(), |u| u.clone())
    }

    /// The first wait after a temporary failure; each next one doubles.
    pub fn first_backoff(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.first_backoff_ms.load(Ordering::Relaxed))
    }

    /// Wakes the worker now rather than at its next poll.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Resolves when [`wake`](Self::wake) was called (once per call).
    pub async fn woken(&self) {
        self.wake.notified().await;
    }

    pub fn stats(&self) -> WorkerStats {
        let f = &self.figures;
        let at = f.last_pass_at.load(Ordering::Acquire);
        WorkerStats {
            passes: f.passes.load(Ordering::Acquire),
            sent: f.sent.load(Ordering::Relaxed),
            failed: f.failed.load(Ordering::Relaxed),
            deferred: f.deferred.load(Ordering::Relaxed),
            last_pass_at: (at > 0).then(|| Timestamp(i64::try_from(at).unwrap_or(i64::MAX))),
            last_error: f.last_error.lock().map_or(None, |e| e.clone()),
        }
    }

    fn record_pass(&self, report: &MailPassReport, now: Timestamp) {
        let f = &self.figures;
        f.sent.fetch_add(report.sent, Ordering::Relaxed);
        f.failed.fetch_add(report.failed, Ordering::Relaxed);
        f.deferred.fetch_add(report.deferred, Ordering::Relaxed);
        if let Some(e) = &report.last_error
            && let Ok(mut last) = f.last_error.lock()
        {
            *last = Some(e.clone());
        }
        f.last_pass_at
            .store(u64::try_from(now.0).unwrap_or(0), Ordering::Release);
        // Last, so a test that saw the pass count move sees its figures.
        f.passes.fetch_add(1, Ordering::AcqRel);
    }
}

impl crate::services::Services {
    pub fn mail(&self) -> &MailHost {
        &self.inner.mail
    }

    /// Sets the operator's default SMTP settings (`serve --smtp-…`),
    /// checked as a site's are; `None` leaves sites without their own
    /// settings inbox-only.
    pub fn set_default_smtp(
        &self,
        settings: Option<SmtpSettings>,
    ) -> crate::services::ServiceResult<()> {
        if let Some(s) = &settings {
            settings::check(s)?;
        }
        if let Ok(mut d) = self.inner.mail.default_settings.write() {
            *d = settings;
        }
        Ok(())
    }

    /// Sets the first wait after a temporary failure (`serve
    /// --mail-retry-secs`); each next one doubles, up to an hour.
    pub fn set_mail_first_retry(&self, wait: std::time::Duration) {
        let ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX).max(1);
        self.inner
            .mail
            .first_backoff_ms
            .store(ms, Ordering::Relaxed);
    }

    /// Sets the address people reach the host at, which the links in a
    /// message start from (`serve --public-url`).
    pub fn set_public_url(&self, url: &str) {
        if let Ok(mut u) = self.inner.mail.public_url.write() {
            *u = url.trim_end_matches('/').to_owned();
        }
    }
}
