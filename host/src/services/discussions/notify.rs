//! Telling subscribers about a new post, through the site's one inbox and
//! one mail queue (issue 17's): a post notification is a message of the
//! announcements table whose audience is `Audience::ForumSubscribers`,
//! delivered like an announcement — an unread inbox copy per recipient
//! and, where the site's mail goes out, e-mail copies in the queue — in
//! the transaction that writes the post.
//!
//! Recipients are the forum's and the discussion's subscribers who may
//! still see the post (its forum and its group, as `CourseAccess` says),
//! never its author. Never decides a group rule of its own.

use std::collections::BTreeSet;

use crate::domain::*;
use crate::services::Principal;
use crate::services::course_access::CourseAccess;
use crate::services::error::{ServiceError, ServiceResult};
use crate::storage::site::SiteTables;
use crate::storage::site::prelude::*;

/// Who gets a copy of `post`: subscribers of its forum or discussion who
/// may see it, without its author; ascending.
pub(super) fn recipients(
    site: &Site,
    t: &impl SiteRead,
    forum: &Activity,
    discussion: &Discussion,
    post: &Post,
) -> ServiceResult<Vec<UserId>> {
    let mut subscribers: BTreeSet<UserId> = t
        .subscribers_of(SubscriptionTarget::Forum(forum.id))?
        .into_iter()
        .collect();
    subscribers.extend(t.subscribers_of(SubscriptionTarget::Discussion {
        forum: forum.id,
        discussion: discussion.id,
    })?);
    subscribers.remove(&post.author);
    let mut out = Vec::with_capacity(subscribers.len());
    for user in subscribers {
        let who = Principal::site_user(site.id, user);
        // A subscriber who left the course, was suspended or lost sight
        // of the forum or its group gets nothing.
        let access = match CourseAccess::of(site, t, &who, discussion.course) {
            Ok(access) => access,
            Err(ServiceError::Storage(e)) => return Err(e.into()),
            Err(_) => continue,
        };
        let mode = access.group_mode(Some(forum));
        if access.sees_activity(t, forum)? && access.sees_group(mode, discussion.group) {
            out.push(user);
        }
    }
    Ok(out)
}

/// Delivers the notification of `post` to `recipients` (ascending): one
/// message, an inbox copy each, and e-mail copies when `mail`. How many
/// e-mail copies were queued.
pub(super) fn deliver_in(
    t: &mut SiteTables<'_>,
    forum: &Activity,
    discussion: &Discussion,
    post: &Post,
    recipients: &[UserId],
    mail: bool,
) -> ServiceResult<u64> {
    if recipients.is_empty() {
        return Ok(0);
    }
    let subject = if post.parent.is_some() {
        format!("Re: {}", discussion.subject)
    } else {
        discussion.subject.clone()
    };
    let mut message = Announcement {
        id: t.new_announcement_id()?,
        author: post.author,
        audience: Audience::ForumSubscribers {
            course: discussion.course,
            forum: forum.id,
            discussion: discussion.id,
            post: post.id,
        },
        subject,
        body: post.body.clone(),
        created_at: t.now,
        updated_at: t.now,
        send_at: t.now,
        state: AnnouncementState::Sent,
        closed_at: Some(t.now),
        recipients: recipients.len() as u64,
        delivery: DeliveryCounts::default(),
    };
    t.deliver_announcement(message.id, recipients)?;
    let queued = if mail {
        crate::services::mail::queue_announcement_in(t, &mut message, recipients)?
    } else {
        0
    };
    t.put_announcement(&message, None)?;
    t.audit_log(
        Actor::User(post.author),
        "post.notified",
        format_args!("post #{} of discussion #{}", post.id, discussion.id),
        format_args!(
            "message #{} to {} subscribers, {queued} e-mail copies queued",
            message.id,
            recipients.len()
        ),
    )?;
    Ok(queued)
}
