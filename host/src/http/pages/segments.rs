//! User segments: list and search, create, edit, members (search, add
//! through a picker, remove after a confirmation) and deletion after a
//! confirmation that names the enrolment methods using the segment. The
//! segment page's "Rule" section and the rule's own pages are
//! `segment_rules`; a managed segment (by a rule or another component)
//! shows no control that changes its members.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::super::{HttpError, blocking};
use super::forms::{
    FormErrors, PAGE_SIZE, cursor, form_outcome, page_links, render, search_of, status_for, ticked,
};
use super::segment_rules::{RuleSection, rule_section};
use super::session::{SitePage, SitePost};
use super::words::count;
use super::{Layout, Section, page_routes};
use crate::domain::{EnrolmentMethodStatus, SegmentId, User, UserId};
use crate::services::segments::{
    NewSegment, SegmentSummary, SegmentUpdate, SegmentUsage, SegmentWithUsers,
};

page_routes! {
    get "/segments" => list, SiteAdmin;
    get "/segments/new" => new_form, SiteAdmin;
    post "/segments" => create, SiteAdmin;
    get "/segments/{segment}" => show, SiteAdmin;
    post "/segments/{segment}" => update, SiteAdmin;
    get "/segments/{segment}/members/add" => picker, SiteAdmin;
    post "/segments/{segment}/members/add" => add_members, SiteAdmin;
    get "/segments/{segment}/members/remove" => confirm_remove, SiteAdmin;
    post "/segments/{segment}/members/remove" => remove_members, SiteAdmin;
    get "/segments/{segment}/delete" => confirm_delete, SiteAdmin;
    post "/segments/{segment}/delete" => delete, SiteAdmin;
}

#[derive(serde::Deserialize)]
pub(crate) struct ListQuery {
    q: Option<String>,
    after: Option<String>,
}

#[derive(serde::Deserialize)]
pub(crate) struct IdPath {
    segment: u64,
}

// ------------------------------------------------------------------ list

pub(crate) struct SegmentRow {
    pub name: String,
    pub idnumber: String,
    pub href: String,
    pub members: u64,
    pub visible: bool,
    pub managed_by: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/segments/list.html")]
pub(crate) struct ListPage {
    pub layout: Layout,
    pub q: String,
    pub rows: Vec<SegmentRow>,
    pub action: String,
    pub new_href: String,
    pub first: Option<String>,
    pub next: Option<String>,
}

async fn list(page: SitePage, query: web::Query<ListQuery>) -> Result<HttpResponse, HttpError> {
    let q = query.q.clone().unwrap_or_default();
    // Segments are listed by name, so the service pages by offset.
    let offset: usize = query
        .after
        .as_deref()
        .and_then(|a| a.parse().ok())
        .unwrap_or(0);
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let search = q.clone();
    let found =
        blocking(move || services.list_segments(&who, search_of(&search), offset, PAGE_SIZE))
            .await?;
    let rows = found
        .items
        .into_iter()
        .map(|s| SegmentRow {
            href: page.link(&format!("/segments/{}", s.segment.id)),
            idnumber: s.segment.idnumber.unwrap_or_default(),
            members: s.members,
            visible: s.segment.visible,
            managed_by: s.segment.managed_by,
            name: s.segment.name,
        })
        .collect();
    let (first, next) = page_links(&page.link("/segments"), &q, offset == 0, found.next);
    let view = ListPage {
        layout: Layout::signed_in(&page, "User segments", Section::Segments),
        rows,
        action: page.link("/segments"),
        new_href: page.link("/segments/new"),
        first,
        next,
        q,
    };
    render(&view, StatusCode::OK)
}

// ------------------------------------------------------------ the form

/// The fields of the segment form, as typed.
#[derive(serde::Deserialize, Default, Clone)]
pub(crate) struct SegmentForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    idnumber: String,
    #[serde(default)]
    description: String,
    visible: Option<String>,
}

impl SegmentForm {
    fn visible(&self) -> bool {
        ticked(&self.visible)
    }

    fn of(s: &SegmentSummary) -> Self {
        Self {
            name: s.segment.name.clone(),
            idnumber: s.segment.idnumber.clone().unwrap_or_default(),
            description: s.segment.description.clone(),
            visible: s.segment.visible.then(|| "1".to_owned()),
        }
    }
}

#[derive(Template)]
#[template(path = "pages/segments/new.html")]
pub(crate) struct NewPage {
    pub layout: Layout,
    pub action: String,
    pub csrf: String,
    pub form: SegmentForm,
    pub errors: FormErrors,
    pub cancel: String,
}

