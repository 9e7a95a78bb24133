//! A user's own preferences page: whether announcements also come as
//! e-mail (the inbox copy always stays), and the way to their own profile
//! (`profile`). The page an e-mail's `List-Unsubscribe` link opens.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use askama::Template;

use super::super::{HttpError, blocking};
use super::forms::{FormErrors, render, ticked};
use super::session::{SitePage, SitePost};
use super::{Layout, Section, page_routes};
use crate::domain::MessagePreferences;

page_routes! {
    get "/preferences" => show, SignedIn;
    post "/preferences" => save, SignedIn;
}

#[derive(Template)]
#[template(path = "pages/preferences.html")]
pub(crate) struct PreferencesPage {
    pub layout: Layout,
    pub csrf: String,
    pub action: String,
    pub announcement_emails: bool,
    pub mail_configured: bool,
    /// The checkbox macro's errors; this form has none.
    pub errors: FormErrors,
    /// The user's own profile page.
    pub profile_href: String,
}

async fn show(page: SitePage) -> Result<HttpResponse, HttpError> {
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let me = page.principal().site_user_id(page.site.services.site().id);
    let (prefs, configured) = blocking(move || {
        let prefs = match me {
            Some(me) => services.message_preferences(&who, me)?,
            // An operator visiting a site has no preferences of their own.
            None => MessagePreferences::default(),
        };
        Ok((prefs, services.mail_configured()?))
    })
    .await?;
    let view = PreferencesPage {
        layout: Layout::signed_in(&page, "Preferences", Section::Preferences),
        csrf: page.csrf().to_owned(),
        action: page.link("/preferences"),
        announcement_emails: prefs.announcement_emails,
        mail_configured: configured,
        errors: FormErrors::none(),
        profile_href: page.link("/profile"),
    };
    render(&view, StatusCode::OK)
}

#[derive(serde::Deserialize)]
pub(crate) struct PreferencesForm {
    announcement_emails: Option<String>,
}

async fn save(post: SitePost<PreferencesForm>) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let me = page.principal().site_user_id(page.site.services.site().id);
    let prefs = MessagePreferences {
        announcement_emails: ticked(&form.announcement_emails),
    };
    blocking(move || match me {
        Some(me) => services
            .set_message_preferences(&who, me, prefs)
            .map(|_| ()),
        None => Err(crate::services::ServiceError::Forbidden(
            "an operator has no preferences on a site".into(),
        )),
    })
    .await?;
    Ok(page.done(
        "/preferences",
        if prefs.announcement_emails {
            "Announcements will also come by e-mail."
        } else {
            "Announcements will no longer come by e-mail; your inbox keeps them."
        },
    ))
}
