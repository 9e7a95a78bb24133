//! Forums: `/sections/{id}/forums`, `/forums/{id}[/discussions|
//! /subscription]`, `/discussions/{id}[/subscription]`, `/posts/{id}[/replies]`
//! and the site's `/settings/discussions`. What a caller may see or write
//! is the discussions service's to decide (group modes included); a
//! discussion or post of a group the caller may not see answers 404.

use actix_web::{HttpResponse, delete, get, patch, post, put, web};
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

use super::paging::{Limit, cursor};
use super::views::{
    DiscussionSettingsView, DiscussionThreadView, DiscussionView, ForumPostView, ForumView,
    GroupModeView, Mirror, SubscriptionView,
};
use super::{ApiResult, IdPath, JsonBody, Page, SiteApi};
use crate::domain::{
    ActivityId, CourseGroupId, CourseSectionId, DiscussionId, GroupingId, PostId,
    SubscriptionTarget,
};
use crate::http::{ErrorBody, blocking};
use crate::services::discussions::{ActivityDraft, NewDiscussion};
use crate::services::{Ask, Need};

pub(super) fn routes(cfg: &mut ServiceConfig) {
    cfg.service(create_forum)
        .service(get_forum)
        .service(update_forum)
        .service(list_discussions)
        .service(start_discussion)
        .service(set_forum_subscription)
        .service(get_discussion)
        .service(set_discussion_subscription)
        .service(get_post)
        .service(reply)
        .service(edit_post)
        .service(delete_post)
        .service(get_discussion_settings)
        .service(set_discussion_settings);
}

/// A forum's fields (those every activity has).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WriteForum {
    /// At most 255 characters.
    pub name: String,
    /// Markdown, shown above the discussions.
    #[serde(default)]
    pub description: String,
    #[serde(default = "shown")]
    pub visible: bool,
    /// Absent: the course's.
    pub group_mode: Option<GroupModeView>,
    /// Only members of a group in this grouping (and staff) see the forum.
    pub grouping: Option<u64>,
}

fn shown() -> bool {
    true
}

impl WriteForum {
    fn draft(self) -> ActivityDraft {
        ActivityDraft {
            name: self.name,
            description: self.description,
            visible: self.visible,
            group_mode: self.group_mode.map(Mirror::mirror),
            grouping: self.grouping.map(GroupingId),
        }
    }
}

/// A new discussion.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartDiscussion {
    /// The group it belongs to; absent: all participants (staff only in a
    /// forum with groups; the only choice in a forum without).
    pub group: Option<u64>,
    /// One line, at most 200 characters.
    pub subject: String,
    /// Markdown, at most 64 KiB; HTML in it is not kept.
    pub message: String,
}

/// A reply.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WriteReply {
    /// Markdown, at most 64 KiB; HTML in it is not kept.
    pub message: String,
}

/// A post's new text; `subject` only for a discussion's first post.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditPost {
    pub message: String,
    pub subject: Option<String>,
}

/// `?group=…&cursor=…&limit=…` of a forum's discussions.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DiscussionQuery {
    /// Only this group's discussions (and the all-participants ones), if
    /// the caller sees that group.
    pub group: Option<u64>,
    /// `next_cursor` of the previous page; empty or absent for the first page.
    #[param(pattern = "^[0-9]{0,19}$")]
    pub cursor: Option<String>,
    /// Page size, 1 to 1000 (default 50); anything else is refused (422).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    pub limit: Option<Limit>,
}

/// Adds a forum at the end of a section (the course's editing teachers
/// and site admins).
#[utoipa::path(
    tag = "forums",
    params(("id" = u64, Path, description = "course section id")),
    request_body = WriteForum,
    responses((status = 201, body = ForumView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody))
)]
#[post("/sections/{id}/forums")]
async fn create_forum(
    api: SiteApi,
    path: web::Path<IdPath>,
    body: JsonBody<WriteForum>,
) -> ApiResult<HttpResponse> {
    let section = CourseSectionId(path.id);
    let body = body
        .read(
            api.authorise(Ask::Section(section, Need::ConfigureCourse))
                .await?,
        )
        .await?;
    let SiteApi { who, site } = api;
    let forum = blocking(move || {
        let forum = site.create_forum(&who, section, &body.draft())?;
        site.forum(&who, forum.id, None, None, 1)
    })
    .await?;
    Ok(HttpResponse::Created().json(ForumView::from(forum)))
}

