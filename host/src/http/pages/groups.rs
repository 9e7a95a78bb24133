//! Course groups: a course's list, creating one, the group page (its
//! settings and members, each with who keeps the membership), adding
//! participants, removing members added by hand, and deleting the group.
//!
//! A membership kept by an enrolment method is that method's to
//! remove (PRODUCT §2): the pages offer no control for it and say where
//! to change it instead.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::super::{HttpError, blocking};
use super::forms::{
    ConfirmPage, Empty, FormErrors, ListQuery, PAGE_SIZE, cursor, form_outcome, page_links, render,
    search_of, status_for,
};
use super::session::{SitePage, SitePost};
use super::words::{count, method_name};
use super::{Layout, Section, page_routes};
use crate::domain::{CourseGroup, CourseGroupId, CourseId, UserId};
use crate::services::groups::{
    CourseGroups, GroupCandidates, GroupOverview, GroupUpdate, MemberFilter, NewGroup, OwnedMember,
};

page_routes! {
    get "/courses/{course}/groups" => list, CourseStaff;
    get "/courses/{course}/groups/new" => new_form, CourseStaff;
    post "/courses/{course}/groups" => create, CourseStaff;
    get "/groups/{group}" => show, CourseStaff;
    post "/groups/{group}" => update, CourseStaff;
    get "/groups/{group}/members/add" => add_form, CourseStaff;
    post "/groups/{group}/members/add" => add, CourseStaff;
    get "/groups/{group}/members/remove" => confirm_remove, CourseStaff;
    post "/groups/{group}/members/remove" => remove, CourseStaff;
    get "/groups/{group}/delete" => confirm_delete, CourseStaff;
    post "/groups/{group}/delete" => delete, CourseStaff;
}

#[derive(serde::Deserialize)]
pub(crate) struct CoursePath {
    course: u64,
}

#[derive(serde::Deserialize)]
pub(crate) struct GroupPath {
    group: u64,
}

/// The users a form (or a query string) names, as repeated `user` keys.
#[derive(serde::Deserialize, Default)]
pub(crate) struct Chosen {
    #[serde(default)]
    user: Vec<u64>,
}

impl Chosen {
    fn ids(&self) -> Vec<UserId> {
        self.user.iter().copied().map(UserId).collect()
    }
}

/// "No member added." / "1 member added." / "3 members added.": what a
/// change of the group's members did.
fn members_changed(n: u64, done: &str) -> String {
    match n {
        0 => format!("No member {done}."),
        n => format!("{} {done}.", count(n, "member", "members")),
    }
}

// ------------------------------------------------------------------ list

pub(crate) struct GroupRow {
    pub name: String,
    pub idnumber: String,
    pub members: u64,
    pub href: String,
}

#[derive(Template)]
#[template(path = "pages/groups/list.html")]
pub(crate) struct ListPage {
    pub layout: Layout,
    pub course: String,
    pub course_href: String,
    pub q: String,
    pub rows: Vec<GroupRow>,
    pub action: String,
    pub new_href: String,
    pub first: Option<String>,
    pub next: Option<String>,
}

async fn course_groups(
    page: &SitePage,
    course: CourseId,
    q: &str,
    offset: usize,
    limit: usize,
) -> Result<CourseGroups, HttpError> {
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let query = search_of(q).map(str::to_owned);
    blocking(move || services.course_groups(&who, course, query.as_deref(), offset, limit)).await
}

