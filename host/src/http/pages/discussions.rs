//! Forums (issue 18): a forum's page (the discussions its reader sees, a
//! group selector where there is more than one group to see, "Add a
//! discussion" limited to the groups they may post in, a subscribe
//! toggle), a discussion's page (its posts threaded, reply, edit and
//! delete where allowed), the reply and edit forms, and "Add a forum" to
//! a section with the common activity fields. Editing a forum's fields is
//! the generic `/activities/{id}/edit`.
//!
//! Element ids the browser walk relies on: `#discussions` (the list),
//! `#group-filter`, `#new-discussion` (labels "Group", "Subject",
//! "Message", button "Post to forum"), `#forum-subscription`,
//! `#discussion-subscription`, `#thread` with one `#post-{id}` per post
//! (links "Reply", "Edit", "Delete"), `#reply` (label "Your reply",
//! button "Post reply").

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::super::{HttpError, blocking};
use super::content::{ActivityFields, activity_form, page_form};
use super::courses::mode_label;
use super::forms::{ConfirmPage, Empty, FormErrors, cursor, form_outcome, render, status_for};
use super::session::{SitePage, SitePost};
use super::{Layout, Section, page_routes};
use crate::domain::{
    ActivityId, ActivityKind, CourseGroupId, CourseSectionId, DiscussionId, PostId,
    SubscriptionTarget,
};
use crate::services::announcements::markdown::render_html;
use crate::services::discussions::{
    DiscussionView, ForumView, NewDiscussion, PostDeletion, PostView, ThreadPost,
};

page_routes! {
    get "/sections/{section}/forums/new" => new_forum_form, CourseStaff;
    post "/sections/{section}/forums" => create_forum, CourseStaff;
    get "/forums/{forum}" => show_forum, CourseMember;
    post "/forums/{forum}/discussions" => start_discussion, CourseMember;
    post "/forums/{forum}/subscription" => subscribe_forum, CourseMember;
    get "/discussions/{discussion}" => show_discussion, CourseMember;
    post "/discussions/{discussion}/subscription" => subscribe_discussion, CourseMember;
    get "/posts/{post}/reply" => reply_form, CourseMember;
    post "/posts/{post}/replies" => reply, CourseMember;
    get "/posts/{post}/edit" => edit_form, CourseStaff;
    post "/posts/{post}" => save_post, CourseStaff;
    get "/posts/{post}/delete" => confirm_delete, CourseStaff;
    post "/posts/{post}/delete" => delete_post, CourseStaff;
}

#[derive(serde::Deserialize)]
pub(crate) struct SectionPath {
    section: u64,
}

#[derive(serde::Deserialize)]
pub(crate) struct ForumPath {
    forum: u64,
}

#[derive(serde::Deserialize)]
pub(crate) struct DiscussionPath {
    discussion: u64,
}

#[derive(serde::Deserialize)]
pub(crate) struct PostPath {
    post: u64,
}

fn discussion_href(page: &SitePage, id: DiscussionId) -> String {
    page.link(&format!("/discussions/{id}"))
}

// ---------------------------------------------------------- forum form

async fn new_forum_form(
    page: SitePage,
    path: web::Path<SectionPath>,
) -> Result<HttpResponse, HttpError> {
    let form = activity_form(&page, Ok(CourseSectionId(path.section))).await?;
    let view = page_form(
        &page,
        &form,
        ActivityFields::new_activity(),
        FormErrors::none(),
        ActivityKind::Discussion,
    );
    render(&view, StatusCode::OK)
}

async fn create_forum(
    post: SitePost<ActivityFields>,
    path: web::Path<SectionPath>,
) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let section = CourseSectionId(path.section);
    let draft = form.draft()?;
    let (services, who) = (page.site.services.clone(), page.principal().clone());
    match form_outcome(blocking(move || services.create_forum(&who, section, &draft)).await)? {
        Ok(f) => Ok(page.done(
            &format!("/forums/{}", f.id),
            format!("Forum {} added.", f.name),
        )),
        Err(errors) => {
            let f = activity_form(&page, Ok(section)).await?;
            let view = page_form(&page, &f, form, errors, ActivityKind::Discussion);
            render(&view, status_for(&view.errors))
        }
    }
}

