//! Users of a site: list and search, create, edit (with their custom
//! profile fields, see `profile_inputs`), suspend and reactivate.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::super::{HttpError, blocking};
use super::forms::{
    ConfirmPage, FormErrors, ListQuery, PAGE_SIZE, cursor, form_outcome, page_links, render,
    search_of, status_for, ticked,
};
use super::profile_inputs::{ProfileInput, inputs, typed_values, values_to_save};
use super::session::{SitePage, SitePost};
use super::{Layout, Section, page_routes};
use crate::domain::{ProfileField, User, UserId, UserStatus};
use crate::services::users::{NewUser, ProfileCheck, UserUpdate};

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
    pub fields_href: String,
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
        fields_href: page.link("/profile-fields"),
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
#[derive(Default, Clone)]
pub(crate) struct UserForm {
    username: String,
    email: String,
    firstname: String,
    lastname: String,
    password: String,
    site_admin: Option<String>,
    /// The profile field inputs, by short name.
    profile: BTreeMap<String, String>,
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
    /// The site's profile fields, each an input.
    pub profile: Vec<ProfileInput>,
    /// A refusal about the profile values, shown above their inputs.
    pub profile_error: Option<String>,
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
            password: String::new(),
            site_admin: (u.site_role == crate::domain::SiteRole::SiteAdmin).then(|| "1".into()),
            profile: u.profile.clone(),
        }
    }

    /// A posted form; a checkbox left out is unticked.
    fn from_pairs(pairs: &[(String, String)]) -> Self {
        let mut form = Self {
            profile: typed_values(pairs),
            ..Self::default()
        };
        for (k, v) in pairs {
            let slot = match k.as_str() {
                "username" => &mut form.username,
                "email" => &mut form.email,
                "firstname" => &mut form.firstname,
                "lastname" => &mut form.lastname,
                "password" => &mut form.password,
                "site_admin" => {
                    form.site_admin = Some(v.clone());
                    continue;
                }
                _ => continue,
            };
            slot.clone_from(v);
        }
        form
    }
}

fn form_page(
    page: &SitePage,
    form: UserForm,
    errors: FormErrors,
    fields: &[ProfileField],
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
    let profile_error = errors.get("profile").map(str::to_owned);
    let fields: Vec<&ProfileField> = fields.iter().collect();
    FormPage {
        layout: Layout::signed_in(page, &heading, Section::Users),
        heading,
        action,
        csrf: page.csrf().to_owned(),
        profile: inputs(&fields, &form.profile, true, profile_error.as_deref()),
        profile_error,
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

/// The site's profile fields, in form order.
async fn profile_fields(page: &SitePage) -> Result<Vec<ProfileField>, HttpError> {
    let services = page.site.services.clone();
    let who = page.principal().clone();
    blocking(move || services.list_profile_fields(&who)).await
}

async fn new_form(page: SitePage) -> Result<HttpResponse, HttpError> {
    // Opening the form asks the service too, so a non-admin is refused
    // here and not only when saving.
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let fields = blocking(move || {
        services.list_users(&who, None, None, 1)?;
        services.list_profile_fields(&who)
    })
    .await?;
    render(
        &form_page(
            &page,
            UserForm::default(),
            FormErrors::none(),
            &fields,
            None,
        ),
        StatusCode::OK,
    )
}

async fn create(post: SitePost<Vec<(String, String)>>) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let form = UserForm::from_pairs(&form);
    let fields = profile_fields(&page).await?;
    // Every field of the form, an empty one meaning no value.
    let profile = values_to_save(&fields, &form.profile);
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
    let created = blocking(move || services.create_user_with(&who, new, ProfileCheck::Complete));
    match form_outcome(created.await)? {
        Ok(user) => Ok(page.done(
            &format!("/users/{}", user.id),
            format!("User {} created.", user.full_name()),
        )),
        Err(errors) => {
            let view = form_page(&page, form, errors, &fields, None);
            render(&view, status_for(&view.errors))
        }
    }
}

async fn load(page: &SitePage, id: UserId) -> Result<User, HttpError> {
    let services = page.site.services.clone();
    let who = page.principal().clone();
    blocking(move || services.get_user(&who, id)).await
}

/// The user `id` and the site's profile fields.
async fn load_with_fields(
    page: &SitePage,
    id: UserId,
) -> Result<(User, Vec<ProfileField>), HttpError> {
    let services = page.site.services.clone();
    let who = page.principal().clone();
    blocking(move || {
        Ok((
            services.get_user(&who, id)?,
            services.list_profile_fields(&who)?,
        ))
    })
    .await
}

async fn edit_form(page: SitePage, path: web::Path<IdPath>) -> Result<HttpResponse, HttpError> {
    let id = UserId(path.user);
    let (user, fields) = load_with_fields(&page, id).await?;
    let view = form_page(
        &page,
        UserForm::of(&user),
        FormErrors::none(),
        &fields,
        Some((id, &user)),
    );
    render(&view, StatusCode::OK)
}

async fn update(
    post: SitePost<Vec<(String, String)>>,
    path: web::Path<IdPath>,
) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let form = UserForm::from_pairs(&form);
    let id = UserId(path.user);
    let fields = profile_fields(&page).await?;
    // Every field of the form: an empty value removes one (UserUpdate's
    // rule).
    let profile = values_to_save(&fields, &form.profile);
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
    let updated =
        blocking(move || services.update_user_with(&who, id, update, ProfileCheck::Complete));
    match form_outcome(updated.await)? {
        Ok(user) => Ok(page.done(
            &format!("/users/{id}"),
            format!("Changes to {} saved.", user.full_name()),
        )),
        Err(errors) => {
            let user = load(&page, id).await?;
            let view = form_page(&page, form, errors, &fields, Some((id, &user)));
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
