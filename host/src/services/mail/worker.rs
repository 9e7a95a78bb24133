//! The send worker's pass: every due job of every active site, each copy
//! rendered and handed to the site's SMTP server over one connection per server (`smtp`)
//! that later copies and later passes reuse, and the progress recorded in
//! small transactions after delivery.
//!
//! A copy counts as sent only after the server accepted it, and a job's
//! cursor moves only in the transaction that counts it, so a crash sends
//! again at most the copies since the last save — at least once, never
//! lost, and a copy sent again carries the same Message-ID. A temporary
//! failure (a 4xx reply, a refused or timed-out connection) puts the job
//! back to wait, twice as long each time; a connection that fails backs
//! the job off without touching its recipients. A permanent one (5xx for
//! a recipient) records the copy as failed with the server's answer.
//!
//! The worker's storage reads and writes run on the blocking pool; only
//! the SMTP conversation runs on the async runtime.

use std::time::Duration;

use super::message::{AnnouncementMail, MailRecipient};
use super::smtp::{SendError, SmtpClient};
use crate::domain::{
    Audience, MailFailure, MailJob, SiteStatus, SmtpSettings, Timestamp, UserStatus,
};
use crate::services::announcements::markdown;
use crate::services::{Principal, ServiceError, ServiceResult, Services, SiteServices};
use crate::storage::site::prelude::*;

/// Temporary failures in a row of one copy before it is given up.
pub const MAX_ATTEMPTS: u32 = 10;
/// The first wait after a temporary failure; each next one doubles…
pub const FIRST_BACKOFF: Duration = Duration::from_secs(30);
/// …up to this.
pub const MAX_BACKOFF: Duration = Duration::from_secs(3600);
/// Jobs of one site a pass takes on; the rest wait for the next pass.
const JOBS_PER_PASS: usize = 64;
/// Copies sent between two saves of a job's progress: what a crash can
/// send twice, and how few transactions a fast server costs.
const SAVE_EVERY: usize = 64;
/// Passes a server's connection may go unused before it is closed.
const CLIENT_IDLE_PASSES: u64 = 60;

/// What one pass did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MailPassReport {
    /// Jobs worked on.
    pub jobs: u64,
    pub sent: u64,
    pub failed: u64,
    /// Jobs put back to wait after a temporary failure.
    pub deferred: u64,
    /// Copies whose recipient no longer takes e-mail (suspended, deleted,
    /// or turned e-mail copies off since they were queued).
    pub skipped: u64,
    pub last_error: Option<String>,
}

/// The wait before try number `attempts + 1`, after `attempts` temporary
/// failures in a row, with the default first wait.
pub fn backoff(attempts: u32) -> Duration {
    backoff_from(FIRST_BACKOFF, attempts)
}

/// [`backoff`] from a first wait of `first` (`serve --mail-retry-secs`).
pub fn backoff_from(first: Duration, attempts: u32) -> Duration {
    let doublings = attempts.saturating_sub(1).min(16);
    first.saturating_mul(1 << doublings).min(MAX_BACKOFF)
}

/// One connection per SMTP server, kept across passes so it is reused.
#[derive(Default)]
pub(super) struct TransportCache {
    entries: Vec<(SmtpClient, u64)>,
}

impl TransportCache {
    /// The client of `settings` (taken out while a site's jobs use it).
    fn take(&mut self, settings: &SmtpSettings) -> SmtpClient {
        match self
            .entries
            .iter()
            .position(|(c, _)| c.settings() == settings)
        {
            Some(i) => self.entries.swap_remove(i).0,
            None => SmtpClient::new(settings.clone()),
        }
    }

    fn put_back(&mut self, client: SmtpClient, pass: u64) {
        self.entries.push((client, pass));
    }

    /// Drops clients unused for a while (settings changed, queue empty),
    /// closing their connections.
    fn prune(&mut self, pass: u64) {
        self.entries
            .retain(|(_, used)| pass.saturating_sub(*used) < CLIENT_IDLE_PASSES);
    }
}

/// Runs `f` on the blocking pool (redb does file I/O).
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> ServiceResult<T> + Send + 'static,
) -> ServiceResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ServiceError::Internal(format!("the mail worker's task failed: {e}")))?
}

