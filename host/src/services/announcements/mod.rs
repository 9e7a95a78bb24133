//! Announcements (issue 17): what a site admin tells a segment or a
//! course, and what a teacher tells their course or some of its groups.
//!
//! An announcement is written once (`announcements-v1`). Sending it fixes
//! its recipients (`audience::recipients`), records them as a compact
//! list, puts a one-byte unread copy in each one's inbox and queues the
//! e-mail copies — all in the one transaction that marks it sent, so a
//! crash leaves it either scheduled or sent with every copy. Until then a
//! scheduled announcement may be edited or withdrawn. Every step is in the
//! audit log. This module never renders a page and never talks SMTP; the
//! body is Markdown, made safe HTML by [`markdown`] wherever it is shown.

mod audience;
mod inbox;
pub mod markdown;
mod schedule;
mod send;

pub use audience::CourseReach;
pub use inbox::{InboxItem, InboxMessage, InboxPage};
pub(crate) use schedule::DueAnnouncements;

use super::auth::{Need, Principal, authorize, authorize_caller};
use super::error::{ServiceError, ServiceResult};
use super::{Page, SiteServices, clamp_limit, page_of, validate};
use crate::domain::*;
use crate::storage::site::prelude::*;

/// The longest subject, in characters.
pub const MAX_SUBJECT: usize = 200;
/// The largest body, in bytes of Markdown (64 KiB: a long letter, not a
/// file attachment).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// How far in the past a schedule time may lie and still mean "now": a
/// form filled in over a minute is not an error.
const SCHEDULE_SLACK_MS: i64 = 60_000;

/// What an author writes: to whom, what, and when (now when `send_at` is
/// `None`).
#[derive(Clone, Debug, PartialEq)]
pub struct AnnouncementDraft {
    pub audience: Audience,
    pub subject: String,
    pub body: String,
    pub send_at: Option<Timestamp>,
}

/// What the compose page shows before anything is written.
#[derive(Clone, Debug, PartialEq)]
pub struct AnnouncementPreview {
    /// The audience, checked, in words.
    pub audience: String,
    /// How many would receive it if it were sent now.
    pub recipients: u64,
    /// The body as it will be shown (sanitised HTML).
    pub html: String,
    /// Whether e-mail copies go out (else the inbox only).
    pub email: bool,
}

/// Everything a site admin may announce to.
#[derive(Clone, Debug, PartialEq)]
pub struct SiteAudiences {
    /// Each segment with its member count, by name.
    pub segments: Vec<(Segment, u64)>,
    /// Every course, by short name.
    pub courses: Vec<Course>,
}

/// An announcement with what its pages show beside it.
#[derive(Clone, Debug, PartialEq)]
pub struct AnnouncementView {
    pub announcement: Announcement,
    /// The audience in words.
    pub audience: String,
    pub author: String,
    /// The body as sanitised HTML.
    pub html: String,
    /// Whether the caller may edit or withdraw it (it is scheduled and
    /// theirs, or they are a site admin).
    pub editable: bool,
    /// The first [`FAILURES_SHOWN`] e-mail copies that were not delivered:
    /// the recipient's username and the server's answer (filled for one
    /// announcement's page, empty in lists).
    pub failures: Vec<(String, String)>,
}

/// Failed copies an announcement's page lists; the site's mail queue has
/// them all.
pub const FAILURES_SHOWN: usize = 20;

/// A draft's fields, checked: subject, body and schedule.
fn checked_fields(draft: &AnnouncementDraft, now: Timestamp) -> ServiceResult<(String, String)> {
    let subject = validate::required_text("subject", &draft.subject, MAX_SUBJECT)?;
    let body = validate::markdown_body("body", &draft.body, MAX_BODY_BYTES)?;
    if let Some(at) = draft.send_at
        && at.0 < now.0 - SCHEDULE_SLACK_MS
    {
        return Err(ServiceError::invalid(
            "send_at",
            format!("{at} is in the past; leave it empty to send now"),
        ));
    }
    Ok((subject, body))
}

impl SiteServices {
    /// The author of an announcement: a site user (operators act through a
    /// site admin's account: an announcement is signed by a person of the
    /// site).
    fn author_of(&self, who: &Principal) -> ServiceResult<UserId> {
        who.site_user_id(self.site.id).ok_or_else(|| {
            ServiceError::Forbidden(
                "announcements are written by a user of the site; sign in as one".into(),
            )
        })
    }

