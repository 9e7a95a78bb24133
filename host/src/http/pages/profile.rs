//! A signed-in user's own profile: the site's custom profile fields shown
//! to them, the unlocked ones as inputs and the locked ones as text (only
//! site admins change those). Fields hidden from users are not shown.
//! Linked from the preferences page.

use std::collections::BTreeMap;

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use askama::Template;

use super::super::{HttpError, blocking};
use super::forms::{FormErrors, form_outcome, render, status_for};
use super::profile_inputs::{ProfileInput, display_value, inputs, typed_values, values_to_save};
use super::session::{SitePage, SitePost};
use super::{Layout, Section, page_routes};
use crate::domain::{ProfileField, User};
use crate::services::ServiceError;

page_routes! {
    get "/profile" => show, SignedIn;
    post "/profile" => save, SignedIn;
}

/// A locked field's value, as text.
pub(crate) struct LockedRow {
    pub label: String,
    pub value: String,
}

#[derive(Template)]
#[template(path = "pages/profile.html")]
pub(crate) struct ProfilePage {
    pub layout: Layout,
    pub csrf: String,
    pub action: String,
    /// False for an operator visiting the site: they have no profile here.
    pub is_user: bool,
    /// The fields the user may change.
    pub profile: Vec<ProfileInput>,
    /// The fields the user sees but only site admins change.
    pub locked: Vec<LockedRow>,
    pub profile_error: Option<String>,
    pub errors: FormErrors,
    pub preferences_href: String,
}

/// The fields shown to users, and the visitor's own record (none for an
/// operator).
async fn mine(page: &SitePage) -> Result<(Vec<ProfileField>, Option<User>), HttpError> {
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let me = page.principal().site_user_id(page.site.services.site().id);
    blocking(move || {
        let fields = services.list_profile_fields(&who)?;
        let user = me.map(|me| services.get_user(&who, me)).transpose()?;
        Ok((fields, user))
    })
    .await
}

fn shown(fields: &[ProfileField]) -> impl Iterator<Item = &ProfileField> {
    fields.iter().filter(|f| f.visible_to_user)
}

fn editable(fields: &[ProfileField]) -> impl Iterator<Item = &ProfileField> {
    shown(fields).filter(|f| !f.locked)
}

/// The page, the inputs holding `typed` (what was just posted) or, when
/// there is none, the user's stored values.
fn profile_page(
    page: &SitePage,
    fields: &[ProfileField],
    user: Option<&User>,
    typed: Option<BTreeMap<String, String>>,
    errors: FormErrors,
) -> ProfilePage {
    let stored = user.map(|u| u.profile.clone()).unwrap_or_default();
    let profile_error = errors.get("profile").map(str::to_owned);
    let editable: Vec<&ProfileField> = editable(fields).collect();
    let values = typed.unwrap_or_else(|| stored.clone());
    ProfilePage {
        layout: Layout::signed_in(page, "Your profile", Section::Preferences),
        csrf: page.csrf().to_owned(),
        action: page.link("/profile"),
        is_user: user.is_some(),
        profile: inputs(&editable, &values, false, profile_error.as_deref()),
        locked: shown(fields)
            .filter(|f| f.locked)
            .map(|f| LockedRow {
                label: f.name.clone(),
                value: display_value(f, stored.get(&f.shortname).map(String::as_str)),
            })
            .collect(),
        profile_error,
        errors,
        preferences_href: page.link("/preferences"),
    }
}

async fn show(page: SitePage) -> Result<HttpResponse, HttpError> {
    let (fields, user) = mine(&page).await?;
    let view = profile_page(&page, &fields, user.as_ref(), None, FormErrors::none());
    render(&view, StatusCode::OK)
}

async fn save(post: SitePost<Vec<(String, String)>>) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let typed = typed_values(&form);
    let (fields, user) = mine(&page).await?;
    let Some(me) = user.as_ref().map(|u| u.id) else {
        return Err(HttpError::Service(ServiceError::Forbidden(
            "an operator has no profile on a site".into(),
        )));
    };
    // The fields the user may change, each sent (empty: no value); any
    // other input posted is left out, so a locked field stays as it is.
    let values = values_to_save(editable(&fields), &typed);
    let services = page.site.services.clone();
    let who = page.principal().clone();
    match form_outcome(blocking(move || services.update_own_profile(&who, me, values)).await)? {
        Ok(_) => Ok(page.done("/profile", "Your profile is saved.")),
        Err(errors) => {
            let view = profile_page(&page, &fields, user.as_ref(), Some(typed), errors);
            render(&view, status_for(&view.errors))
        }
    }
}
