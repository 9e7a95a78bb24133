//! JSON request bodies, read only once the caller is authorised for what
//! the request asks (issue 16, finding 8): a stranger or a learner posting
//! to a route they may not use hears 401 or 403, never a 400, 413, 415 or
//! 422 that would describe the body the route expects.
//!
//! [`JsonBody`] takes the request's payload without reading it; only
//! [`JsonBody::read`] reads and parses it, and it asks for an
//! [`Authorised`], which only the checks of this module make. So a handler
//! cannot parse a body before it has asked, and the compiler says so.
//! The check is the services' own ([`SiteServices::authorize_ask`],
//! [`authorize_operator`]); the service called next authorises again in its
//! transaction.

use std::future::{Ready, ready};
use std::marker::PhantomData;

use actix_web::dev::Payload;
use actix_web::error::JsonPayloadError;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;

use super::{ApiCaller, MAX_BODY, SiteApi, body_error, read_small_body};
use crate::http::{HttpError, JsonError, blocking};
use crate::services::auth::authorize_operator;
use crate::services::{Ask, SiteServices};

/// Proof that the caller may make the call a body is for.
pub(crate) struct Authorised(());

impl SiteApi {
    /// The caller may make a call that asks `ask` of this site.
    pub(crate) async fn authorise(&self, ask: Ask) -> Result<Authorised, HttpError> {
        let site: SiteServices = self.site.clone();
        let who = self.who.clone();
        blocking(move || site.authorize_ask(&who, ask)).await?;
        Ok(Authorised(()))
    }
}

impl SiteApi {
    /// The caller may make a call that `check` (a service's own
    /// authorisation, for what an [`Ask`] does not name, such as an
    /// activity or a submission) allows.
    pub(crate) async fn authorise_with(
        &self,
        check: impl FnOnce(
            &SiteServices,
            &crate::services::Principal,
        ) -> crate::services::ServiceResult<()>
        + Send
        + 'static,
    ) -> Result<Authorised, HttpError> {
        let site: SiteServices = self.site.clone();
        let who = self.who.clone();
        blocking(move || check(&site, &who)).await?;
        Ok(Authorised(()))
    }
}

impl ApiCaller {
    /// The caller is an operator.
    pub(crate) fn authorise_operator(&self) -> Result<Authorised, HttpError> {
        authorize_operator(&self.who)?;
        Ok(Authorised(()))
    }
}

/// A JSON request body of type `T`, not yet read.
pub(crate) struct JsonBody<T> {
    payload: web::Payload,
    /// Its `Content-Length`: a body declared too large is refused unread.
    declared: Option<usize>,
    is_json: bool,
    wants: PhantomData<fn() -> T>,
}

impl<T> FromRequest for JsonBody<T> {
    type Error = JsonError;
    type Future = Ready<Result<Self, JsonError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(is_json);
        // Taking the payload reads nothing of it.
        let taken = web::Payload::from_request(req, payload).into_inner();
        ready(match taken {
            Ok(payload) => Ok(JsonBody {
                payload,
                declared: crate::http::body::declared_length(req),
                is_json,
                wants: PhantomData,
            }),
            Err(e) => Err(HttpError::Internal(format!("request payload: {e}")).into()),
        })
    }
}

/// `application/json` or a `+json` type, parameters aside, as
/// `web::Json` accepts.
fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    kind.eq_ignore_ascii_case("application")
        && (subtype.eq_ignore_ascii_case("json") || subtype.to_ascii_lowercase().ends_with("+json"))
}

impl<T: DeserializeOwned> JsonBody<T> {
    /// Reads and parses the body, refusing it as `web::Json` would: 415
    /// without a JSON content type, 413 over [`MAX_BODY`], 400 for what is
    /// not JSON, 422 naming the field for JSON of the wrong shape.
    pub(crate) async fn read(self, _: Authorised) -> Result<T, HttpError> {
        if !self.is_json {
            return Err(HttpError::UnsupportedMediaType);
        }
        let bytes = read_small_body(self.declared, self.payload, MAX_BODY).await?;
        // serde's derived structs also read a JSON array as their fields in
        // order (`[[1]]` as `{"users":[1]}`); every body of this API is an
        // object, as its document says, so anything else valid is refused.
        let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
        if first != Some(&b'{') && serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).is_ok() {
            return Err(HttpError::BadField {
                field: None,
                message: "invalid type: the body must be a JSON object".into(),
            });
        }
        serde_json::from_slice(&bytes).map_err(|e| body_error(JsonPayloadError::Deserialize(e)))
    }
}
