//! Queries about announcements and inboxes: an announcement, the lists of
//! a site and of a course, the scheduled ones that are due, the recipients
//! fixed when one was sent, a user's inbox and unread count, and message
//! preferences.

use std::collections::HashSet;

use redb::ReadableTable;

use super::{SiteTablesRead, get_record, pair_prefix};
use crate::domain::{
    Announcement, AnnouncementId, CourseId, InboxEntry, MessagePreferences, Timestamp, UserId,
};
use crate::storage::Result;
use crate::storage::site::id_list;

/// Announcements, their recipients, inboxes and message preferences.
pub trait AnnouncementRead: SiteTablesRead {
    fn announcement(&self, id: AnnouncementId) -> Result<Option<Announcement>> {
        get_record(self.announcements()?, "announcements", id.0)
    }

    /// Up to `limit` announcements of the site older than `before` (all
    /// when `None`), newest first, without forum post notifications.
    fn announcements_before(
        &self,
        before: Option<AnnouncementId>,
        limit: usize,
    ) -> Result<Vec<Announcement>> {
        let end = before.map_or(u64::MAX, |b| b.0);
        let mut out = Vec::new();
        // Forum post notifications share the table (one inbox, one mail
        // queue) but are not announcements: skipped here, a scan past
        // them (see `Audience::ForumSubscribers`).
        for row in self.announcements()?.range(..end)?.rev() {
            if out.len() == limit {
                break;
            }
            let (_, v) = row?;
            let a: Announcement = crate::storage::decode("announcements", v.value())?;
            if !a.audience.is_post_notification() {
                out.push(a);
            }
        }
        Ok(out)
    }

    /// Up to `limit` announcements to `course` or groups of it older than
    /// `before`, newest first.
    fn course_announcements_before(
        &self,
        course: CourseId,
        before: Option<AnnouncementId>,
        limit: usize,
    ) -> Result<Vec<Announcement>> {
        let end = before.map_or(u64::MAX, |b| b.0);
        let ids: Vec<u64> = self
            .course_announcements()?
            .range((course.0, 0)..(course.0, end))?
            .rev()
            .take(limit)
            .map(|row| row.map(|(k, _)| k.value().1))
            .collect::<std::result::Result<_, _>>()?;
        self.announcements_by_id(&ids)
    }

    /// The scheduled announcements whose time has come, soonest first.
    fn due_announcements(&self, now: Timestamp) -> Result<Vec<AnnouncementId>> {
        let mut out = Vec::new();
        for row in self
            .scheduled_announcements()?
            .range((i64::MIN, 0)..=(now.0, u64::MAX))?
        {
            out.push(AnnouncementId(row?.0.value().1));
        }
        Ok(out)
    }

    /// When the soonest scheduled announcement is due, if any is.
    fn next_scheduled_at(&self) -> Result<Option<Timestamp>> {
        Ok(self
            .scheduled_announcements()?
            .first()?
            .map(|(k, _)| Timestamp(k.value().0)))
    }

    /// The recipients fixed when `id` was sent, ascending.
    fn recipients_of(&self, id: AnnouncementId) -> Result<Vec<UserId>> {
        let mut ids = Vec::new();
        for row in self
            .announcement_recipients()?
            .range((id.0, 0)..=(id.0, u32::MAX))?
        {
            let (_, v) = row?;
            id_list::decode("announcement-recipients", v.value(), &mut ids)?;
        }
        Ok(ids.into_iter().map(UserId).collect())
    }

    /// Up to `limit` copies in `user`'s inbox older than `before`, newest
    /// first.
    fn inbox_before(
        &self,
        user: UserId,
        before: Option<AnnouncementId>,
        limit: usize,
    ) -> Result<Vec<InboxEntry>> {
        let end = before.map_or(u64::MAX, |b| b.0);
        let mut out = Vec::with_capacity(limit.min(256));
        for row in self
            .inbox()?
            .range((user.0, 0)..(user.0, end))?
            .rev()
            .take(limit)
        {
            let (k, v) = row?;
            out.push(InboxEntry {
                announcement: AnnouncementId(k.value().1),
                read: v.value() != 0,
            });
        }
        Ok(out)
    }

    /// `user`'s copy of `announcement`, if they received it.
    fn inbox_entry(
        &self,
        user: UserId,
        announcement: AnnouncementId,
    ) -> Result<Option<InboxEntry>> {
        Ok(self
            .inbox()?
            .get((user.0, announcement.0))?
            .map(|v| InboxEntry {
                announcement,
                read: v.value() != 0,
            }))
    }

    /// How many copies in `user`'s inbox are unread.
    fn unread_count(&self, user: UserId) -> Result<u64> {
        Ok(self.inbox_unread()?.get(user.0)?.map_or(0, |v| v.value()))
    }

    /// How many copies `user`'s inbox holds (a scan of their rows).
    fn inbox_len(&self, user: UserId) -> Result<u64> {
        Ok(self.inbox()?.range(pair_prefix(user.0))?.count() as u64)
    }

    fn preferences_of(&self, user: UserId) -> Result<MessagePreferences> {
        Ok(
            get_record(self.message_preferences()?, "message-preferences", user.0)?
                .unwrap_or_default(),
        )
    }

    /// The users who turned e-mail copies of announcements off (a row per
    /// user who changed a default: a scan is cheap).
    fn users_without_announcement_emails(&self) -> Result<HashSet<UserId>> {
        let mut out = HashSet::new();
        for row in self.message_preferences()?.iter()? {
            let (k, v) = row?;
            let prefs: MessagePreferences =
                crate::storage::decode("message-preferences", v.value())?;
            if !prefs.announcement_emails {
                out.insert(UserId(k.value()));
            }
        }
        Ok(out)
    }

    /// The announcements of `ids`, in that order, skipping any gone.
    fn announcements_by_id(&self, ids: &[u64]) -> Result<Vec<Announcement>> {
        let table = self.announcements()?;
        let mut out = Vec::with_capacity(ids.len());
        for &id in ids {
            if let Some(a) = get_record(table, "announcements", id)? {
                out.push(a);
            }
        }
        Ok(out)
    }
}

impl<T: SiteTablesRead> AnnouncementRead for T {}
