//! Who calls the API, and for which site.
//!
//! [`ApiCaller`] authenticates `Authorization: Bearer <token>` through the
//! token service (an unknown or revoked token is 401 at once), or as this
//! process's loopback operator credential (see `operator_credential`),
//! which is refused (403) on a connection that is not from this machine. [`SiteApi`]
//! adds the site named by the host or the `/s/{slug}` prefix. The caller is
//! authenticated before the site is looked up, so an anonymous client
//! learns nothing about which sites exist. A suspended site is not refused
//! here: the services refuse its users and let operators through.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};

use crate::http::operator_credential::from_this_machine;
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

/// What a request presents: its bearer secret, and whether it came from
/// this machine (which only the operator credential asks).
struct Presented {
    secret: Option<String>,
    from_this_machine: bool,
}

fn presented(req: &HttpRequest) -> Presented {
    Presented {
        secret: bearer(req),
        from_this_machine: from_this_machine(req),
    }
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

async fn authenticate(
    state: web::Data<AppState>,
    presented: Presented,
) -> Result<ApiCaller, HttpError> {
    let services = state.services().clone();
    let secret = presented.secret.ok_or(HttpError::Unauthenticated)?;
    if state
        .operator_credential()
        .is_some_and(|c| c.matches(&secret))
    {
        if !presented.from_this_machine {
            return Err(HttpError::NotLocal);
        }
        let who = {
            let services = services.clone();
            blocking(move || services.console_operator()).await?
        };
        return Ok(ApiCaller { who, services });
    }
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
        let presented = presented(req);
        Box::pin(async move { Ok(authenticate(state?, presented).await?) })
    }
}

impl FromRequest for SiteApi {
    type Error = JsonError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, JsonError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = state(req);
        let presented = presented(req);
        let key = site::key_of(req);
        Box::pin(async move {
            let caller = authenticate(state?, presented).await?;
            let current = site::resolve(caller.services.clone(), key, SiteGate::Open).await?;
            Ok(SiteApi {
                who: caller.who,
                site: current.services,
            })
        })
    }
}
