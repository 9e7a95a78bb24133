//! The one error type of the HTTP layer and the single place where a
//! [`ServiceError`] becomes a status code.
//!
//! Status codes of service errors:
//!
//! | service error | status |
//! |---|---|
//! | `Forbidden` | 403 |
//! | `NotFound` | 404 |
//! | `Invalid`, `Duplicate`, `NotEnrolled`, `ConfigRejected` | 422: the request was well-formed but its content breaks a rule; the user can fix it and resend. 400 is kept for requests the server cannot read at all (malformed JSON, wrong content type). |
//! | `Conflict` | 409 |
//! | `Refused` (a plugin declined a request) | 422, with the plugin's `code` and `field` |
//! | `PluginFailed` (a plugin crashed, ran out of time or memory, or returned a plan the host rejected) | 502: the request was fine; the component that answers it failed. The code says how (`plugin_timeout`, `plan_rejected`, …) and the failure is the method's last error |
//! | `Storage` | 500; the detail goes to the log only |
//!
//! Pages render [`HttpError`] as `error.html` in the base layout; the
//! JSON API wraps it in [`JsonError`] to answer
//! `{"error":{"code":…,"message":…,"field":…}}`. Both share the status, the
//! code and the public message defined here. The JSON error document is
//! a view of its own ([`ErrorBody`]), like every answer of the API (see
//! `api::views`).

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use serde::{Deserialize, Serialize};

use crate::services::ServiceError;
use crate::services::error::ConfigFieldError;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// Neither the `Host` header nor the `/s/{slug}/` prefix names a site.
    #[error("no site answers to {0:?}")]
    UnknownSite(String),
    /// The site exists but an operator suspended it.
    #[error("{name} is suspended")]
    SiteSuspended { name: String },
    /// A path parameter names nothing (e.g. `/segments/abc`).
    #[error("{0}")]
    NotFoundPath(String),
    /// No route matches the path.
    #[error("there is no page at this address")]
    NoSuchPage,
    /// The path is served, but not with this method; `allow` lists the
    /// methods it answers, for the `Allow` header.
    #[error("this address does not answer {method}; it answers {allow}")]
    MethodNotAllowed { method: String, allow: String },
    /// The loopback operator credential came on a connection that is not
    /// from this machine.
    #[error("the operator credential of this server is accepted only from this machine")]
    NotLocal,
    /// The JSON API needs `Authorization: Bearer <API token>`, and the
    /// token must be known and not revoked.
    #[error("a valid API token is required (Authorization: Bearer chr_…)")]
    Unauthenticated,
    /// The request could not be read (malformed JSON).
    #[error("{0}")]
    BadRequest(String),
    /// The body is JSON but does not fit: a missing, unknown or mistyped
    /// field.
    #[error("{message}")]
    BadField {
        field: Option<String>,
        message: String,
    },
    /// The body is not `application/json`.
    #[error("the body must be JSON (Content-Type: application/json)")]
    UnsupportedMediaType,
    #[error("the request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// The client took longer than the body deadline to send its body.
    #[error("the request body was not sent in time; send it again on a faster connection")]
    BodyTimeout,
    /// Every upload slot is reading someone's body; try again shortly.
    #[error("the server is receiving as many uploads as it takes at once; try again in a moment")]
    UploadsBusy,
    /// A page needs a signed-in visitor; pages answer with a redirect to
    /// `location` (the sign-in form, remembering where to return).
    #[error("please sign in")]
    SignInRequired { location: String },
    /// A page form came without the session's CSRF token or with another.
    #[error(
        "this form has expired or did not come from this site; nothing was changed. Go back, reload the page and try again"
    )]
    CsrfRejected,
    /// A fault of the server itself; the detail is logged, never shown.
    #[error("internal error")]
    Internal(String),
}