fn new_page(page: &SitePage, form: SegmentForm, errors: FormErrors) -> NewPage {
    NewPage {
        layout: Layout::signed_in(page, "New user segment", Section::Segments),
        action: page.link("/segments"),
        csrf: page.csrf().to_owned(),
        form,
        errors,
        cancel: page.link("/segments"),
    }
}

async fn new_form(page: SitePage) -> Result<HttpResponse, HttpError> {
    // Asking the service refuses a non-admin here, not only when saving.
    let services = page.site.services.clone();
    let who = page.principal().clone();
    blocking(move || services.list_segments(&who, None, 0, 1)).await?;
    let form = SegmentForm {
        visible: Some("1".to_owned()),
        ..SegmentForm::default()
    };
    render(&new_page(&page, form, FormErrors::none()), StatusCode::OK)
}

async fn create(post: SitePost<SegmentForm>) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let new = NewSegment {
        name: form.name.clone(),
        idnumber: Some(form.idnumber.clone()),
        description: form.description.clone(),
        visible: form.visible(),
        managed_by: None,
    };
    let services = page.site.services.clone();
    let who = page.principal().clone();
    match form_outcome(blocking(move || services.create_segment(&who, new)).await)? {
        Ok(segment) => Ok(page.done(
            &format!("/segments/{}", segment.id),
            format!("User segment {} created.", segment.name),
        )),
        Err(errors) => {
            let view = new_page(&page, form, errors);
            render(&view, status_for(&view.errors))
        }
    }
}

// ------------------------------------------------------ the segment page

pub(crate) struct MemberRow {
    pub id: u64,
    pub name: String,
    pub username: String,
    pub email: String,
    pub href: String,
    pub remove_href: String,
}

#[derive(Template)]
#[template(path = "pages/segments/show.html")]
pub(crate) struct ShowPage {
    pub layout: Layout,
    pub heading: String,
    pub members_label: String,
    /// The plugin that alone changes the members, if any.
    pub managed_by: Option<String>,
    /// The segment's rule, or how to attach one.
    pub rule: RuleSection,
    pub action: String,
    pub csrf: String,
    pub form: SegmentForm,
    pub errors: FormErrors,
    pub delete_href: String,
    pub mass_enrol_href: String,
    pub members_action: String,
    pub q: String,
    pub rows: Vec<MemberRow>,
    pub add_href: String,
    pub remove_action: String,
    pub first: Option<String>,
    pub next: Option<String>,
}

fn members_label(n: u64) -> String {
    count(n, "member", "members")
}

fn member_row(page: &SitePage, segment: SegmentId, u: User) -> MemberRow {
    MemberRow {
        id: u.id.0,
        href: page.link(&format!("/users/{}", u.id)),
        remove_href: page.link(&format!("/segments/{segment}/members/remove?user={}", u.id)),
        name: u.full_name(),
        username: u.username,
        email: u.email,
    }
}

fn show_page(
    page: &SitePage,
    found: SegmentWithUsers,
    rule: RuleSection,
    q: String,
    after: Option<UserId>,
    form: Option<SegmentForm>,
    errors: FormErrors,
) -> ShowPage {
    let id = found.segment.segment.id;
    let path = format!("/segments/{id}");
    let heading = found.segment.segment.name.clone();
    let (first, next) = page_links(&page.link(&path), &q, after.is_none(), found.users.next);
    ShowPage {
        layout: Layout::signed_in(page, &heading, Section::Segments),
        members_label: members_label(found.segment.members),
        managed_by: found.segment.segment.managed_by.clone(),
        rule,
        action: page.link(&path),
        csrf: page.csrf().to_owned(),
        form: form.unwrap_or_else(|| SegmentForm::of(&found.segment)),
        errors,
        delete_href: page.link(&format!("{path}/delete")),
        mass_enrol_href: page.link(&format!("{path}/mass-enrolments")),
        members_action: page.link(&path),
        rows: found
            .users
            .items
            .into_iter()
            .map(|u| member_row(page, id, u))
            .collect(),
        add_href: page.link(&format!("{path}/members/add")),
        remove_action: page.link(&format!("{path}/members/remove")),
        first,
        next,
        heading,
        q,
    }
}

async fn members_of(
    page: &SitePage,
    id: SegmentId,
    q: &str,
    after: Option<UserId>,
) -> Result<SegmentWithUsers, HttpError> {
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let search = q.to_owned();
    blocking(move || services.find_segment_members(&who, id, search_of(&search), after, PAGE_SIZE))
        .await
}

