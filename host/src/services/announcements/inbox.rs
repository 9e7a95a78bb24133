//! A user's inbox: the copies of the announcements they received, newest
//! first, each read or unread, and the unread count the header shows.
//!
//! Everyone reads only their own inbox: the calls take the principal's
//! own user, never a user id from the request.

use super::markdown;
use crate::domain::*;
use crate::services::auth::{Need, Principal, authorize};
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::{Page, SiteServices, clamp_limit, page_of};
use crate::storage::site::prelude::*;

/// One copy in an inbox, with what the list shows of its announcement.
#[derive(Clone, Debug, PartialEq)]
pub struct InboxItem {
    pub announcement: AnnouncementId,
    pub read: bool,
    pub subject: String,
    pub author: String,
    /// Where it came from, in words ("course COMP101", "segment Finance").
    pub audience: String,
    pub sent_at: Timestamp,
}

/// A page of an inbox with the unread count.
#[derive(Clone, Debug, PartialEq)]
pub struct InboxPage {
    pub page: Page<InboxItem, AnnouncementId>,
    pub unread: u64,
    pub total: u64,
}

/// One opened copy: the announcement's text as sanitised HTML.
#[derive(Clone, Debug, PartialEq)]
pub struct InboxMessage {
    pub item: InboxItem,
    pub html: String,
}

impl SiteServices {
    /// The user behind `who`, who must be an active user of this site;
    /// `None` for an operator, who has no inbox on a site.
    fn inbox_owner(&self, t: &impl SiteRead, who: &Principal) -> ServiceResult<Option<UserId>> {
        authorize(&self.site, t, who, Need::SiteMember)?;
        if who.is_operator() {
            return Ok(None);
        }
        who.site_user_id(self.site.id)
            .map(Some)
            .ok_or_else(|| ServiceError::Forbidden("an inbox belongs to a user of the site".into()))
    }

    /// A page of `who`'s inbox, newest first, older than `before`.
    pub fn inbox(
        &self,
        who: &Principal,
        before: Option<AnnouncementId>,
        limit: usize,
    ) -> ServiceResult<InboxPage> {
        let limit = clamp_limit(limit);
        self.read(|t| {
            let Some(user) = self.inbox_owner(t, who)? else {
                return Ok(InboxPage {
                    page: Page {
                        items: Vec::new(),
                        next: None,
                    },
                    unread: 0,
                    total: 0,
                });
            };
            let entries = t.inbox_before(user, before, limit + 1)?;
            let page = page_of(entries, limit, |e| e.announcement);
            let mut items = Vec::with_capacity(page.items.len());
            for entry in page.items {
                if let Some(a) = t.announcement(entry.announcement)? {
                    items.push(item_of(t, &a, entry.read)?);
                }
            }
            Ok(InboxPage {
                page: Page {
                    items,
                    next: page.next,
                },
                unread: t.unread_count(user)?,
                total: t.inbox_len(user)?,
            })
        })
    }

    /// How many copies in `who`'s inbox are unread (the header's count).
    pub fn unread_count(&self, who: &Principal) -> ServiceResult<u64> {
        self.read(|t| match self.inbox_owner(t, who)? {
            Some(user) => Ok(t.unread_count(user)?),
            None => Ok(0),
        })
    }

    /// Opens `who`'s copy of `id` and marks it read. Whoever did not
    /// receive it sees it only if its sender's side may (a site admin, its
    /// author, a teacher it reaches), unmarked; anyone else hears "not
    /// found".
    pub fn open_inbox_message(
        &self,
        who: &Principal,
        id: AnnouncementId,
    ) -> ServiceResult<InboxMessage> {
        self.write(|t| {
            let user = self.inbox_owner(t, who)?;
            let missing = || ServiceError::not_found(format!("message #{id} in your inbox"));
            let copy = match user {
                Some(user) => t.inbox_entry(user, id)?,
                None => None,
            };
            let announcement = match (user, copy) {
                (Some(user), Some(_)) => {
                    t.set_inbox_read(user, id, true)?;
                    t.announcement(id)?.ok_or_else(missing)?
                }
                _ => self.visible(t, who, id).map_err(|_| missing())?,
            };
            if announcement.state != AnnouncementState::Sent {
                return Err(missing());
            }
            Ok(InboxMessage {
                item: item_of(t, &announcement, true)?,
                html: markdown::render_html(&announcement.body),
            })
        })
    }

    /// Marks `who`'s copy of `id` read or unread.
    pub fn set_inbox_read(
        &self,
        who: &Principal,
        id: AnnouncementId,
        read: bool,
    ) -> ServiceResult<()> {
        self.write(|t| {
            let missing = || ServiceError::not_found(format!("message #{id} in your inbox"));
            let user = self.inbox_owner(t, who)?.ok_or_else(missing)?;
            if t.inbox_entry(user, id)?.is_none() {
                return Err(ServiceError::not_found(format!(
                    "message #{id} in your inbox"
                )));
            }
            t.set_inbox_read(user, id, read)?;
            Ok(())
        })
    }

    /// Marks every copy in `who`'s inbox read; how many changed.
    pub fn mark_inbox_read(&self, who: &Principal) -> ServiceResult<u64> {
        self.write(|t| match self.inbox_owner(t, who)? {
            Some(user) => Ok(t.mark_inbox_read(user)?),
            None => Ok(0),
        })
    }
}

fn item_of(t: &impl SiteRead, a: &Announcement, read: bool) -> ServiceResult<InboxItem> {
    Ok(InboxItem {
        announcement: a.id,
        read,
        subject: a.subject.clone(),
        author: t
            .user(a.author)?
            .map_or_else(|| format!("user #{}", a.author), |u| u.full_name()),
        audience: super::audience::describe(t, &a.audience)?,
        sent_at: a.send_at,
    })
}