// ---------------------------------------------------------- forum page

#[derive(serde::Deserialize)]
pub(crate) struct ForumQuery {
    group: Option<String>,
    after: Option<String>,
}

/// "Add a discussion" as typed.
#[derive(serde::Deserialize, Default)]
pub(crate) struct StartForm {
    /// `""`: all participants; else a group id.
    #[serde(default)]
    group: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    body: String,
}

pub(crate) struct DiscussionRow {
    pub subject: String,
    pub href: String,
    pub group: String,
    pub author: String,
    pub posts: u32,
    pub last_post: String,
}

#[derive(Template)]
#[template(path = "pages/discussions/forum.html")]
pub(crate) struct ForumPage {
    pub layout: Layout,
    pub view: ForumView,
    pub description_html: String,
    pub mode: &'static str,
    pub course_href: String,
    pub edit_href: Option<String>,
    pub self_href: String,
    pub rows: Vec<DiscussionRow>,
    pub next: Option<String>,
    /// The group selector's options: every discussion first.
    pub group_options: Vec<(String, String)>,
    pub group_value: String,
    pub start_choices: Vec<(String, String)>,
    pub start_action: String,
    pub subscribe_action: String,
    pub csrf: String,
    pub form: StartForm,
    pub errors: FormErrors,
}

fn forum_page(page: &SitePage, view: ForumView, form: StartForm, errors: FormErrors) -> ForumPage {
    let id = view.forum.id;
    let self_href = page.link(&format!("/forums/{id}"));
    let rows = view
        .discussions
        .items
        .iter()
        .map(|d| DiscussionRow {
            subject: d.discussion.subject.clone(),
            href: discussion_href(page, d.discussion.id),
            group: d.group_name.clone(),
            author: d.author.clone(),
            posts: d.discussion.posts,
            last_post: d.discussion.last_post_at.to_string(),
        })
        .collect();
    let group_value = view.narrowed_to.map_or_else(String::new, |g| g.to_string());
    let next = view
        .discussions
        .next
        .map(|n| format!("{self_href}?group={group_value}&after={n}"));
    let mut group_options = Vec::new();
    if view.group_filter.len() > 1 {
        group_options.push((String::new(), "Every group I see".to_owned()));
        for g in &view.group_filter {
            if let Some(id) = g.group {
                group_options.push((id.to_string(), g.name.clone()));
            }
        }
    }
    let start_choices = view
        .start_in
        .iter()
        .map(|c| {
            (
                c.group.map_or_else(String::new, |g| g.to_string()),
                c.name.clone(),
            )
        })
        .collect();
    ForumPage {
        layout: Layout::signed_in(page, &view.forum.name, Section::Courses),
        description_html: render_html(&view.forum.description),
        mode: mode_label(view.mode),
        course_href: page.link(&format!(
            "/courses/{}#section-{}",
            view.forum.course, view.forum.section
        )),
        edit_href: view
            .can_edit
            .then(|| page.link(&format!("/activities/{id}/edit"))),
        rows,
        next,
        group_options,
        group_value,
        start_choices,
        start_action: page.link(&format!("/forums/{id}/discussions")),
        subscribe_action: page.link(&format!("/forums/{id}/subscription")),
        csrf: page.csrf().to_owned(),
        self_href,
        form,
        errors,
        view,
    }
}

async fn load_forum(
    page: &SitePage,
    id: ActivityId,
    group: Option<CourseGroupId>,
    before: Option<DiscussionId>,
) -> Result<ForumView, HttpError> {
    let (services, who) = (page.site.services.clone(), page.principal().clone());
    blocking(move || services.forum(&who, id, group, before, super::forms::PAGE_SIZE)).await
}