/// A forum the caller may see (404 when hidden from them).
#[utoipa::path(
    tag = "forums",
    params(("id" = u64, Path, description = "forum (activity) id")),
    responses((status = 200, body = ForumView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[get("/forums/{id}")]
async fn get_forum(api: SiteApi, path: web::Path<IdPath>) -> ApiResult<web::Json<ForumView>> {
    let SiteApi { who, site } = api;
    let id = ActivityId(path.id);
    let forum = blocking(move || site.forum(&who, id, None, None, 1)).await?;
    Ok(web::Json(forum.into()))
}

/// Changes a forum's fields (the course's editing teachers and site
/// admins).
#[utoipa::path(
    tag = "forums",
    params(("id" = u64, Path, description = "forum (activity) id")),
    request_body = WriteForum,
    responses((status = 200, body = ForumView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody))
)]
#[patch("/forums/{id}")]
async fn update_forum(
    api: SiteApi,
    path: web::Path<IdPath>,
    body: JsonBody<WriteForum>,
) -> ApiResult<web::Json<ForumView>> {
    let id = ActivityId(path.id);
    let body = body
        .read(
            api.authorise(Ask::Activity(id, Need::ConfigureCourse))
                .await?,
        )
        .await?;
    let SiteApi { who, site } = api;
    let forum = blocking(move || {
        site.update_forum(&who, id, &body.draft())?;
        site.forum(&who, id, None, None, 1)
    })
    .await?;
    Ok(web::Json(forum.into()))
}

/// The forum's discussions the caller may see, newest first: in a
/// separate-groups forum a learner's own groups' and the all-participants
/// ones.
#[utoipa::path(
    tag = "forums",
    params(("id" = u64, Path, description = "forum (activity) id"), DiscussionQuery),
    responses((status = 200, body = Page<DiscussionView>), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody))
)]
#[get("/forums/{id}/discussions")]
async fn list_discussions(
    api: SiteApi,
    path: web::Path<IdPath>,
    query: web::Query<DiscussionQuery>,
) -> ApiResult<web::Json<Page<DiscussionView>>> {
    let before = cursor::<u64>(query.cursor.as_deref(), "this collection")?.map(DiscussionId);
    let limit = Limit::checked(query.limit.as_ref(), super::DEFAULT_LIMIT)?;
    let group = query.group.map(CourseGroupId);
    let SiteApi { who, site } = api;
    let id = ActivityId(path.id);
    let forum = blocking(move || site.forum(&who, id, group, before, limit)).await?;
    Ok(web::Json(Page::from_service(
        forum.discussions,
        DiscussionView::from,
    )))
}

/// Starts a discussion in a group the caller may take part in (its
/// author is subscribed to it).
#[utoipa::path(
    tag = "forums",
    params(("id" = u64, Path, description = "forum (activity) id")),
    request_body = StartDiscussion,
    responses((status = 201, body = DiscussionThreadView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody))
)]
#[post("/forums/{id}/discussions")]
async fn start_discussion(
    api: SiteApi,
    path: web::Path<IdPath>,
    body: JsonBody<StartDiscussion>,
) -> ApiResult<HttpResponse> {
    let id = ActivityId(path.id);
    let body = body
        .read(api.authorise(Ask::Activity(id, Need::ViewCourse)).await?)
        .await?;
    let SiteApi { who, site } = api;
    let thread = blocking(move || {
        let new = NewDiscussion {
            group: body.group.map(CourseGroupId),
            subject: body.subject,
            body: body.message,
        };
        let discussion = site.start_discussion(&who, id, new)?;
        site.discussion(&who, discussion.id)
    })
    .await?;
    Ok(HttpResponse::Created().json(DiscussionThreadView::from(thread)))
}

/// Subscribes the caller to the whole forum, or unsubscribes them.
#[utoipa::path(
    tag = "forums",
    params(("id" = u64, Path, description = "forum (activity) id")),
    request_body = SubscriptionView,
    responses((status = 200, body = SubscriptionView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody))
)]
#[put("/forums/{id}/subscription")]
async fn set_forum_subscription(
    api: SiteApi,
    path: web::Path<IdPath>,
    body: JsonBody<SubscriptionView>,
) -> ApiResult<web::Json<SubscriptionView>> {
    let id = ActivityId(path.id);
    let body = body
        .read(api.authorise(Ask::Activity(id, Need::ViewCourse)).await?)
        .await?;
    let SiteApi { who, site } = api;
    let target = SubscriptionTarget::Forum(id);
    blocking(move || site.set_subscription(&who, target, body.subscribed)).await?;
    Ok(web::Json(SubscriptionView {
        subscribed: body.subscribed,
    }))
}

/// A discussion with all its posts in thread order (404 when the caller
/// may not see its forum or its group).
#[utoipa::path(
    tag = "forums",
    params(("id" = u64, Path, description = "discussion id")),
    responses((status = 200, body = DiscussionThreadView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[get("/discussions/{id}")]
async fn get_discussion(
    api: SiteApi,
    path: web::Path<IdPath>,
) -> ApiResult<web::Json<DiscussionThreadView>> {
    let SiteApi { who, site } = api;
    let id = DiscussionId(path.id);
    let thread = blocking(move || site.discussion(&who, id)).await?;
    Ok(web::Json(thread.into()))
}

/// Subscribes the caller to one discussion, or unsubscribes them.
#[utoipa::path(
    tag = "forums",
    params(("id" = u64, Path, description = "discussion id")),
    request_body = SubscriptionView,
    responses((status = 200, body = SubscriptionView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody))
)]
#[put("/discussions/{id}/subscription")]
async fn set_discussion_subscription(
    api: SiteApi,
    path: web::Path<IdPath>,
    body: JsonBody<SubscriptionView>,
) -> ApiResult<web::Json<SubscriptionView>> {
    let body = body
        .read(api.authorise(Ask::Site(Need::SiteMember)).await?)
        .await?;
    let SiteApi { who, site } = api;
    let id = DiscussionId(path.id);
    blocking(move || {
        let forum = site.discussion(&who, id)?.forum.id;
        let target = SubscriptionTarget::Discussion {
            forum,
            discussion: id,
        };
        site.set_subscription(&who, target, body.subscribed)
    })
    .await?;
    Ok(web::Json(SubscriptionView {
        subscribed: body.subscribed,
    }))
}