impl Services {
    /// One pass of the send worker as at `now`: every job due by then of
    /// every active site. The worker calls it on its schedule; tests call
    /// it with a `now` past a backoff instead of waiting. Passes never
    /// overlap. A site whose pass fails is logged and skipped.
    pub async fn send_due_mail(&self, now: Timestamp) -> MailPassReport {
        let mail = self.inner.mail.clone();
        let _one_pass = mail.pass_lock.lock().await;
        let pass = mail.stats().passes + 1;
        let mut report = MailPassReport::default();
        let services = self.clone();
        let sites = blocking(move || services.list_sites(&Principal::system())).await;
        match sites {
            Ok(sites) => {
                for site in sites.into_iter().filter(|s| s.status == SiteStatus::Active) {
                    let done = match self.site(site.id) {
                        Ok(s) => s.send_due(now, pass, &mut report).await,
                        Err(e) => Err(e),
                    };
                    if let Err(e) = done {
                        tracing::error!(site = %site.slug, error = %e, "the mail worker failed on a site");
                    }
                }
            }
            Err(e) => tracing::error!(error = %e, "the mail worker cannot list the sites"),
        }
        if let Ok(mut cache) = mail.transports.lock() {
            cache.prune(pass);
        }
        mail.record_pass(&report, now);
        report
    }
}

impl SiteServices {
    async fn send_due(
        &self,
        now: Timestamp,
        pass: u64,
        report: &mut MailPassReport,
    ) -> ServiceResult<()> {
        let s = self.clone();
        let (settings, jobs) = blocking(move || {
            let Some(settings) = s.effective_smtp()? else {
                return Ok((None, Vec::new()));
            };
            let jobs = s.read(|t| Ok(t.due_mail_jobs(now, JOBS_PER_PASS)?))?;
            Ok((Some(settings), jobs))
        })
        .await?;
        // Without settings the jobs wait: settings may come.
        let Some(settings) = settings else {
            return Ok(());
        };
        let mut client = self
            .mail
            .transports
            .lock()
            .map_err(|_| ServiceError::Internal("the SMTP client cache is poisoned".into()))?
            .take(&settings);
        client.new_pass();
        let done = self.send_jobs(&mut client, jobs, now, report).await;
        if let Ok(mut cache) = self.mail.transports.lock() {
            cache.put_back(client, pass);
        }
        done
    }

    async fn send_jobs(
        &self,
        client: &mut SmtpClient,
        jobs: Vec<MailJob>,
        now: Timestamp,
        report: &mut MailPassReport,
    ) -> ServiceResult<()> {
        for job in jobs {
            report.jobs += 1;
            let mut progress = Progress::of(&job, self.mail.first_backoff());
            let down = self.send_job(client, &job, now, &mut progress).await?;
            report.sent += progress.total_sent;
            report.failed += progress.total_failed;
            report.skipped += progress.total_skipped;
            if let Some(e) = &progress.last_error {
                report.deferred += 1;
                report.last_error = Some(e.clone());
            }
            self.save_progress(progress).await?;
            // The server is unreachable: the site's other jobs would fail
            // alike; they wait for the next pass.
            if down {
                break;
            }
        }
        Ok(())
    }

    /// Sends `job`'s copies from its cursor on, saving as it goes; whether
    /// the connection failed (not one recipient).
    async fn send_job(
        &self,
        client: &mut SmtpClient,
        job: &MailJob,
        now: Timestamp,
        progress: &mut Progress,
    ) -> ServiceResult<bool> {
        let s = self.clone();
        let j = job.clone();
        let public_url = self.mail.public_url();
        let Some((mail, recipients)) = blocking(move || s.load_job(&j, &public_url)).await? else {
            // The announcement is gone: nothing to send.
            progress.finish(job);
            return Ok(false);
        };
        for recipient in recipients {
            let Some(recipient) = recipient else {
                progress.skip();
                continue;
            };
            let from = client.settings().from_address.clone();
            let message = match mail.message(&recipient, &from) {
                Ok(m) => m,
                Err(e) => {
                    progress.fail(job, &recipient, now, e.to_string());
                    continue;
                }
            };
            match client.send(&message).await {
                Ok(()) => progress.sent(),
                Err(SendError::Permanent(e)) => progress.fail(job, &recipient, now, e),
                Err(SendError::Transient(e)) => {
                    // A 4xx concerns this copy: wait, or past the cap give
                    // it up and go on with the next.
                    if !progress.temporary(job, now, e, true) {
                        return Ok(false);
                    }
                    continue;
                }
                Err(SendError::Connection(e)) => {
                    progress.temporary(job, now, e, false);
                    return Ok(true);
                }
            }
            if progress.unsaved >= SAVE_EVERY {
                let saving = std::mem::replace(progress, progress.carry_on());
                self.save_progress(saving).await?;
            }
        }
        Ok(false)
    }