    /// What a site admin may announce to: every segment (with its member
    /// count) and every course.
    pub fn site_audiences(&self, who: &Principal) -> ServiceResult<SiteAudiences> {
        self.read(|t| {
            authorize(&self.site, t, who, Need::SiteAdmin)?;
            let mut segments = Vec::new();
            for s in t.all_segments()? {
                let members = t.segment_member_count(s.id)?;
                segments.push((s, members));
            }
            segments.sort_by_key(|s| s.0.name.to_lowercase());
            let mut courses = t.all_courses()?;
            courses.sort_by_key(|c| c.shortname.to_lowercase());
            Ok(SiteAudiences { segments, courses })
        })
    }

    /// What `who` may reach in `course` (for the compose page).
    pub fn announcement_reach(
        &self,
        who: &Principal,
        course: CourseId,
    ) -> ServiceResult<CourseReach> {
        self.read(|t| audience::course_reach(&self.site, t, who, course))
    }

    /// Checks a draft and tells what sending it would do, writing nothing.
    pub fn preview_announcement(
        &self,
        who: &Principal,
        draft: &AnnouncementDraft,
    ) -> ServiceResult<AnnouncementPreview> {
        let author = self.author_of(who);
        let email = self.mail_configured()?;
        self.read(|t| {
            let audience = audience::authorize_audience(&self.site, t, who, &draft.audience)?;
            let author = author?;
            checked_fields(draft, Timestamp::now())?;
            Ok(AnnouncementPreview {
                audience: audience::describe(t, &audience)?,
                recipients: audience::recipients(t, &audience, author)?.len() as u64,
                html: markdown::render_html(&draft.body),
                email,
            })
        })
    }

    /// Writes an announcement: sent at once when `send_at` is empty or has
    /// come, else scheduled.
    pub fn create_announcement(
        &self,
        who: &Principal,
        draft: AnnouncementDraft,
    ) -> ServiceResult<Announcement> {
        let author = self.author_of(who);
        let mail = self.mail_configured()?;
        let sent = self.write(|t| {
            let audience = audience::authorize_audience(&self.site, t, who, &draft.audience)?;
            let author = author?;
            let (subject, body) = checked_fields(&draft, t.now)?;
            let send_at = draft.send_at.filter(|at| at.0 > t.now.0).unwrap_or(t.now);
            let mut announcement = Announcement {
                id: t.new_announcement_id()?,
                author,
                audience,
                subject,
                body,
                created_at: t.now,
                updated_at: t.now,
                send_at,
                state: AnnouncementState::Scheduled,
                closed_at: None,
                recipients: 0,
                delivery: DeliveryCounts::default(),
            };
            let described = audience::describe(t, &announcement.audience)?;
            let actor = Actor::User(author);
            if send_at.0 > t.now.0 {
                t.put_announcement(&announcement, None)?;
                self.note_scheduled(send_at);
                t.audit_log(
                    actor,
                    "announcement.scheduled",
                    format!("announcement #{}", announcement.id),
                    format!(
                        "{:?} to {described}, to be sent {send_at}",
                        announcement.subject
                    ),
                )?;
            } else {
                send::send_in(t, &mut announcement, None, mail)?;
            }
            Ok(announcement)
        })?;
        self.wake_mail(&sent);
        Ok(sent)
    }

    /// Wakes the mail worker when `announcement` queued e-mail copies, so
    /// they leave now rather than at its next poll.
    fn wake_mail(&self, announcement: &Announcement) {
        if announcement.delivery.queued > 0 {
            self.mail.wake();
        }
    }

    /// Changes a scheduled announcement (its audience, text or time).
    pub fn update_announcement(
        &self,
        who: &Principal,
        id: AnnouncementId,
        draft: AnnouncementDraft,
    ) -> ServiceResult<Announcement> {
        let mail = self.mail_configured()?;
        let updated = self.write(|t| {
            let (mut announcement, actor) = self.editable(t, who, id)?;
            let audience = audience::authorize_audience(&self.site, t, who, &draft.audience)?;
            let (subject, body) = checked_fields(&draft, t.now)?;
            let previous = announcement.send_at.0;
            let before = announcement.clone();
            announcement.audience = audience;
            announcement.subject = subject;
            announcement.body = body;
            announcement.send_at = draft.send_at.filter(|at| at.0 > t.now.0).unwrap_or(t.now);
            if announcement == before {
                return Ok(announcement);
            }
            announcement.updated_at = t.now;
            let described = audience::describe(t, &announcement.audience)?;
            t.audit_log(
                actor,
                "announcement.updated",
                format!("announcement #{id}"),
                format!(
                    "{:?} to {described}, to be sent {}",
                    announcement.subject, announcement.send_at
                ),
            )?;
            if announcement.send_at.0 > t.now.0 {
                t.put_announcement(&announcement, Some(previous))?;
                self.note_scheduled(announcement.send_at);
            } else {
                send::send_in(t, &mut announcement, Some(previous), mail)?;
            }
            Ok(announcement)
        })?;
        self.wake_mail(&updated);
        Ok(updated)
    }

