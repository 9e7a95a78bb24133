//! Announcements, the inbox and the mail queue (issue 17): what a site
//! admin or a teacher tells a segment, a course or some of its groups, and
//! how each copy reaches its recipients.
//!
//! An announcement is stored once; its recipients are a list fixed when it
//! is sent, each with a small inbox row (read or not) and, if they take
//! e-mail copies, a place in a mail job. Nothing here copies the body per
//! recipient.

use serde::{Deserialize, Serialize};

use crate::{
    ActivityId, AnnouncementId, CourseGroupId, CourseId, DiscussionId, MailId, PostId, SegmentId,
    Timestamp, UserId,
};

/// Who an announcement is for. Externally tagged (serde's default) for
/// postcard.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// The active members of a segment (site admins only).
    Segment(SegmentId),
    /// Everyone actively enrolled in a course.
    Course(CourseId),
    /// The members of some groups of one course (ascending ids, at least
    /// one).
    Groups {
        course: CourseId,
        groups: Vec<CourseGroupId>,
    },
    /// Not an announcement but the notification of a new forum post to
    /// the forum's and the discussion's subscribers (issue 18), who were
    /// fixed when it was written. It travels through the same inbox and
    /// mail queue; the announcement lists leave it out. A variant added
    /// last: rows written before it decode unchanged.
    ForumSubscribers {
        course: CourseId,
        forum: ActivityId,
        discussion: DiscussionId,
        post: PostId,
    },
}

impl Audience {
    /// The course the audience lies in, if any.
    pub fn course(&self) -> Option<CourseId> {
        match self {
            Audience::Segment(_) => None,
            Audience::Course(course)
            | Audience::Groups { course, .. }
            | Audience::ForumSubscribers { course, .. } => Some(*course),
        }
    }

    /// Whether this is a forum post's notification rather than an
    /// announcement somebody wrote.
    pub fn is_post_notification(&self) -> bool {
        matches!(self, Audience::ForumSubscribers { .. })
    }
}

/// Where an announcement is in its life.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnnouncementState {
    /// Waits for its `send_at`; may be edited or withdrawn.
    Scheduled,
    /// Its recipients are fixed and their copies written.
    Sent,
    /// Withdrawn before it was sent; kept for the record.
    Withdrawn,
}

/// How the e-mail copies of an announcement went, counted by the mail
/// worker as it goes. `queued` is fixed when the announcement is sent;
/// `sent + failed <= queued`, the rest still in the queue.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryCounts {
    pub queued: u64,
    pub sent: u64,
    pub failed: u64,
}

/// A message to a segment, a course or some of a course's groups.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announcement {
    pub id: AnnouncementId,
    pub author: UserId,
    pub audience: Audience,
    pub subject: String,
    /// Markdown, as written; rendered to sanitised HTML when shown.
    pub body: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// When it is (or was) to be sent.
    pub send_at: Timestamp,
    pub state: AnnouncementState,
    /// When it was sent or withdrawn.
    pub closed_at: Option<Timestamp>,
    /// How many received it (fixed when sent).
    pub recipients: u64,
    pub delivery: DeliveryCounts,
}

/// One recipient's copy of an announcement, as their inbox lists it.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxEntry {
    pub announcement: AnnouncementId,
    pub read: bool,
}

/// A user's choices about messages. Most users never change them, so the
/// site keeps a row only for those who did.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessagePreferences {
    /// Whether announcements also come as e-mail (the inbox copy always
    /// stays).
    pub announcement_emails: bool,
}

impl Default for MessagePreferences {
    fn default() -> Self {
        Self {
            announcement_emails: true,
        }
    }
}

/// How a site's mail reaches its SMTP server.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpSecurity {
    /// Plain SMTP (a relay on loopback or a private network).
    None,
    /// Plain connection upgraded with STARTTLS, required.
    StartTls,
    /// TLS from the first byte (SMTPS, port 465).
    Tls,
}

/// A site's SMTP settings. The password is only ever written: pages and
/// the API show whether one is set, never its text, and `Debug` masks it
/// so no log line can carry it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<String>,
    /// The address mail comes from; the site's name is its display name.
    pub from_address: String,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "********"))
            .field("from_address", &self.from_address)
            .finish()
    }
}

/// A unit of work of the mail queue: the e-mail copies of one
/// announcement to up to [`MailJob::MAX_RECIPIENTS`] recipients, sent in
/// order. `next` moves on as each is delivered (or failed for good), so a
/// restart resumes after the last one recorded — at least once, and a
/// copy sent twice carries the same Message-ID.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailJob {
    pub id: MailId,
    pub announcement: AnnouncementId,
    pub recipients: Vec<UserId>,
    /// Index in `recipients` of the first copy not yet delivered.
    pub next: u32,
    /// Temporary failures in a row of the copy at `next`.
    pub attempts: u32,
    /// Not to be tried before this time (backoff after a temporary
    /// failure).
    pub not_before: Timestamp,
    /// The last temporary failure, as the server or the connection said it.
    pub last_error: Option<String>,
}

impl MailJob {
    /// Recipients per job: a 100,000-member announcement is a few hundred
    /// rows, and one job's progress is one small row rewritten.
    pub const MAX_RECIPIENTS: usize = 256;

    /// Copies not yet delivered or failed.
    pub fn remaining(&self) -> usize {
        self.recipients.len().saturating_sub(self.next as usize)
    }
}

/// A copy that could not be delivered: refused for good (5xx) or given up
/// after too many temporary failures. A site admin may queue it again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailFailure {
    pub announcement: AnnouncementId,
    pub recipient: UserId,
    pub at: Timestamp,
    pub attempts: u32,
    /// The server's answer or the connection error.
    pub error: String,
}
