//! `/segments/{id}/rule`: the rule that keeps a segment's members (a
//! segment-rule plugin with its config), and `/rule-plugins`, the plugins
//! a rule may use. Site admins only.
//!
//! While a rule is attached the segment is managed by its plugin: adding
//! or removing members by hand answers 409, and the plugin adds and
//! removes them as users change (audited as `{"kind":"rule",…}`).

use actix_web::{HttpResponse, delete, get, patch, post, put, web};
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

use super::JsonBody;
use super::views::{
    Mirror, PluginManifestView, RuleOutcomeView, SegmentRuleSetView, SegmentRuleView,
};
use super::{ApiResult, IdPath, Page, SiteApi};
use crate::domain::SegmentId;
use crate::http::{ErrorBody, blocking};
use crate::services::{Ask, Need, ServiceError};

pub(super) fn routes(cfg: &mut ServiceConfig) {
    cfg.service(get_rule)
        .service(set_rule)
        .service(enable_rule)
        .service(remove_rule)
        .service(run_rule)
        .service(rule_plugins);
}

/// The rule to attach to a segment (or to replace its rule with).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetSegmentRule {
    /// A segment-rule plugin enabled on the site, e.g. `profile-field-rules`
    /// (see `GET /rule-plugins`).
    pub plugin: String,
    /// The plugin's config, a JSON object of its form's keys, e.g.
    /// `{"match": "all", "rule": "profile.department equals HR"}`.
    #[schema(value_type = Object)]
    pub config: serde_json::Value,
}

/// Pauses or resumes a segment's rule.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnableSegmentRule {
    /// False pauses the rule (the segment stays managed); true resumes it
    /// and runs a reconcile to catch up.
    pub enabled: bool,
}

/// How to run a segment's rule now.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunSegmentRule {
    /// Say who would join and leave, changing nothing. Default false.
    #[serde(default)]
    pub dry_run: bool,
}

/// The rule of a segment (site admins).
#[utoipa::path(
    tag = "segments",
    params(("id" = u64, Path, description = "segment id")),
    responses(
        (status = 200, body = SegmentRuleView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "no such segment, or the segment has no rule", body = ErrorBody),
    )
)]
#[get("/segments/{id}/rule")]
async fn get_rule(api: SiteApi, path: web::Path<IdPath>) -> ApiResult<web::Json<SegmentRuleView>> {
    let SiteApi { who, site } = api;
    let id = SegmentId(path.id);
    let found = blocking(move || site.segment_rule(&who, id)?.ok_or_else(|| no_rule(id))).await?;
    Ok(web::Json(found.into()))
}

/// Attaches a rule to a segment, or replaces its rule, then runs its
/// first reconcile: the members become the users the rule selects (those
/// added by hand and not selected leave). A failed first run leaves the
/// rule attached, its error in `first_run` and in the rule's last run
/// (site admins).
#[utoipa::path(
    tag = "segments",
    params(("id" = u64, Path, description = "segment id")),
    request_body = SetSegmentRule,
    responses(
        (status = 200, description = "set, with how its first run went", body = SegmentRuleSetView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "the segment is managed by another component", body = ErrorBody),
        (status = 422, description = "the plugin is not a segment rule enabled on the site (field `plugin`), the config is not an object, or the config does not fit the plugin's form or the plugin refuses it (code `config_rejected`, each refused key, e.g. `rule` with its line, in `errors`)", body = ErrorBody),
        (status = 502, description = "the plugin failed while checking the config", body = ErrorBody),
    )
)]
#[put("/segments/{id}/rule")]
async fn set_rule(
    api: SiteApi,
    path: web::Path<IdPath>,
    body: JsonBody<SetSegmentRule>,
) -> ApiResult<web::Json<SegmentRuleSetView>> {
    let body = body
        .read(api.authorise(Ask::Site(Need::SiteAdmin)).await?)
        .await?;
    let SiteApi { who, site } = api;
    let id = SegmentId(path.id);
    let set = blocking(move || {
        let set = site.set_segment_rule(&who, id, &body.plugin, &body.config)?;
        let rule = site.segment_rule(&who, id)?.ok_or_else(|| no_rule(id))?;
        Ok((rule, set.outcome))
    })
    .await?;
    Ok(web::Json(set.into()))
}

