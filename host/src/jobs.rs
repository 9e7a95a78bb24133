//! The host's background jobs, started together with the server and
//! stopped with it: the event dispatcher (committed events to enrolment
//! methods), the reconciler (every method after start-up, then on a
//! schedule), the announcement scheduler (sends scheduled announcements
//! when they are due), the idle-site sweep (closes site files nobody
//! used) and the mail worker (the due e-mail copies of every site,
//! `services::mail`).
//!
//! Each is a tokio task that does its work on the blocking pool (redb does
//! file I/O and plugins run for up to their deadline), never on an HTTP
//! worker, and only through the services; the mail worker talks SMTP
//! asynchronously on this runtime and reads and writes on the pool. A job that fails logs it and
//! goes on; none of them owns data, so aborting one mid-way loses nothing a
//! later run would not redo (each plan is its own transaction and the
//! dispatcher's cursor moves only after delivery).

use std::collections::HashSet;
use std::time::Duration;

use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::task::JoinHandle;

use crate::domain::{SiteId, SiteStatus};
use crate::services::{Principal, ServiceError, ServiceResult, Services};

/// When the jobs run.
#[derive(Clone, Debug)]
pub struct Schedule {
    /// How often every enrolment method is reconciled (always once right
    /// after start); `None` only then.
    pub reconcile_every: Option<Duration>,
    /// A site file nobody used for this long is closed…
    pub site_idle_after: Duration,
    /// …by a sweep that runs this often.
    pub site_idle_check_every: Duration,
    /// How often the scheduled announcements that are due are sent.
    pub announcements_every: Duration,
    /// How often the mail worker looks for due mail when nobody woke it.
    pub mail_poll_every: Duration,
}

/// The running jobs; [`stop`](Self::stop) (or dropping it) aborts them.
pub struct Jobs {
    tasks: Vec<JoinHandle<()>>,
}

impl Jobs {
    /// Starts every job on `services`. Must run inside a tokio runtime.
    pub fn start(services: &Services, schedule: &Schedule) -> Self {
        let tasks = vec![
            tokio::spawn(close_idle_sites(
                services.clone(),
                schedule.site_idle_check_every,
                schedule.site_idle_after,
            )),
            // Enrolment methods hear the services' events from here on, and
            // first catch up on whatever the outbox holds.
            tokio::spawn(run_dispatcher(services.clone())),
            // What a killed process left half done is finished now, and
            // drift (a plugin fixed, an event lost to a crash) on every
            // schedule.
            tokio::spawn(run_reconciler(services.clone(), schedule.reconcile_every)),
            tokio::spawn(send_due_announcements(
                services.clone(),
                schedule.announcements_every,
            )),
            // Mail a stopped process left in the queues goes out now.
            tokio::spawn(run_mail_worker(services.clone(), schedule.mail_poll_every)),
        ];
        Jobs { tasks }
    }

    /// Aborts every job. Work already on the blocking pool (a dispatch
    /// round, a reconcile page) finishes there.
    pub fn stop(self) {
        drop(self);
    }
}

impl Drop for Jobs {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Delivers committed events to the methods as they are published, on
/// the blocking pool (plugin calls never run on an HTTP worker). Catches up
/// every site's outbox first, and again whenever the bus overflowed.
/// Runs until its task is aborted.
async fn run_dispatcher(services: Services) {
    let mut rx = services.events().subscribe();
    let mut all_sites = true;
    loop {
        let sites: Vec<SiteId> = if all_sites {
            let s = services.clone();
            match tokio::task::spawn_blocking(move || s.list_sites(&Principal::system())).await {
                Ok(Ok(sites)) => sites.into_iter().map(|s| s.id).collect(),
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "the event dispatcher cannot list the sites");
                    Vec::new()
                }
                Err(e) => {
                    tracing::error!(error = %e, "the event dispatcher cannot list the sites");
                    Vec::new()
                }
            }
        } else {
            Vec::new()
        };
        let mut wanted: HashSet<SiteId> = sites.into_iter().collect();
        all_sites = false;
        if wanted.is_empty() {
            match rx.recv().await {
                Ok(e) => {
                    wanted.insert(e.site);
                }
                Err(RecvError::Lagged(_)) => {
                    all_sites = true;
                    continue;
                }
                Err(RecvError::Closed) => return,
            }
        }
        // Whatever else arrived meanwhile is handled by the same pass.
        loop {
            match rx.try_recv() {
                Ok(e) => {
                    wanted.insert(e.site);
                }
                Err(TryRecvError::Lagged(_)) => all_sites = true,
                Err(_) => break,
            }
        }
        for site in wanted {
            let s = services.clone();
            let done = tokio::task::spawn_blocking(move || {
                let site = s.site(site)?;
                let report = site.dispatch_pending()?;
                // What the round committed lazily is made durable now, a
                // few milliseconds behind the live path.
                if report.events > 0 {
                    site.flush()?;
                }
                Ok::<_, ServiceError>(report)
            })
            .await;
            match done {
                Ok(Ok(r)) if r.calls > 0 => {
                    tracing::debug!(site = %site, events = r.events, calls = r.calls, applied = r.applied, errors = r.errors, "dispatched events")
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::error!(site = %site, error = %e, "event dispatch failed"),
                Err(e) => tracing::error!(site = %site, error = %e, "event dispatch panicked"),
            }
        }
    }
}