impl HttpError {
    pub fn status(&self) -> StatusCode {
        match self {
            HttpError::Service(e) => match e {
                ServiceError::Forbidden(_) => StatusCode::FORBIDDEN,
                ServiceError::NotFound(_) => StatusCode::NOT_FOUND,
                ServiceError::Invalid { .. }
                | ServiceError::Duplicate { .. }
                | ServiceError::NotEnrolled { .. }
                | ServiceError::ConfigRejected { .. }
                | ServiceError::GradesRejected(_) => StatusCode::UNPROCESSABLE_ENTITY,
                ServiceError::Conflict(_) => StatusCode::CONFLICT,
                ServiceError::Refused { .. } => StatusCode::UNPROCESSABLE_ENTITY,
                ServiceError::PluginFailed { .. } => StatusCode::BAD_GATEWAY,
                ServiceError::Storage(_) | ServiceError::Internal(_) => {
                    StatusCode::INTERNAL_SERVER_ERROR
                }
            },
            HttpError::UnknownSite(_) | HttpError::NoSuchPage | HttpError::NotFoundPath(_) => {
                StatusCode::NOT_FOUND
            }
            HttpError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            HttpError::SiteSuspended { .. } => StatusCode::SERVICE_UNAVAILABLE,
            HttpError::Unauthenticated => StatusCode::UNAUTHORIZED,
            HttpError::SignInRequired { .. } => StatusCode::SEE_OTHER,
            HttpError::CsrfRejected => StatusCode::FORBIDDEN,
            HttpError::BadField { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            HttpError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            HttpError::NotLocal => StatusCode::FORBIDDEN,
            HttpError::BadRequest(_) => StatusCode::BAD_REQUEST,
            HttpError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            HttpError::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            HttpError::UploadsBusy => StatusCode::SERVICE_UNAVAILABLE,
            HttpError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A stable machine-readable name for clients to match on.
    pub fn code(&self) -> std::borrow::Cow<'static, str> {
        match self {
            HttpError::Service(ServiceError::Refused { code, .. }) => code.clone().into(),
            HttpError::Service(ServiceError::PluginFailed { code, .. }) => code.to_string().into(),
            other => other.static_code().into(),
        }
    }

    fn static_code(&self) -> &'static str {
        match self {
            HttpError::Service(e) => match e {
                ServiceError::Refused { .. } => "refused",
                ServiceError::PluginFailed { .. } => "plugin_failed",
                ServiceError::Forbidden(_) => "forbidden",
                ServiceError::NotFound(_) => "not_found",
                ServiceError::Invalid { .. } => "invalid",
                ServiceError::Duplicate { .. } => "duplicate",
                ServiceError::NotEnrolled { .. } => "not_enrolled",
                ServiceError::ConfigRejected { .. } => "config_rejected",
                ServiceError::GradesRejected(_) => "grades_rejected",
                ServiceError::Conflict(_) => "conflict",
                ServiceError::Storage(_) | ServiceError::Internal(_) => "internal",
            },
            HttpError::UnknownSite(_) => "unknown_site",
            HttpError::SiteSuspended { .. } => "site_suspended",
            HttpError::NoSuchPage | HttpError::NotFoundPath(_) => "not_found",
            HttpError::MethodNotAllowed { .. } => "method_not_allowed",
            HttpError::Unauthenticated => "unauthorized",
            HttpError::SignInRequired { .. } => "sign_in_required",
            HttpError::CsrfRejected => "csrf_rejected",
            HttpError::BadField { message, .. } if message.starts_with("missing field") => {
                "missing_field"
            }
            HttpError::BadField { message, .. } if message.starts_with("unknown field") => {
                "unknown_field"
            }
            HttpError::BadField { .. } => "invalid_body",
            HttpError::UnsupportedMediaType => "unsupported_media_type",
            HttpError::NotLocal => "not_local",
            HttpError::BadRequest(_) => "bad_request",
            HttpError::PayloadTooLarge { .. } => "payload_too_large",
            HttpError::BodyTimeout => "body_timeout",
            HttpError::UploadsBusy => "uploads_busy",
            HttpError::Internal(_) => "internal",
        }
    }

    /// What a plugin said of each config field it refused.
    pub fn field_errors(&self) -> Vec<ConfigFieldError> {
        match self {
            HttpError::Service(ServiceError::ConfigRejected { errors, .. }) => errors.clone(),
            _ => Vec::new(),
        }
    }

    /// The input field the error is about, if any.
    pub fn field(&self) -> Option<String> {
        match self {
            HttpError::Service(ServiceError::Refused { field, .. }) => field.clone(),
            HttpError::Service(e) => e.field().map(str::to_owned),
            HttpError::BadField { field, .. } => field.clone(),
            _ => None,
        }
    }

    /// What the client is told. Internals never appear here.
    pub fn public_message(&self) -> String {
        match self {
            HttpError::Service(ServiceError::Invalid { message, .. })
            | HttpError::Service(ServiceError::Duplicate { message, .. }) => message.clone(),
            HttpError::Service(ServiceError::Storage(_)) | HttpError::Internal(_) => {
                "Something went wrong on our side; the error has been logged.".to_owned()
            }
            other => other.to_string(),
        }
    }

    /// What an answer of this error carries on pages and API alike.
    /// (The request is cut either way: a client whose body was refused or
    /// timed out must not send the rest on this connection.)
    fn finish(&self, response: &mut HttpResponse) {
        if let HttpError::UploadsBusy = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
        }
        if matches!(
            self,
            HttpError::BodyTimeout | HttpError::PayloadTooLarge { .. } | HttpError::UploadsBusy
        ) {
            response
                .head_mut()
                .set_connection_type(actix_web::http::ConnectionType::Close);
        }
    }

