//! E-mail: SMTP settings (the password only as whether one is set), the
//! mail queue in figures with its jobs and failed copies, and a user's
//! message preferences.

use serde::{Deserialize, Serialize};

use super::{TimestampView, UserIdView, mirror_enum};
use crate::domain::{MailFailure, MailJob, MessagePreferences, SmtpSecurity};
use crate::services::mail::settings::SmtpShown;
use crate::services::mail::{MailQueueOverview, SmtpOverview, SmtpSource};

/// How mail reaches the SMTP server.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = SmtpSecurity)]
pub enum SmtpSecurityView {
    /// Plain SMTP (a relay on loopback or a trusted network).
    #[serde(rename = "none")]
    None,
    /// A plain connection upgraded with STARTTLS, required.
    #[serde(rename = "starttls")]
    StartTls,
    /// TLS from the first byte (SMTPS).
    #[serde(rename = "tls")]
    Tls,
}

mirror_enum!(
    SmtpSecurity,
    SmtpSecurityView {
        None,
        StartTls,
        Tls
    }
);

/// SMTP settings as shown: never the password, only whether one is set.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = SmtpSettings)]
pub struct SmtpSettingsView {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurityView,
    pub username: Option<String>,
    pub password_set: bool,
    /// Mail comes from this address, with the site's name as sender name.
    pub from_address: String,
}

impl From<SmtpShown> for SmtpSettingsView {
    fn from(s: SmtpShown) -> Self {
        Self {
            host: s.host,
            port: s.port,
            security: s.security.into(),
            username: s.username,
            password_set: s.password_set,
            from_address: s.from_address,
        }
    }
}

/// Which settings a site's mail goes out with.
#[derive(Copy, Clone, Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = SmtpSource)]
pub enum SmtpSourceView {
    /// The site's own settings.
    Site,
    /// The operator's default for sites without their own.
    OperatorDefault,
    /// None: announcements reach inboxes only.
    None,
}

/// A site's mail settings: its own, the operator's default and which
/// applies.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = MailSettings)]
pub struct MailSettingsView {
    pub own: Option<SmtpSettingsView>,
    pub operator_default: Option<SmtpSettingsView>,
    pub applies: SmtpSourceView,
}

impl From<SmtpOverview> for MailSettingsView {
    fn from(o: SmtpOverview) -> Self {
        Self {
            own: o.own.map(Into::into),
            operator_default: o.operator_default.map(Into::into),
            applies: match o.applies {
                SmtpSource::Site => SmtpSourceView::Site,
                SmtpSource::OperatorDefault => SmtpSourceView::OperatorDefault,
                SmtpSource::None => SmtpSourceView::None,
            },
        }
    }
}

/// A job of the mail queue: one announcement's copies to up to 256
/// recipients.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = MailJob)]
pub struct MailJobView {
    pub id: u64,
    /// The announcement's id.
    pub announcement: u64,
    /// Copies not yet delivered or failed.
    pub remaining: u64,
    /// Failed tries in a row of the next copy.
    pub attempts: u32,
    /// Not tried again before this time.
    pub not_before: TimestampView,
    pub last_error: Option<String>,
}

impl From<&MailJob> for MailJobView {
    fn from(j: &MailJob) -> Self {
        Self {
            id: j.id.0,
            announcement: j.announcement.0,
            remaining: j.remaining() as u64,
            attempts: j.attempts,
            not_before: j.not_before.into(),
            last_error: j.last_error.clone(),
        }
    }
}

/// A copy that was not delivered.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = MailFailure)]
pub struct MailFailureView {
    /// The announcement's id.
    pub announcement: u64,
    pub recipient: UserIdView,
    pub at: TimestampView,
    pub attempts: u32,
    /// The server's answer or the connection error.
    pub error: String,
}

impl From<&MailFailure> for MailFailureView {
    fn from(f: &MailFailure) -> Self {
        Self {
            announcement: f.announcement.0,
            recipient: f.recipient.into(),
            at: f.at.into(),
            attempts: f.attempts,
            error: f.error.clone(),
        }
    }
}

/// A site's mail queue: figures, then the first jobs and failed copies.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = MailQueue)]
pub struct MailQueueView {
    /// Whether mail can go out (the site's or the operator's settings).
    pub configured: bool,
    pub jobs: u64,
    /// Copies waiting in those jobs.
    pub copies: u64,
    /// Jobs waiting after a temporary failure.
    pub backing_off: u64,
    /// Copies recorded as failed.
    pub failures: u64,
    pub next_due: Option<TimestampView>,
    /// The first jobs, by id.
    pub queued: Vec<MailJobView>,
    /// The first failed copies, by announcement and recipient.
    pub failed: Vec<MailFailureView>,
}

impl From<MailQueueOverview> for MailQueueView {
    fn from(q: MailQueueOverview) -> Self {
        let c = q.counts;
        Self {
            configured: q.configured,
            jobs: c.jobs,
            copies: c.copies,
            backing_off: c.backing_off,
            failures: c.failures,
            next_due: c.next_due.map(Into::into),
            queued: q.jobs.items.iter().map(Into::into).collect(),
            failed: q.failures.items.iter().map(Into::into).collect(),
        }
    }
}

/// How many failed copies were queued again.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = MailRequeued)]
pub struct MailRequeuedView {
    pub requeued: u64,
}

/// A user's message preferences.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = MessagePreferences)]
pub struct MessagePreferencesView {
    /// Announcements also come as e-mail (the inbox copy always stays).
    pub announcement_emails: bool,
}

impl From<MessagePreferences> for MessagePreferencesView {
    fn from(p: MessagePreferences) -> Self {
        Self {
            announcement_emails: p.announcement_emails,
        }
    }
}