async fn list(
    page: SitePage,
    path: web::Path<CoursePath>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, HttpError> {
    let id = CourseId(path.course);
    let q = query.q.clone().unwrap_or_default();
    let offset = cursor(&query.after).and_then(|a| usize::try_from(a).ok());
    let found = course_groups(&page, id, &q, offset.unwrap_or(0), PAGE_SIZE).await?;
    let base = page.link(&format!("/courses/{id}/groups"));
    let (first, next) = page_links(&base, &q, offset.unwrap_or(0) == 0, found.groups.next);
    let title = format!("Course groups of {}", found.course.fullname);
    let view = ListPage {
        layout: Layout::signed_in(&page, &title, Section::Courses),
        course: found.course.fullname,
        course_href: page.link(&format!("/courses/{id}")),
        rows: found
            .groups
            .items
            .into_iter()
            .map(|g| GroupRow {
                href: page.link(&format!("/groups/{}", g.group.id)),
                name: g.group.name,
                idnumber: g.group.idnumber.unwrap_or_default(),
                members: g.members,
            })
            .collect(),
        action: base,
        new_href: page.link(&format!("/courses/{id}/groups/new")),
        first,
        next,
        q,
    };
    render(&view, StatusCode::OK)
}

// ------------------------------------------------------------------ form

/// The fields of the group form, as typed.
#[derive(serde::Deserialize, Default, Clone)]
pub(crate) struct GroupForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    idnumber: String,
    #[serde(default)]
    description: String,
}

impl GroupForm {
    fn of(g: &CourseGroup) -> Self {
        Self {
            name: g.name.clone(),
            idnumber: g.idnumber.clone().unwrap_or_default(),
            description: g.description.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "pages/groups/new.html")]
pub(crate) struct NewPage {
    pub layout: Layout,
    pub course: String,
    pub action: String,
    pub csrf: String,
    pub form: GroupForm,
    pub errors: FormErrors,
    pub cancel: String,
}

fn new_page(
    page: &SitePage,
    course: CourseId,
    name: String,
    form: GroupForm,
    errors: FormErrors,
) -> NewPage {
    NewPage {
        layout: Layout::signed_in(page, "New course group", Section::Courses),
        course: name,
        action: page.link(&format!("/courses/{course}/groups")),
        csrf: page.csrf().to_owned(),
        form,
        errors,
        cancel: page.link(&format!("/courses/{course}/groups")),
    }
}

async fn new_form(page: SitePage, path: web::Path<CoursePath>) -> Result<HttpResponse, HttpError> {
    let id = CourseId(path.course);
    // The groups page's service authorises the staff and names the course.
    let found = course_groups(&page, id, "", 0, 1).await?;
    let view = new_page(
        &page,
        id,
        found.course.fullname,
        GroupForm::default(),
        FormErrors::none(),
    );
    render(&view, StatusCode::OK)
}

async fn create(
    post: SitePost<GroupForm>,
    path: web::Path<CoursePath>,
) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let id = CourseId(path.course);
    let new = NewGroup {
        name: form.name.clone(),
        // The service trims it and reads blank as none.
        idnumber: Some(form.idnumber.clone()),
        description: form.description.clone(),
    };
    let services = page.site.services.clone();
    let who = page.principal().clone();
    match form_outcome(blocking(move || services.create_group(&who, id, new)).await)? {
        Ok(group) => Ok(page.done(
            &format!("/groups/{}", group.id),
            format!("Course group {} created.", group.name),
        )),
        Err(errors) => {
            let found = course_groups(&page, id, "", 0, 1).await?;
            let view = new_page(&page, id, found.course.fullname, form, errors);
            render(&view, status_for(&view.errors))
        }
    }
}

// ------------------------------------------------------------ group page

pub(crate) struct MemberRow {
    pub id: u64,
    pub name: String,
    pub username: String,
    /// Who keeps the membership, in words.
    pub owner: String,
    /// Why there is no remove control; `None` for a membership added by
    /// hand, which can be removed here.
    pub kept_by: Option<String>,
}

impl From<OwnedMember> for MemberRow {
    fn from(m: OwnedMember) -> Self {
        let (owner, kept_by) = match &m.method {
            None => ("Added by hand".to_owned(), None),
            Some(method) => {
                let name = method_name(method).to_owned();
                (
                    name.clone(),
                    Some(format!(
                        "Kept by the enrolment method “{name}”; change the method instead."
                    )),
                )
            }
        };
        Self {
            id: m.user.id.0,
            name: m.user.full_name(),
            username: m.user.username,
            owner,
            kept_by,
        }
    }
}

pub(crate) struct MethodLink {
    pub name: String,
    pub href: String,
}