    /// What a job's copies need: the announcement rendered once, and each
    /// remaining recipient if they still take e-mail. `None` when the
    /// announcement is gone.
    fn load_job(
        &self,
        job: &MailJob,
        public_url: &str,
    ) -> ServiceResult<Option<(AnnouncementMail, Vec<Option<MailRecipient>>)>> {
        self.read(|t| {
            let Some(a) = t.announcement(job.announcement)? else {
                return Ok(None);
            };
            let author = t
                .user(a.author)?
                .map_or_else(|| format!("user #{}", a.author), |u| u.full_name());
            let audience = match &a.audience {
                Audience::Segment(id) => t.segment(*id)?.map_or_else(
                    || format!("segment #{id}"),
                    |s| format!("segment {}", s.name),
                ),
                Audience::Course(id) => course_label(t, *id)?,
                Audience::Groups { course, groups } => {
                    let mut names = Vec::with_capacity(groups.len());
                    for g in groups {
                        names.push(t.group(*g)?.map_or_else(|| format!("#{g}"), |g| g.name));
                    }
                    format!("{} of {}", names.join(", "), course_label(t, *course)?)
                }
                Audience::ForumSubscribers { forum, .. } => t.activity(*forum)?.map_or_else(
                    || format!("the subscribers of forum #{forum}"),
                    |f| format!("the subscribers of forum {}", f.name),
                ),
            };
            let mail = AnnouncementMail {
                site: self.site.id,
                site_name: self.site.name.clone(),
                site_url: format!("{public_url}/s/{}", self.site.slug),
                announcement: a.id,
                subject: a.subject.clone(),
                author,
                audience,
                body_html: markdown::render_html(&a.body),
                body_text: markdown::render_text(&a.body),
            };
            let without = t.users_without_announcement_emails()?;
            let mut recipients = Vec::with_capacity(job.remaining());
            for &id in job.recipients.iter().skip(job.next as usize) {
                let user = t.user(id)?.filter(|u| {
                    u.status == UserStatus::Active
                        && !u.email.trim().is_empty()
                        && !without.contains(&id)
                });
                recipients.push(user.map(|u| MailRecipient {
                    id,
                    name: u.full_name(),
                    email: u.email,
                }));
            }
            Ok(Some((mail, recipients)))
        })
    }

    /// Records `progress` in one transaction: the job's cursor and backoff
    /// (or the job gone when done), failed copies, and the announcement's
    /// delivery figures.
    async fn save_progress(&self, progress: Progress) -> ServiceResult<()> {
        if progress.is_empty() {
            return Ok(());
        }
        let s = self.clone();
        blocking(move || {
            s.write(|t| {
                let Some(stored) = t.mail_job(progress.job)? else {
                    return Ok(());
                };
                for f in &progress.failures {
                    t.put_mail_failure(f)?;
                }
                if let Some(mut a) = t.announcement(stored.announcement)? {
                    let d = &mut a.delivery;
                    d.sent += progress.sent;
                    d.failed += progress.failures.len() as u64;
                    d.queued = d.queued.saturating_sub(progress.skipped);
                    t.put_announcement(&a, None)?;
                }
                if progress.next as usize >= stored.recipients.len() {
                    t.delete_mail_job(&stored)?;
                } else {
                    let job = MailJob {
                        next: progress.next,
                        attempts: progress.attempts,
                        not_before: progress.not_before,
                        last_error: progress.last_error.clone(),
                        ..stored.clone()
                    };
                    t.put_mail_job(&job, Some(stored.not_before.0))?;
                }
                Ok(())
            })
        })
        .await
    }
}

