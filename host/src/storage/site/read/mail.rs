//! Queries about the mail queue and the site's SMTP settings: the jobs
//! that are due, the queue's jobs and failed copies as pages list them,
//! and what the queue holds in figures.
//!
//! Never decides whether mail may go out or to whom; the services do.

use redb::{ReadableTable, ReadableTableMetadata};

use super::{SiteTablesRead, get_record};
use crate::domain::{
    AnnouncementId, MailFailure, MailId, MailJob, SmtpSettings, Timestamp, UserId,
};
use crate::storage::Result;

/// The `settings` key of the site's `SmtpSettings`.
pub(crate) const SMTP_SETTING: &str = "smtp";

/// What a site's mail queue holds, counted from its rows.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct MailQueueCounts {
    /// Jobs in the queue.
    pub jobs: u64,
    /// Copies in those jobs not yet delivered or failed.
    pub copies: u64,
    /// Jobs backing off after a temporary failure.
    pub backing_off: u64,
    /// Copies recorded as failed, until queued again.
    pub failures: u64,
    /// When the soonest job may be tried, if any.
    pub next_due: Option<Timestamp>,
}

/// The mail queue and the site's SMTP settings.
pub trait MailRead: SiteTablesRead {
    fn mail_job(&self, id: MailId) -> Result<Option<MailJob>> {
        get_record(self.mail_jobs()?, "mail-jobs", id.0)
    }

    /// Up to `limit` jobs that may be tried at `now`, soonest first.
    fn due_mail_jobs(&self, now: Timestamp, limit: usize) -> Result<Vec<MailJob>> {
        let ids: Vec<u64> = self
            .mail_due()?
            .range((i64::MIN, 0)..=(now.0, u64::MAX))?
            .take(limit)
            .map(|row| row.map(|(k, _)| k.value().1))
            .collect::<std::result::Result<_, _>>()?;
        let table = self.mail_jobs()?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(job) = get_record(table, "mail-jobs", id)? {
                out.push(job);
            }
        }
        Ok(out)
    }

    /// Up to `limit` jobs after `after` (all when `None`), in id order.
    fn mail_jobs_after(&self, after: Option<MailId>, limit: usize) -> Result<Vec<MailJob>> {
        let start = after.map_or(0, |a| a.0.saturating_add(1));
        let mut out = Vec::new();
        for row in self.mail_jobs()?.range(start..)?.take(limit) {
            let (_, v) = row?;
            out.push(crate::storage::decode("mail-jobs", v.value())?);
        }
        Ok(out)
    }

    fn mail_failure(
        &self,
        announcement: AnnouncementId,
        recipient: UserId,
    ) -> Result<Option<MailFailure>> {
        get_record(
            self.mail_failures()?,
            "mail-failures",
            (announcement.0, recipient.0),
        )
    }

    /// Up to `limit` failed copies after `after` (all when `None`), by
    /// announcement then recipient.
    fn mail_failures_after(
        &self,
        after: Option<(AnnouncementId, UserId)>,
        limit: usize,
    ) -> Result<Vec<MailFailure>> {
        let start = match after {
            None => (0, 0),
            Some((a, u)) => match u.0.checked_add(1) {
                Some(next) => (a.0, next),
                None => (a.0.saturating_add(1), 0),
            },
        };
        let mut out = Vec::new();
        for row in self.mail_failures()?.range(start..)?.take(limit) {
            let (_, v) = row?;
            out.push(crate::storage::decode("mail-failures", v.value())?);
        }
        Ok(out)
    }

    /// Counts the queue (a scan of the jobs: a few hundred rows even for
    /// a 100,000-recipient announcement) and its failures.
    fn mail_queue_counts(&self, now: Timestamp) -> Result<MailQueueCounts> {
        let mut counts = MailQueueCounts::default();
        for row in self.mail_jobs()?.iter()? {
            let (_, v) = row?;
            let job: MailJob = crate::storage::decode("mail-jobs", v.value())?;
            counts.jobs += 1;
            counts.copies += job.remaining() as u64;
            if job.attempts > 0 && job.not_before > now {
                counts.backing_off += 1;
            }
        }
        counts.failures = self.mail_failures()?.len()?;
        counts.next_due = self
            .mail_due()?
            .first()?
            .map(|(k, _)| Timestamp(k.value().0));
        Ok(counts)
    }

    /// The site's own SMTP settings, if it has any.
    fn smtp_settings(&self) -> Result<Option<SmtpSettings>> {
        get_record(self.settings()?, "settings", SMTP_SETTING)
    }
}

impl<T: SiteTablesRead> MailRead for T {}
