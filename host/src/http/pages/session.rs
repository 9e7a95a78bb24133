//! Who is asking for a page, and whether a form really comes from us.
//!
//! Cookies: `charon_session` holds a site user's session secret, scoped to
//! the site's path (`/s/{slug}/` or `/`), so two sites on one host name
//! keep apart; `charon_operator` holds an operator's, on path `/`, so one
//! sign-in enters every site. Both are HttpOnly, SameSite=Lax, and Secure
//! when the request came over HTTPS. The secret is all the cookie holds;
//! the registry knows what it means (see `services::sessions`).
//!
//! Every state-changing page request is a POST whose form carries the
//! session's CSRF token (`csrf`); [`SitePost`] and [`OperatorPost`] refuse
//! a missing or wrong token before the handler runs, so a refused form
//! reaches no service. The sign-in forms, which have no session yet, use a
//! double-submit cookie instead ([`SignInCsrf`]).

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, web};
use serde::de::DeserializeOwned;

use super::super::site::{CurrentSite, SiteGate, key_of, resolve};
use super::super::{AppState, HttpError, blocking};
use crate::services::sessions::ActiveSession;
use crate::services::{Principal, Services};

pub(crate) const SITE_COOKIE: &str = "charon_session";
pub(crate) const OPERATOR_COOKIE: &str = "charon_operator";
pub(crate) const SIGN_IN_CSRF_COOKIE: &str = "charon_sign_in";
pub(crate) const FLASH_COOKIE: &str = "charon_flash";

/// Largest form body a page accepts (CSV uploads have their own limit).
pub(crate) const FORM_LIMIT: usize = 256 * 1024;

pub(crate) fn state(req: &HttpRequest) -> Result<Services, HttpError> {
    req.app_data::<web::Data<AppState>>()
        .map(|s| s.services().clone())
        .ok_or_else(|| HttpError::Internal("AppState is not registered".into()))
}

/// The cookie path of a site's pages: `/s/{slug}/` or `/`.
pub(crate) fn cookie_path(base: &str) -> String {
    format!("{base}/")
}

fn is_https(req: &HttpRequest) -> bool {
    req.connection_info().scheme() == "https"
}

/// A cookie with the attributes every cookie of ours has.
pub(crate) fn cookie(
    req: &HttpRequest,
    name: &'static str,
    value: String,
    path: String,
) -> Cookie<'static> {
    Cookie::build(name, value)
        .path(path)
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(is_https(req))
        .finish()
}

