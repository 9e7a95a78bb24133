//! Custom user profile fields (Moodle's "User profile fields"): the list,
//! a new field, editing one (its short name and kind stay as made) and
//! deleting one, with every user's value of it, after a confirmation.
//! Their values are filled in on the user form and, for the fields a user
//! sees and may change, on their own profile page.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::super::{HttpError, blocking};
use super::forms::{ConfirmPage, Empty, FormErrors, form_outcome, render, status_for, ticked};
use super::session::{SitePage, SitePost};
use super::words::count;
use super::{Layout, Section, page_routes};
use crate::domain::{ProfileField, ProfileFieldId, ProfileFieldKind};
use crate::services::profile_fields::{NewProfileField, ProfileFieldUpdate};

page_routes! {
    get "/profile-fields" => list, SiteAdmin;
    get "/profile-fields/new" => new_form, SiteAdmin;
    post "/profile-fields/new" => create, SiteAdmin;
    get "/profile-fields/{field}/edit" => edit_form, SiteAdmin;
    post "/profile-fields/{field}/edit" => update, SiteAdmin;
    get "/profile-fields/{field}/delete" => confirm_delete, SiteAdmin;
    post "/profile-fields/{field}/delete" => delete, SiteAdmin;
}

#[derive(serde::Deserialize)]
pub(crate) struct IdPath {
    field: u64,
}

/// The kinds a new field may have: `(value, label)` for the select.
const KINDS: [(&str, &str); 4] = [
    ("text", "Text"),
    ("menu", "Menu of choices"),
    ("checkbox", "Checkbox"),
    ("date", "Date"),
];

fn kind_label(kind: &ProfileFieldKind) -> &'static str {
    KINDS
        .iter()
        .find(|(v, _)| *v == kind.as_str())
        .map_or("", |(_, l)| *l)
}

/// Asks the service whether the visitor administers the site (listing
/// users is for site admins): profile fields are listed for any member,
/// but these pages, and what they check before saving, are not.
async fn ensure_admin(page: &SitePage) -> Result<(), HttpError> {
    let services = page.site.services.clone();
    let who = page.principal().clone();
    blocking(move || services.list_users(&who, None, None, 1).map(drop)).await
}

// ------------------------------------------------------------------ list

pub(crate) struct FieldRow {
    pub name: String,
    pub shortname: String,
    /// Its kind in words; a menu's with its choices.
    pub kind: String,
    pub required: bool,
    pub visible_to_user: bool,
    pub locked: bool,
    pub edit_href: String,
    pub delete_href: String,
}

#[derive(Template)]
#[template(path = "pages/profile_fields/list.html")]
pub(crate) struct ListPage {
    pub layout: Layout,
    pub rows: Vec<FieldRow>,
    pub new_href: String,
    pub users_href: String,
}

async fn list(page: SitePage) -> Result<HttpResponse, HttpError> {
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let fields = blocking(move || {
        // Any member may list them (their own form does); this page is
        // for site admins.
        services.list_users(&who, None, None, 1)?;
        services.list_profile_fields(&who)
    })
    .await?;
    let rows = fields
        .into_iter()
        .map(|f| FieldRow {
            kind: match &f.kind {
                ProfileFieldKind::Menu { choices } => {
                    format!("{}: {}", kind_label(&f.kind), choices.join(", "))
                }
                other => kind_label(other).to_owned(),
            },
            edit_href: page.link(&format!("/profile-fields/{}/edit", f.id)),
            delete_href: page.link(&format!("/profile-fields/{}/delete", f.id)),
            required: f.required,
            visible_to_user: f.visible_to_user,
            locked: f.locked,
            shortname: f.shortname,
            name: f.name,
        })
        .collect();
    let view = ListPage {
        layout: Layout::signed_in(&page, "Profile fields", Section::Users),
        rows,
        new_href: page.link("/profile-fields/new"),
        users_href: page.link("/users"),
    };
    render(&view, StatusCode::OK)
}

// ------------------------------------------------------------ the form

/// The fields of the profile field form, as typed. `choices` is absent
/// when the form has no choices input (editing a field that is no menu).
#[derive(serde::Deserialize, Default, Clone)]
pub(crate) struct FieldForm {
    #[serde(default)]
    shortname: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    choices: Option<String>,
    required: Option<String>,
    visible_to_user: Option<String>,
    locked: Option<String>,
    #[serde(default)]
    position: String,
}