/// Reconciles every method of every site once now (after a start, to
/// finish what a stopped or killed process left half done), then every
/// `every` if set. Each site runs on the blocking pool; a failure is
/// logged and recorded on its method, and the job goes on.
async fn run_reconciler(services: Services, every: Option<Duration>) {
    loop {
        let s = services.clone();
        let done = tokio::task::spawn_blocking(move || -> ServiceResult<(usize, usize)> {
            let mut methods = 0;
            let mut failed = 0;
            for site in s.list_sites(&Principal::system())? {
                if site.status != SiteStatus::Active {
                    continue;
                }
                let site = s.site(site.id)?;
                // Rules first: the methods that sync their segments then
                // see the members the rules settled on.
                site.reconcile_segment_rules()?;
                let results = site.reconcile_all()?;
                methods += results.len();
                failed += results.iter().filter(|r| r.error.is_some()).count();
            }
            Ok((methods, failed))
        })
        .await;
        match done {
            Ok(Ok((methods, failed))) => {
                tracing::info!(methods, failed, "reconciled every enrolment method")
            }
            Ok(Err(e)) => tracing::error!(error = %e, "the reconcile job failed"),
            Err(e) => tracing::error!(error = %e, "the reconcile job panicked"),
        }
        match every {
            Some(every) => tokio::time::sleep(every).await,
            None => return,
        }
    }
}

/// Sends the scheduled announcements that are due, every `every` (so one
/// goes out at most that long after its time). The services know which
/// sites have one due without opening the others' files.
async fn send_due_announcements(services: Services, every: Duration) {
    let mut tick = tokio::time::interval(every.max(Duration::from_millis(10)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let s = services.clone();
        match tokio::task::spawn_blocking(move || s.send_due_announcements()).await {
            Ok(Ok(0)) => {}
            Ok(Ok(sent)) => tracing::info!(sent, "sent scheduled announcements"),
            Ok(Err(e)) => tracing::error!(error = %e, "the announcement scheduler failed"),
            Err(e) => tracing::error!(error = %e, "the announcement scheduler panicked"),
        }
    }
}

/// Sends the due mail of every site, then waits for the next poll or for
/// mail queued meanwhile. A copy counts as sent only once its server
/// accepted it, so aborting a pass loses nothing: the next process sends
/// again what was not recorded (with the same Message-ID).
async fn run_mail_worker(services: Services, every: Duration) {
    loop {
        let report = services
            .send_due_mail(crate::domain::Timestamp::now())
            .await;
        if report.jobs > 0 {
            tracing::info!(
                jobs = report.jobs,
                sent = report.sent,
                failed = report.failed,
                deferred = report.deferred,
                last_error = report.last_error.as_deref().unwrap_or(""),
                "mail pass"
            );
        }
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            () = services.mail().woken() => {}
        }
    }
}

/// Closes site files nobody used for `idle`, every `every`. Closing may
/// flush a file, so it runs on the blocking pool.
async fn close_idle_sites(services: Services, every: Duration, idle: Duration) {
    let mut tick = tokio::time::interval(every.max(Duration::from_millis(10)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        let s = services.clone();
        match tokio::task::spawn_blocking(move || (s.close_idle_sites(idle), s.open_site_count()))
            .await
        {
            Ok((0, _)) => {}
            Ok((closed, open)) => tracing::debug!(closed, open, "closed idle site files"),
            Err(e) => tracing::warn!(error = %e, "the idle-site sweep failed"),
        }
    }
}
