//! `/audit`: a site's audit log, newest first, for site admins.
//!
//! Filters: `action` (a prefix such as `group.`), `actor` (`user:5`,
//! `operator:1`, `method:3` or `system`, the form [`ActorView`](super::views::ActorView) shows) and
//! `q` (text in the target or the reason). The cursor is the id of the
//! last entry of the previous page: ids only grow, so pages stay stable
//! while new entries are written.

use actix_web::{get, web};
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

use super::views::AuditEntryView;
use super::{ApiResult, Page, SiteApi};
use crate::domain::{Actor, AuditId, EnrolmentMethodId, OperatorId, UserId};
use crate::http::{ErrorBody, HttpError, blocking};
use crate::services::AuditFilter;

pub(super) fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_audit);
}

/// Parses the `actor` filter: `user:5`, `operator:1`, `method:3`, `system`.
fn parse_actor(text: &str) -> Result<Actor, HttpError> {
    let bad = || HttpError::BadField {
        field: Some("actor".into()),
        message: format!(
            "{text:?} is not an actor; write user:ID, operator:ID, method:ID or system"
        ),
    };
    let text = text.trim();
    if text.eq_ignore_ascii_case("system") {
        return Ok(Actor::System);
    }
    let (kind, id) = text.split_once(':').ok_or_else(bad)?;
    let id: u64 = id.trim().parse().map_err(|_| bad())?;
    match kind.trim().to_ascii_lowercase().as_str() {
        "user" => Ok(Actor::User(UserId(id))),
        "operator" => Ok(Actor::Operator(OperatorId(id))),
        "method" => Ok(Actor::Method(EnrolmentMethodId(id))),
        _ => Err(bad()),
    }
}

/// `?action=…&actor=…&q=…&cursor=…&limit=…`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Keep actions that start with this, e.g. `group.` or
    /// `segment.member_added`.
    pub action: Option<String>,
    /// Keep changes by this actor: `user:5`, `operator:1`, `method:3` or
    /// `system`.
    pub actor: Option<String>,
    /// Case-insensitive text in the target or the reason.
    pub q: Option<String>,
    /// `next_cursor` of the previous page; empty or absent for the newest.
    #[param(pattern = "^[0-9]{0,19}$")]
    pub cursor: Option<String>,
    /// Page size, 1 to 1000 (default 50); anything else is refused (422).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    pub limit: Option<super::paging::Limit>,
}

impl AuditQuery {
    fn filter(&self) -> Result<AuditFilter, HttpError> {
        fn non_empty(v: &Option<String>) -> Option<&str> {
            v.as_deref().map(str::trim).filter(|v| !v.is_empty())
        }
        Ok(AuditFilter {
            action_prefix: non_empty(&self.action).map(str::to_owned),
            actor: non_empty(&self.actor).map(parse_actor).transpose()?,
            text: non_empty(&self.q).map(str::to_owned),
        })
    }

    fn before(&self) -> Result<Option<AuditId>, HttpError> {
        super::paging::cursor(self.cursor.as_deref(), "the audit log")
    }
}

/// The site's audit log, newest first (site admins).
#[utoipa::path(
    tag = "audit",
    params(AuditQuery),
    responses(
        (status = 200, description = "a page of entries, newest first", body = Page<AuditEntryView>),
        (status = 400, description = "an unknown query parameter", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, description = "a malformed actor or cursor", body = ErrorBody),
    )
)]
#[get("/audit")]
async fn list_audit(
    api: SiteApi,
    query: web::Query<AuditQuery>,
) -> ApiResult<web::Json<Page<AuditEntryView>>> {
    let filter = query.filter()?;
    let before = query.before()?;
    let limit = super::paging::Limit::checked(query.limit.as_ref(), super::DEFAULT_LIMIT)?;
    let SiteApi { who, site } = api;
    let page = blocking(move || site.audit_log(&who, &filter, before, limit)).await?;
    Ok(web::Json(Page::from_service(page, AuditEntryView::from)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actors_are_parsed_in_the_form_the_api_shows() {
        assert_eq!(parse_actor("user:5").ok(), Some(Actor::User(UserId(5))));
        assert_eq!(
            parse_actor("Operator: 1").ok(),
            Some(Actor::Operator(OperatorId(1)))
        );
        assert_eq!(
            parse_actor("method:3").ok(),
            Some(Actor::Method(EnrolmentMethodId(3)))
        );
        assert_eq!(parse_actor("system").ok(), Some(Actor::System));
        for bad in ["user", "user:x", "robot:1", "5", ""] {
            assert!(parse_actor(bad).is_err(), "{bad:?}");
        }
    }
}
