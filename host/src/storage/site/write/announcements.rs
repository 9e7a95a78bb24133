//! Writes of announcements and inboxes: the announcement row and its
//! indexes, the recipient list, the inbox copies with the unread counts
//! kept in step, and message preferences.

use redb::ReadableTable;

use crate::domain::{Announcement, AnnouncementId, AnnouncementState, MessagePreferences, UserId};
use crate::storage::site::SiteTables;
use crate::storage::site::counters::Counter;
use crate::storage::site::id_list::{self, CHUNK_IDS};
use crate::storage::{Result, encode};

impl SiteTables<'_> {
    pub(crate) fn new_announcement_id(&mut self) -> Result<AnnouncementId> {
        Ok(AnnouncementId(self.next_id(Counter::Announcement)?))
    }

    /// Writes `announcement` and keeps its indexes in step: the course's
    /// list, and the schedule (a row while it is scheduled, at its
    /// `send_at`; `previous_send_at` is where an earlier version of it was
    /// scheduled, if anywhere).
    pub(crate) fn put_announcement(
        &mut self,
        announcement: &Announcement,
        previous_send_at: Option<i64>,
    ) -> Result<()> {
        let id = announcement.id.0;
        self.announcements
            .insert(id, encode(announcement).as_slice())?;
        // A post's notification is listed by its forum, not among the
        // course's announcements.
        if let Some(course) = announcement.audience.course()
            && !announcement.audience.is_post_notification()
        {
            self.course_announcements.insert((course.0, id), ())?;
        }
        if let Some(at) = previous_send_at {
            self.scheduled_announcements.remove((at, id))?;
        }
        if announcement.state == AnnouncementState::Scheduled {
            self.scheduled_announcements
                .insert((announcement.send_at.0, id), ())?;
        }
        Ok(())
    }

    /// Records the recipients of `id` (ascending, no repeats) and puts an
    /// unread copy in each one's inbox.
    pub(crate) fn deliver_announcement(
        &mut self,
        id: AnnouncementId,
        recipients: &[UserId],
    ) -> Result<()> {
        let ids: Vec<u64> = recipients.iter().map(|u| u.0).collect();
        for (n, chunk) in ids.chunks(CHUNK_IDS).enumerate() {
            let n = u32::try_from(n).unwrap_or(u32::MAX);
            self.announcement_recipients
                .insert((id.0, n), id_list::encode(chunk).as_slice())?;
        }
        for &user in &ids {
            self.inbox.insert((user, id.0), 0u8)?;
        }
        for &user in &ids {
            let unread = self.inbox_unread.get(user)?.map_or(0, |v| v.value());
            self.inbox_unread.insert(user, unread + 1)?;
        }
        Ok(())
    }

    /// Marks `user`'s copy of `announcement` read or unread; whether it
    /// changed (false too when they have no copy).
    pub(crate) fn set_inbox_read(
        &mut self,
        user: UserId,
        announcement: AnnouncementId,
        read: bool,
    ) -> Result<bool> {
        let key = (user.0, announcement.0);
        let was = match self.inbox.get(key)? {
            Some(v) => v.value() != 0,
            None => return Ok(false),
        };
        if was == read {
            return Ok(false);
        }
        self.inbox.insert(key, u8::from(read))?;
        let unread = self.inbox_unread.get(user.0)?.map_or(0, |v| v.value());
        let unread = if read {
            unread.saturating_sub(1)
        } else {
            unread + 1
        };
        if unread == 0 {
            self.inbox_unread.remove(user.0)?;
        } else {
            self.inbox_unread.insert(user.0, unread)?;
        }
        Ok(true)
    }

    /// Marks every copy in `user`'s inbox read; how many changed.
    pub(crate) fn mark_inbox_read(&mut self, user: UserId) -> Result<u64> {
        let unread: Vec<(u64, u64)> = self
            .inbox
            .range((user.0, 0)..=(user.0, u64::MAX))?
            .filter_map(|row| match row {
                Ok((k, v)) if v.value() == 0 => Some(Ok(k.value())),
                Ok(_) => None,
                Err(e) => Some(Err(e)),
            })
            .collect::<std::result::Result<_, _>>()?;
        for key in &unread {
            self.inbox.insert(*key, 1u8)?;
        }
        self.inbox_unread.remove(user.0)?;
        Ok(unread.len() as u64)
    }

    /// Saves `user`'s preferences; the defaults leave no row.
    pub(crate) fn put_message_preferences(
        &mut self,
        user: UserId,
        preferences: &MessagePreferences,
    ) -> Result<()> {
        if *preferences == MessagePreferences::default() {
            self.message_preferences.remove(user.0)?;
        } else {
            self.message_preferences
                .insert(user.0, encode(preferences).as_slice())?;
        }
        Ok(())
    }

    /// Forgets `user`'s inbox, unread count and preferences (the user is
    /// being deleted). The announcements' recipient lists keep the id:
    /// they record who received what.
    pub(crate) fn delete_user_messages(&mut self, user: UserId) -> Result<()> {
        let keys: Vec<(u64, u64)> = self
            .inbox
            .range((user.0, 0)..=(user.0, u64::MAX))?
            .map(|row| row.map(|(k, _)| k.value()))
            .collect::<std::result::Result<_, _>>()?;
        for key in keys {
            self.inbox.remove(key)?;
        }
        self.inbox_unread.remove(user.0)?;
        self.message_preferences.remove(user.0)?;
        Ok(())
    }
}
