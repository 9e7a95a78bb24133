//! The mail queue of a site: an announcement's e-mail copies queued in
//! the transaction that sends it, failed copies queued again by a site
//! admin, and what the queue holds as the mail-queue page and the
//! operator's figures show it.
//!
//! Queuing writes a job row per [`MailJob::MAX_RECIPIENTS`] copies, never
//! a row per copy, and never talks to an SMTP server: the worker does.

use std::collections::BTreeMap;

use crate::domain::{
    Announcement, AnnouncementId, MailFailure, MailId, MailJob, SiteId, SiteStatus, Timestamp,
    UserId, UserStatus,
};
use crate::services::auth::{self, Need, Principal};
use crate::services::{Page, ServiceError, ServiceResult, Services, SiteServices, clamp_limit};
use crate::storage::site::{MailQueueCounts, SiteTables, prelude::*};

/// Queues the e-mail copies of `announcement` to those of `recipients` (ascending) who take them:
/// not suspended, an e-mail address, `announcement_emails` on. Sets `announcement.delivery.queued`.
// Called by the announcement send transaction (services::announcements).
pub(crate) fn queue_announcement_in(
    t: &mut SiteTables<'_>,
    announcement: &mut Announcement,
    recipients: &[UserId],
) -> Result<u64, ServiceError> {
    // One scan of the few users who changed a default, then a borrowed
    // read of each recipient's status: 100,000 copies cost no decoded
    // user record.
    let without = t.users_without_announcement_emails()?;
    let mut takers = Vec::with_capacity(recipients.len());
    for &user in recipients {
        if without.contains(&user) {
            continue;
        }
        if t.user_status_and_address(user)? == Some((UserStatus::Active, true)) {
            takers.push(user);
        }
    }
    queue_copies_in(t, announcement.id, &takers)?;
    let queued = takers.len() as u64;
    announcement.delivery.queued = queued;
    Ok(queued)
}

/// Writes jobs for `recipients` of `announcement`, due now.
fn queue_copies_in(
    t: &mut SiteTables<'_>,
    announcement: AnnouncementId,
    recipients: &[UserId],
) -> ServiceResult<()> {
    for chunk in recipients.chunks(MailJob::MAX_RECIPIENTS) {
        let job = MailJob {
            id: t.new_mail_id()?,
            announcement,
            recipients: chunk.to_vec(),
            next: 0,
            attempts: 0,
            not_before: t.now,
            last_error: None,
        };
        t.put_mail_job(&job, None)?;
    }
    Ok(())
}

/// What the mail-queue page shows: the queue in figures, a page of its
/// jobs and a page of failed copies.
#[derive(Clone, Debug)]
pub struct MailQueueOverview {
    pub counts: MailQueueCounts,
    pub jobs: Page<MailJob, MailId>,
    pub failures: Page<MailFailure, (AnnouncementId, UserId)>,
    /// Subjects of the announcements the listed jobs and failures belong
    /// to.
    pub subjects: BTreeMap<AnnouncementId, String>,
    /// Usernames of the listed failures' recipients.
    pub recipients: BTreeMap<UserId, String>,
    /// Whether mail can go out at all (site or operator settings).
    pub configured: bool,
}

/// One site's line of the operator's host-wide figures.
#[derive(Clone, Debug)]
pub struct SiteMailFigures {
    pub site: SiteId,
    pub slug: String,
    pub name: String,
    pub counts: MailQueueCounts,
}