fn course_label(t: &impl SiteRead, id: crate::domain::CourseId) -> ServiceResult<String> {
    Ok(t.course(id)?.map_or_else(
        || format!("course #{id}"),
        |c| format!("course {}", c.shortname),
    ))
}

/// A job's progress not yet saved, and what it did in total.
#[derive(Debug)]
struct Progress {
    job: crate::domain::MailId,
    /// The first wait after a temporary failure.
    first_backoff: Duration,
    next: u32,
    attempts: u32,
    not_before: Timestamp,
    last_error: Option<String>,
    /// Since the last save:
    sent: u64,
    skipped: u64,
    failures: Vec<MailFailure>,
    unsaved: usize,
    /// Since the job was taken on:
    total_sent: u64,
    total_failed: u64,
    total_skipped: u64,
}

impl Progress {
    fn of(job: &MailJob, first_backoff: Duration) -> Self {
        Self {
            job: job.id,
            first_backoff,
            next: job.next,
            attempts: job.attempts,
            not_before: job.not_before,
            last_error: job.last_error.clone(),
            sent: 0,
            skipped: 0,
            failures: Vec::new(),
            unsaved: 0,
            total_sent: 0,
            total_failed: 0,
            total_skipped: 0,
        }
    }

    /// The same job after a save: cursor and totals kept, nothing unsaved.
    fn carry_on(&self) -> Self {
        Self {
            last_error: self.last_error.clone(),
            failures: Vec::new(),
            sent: 0,
            skipped: 0,
            unsaved: 0,
            ..*self
        }
    }

    fn is_empty(&self) -> bool {
        self.unsaved == 0 && self.last_error.is_none()
    }

    fn step(&mut self) {
        self.next += 1;
        self.attempts = 0;
        self.unsaved += 1;
    }

    fn sent(&mut self) {
        self.sent += 1;
        self.total_sent += 1;
        self.last_error = None;
        self.step();
    }

    fn skip(&mut self) {
        self.skipped += 1;
        self.total_skipped += 1;
        self.step();
    }

    fn fail(&mut self, job: &MailJob, recipient: &MailRecipient, now: Timestamp, error: String) {
        self.failures.push(MailFailure {
            announcement: job.announcement,
            recipient: recipient.id,
            at: now,
            attempts: self.attempts + 1,
            error,
        });
        self.total_failed += 1;
        self.step();
    }

    /// A temporary failure of the copy at the cursor: the job waits, or
    /// past [`MAX_ATTEMPTS`] the copy (a 4xx for it) or every remaining
    /// copy (the connection) is given up. Whether the job goes on now.
    fn temporary(
        &mut self,
        job: &MailJob,
        now: Timestamp,
        error: String,
        for_recipient: bool,
    ) -> bool {
        let attempts = self.attempts + 1;
        if attempts < MAX_ATTEMPTS {
            self.attempts = attempts;
            let wait = i64::try_from(backoff_from(self.first_backoff, attempts).as_millis())
                .unwrap_or(i64::MAX);
            self.not_before = Timestamp(now.0.saturating_add(wait));
            self.last_error = Some(error);
            self.unsaved += 1;
            return false;
        }
        let reason = format!("given up after {attempts} attempts: {error}");
        let end = if for_recipient {
            self.next as usize + 1
        } else {
            job.recipients.len()
        };
        for &id in &job.recipients[(self.next as usize).min(end)..end] {
            self.failures.push(MailFailure {
                announcement: job.announcement,
                recipient: id,
                at: now,
                attempts,
                error: reason.clone(),
            });
            self.total_failed += 1;
            self.next += 1;
            self.unsaved += 1;
        }
        self.attempts = 0;
        self.last_error = None;
        for_recipient
    }

    /// The job has nothing left to send.
    fn finish(&mut self, job: &MailJob) {
        self.next = u32::try_from(job.recipients.len()).unwrap_or(u32::MAX);
        self.unsaved += 1;
    }
}
