//! Who calls the API, and for which site.
//!
//! [`ApiCaller`] authenticates `Authorization: Bearer <token>` through the
//! token service (an unknown or revoked token is 401 at once). [`SiteApi`]
//! adds the site named by the host or the `/s/{slug}` prefix. The caller is
//! authenticated before the site is looked up, so an anonymous client
//! learns nothing about which sites exist. A suspended site is not refused
//! here: the services refuse its users and let operators through.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};

use crate::http::site::{self, SiteGate};
use crate::http::{AppState, HttpError, JsonError, blocking};
use crate::services::{Principal, Services, SiteServices};

/// An authenticated API client.
pub(crate) struct ApiCaller {
    pub who: Principal,
    pub services: Services,
}

/// An authenticated API client and the site the request is for.
pub(crate) struct SiteApi {
    pub who: Principal,
    pub site: SiteServices,
}

fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

fn state(req: &HttpRequest) -> Result<web::Data<AppState>, HttpError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| HttpError::Internal("AppState is not registered".into()))
}

async fn authenticate(services: Services, secret: Option<String>) -> Result<ApiCaller, HttpError> {
    let secret = secret.ok_or(HttpError::Unauthenticated)?;
    let found = {
        let services = services.clone();
        blocking(move || services.authenticate_token(&secret)).await?
    };
    let (_, who) = found.ok_or(HttpError::Unauthenticated)?;
    Ok(ApiCaller { who, services })
}

impl FromRequest for ApiCaller {
    type Error = JsonError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, JsonError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = state(req);
        let secret = bearer(req);
        Box::pin(async move { Ok(authenticate(state?.services().clone(), secret).await?) })
    }
}

impl FromRequest for SiteApi {
    type Error = JsonError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, JsonError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = state(req);
        let secret = bearer(req);
        let key = site::key_of(req);
        Box::pin(async move {
            let caller = authenticate(state?.services().clone(), secret).await?;
            let current = site::resolve(caller.services.clone(), key, SiteGate::Open).await?;
            Ok(SiteApi {
                who: caller.who,
                site: current.services,
            })
        })
    }
}
