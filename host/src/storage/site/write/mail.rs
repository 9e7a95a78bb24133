//! Writes of the mail queue and the site's SMTP settings: a job with its
//! `mail_due` row kept in step, failed copies, and the settings row.
//!
//! Mail progress is operational state (like a method's last run): these
//! writes take no audit entry or event; the services audit what people
//! change (the settings, a retry).

use crate::domain::{AnnouncementId, MailFailure, MailId, MailJob, SmtpSettings, UserId};
use crate::storage::site::SiteTables;
use crate::storage::site::counters::Counter;
use crate::storage::site::read::SMTP_SETTING;
use crate::storage::{Result, encode};

impl SiteTables<'_> {
    pub(crate) fn new_mail_id(&mut self) -> Result<MailId> {
        Ok(MailId(self.next_id(Counter::Mail)?))
    }

    /// Writes `job` and its `mail_due` row at `job.not_before`;
    /// `previous_not_before` is where an earlier version of it was due, if
    /// it was written before.
    pub(crate) fn put_mail_job(
        &mut self,
        job: &MailJob,
        previous_not_before: Option<i64>,
    ) -> Result<()> {
        if let Some(at) = previous_not_before {
            self.mail_due.remove((at, job.id.0))?;
        }
        self.mail_jobs.insert(job.id.0, encode(job).as_slice())?;
        self.mail_due.insert((job.not_before.0, job.id.0), ())?;
        Ok(())
    }

    /// Removes a finished job and its `mail_due` row.
    pub(crate) fn delete_mail_job(&mut self, job: &MailJob) -> Result<()> {
        self.mail_due.remove((job.not_before.0, job.id.0))?;
        self.mail_jobs.remove(job.id.0)?;
        Ok(())
    }

    pub(crate) fn put_mail_failure(&mut self, failure: &MailFailure) -> Result<()> {
        self.mail_failures.insert(
            (failure.announcement.0, failure.recipient.0),
            encode(failure).as_slice(),
        )?;
        Ok(())
    }

    /// Forgets a failed copy (it is being queued again); whether there was
    /// one.
    pub(crate) fn delete_mail_failure(
        &mut self,
        announcement: AnnouncementId,
        recipient: UserId,
    ) -> Result<bool> {
        Ok(self
            .mail_failures
            .remove((announcement.0, recipient.0))?
            .is_some())
    }

    /// Saves the site's SMTP settings, or removes them (`None`: the
    /// operator's default applies again).
    pub(crate) fn put_smtp_settings(&mut self, settings: Option<&SmtpSettings>) -> Result<()> {
        match settings {
            Some(s) => {
                self.settings.insert(SMTP_SETTING, encode(s).as_slice())?;
            }
            None => {
                self.settings.remove(SMTP_SETTING)?;
            }
        }
        Ok(())
    }
}
