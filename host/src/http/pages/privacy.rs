//! The site's privacy page (issue 18): whether learners see the e-mail
//! addresses of the participants they see. Site admins.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use askama::Template;

use super::super::{HttpError, blocking};
use super::forms::{FormErrors, render, ticked};
use super::session::{SitePage, SitePost};
use super::{Layout, Section, page_routes};
use crate::domain::SitePrivacy;

page_routes! {
    get "/settings/privacy" => show, SiteAdmin;
    post "/settings/privacy" => save, SiteAdmin;
}

#[derive(Template)]
#[template(path = "pages/privacy.html")]
pub(crate) struct PrivacyPage {
    pub layout: Layout,
    pub csrf: String,
    pub action: String,
    pub learners_see_emails: bool,
    /// The checkbox macro's errors; this form has none.
    pub errors: FormErrors,
}

async fn show(page: SitePage) -> Result<HttpResponse, HttpError> {
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let privacy = blocking(move || services.site_privacy(&who)).await?;
    let view = PrivacyPage {
        layout: Layout::signed_in(&page, "Privacy", Section::Dashboard),
        csrf: page.csrf().to_owned(),
        action: page.link("/settings/privacy"),
        learners_see_emails: privacy.learners_see_emails,
        errors: FormErrors::none(),
    };
    render(&view, StatusCode::OK)
}

#[derive(serde::Deserialize)]
pub(crate) struct PrivacyForm {
    learners_see_emails: Option<String>,
}

async fn save(post: SitePost<PrivacyForm>) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let privacy = SitePrivacy {
        learners_see_emails: ticked(&form.learners_see_emails),
    };
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let saved = blocking(move || services.set_site_privacy(&who, &privacy)).await?;
    Ok(page.done(
        "/settings/privacy",
        if saved.learners_see_emails {
            "Learners now see the e-mail addresses of the participants they see."
        } else {
            "E-mail addresses are now hidden from learners."
        },
    ))
}
