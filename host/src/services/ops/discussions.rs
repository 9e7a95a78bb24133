//! Forums inside a transaction: deleting a discussion, a post with its
//! replies, and everything of a forum when its activity goes (the content
//! area's `delete_activity_in` calls [`delete_discussions_of_in`]).
//!
//! Never authorises and never opens a transaction; every deletion is
//! audited and evented here, once, for the service and the cascade alike.

use std::collections::{BTreeSet, HashMap};

use crate::domain::*;
use crate::services::error::ServiceResult;
use crate::storage::site::SiteTables;
use crate::storage::site::prelude::*;

/// Deletes `discussion` with all its posts and subscriptions.
pub(crate) fn delete_discussion_in(
    t: &mut SiteTables<'_>,
    actor: Actor,
    discussion: &Discussion,
    reason: &str,
) -> ServiceResult<()> {
    t.delete_discussion_rows(discussion)?;
    t.audit_log(
        actor,
        "discussion.deleted",
        format_args!(
            "discussion #{} of forum #{}",
            discussion.id, discussion.forum
        ),
        reason,
    )?;
    t.emit(SiteEvent::DiscussionDeleted {
        course: discussion.course,
        forum: discussion.forum,
        discussion: discussion.id,
    })?;
    Ok(())
}

/// The ids of `root` and every reply below it among `posts`.
pub(crate) fn subtree_of(posts: &[Post], root: PostId) -> BTreeSet<PostId> {
    let mut children: HashMap<PostId, Vec<PostId>> = HashMap::new();
    for p in posts {
        if let Some(parent) = p.parent {
            children.entry(parent).or_default().push(p.id);
        }
    }
    let mut out = BTreeSet::new();
    let mut stack = vec![root];
    while let Some(id) = stack.pop() {
        if out.insert(id)
            && let Some(kids) = children.get(&id)
        {
            stack.extend(kids);
        }
    }
    out
}

/// Deletes `post` and every reply below it from `discussion` (not its
/// first post: that is [`delete_discussion_in`]); how many posts went.
pub(crate) fn delete_post_subtree_in(
    t: &mut SiteTables<'_>,
    actor: Actor,
    discussion: &mut Discussion,
    post: &Post,
) -> ServiceResult<u32> {
    let posts = t.discussion_posts(discussion.id)?;
    let doomed = subtree_of(&posts, post.id);
    for p in posts.iter().filter(|p| doomed.contains(&p.id)) {
        t.delete_post_row(p)?;
        t.emit(SiteEvent::PostDeleted {
            course: discussion.course,
            discussion: discussion.id,
            post: p.id,
        })?;
    }
    let gone = u32::try_from(doomed.len()).unwrap_or(u32::MAX);
    discussion.posts = discussion.posts.saturating_sub(gone);
    discussion.last_post_at = posts
        .iter()
        .filter(|p| !doomed.contains(&p.id))
        .map(|p| p.created_at)
        .max()
        .unwrap_or(discussion.created_at);
    t.put_discussion(discussion)?;
    t.audit_log(
        actor,
        "post.deleted",
        format_args!("post #{} of discussion #{}", post.id, discussion.id),
        format_args!("with {} replies", gone.saturating_sub(1)),
    )?;
    Ok(gone)
}

/// Deletes every discussion of `forum` and every subscription to it: the
/// forum's activity is being deleted, in this transaction.
pub(crate) fn delete_discussions_of_in(
    t: &mut SiteTables<'_>,
    actor: Actor,
    forum: &Activity,
) -> ServiceResult<()> {
    for id in t.all_forum_discussion_ids(forum.id)? {
        if let Some(discussion) = t.discussion(id)? {
            delete_discussion_in(t, actor, &discussion, "its forum was deleted")?;
        }
    }
    t.delete_forum_subscriptions(forum.id)?;
    Ok(())
}
