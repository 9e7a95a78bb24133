//! Writing in a forum: starting a discussion, replying, editing a post
//! within the site's edit window, and deleting (staff): a post with its
//! replies, or the whole discussion when it is the first post. Creating
//! and changing the forum activity itself is here too, through
//! `ops::content`.
//!
//! Each call is one transaction that checks the caller's access in it,
//! renders the Markdown once, audits and emits its event; a refused call
//! writes nothing.

use super::reading::{PostRights, may_reply};
use super::{MAX_SUBJECT, NewDiscussion, author_of, checked_body, forum_for, post_for};
use crate::domain::*;
use crate::services::announcements::markdown::render_html;
use crate::services::course_access::CourseAccess;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::ops;
use crate::services::ops::content::ActivityDraft;
use crate::services::{Principal, SiteServices, validate};
use crate::storage::site::prelude::*;

/// What deleting a post did.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum PostDeletion {
    /// The post and this many replies below it went.
    Subtree { replies: u32 },
    /// It was the first post: the whole discussion went.
    Discussion,
}

impl SiteServices {
    /// Adds a forum to `section` (editing teachers and admins, through the
    /// content area, which checks the section and audits the activity).
    pub fn create_forum(
        &self,
        who: &Principal,
        section: CourseSectionId,
        draft: &ActivityDraft,
    ) -> ServiceResult<Activity> {
        self.write(|t| {
            crate::services::auth::authorize_caller(self.site(), t, who)?;
            let section = ops::content::load_section(t, section)?;
            let access = CourseAccess::of(self.site(), t, who, section.course)?;
            access.require_edit()?;
            ops::content::insert_activity_in(
                t,
                access.actor,
                &section,
                ActivityKind::Discussion,
                draft,
            )
        })
    }

    /// Changes a forum's common fields (editing teachers and admins who
    /// see it); unchanged fields write nothing.
    pub fn update_forum(
        &self,
        who: &Principal,
        id: ActivityId,
        draft: &ActivityDraft,
    ) -> ServiceResult<Activity> {
        self.write(|t| {
            let (mut forum, access) = forum_for(self, t, who, id)?;
            access.require_edit()?;
            ops::content::update_activity_in(t, access.actor, &mut forum, draft)?;
            Ok(forum)
        })
    }

    /// Starts a discussion in a forum `who` may see, in a group they may
    /// take part in; its author follows it (Moodle's optional subscription
    /// with "discussion subscription" on by default).
    pub fn start_discussion(
        &self,
        who: &Principal,
        forum: ActivityId,
        new: NewDiscussion,
    ) -> ServiceResult<Discussion> {
        let mail = self.mail_configured()?;
        let (discussion, queued) = self.write(|t| {
            let (forum, access) = forum_for(self, t, who, forum)?;
            let author = author_of(self, who)?;
            let mode = access.group_mode(Some(&forum));
            let group = checked_group(t, &access, mode, &forum, new.group)?;
            let subject = validate::required_text("subject", &new.subject, MAX_SUBJECT)?;
            let body = checked_body(&new.body)?;
            let id = t.new_discussion_id()?;
            let post = Post {
                id: t.new_post_id()?,
                discussion: id,
                parent: None,
                author,
                body_html: render_html(&body),
                body,
                created_at: t.now,
                edited_at: None,
            };
            let discussion = Discussion {
                id,
                forum: forum.id,
                course: forum.course,
                group,
                author,
                subject,
                first_post: post.id,
                created_at: t.now,
                last_post_at: t.now,
                posts: 1,
            };
            t.put_discussion(&discussion)?;
            t.put_post(&post)?;
            t.set_subscription(
                SubscriptionTarget::Discussion {
                    forum: forum.id,
                    discussion: id,
                },
                author,
                true,
            )?;
            let actor = Actor::User(author);
            t.audit_log(
                actor,
                "discussion.started",
                format_args!("discussion #{id} of forum #{}", forum.id),
                format_args!(
                    "{:?} in {}",
                    discussion.subject,
                    super::reading::group_name(t, group)?
                ),
            )?;
            t.emit(SiteEvent::DiscussionStarted {
                course: forum.course,
                forum: forum.id,
                discussion: id,
            })?;
            t.emit(SiteEvent::PostCreated {
                course: forum.course,
                discussion: id,
                post: post.id,
            })?;
            let recipients = super::notify::recipients(self.site(), t, &forum, &discussion, &post)?;
            let queued =
                super::notify::deliver_in(t, &forum, &discussion, &post, &recipients, mail)?;
            Ok((discussion, queued))
        })?;
        self.wake_mail_for(queued);
        Ok(discussion)
    }

