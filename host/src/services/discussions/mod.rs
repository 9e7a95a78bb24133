//! Forums (issue 18): a course activity of kind `Discussion`, its
//! discussions (each in one group or for all participants), their
//! threaded posts, and subscriptions.
//!
//! Every rule of who sees and who writes what goes through
//! `course_access::CourseAccess` (the group mode of the forum, the
//! caller's standing and groups): a discussion of a group the caller may
//! not see answers NotFound, like one that does not exist. A post's
//! Markdown is rendered to sanitised HTML once, when it is written, so a
//! thread of thousands of posts is shown without rendering any. Creating
//! and editing the forum itself goes through the content area's
//! `ops::content`; this module never renders a page and never decides a
//! group-mode rule of its own.

mod notify;
mod posting;
mod reading;
mod subscriptions;
mod thread;

pub use super::ops::content::ActivityDraft;
pub use posting::PostDeletion;
pub use reading::{
    DiscussionSummary, DiscussionView, ForumView, GroupChoice, PostView, ThreadPost,
};

use super::course_access::{CourseAccess, activity_for};
use super::error::{ServiceError, ServiceResult};
use super::{Principal, SiteServices};
use crate::domain::*;
use crate::storage::site::prelude::*;

/// The longest subject of a discussion, in characters.
pub const MAX_SUBJECT: usize = 200;
/// The largest post, in bytes of Markdown.
pub const MAX_POST_BYTES: usize = 64 * 1024;
/// Minutes a post stays editable by its author when the site has not
/// set its own (Moodle's `maxeditingtime` default).
pub const DEFAULT_EDIT_WINDOW_MINUTES: u32 = 30;
/// The longest edit window a site may set: a week.
pub const MAX_EDIT_WINDOW_MINUTES: u32 = 7 * 24 * 60;

/// What starts a discussion: where, what, and whether its author follows
/// it.
#[derive(Clone, Debug, PartialEq)]
pub struct NewDiscussion {
    /// The group it belongs to; `None`: all participants (staff only in a
    /// forum with groups).
    pub group: Option<CourseGroupId>,
    pub subject: String,
    pub body: String,
}

/// The forum `id` with its reader's access, when `who` may see it and it
/// is a forum; NotFound otherwise (another kind of activity too: its id
/// names no forum).
fn forum_for(
    s: &SiteServices,
    t: &impl SiteRead,
    who: &Principal,
    id: ActivityId,
) -> ServiceResult<(Activity, CourseAccess)> {
    let (activity, access) = activity_for(s.site(), t, who, id)?;
    if activity.kind != ActivityKind::Discussion {
        return Err(ServiceError::not_found(format!("forum #{id}")));
    }
    Ok((activity, access))
}

/// The discussion `id` with its forum and its reader's access, when
/// `who` may see all three; NotFound otherwise.
fn discussion_for(
    s: &SiteServices,
    t: &impl SiteRead,
    who: &Principal,
    id: DiscussionId,
) -> ServiceResult<(Discussion, Activity, CourseAccess)> {
    let missing = || ServiceError::not_found(format!("discussion #{id}"));
    // Whoever is not a user of this site learns nothing, not even that
    // the discussion exists.
    super::auth::authorize_caller(s.site(), t, who)?;
    let discussion = t.discussion(id)?.ok_or_else(missing)?;
    let (forum, access) = forum_for(s, t, who, discussion.forum).map_err(|e| match e {
        ServiceError::NotFound(_) => missing(),
        e => e,
    })?;
    let mode = access.group_mode(Some(&forum));
    if !access.sees_group(mode, discussion.group) {
        return Err(missing());
    }
    Ok((discussion, forum, access))
}

/// The post `id` with its discussion, forum and reader's access; NotFound
/// when any of them is hidden from `who`.
fn post_for(
    s: &SiteServices,
    t: &impl SiteRead,
    who: &Principal,
    id: PostId,
) -> ServiceResult<(Post, Discussion, Activity, CourseAccess)> {
    let missing = || ServiceError::not_found(format!("post #{id}"));
    super::auth::authorize_caller(s.site(), t, who)?;
    let post = t.post(id)?.ok_or_else(missing)?;
    let (discussion, forum, access) =
        discussion_for(s, t, who, post.discussion).map_err(|e| match e {
            ServiceError::NotFound(_) => missing(),
            e => e,
        })?;
    Ok((post, discussion, forum, access))
}

/// The minutes a post stays editable on this site.
fn edit_window_minutes(t: &impl SiteRead) -> ServiceResult<u32> {
    Ok(t.discussion_edit_window_minutes()?
        .unwrap_or(DEFAULT_EDIT_WINDOW_MINUTES))
}

/// A post body, checked: present, not too long, no NUL.
fn checked_body(body: &str) -> ServiceResult<String> {
    super::validate::markdown_body("body", body, MAX_POST_BYTES)
}

/// The user a post is written by: a user of the site (an operator acts
/// through a site account, as for announcements).
fn author_of(s: &SiteServices, who: &Principal) -> ServiceResult<UserId> {
    who.site_user_id(s.site().id).ok_or_else(|| {
        ServiceError::Forbidden("posts are written by a user of the site; sign in as one".into())
    })
}

impl SiteServices {
    /// The minutes a post stays editable by its author (site admins).
    pub fn discussion_edit_window(&self, who: &Principal) -> ServiceResult<u32> {
        self.read(|t| {
            super::auth::authorize(self.site(), t, who, super::auth::Need::SiteAdmin)?;
            edit_window_minutes(t)
        })
    }

    /// Sets the minutes a post stays editable by its author (site admins).
    pub fn set_discussion_edit_window(&self, who: &Principal, minutes: u32) -> ServiceResult<u32> {
        self.write(|t| {
            let actor = super::auth::authorize(self.site(), t, who, super::auth::Need::SiteAdmin)?;
            if !(1..=MAX_EDIT_WINDOW_MINUTES).contains(&minutes) {
                return Err(ServiceError::invalid(
                    "minutes",
                    format!("must be between 1 and {MAX_EDIT_WINDOW_MINUTES}"),
                ));
            }
            let before = edit_window_minutes(t)?;
            t.put_discussion_edit_window_minutes(minutes)?;
            t.audit_log(
                actor,
                "site.discussion_edit_window_changed",
                "site",
                format_args!("{before} → {minutes} minutes"),
            )?;
            Ok(minutes)
        })
    }
}

#[cfg(test)]
mod tests;
