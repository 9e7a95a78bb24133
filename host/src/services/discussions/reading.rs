//! What the forum and discussion pages and the API show: a forum's
//! discussions the caller may see, one discussion's posts in thread
//! order, one post, and what the caller may do with each.
//!
//! Reads only; a list of a separate-groups forum reads the index rows of
//! the caller's groups and the all-participants ones, nothing else.

use std::collections::{BTreeSet, HashMap};

use super::thread::thread_order;
use super::{discussion_for, edit_window_minutes, forum_for, post_for};
use crate::domain::*;
use crate::services::course_access::CourseAccess;
use crate::services::error::ServiceResult;
use crate::services::{Page, Principal, SiteServices, clamp_limit, page_of};
use crate::storage::site::GroupScope;
use crate::storage::site::prelude::*;

/// A group a discussion may belong to, or all participants (`None`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupChoice {
    pub group: Option<CourseGroupId>,
    pub name: String,
}

/// A discussion as a forum lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct DiscussionSummary {
    pub discussion: Discussion,
    pub author: String,
    /// Its group's name, or "All participants".
    pub group_name: String,
}

/// A forum with the discussions its reader sees.
#[derive(Clone, Debug, PartialEq)]
pub struct ForumView {
    pub forum: Activity,
    pub course: Course,
    /// The group mode in force for this forum.
    pub mode: GroupMode,
    /// Newest first.
    pub discussions: Page<DiscussionSummary, DiscussionId>,
    /// Where the caller may start a discussion; empty: nowhere.
    pub start_in: Vec<GroupChoice>,
    /// The groups the list may be narrowed to (those the caller sees,
    /// when the forum has groups); empty when there is nothing to choose.
    pub group_filter: Vec<GroupChoice>,
    /// The group the list is narrowed to, if any.
    pub narrowed_to: Option<CourseGroupId>,
    pub subscribed: bool,
    /// Whether the caller may change the forum's settings.
    pub can_edit: bool,
}

/// A post in a thread, with what its reader may do with it.
#[derive(Clone, Debug, PartialEq)]
pub struct ThreadPost {
    pub post: Post,
    /// 0 for the first post, 1 for its replies, …
    pub depth: u32,
    pub author: String,
    pub can_edit: bool,
    pub can_delete: bool,
}

/// A discussion with its posts in thread order.
#[derive(Clone, Debug, PartialEq)]
pub struct DiscussionView {
    pub discussion: Discussion,
    pub forum: Activity,
    pub group_name: String,
    pub posts: Vec<ThreadPost>,
    /// Whether the caller may reply.
    pub can_reply: bool,
    /// Whether the caller follows this discussion (or its whole forum).
    pub subscribed: bool,
    pub forum_subscribed: bool,
}

/// One post with its discussion (the API's post resource).
#[derive(Clone, Debug, PartialEq)]
pub struct PostView {
    pub post: ThreadPost,
    pub discussion: Discussion,
}

/// What the caller may do with a post.
pub(super) struct PostRights {
    pub(super) caller: Option<UserId>,
    pub(super) staff_edits: bool,
    pub(super) staff_deletes: bool,
    pub(super) window_ms: i64,
    pub(super) now: Timestamp,
}

impl PostRights {
    pub(super) fn of(
        access: &CourseAccess,
        t: &impl SiteRead,
        now: Timestamp,
    ) -> ServiceResult<Self> {
        Ok(Self {
            caller: access.user,
            // Moodle: editing teachers and managers edit any post,
            // teachers of either kind delete any post they see.
            staff_edits: access.can_edit(),
            staff_deletes: access.is_staff(),
            window_ms: i64::from(edit_window_minutes(t)?) * 60_000,
            now,
        })
    }

    /// Its author within the edit window, or an editing teacher or admin.
    pub(super) fn may_edit(&self, post: &Post) -> bool {
        self.staff_edits
            || (self.caller == Some(post.author)
                && self.now.0 - post.created_at.0 <= self.window_ms)
    }

    pub(super) fn may_delete(&self) -> bool {
        self.staff_deletes
    }
}

/// Whether `access` may reply in `discussion` under `mode`: in its group
/// (Moodle's visible groups: everyone reads, members answer), or anyone
/// who sees an all-participants discussion.
pub(super) fn may_reply(access: &CourseAccess, mode: GroupMode, discussion: &Discussion) -> bool {
    match discussion.group {
        None => access.sees_group(mode, None),
        Some(g) => access.takes_part_in(mode, Some(g)),
    }
}

/// Users' names, each read once however many posts they wrote.
pub(super) struct Names<'t, T> {
    t: &'t T,
    cache: HashMap<UserId, String>,
}

impl<'t, T: SiteRead> Names<'t, T> {
    pub(super) fn new(t: &'t T) -> Self {
        Self {
            t,
            cache: HashMap::new(),
        }
    }

    pub(super) fn of(&mut self, user: UserId) -> ServiceResult<String> {
        if let Some(name) = self.cache.get(&user) {
            return Ok(name.clone());
        }
        let name = self
            .t
            .user(user)?
            .map_or_else(|| format!("user #{user}"), |u| u.full_name());
        self.cache.insert(user, name.clone());
        Ok(name)
    }
}

/// A discussion's group in words.
pub(super) fn group_name(t: &impl SiteRead, group: Option<CourseGroupId>) -> ServiceResult<String> {
    Ok(match group {
        None => "All participants".to_owned(),
        Some(g) => t
            .group(g)?
            .map_or_else(|| format!("deleted group #{g}"), |g| g.name),
    })
}