async fn show(
    page: SitePage,
    path: web::Path<IdPath>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, HttpError> {
    let id = SegmentId(path.segment);
    let q = query.q.clone().unwrap_or_default();
    let after = cursor(&query.after).map(UserId);
    let found = members_of(&page, id, &q, after).await?;
    let rule = rule_section(&page, &found.segment.segment).await?;
    let view = show_page(&page, found, rule, q, after, None, FormErrors::none());
    render(&view, StatusCode::OK)
}

async fn update(
    post: SitePost<SegmentForm>,
    path: web::Path<IdPath>,
) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let id = SegmentId(path.segment);
    let update = SegmentUpdate {
        name: Some(form.name.clone()),
        // An empty idnumber clears it (SegmentUpdate's rule).
        idnumber: Some(form.idnumber.clone()),
        description: Some(form.description.clone()),
        visible: Some(form.visible()),
    };
    let services = page.site.services.clone();
    let who = page.principal().clone();
    match form_outcome(blocking(move || services.update_segment(&who, id, update)).await)? {
        Ok(segment) => Ok(page.done(
            &format!("/segments/{id}"),
            format!("Changes to {} saved.", segment.name),
        )),
        Err(errors) => {
            let found = members_of(&page, id, "", None).await?;
            let rule = rule_section(&page, &found.segment.segment).await?;
            let view = show_page(&page, found, rule, String::new(), None, Some(form), errors);
            render(&view, status_for(&view.errors))
        }
    }
}

// ------------------------------------------------------- adding members

#[derive(Template)]
#[template(path = "pages/segments/add.html")]
pub(crate) struct PickerPage {
    pub layout: Layout,
    pub heading: String,
    pub managed_by: Option<String>,
    pub search_action: String,
    pub q: String,
    pub rows: Vec<MemberRow>,
    pub action: String,
    pub csrf: String,
    pub back: String,
    pub first: Option<String>,
    pub next: Option<String>,
}

async fn picker(
    page: SitePage,
    path: web::Path<IdPath>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, HttpError> {
    let id = SegmentId(path.segment);
    let q = query.q.clone().unwrap_or_default();
    let after = cursor(&query.after).map(UserId);
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let search = q.clone();
    let found = blocking(move || {
        services.segment_candidates(&who, id, search_of(&search), after, PAGE_SIZE)
    })
    .await?;
    let add_path = format!("/segments/{id}/members/add");
    let heading = format!("Add members to {}", found.segment.segment.name);
    let (first, next) = page_links(&page.link(&add_path), &q, after.is_none(), found.users.next);
    let view = PickerPage {
        layout: Layout::signed_in(&page, &heading, Section::Segments),
        heading,
        managed_by: found.segment.segment.managed_by.clone(),
        search_action: page.link(&add_path),
        rows: found
            .users
            .items
            .into_iter()
            .map(|u| member_row(&page, id, u))
            .collect(),
        action: page.link(&add_path),
        csrf: page.csrf().to_owned(),
        back: page.link(&format!("/segments/{id}")),
        first,
        next,
        q,
    };
    render(&view, StatusCode::OK)
}

/// A form naming users by repeated `user` keys.
#[derive(serde::Deserialize, Default)]
pub(crate) struct UsersForm {
    #[serde(default)]
    user: Vec<u64>,
    confirm: Option<String>,
}

impl UsersForm {
    fn ids(&self) -> Vec<UserId> {
        self.user.iter().copied().map(UserId).collect()
    }
}

fn users_label(n: u64) -> String {
    count(n, "user", "users")
}

async fn add_members(
    post: SitePost<UsersForm>,
    path: web::Path<IdPath>,
) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let id = SegmentId(path.segment);
    let users = form.ids();
    let services = page.site.services.clone();
    let who = page.principal().clone();
    // An empty selection still goes to the service, which decides who may
    // ask (it changes nothing).
    let change = blocking(move || services.add_segment_members(&who, id, &users)).await?;
    let message = match (change.changed, change.unchanged) {
        (0, 0) => "No user was selected; nobody was added.".to_owned(),
        (n, 0) => format!("{} added to the segment.", users_label(n)),
        (n, m) => format!(
            "{} added to the segment; {} already {}.",
            users_label(n),
            m,
            if m == 1 {
                "was a member"
            } else {
                "were members"
            }
        ),
    };
    Ok(page.done(&format!("/segments/{id}"), message))
}

// ----------------------------------------------------- removing members