#[derive(Template)]
#[template(path = "pages/groups/show.html")]
pub(crate) struct ShowPage {
    pub layout: Layout,
    pub group: CourseGroup,
    pub course: String,
    pub course_href: String,
    pub groups_href: String,
    pub members_label: String,
    pub used_by: Vec<MethodLink>,
    pub action: String,
    pub csrf: String,
    pub form: GroupForm,
    pub errors: FormErrors,
    pub q: String,
    pub search_action: String,
    pub rows: Vec<MemberRow>,
    /// Whether any listed membership can be removed here.
    pub removable: bool,
    pub remove_action: String,
    pub add_href: String,
    pub delete_href: String,
    pub first: Option<String>,
    pub next: Option<String>,
}

async fn overview(
    page: &SitePage,
    id: CourseGroupId,
    filter: MemberFilter,
    after: Option<UserId>,
    limit: usize,
) -> Result<GroupOverview, HttpError> {
    let services = page.site.services.clone();
    let who = page.principal().clone();
    blocking(move || services.group_overview(&who, id, &filter, after, limit)).await
}

fn show_page(
    page: &SitePage,
    o: GroupOverview,
    q: String,
    after: Option<UserId>,
    form: Option<GroupForm>,
    errors: FormErrors,
) -> ShowPage {
    let id = o.group.id;
    let course = o.course.id;
    let base = page.link(&format!("/groups/{id}"));
    let rows: Vec<MemberRow> = o.page.items.into_iter().map(MemberRow::from).collect();
    let (first, next) = page_links(&base, &q, after.is_none(), o.page.next);
    let title = format!("Course group {}", o.group.name);
    ShowPage {
        layout: Layout::signed_in(page, &title, Section::Courses),
        course: o.course.fullname,
        course_href: page.link(&format!("/courses/{course}")),
        groups_href: page.link(&format!("/courses/{course}/groups")),
        members_label: count(o.members, "member", "members"),
        used_by: o
            .used_by
            .iter()
            .map(|m| MethodLink {
                name: method_name(m).to_owned(),
                href: page.link(&format!("/courses/{course}/methods")),
            })
            .collect(),
        action: base.clone(),
        csrf: page.csrf().to_owned(),
        form: form.unwrap_or_else(|| GroupForm::of(&o.group)),
        errors,
        search_action: base,
        removable: rows.iter().any(|r| r.kept_by.is_none()),
        rows,
        remove_action: page.link(&format!("/groups/{id}/members/remove")),
        add_href: page.link(&format!("/groups/{id}/members/add")),
        delete_href: page.link(&format!("/groups/{id}/delete")),
        first,
        next,
        q,
        group: o.group,
    }
}

async fn show(
    page: SitePage,
    path: web::Path<GroupPath>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, HttpError> {
    let id = CourseGroupId(path.group);
    let q = query.q.clone().unwrap_or_default();
    let after = cursor(&query.after).map(UserId);
    let filter = MemberFilter {
        query: search_of(&q).map(str::to_owned),
        users: None,
    };
    let o = overview(&page, id, filter, after, PAGE_SIZE).await?;
    render(
        &show_page(&page, o, q, after, None, FormErrors::none()),
        StatusCode::OK,
    )
}

async fn update(
    post: SitePost<GroupForm>,
    path: web::Path<GroupPath>,
) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let id = CourseGroupId(path.group);
    let update = GroupUpdate {
        name: Some(form.name.clone()),
        // An empty idnumber clears it (GroupUpdate's rule).
        idnumber: Some(form.idnumber.trim().to_owned()),
        description: Some(form.description.clone()),
    };
    let services = page.site.services.clone();
    let who = page.principal().clone();
    match form_outcome(blocking(move || services.update_group(&who, id, update)).await)? {
        Ok(group) => Ok(page.done(
            &format!("/groups/{id}"),
            format!("Changes to course group {} saved.", group.name),
        )),
        Err(errors) => {
            let o = overview(&page, id, MemberFilter::default(), None, PAGE_SIZE).await?;
            let view = show_page(&page, o, String::new(), None, Some(form), errors);
            render(&view, status_for(&view.errors))
        }
    }
}

