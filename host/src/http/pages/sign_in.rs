//! Signing in and out: a site's users at `{base}/sign-in`, operators at
//! `/operator/sign-in` (one operator session enters every site).

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::super::site::CurrentSite;
use super::super::{HttpError, blocking};
use super::forms::render;
use super::session::{
    self, OPERATOR_COOKIE, OperatorPost, SIGN_IN_CSRF_COOKIE, SITE_COOKIE, SignInCsrf, SignInPost,
    SitePost,
};
use super::{Layout, page_routes};
use crate::services::sessions::SignIn;

page_routes! {
    get "/sign-in" => site_form, Public;
    post "/sign-in" => site_submit, Public;
    post "/sign-out" => site_sign_out, SignedIn;
}

/// The operator's sign-in, outside every site.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) const OPERATOR_ROUTES: &[super::PageRoute] = &[
    super::PageRoute {
        method: "get",
        path: "/operator/sign-in",
        access: super::Access::Public,
    },
    super::PageRoute {
        method: "post",
        path: "/operator/sign-in",
        access: super::Access::Public,
    },
    super::PageRoute {
        method: "post",
        path: "/operator/sign-out",
        access: super::Access::Operator,
    },
];

pub(crate) fn operator_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/operator/sign-in", web::get().to(operator_form))
        .route("/operator/sign-in", web::post().to(operator_submit))
        .route("/operator/sign-out", web::post().to(operator_sign_out));
}

#[derive(serde::Deserialize, Default)]
pub(crate) struct NextQuery {
    next: Option<String>,
}

impl NextQuery {
    /// The page to go to after signing in, if it is one of ours below
    /// `base`; empty otherwise.
    fn safe_below(&self, base: &str) -> String {
        self.next
            .as_deref()
            .and_then(|n| safe_next(n, base))
            .unwrap_or_default()
    }
}

#[derive(serde::Deserialize)]
pub(crate) struct SignInForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

#[derive(serde::Deserialize)]
pub(crate) struct Empty {}

#[derive(Template)]
#[template(path = "pages/sign_in.html")]
pub(crate) struct SignInPage {
    pub layout: Layout,
    pub heading: String,
    pub action: String,
    pub csrf: String,
    pub next: String,
    pub username: String,
    pub error: Option<String>,
    /// A link to the other sign-in (site ↔ operator).
    pub other: (String, &'static str),
}

fn sign_in_layout(site: &CurrentSite) -> Layout {
    let mut layout = Layout::for_site(site.services.site(), &site.base, Some("Sign in"));
    layout.sign_in = None;
    layout
}

/// Only a path on this site may be a `next`: anything else (another host,
/// `//evil`, a backslash trick, a tab or newline a browser drops) would
/// make sign-in an open redirect, or a header that cannot be sent.
///
/// Checked on the text as sent and its path again percent-decoded, so
/// that an encoded `%2F%2F` or `%09` cannot sneak past: no control
/// character or whitespace, a path below `base`, not `//`-led, no
/// backslash, no scheme, no `.`/`..` segment that would climb out of
/// `base`. (An encoded space in the query, `?q=a%20b`, is a search and
/// stays: a query cannot move the browser to another host.)
fn safe_next(next: &str, base: &str) -> Option<String> {
    let path = next.split(['?', '#']).next().unwrap_or_default();
    let decoded_path = percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .ok()?;
    let prefix = format!("{base}/");
    let local = |s: &str| {
        !s.chars().any(|c| c.is_control() || c.is_whitespace())
            && s.starts_with(&prefix)
            && !s.starts_with("//")
            && !s.contains('\\')
            && !s.contains("://")
    };
    let climbs = decoded_path
        .split('/')
        .any(|segment| segment == "." || segment == "..");
    let parses = next.parse::<actix_web::http::uri::PathAndQuery>().is_ok();
    (parses && local(next) && local(&decoded_path) && !climbs).then(|| next.to_owned())
}

fn sign_in_response(
    req: &HttpRequest,
    page: SignInPage,
    status: StatusCode,
    cookie_path: String,
) -> Result<HttpResponse, HttpError> {
    let mut response = render(&page, status)?;
    let (_, fresh) = SignInCsrf::token(req);
    if fresh {
        response
            .add_cookie(&SignInCsrf::cookie(req, page.csrf.clone(), cookie_path))
            .map_err(|e| HttpError::Internal(format!("cookie: {e}")))?;
    }
    Ok(response)
}

async fn site_form(
    req: HttpRequest,
    site: CurrentSite,
    query: web::Query<NextQuery>,
) -> Result<HttpResponse, HttpError> {
    let (csrf, _) = SignInCsrf::token(&req);
    let next = query.safe_below(&site.base);
    let page = SignInPage {
        layout: sign_in_layout(&site),
        heading: format!("Sign in to {}", site.services.site().name),
        action: format!("{}/sign-in", site.base),
        csrf,
        next,
        username: String::new(),
        error: None,
        other: ("/operator/sign-in".to_owned(), "Operators sign in here"),
    };
    let mut page = page;
    page.layout.flash = session::flash_of(&req);
    sign_in_response(&req, page, StatusCode::OK, session::cookie_path(&site.base))
}

/// The sign-in form again after a refused attempt, with `Retry-After`
/// when the attempt was throttled.
fn refused_response(
    req: &HttpRequest,
    page: SignInPage,
    status: StatusCode,
    cookie_path: String,
    retry: Option<u64>,
) -> Result<HttpResponse, HttpError> {
    let mut response = sign_in_response(req, page, status, cookie_path)?;
    if let Some(secs) = retry {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
    }
    Ok(response)
}

fn refusal(outcome: &SignIn) -> (StatusCode, String, Option<u64>) {
    match outcome {
        SignIn::WrongCredentials => (
            StatusCode::UNAUTHORIZED,
            "Wrong username or password.".to_owned(),
            None,
        ),
        SignIn::Suspended => (
            StatusCode::FORBIDDEN,
            "Your account is suspended. Ask your site administrator.".to_owned(),
            None,
        ),
        SignIn::Throttled { retry_after } => {
            let minutes = retry_after.as_secs().div_ceil(60).max(1);
            (
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "Too many failed sign-ins. Try again in {minutes} minute{}.",
                    if minutes == 1 { "" } else { "s" }
                ),
                Some(retry_after.as_secs().max(1)),
            )
        }
        SignIn::SignedIn { .. } => (StatusCode::OK, String::new(), None),
    }
}

