//! A user's inbox: the announcements they received, newest first, with
//! the unread ones marked; opening one marks it read; each can be marked
//! unread again, and all read at once.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::super::{HttpError, blocking};
use super::forms::{Empty, PAGE_SIZE, cursor, render};
use super::session::{SitePage, SitePost};
use super::words::count;
use super::{Layout, Section, page_routes};
use crate::domain::AnnouncementId;
use crate::services::announcements::{InboxItem, InboxMessage};

page_routes! {
    get "/inbox" => list, SignedIn;
    post "/inbox/read-all" => read_all, SignedIn;
    get "/inbox/{message}" => open, SignedIn;
    post "/inbox/{message}/read" => set_read, SignedIn;
}

#[derive(serde::Deserialize)]
pub(crate) struct MessagePath {
    message: u64,
}

#[derive(serde::Deserialize)]
pub(crate) struct ListQuery {
    after: Option<String>,
}

pub(crate) struct Row {
    pub href: String,
    pub read: bool,
    pub subject: String,
    pub author: String,
    pub audience: String,
    pub sent_at: String,
    pub toggle_action: String,
}

#[derive(Template)]
#[template(path = "pages/inbox/list.html")]
pub(crate) struct ListPage {
    pub layout: Layout,
    pub summary: String,
    pub unread: u64,
    pub rows: Vec<Row>,
    pub csrf: String,
    pub read_all_action: String,
    pub first: Option<String>,
    pub next: Option<String>,
}

fn row_of(page: &SitePage, item: InboxItem) -> Row {
    let id = item.announcement;
    Row {
        href: page.link(&format!("/inbox/{id}")),
        toggle_action: page.link(&format!("/inbox/{id}/read")),
        read: item.read,
        sent_at: item.sent_at.to_string(),
        subject: item.subject,
        author: item.author,
        audience: item.audience,
    }
}

async fn list(page: SitePage, query: web::Query<ListQuery>) -> Result<HttpResponse, HttpError> {
    let before = cursor(&query.after).map(AnnouncementId);
    let (services, who) = (page.site.services.clone(), page.principal().clone());
    let found = blocking(move || services.inbox(&who, before, PAGE_SIZE)).await?;
    let view = ListPage {
        layout: Layout::signed_in(&page, "Inbox", Section::Inbox),
        summary: format!(
            "{}, {} unread",
            count(found.total, "message", "messages"),
            found.unread
        ),
        unread: found.unread,
        csrf: page.csrf().to_owned(),
        read_all_action: page.link("/inbox/read-all"),
        next: found
            .page
            .next
            .map(|n| format!("{}?after={n}", page.link("/inbox"))),
        first: before.is_some().then(|| page.link("/inbox")),
        rows: found
            .page
            .items
            .into_iter()
            .map(|i| row_of(&page, i))
            .collect(),
    };
    render(&view, StatusCode::OK)
}

#[derive(Template)]
#[template(path = "pages/inbox/show.html")]
pub(crate) struct ShowPage {
    pub layout: Layout,
    pub message: InboxMessage,
    pub sent_at: String,
    pub csrf: String,
    pub unread_action: String,
    pub back: String,
}

async fn open(page: SitePage, path: web::Path<MessagePath>) -> Result<HttpResponse, HttpError> {
    let id = AnnouncementId(path.message);
    let (services, who) = (page.site.services.clone(), page.principal().clone());
    let message = blocking(move || services.open_inbox_message(&who, id)).await?;
    let mut layout = Layout::signed_in(&page, &message.item.subject, Section::Inbox);
    // Opening marked it read: the header counts it no more.
    if let Some(inbox) = layout.nav.as_mut().and_then(|n| n.inbox.as_mut())
        && page.session.unread > 0
    {
        inbox.unread = inbox.unread.saturating_sub(1);
    }
    let view = ShowPage {
        layout,
        sent_at: message.item.sent_at.to_string(),
        csrf: page.csrf().to_owned(),
        unread_action: page.link(&format!("/inbox/{id}/read")),
        back: page.link("/inbox"),
        message,
    };
    render(&view, StatusCode::OK)
}

#[derive(serde::Deserialize)]
pub(crate) struct ReadForm {
    /// `1`: mark read; `0`: mark unread.
    read: String,
}

async fn set_read(
    post: SitePost<ReadForm>,
    path: web::Path<MessagePath>,
) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let id = AnnouncementId(path.message);
    let read = form.read == "1";
    let (services, who) = (page.site.services.clone(), page.principal().clone());
    blocking(move || services.set_inbox_read(&who, id, read)).await?;
    Ok(page.done(
        "/inbox",
        if read {
            "Marked as read."
        } else {
            "Marked as unread."
        },
    ))
}

async fn read_all(post: SitePost<Empty>) -> Result<HttpResponse, HttpError> {
    let page = post.page;
    let (services, who) = (page.site.services.clone(), page.principal().clone());
    let n = blocking(move || services.mark_inbox_read(&who)).await?;
    Ok(page.done(
        "/inbox",
        format!("{} marked as read.", count(n, "message", "messages")),
    ))
}