/// Pauses or resumes a segment's rule; resuming runs a reconcile, whose
/// outcome is the rule's last run (site admins).
#[utoipa::path(
    tag = "segments",
    params(("id" = u64, Path, description = "segment id")),
    request_body = EnableSegmentRule,
    responses(
        (status = 200, body = SegmentRuleView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "no such segment, or the segment has no rule", body = ErrorBody),
    )
)]
#[patch("/segments/{id}/rule")]
async fn enable_rule(
    api: SiteApi,
    path: web::Path<IdPath>,
    body: JsonBody<EnableSegmentRule>,
) -> ApiResult<web::Json<SegmentRuleView>> {
    let body = body
        .read(api.authorise(Ask::Site(Need::SiteAdmin)).await?)
        .await?;
    let SiteApi { who, site } = api;
    let id = SegmentId(path.id);
    let rule = blocking(move || {
        site.set_segment_rule_enabled(&who, id, body.enabled)?;
        site.segment_rule(&who, id)?.ok_or_else(|| no_rule(id))
    })
    .await?;
    Ok(web::Json(rule.into()))
}

/// Detaches a segment's rule: its members stay, and may be changed by
/// hand again (site admins).
#[utoipa::path(
    tag = "segments",
    params(("id" = u64, Path, description = "segment id")),
    responses(
        (status = 204, description = "detached"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "no such segment, or the segment has no rule", body = ErrorBody),
    )
)]
#[delete("/segments/{id}/rule")]
async fn remove_rule(api: SiteApi, path: web::Path<IdPath>) -> ApiResult<HttpResponse> {
    let SiteApi { who, site } = api;
    let id = SegmentId(path.id);
    blocking(move || site.remove_segment_rule(&who, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Runs a segment's rule now: a reconcile that brings the members in line
/// with the rule, or a dry run that says who would join and leave, and
/// why, changing nothing (site admins).
#[utoipa::path(
    tag = "segments",
    params(("id" = u64, Path, description = "segment id")),
    request_body = RunSegmentRule,
    responses(
        (status = 200, description = "what the run did, or would do", body = RuleOutcomeView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "no such segment, or the segment has no rule", body = ErrorBody),
        (status = 409, description = "the rule is paused (a dry run still answers)", body = ErrorBody),
        (status = 422, description = "the rule's plugin is no longer enabled on the site", body = ErrorBody),
        (status = 502, description = "the rule's plugin failed; the error is also its last run", body = ErrorBody),
    )
)]
#[post("/segments/{id}/rule/run")]
async fn run_rule(
    api: SiteApi,
    path: web::Path<IdPath>,
    body: JsonBody<RunSegmentRule>,
) -> ApiResult<web::Json<RuleOutcomeView>> {
    let body = body
        .read(api.authorise(Ask::Site(Need::SiteAdmin)).await?)
        .await?;
    let SiteApi { who, site } = api;
    let id = SegmentId(path.id);
    let outcome = blocking(move || site.run_segment_rule(&who, id, body.dry_run)).await?;
    Ok(web::Json(outcome.into()))
}

/// The segment-rule plugins enabled on the site, with their config forms:
/// what `PUT /segments/{id}/rule` accepts (site admins).
#[utoipa::path(
    tag = "segments",
    responses(
        (status = 200, description = "every enabled segment-rule plugin, in one page", body = Page<PluginManifestView>),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    )
)]
#[get("/rule-plugins")]
async fn rule_plugins(api: SiteApi) -> ApiResult<web::Json<Page<PluginManifestView>>> {
    let SiteApi { who, site } = api;
    let items = blocking(move || site.rule_plugins(&who)).await?;
    Ok(web::Json(Page {
        items: items.mirror(),
        next_cursor: None,
    }))
}

/// A segment without a rule, as the rule routes answer it.
fn no_rule(segment: SegmentId) -> ServiceError {
    ServiceError::NotFound(format!("segment #{segment} has no rule"))
}