async fn site_submit(
    site: CurrentSite,
    post: SignInPost<SignInForm>,
) -> Result<HttpResponse, HttpError> {
    let req = post.request;
    let form = post.form;
    let state = session::state(&req)?;
    let address = req.peer_addr().map(|a| a.ip());
    let replacing = session::presented_secret(&req, SITE_COOKIE);
    let site_services = site.services.clone();
    let (username, password) = (form.username.clone(), form.password);
    let outcome = blocking(move || {
        state.sign_in_site_user(
            &site_services,
            &username,
            &password,
            address,
            replacing.as_deref(),
        )
    })
    .await?;
    let path = session::cookie_path(&site.base);
    match outcome {
        SignIn::SignedIn { secret, .. } => {
            let next = safe_next(&form.next, &site.base)
                .unwrap_or_else(|| format!("{}/dashboard", site.base));
            Ok(signed_in_redirect(&req, SITE_COOKIE, secret, path, next))
        }
        other => {
            let (status, message, retry) = refusal(&other);
            let page = SignInPage {
                layout: sign_in_layout(&site),
                heading: format!("Sign in to {}", site.services.site().name),
                action: format!("{}/sign-in", site.base),
                csrf: SignInCsrf::token(&req).0,
                next: safe_next(&form.next, &site.base).unwrap_or_default(),
                username: form.username,
                error: Some(message),
                other: ("/operator/sign-in".to_owned(), "Operators sign in here"),
            };
            refused_response(&req, page, status, path, retry)
        }
    }
}

/// A new session: its cookie, the sign-in token's cookie gone, and a 303
/// to where the visitor was going.
fn signed_in_redirect(
    req: &HttpRequest,
    name: &'static str,
    secret: String,
    path: String,
    next: String,
) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, next))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .cookie(session::cookie(req, name, secret, path.clone()))
        .cookie(session::removal(req, SIGN_IN_CSRF_COOKIE, path))
        .finish()
}

/// Ends the session the page was opened with, whichever it was, and
/// forgets both cookies.
async fn site_sign_out(post: SitePost<Empty>) -> Result<HttpResponse, HttpError> {
    let page = post.page;
    let req = page.request.clone();
    let services = session::state(&req)?;
    let secrets: Vec<String> = [
        session::presented_secret(&req, SITE_COOKIE),
        session::presented_secret(&req, OPERATOR_COOKIE),
    ]
    .into_iter()
    .flatten()
    .collect();
    blocking(move || {
        for s in secrets {
            services.sign_out(&s)?;
        }
        Ok(())
    })
    .await?;
    let path = session::cookie_path(page.base());
    let mut response = session::redirect_with(
        &req,
        page.base(),
        &page.link("/sign-in"),
        session::Flash::success("You have signed out."),
    );
    for cookie in [
        session::removal(&req, SITE_COOKIE, path),
        session::removal(&req, OPERATOR_COOKIE, "/".to_owned()),
    ] {
        response
            .add_cookie(&cookie)
            .map_err(|e| HttpError::Internal(format!("cookie: {e}")))?;
    }
    Ok(response)
}

fn operator_page(
    csrf: String,
    next: String,
    username: String,
    error: Option<String>,
) -> SignInPage {
    SignInPage {
        layout: Layout::plain("Operator sign-in", "Charon"),
        heading: "Operator sign-in".to_owned(),
        action: "/operator/sign-in".to_owned(),
        csrf,
        next,
        username,
        error,
        other: ("/".to_owned(), "Site users sign in on their site"),
    }
}