/// A cookie that tells the browser to forget `name` at `path`.
pub(crate) fn removal(req: &HttpRequest, name: &'static str, path: String) -> Cookie<'static> {
    let mut c = cookie(req, name, String::new(), path);
    c.make_removal();
    c
}

/// Every value the request carries for cookie `name`: a browser sends one
/// per matching path, most specific first.
fn cookie_values(req: &HttpRequest, name: &str) -> Vec<String> {
    req.cookies()
        .map(|jar| {
            jar.iter()
                .filter(|c| c.name() == name)
                .map(|c| c.value().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Where a page sends a visitor who is not signed in.
fn sign_in_location(base: &str, req: &HttpRequest) -> String {
    let next = match req.uri().path_and_query() {
        Some(pq) if req.method() == actix_web::http::Method::GET => pq.as_str().to_owned(),
        _ => format!("{base}/"),
    };
    format!("{base}/sign-in?next={}", url_escape(&next))
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
pub(crate) fn url_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A message shown once on the next page, after a redirect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Flash {
    pub kind: FlashKind,
    pub text: String,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum FlashKind {
    Success,
    Error,
}

impl Flash {
    pub fn success(text: impl Into<String>) -> Self {
        Self {
            kind: FlashKind::Success,
            text: text.into(),
        }
    }

    pub fn css_class(&self) -> &'static str {
        match self.kind {
            FlashKind::Success => "flash flash-success",
            FlashKind::Error => "flash flash-error",
        }
    }

    fn encode(&self) -> String {
        let kind = match self.kind {
            FlashKind::Success => 's',
            FlashKind::Error => 'e',
        };
        url_escape(&format!("{kind}{}", self.text))
    }

    fn decode(raw: &str) -> Option<Self> {
        let text = percent_decode(raw)?;
        let mut chars = text.chars();
        let kind = match chars.next()? {
            's' => FlashKind::Success,
            'e' => FlashKind::Error,
            _ => return None,
        };
        // A flash is ours and short; anything long was not set by us.
        let text: String = chars.take(500).collect();
        Some(Self { kind, text })
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

pub(crate) fn flash_of(req: &HttpRequest) -> Option<Flash> {
    cookie_values(req, FLASH_COOKIE)
        .first()
        .and_then(|v| Flash::decode(v))
}

/// Clears the flash cookie once a page has shown it: any successful HTML
/// answer to a request that brought one. The cookie's path is the site's
/// (`/s/{slug}/` or `/`), read off the request path as the router would.
pub(crate) fn consume_flash<S, B>(
    req: actix_web::dev::ServiceRequest,
    srv: &S,
) -> impl Future<Output = Result<actix_web::dev::ServiceResponse<B>, actix_web::Error>> + use<S, B>
where
    S: actix_web::dev::Service<
            actix_web::dev::ServiceRequest,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
{
    let had_flash = req
        .cookie(FLASH_COOKIE)
        .is_some_and(|c| !c.value().is_empty());
    let path = match req.path().strip_prefix("/s/") {
        Some(rest) => match rest.split_once('/') {
            Some((slug, _)) => format!("/s/{slug}/"),
            None => format!("/s/{rest}/"),
        },
        None => "/".to_owned(),
    };
    let https = req.connection_info().scheme() == "https";
    let response = srv.call(req);
    async move {
        let mut response = response.await?;
        let shown = response.status() == actix_web::http::StatusCode::OK
            && response
                .headers()
                .get(actix_web::http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("text/html"));
        if had_flash && shown {
            let mut c = Cookie::build(FLASH_COOKIE, "")
                .path(path)
                .http_only(true)
                .same_site(SameSite::Lax)
                .secure(https)
                .finish();
            c.make_removal();
            if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&c.to_string()) {
                response
                    .headers_mut()
                    .append(actix_web::http::header::SET_COOKIE, v);
            }
        }
        Ok(response)
    }
}

/// A 303 to `location` carrying `flash` for the page it lands on: the
/// answer to every successful form (post/redirect/get).
pub(crate) fn redirect_with(
    req: &HttpRequest,
    base: &str,
    location: &str,
    flash: Flash,
) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, location.to_owned()))
        .cookie(cookie(req, FLASH_COOKIE, flash.encode(), cookie_path(base)))
        .finish()
}

/// A signed-in request for a page of a site.
pub(crate) struct SitePage {
    pub site: CurrentSite,
    pub session: ActiveSession,
    /// The flash message the previous request left, shown once.
    pub flash: Option<Flash>,
    pub request: HttpRequest,
}

impl SitePage {
    pub fn principal(&self) -> &Principal {
        &self.session.principal
    }

    pub fn csrf(&self) -> &str {
        &self.session.session.csrf
    }

    pub fn base(&self) -> &str {
        &self.site.base
    }

    /// A site-relative link: `link("/users")` → `/s/acme/users`.
    pub fn link(&self, path: &str) -> String {
        format!("{}{path}", self.site.base)
    }

    /// The post/redirect/get answer to a form that did what it said.
    pub fn done(&self, path: &str, message: impl Into<String>) -> HttpResponse {
        redirect_with(
            &self.request,
            &self.site.base,
            &self.link(path),
            Flash::success(message),
        )
    }
}

/// Resolves the site and the session of a request: the site user's
/// session for this site, else an operator's.
async fn signed_in(req: HttpRequest) -> Result<SitePage, HttpError> {
    let services = state(&req)?;
    let site = resolve(services.clone(), key_of(&req), SiteGate::Open).await?;
    let mut candidates: Vec<String> = cookie_values(&req, SITE_COOKIE);
    candidates.extend(cookie_values(&req, OPERATOR_COOKIE));
    let site_services = site.services.clone();
    let found = blocking(move || {
        for secret in candidates {
            if let Some(active) = services.session(&secret, Some(&site_services))? {
                return Ok(Some(active));
            }
        }
        Ok(None)
    })
    .await?;
    let Some(session) = found else {
        if site.services.site().status == crate::domain::SiteStatus::Suspended {
            return Err(HttpError::SiteSuspended {
                name: site.services.site().name.clone(),
            });
        }
        return Err(HttpError::SignInRequired {
            location: sign_in_location(&site.base, &req),
        });
    };
    // A suspended site is open to operators only (PRODUCT §2).
    if site.services.site().status == crate::domain::SiteStatus::Suspended
        && !session.principal.is_operator()
    {
        return Err(HttpError::SiteSuspended {
            name: site.services.site().name.clone(),
        });
    }
    Ok(SitePage {
        flash: flash_of(&req),
        site,
        session,
        request: req,
    })
}

impl FromRequest for SitePage {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, HttpError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(signed_in(req.clone()))
    }
}

/// Compares two tokens in time independent of where they differ.
pub(crate) fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[derive(serde::Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

/// Reads a form body and checks its `csrf` field against `expected`.
fn checked_form<T: DeserializeOwned>(body: &[u8], expected: &str) -> Result<T, HttpError> {
    let token: CsrfField = serde_html_form::from_bytes(body).unwrap_or(CsrfField {
        csrf: String::new(),
    });
    if expected.is_empty() || !same_token(&token.csrf, expected) {
        return Err(HttpError::CsrfRejected);
    }
    serde_html_form::from_bytes(body)
        .map_err(|e| HttpError::BadRequest(format!("the form could not be read: {e}")))
}

/// Reads a form body of at most `limit` bytes.
fn read_body(
    req: &HttpRequest,
    payload: &mut Payload,
    limit: usize,
) -> impl Future<Output = Result<web::Bytes, HttpError>> + use<> {
    let content_type_ok = req
        .content_type()
        .eq_ignore_ascii_case("application/x-www-form-urlencoded");
    let declared = crate::http::body::declared_length(req);
    let payload = payload.take();
    async move {
        if !content_type_ok {
            return Err(HttpError::UnsupportedMediaType);
        }
        // A little past the limit is still read, so the browser gets the
        // page saying the form was too large rather than a reset.
        let count_to = limit.saturating_mul(2);
        match crate::http::body::read_limited(declared, payload, limit, count_to).await? {
            crate::http::body::Limited::Within(bytes) => Ok(bytes),
            crate::http::body::Limited::TooLarge(_) => Err(HttpError::PayloadTooLarge { limit }),
        }
    }
}

/// The page of a signed-in POST (`session` finds it) and its form, read
/// only when its `csrf` field is the session's (`csrf` of the page).
fn posted_form<P, T, F, S>(
    req: &HttpRequest,
    payload: &mut Payload,
    session: F,
    csrf: fn(&P) -> &str,
    limit: usize,
) -> impl Future<Output = Result<(P, T), HttpError>> + use<P, T, F, S>
where
    T: DeserializeOwned,
    F: FnOnce(HttpRequest) -> S,
    S: Future<Output = Result<P, HttpError>>,
{
    let body = read_body(req, payload, limit);
    // The session first: a visitor who is not signed in is sent to sign
    // in, whatever the form holds.
    let page = session(req.clone());
    async move {
        let page = page.await?;
        let body = body.await?;
        let form = checked_form(&body, csrf(&page))?;
        Ok((page, form))
    }
}

/// A signed-in POST to a site page whose form carried the session's CSRF
/// token; `form` is the rest of the form, at most `LIMIT` bytes (a page
/// whose form is a grid of inputs, such as the grader report, takes
/// more than the usual 256 KiB).
pub(crate) struct SitePost<T, const LIMIT: usize = FORM_LIMIT> {
    pub page: SitePage,
    pub form: T,
}

impl<T: DeserializeOwned + 'static, const LIMIT: usize> FromRequest for SitePost<T, LIMIT> {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, HttpError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let posted = posted_form(req, payload, signed_in, SitePage::csrf, LIMIT);
        Box::pin(async move {
            let (page, form) = posted.await?;
            Ok(SitePost { page, form })
        })
    }
}

/// A signed-in operator's request for an operator page.
pub(crate) struct OperatorPage {
    pub session: ActiveSession,
    pub flash: Option<Flash>,
    pub request: HttpRequest,
    pub services: Services,
}

impl OperatorPage {
    pub fn principal(&self) -> &Principal {
        &self.session.principal
    }

    pub fn csrf(&self) -> &str {
        &self.session.session.csrf
    }

    pub fn done(&self, path: &str, message: impl Into<String>) -> HttpResponse {
        redirect_with(&self.request, "", path, Flash::success(message))
    }
}

async fn operator_signed_in(req: HttpRequest) -> Result<OperatorPage, HttpError> {
    let services = state(&req)?;
    let candidates = cookie_values(&req, OPERATOR_COOKIE);
    let lookup = services.clone();
    let found = blocking(move || {
        for secret in candidates {
            if let Some(active) = lookup.session(&secret, None)? {
                return Ok(Some(active));
            }
        }
        Ok(None)
    })
    .await?;
    match found {
        Some(session) if session.principal.is_operator() => Ok(OperatorPage {
            flash: flash_of(&req),
            session,
            request: req,
            services,
        }),
        _ => Err(HttpError::SignInRequired {
            location: format!("/operator/sign-in?next={}", url_escape(req.uri().path())),
        }),
    }
}

impl FromRequest for OperatorPage {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, HttpError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(operator_signed_in(req.clone()))
    }
}

/// A signed-in operator's POST whose form carried the CSRF token.
pub(crate) struct OperatorPost<T> {
    pub page: OperatorPage,
    pub form: T,
}

impl<T: DeserializeOwned + 'static> FromRequest for OperatorPost<T> {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, HttpError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let posted = posted_form(
            req,
            payload,
            operator_signed_in,
            OperatorPage::csrf,
            FORM_LIMIT,
        );
        Box::pin(async move {
            let (page, form) = posted.await?;
            Ok(OperatorPost { page, form })
        })
    }
}