async fn show_forum(
    page: SitePage,
    path: web::Path<ForumPath>,
    query: web::Query<ForumQuery>,
) -> Result<HttpResponse, HttpError> {
    let group = query
        .group
        .as_deref()
        .and_then(|g| g.parse().ok())
        .map(CourseGroupId);
    let before = cursor(&query.after).map(DiscussionId);
    let view = load_forum(&page, ActivityId(path.forum), group, before).await?;
    let form = StartForm {
        group: view
            .start_in
            .first()
            .and_then(|c| c.group)
            .map_or_else(String::new, |g| g.to_string()),
        ..StartForm::default()
    };
    render(
        &forum_page(&page, view, form, FormErrors::none()),
        StatusCode::OK,
    )
}

async fn start_discussion(
    post: SitePost<StartForm>,
    path: web::Path<ForumPath>,
) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let id = ActivityId(path.forum);
    let group = match form.group.as_str() {
        "" => None,
        g => Some(CourseGroupId(g.parse().map_err(|_| {
            HttpError::BadRequest(format!("unknown group {g:?}"))
        })?)),
    };
    let new = NewDiscussion {
        group,
        subject: form.subject.clone(),
        body: form.body.clone(),
    };
    let (services, who) = (page.site.services.clone(), page.principal().clone());
    match form_outcome(blocking(move || services.start_discussion(&who, id, new)).await)? {
        Ok(d) => Ok(page.done(
            &format!("/discussions/{}", d.id),
            format!("Discussion {} started.", d.subject),
        )),
        Err(errors) => {
            let view = load_forum(&page, id, None, None).await?;
            let view = forum_page(&page, view, form, errors);
            render(&view, status_for(&view.errors))
        }
    }
}

/// A subscribe toggle: `1` subscribes, `0` unsubscribes.
#[derive(serde::Deserialize)]
pub(crate) struct SubscribeForm {
    subscribed: String,
}

impl SubscribeForm {
    fn wanted(&self) -> Result<bool, HttpError> {
        match self.subscribed.as_str() {
            "1" => Ok(true),
            "0" => Ok(false),
            other => Err(HttpError::BadRequest(format!(
                "subscribed must be 1 or 0, not {other:?}"
            ))),
        }
    }
}

fn subscribed_words(on: bool) -> &'static str {
    if on {
        "You are subscribed: new posts come to your inbox."
    } else {
        "You are unsubscribed."
    }
}

async fn subscribe_forum(
    post: SitePost<SubscribeForm>,
    path: web::Path<ForumPath>,
) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let on = form.wanted()?;
    let id = ActivityId(path.forum);
    let (services, who) = (page.site.services.clone(), page.principal().clone());
    blocking(move || services.set_subscription(&who, SubscriptionTarget::Forum(id), on)).await?;
    Ok(page.done(&format!("/forums/{id}"), subscribed_words(on)))
}

// ----------------------------------------------------- discussion page

#[derive(Template)]
#[template(path = "pages/discussions/discussion.html")]
pub(crate) struct DiscussionPage {
    pub layout: Layout,
    pub view: DiscussionView,
    pub forum_href: String,
    /// The site's path prefix, so each post's links are built in the
    /// template without a string per link here.
    pub base: String,
    pub reply_action: String,
    pub subscribe_action: String,
    pub csrf: String,
    pub errors: FormErrors,
    pub body: String,
}

fn discussion_page(
    page: &SitePage,
    view: DiscussionView,
    body: String,
    errors: FormErrors,
) -> DiscussionPage {
    let d = &view.discussion;
    DiscussionPage {
        layout: Layout::signed_in(page, &d.subject, Section::Courses),
        forum_href: page.link(&format!("/forums/{}", d.forum)),
        base: page.link(""),
        reply_action: page.link(&format!("/posts/{}/replies", d.first_post)),
        subscribe_action: page.link(&format!("/discussions/{}/subscription", d.id)),
        csrf: page.csrf().to_owned(),
        errors,
        body,
        view,
    }
}

async fn load_discussion(page: &SitePage, id: DiscussionId) -> Result<DiscussionView, HttpError> {
    let (services, who) = (page.site.services.clone(), page.principal().clone());
    blocking(move || services.discussion(&who, id)).await
}

