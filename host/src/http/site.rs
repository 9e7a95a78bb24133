//! Which site a request is for.
//!
//! Under `/s/{slug}/…` the slug decides and the `Host` header is ignored;
//! anywhere else the `Host` header (port ignored) decides. An unknown site
//! is a 404; a suspended site answers 503 to everyone until operator
//! sign-in exists (PRODUCT §2: a suspended site serves no pages). This
//! extractor is the only place that resolves a site, so every page gets the
//! same routing and the same gate.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};

use super::{AppState, HttpError, blocking};
use crate::domain::SiteStatus;
use crate::services::{ServiceError, SiteServices};

/// The site a request is for, and how its pages link to each other.
pub(crate) struct CurrentSite {
    pub services: SiteServices,
    /// Prefix of the site's links: `""` when reached by host name,
    /// `/s/{slug}` when reached by path prefix. Links stay in the form the
    /// visitor used.
    pub base: String,
}

pub(crate) enum SiteKey {
    Slug(String),
    Host(String),
}

/// Whether a suspended site is refused at the door (pages) or left to the
/// services to refuse per principal (the API, where operators pass).
#[derive(Copy, Clone, PartialEq, Eq)]
pub(crate) enum SiteGate {
    RefuseSuspended,
    Open,
}

/// How a request names its site.
pub(crate) fn key_of(req: &HttpRequest) -> SiteKey {
    match req.match_info().get("slug") {
        Some(slug) => SiteKey::Slug(slug.to_owned()),
        None => SiteKey::Host(host_of(req)),
    }
}

impl FromRequest for CurrentSite {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, HttpError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let key = key_of(req);
        Box::pin(async move {
            let state =
                state.ok_or_else(|| HttpError::Internal("AppState is not registered".into()))?;
            resolve(state.services().clone(), key, SiteGate::RefuseSuspended).await
        })
    }
}

/// The `Host` header, or the authority of an absolute request URI.
fn host_of(req: &HttpRequest) -> String {
    req.headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()))
        .unwrap_or_default()
        .to_owned()
}

pub(crate) async fn resolve(
    services: crate::services::Services,
    key: SiteKey,
    gate: SiteGate,
) -> Result<CurrentSite, HttpError> {
    let (found, asked) = match key {
        SiteKey::Slug(slug) => {
            let asked = format!("/s/{slug}/");
            let found = blocking(move || match services.site_by_slug(&slug) {
                Ok(site) => Ok(Some(site)),
                Err(ServiceError::NotFound(_)) => Ok(None),
                Err(e) => Err(e),
            })
            .await?;
            (found.map(|s| (s, true)), asked)
        }
        SiteKey::Host(host) => {
            let asked = host.clone();
            let found = blocking(move || services.site_for_host(&host)).await?;
            (found.map(|s| (s, false)), asked)
        }
    };
    let Some((services, by_prefix)) = found else {
        return Err(HttpError::UnknownSite(asked));
    };
    let site = services.site();
    if gate == SiteGate::RefuseSuspended && site.status == SiteStatus::Suspended {
        return Err(HttpError::SiteSuspended {
            name: site.name.clone(),
        });
    }
    // The slug comes from the registry (validated `[a-z0-9-]`), not from
    // the request, so it is safe in a link.
    let base = if by_prefix {
        format!("/s/{}", site.slug)
    } else {
        String::new()
    };
    Ok(CurrentSite { services, base })
}
