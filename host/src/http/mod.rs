//! The HTTP layer: the server's life cycle, routing a request to its site,
//! pages, the JSON API, and turning service errors into responses.
//!
//! This module owns the wire: URLs, status codes, templates, JSON shapes,
//! the loopback operator credential and the process signals. It must never decide a domain
//! rule or check a permission. A handler extracts its input (the site, the
//! acting principal, the body), calls one service function, and renders
//! the result; `services` authorises and validates. Service calls touch
//! redb files (and may hash passwords), so they run on the blocking pool
//! through [`blocking`], never on an async worker thread.
//!
//! A request reaches a site by its `Host` header (`/…`) or by the path
//! prefix `/s/{slug}/…`; both serve the same pages (see `site.rs`).

mod api;
pub(crate) mod body;
mod download;
mod error;
mod operator_credential;
mod pages;
mod site;
mod startup;
#[cfg(test)]
mod tests;

use std::sync::mpsc;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::{App, middleware, web};

pub use api::{openapi, wire};
pub use body::BodyLimits;
pub use error::{ConfigFieldErrorView, ErrorBody, ErrorDetail, HttpError, JsonError};
pub use operator_credential::{OPERATOR_API_FILE_NAME, OperatorApiFile, OperatorCredential};
pub use startup::{Application, Config, StartError, StopHandle};

use crate::services::{ServiceResult, Services};

/// What every handler can reach: the host's services and, when this
/// process has one, its loopback operator credential.
#[derive(Clone)]
pub struct AppState {
    services: Services,
    operator_credential: Option<OperatorCredential>,
    body_limits: BodyLimits,
    // Last, so that it goes after the services (see `watch_release`).
    release: Option<mpsc::Sender<()>>,
}

/// Says when every copy of an [`AppState`], and so every handle on the
/// services they held, is gone: see [`AppState::watch_release`].
pub struct StateReleased(mpsc::Receiver<()>);

impl StateReleased {
    /// Waits until it is, for at most `timeout`; whether it is.
    pub fn wait(&self, timeout: Duration) -> bool {
        matches!(
            self.0.recv_timeout(timeout),
            Err(mpsc::RecvTimeoutError::Disconnected)
        )
    }
}

impl AppState {
    /// State in which only API tokens of the registry authenticate.
    pub fn new(services: Services) -> Self {
        Self {
            services,
            operator_credential: None,
            body_limits: BodyLimits::default(),
            release: None,
        }
    }

    /// This state and a way to learn when the last copy of it is dropped.
    /// The server's workers drop theirs on their own threads, some time
    /// after they report being stopped; whoever must close the data dir's
    /// files before the process exits (the console's in-process server)
    /// waits for this instead.
    pub fn watch_release(mut self) -> (Self, StateReleased) {
        let (sender, receiver) = mpsc::channel();
        self.release = Some(sender);
        (self, StateReleased(receiver))
    }

    /// Also accepts `credential` as the operator at the console, from this
    /// machine (see `operator_credential`).
    pub fn with_operator_credential(mut self, credential: OperatorCredential) -> Self {
        self.operator_credential = Some(credential);
        self
    }

    /// Holds every request body to `limits` (see `body`).
    pub fn with_body_limits(mut self, limits: BodyLimits) -> Self {
        self.body_limits = limits;
        self
    }

    pub fn services(&self) -> &Services {
        &self.services
    }

    pub(crate) fn body_limits(&self) -> &BodyLimits {
        &self.body_limits
    }

    pub(crate) fn operator_credential(&self) -> Option<&OperatorCredential> {
        self.operator_credential.as_ref()
    }
}

/// The application: every route, middleware and shared state. The server
/// builds one per worker from this function and the in-process tests build
/// theirs from it too, so tests exercise exactly what is served.
pub fn app(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let limits = state.body_limits.clone();
    App::new()
        .app_data(web::Data::new(state))
        .configure(pages::host_routes)
        .configure(api::routes)
        .service(
            web::scope("/s/{slug}")
                .route("", web::get().to(pages::add_trailing_slash))
                .configure(pages::site_routes),
        )
        .configure(pages::site_routes)
        .default_service(web::to(pages::no_such_page))
        .wrap_fn(pages::session::consume_flash)
        .wrap_fn(move |mut req, srv| {
            use actix_web::dev::Service as _;
            body::with_deadline(&mut req, &limits);
            srv.call(req)
        })
        .wrap(security_headers())
        .wrap(middleware::Compress::default())
        .wrap_fn(|req, srv| {
            use actix_web::dev::Service as _;
            // Path only: query strings may carry secrets one day, and the
            // Authorization header is never logged.
            let method = req.method().clone();
            let path = req.path().to_owned();
            let started = Instant::now();
            let response = srv.call(req);
            async move {
                let response = response.await?;
                tracing::info!(
                    target: "charon::http",
                    %method,
                    %path,
                    status = response.status().as_u16(),
                    micros = started.elapsed().as_micros() as u64,
                    "request"
                );
                Ok(response)
            }
        })
}

fn security_headers() -> middleware::DefaultHeaders {
    middleware::DefaultHeaders::new()
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::REFERRER_POLICY, "same-origin"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        // Inline styles are allowed for the one `<style>` that sets a
        // site's (validated `#rrggbb`) brand colour; no script runs at all.
        .add((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ))
}

/// Runs a service call on the blocking pool: redb reads and writes do file
/// I/O (a commit waits for fsync) and must not stall an async worker.
pub(crate) async fn blocking<T, F>(f: F) -> Result<T, HttpError>
where
    F: FnOnce() -> ServiceResult<T> + Send + 'static,
    T: Send + 'static,
{
    match web::block(f).await {
        Ok(result) => result.map_err(HttpError::from),
        Err(e) => Err(HttpError::Internal(format!("blocking pool: {e}"))),
    }
}