    /// Withdraws a scheduled announcement: it is never sent, and stays
    /// listed as withdrawn.
    pub fn withdraw_announcement(
        &self,
        who: &Principal,
        id: AnnouncementId,
    ) -> ServiceResult<Announcement> {
        self.write(|t| {
            let (mut announcement, actor) = self.editable(t, who, id)?;
            let previous = announcement.send_at.0;
            announcement.state = AnnouncementState::Withdrawn;
            announcement.closed_at = Some(t.now);
            announcement.updated_at = t.now;
            t.put_announcement(&announcement, Some(previous))?;
            t.audit_log(
                actor,
                "announcement.withdrawn",
                format!("announcement #{id}"),
                format!("{:?} withdrawn before it was sent", announcement.subject),
            )?;
            Ok(announcement)
        })
    }

    /// The announcement `id` for `who` to edit: scheduled, and theirs, or
    /// they are a site admin, or an editing teacher of its course (Moodle's
    /// "edit any post" of the announcements forum); and still within what
    /// they may reach.
    fn editable(
        &self,
        t: &impl SiteRead,
        who: &Principal,
        id: AnnouncementId,
    ) -> ServiceResult<(Announcement, Actor)> {
        let announcement = self.visible(t, who, id)?;
        let mine = who.site_user_id(self.site.id) == Some(announcement.author);
        let may =
            mine || authorize(&self.site, t, who, Need::SiteAdmin).is_ok()
                || announcement.audience.course().is_some_and(|c| {
                    authorize(&self.site, t, who, Need::ConfigureCourse(c)).is_ok()
                });
        if !may {
            return Err(ServiceError::Forbidden(format!(
                "announcement #{id} is not yours to change"
            )));
        }
        if announcement.state != AnnouncementState::Scheduled {
            return Err(ServiceError::Conflict(format!(
                "announcement #{id} was already {}; only a scheduled announcement can be changed",
                match announcement.state {
                    AnnouncementState::Withdrawn => "withdrawn",
                    _ => "sent",
                }
            )));
        }
        let actor = audience::authorize_audience(&self.site, t, who, &announcement.audience)
            .map(|_| who.actor())?;
        Ok((announcement, actor))
    }

    /// The announcement `id` if `who` may see it as its sender's side does:
    /// a site admin, its author, a teacher of its course (for one to
    /// groups, a teacher who reaches them). Looked up only once `who` is
    /// known to be of this site, so "not found" tells a stranger nothing.
    fn visible(
        &self,
        t: &impl SiteRead,
        who: &Principal,
        id: AnnouncementId,
    ) -> ServiceResult<Announcement> {
        authorize_caller(&self.site, t, who)?;
        let announcement = t
            .announcement(id)?
            .ok_or_else(|| ServiceError::not_found(format!("announcement #{id}")))?;
        if authorize(&self.site, t, who, Need::SiteAdmin).is_ok()
            || who.site_user_id(self.site.id) == Some(announcement.author)
        {
            return Ok(announcement);
        }
        let reached = match &announcement.audience {
            // A post's notification is read through its inbox copies.
            Audience::Segment(_) | Audience::ForumSubscribers { .. } => false,
            Audience::Course(course) => {
                audience::course_reach(&self.site, t, who, *course).is_ok_and(|r| r.whole_course)
            }
            Audience::Groups { course, groups } => {
                audience::course_reach(&self.site, t, who, *course).is_ok_and(|r| {
                    groups
                        .iter()
                        .all(|g| r.groups.iter().any(|mine| mine.id == *g))
                })
            }
        };
        if reached {
            Ok(announcement)
        } else {
            Err(ServiceError::Forbidden(format!(
                "announcement #{id} is for its author, the site admins and the teachers it reaches"
            )))
        }
    }

    /// An announcement for its sender's pages, with its delivery figures.
    pub fn announcement(
        &self,
        who: &Principal,
        id: AnnouncementId,
    ) -> ServiceResult<AnnouncementView> {
        self.read(|t| {
            let announcement = self.visible(t, who, id)?;
            let editable = self.editable(t, who, id).is_ok();
            let mut view = self.view_of(t, announcement, editable)?;
            view.failures = self.failures_of(t, id)?;
            Ok(view)
        })
    }