async fn show_discussion(
    page: SitePage,
    path: web::Path<DiscussionPath>,
) -> Result<HttpResponse, HttpError> {
    let view = load_discussion(&page, DiscussionId(path.discussion)).await?;
    render(
        &discussion_page(&page, view, String::new(), FormErrors::none()),
        StatusCode::OK,
    )
}

async fn subscribe_discussion(
    post: SitePost<SubscribeForm>,
    path: web::Path<DiscussionPath>,
) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let on = form.wanted()?;
    let id = DiscussionId(path.discussion);
    let (services, who) = (page.site.services.clone(), page.principal().clone());
    blocking(move || {
        let forum = services.discussion(&who, id)?.forum.id;
        let target = SubscriptionTarget::Discussion {
            forum,
            discussion: id,
        };
        services.set_subscription(&who, target, on)
    })
    .await?;
    Ok(page.done(&format!("/discussions/{id}"), subscribed_words(on)))
}

// ------------------------------------------------- reply and edit forms

#[derive(serde::Deserialize, Default)]
pub(crate) struct PostForm {
    #[serde(default)]
    body: String,
    /// Only for a discussion's first post.
    subject: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/discussions/post_form.html")]
pub(crate) struct PostFormPage {
    pub layout: Layout,
    pub heading: String,
    /// The post answered or edited, as shown in the thread.
    pub shown: ThreadPost,
    pub subject: Option<String>,
    pub action: String,
    pub button: &'static str,
    pub label: &'static str,
    pub csrf: String,
    pub body: String,
    pub errors: FormErrors,
    pub cancel: String,
}

async fn load_post(page: &SitePage, id: PostId) -> Result<PostView, HttpError> {
    let (services, who) = (page.site.services.clone(), page.principal().clone());
    blocking(move || services.post(&who, id)).await
}

/// What a post form is for: answering the post, or changing it.
#[derive(Copy, Clone, PartialEq)]
enum PostFormKind {
    Reply,
    Edit,
}

fn post_form_page(
    page: &SitePage,
    kind: PostFormKind,
    p: PostView,
    form: PostForm,
    errors: FormErrors,
) -> PostFormPage {
    let id = p.post.post.id;
    let (heading, action, button, label) = match kind {
        PostFormKind::Reply => (
            format!("Reply to {}", p.post.author),
            format!("/posts/{id}/replies"),
            "Post reply",
            "Your reply",
        ),
        PostFormKind::Edit => (
            "Edit post".to_owned(),
            format!("/posts/{id}"),
            "Save post",
            "Message",
        ),
    };
    // Only a discussion's first post edits its subject.
    let subject = (kind == PostFormKind::Edit && p.post.post.parent.is_none())
        .then(|| form.subject.unwrap_or_else(|| p.discussion.subject.clone()));
    PostFormPage {
        layout: Layout::signed_in(page, &heading, Section::Courses),
        heading,
        subject,
        action: page.link(&action),
        button,
        label,
        csrf: page.csrf().to_owned(),
        body: form.body,
        errors,
        cancel: format!("{}#post-{id}", discussion_href(page, p.discussion.id)),
        shown: p.post,
    }
}

async fn reply_form(page: SitePage, path: web::Path<PostPath>) -> Result<HttpResponse, HttpError> {
    let p = load_post(&page, PostId(path.post)).await?;
    render(
        &post_form_page(
            &page,
            PostFormKind::Reply,
            p,
            PostForm::default(),
            FormErrors::none(),
        ),
        StatusCode::OK,
    )
}

async fn reply(
    post: SitePost<PostForm>,
    path: web::Path<PostPath>,
) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let parent = PostId(path.post);
    let body = form.body.clone();
    let (services, who) = (page.site.services.clone(), page.principal().clone());
    match form_outcome(blocking(move || services.reply(&who, parent, &body)).await)? {
        Ok(p) => Ok(page.done(
            &format!("/discussions/{}#post-{}", p.discussion, p.id),
            "Reply posted.",
        )),
        Err(errors) => {
            let p = load_post(&page, parent).await?;
            let view = post_form_page(&page, PostFormKind::Reply, p, form, errors);
            render(&view, status_for(&view.errors))
        }
    }
}

