//! Queries about forums: a discussion, a forum's discussions by group, a
//! discussion's posts, a post by its id alone, subscriptions and the
//! site's edit window.
//!
//! Never decides who may read what: a caller passes the groups its reader
//! may see, and the services decide them.

use std::collections::BTreeSet;

use redb::ReadableTable;

use super::{SiteTablesRead, get_record};
use crate::domain::{
    ActivityId, CourseGroupId, Discussion, DiscussionId, Post, PostId, SubscriptionTarget, UserId,
};
use crate::storage::Result;

/// The `settings` key of the minutes a post stays editable by its author.
pub(crate) const DISCUSSION_EDIT_WINDOW_SETTING: &str = "discussion_edit_window_minutes";

/// The `forum-discussions` key part of "all participants".
pub(crate) const ALL_PARTICIPANTS: u64 = 0;

/// Which groups' discussions a list reads.
#[derive(Copy, Clone, Debug)]
pub enum GroupScope<'a> {
    /// Every discussion of the forum, whatever its group.
    All,
    /// The all-participants discussions and those of these groups.
    Only(&'a BTreeSet<CourseGroupId>),
}

/// The subscription key part of a target: its discussion, or 0 for the
/// whole forum.
pub(crate) fn subscription_key(target: SubscriptionTarget, user: UserId) -> (u64, u64, u64) {
    (
        target.forum().0,
        target.discussion().map_or(0, |d| d.0),
        user.0,
    )
}

/// Forums: discussions, posts, subscriptions.
pub trait DiscussionRead: SiteTablesRead {
    fn discussion(&self, id: DiscussionId) -> Result<Option<Discussion>> {
        get_record(self.discussions()?, "discussions", id.0)
    }

    /// Up to `limit` discussions of `forum` in `scope` older than
    /// `before`, newest first. Reads only the index rows of the groups in
    /// scope.
    fn forum_discussions_before(
        &self,
        forum: ActivityId,
        scope: GroupScope<'_>,
        before: Option<DiscussionId>,
        limit: usize,
    ) -> Result<Vec<Discussion>> {
        let end = before.map_or(u64::MAX, |b| b.0);
        let index = self.forum_discussions()?;
        let mut ids: Vec<u64> = Vec::new();
        let mut take = |group: u64| -> Result<()> {
            for row in index
                .range((forum.0, group, 0)..(forum.0, group, end))?
                .rev()
                .take(limit)
            {
                ids.push(row?.0.value().2);
            }
            Ok(())
        };
        match scope {
            GroupScope::All => {
                let mut all = Vec::new();
                for row in index.range((forum.0, 0, 0)..=(forum.0, u64::MAX, u64::MAX))? {
                    let id = row?.0.value().2;
                    if id < end {
                        all.push(id);
                    }
                }
                ids = all;
            }
            GroupScope::Only(groups) => {
                take(ALL_PARTICIPANTS)?;
                for group in groups {
                    take(group.0)?;
                }
            }
        }
        ids.sort_unstable_by(|a, b| b.cmp(a));
        ids.dedup();
        ids.truncate(limit);
        let table = self.discussions()?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(d) = get_record(table, "discussions", id)? {
                out.push(d);
            }
        }
        Ok(out)
    }

    /// Every discussion id of `forum`, whatever its group (for a cascade).
    fn all_forum_discussion_ids(&self, forum: ActivityId) -> Result<Vec<DiscussionId>> {
        let mut ids = Vec::new();
        for row in self
            .forum_discussions()?
            .range((forum.0, 0, 0)..=(forum.0, u64::MAX, u64::MAX))?
        {
            ids.push(DiscussionId(row?.0.value().2));
        }
        Ok(ids)
    }

    /// Every post of `discussion`, in the order they were written (one
    /// range scan).
    fn discussion_posts(&self, discussion: DiscussionId) -> Result<Vec<Post>> {
        let mut out = Vec::new();
        for row in self
            .posts()?
            .range((discussion.0, 0)..=(discussion.0, u64::MAX))?
        {
            let (_, v) = row?;
            out.push(crate::storage::decode("posts", v.value())?);
        }
        Ok(out)
    }

    fn post(&self, id: PostId) -> Result<Option<Post>> {
        let Some(discussion) = self.post_discussions()?.get(id.0)?.map(|v| v.value()) else {
            return Ok(None);
        };
        get_record(self.posts()?, "posts", (discussion, id.0))
    }

    fn is_subscribed(&self, target: SubscriptionTarget, user: UserId) -> Result<bool> {
        Ok(self
            .forum_subscriptions()?
            .get(subscription_key(target, user))?
            .is_some())
    }

    /// Who subscribed to `target` itself (not to the forum of a
    /// discussion), ascending.
    fn subscribers_of(&self, target: SubscriptionTarget) -> Result<Vec<UserId>> {
        let (forum, discussion, _) = subscription_key(target, UserId(0));
        let mut out = Vec::new();
        for row in self
            .forum_subscriptions()?
            .range((forum, discussion, 0)..=(forum, discussion, u64::MAX))?
        {
            out.push(UserId(row?.0.value().2));
        }
        Ok(out)
    }

    /// The minutes a post stays editable by its author, if the site set
    /// them.
    fn discussion_edit_window_minutes(&self) -> Result<Option<u32>> {
        get_record(self.settings()?, "settings", DISCUSSION_EDIT_WINDOW_SETTING)
    }
}

impl<T: SiteTablesRead> DiscussionRead for T {}
