//! Writes of forums: discussions with their group index, posts with their
//! by-id index, subscriptions, and the site's edit window.

use redb::ReadableTable;

use crate::domain::{
    ActivityId, Discussion, DiscussionId, Post, PostId, SubscriptionTarget, UserId,
};
use crate::storage::site::SiteTables;
use crate::storage::site::counters::Counter;
use crate::storage::site::read::{
    ALL_PARTICIPANTS, DISCUSSION_EDIT_WINDOW_SETTING, subscription_key,
};
use crate::storage::{Result, encode};

impl SiteTables<'_> {
    pub(crate) fn new_discussion_id(&mut self) -> Result<DiscussionId> {
        Ok(DiscussionId(self.next_id(Counter::Discussion)?))
    }

    pub(crate) fn new_post_id(&mut self) -> Result<PostId> {
        Ok(PostId(self.next_id(Counter::Post)?))
    }

    /// Writes `discussion` and its row in its forum's group index (its
    /// group never changes once started).
    pub(crate) fn put_discussion(&mut self, discussion: &Discussion) -> Result<()> {
        let id = discussion.id.0;
        self.discussions.insert(id, encode(discussion).as_slice())?;
        let group = discussion.group.map_or(ALL_PARTICIPANTS, |g| g.0);
        self.forum_discussions
            .insert((discussion.forum.0, group, id), ())?;
        Ok(())
    }

    /// Writes `post` and its by-id index.
    pub(crate) fn put_post(&mut self, post: &Post) -> Result<()> {
        self.posts
            .insert((post.discussion.0, post.id.0), encode(post).as_slice())?;
        self.post_discussions.insert(post.id.0, post.discussion.0)?;
        Ok(())
    }

    /// Removes `post` and its by-id index (not its replies: the caller
    /// removes the subtree).
    pub(crate) fn delete_post_row(&mut self, post: &Post) -> Result<()> {
        self.posts.remove((post.discussion.0, post.id.0))?;
        self.post_discussions.remove(post.id.0)?;
        Ok(())
    }

    /// Removes `discussion` with every post of it, its index row and the
    /// subscriptions to it.
    pub(crate) fn delete_discussion_rows(&mut self, discussion: &Discussion) -> Result<()> {
        let id = discussion.id.0;
        let posts: Vec<(u64, u64)> = self
            .posts
            .range((id, 0)..=(id, u64::MAX))?
            .map(|row| row.map(|(k, _)| k.value()))
            .collect::<std::result::Result<_, _>>()?;
        for key in posts {
            self.posts.remove(key)?;
            self.post_discussions.remove(key.1)?;
        }
        let group = discussion.group.map_or(ALL_PARTICIPANTS, |g| g.0);
        self.forum_discussions
            .remove((discussion.forum.0, group, id))?;
        self.discussions.remove(id)?;
        let forum = discussion.forum.0;
        let subscribers: Vec<(u64, u64, u64)> = self
            .forum_subscriptions
            .range((forum, id, 0)..=(forum, id, u64::MAX))?
            .map(|row| row.map(|(k, _)| k.value()))
            .collect::<std::result::Result<_, _>>()?;
        for key in subscribers {
            self.forum_subscriptions.remove(key)?;
        }
        Ok(())
    }

    /// Removes every subscription to `forum` and its discussions (the
    /// forum is being deleted, after its discussions).
    pub(crate) fn delete_forum_subscriptions(&mut self, forum: ActivityId) -> Result<()> {
        let keys: Vec<(u64, u64, u64)> = self
            .forum_subscriptions
            .range((forum.0, 0, 0)..=(forum.0, u64::MAX, u64::MAX))?
            .map(|row| row.map(|(k, _)| k.value()))
            .collect::<std::result::Result<_, _>>()?;
        for key in keys {
            self.forum_subscriptions.remove(key)?;
        }
        Ok(())
    }

    /// Subscribes or unsubscribes `user`; whether it changed.
    pub(crate) fn set_subscription(
        &mut self,
        target: SubscriptionTarget,
        user: UserId,
        subscribed: bool,
    ) -> Result<bool> {
        let key = subscription_key(target, user);
        if subscribed {
            Ok(self.forum_subscriptions.insert(key, ())?.is_none())
        } else {
            Ok(self.forum_subscriptions.remove(key)?.is_some())
        }
    }

    /// Forgets every subscription of `user` (the user is being deleted; a
    /// scan of the table, as rare as the deletion). Their posts stay: a
    /// thread keeps its answers.
    pub(crate) fn delete_user_subscriptions(&mut self, user: UserId) -> Result<()> {
        let keys: Vec<(u64, u64, u64)> = self
            .forum_subscriptions
            .iter()?
            .filter_map(|row| match row {
                Ok((k, _)) if k.value().2 == user.0 => Some(Ok(k.value())),
                Ok(_) => None,
                Err(e) => Some(Err(e)),
            })
            .collect::<std::result::Result<_, _>>()?;
        for key in keys {
            self.forum_subscriptions.remove(key)?;
        }
        Ok(())
    }

    /// Sets the minutes a post stays editable by its author.
    pub(crate) fn put_discussion_edit_window_minutes(&mut self, minutes: u32) -> Result<()> {
        self.settings
            .insert(DISCUSSION_EDIT_WINDOW_SETTING, encode(&minutes).as_slice())?;
        Ok(())
    }
}