/// The post, if the caller may edit it (else 403: the page offers no link
/// to it).
async fn editable_post(page: &SitePage, id: PostId) -> Result<PostView, HttpError> {
    let p = load_post(page, id).await?;
    if !p.post.can_edit {
        return Err(HttpError::Service(
            crate::services::ServiceError::Forbidden(
                "you may edit only your own posts, within the site's edit window".into(),
            ),
        ));
    }
    Ok(p)
}

async fn edit_form(page: SitePage, path: web::Path<PostPath>) -> Result<HttpResponse, HttpError> {
    let p = editable_post(&page, PostId(path.post)).await?;
    let form = PostForm {
        body: p.post.post.body.clone(),
        subject: None,
    };
    render(
        &post_form_page(&page, PostFormKind::Edit, p, form, FormErrors::none()),
        StatusCode::OK,
    )
}

async fn save_post(
    post: SitePost<PostForm>,
    path: web::Path<PostPath>,
) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let id = PostId(path.post);
    let (body, subject) = (form.body.clone(), form.subject.clone());
    let (services, who) = (page.site.services.clone(), page.principal().clone());
    match form_outcome(
        blocking(move || services.edit_post(&who, id, &body, subject.as_deref())).await,
    )? {
        Ok(p) => Ok(page.done(
            &format!("/discussions/{}#post-{}", p.discussion, p.id),
            "Post saved.",
        )),
        Err(errors) => {
            let p = load_post(&page, id).await?;
            let view = post_form_page(&page, PostFormKind::Edit, p, form, errors);
            render(&view, status_for(&view.errors))
        }
    }
}

async fn confirm_delete(
    page: SitePage,
    path: web::Path<PostPath>,
) -> Result<HttpResponse, HttpError> {
    let p = load_post(&page, PostId(path.post)).await?;
    if !p.post.can_delete {
        return Err(HttpError::Service(
            crate::services::ServiceError::Forbidden(
                "only the course's teachers delete posts".into(),
            ),
        ));
    }
    let first = p.post.post.parent.is_none();
    let heading = if first {
        format!("Delete the discussion {}?", p.discussion.subject)
    } else {
        format!("Delete this post by {}?", p.post.author)
    };
    let effects = if first {
        vec![format!(
            "delete the discussion “{}” with all its {} posts.",
            p.discussion.subject, p.discussion.posts
        )]
    } else {
        vec!["delete this post and every reply below it.".to_owned()]
    };
    let view = ConfirmPage {
        layout: Layout::signed_in(&page, &heading, Section::Courses),
        heading,
        effects,
        action: page.link(&format!("/posts/{}/delete", p.post.post.id)),
        csrf: page.csrf().to_owned(),
        button: if first {
            "Delete discussion".to_owned()
        } else {
            "Delete post".to_owned()
        },
        cancel: format!(
            "{}#post-{}",
            discussion_href(&page, p.discussion.id),
            p.post.post.id
        ),
    };
    render(&view, StatusCode::OK)
}

async fn delete_post(
    post: SitePost<Empty>,
    path: web::Path<PostPath>,
) -> Result<HttpResponse, HttpError> {
    let page = post.page;
    let id = PostId(path.post);
    let (services, who) = (page.site.services.clone(), page.principal().clone());
    let (deleted, discussion) = blocking(move || {
        let d = services.post(&who, id)?.discussion;
        Ok::<_, crate::services::ServiceError>((services.delete_post(&who, id)?, d))
    })
    .await?;
    Ok(match deleted {
        PostDeletion::Discussion => page.done(
            &format!("/forums/{}", discussion.forum),
            format!("Discussion {} deleted.", discussion.subject),
        ),
        PostDeletion::Subtree { replies } => page.done(
            &format!("/discussions/{}", discussion.id),
            format!("Post deleted with {replies} replies."),
        ),
    })
}