/// One post (404 when the caller may not see its discussion).
#[utoipa::path(
    tag = "forums",
    params(("id" = u64, Path, description = "post id")),
    responses((status = 200, body = ForumPostView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[get("/posts/{id}")]
async fn get_post(api: SiteApi, path: web::Path<IdPath>) -> ApiResult<web::Json<ForumPostView>> {
    let SiteApi { who, site } = api;
    let id = PostId(path.id);
    let post = blocking(move || site.post(&who, id)).await?;
    Ok(web::Json(post.into()))
}

/// Replies to a post: in its discussion's group (or an all-participants
/// discussion); subscribers who may see it are notified.
#[utoipa::path(
    tag = "forums",
    params(("id" = u64, Path, description = "id of the post replied to")),
    request_body = WriteReply,
    responses((status = 201, body = ForumPostView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody))
)]
#[post("/posts/{id}/replies")]
async fn reply(
    api: SiteApi,
    path: web::Path<IdPath>,
    body: JsonBody<WriteReply>,
) -> ApiResult<HttpResponse> {
    let body = body
        .read(api.authorise(Ask::Site(Need::SiteMember)).await?)
        .await?;
    let SiteApi { who, site } = api;
    let parent = PostId(path.id);
    let post = blocking(move || {
        let post = site.reply(&who, parent, &body.message)?;
        site.post(&who, post.id)
    })
    .await?;
    Ok(HttpResponse::Created().json(ForumPostView::from(post)))
}

/// Changes a post: its author within the site's edit window (409 after
/// it), editing teachers and site admins at any time.
#[utoipa::path(
    tag = "forums",
    params(("id" = u64, Path, description = "post id")),
    request_body = EditPost,
    responses((status = 200, body = ForumPostView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody))
)]
#[patch("/posts/{id}")]
async fn edit_post(
    api: SiteApi,
    path: web::Path<IdPath>,
    body: JsonBody<EditPost>,
) -> ApiResult<web::Json<ForumPostView>> {
    let body = body
        .read(api.authorise(Ask::Site(Need::SiteMember)).await?)
        .await?;
    let SiteApi { who, site } = api;
    let id = PostId(path.id);
    let post = blocking(move || {
        site.edit_post(&who, id, &body.message, body.subject.as_deref())?;
        site.post(&who, id)
    })
    .await?;
    Ok(web::Json(post.into()))
}

/// Deletes a post with its replies, or the whole discussion when it is the
/// first post (the course's teachers and site admins).
#[utoipa::path(
    tag = "forums",
    params(("id" = u64, Path, description = "post id")),
    responses((status = 204), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[delete("/posts/{id}")]
async fn delete_post(api: SiteApi, path: web::Path<IdPath>) -> ApiResult<HttpResponse> {
    let SiteApi { who, site } = api;
    let id = PostId(path.id);
    blocking(move || site.delete_post(&who, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The site's forum settings (site admins).
#[utoipa::path(
    tag = "forums",
    responses((status = 200, body = DiscussionSettingsView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody))
)]
#[get("/settings/discussions")]
async fn get_discussion_settings(api: SiteApi) -> ApiResult<web::Json<DiscussionSettingsView>> {
    let SiteApi { who, site } = api;
    let minutes = blocking(move || site.discussion_edit_window(&who)).await?;
    Ok(web::Json(DiscussionSettingsView {
        edit_window_minutes: minutes,
    }))
}

/// Sets the site's forum settings (site admins).
#[utoipa::path(
    tag = "forums",
    request_body = DiscussionSettingsView,
    responses((status = 200, body = DiscussionSettingsView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody))
)]
#[put("/settings/discussions")]
async fn set_discussion_settings(
    api: SiteApi,
    body: JsonBody<DiscussionSettingsView>,
) -> ApiResult<web::Json<DiscussionSettingsView>> {
    let body = body
        .read(api.authorise(Ask::Site(Need::SiteAdmin)).await?)
        .await?;
    let SiteApi { who, site } = api;
    let minutes =
        blocking(move || site.set_discussion_edit_window(&who, body.edit_window_minutes)).await?;
    Ok(web::Json(DiscussionSettingsView {
        edit_window_minutes: minutes,
    }))
}
