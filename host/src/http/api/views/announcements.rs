//! Announcements and the inbox as the API shows them.

use serde::{Deserialize, Serialize};

use super::{
    AnnouncementIdView, CourseGroupIdView, CourseIdView, Mirror, PostIdView, SegmentIdView,
    TimestampView, UserIdView,
};
use crate::domain::{AnnouncementState, Audience};
use crate::services::announcements::{
    AnnouncementPreview, AnnouncementView as Announced, InboxItem, InboxMessage, InboxPage,
};

/// Who an announcement is for: a `segment` (site admins), a `course`, or
/// some `groups` of a `course`. Exactly one of `segment` and `course`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Audience)]
pub struct AudienceView {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment: Option<SegmentIdView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub course: Option<CourseIdView>,
    /// With `course`: only these of its groups.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<CourseGroupIdView>>,
    /// With `course`: the forum post whose notification this is, sent to
    /// the forum's and the discussion's subscribers. Only ever answered,
    /// never accepted: posts notify through the forum.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub post: Option<PostIdView>,
}

impl From<Audience> for AudienceView {
    fn from(a: Audience) -> Self {
        match a {
            Audience::Segment(s) => Self {
                segment: Some(s.mirror()),
                course: None,
                groups: None,
                post: None,
            },
            Audience::Course(c) => Self {
                segment: None,
                course: Some(c.mirror()),
                groups: None,
                post: None,
            },
            Audience::Groups { course, groups } => Self {
                segment: None,
                course: Some(course.mirror()),
                groups: Some(groups.mirror()),
                post: None,
            },
            Audience::ForumSubscribers { course, post, .. } => Self {
                segment: None,
                course: Some(course.mirror()),
                groups: None,
                post: Some(post.mirror()),
            },
        }
    }
}

impl AudienceView {
    /// The audience this names, or why it names none.
    pub fn audience(self) -> Result<Audience, &'static str> {
        if self.post.is_some() {
            return Err("a forum post notifies its subscribers itself; name a segment or a course");
        }
        match (self.segment, self.course, self.groups) {
            (Some(s), None, None) => Ok(Audience::Segment(s.mirror())),
            (None, Some(c), None) => Ok(Audience::Course(c.mirror())),
            (None, Some(c), Some(groups)) => Ok(Audience::Groups {
                course: c.mirror(),
                groups: groups.mirror(),
            }),
            (Some(_), _, _) => Err("name a segment, or a course (with groups or not), not both"),
            (None, None, _) => Err("name a segment or a course"),
        }
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = AnnouncementState)]
pub enum AnnouncementStateView {
    /// Waits for its `send_at`; may be edited or withdrawn.
    Scheduled,
    /// Its recipients are fixed and their copies written.
    Sent,
    /// Withdrawn before it was sent.
    Withdrawn,
}

impl From<AnnouncementState> for AnnouncementStateView {
    fn from(s: AnnouncementState) -> Self {
        match s {
            AnnouncementState::Scheduled => Self::Scheduled,
            AnnouncementState::Sent => Self::Sent,
            AnnouncementState::Withdrawn => Self::Withdrawn,
        }
    }
}

/// How the e-mail copies went: `sent + failed <= queued`, the rest still
/// in the mail queue.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Delivery)]
pub struct DeliveryView {
    pub queued: u64,
    pub sent: u64,
    pub failed: u64,
}

/// An announcement, as its senders see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Announcement)]
pub struct AnnouncementView {
    pub id: AnnouncementIdView,
    pub author: UserIdView,
    pub author_name: String,
    pub audience: AudienceView,
    /// The audience in words.
    pub audience_text: String,
    pub subject: String,
    /// Markdown, as written.
    pub body: String,
    /// The body rendered to sanitised HTML.
    pub html: String,
    pub state: AnnouncementStateView,
    pub created_at: TimestampView,
    pub updated_at: TimestampView,
    /// When it is (or was) to be sent.
    pub send_at: TimestampView,
    /// How many received it (fixed when sent).
    pub recipients: u64,
    pub delivery: DeliveryView,
    /// Whether the caller may still edit or withdraw it.
    pub editable: bool,
    /// The first e-mail copies that were not delivered, with the
    /// server's answer (one announcement only; empty in lists).
    pub failures: Vec<FailedCopyView>,
}

/// An e-mail copy that was not delivered.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = FailedCopy)]
pub struct FailedCopyView {
    /// The recipient's username.
    pub recipient: String,
    /// The server's answer or the connection error.
    pub error: String,
}

impl From<Announced> for AnnouncementView {
    fn from(v: Announced) -> Self {
        let a = v.announcement;
        Self {
            id: a.id.mirror(),
            author: a.author.mirror(),
            author_name: v.author,
            audience: a.audience.into(),
            audience_text: v.audience,
            subject: a.subject,
            body: a.body,
            html: v.html,
            state: a.state.into(),
            created_at: a.created_at.mirror(),
            updated_at: a.updated_at.mirror(),
            send_at: a.send_at.mirror(),
            recipients: a.recipients,
            delivery: DeliveryView {
                queued: a.delivery.queued,
                sent: a.delivery.sent,
                failed: a.delivery.failed,
            },
            editable: v.editable,
            failures: v
                .failures
                .into_iter()
                .map(|(recipient, error)| FailedCopyView { recipient, error })
                .collect(),
        }
    }
}

/// What sending a draft now would do; nothing was written.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = AnnouncementPreview)]
pub struct AnnouncementPreviewView {
    /// The audience in words.
    pub audience_text: String,
    /// How many would receive it if it were sent now.
    pub recipients: u64,
    /// The body rendered to sanitised HTML.
    pub html: String,
    /// Whether e-mail copies would go out (else the inbox only).
    pub email: bool,
}

impl From<AnnouncementPreview> for AnnouncementPreviewView {
    fn from(p: AnnouncementPreview) -> Self {
        Self {
            audience_text: p.audience,
            recipients: p.recipients,
            html: p.html,
            email: p.email,
        }
    }
}

/// One message in an inbox.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = InboxItem)]
pub struct InboxItemView {
    pub announcement: AnnouncementIdView,
    pub read: bool,
    pub subject: String,
    pub author_name: String,
    /// Where it came from, in words.
    pub audience_text: String,
    pub sent_at: TimestampView,
}

impl From<InboxItem> for InboxItemView {
    fn from(i: InboxItem) -> Self {
        Self {
            announcement: i.announcement.mirror(),
            read: i.read,
            subject: i.subject,
            author_name: i.author,
            audience_text: i.audience,
            sent_at: i.sent_at.mirror(),
        }
    }
}

/// A page of the caller's inbox, newest first, with its counts.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = InboxPage)]
pub struct InboxPageView {
    pub items: Vec<InboxItemView>,
    pub next_cursor: Option<String>,
    pub unread: u64,
    pub total: u64,
}

impl From<InboxPage> for InboxPageView {
    fn from(p: InboxPage) -> Self {
        Self {
            items: p.page.items.into_iter().map(Into::into).collect(),
            next_cursor: p.page.next.map(|c| c.to_string()),
            unread: p.unread,
            total: p.total,
        }
    }
}

/// One opened message: the inbox item and its body.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = InboxMessage)]
pub struct InboxMessageView {
    pub item: InboxItemView,
    /// The body rendered to sanitised HTML.
    pub html: String,
}

impl From<InboxMessage> for InboxMessageView {
    fn from(m: InboxMessage) -> Self {
        Self {
            item: m.item.into(),
            html: m.html,
        }
    }
}
