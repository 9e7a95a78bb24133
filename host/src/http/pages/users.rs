//! Users of a site: list and search, create, edit, suspend and reactivate.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::super::{HttpError, blocking};
use super::forms::{
    ConfirmPage, FormErrors, ListQuery, PAGE_SIZE, cursor, form_outcome, page_links, render,
    search_of, status_for, ticked,
};
use super::session::{SitePage, SitePost};
use super::{Layout, Section, page_routes};
use crate::domain::{User, UserId, UserStatus};
use crate::services::users::{NewUser, UserUpdate};

page_routes! {
    get "/users" => list, SiteAdmin;
    get "/users/new" => new_form, SiteAdmin;
    post "/users" => create, SiteAdmin;
    get "/users/{user}" => edit_form, SiteAdmin;
    post "/users/{user}" => update, SiteAdmin;
    get "/users/{user}/suspend" => confirm_suspend, SiteAdmin;
    post "/users/{user}/suspend" => suspend, SiteAdmin;
    post "/users/{user}/reactivate" => reactivate, SiteAdmin;
}

#[derive(serde::Deserialize)]
pub(crate) struct IdPath {
    user: u64,
}

pub(crate) struct UserRow {
    pub name: String,
    pub username: String,
    pub email: String,
    pub href: String,
    pub suspended: bool,
    pub admin: bool,
}

#[derive(Template)]
#[template(path = "pages/users/list.html")]
pub(crate) struct ListPage {
    pub layout: Layout,
    pub q: String,
    pub rows: Vec<UserRow>,
    pub action: String,
    pub new_href: String,
    pub first: Option<String>,
    pub next: Option<String>,
}

async fn list(page: SitePage, query: web::Query<ListQuery>) -> Result<HttpResponse, HttpError> {
    let q = query.q.clone().unwrap_or_default();
    let after = cursor(&query.after).map(UserId);
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let search = q.clone();
    let found =
        blocking(move || services.list_users(&who, search_of(&search), after, PAGE_SIZE)).await?;
    let (first, next) = page_links(&page.link("/users"), &q, after.is_none(), found.next);
    let view = ListPage {
        layout: Layout::signed_in(&page, "Users", Section::Users),
        rows: found.items.into_iter().map(|u| row(&page, u)).collect(),
        action: page.link("/users"),
        new_href: page.link("/users/new"),
        first,
        next,
        q,
    };
    render(&view, StatusCode::OK)
}

fn row(page: &SitePage, u: User) -> UserRow {
    UserRow {
        href: page.link(&format!("/users/{}", u.id)),
        name: u.full_name(),
        suspended: u.status == UserStatus::Suspended,
        admin: u.site_role == crate::domain::SiteRole::SiteAdmin,
        username: u.username,
        email: u.email,
    }
}

/// The fields of the user form, as typed.
#[derive(serde::Deserialize, Default, Clone)]
pub(crate) struct UserForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    firstname: String,
    #[serde(default)]
    lastname: String,
    #[serde(default)]
    department: String,
    #[serde(default)]
    password: String,
    site_admin: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/users/form.html")]
pub(crate) struct FormPage {
    pub layout: Layout,
    pub heading: String,
    pub action: String,
    pub csrf: String,
    pub form: UserForm,
    pub errors: FormErrors,
    /// Set when editing: the user's status and its actions.
    pub existing: Option<Existing>,
    pub cancel: String,
}

pub(crate) struct Existing {
    pub suspended: bool,
    pub suspend_href: String,
    pub reactivate_action: String,
}

impl UserForm {
    fn admin(&self) -> bool {
        ticked(&self.site_admin)
    }

    fn of(u: &User) -> Self {
        Self {
            username: u.username.clone(),
            email: u.email.clone(),
            firstname: u.firstname.clone(),
            lastname: u.lastname.clone(),
            department: u.profile.get("department").cloned().unwrap_or_default(),
            password: String::new(),
            site_admin: (u.site_role == crate::domain::SiteRole::SiteAdmin).then(|| "1".into()),
        }
    }
}

fn form_page(
    page: &SitePage,
    form: UserForm,
    errors: FormErrors,
    existing: Option<(UserId, &User)>,
) -> FormPage {
    let (heading, action, existing) = match existing {
        Some((id, u)) => (
            format!("Edit {}", u.full_name()),
            page.link(&format!("/users/{id}")),
            Some(Existing {
                suspended: u.status == UserStatus::Suspended,
                suspend_href: page.link(&format!("/users/{id}/suspend")),
                reactivate_action: page.link(&format!("/users/{id}/reactivate")),
            }),
        ),
        None => ("New user".to_owned(), page.link("/users"), None),
    };
    FormPage {
        layout: Layout::signed_in(page, &heading, Section::Users),
        heading,
        action,
        csrf: page.csrf().to_owned(),
        form: UserForm {
            // A password is never sent back into a page.
            password: String::new(),
            ..form
        },
        errors,
        existing,
        cancel: page.link("/users"),
    }
}