// ------------------------------------------------------------ add members

pub(crate) struct CandidateRow {
    pub id: u64,
    pub name: String,
    pub username: String,
    pub email: String,
}

#[derive(Template)]
#[template(path = "pages/groups/add.html")]
pub(crate) struct AddPage {
    pub layout: Layout,
    pub heading: String,
    pub back: String,
    pub q: String,
    pub search_action: String,
    pub rows: Vec<CandidateRow>,
    pub action: String,
    pub csrf: String,
    pub errors: FormErrors,
    pub first: Option<String>,
    pub next: Option<String>,
}

async fn candidates(
    page: &SitePage,
    id: CourseGroupId,
    q: &str,
    after: Option<UserId>,
) -> Result<GroupCandidates, HttpError> {
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let query = search_of(q).map(str::to_owned);
    blocking(move || services.group_candidates(&who, id, query.as_deref(), after, PAGE_SIZE)).await
}

fn add_page(
    page: &SitePage,
    found: GroupCandidates,
    q: String,
    after: Option<UserId>,
    errors: FormErrors,
) -> AddPage {
    let id = found.group.id;
    let base = page.link(&format!("/groups/{id}/members/add"));
    let (first, next) = page_links(&base, &q, after.is_none(), found.candidates.next);
    let heading = format!("Add members to {}", found.group.name);
    AddPage {
        layout: Layout::signed_in(page, &heading, Section::Courses),
        heading,
        back: page.link(&format!("/groups/{id}")),
        search_action: base.clone(),
        rows: found
            .candidates
            .items
            .into_iter()
            .map(|u| CandidateRow {
                id: u.id.0,
                name: u.full_name(),
                username: u.username,
                email: u.email,
            })
            .collect(),
        action: base,
        csrf: page.csrf().to_owned(),
        errors,
        first,
        next,
        q,
    }
}

async fn add_form(
    page: SitePage,
    path: web::Path<GroupPath>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, HttpError> {
    let id = CourseGroupId(path.group);
    let q = query.q.clone().unwrap_or_default();
    let after = cursor(&query.after).map(UserId);
    let found = candidates(&page, id, &q, after).await?;
    render(
        &add_page(&page, found, q, after, FormErrors::none()),
        StatusCode::OK,
    )
}

async fn add(
    post: SitePost<Chosen>,
    path: web::Path<GroupPath>,
) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let id = CourseGroupId(path.group);
    let users = form.ids();
    let services = page.site.services.clone();
    let who = page.principal().clone();
    match form_outcome(blocking(move || services.add_group_members(&who, id, &users)).await)? {
        Ok(change) => Ok(page.done(
            &format!("/groups/{id}"),
            members_changed(change.changed, "added"),
        )),
        Err(errors) => {
            let found = candidates(&page, id, "", None).await?;
            let view = add_page(&page, found, String::new(), None, errors);
            render(&view, status_for(&view.errors))
        }
    }
}

// --------------------------------------------------------- remove members

#[derive(Template)]
#[template(path = "pages/groups/remove.html")]
pub(crate) struct RemovePage {
    pub layout: Layout,
    pub heading: String,
    /// Members added by hand: these go.
    pub removable: Vec<MemberRow>,
    /// Members kept by an enrolment method: these stay, and why.
    pub kept: Vec<MemberRow>,
    pub action: String,
    pub csrf: String,
    pub errors: FormErrors,
    pub cancel: String,
}

fn remove_page(page: &SitePage, o: GroupOverview, errors: FormErrors) -> RemovePage {
    let id = o.group.id;
    let heading = format!("Remove members from {}?", o.group.name);
    let (removable, kept): (Vec<MemberRow>, Vec<MemberRow>) = o
        .page
        .items
        .into_iter()
        .map(MemberRow::from)
        .partition(|r| r.kept_by.is_none());
    RemovePage {
        layout: Layout::signed_in(page, &heading, Section::Courses),
        heading,
        removable,
        kept,
        action: page.link(&format!("/groups/{id}/members/remove")),
        csrf: page.csrf().to_owned(),
        errors,
        cancel: page.link(&format!("/groups/{id}")),
    }
}