impl FieldForm {
    fn required(&self) -> bool {
        ticked(&self.required)
    }

    fn visible_to_user(&self) -> bool {
        ticked(&self.visible_to_user)
    }

    fn locked(&self) -> bool {
        ticked(&self.locked)
    }

    fn choices_text(&self) -> &str {
        self.choices.as_deref().unwrap_or("")
    }

    /// The choices, one a line, blank lines left out.
    fn choice_list(&self) -> Vec<String> {
        self.choices_text()
            .lines()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// The kind chosen, or why there is none.
    fn kind(&self) -> Result<ProfileFieldKind, &'static str> {
        Ok(match self.kind.trim() {
            "text" => ProfileFieldKind::Text,
            "menu" => ProfileFieldKind::Menu {
                choices: self.choice_list(),
            },
            "checkbox" => ProfileFieldKind::Checkbox,
            "date" => ProfileFieldKind::Date,
            _ => return Err("choose what the field holds"),
        })
    }

    /// The position typed; blank is none (last, or as it is).
    fn position(&self) -> Result<Option<u32>, &'static str> {
        let p = self.position.trim();
        if p.is_empty() {
            return Ok(None);
        }
        p.parse()
            .map(Some)
            .map_err(|_| "is not a whole number such as 3")
    }

    fn of(f: &ProfileField) -> Self {
        Self {
            shortname: f.shortname.clone(),
            name: f.name.clone(),
            kind: f.kind.as_str().to_owned(),
            choices: match &f.kind {
                ProfileFieldKind::Menu { choices } => Some(choices.join("\n")),
                _ => None,
            },
            required: f.required.then(|| "1".to_owned()),
            visible_to_user: f.visible_to_user.then(|| "1".to_owned()),
            locked: f.locked.then(|| "1".to_owned()),
            position: f.position.to_string(),
        }
    }
}

#[derive(Template)]
#[template(path = "pages/profile_fields/form.html")]
pub(crate) struct FormPage {
    pub layout: Layout,
    pub heading: String,
    pub action: String,
    pub csrf: String,
    pub form: FieldForm,
    pub errors: FormErrors,
    /// The kinds, for a new field's select.
    pub kinds: Vec<(String, String)>,
    /// Set when editing: the field's short name and kind, which stay.
    pub existing: Option<Existing>,
    pub button: &'static str,
    pub cancel: String,
}

pub(crate) struct Existing {
    pub shortname: String,
    pub kind: String,
    pub is_menu: bool,
}

fn form_page(
    page: &SitePage,
    form: FieldForm,
    errors: FormErrors,
    existing: Option<&ProfileField>,
) -> FormPage {
    let (heading, action, button) = match existing {
        Some(f) => (
            format!("Edit the profile field {}", f.name),
            page.link(&format!("/profile-fields/{}/edit", f.id)),
            "Save changes",
        ),
        None => (
            "New profile field".to_owned(),
            page.link("/profile-fields/new"),
            "Add profile field",
        ),
    };
    FormPage {
        layout: Layout::signed_in(page, &heading, Section::Users),
        heading,
        action,
        csrf: page.csrf().to_owned(),
        form,
        errors,
        kinds: KINDS
            .iter()
            .map(|(v, l)| ((*v).to_owned(), (*l).to_owned()))
            .collect(),
        existing: existing.map(|f| Existing {
            shortname: f.shortname.clone(),
            kind: kind_label(&f.kind).to_owned(),
            is_menu: matches!(f.kind, ProfileFieldKind::Menu { .. }),
        }),
        button,
        cancel: page.link("/profile-fields"),
    }
}

async fn new_form(page: SitePage) -> Result<HttpResponse, HttpError> {
    ensure_admin(&page).await?;
    let form = FieldForm {
        kind: "text".to_owned(),
        visible_to_user: Some("1".to_owned()),
        ..FieldForm::default()
    };
    render(
        &form_page(&page, form, FormErrors::none(), None),
        StatusCode::OK,
    )
}

/// Re-renders a refused form with `errors` (422).
fn refused(
    page: &SitePage,
    form: FieldForm,
    errors: FormErrors,
    existing: Option<&ProfileField>,
) -> Result<HttpResponse, HttpError> {
    let view = form_page(page, form, errors, existing);
    render(&view, status_for(&view.errors))
}