/// The groups `access` may start a discussion in under `mode`, by name,
/// "All participants" first when allowed.
pub(super) fn start_choices(
    t: &impl SiteRead,
    access: &CourseAccess,
    mode: GroupMode,
) -> ServiceResult<Vec<GroupChoice>> {
    let mut out = Vec::new();
    if access.takes_part_in(mode, None) {
        out.push(GroupChoice {
            group: None,
            name: "All participants".into(),
        });
    }
    if mode != GroupMode::None {
        for g in t.course_group_list(access.course.id)? {
            if access.takes_part_in(mode, Some(g.id)) {
                out.push(GroupChoice {
                    group: Some(g.id),
                    name: g.name,
                });
            }
        }
    }
    Ok(out)
}

impl SiteServices {
    /// A forum with the discussions `who` may see, newest first, older
    /// than `before`; narrowed to `group` (and the all-participants
    /// discussions) when given and seen by `who`.
    pub fn forum(
        &self,
        who: &Principal,
        id: ActivityId,
        group: Option<CourseGroupId>,
        before: Option<DiscussionId>,
        limit: usize,
    ) -> ServiceResult<ForumView> {
        let limit = clamp_limit(limit);
        self.read(|t| {
            let (forum, access) = forum_for(self, t, who, id)?;
            let mode = access.group_mode(Some(&forum));
            let seen: BTreeSet<CourseGroupId>;
            let narrowed_to = group.filter(|g| {
                mode != GroupMode::None
                    && access.sees_group(mode, Some(*g))
                    && t.group(*g)
                        .ok()
                        .flatten()
                        .is_some_and(|g| g.course == forum.course)
            });
            let scope = match (narrowed_to, access.group_filter(mode)) {
                (Some(g), _) => {
                    seen = BTreeSet::from([g]);
                    GroupScope::Only(&seen)
                }
                (None, Some(groups)) => GroupScope::Only(groups),
                (None, None) => GroupScope::All,
            };
            let rows = t.forum_discussions_before(forum.id, scope, before, limit + 1)?;
            let page = page_of(rows, limit, |d| d.id);
            let mut names = super::reading::Names::new(t);
            let mut items = Vec::with_capacity(page.items.len());
            for discussion in page.items {
                items.push(DiscussionSummary {
                    author: names.of(discussion.author)?,
                    group_name: group_name(t, discussion.group)?,
                    discussion,
                });
            }
            let group_filter = if mode == GroupMode::None {
                Vec::new()
            } else {
                t.course_group_list(forum.course)?
                    .into_iter()
                    .filter(|g| access.sees_group(mode, Some(g.id)))
                    .map(|g| GroupChoice {
                        group: Some(g.id),
                        name: g.name,
                    })
                    .collect()
            };
            let subscribed = match access.user {
                Some(u) => t.is_subscribed(SubscriptionTarget::Forum(forum.id), u)?,
                None => false,
            };
            Ok(ForumView {
                start_in: start_choices(t, &access, mode)?,
                can_edit: access.can_edit(),
                course: access.course.clone(),
                mode,
                discussions: Page {
                    items,
                    next: page.next,
                },
                group_filter,
                narrowed_to,
                subscribed,
                forum,
            })
        })
    }

    /// A discussion with all its posts in thread order, if `who` may see
    /// it (else NotFound).
    pub fn discussion(&self, who: &Principal, id: DiscussionId) -> ServiceResult<DiscussionView> {
        self.read(|t| {
            let (discussion, forum, access) = discussion_for(self, t, who, id)?;
            let mode = access.group_mode(Some(&forum));
            let rights = PostRights::of(&access, t, Timestamp::now())?;
            let mut names = Names::new(t);
            let ordered = thread_order(t.discussion_posts(discussion.id)?);
            let mut posts = Vec::with_capacity(ordered.len());
            for (post, depth) in ordered {
                posts.push(ThreadPost {
                    author: names.of(post.author)?,
                    can_edit: rights.may_edit(&post),
                    can_delete: rights.may_delete(),
                    depth,
                    post,
                });
            }
            let (subscribed, forum_subscribed) = match access.user {
                Some(u) => (
                    t.is_subscribed(
                        SubscriptionTarget::Discussion {
                            forum: forum.id,
                            discussion: discussion.id,
                        },
                        u,
                    )?,
                    t.is_subscribed(SubscriptionTarget::Forum(forum.id), u)?,
                ),
                None => (false, false),
            };
            Ok(DiscussionView {
                group_name: group_name(t, discussion.group)?,
                can_reply: may_reply(&access, mode, &discussion),
                subscribed: subscribed || forum_subscribed,
                forum_subscribed,
                posts,
                discussion,
                forum,
            })
        })
    }

    /// One post, if `who` may see its discussion (else NotFound).
    pub fn post(&self, who: &Principal, id: PostId) -> ServiceResult<PostView> {
        self.read(|t| {
            let (post, discussion, _, access) = post_for(self, t, who, id)?;
            let rights = PostRights::of(&access, t, Timestamp::now())?;
            let depth = u32::from(post.parent.is_some());
            Ok(PostView {
                post: ThreadPost {
                    author: Names::new(t).of(post.author)?,
                    can_edit: rights.may_edit(&post),
                    can_delete: rights.may_delete(),
                    depth,
                    post,
                },
                discussion,
            })
        })
    }
}