/// The members chosen on the group page, with who keeps each.
async fn chosen(
    page: &SitePage,
    id: CourseGroupId,
    users: Vec<UserId>,
) -> Result<GroupOverview, HttpError> {
    let limit = users.len().max(1);
    let filter = MemberFilter {
        query: None,
        users: Some(users),
    };
    overview(page, id, filter, None, limit).await
}

async fn confirm_remove(
    page: SitePage,
    path: web::Path<GroupPath>,
) -> Result<HttpResponse, HttpError> {
    let id = CourseGroupId(path.group);
    // Repeated `user` keys: the group page's checkboxes, sent by GET.
    let query: Chosen = serde_html_form::from_str(page.request.query_string())
        .map_err(|e| HttpError::BadRequest(format!("the chosen members could not be read: {e}")))?;
    let o = chosen(&page, id, query.ids()).await?;
    render(&remove_page(&page, o, FormErrors::none()), StatusCode::OK)
}

async fn remove(
    post: SitePost<Chosen>,
    path: web::Path<GroupPath>,
) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let id = CourseGroupId(path.group);
    let users = form.ids();
    let services = page.site.services.clone();
    let who = page.principal().clone();
    match form_outcome(blocking(move || services.remove_group_members(&who, id, &users)).await)? {
        Ok(change) => Ok(page.done(
            &format!("/groups/{id}"),
            members_changed(change.changed, "removed"),
        )),
        Err(errors) => {
            let o = chosen(&page, id, form.ids()).await?;
            let view = remove_page(&page, o, errors);
            render(&view, status_for(&view.errors))
        }
    }
}

// ----------------------------------------------------------------- delete

async fn confirm_delete(
    page: SitePage,
    path: web::Path<GroupPath>,
) -> Result<HttpResponse, HttpError> {
    let id = CourseGroupId(path.group);
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let d = blocking(move || services.group_deletion(&who, id)).await?;
    let heading = format!("Delete course group {}?", d.group.name);
    let kept: u64 = d.by_method.iter().map(|(_, n)| n).sum();
    let mut effects = vec![format!(
        "delete the course group “{}” of {}.",
        d.group.name, d.course.fullname
    )];
    effects.push(match d.manual + kept {
        0 => "remove no membership: the course group has no members.".to_owned(),
        total => format!(
            "remove its {}: {} added by hand{}.",
            count(total, "membership", "memberships"),
            d.manual,
            d.by_method
                .iter()
                .map(|(m, n)| format!(", {n} kept by the enrolment method “{}”", method_name(m)))
                .collect::<String>()
        ),
    });
    if d.used_by.is_empty() {
        effects.push(
            "affect no enrolment method: no enrolment method uses this course group.".to_owned(),
        );
    } else {
        for m in &d.used_by {
            effects.push(format!(
                "leave the enrolment method “{}” configured with a course group that no longer exists: change its settings to another course group.",
                method_name(m)
            ));
        }
    }
    effects.push("keep every enrolment in the course: members stay participants.".to_owned());
    let view = ConfirmPage {
        layout: Layout::signed_in(&page, &heading, Section::Courses),
        heading,
        effects,
        action: page.link(&format!("/groups/{id}/delete")),
        csrf: page.csrf().to_owned(),
        button: "Delete course group".to_owned(),
        cancel: page.link(&format!("/groups/{id}")),
    };
    render(&view, StatusCode::OK)
}

async fn delete(
    post: SitePost<Empty>,
    path: web::Path<GroupPath>,
) -> Result<HttpResponse, HttpError> {
    let page = post.page;
    let id = CourseGroupId(path.group);
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let group = blocking(move || services.delete_group(&who, id)).await?;
    Ok(page.done(
        &format!("/courses/{}/groups", group.course),
        format!("Course group {} deleted.", group.name),
    ))
}
