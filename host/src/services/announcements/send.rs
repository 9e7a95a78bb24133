//! Sending an announcement: its recipients fixed, recorded and given their
//! copies, in the caller's transaction.

use super::audience;
use crate::domain::*;
use crate::services::error::ServiceResult;
use crate::storage::site::SiteTables;

/// Marks `announcement` sent now: resolves its recipients as of this
/// transaction, records them, puts a copy in each inbox, queues the
/// e-mail copies when the site's mail can go out (`mail`), and audits it.
/// `previous_send_at` is where it was scheduled, if it was.
pub(super) fn send_in(
    t: &mut SiteTables<'_>,
    announcement: &mut Announcement,
    previous_send_at: Option<i64>,
    mail: bool,
) -> ServiceResult<()> {
    let recipients = audience::recipients(t, &announcement.audience, announcement.author)?;
    announcement.state = AnnouncementState::Sent;
    announcement.send_at = t.now;
    announcement.closed_at = Some(t.now);
    announcement.recipients = recipients.len() as u64;
    t.deliver_announcement(announcement.id, &recipients)?;
    if mail {
        crate::services::mail::queue_announcement_in(t, announcement, &recipients)?;
    }
    t.put_announcement(announcement, previous_send_at)?;
    let described = audience::describe(t, &announcement.audience)?;
    t.audit_log(
        Actor::User(announcement.author),
        "announcement.sent",
        format!("announcement #{}", announcement.id),
        format!(
            "{:?} to {described}: {} recipients, {} e-mail copies queued",
            announcement.subject, announcement.recipients, announcement.delivery.queued
        ),
    )?;
    Ok(())
}