    /// Server faults are logged with their detail, once, where the response
    /// is made; client errors are routine and stay at debug level.
    fn log(&self) {
        match self {
            HttpError::Service(ServiceError::Storage(e)) => {
                tracing::error!(error = %e, "storage error while serving a request");
            }
            HttpError::Internal(detail) => {
                tracing::error!(error = %detail, "internal error while serving a request");
            }
            other => tracing::debug!(error = %other, status = other.status().as_u16(), "refused"),
        }
    }
}

impl ResponseError for HttpError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        self.log();
        let mut page = super::pages::error_page(self);
        self.finish(&mut page);
        page
    }
}

/// An [`HttpError`] answered as JSON (the JSON API).
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct JsonError(#[from] pub HttpError);

impl From<ServiceError> for JsonError {
    fn from(e: ServiceError) -> Self {
        JsonError(HttpError::Service(e))
    }
}

/// The JSON error document: `{"error":{"code":…,"message":…,"field":…}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
    pub field: Option<String>,
    /// With `config_rejected`: each config key the plugin refused (empty
    /// for the config as a whole) and why. Absent otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ConfigFieldErrorView>,
    /// With `grades_rejected`: each grade refused (user, item) and why;
    /// nothing was written. Absent otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cells: Vec<GradeCellErrorView>,
}

/// One grade of a bulk save that was refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = GradeCellError)]
pub struct GradeCellErrorView {
    #[schema(minimum = 1)]
    pub user: u64,
    #[schema(minimum = 1)]
    pub item: u64,
    pub message: String,
}

/// One complaint of a plugin about a config: the config key it concerns
/// (empty for the whole config) and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = ConfigFieldError)]
pub struct ConfigFieldErrorView {
    pub field: String,
    pub message: String,
}

impl From<ConfigFieldError> for ConfigFieldErrorView {
    fn from(e: ConfigFieldError) -> Self {
        Self {
            field: e.field,
            message: e.message,
        }
    }
}

impl ResponseError for JsonError {
    fn status_code(&self) -> StatusCode {
        self.0.status()
    }

    fn error_response(&self) -> HttpResponse {
        self.0.log();
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.0.code().into_owned(),
                message: self.0.public_message(),
                field: self.0.field(),
                errors: self
                    .0
                    .field_errors()
                    .into_iter()
                    .map(ConfigFieldErrorView::from)
                    .collect(),
                cells: match &self.0 {
                    HttpError::Service(ServiceError::GradesRejected(cells)) => cells
                        .iter()
                        .map(|c| GradeCellErrorView {
                            user: c.user.0,
                            item: c.item.0,
                            message: c.message.clone(),
                        })
                        .collect(),
                    _ => Vec::new(),
                },
            },
        };
        let mut response = HttpResponse::build(self.0.status());
        match &self.0 {
            HttpError::Unauthenticated => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"charon\""));
            }
            HttpError::MethodNotAllowed { allow, .. } => {
                response.insert_header((header::ALLOW, allow.clone()));
            }
            _ => {}
        }
        let mut response = response.json(body);
        self.0.finish(&mut response);
        response
    }
}