    fn view_of(
        &self,
        t: &impl SiteRead,
        announcement: Announcement,
        editable: bool,
    ) -> ServiceResult<AnnouncementView> {
        Ok(AnnouncementView {
            audience: audience::describe(t, &announcement.audience)?,
            author: t.user(announcement.author)?.map_or_else(
                || format!("user #{}", announcement.author),
                |u| u.full_name(),
            ),
            html: markdown::render_html(&announcement.body),
            announcement,
            editable,
            failures: Vec::new(),
        })
    }

    /// The first failed copies of `id`, with their recipients' usernames.
    fn failures_of(
        &self,
        t: &impl SiteRead,
        id: AnnouncementId,
    ) -> ServiceResult<Vec<(String, String)>> {
        let mut out = Vec::new();
        for f in t.mail_failures_after(Some((id, UserId(0))), FAILURES_SHOWN)? {
            if f.announcement != id {
                break;
            }
            let who = t
                .user(f.recipient)?
                .map_or_else(|| format!("user #{}", f.recipient), |u| u.username);
            out.push((who, f.error));
        }
        Ok(out)
    }

    /// The site's announcements, newest first (site admins).
    pub fn site_announcements(
        &self,
        who: &Principal,
        before: Option<AnnouncementId>,
        limit: usize,
    ) -> ServiceResult<Page<AnnouncementView, AnnouncementId>> {
        let limit = clamp_limit(limit);
        self.read(|t| {
            authorize(&self.site, t, who, Need::SiteAdmin)?;
            let list = t.announcements_before(before, limit + 1)?;
            let page = page_of(list, limit, |a| a.id);
            let mut items = Vec::with_capacity(page.items.len());
            for a in page.items {
                let editable = a.state == AnnouncementState::Scheduled;
                items.push(self.view_of(t, a, editable)?);
            }
            Ok(Page {
                items,
                next: page.next,
            })
        })
    }

    /// A course's announcements (to it or to groups of it), newest first,
    /// for those who may announce in it. A teacher who sees only their own
    /// groups sees the announcements to those.
    pub fn course_announcements(
        &self,
        who: &Principal,
        course: CourseId,
        before: Option<AnnouncementId>,
        limit: usize,
    ) -> ServiceResult<Page<AnnouncementView, AnnouncementId>> {
        let limit = clamp_limit(limit);
        self.read(|t| {
            let reach = audience::course_reach(&self.site, t, who, course)?;
            let staff = authorize(&self.site, t, who, Need::ConfigureCourse(course)).is_ok();
            let me = who.site_user_id(self.site.id);
            let list = t.course_announcements_before(course, before, limit + 1)?;
            let page = page_of(list, limit, |a| a.id);
            let mut items = Vec::with_capacity(page.items.len());
            for a in page.items {
                let reached = reach.whole_course
                    || me == Some(a.author)
                    || matches!(&a.audience, Audience::Groups { groups, .. }
                        if groups.iter().all(|g| reach.groups.iter().any(|r| r.id == *g)));
                if !reached {
                    continue;
                }
                let editable =
                    a.state == AnnouncementState::Scheduled && (me == Some(a.author) || staff);
                items.push(self.view_of(t, a, editable)?);
            }
            Ok(Page {
                items,
                next: page.next,
            })
        })
    }

    /// Sends every scheduled announcement whose time has come, each in its
    /// own transaction; how many were sent. The scheduler job calls it.
    pub fn send_due_announcements(&self) -> ServiceResult<usize> {
        let due = self.read(|t| Ok(t.due_announcements(Timestamp::now())?))?;
        if due.is_empty() {
            return Ok(0);
        }
        let mail = self.mail_configured()?;
        let mut sent = 0;
        for id in due {
            let done = self.write(|t| {
                let Some(mut announcement) = t.announcement(id)? else {
                    return Ok(None);
                };
                if announcement.state != AnnouncementState::Scheduled
                    || announcement.send_at.0 > t.now.0
                {
                    return Ok(None);
                }
                let previous = announcement.send_at.0;
                send::send_in(t, &mut announcement, Some(previous), mail)?;
                Ok(Some(announcement))
            })?;
            if let Some(announcement) = done {
                self.wake_mail(&announcement);
                sent += 1;
            }
        }
        Ok(sent)
    }
}