#[derive(Template)]
#[template(path = "pages/segments/remove.html")]
pub(crate) struct RemovePage {
    pub layout: Layout,
    pub heading: String,
    pub segment: String,
    pub managed_by: Option<String>,
    pub rows: Vec<MemberRow>,
    pub action: String,
    pub csrf: String,
    pub cancel: String,
}

/// The confirmation of removing `users` from segment `id`: who of them
/// are members and will be removed.
async fn remove_page(
    page: SitePage,
    id: SegmentId,
    users: Vec<UserId>,
) -> Result<HttpResponse, HttpError> {
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let found = blocking(move || services.segment_members_among(&who, id, &users)).await?;
    let segment = found.segment.segment.name.clone();
    let heading = format!("Remove members from {segment}?");
    let view = RemovePage {
        layout: Layout::signed_in(&page, &heading, Section::Segments),
        heading,
        managed_by: found.segment.segment.managed_by.clone(),
        rows: found
            .users
            .items
            .into_iter()
            .map(|u| member_row(&page, id, u))
            .collect(),
        segment,
        action: page.link(&format!("/segments/{id}/members/remove")),
        csrf: page.csrf().to_owned(),
        cancel: page.link(&format!("/segments/{id}")),
    };
    render(&view, StatusCode::OK)
}

/// A row's "Remove" link: `?user=…` (repeatable) names who to remove.
async fn confirm_remove(
    page: SitePage,
    path: web::Path<IdPath>,
) -> Result<HttpResponse, HttpError> {
    // Repeated `user` keys: only serde_html_form reads them.
    let selection: UsersForm = serde_html_form::from_str(page.request.query_string())
        .map_err(|e| HttpError::BadRequest(format!("the selection could not be read: {e}")))?;
    remove_page(page, SegmentId(path.segment), selection.ids()).await
}

/// "Remove selected" shows the confirmation; the confirmation's own form
/// (with `confirm=1`) removes.
async fn remove_members(
    post: SitePost<UsersForm>,
    path: web::Path<IdPath>,
) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let id = SegmentId(path.segment);
    let users = form.ids();
    if !ticked(&form.confirm) {
        return remove_page(page, id, users).await;
    }
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let change = blocking(move || services.remove_segment_members(&who, id, &users)).await?;
    let message = match change.changed {
        0 => "Nobody was removed: none of them was a member.".to_owned(),
        n => format!("{} removed from the segment.", users_label(n)),
    };
    Ok(page.done(&format!("/segments/{id}"), message))
}

// -------------------------------------------------------------- delete

pub(crate) struct UseRow {
    pub method: String,
    pub plugin: String,
    pub enabled: bool,
    pub course: String,
    pub href: String,
    pub on_delete: String,
}

#[derive(Template)]
#[template(path = "pages/segments/delete.html")]
pub(crate) struct DeletePage {
    pub layout: Layout,
    pub heading: String,
    pub members_label: String,
    pub uses: Vec<UseRow>,
    pub action: String,
    pub csrf: String,
    pub cancel: String,
}

async fn confirm_delete(
    page: SitePage,
    path: web::Path<IdPath>,
) -> Result<HttpResponse, HttpError> {
    let id = SegmentId(path.segment);
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let SegmentUsage { segment, uses } = blocking(move || services.segment_usage(&who, id)).await?;
    let heading = format!("Delete the user segment {}?", segment.segment.name);
    let view = DeletePage {
        layout: Layout::signed_in(&page, &heading, Section::Segments),
        heading,
        members_label: members_label(segment.members),
        uses: uses
            .into_iter()
            .map(|u| UseRow {
                method: if u.method.name.is_empty() {
                    u.method.plugin.clone()
                } else {
                    u.method.name.clone()
                },
                enabled: u.method.status == EnrolmentMethodStatus::Enabled,
                href: page.link(&format!("/courses/{}/methods", u.course.id)),
                course: u.course.fullname,
                plugin: u.method.plugin,
                on_delete: u.on_delete.to_string(),
            })
            .collect(),
        action: page.link(&format!("/segments/{id}/delete")),
        csrf: page.csrf().to_owned(),
        cancel: page.link(&format!("/segments/{id}")),
    };
    render(&view, StatusCode::OK)
}

#[derive(serde::Deserialize)]
pub(crate) struct Empty {}

async fn delete(post: SitePost<Empty>, path: web::Path<IdPath>) -> Result<HttpResponse, HttpError> {
    let page = post.page;
    let id = SegmentId(path.segment);
    let services = page.site.services.clone();
    let who = page.principal().clone();
    blocking(move || services.delete_segment(&who, id)).await?;
    Ok(page.done("/segments", "User segment deleted."))
}