    /// Replies to post `parent` in a discussion `who` may reply in.
    pub fn reply(&self, who: &Principal, parent: PostId, body: &str) -> ServiceResult<Post> {
        let mail = self.mail_configured()?;
        let (post, queued) = self.write(|t| {
            let (parent, mut discussion, forum, access) = post_for(self, t, who, parent)?;
            let author = author_of(self, who)?;
            let mode = access.group_mode(Some(&forum));
            if !may_reply(&access, mode, &discussion) {
                return Err(ServiceError::Forbidden(
                    "you may reply only in your own groups' discussions".into(),
                ));
            }
            let body = checked_body(body)?;
            let post = Post {
                id: t.new_post_id()?,
                discussion: discussion.id,
                parent: Some(parent.id),
                author,
                body_html: render_html(&body),
                body,
                created_at: t.now,
                edited_at: None,
            };
            t.put_post(&post)?;
            discussion.posts = discussion.posts.saturating_add(1);
            discussion.last_post_at = t.now;
            t.put_discussion(&discussion)?;
            t.audit_log(
                Actor::User(author),
                "post.created",
                format_args!("post #{} of discussion #{}", post.id, discussion.id),
                format_args!("a reply to post #{}", parent.id),
            )?;
            t.emit(SiteEvent::PostCreated {
                course: discussion.course,
                discussion: discussion.id,
                post: post.id,
            })?;
            let recipients = super::notify::recipients(self.site(), t, &forum, &discussion, &post)?;
            let queued =
                super::notify::deliver_in(t, &forum, &discussion, &post, &recipients, mail)?;
            Ok((post, queued))
        })?;
        self.wake_mail_for(queued);
        Ok(post)
    }

    /// Wakes the mail worker when a post queued e-mail copies, so they
    /// leave now rather than at its next poll.
    fn wake_mail_for(&self, queued: u64) {
        if queued > 0 {
            self.mail.wake();
        }
    }

    /// Changes a post's text: its author within the site's edit window,
    /// or an editing teacher or admin at any time. Editing the first post
    /// may change the discussion's subject too.
    pub fn edit_post(
        &self,
        who: &Principal,
        id: PostId,
        body: &str,
        subject: Option<&str>,
    ) -> ServiceResult<Post> {
        self.write(|t| {
            let (mut post, mut discussion, _, access) = post_for(self, t, who, id)?;
            let rights = PostRights::of(&access, t, t.now)?;
            if !rights.may_edit(&post) {
                return Err(if access.user == Some(post.author) {
                    ServiceError::Conflict(format!(
                        "a post may be edited for {} minutes after it was written; this one was written {}",
                        rights.window_ms / 60_000,
                        post.created_at
                    ))
                } else {
                    ServiceError::Forbidden("you may edit only your own posts".into())
                });
            }
            let body = checked_body(body)?;
            let subject = match subject {
                Some(s) if post.parent.is_none() => {
                    Some(validate::required_text("subject", s, MAX_SUBJECT)?)
                }
                _ => None,
            };
            post.body_html = render_html(&body);
            post.body = body;
            post.edited_at = Some(t.now);
            t.put_post(&post)?;
            if let Some(subject) = subject {
                discussion.subject = subject;
                t.put_discussion(&discussion)?;
            }
            t.audit_log(
                access.actor,
                "post.updated",
                format_args!("post #{} of discussion #{}", post.id, discussion.id),
                "",
            )?;
            t.emit(SiteEvent::PostUpdated {
                course: discussion.course,
                discussion: discussion.id,
                post: post.id,
            })?;
            Ok(post)
        })
    }

    /// Deletes a post with its replies, or the whole discussion when it is
    /// the first post (teachers and admins who see it).
    pub fn delete_post(&self, who: &Principal, id: PostId) -> ServiceResult<PostDeletion> {
        self.write(|t| {
            let (post, mut discussion, _, access) = post_for(self, t, who, id)?;
            if !access.is_staff() {
                return Err(ServiceError::Forbidden(
                    "only the course's teachers delete posts".into(),
                ));
            }
            if post.parent.is_none() {
                ops::discussions::delete_discussion_in(
                    t,
                    access.actor,
                    &discussion,
                    "its first post was deleted",
                )?;
                return Ok(PostDeletion::Discussion);
            }
            let gone =
                ops::discussions::delete_post_subtree_in(t, access.actor, &mut discussion, &post)?;
            Ok(PostDeletion::Subtree {
                replies: gone.saturating_sub(1),
            })
        })
    }
}

/// The group a new discussion goes to, checked: a group of the forum's
/// course the caller may take part in, or all participants where they
/// may. A forum without groups takes no group.
fn checked_group(
    t: &impl SiteRead,
    access: &CourseAccess,
    mode: GroupMode,
    forum: &Activity,
    group: Option<CourseGroupId>,
) -> ServiceResult<Option<CourseGroupId>> {
    if mode == GroupMode::None {
        return match group {
            None => Ok(None),
            Some(_) => Err(ServiceError::invalid(
                "group",
                "this forum has no groups; post to all participants",
            )),
        };
    }
    if let Some(g) = group
        && t.group(g)?.is_none_or(|g| g.course != forum.course)
    {
        return Err(ServiceError::invalid(
            "group",
            "is not a group of this course",
        ));
    }
    if access.takes_part_in(mode, group) {
        return Ok(group);
    }
    Err(ServiceError::invalid(
        "group",
        match group {
            None if access.groups.is_empty() => {
                "only teachers post to all participants, and you are in no group of this course"
            }
            None => "only teachers post to all participants; choose one of your groups",
            Some(_) => "you may start discussions only in your own groups",
        },
    ))
}