impl SiteServices {
    /// The mail queue as its page shows it. Site admins.
    pub fn mail_queue(
        &self,
        who: &Principal,
        jobs_after: Option<MailId>,
        failures_after: Option<(AnnouncementId, UserId)>,
        limit: usize,
    ) -> ServiceResult<MailQueueOverview> {
        let configured = self.mail_configured()?;
        self.read(|t| {
            auth::authorize(&self.site, t, who, Need::SiteAdmin)?;
            let limit = clamp_limit(limit);
            let counts = t.mail_queue_counts(Timestamp::now())?;
            let jobs =
                crate::services::page_of(t.mail_jobs_after(jobs_after, limit + 1)?, limit, |j| {
                    j.id
                });
            let failures = crate::services::page_of(
                t.mail_failures_after(failures_after, limit + 1)?,
                limit,
                |f| (f.announcement, f.recipient),
            );
            let mut subjects = BTreeMap::new();
            let announcements = jobs
                .items
                .iter()
                .map(|j| j.announcement)
                .chain(failures.items.iter().map(|f| f.announcement));
            for id in announcements {
                if let std::collections::btree_map::Entry::Vacant(e) = subjects.entry(id)
                    && let Some(a) = t.announcement(id)?
                {
                    e.insert(a.subject);
                }
            }
            let mut recipients = BTreeMap::new();
            for f in &failures.items {
                if let Some(u) = t.user(f.recipient)? {
                    recipients.insert(f.recipient, u.username);
                }
            }
            Ok(MailQueueOverview {
                counts,
                jobs,
                failures,
                subjects,
                recipients,
                configured,
            })
        })
    }

    /// Queues one failed copy again, in a new job due now. Site admins;
    /// audited.
    pub fn retry_mail_failure(
        &self,
        who: &Principal,
        announcement: AnnouncementId,
        recipient: UserId,
    ) -> ServiceResult<()> {
        self.write(|t| {
            let actor = auth::authorize(&self.site, t, who, Need::SiteAdmin)?;
            if t.mail_failure(announcement, recipient)?.is_none() {
                return Err(ServiceError::not_found(format!(
                    "failed copy of announcement #{announcement} to user #{recipient}"
                )));
            }
            requeue_in(t, &[(announcement, recipient)])?;
            t.audit_log(
                actor,
                "mail.retried",
                format_args!("announcement #{announcement} to user #{recipient}"),
                "",
            )?;
            Ok(())
        })?;
        self.mail.wake();
        Ok(())
    }

    /// Queues every failed copy again; how many. Site admins; audited.
    pub fn retry_all_mail_failures(&self, who: &Principal) -> ServiceResult<u64> {
        let n = self.write(|t| {
            let actor = auth::authorize(&self.site, t, who, Need::SiteAdmin)?;
            let all: Vec<(AnnouncementId, UserId)> = t
                .mail_failures_after(None, usize::MAX)?
                .into_iter()
                .map(|f| (f.announcement, f.recipient))
                .collect();
            requeue_in(t, &all)?;
            let n = all.len() as u64;
            if n > 0 {
                t.audit_log(actor, "mail.retried", format_args!("{n} failed copies"), "")?;
            }
            Ok(n)
        })?;
        self.mail.wake();
        Ok(n)
    }
}

/// Moves failed copies (by announcement, then recipient) back into the
/// queue: each announcement's `failed` goes down and its copies go into
/// new jobs.
fn requeue_in(t: &mut SiteTables<'_>, copies: &[(AnnouncementId, UserId)]) -> ServiceResult<()> {
    let mut by_announcement: BTreeMap<AnnouncementId, Vec<UserId>> = BTreeMap::new();
    for &(a, u) in copies {
        if t.delete_mail_failure(a, u)? {
            by_announcement.entry(a).or_default().push(u);
        }
    }
    for (id, users) in by_announcement {
        if let Some(mut a) = t.announcement(id)? {
            a.delivery.failed = a.delivery.failed.saturating_sub(users.len() as u64);
            t.put_announcement(&a, None)?;
        }
        queue_copies_in(t, id, &users)?;
    }
    Ok(())
}

impl Services {
    /// Every active site's queue in figures. Operators (`list_sites`
    /// refuses anyone else).
    pub fn mail_figures(&self, who: &Principal) -> ServiceResult<Vec<SiteMailFigures>> {
        let now = Timestamp::now();
        let mut out = Vec::new();
        for site in self.list_sites(who)? {
            if site.status != SiteStatus::Active {
                continue;
            }
            let services = self.site(site.id)?;
            let counts = services.read(|t| Ok(t.mail_queue_counts(now)?))?;
            out.push(SiteMailFigures {
                site: site.id,
                slug: site.slug,
                name: site.name,
                counts,
            });
        }
        Ok(out)
    }
}