/// The double-submit token of a sign-in form: the page sets it as a
/// cookie and in a hidden field; the POST must bring both, equal. A page
/// of another origin can make the browser send the cookie but cannot read
/// it to fill the field.
pub(crate) struct SignInCsrf;

impl SignInCsrf {
    /// The token for a sign-in page: the one the browser holds, or new.
    pub fn token(req: &HttpRequest) -> (String, bool) {
        match cookie_values(req, SIGN_IN_CSRF_COOKIE)
            .into_iter()
            .find(|v| v.len() == 64)
        {
            Some(v) => (v, false),
            None => (crate::services::sessions::random_hex(), true),
        }
    }

    pub fn cookie(req: &HttpRequest, token: String, path: String) -> Cookie<'static> {
        let mut c = cookie(req, SIGN_IN_CSRF_COOKIE, token, path);
        c.set_same_site(SameSite::Strict);
        c.set_max_age(CookieDuration::hours(12));
        c
    }
}

/// An anonymous POST of a sign-in form whose token matches its cookie.
pub(crate) struct SignInPost<T> {
    pub form: T,
    pub request: HttpRequest,
}

impl<T: DeserializeOwned + 'static> FromRequest for SignInPost<T> {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, HttpError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_body(req, payload, FORM_LIMIT);
        let expected = cookie_values(req, SIGN_IN_CSRF_COOKIE)
            .into_iter()
            .next()
            .unwrap_or_default();
        let req = req.clone();
        Box::pin(async move {
            let body = body.await?;
            let form = checked_form(&body, &expected)?;
            Ok(SignInPost { form, request: req })
        })
    }
}

