//! An announcement sent and its mail queued, as the announcement send
//! transaction does it, for the mail tests and the mail benchmark (which
//! have no announcement service to call). Never built into the server.

use crate::domain::{
    Announcement, AnnouncementId, AnnouncementState, Audience, DeliveryCounts, UserId,
};
use crate::services::{ServiceResult, SiteServices};

impl SiteServices {
    /// Writes a sent announcement by `author` to `recipients` (ascending):
    /// its row, the inbox copies and the mail queued, in one transaction.
    pub fn fixture_sent_announcement(
        &self,
        author: UserId,
        audience: Audience,
        recipients: &[UserId],
    ) -> ServiceResult<AnnouncementId> {
        self.write(|t| {
            let mut a = Announcement {
                id: t.new_announcement_id()?,
                author,
                audience,
                subject: "Compliance deadline moved".into(),
                body: "The **deadline** is now *Friday*.\n\n<script>alert(1)</script>\n\nSee [the policy](https://example.org/policy).".into(),
                created_at: t.now,
                updated_at: t.now,
                send_at: t.now,
                state: AnnouncementState::Sent,
                closed_at: Some(t.now),
                recipients: recipients.len() as u64,
                delivery: DeliveryCounts::default(),
            };
            t.deliver_announcement(a.id, recipients)?;
            super::queue_announcement_in(t, &mut a, recipients)?;
            t.put_announcement(&a, None)?;
            Ok(a.id)
        })
    }
}
