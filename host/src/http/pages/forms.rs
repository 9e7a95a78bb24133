//! What every page form shares: turning a refused service call into
//! messages beside their fields, rendering a page with a status, and the
//! query string and page links of a searched, paged list (its search box
//! is a form too).
//!
//! A form that the service refuses for its content is answered on the same
//! page (status 422) with the visitor's values kept, each message next to
//! its field and a summary at the top; nothing was written, because the
//! service call that refused is the only writer. Refusals that are not
//! about the content (not allowed, not found, a storage fault) become the
//! error page as everywhere else.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use askama::Template;

use super::super::HttpError;
use super::session::url_escape;
use crate::services::ServiceError;

/// Messages of a refused form: per field, and for the form as a whole.
#[derive(Clone, Debug, Default)]
pub(crate) struct FormErrors {
    fields: Vec<(String, String)>,
    pub general: Option<String>,
}

impl FormErrors {
    pub fn none() -> Self {
        Self::default()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.general.is_none()
    }

    /// The message for `field`, if it has one.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }

    /// Every message, for the summary at the top of the form.
    pub fn all(&self) -> Vec<String> {
        let mut out: Vec<String> = self.general.iter().cloned().collect();
        out.extend(self.fields.iter().map(|(f, m)| {
            // A plugin's config inputs are `config.{key}`: the key says it.
            let key = f.strip_prefix("config.").unwrap_or(f);
            let mut name = key.replace(['_', '-', '.'], " ");
            if let Some(first) = name.get(..1) {
                name = first.to_uppercase() + &name[1..];
            }
            format!("{name}: {m}")
        }));
        out
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.fields.push((field.to_owned(), message.into()));
    }

    /// Keeps a content refusal as form messages; anything else is an error
    /// for the error page. `field_map` renames a service field to the
    /// form's input name where they differ (e.g. `config.role` → `role`).
    pub fn from_service(e: ServiceError) -> Result<Self, HttpError> {
        let mut errors = Self::default();
        match e {
            ServiceError::Invalid { field, message }
            | ServiceError::Duplicate { field, message } => {
                errors.add(field, message);
            }
            ServiceError::ConfigRejected {
                context,
                errors: list,
            } => {
                for fe in list {
                    if fe.field.is_empty() {
                        errors.general = Some(fe.message);
                    } else {
                        errors.add(&fe.field, fe.message);
                    }
                }
                if errors.is_empty() {
                    errors.general = Some(context);
                }
            }
            ServiceError::Refused {
                message,
                field: Some(field),
                ..
            } => errors.add(&field, message),
            ServiceError::Refused { message, .. } => errors.general = Some(message),
            e @ (ServiceError::NotEnrolled { .. } | ServiceError::Conflict(_)) => {
                errors.general = Some(e.to_string());
            }
            other => return Err(HttpError::Service(other)),
        }
        Ok(errors)
    }
}

/// The confirmation asked before a destructive action: what it will
/// affect, and the form that does it.
#[derive(Template)]
#[template(path = "pages/confirm.html")]
pub(crate) struct ConfirmPage {
    pub layout: super::Layout,
    pub heading: String,
    /// What the action will affect, one line each.
    pub effects: Vec<String>,
    pub action: String,
    pub csrf: String,
    pub button: String,
    pub cancel: String,
}

/// Renders `page` with `status` (200 for a page, 422 for a refused form).
pub(crate) fn render<T: Template>(page: &T, status: StatusCode) -> Result<HttpResponse, HttpError> {
    let html = page
        .render()
        .map_err(|e| HttpError::Internal(format!("template: {e}")))?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .body(html))
}

/// A form post's service call, split the way its handler answers it:
/// `Ok(Ok(_))` done; `Ok(Err(errors))` refused for what the form said, to
/// re-render it with the errors beside their fields; `Err` anything else,
/// for the error page (the handler's `?`).
pub(crate) fn form_outcome<T>(
    result: Result<T, HttpError>,
) -> Result<Result<T, FormErrors>, HttpError> {
    match result {
        Ok(done) => Ok(Ok(done)),
        Err(HttpError::Service(e)) => FormErrors::from_service(e).map(Err),
        Err(e) => Err(e),
    }
}

/// The status of a page that shows `errors`: 422 when there are any.
pub(crate) fn status_for(errors: &FormErrors) -> StatusCode {
    if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    }
}

/// A checkbox's value in a form body: present means ticked.
pub(crate) fn ticked(value: &Option<String>) -> bool {
    value.as_deref().is_some_and(|v| !v.is_empty() && v != "0")
}

/// The `after` cursor of a list page's query string.
pub(crate) fn cursor(after: &Option<String>) -> Option<u64> {
    after.as_deref().and_then(|a| a.parse().ok())
}

/// The query string of a searched, paged list: the words typed in its
/// search box and where the page starts.
#[derive(serde::Deserialize)]
pub(crate) struct ListQuery {
    pub q: Option<String>,
    pub after: Option<String>,
}

/// What a list searches for: the words typed, trimmed; no search when
/// they are blank.
pub(crate) fn search_of(q: &str) -> Option<&str> {
    Some(q.trim()).filter(|s| !s.is_empty())
}

/// The links of a page of the list at `base` searched for `q`: to its
/// first page unless this is it, and to the page after `next` if there is
/// one. The words stay as typed, so the search box shows them again.
pub(crate) fn page_links(
    base: &str,
    q: &str,
    first_page: bool,
    next: Option<impl std::fmt::Display>,
) -> (Option<String>, Option<String>) {
    let href = |after: Option<String>| {
        let mut href = format!("{base}?q={}", url_escape(q));
        if let Some(a) = after {
            href.push_str(&format!("&after={a}"));
        }
        href
    };
    (
        (!first_page).then(|| href(None)),
        next.map(|n| href(Some(n.to_string()))),
    )
}

/// Rows per list page.
pub(crate) const PAGE_SIZE: usize = 50;

/// The fields of a form that sends nothing but its CSRF token (a button
/// that deletes, withdraws, applies).
#[derive(serde::Deserialize)]
pub(crate) struct Empty {}

/// A `datetime-local` input's `YYYY-MM-DDTHH:MM[:SS]`, read as UTC, for
/// the form field `field`; blank is `None`.
pub(crate) fn datetime_of(
    field: &str,
    value: &str,
) -> Result<Option<crate::domain::Timestamp>, FormErrors> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    let with_seconds =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    let without = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
    time::PrimitiveDateTime::parse(value, &with_seconds)
        .or_else(|_| time::PrimitiveDateTime::parse(value, &without))
        .map(|t| {
            Some(crate::domain::Timestamp(
                (t.assume_utc().unix_timestamp_nanos() / 1_000_000) as i64,
            ))
        })
        .map_err(|_| {
            let mut errors = FormErrors::none();
            errors.add(field, "is not a date and time such as 2026-12-24T09:00");
            errors
        })
}

/// A `datetime-local` value (UTC) for `at`.
pub(crate) fn datetime_local(at: crate::domain::Timestamp) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(at.0) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::page_links;

    #[test]
    fn a_list_links_its_first_page_from_any_other_and_its_next_page_if_any() {
        assert_eq!(
            page_links("/s/acme/users", "ann lee", true, Some(7)),
            (None, Some("/s/acme/users?q=ann%20lee&after=7".to_owned()))
        );
        assert_eq!(
            page_links("/s/acme/users", "", false, None::<u64>),
            (Some("/s/acme/users?q=".to_owned()), None)
        );
    }
}