async fn new_form(page: SitePage) -> Result<HttpResponse, HttpError> {
    // Opening the form asks the service too, so a non-admin is refused
    // here and not only when saving.
    let services = page.site.services.clone();
    let who = page.principal().clone();
    blocking(move || services.list_users(&who, None, None, 1)).await?;
    render(
        &form_page(&page, UserForm::default(), FormErrors::none(), None),
        StatusCode::OK,
    )
}

async fn create(post: SitePost<UserForm>) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let mut profile = BTreeMap::new();
    if !form.department.trim().is_empty() {
        profile.insert("department".to_owned(), form.department.trim().to_owned());
    }
    let new = NewUser {
        username: form.username.clone(),
        email: form.email.clone(),
        firstname: form.firstname.clone(),
        lastname: form.lastname.clone(),
        password: Some(form.password.clone()).filter(|p| !p.is_empty()),
        site_admin: form.admin(),
        profile,
    };
    let services = page.site.services.clone();
    let who = page.principal().clone();
    match form_outcome(blocking(move || services.create_user(&who, new)).await)? {
        Ok(user) => Ok(page.done(
            &format!("/users/{}", user.id),
            format!("User {} created.", user.full_name()),
        )),
        Err(errors) => {
            let view = form_page(&page, form, errors, None);
            render(&view, status_for(&view.errors))
        }
    }
}

async fn load(page: &SitePage, id: UserId) -> Result<User, HttpError> {
    let services = page.site.services.clone();
    let who = page.principal().clone();
    blocking(move || services.get_user(&who, id)).await
}

async fn edit_form(page: SitePage, path: web::Path<IdPath>) -> Result<HttpResponse, HttpError> {
    let id = UserId(path.user);
    let user = load(&page, id).await?;
    let view = form_page(
        &page,
        UserForm::of(&user),
        FormErrors::none(),
        Some((id, &user)),
    );
    render(&view, StatusCode::OK)
}

async fn update(
    post: SitePost<UserForm>,
    path: web::Path<IdPath>,
) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let id = UserId(path.user);
    let mut profile = BTreeMap::new();
    // An empty value removes the field (UserUpdate's rule).
    profile.insert("department".to_owned(), form.department.trim().to_owned());
    let update = UserUpdate {
        username: Some(form.username.clone()),
        email: Some(form.email.clone()),
        firstname: Some(form.firstname.clone()),
        lastname: Some(form.lastname.clone()),
        site_admin: Some(form.admin()),
        profile,
        password: Some(form.password.clone()).filter(|p| !p.is_empty()),
    };
    let services = page.site.services.clone();
    let who = page.principal().clone();
    match form_outcome(blocking(move || services.update_user(&who, id, update)).await)? {
        Ok(user) => Ok(page.done(
            &format!("/users/{id}"),
            format!("Changes to {} saved.", user.full_name()),
        )),
        Err(errors) => {
            let user = load(&page, id).await?;
            let view = form_page(&page, form, errors, Some((id, &user)));
            render(&view, status_for(&view.errors))
        }
    }
}

async fn confirm_suspend(
    page: SitePage,
    path: web::Path<IdPath>,
) -> Result<HttpResponse, HttpError> {
    let id = UserId(path.user);
    let user = load(&page, id).await?;
    let heading = format!("Suspend {}?", user.full_name());
    let view = ConfirmPage {
        layout: Layout::signed_in(&page, &heading, Section::Users),
        heading,
        effects: vec![
            format!("{} ({}) will no longer be able to sign in.", user.full_name(), user.username),
            "Their enrolments, segment and group memberships stay; enrolment methods treat them as suspended (segment sync may suspend their enrolments).".to_owned(),
            "You can reactivate the account at any time.".to_owned(),
        ],
        action: page.link(&format!("/users/{id}/suspend")),
        csrf: page.csrf().to_owned(),
        button: "Suspend user".to_owned(),
        cancel: page.link(&format!("/users/{id}")),
    };
    render(&view, StatusCode::OK)
}

#[derive(serde::Deserialize)]
pub(crate) struct Empty {}

async fn suspend(
    post: SitePost<Empty>,
    path: web::Path<IdPath>,
) -> Result<HttpResponse, HttpError> {
    let page = post.page;
    let id = UserId(path.user);
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let user = blocking(move || services.suspend_user(&who, id)).await?;
    Ok(page.done(
        &format!("/users/{id}"),
        format!("{} is suspended.", user.full_name()),
    ))
}

async fn reactivate(
    post: SitePost<Empty>,
    path: web::Path<IdPath>,
) -> Result<HttpResponse, HttpError> {
    let page = post.page;
    let id = UserId(path.user);
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let user = blocking(move || services.reactivate_user(&who, id)).await?;
    Ok(page.done(
        &format!("/users/{id}"),
        format!("{} is active again.", user.full_name()),
    ))
}
