//! Forums, discussions and posts as the API shows them.

use serde::{Deserialize, Serialize};

use super::{
    ActivityIdView, CourseGroupIdView, CourseIdView, CourseSectionIdView, DiscussionIdView,
    GroupModeView, Mirror, PostIdView, TimestampView, UserIdView,
};
use crate::services::discussions::{
    DiscussionSummary, DiscussionView as Thread, ForumView as Forum, GroupChoice, PostView,
    ThreadPost,
};

/// A group a discussion may belong to; no `group`: all participants.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = DiscussionGroup)]
pub struct DiscussionGroupView {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<CourseGroupIdView>,
    pub name: String,
}

impl From<GroupChoice> for DiscussionGroupView {
    fn from(c: GroupChoice) -> Self {
        Self {
            group: c.group.map(Mirror::mirror),
            name: c.name,
        }
    }
}

/// A forum: an activity of kind `discussion`, with what the caller may do
/// in it. Its discussions are at `/forums/{id}/discussions`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Forum)]
pub struct ForumView {
    pub id: ActivityIdView,
    pub course: CourseIdView,
    pub section: CourseSectionIdView,
    pub name: String,
    /// Markdown, as written.
    pub description: String,
    pub visible: bool,
    /// The forum's own group mode; absent: the course's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_mode: Option<GroupModeView>,
    /// The group mode in force (the course's when it forces its own).
    pub effective_group_mode: GroupModeView,
    /// Whether the caller is subscribed to the whole forum.
    pub subscribed: bool,
    /// Where the caller may start a discussion; empty: nowhere.
    pub start_in: Vec<DiscussionGroupView>,
    /// Whether the caller may change the forum.
    pub can_edit: bool,
}

impl From<Forum> for ForumView {
    fn from(f: Forum) -> Self {
        Self {
            id: f.forum.id.mirror(),
            course: f.forum.course.mirror(),
            section: f.forum.section.mirror(),
            name: f.forum.name,
            description: f.forum.description,
            visible: f.forum.visible,
            group_mode: f.forum.group_mode.map(Mirror::mirror),
            effective_group_mode: f.mode.mirror(),
            subscribed: f.subscribed,
            start_in: f.start_in.into_iter().map(Into::into).collect(),
            can_edit: f.can_edit,
        }
    }
}

/// A discussion of a forum, as its list shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Discussion)]
pub struct DiscussionView {
    pub id: DiscussionIdView,
    pub forum: ActivityIdView,
    pub course: CourseIdView,
    /// Its group; absent: all participants.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<CourseGroupIdView>,
    /// The group's name, or "All participants".
    pub group_name: String,
    pub author: UserIdView,
    pub author_name: String,
    pub subject: String,
    pub first_post: PostIdView,
    pub created_at: TimestampView,
    pub last_post_at: TimestampView,
    pub posts: u32,
}

impl DiscussionView {
    fn of(d: crate::domain::Discussion, group_name: String, author_name: String) -> Self {
        Self {
            id: d.id.mirror(),
            forum: d.forum.mirror(),
            course: d.course.mirror(),
            group: d.group.map(Mirror::mirror),
            group_name,
            author: d.author.mirror(),
            author_name,
            subject: d.subject,
            first_post: d.first_post.mirror(),
            created_at: d.created_at.mirror(),
            last_post_at: d.last_post_at.mirror(),
            posts: d.posts,
        }
    }
}

impl From<DiscussionSummary> for DiscussionView {
    fn from(s: DiscussionSummary) -> Self {
        Self::of(s.discussion, s.group_name, s.author)
    }
}

/// A post, with what the caller may do with it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Post)]
pub struct ForumPostView {
    pub id: PostIdView,
    pub discussion: DiscussionIdView,
    /// The post it answers; absent for the discussion's first post.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<PostIdView>,
    pub author: UserIdView,
    pub author_name: String,
    /// Markdown, as written.
    pub body: String,
    /// The body as sanitised HTML (no script, no raw HTML).
    pub body_html: String,
    pub created_at: TimestampView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<TimestampView>,
    /// 0 for the first post, 1 for its replies, … (in a thread).
    pub depth: u32,
    pub can_edit: bool,
    pub can_delete: bool,
}

impl From<ThreadPost> for ForumPostView {
    fn from(p: ThreadPost) -> Self {
        Self {
            id: p.post.id.mirror(),
            discussion: p.post.discussion.mirror(),
            parent: p.post.parent.map(Mirror::mirror),
            author: p.post.author.mirror(),
            author_name: p.author,
            body: p.post.body,
            body_html: p.post.body_html,
            created_at: p.post.created_at.mirror(),
            edited_at: p.post.edited_at.map(Mirror::mirror),
            depth: p.depth,
            can_edit: p.can_edit,
            can_delete: p.can_delete,
        }
    }
}

impl From<PostView> for ForumPostView {
    fn from(p: PostView) -> Self {
        p.post.into()
    }
}

/// A discussion with all its posts in thread order.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = DiscussionThread)]
pub struct DiscussionThreadView {
    pub discussion: DiscussionView,
    /// Each post followed by its replies, oldest first at every level.
    pub posts: Vec<ForumPostView>,
    pub can_reply: bool,
    /// Whether the caller follows it (or its whole forum).
    pub subscribed: bool,
}

impl From<Thread> for DiscussionThreadView {
    fn from(t: Thread) -> Self {
        let author = t
            .posts
            .first()
            .map(|p| p.author.clone())
            .unwrap_or_default();
        Self {
            discussion: DiscussionView::of(t.discussion, t.group_name, author),
            posts: t.posts.into_iter().map(Into::into).collect(),
            can_reply: t.can_reply,
            subscribed: t.subscribed,
        }
    }
}

/// Subscribed or not.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Subscription)]
pub struct SubscriptionView {
    pub subscribed: bool,
}

/// The site's forum settings.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = DiscussionSettings)]
pub struct DiscussionSettingsView {
    /// Minutes a post stays editable by its author (1 to 10080; 30 unless
    /// set). Editing teachers and site admins edit any post at any time.
    pub edit_window_minutes: u32,
}