async fn operator_form(
    req: HttpRequest,
    query: web::Query<NextQuery>,
) -> Result<HttpResponse, HttpError> {
    let (csrf, _) = SignInCsrf::token(&req);
    let next = query.safe_below("");
    let mut page = operator_page(csrf, next, String::new(), None);
    page.layout.flash = session::flash_of(&req);
    sign_in_response(&req, page, StatusCode::OK, "/".to_owned())
}

async fn operator_submit(post: SignInPost<SignInForm>) -> Result<HttpResponse, HttpError> {
    let req = post.request;
    let form = post.form;
    let services = session::state(&req)?;
    let address = req.peer_addr().map(|a| a.ip());
    let replacing = session::presented_secret(&req, OPERATOR_COOKIE);
    let (username, password) = (form.username.clone(), form.password);
    let outcome = blocking(move || {
        services.sign_in_operator(&username, &password, address, replacing.as_deref())
    })
    .await?;
    match outcome {
        SignIn::SignedIn { secret, .. } => {
            let next = safe_next(&form.next, "").unwrap_or_else(|| "/operator".to_owned());
            Ok(signed_in_redirect(
                &req,
                OPERATOR_COOKIE,
                secret,
                "/".to_owned(),
                next,
            ))
        }
        other => {
            let (status, message, retry) = refusal(&other);
            let page = operator_page(
                SignInCsrf::token(&req).0,
                safe_next(&form.next, "").unwrap_or_default(),
                form.username,
                Some(message),
            );
            refused_response(&req, page, status, "/".to_owned(), retry)
        }
    }
}

async fn operator_sign_out(post: OperatorPost<Empty>) -> Result<HttpResponse, HttpError> {
    let req = post.page.request.clone();
    let services = post.page.services.clone();
    let secret = session::presented_secret(&req, OPERATOR_COOKIE);
    blocking(move || match secret {
        Some(s) => services.sign_out(&s),
        None => Ok(()),
    })
    .await?;
    let mut response = session::redirect_with(
        &req,
        "",
        "/operator/sign-in",
        session::Flash::success("You have signed out."),
    );
    response
        .add_cookie(&session::removal(&req, OPERATOR_COOKIE, "/".to_owned()))
        .map_err(|e| HttpError::Internal(format!("cookie: {e}")))?;
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::safe_next;
    use proptest::prelude::*;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(
            safe_next("/s/acme/users", "/s/acme").as_deref(),
            Some("/s/acme/users")
        );
        assert_eq!(safe_next("/users?q=a", "").as_deref(), Some("/users?q=a"));
        assert_eq!(
            safe_next("/users?q=a%20b", "").as_deref(),
            Some("/users?q=a%20b"),
            "an encoded space in a query is a search, not a trick"
        );
        assert_eq!(safe_next("//evil.example/", ""), None);
        assert_eq!(safe_next("https://evil.example/", ""), None);
        assert_eq!(safe_next("/\\evil.example", ""), None);
        assert_eq!(safe_next("/s/other/users", "/s/acme"), None);
    }

    #[test]
    fn control_characters_and_whitespace_fall_back_to_the_dashboard() {
        for next in [
            "/\n/x",
            "/%0A/x",
            "/\t/evil.example/",
            "/%09/evil.example/",
            "/%5Cevil.example",
            "/a b",
            "/s/acme/../other/",
            "/s/acme/%2E%2E/other/",
            "/%FF",
        ] {
            assert_eq!(safe_next(next, ""), None, "{next:?}");
            assert_eq!(safe_next(&format!("/s/acme{next}"), "/s/acme"), None);
        }
        assert_eq!(safe_next("/%2F/evil.example/", ""), None);
    }

    /// Where a browser goes with `Location: next` from a page of this
    /// host: `url` parses as WHATWG URL does, tabs and newlines dropped.
    fn browser_target(next: &str) -> url::Url {
        url::Url::parse("https://lms.example/s/acme/sign-in")
            .unwrap()
            .join(next)
            .unwrap()
    }

    proptest! {
        #[test]
        fn whatever_is_followed_stays_on_this_site_and_is_a_valid_header(
            next in "[/\\\\a-z.%0-9A-F:@?#\t\n\r ]{0,24}",
            prefixed in any::<bool>(),
        ) {
            let next = if prefixed { format!("/s/acme{next}") } else { next };
            if let Some(to) = safe_next(&next, "/s/acme") {
                prop_assert!(actix_web::http::header::HeaderValue::from_str(&to).is_ok());
                let target = browser_target(&to);
                prop_assert_eq!(target.host_str(), Some("lms.example"), "{:?}", to);
                prop_assert!(target.path().starts_with("/s/acme/"), "{:?} → {}", to, target);
            }
        }

        #[test]
        fn plain_paths_of_the_site_are_followed(path in "[a-z0-9_/-]{0,24}") {
            let next = format!("/s/acme/{path}");
            prop_assume!(!next.contains("//"));
            prop_assert_eq!(safe_next(&next, "/s/acme"), Some(next));
        }
    }
}
