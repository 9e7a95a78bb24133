//! Forums (issue 18): a course activity of kind `Discussion` holding
//! discussions, each a thread of posts, and who subscribed to what.
//!
//! A forum has no record of its own: it is its `Activity` (name,
//! introduction, visibility, group mode, grouping), owned by the content
//! area. A discussion belongs to one course group or, when `group` is
//! `None`, to all participants; its posts carry both the Markdown as
//! written and the sanitised HTML rendered once when it was written, so
//! showing a 2,000-post thread renders no Markdown. Nothing here decides
//! who may see or write what (`services::discussions` does, through
//! `services::course_access`).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{ActivityId, CourseGroupId, CourseId, Timestamp, UserId};

id_type!(
    /// A discussion of a forum.
    DiscussionId
);
id_type!(
    /// A post of a discussion; increases with time across the site.
    PostId
);

/// A thread of a forum, started by its first post.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discussion {
    pub id: DiscussionId,
    /// The forum: an activity of kind `Discussion`.
    pub forum: ActivityId,
    pub course: CourseId,
    /// The group it belongs to; `None`: all participants. Kept when the
    /// group is deleted: only those who access all groups still see it.
    pub group: Option<CourseGroupId>,
    pub author: UserId,
    pub subject: String,
    /// The post that started it; deleting that post deletes the discussion.
    pub first_post: PostId,
    pub created_at: Timestamp,
    /// When its newest post was written.
    pub last_post_at: Timestamp,
    /// How many posts it holds, kept in step by the writes.
    pub posts: u32,
}

/// One post of a discussion: the first one or a reply to another.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Post {
    pub id: PostId,
    pub discussion: DiscussionId,
    /// The post it answers; `None` only for the discussion's first post.
    pub parent: Option<PostId>,
    pub author: UserId,
    /// Markdown, as written.
    pub body: String,
    /// `body` as sanitised HTML, rendered when it was written or edited.
    pub body_html: String,
    pub created_at: Timestamp,
    pub edited_at: Option<Timestamp>,
}

/// What a subscription covers: a whole forum or one discussion of it.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionTarget {
    Forum(ActivityId),
    Discussion {
        forum: ActivityId,
        discussion: DiscussionId,
    },
}

impl SubscriptionTarget {
    pub fn forum(self) -> ActivityId {
        match self {
            SubscriptionTarget::Forum(forum) | SubscriptionTarget::Discussion { forum, .. } => {
                forum
            }
        }
    }

    pub fn discussion(self) -> Option<DiscussionId> {
        match self {
            SubscriptionTarget::Forum(_) => None,
            SubscriptionTarget::Discussion { discussion, .. } => Some(discussion),
        }
    }
}