async fn create(post: SitePost<FieldForm>) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let (kind, position) = match (form.kind(), form.position()) {
        (Ok(kind), Ok(position)) => (kind, position),
        (kind, position) => {
            // Only an admin hears what the form lacks.
            ensure_admin(&page).await?;
            let mut errors = FormErrors::none();
            if let Err(m) = kind {
                errors.add("kind", m);
            }
            if let Err(m) = position {
                errors.add("position", m);
            }
            return refused(&page, form, errors, None);
        }
    };
    let new = NewProfileField {
        shortname: form.shortname.trim().to_owned(),
        name: form.name.clone(),
        kind,
        required: form.required(),
        visible_to_user: form.visible_to_user(),
        locked: form.locked(),
        position,
    };
    let services = page.site.services.clone();
    let who = page.principal().clone();
    match form_outcome(blocking(move || services.create_profile_field(&who, new)).await)? {
        Ok(field) => Ok(page.done(
            "/profile-fields",
            format!("Profile field {} created.", field.name),
        )),
        Err(errors) => refused(&page, form, errors, None),
    }
}

async fn load(page: &SitePage, id: ProfileFieldId) -> Result<ProfileField, HttpError> {
    let services = page.site.services.clone();
    let who = page.principal().clone();
    blocking(move || services.get_profile_field(&who, id)).await
}

async fn edit_form(page: SitePage, path: web::Path<IdPath>) -> Result<HttpResponse, HttpError> {
    let field = load(&page, ProfileFieldId(path.field)).await?;
    let view = form_page(
        &page,
        FieldForm::of(&field),
        FormErrors::none(),
        Some(&field),
    );
    render(&view, StatusCode::OK)
}

async fn update(
    post: SitePost<FieldForm>,
    path: web::Path<IdPath>,
) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let id = ProfileFieldId(path.field);
    let position = match form.position() {
        Ok(position) => position,
        Err(m) => {
            // Loading the field refuses whoever may not edit it.
            let field = load(&page, id).await?;
            let mut errors = FormErrors::none();
            errors.add("position", m);
            return refused(&page, form, errors, Some(&field));
        }
    };
    let update = ProfileFieldUpdate {
        name: Some(form.name.clone()),
        // Only a menu's form has the choices input.
        choices: form.choices.is_some().then(|| form.choice_list()),
        required: Some(form.required()),
        visible_to_user: Some(form.visible_to_user()),
        locked: Some(form.locked()),
        position,
    };
    let services = page.site.services.clone();
    let who = page.principal().clone();
    match form_outcome(blocking(move || services.update_profile_field(&who, id, update)).await)? {
        Ok(field) => Ok(page.done(
            "/profile-fields",
            format!("Changes to the profile field {} saved.", field.name),
        )),
        Err(errors) => {
            let field = load(&page, id).await?;
            refused(&page, form, errors, Some(&field))
        }
    }
}

// -------------------------------------------------------------- delete

async fn confirm_delete(
    page: SitePage,
    path: web::Path<IdPath>,
) -> Result<HttpResponse, HttpError> {
    let field = load(&page, ProfileFieldId(path.field)).await?;
    let heading = format!("Delete the profile field {}?", field.name);
    let view = ConfirmPage {
        layout: Layout::signed_in(&page, &heading, Section::Users),
        heading,
        effects: vec![
            format!(
                "The profile field {} (short name {}) will be deleted.",
                field.name, field.shortname
            ),
            format!(
                "Every user's value of {} will be deleted with it; this cannot be undone.",
                field.name
            ),
            format!(
                "User uploads can no longer fill a column profile_field_{}.",
                field.shortname
            ),
        ],
        action: page.link(&format!("/profile-fields/{}/delete", field.id)),
        csrf: page.csrf().to_owned(),
        button: "Delete profile field".to_owned(),
        cancel: page.link("/profile-fields"),
    };
    render(&view, StatusCode::OK)
}

async fn delete(post: SitePost<Empty>, path: web::Path<IdPath>) -> Result<HttpResponse, HttpError> {
    let page = post.page;
    let id = ProfileFieldId(path.field);
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let cleared = blocking(move || services.delete_profile_field(&who, id)).await?;
    let message = match cleared {
        0 => "Profile field deleted; no user had a value of it.".to_owned(),
        n => format!(
            "Profile field deleted; {} cleared.",
            count(n, "user's value was", "users' values were")
        ),
    };
    Ok(page.done("/profile-fields", message))
}