/// The session secrets a browser holds for this request's path.
pub(crate) fn presented_secret(req: &HttpRequest, name: &str) -> Option<String> {
    cookie_values(req, name).into_iter().next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flash_survives_its_cookie_encoding() {
        let f = Flash::success("Segment “HR” created; 3 members; 100% done");
        assert_eq!(Flash::decode(&f.encode()), Some(f));
        assert_eq!(Flash::decode("x-garbage"), None);
        assert_eq!(Flash::decode("%ZZ"), None);
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abc", "abd"));
        assert!(!same_token("abc", "ab"));
        assert!(!same_token("", "a"));
    }

    #[test]
    fn a_form_without_the_right_token_is_refused() {
        #[derive(serde::Deserialize, Debug)]
        struct F {
            name: String,
        }
        assert!(matches!(
            checked_form::<F>(b"name=HR", "t0k"),
            Err(HttpError::CsrfRejected)
        ));
        assert!(matches!(
            checked_form::<F>(b"name=HR&csrf=other", "t0k"),
            Err(HttpError::CsrfRejected)
        ));
        assert!(matches!(
            checked_form::<F>(b"name=HR&csrf=", ""),
            Err(HttpError::CsrfRejected)
        ));
        let ok: F = checked_form(b"name=HR&csrf=t0k", "t0k").unwrap();
        assert_eq!(ok.name, "HR");
    }
}
