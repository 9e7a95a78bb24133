//! One e-mail copy of an announcement: the text and HTML parts rendered
//! from the askama templates `templates/mail/announcement.txt` and
//! `announcement.html`, and the headers — the site's name as the sender's,
//! a Message-ID that is the same every time the same copy is sent (so a
//! copy sent again after a crash is recognisably the same message), and
//! `List-Unsubscribe` pointing at the recipient's preferences.
//!
//! Rendering reads nothing and writes nothing: the worker loads what a
//! job needs once ([`AnnouncementMail`]) and renders each copy from it.

use askama::Template;
use lettre::Message;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};

use crate::domain::{AnnouncementId, SiteId, UserId};

/// What every copy of one announcement shares, rendered once per job.
#[derive(Clone, Debug)]
pub struct AnnouncementMail {
    pub site: SiteId,
    pub site_name: String,
    /// `{public url}/s/{slug}`: where the site's pages are.
    pub site_url: String,
    pub announcement: AnnouncementId,
    pub subject: String,
    pub author: String,
    /// Whom it went to, in words ("segment Finance", "course COMP101", …).
    pub audience: String,
    /// The body as sanitised HTML (`announcements::markdown`).
    pub body_html: String,
    pub body_text: String,
}

/// One recipient of a copy.
#[derive(Clone, Debug)]
pub struct MailRecipient {
    pub id: UserId,
    pub name: String,
    pub email: String,
}

#[derive(Template)]
#[template(path = "mail/announcement.txt")]
struct TextPart<'a> {
    mail: &'a AnnouncementMail,
    recipient: &'a MailRecipient,
    inbox_url: &'a str,
    preferences_url: &'a str,
}

#[derive(Template)]
#[template(path = "mail/announcement.html")]
struct HtmlPart<'a> {
    mail: &'a AnnouncementMail,
    recipient: &'a MailRecipient,
    inbox_url: &'a str,
    preferences_url: &'a str,
}

/// Why a copy could not be made into a message: the recipient's address
/// or the sender's does not parse, or a template failed. Permanent for
/// that copy.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct MessageError(String);

impl AnnouncementMail {
    pub fn inbox_url(&self) -> String {
        format!("{}/inbox", self.site_url)
    }

    pub fn preferences_url(&self) -> String {
        format!("{}/preferences", self.site_url)
    }

    /// The Message-ID of the copy to `user`: the same on every attempt.
    pub fn message_id(&self, user: UserId, from_address: &str) -> String {
        let domain = from_address
            .rsplit_once('@')
            .map_or("charon.invalid", |(_, d)| d);
        format!(
            "<announcement-{}.{}.{}@{domain}>",
            self.announcement, user, self.site
        )
    }

    /// The copy to `recipient`, from `from_address` with the site's name.
    pub fn message(
        &self,
        recipient: &MailRecipient,
        from_address: &str,
    ) -> Result<Message, MessageError> {
        let inbox_url = self.inbox_url();
        let preferences_url = self.preferences_url();
        let text = TextPart {
            mail: self,
            recipient,
            inbox_url: &inbox_url,
            preferences_url: &preferences_url,
        }
        .render()
        .map_err(|e| MessageError(format!("cannot render the text part: {e}")))?;
        let html = HtmlPart {
            mail: self,
            recipient,
            inbox_url: &inbox_url,
            preferences_url: &preferences_url,
        }
        .render()
        .map_err(|e| MessageError(format!("cannot render the HTML part: {e}")))?;
        let from = from_address
            .parse()
            .map_err(|e| MessageError(format!("the sender {from_address:?}: {e}")))?;
        let to = recipient
            .email
            .parse()
            .map_err(|e| MessageError(format!("the address {:?}: {e}", recipient.email)))?;
        Message::builder()
            .from(Mailbox::new(Some(self.site_name.clone()), from))
            .to(Mailbox::new(Some(recipient.name.clone()), to))
            .subject(self.subject.clone())
            .message_id(Some(self.message_id(recipient.id, from_address)))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe"),
                format!("<{preferences_url}>"),
            ))
            .multipart(MultiPart::alternative_plain_html(text, html))
            .map_err(|e| MessageError(format!("cannot build the message: {e}")))
    }
}
