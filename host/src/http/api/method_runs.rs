//! Running enrolment methods: requests through an enrolment method
//! (`/methods/{id}/requests`), self enrolment into a course
//! (`/courses/{id}/self-enrol`), reconcile (`/methods/{id}/reconcile`) and
//! an enrolment method's status and last error (`/methods/{id}/status`).
//!
//! These call a plugin, so they run on the blocking pool like every
//! service call. A plugin's refusal answers 422 with the plugin's `code`
//! and `field`; a plugin that fails (stopped for time or memory, crashed,
//! a plan too large or rejected by the host) answers 502 with a code
//! saying how, and the failure becomes the method's last error.

use actix_web::{get, post, web};
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::services::{Ask, Need};

use super::JsonBody;

use super::views::{
    CourseGroupIdView, EnrolmentMethodIdView, MethodPreviewView, MethodReconcileView,
    MethodRunStatusView, Mirror, ReconcileReportView, RequestOutcomeView, RoleView, UserIdView,
};
use super::{ApiResult, IdPath, MAX_BULK_USERS, SiteApi};
use crate::domain::{CourseId, EnrolmentMethodId};
use crate::http::{ErrorBody, HttpError, blocking};
use crate::services::execution::MethodRequest;

pub(super) fn routes(cfg: &mut ServiceConfig) {
    cfg.service(method_status)
        .service(method_request)
        .service(reconcile)
        .service(reconcile_site)
        .service(preview_method)
        .service(self_enrol);
}

/// What a request asks of the method.
#[derive(Clone, Copy, Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    /// Enrol `users` (with `role`, optionally into `group`); needs to
    /// manage the course.
    EnrolUsers,
    /// Unenrol `users` from this enrolment method; needs to manage the course.
    UnenrolUsers,
    /// Enrol yourself, with the enrolment `key` if the method has one.
    SelfEnrol,
    /// Leave the course.
    SelfUnenrol,
}

/// A request through an enrolment method. Which fields apply depends on
/// `kind`; a field that does not apply is refused.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MethodRequestBody {
    pub kind: RequestKind,
    /// `enrol_users`, `unenrol_users`: at most 100,000 ids.
    pub users: Option<Vec<UserIdView>>,
    /// `enrol_users`: the role; absent lets the plugin choose.
    pub role: Option<RoleView>,
    /// `enrol_users`: a group of the course to put them in.
    pub group: Option<CourseGroupIdView>,
    /// `self_enrol`, `self_unenrol`: yourself (the default); anyone else
    /// is refused.
    pub user: Option<UserIdView>,
    /// `self_enrol`: the enrolment key typed.
    pub key: Option<String>,
    /// Return the plan, checked and counted, without applying it.
    #[serde(default)]
    pub dry_run: bool,
}

fn not_for(kind: &str, field: &str) -> HttpError {
    HttpError::BadField {
        field: Some(field.into()),
        message: format!("`{field}` does not apply to a {kind} request"),
    }
}

impl MethodRequestBody {
    fn request(self) -> Result<(MethodRequest, bool), HttpError> {
        let users = |users: Option<Vec<UserIdView>>| match users {
            None => Err(HttpError::BadField {
                field: Some("users".into()),
                message: "missing field `users`".into(),
            }),
            Some(u) if u.len() > MAX_BULK_USERS => Err(HttpError::BadField {
                field: Some("users".into()),
                message: format!(
                    "{} users in one call; the maximum is {MAX_BULK_USERS}",
                    u.len()
                ),
            }),
            Some(u) => Ok(u.mirror()),
        };
        let request = match self.kind {
            RequestKind::EnrolUsers => {
                if self.user.is_some() {
                    return Err(not_for("enrol_users", "user"));
                }
                if self.key.is_some() {
                    return Err(not_for("enrol_users", "key"));
                }
                MethodRequest::EnrolUsers {
                    users: users(self.users)?,
                    role: self.role.mirror(),
                    group: self.group.mirror(),
                }
            }
            RequestKind::UnenrolUsers => {
                for (given, field) in [
                    (self.role.is_some(), "role"),
                    (self.group.is_some(), "group"),
                    (self.user.is_some(), "user"),
                    (self.key.is_some(), "key"),
                ] {
                    if given {
                        return Err(not_for("unenrol_users", field));
                    }
                }
                MethodRequest::UnenrolUsers {
                    users: users(self.users)?,
                }
            }
            RequestKind::SelfEnrol | RequestKind::SelfUnenrol => {
                let kind = match self.kind {
                    RequestKind::SelfEnrol => "self_enrol",
                    _ => "self_unenrol",
                };
                for (given, field) in [
                    (self.users.is_some(), "users"),
                    (self.role.is_some(), "role"),
                    (self.group.is_some(), "group"),
                ] {
                    if given {
                        return Err(not_for(kind, field));
                    }
                }
                match self.kind {
                    RequestKind::SelfEnrol => MethodRequest::SelfEnrol {
                        user: self.user.mirror(),
                        key: self.key,
                    },
                    _ if self.key.is_some() => return Err(not_for(kind, "key")),
                    _ => MethodRequest::SelfUnenrol {
                        user: self.user.mirror(),
                    },
                }
            }
        };
        Ok((request, self.dry_run))
    }
}

/// An enrolment method's status, plugin version, last error and error
/// count.
#[utoipa::path(
    tag = "enrolments",
    params(("id" = u64, Path, description = "enrolment method id")),
    responses((status = 200, body = MethodRunStatusView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[get("/methods/{id}/status")]
async fn method_status(
    api: SiteApi,
    path: web::Path<IdPath>,
) -> ApiResult<web::Json<MethodRunStatusView>> {
    let SiteApi { who, site } = api;
    let id = EnrolmentMethodId(path.id);
    let status = blocking(move || site.method_status(&who, id)).await?;
    Ok(web::Json(status.into()))
}

/// Asks an enrolment method's plugin to enrol or unenrol users, or the
/// caller themselves, and applies the plan it returns (or, with
/// `dry_run`, returns it without applying).
#[utoipa::path(
    tag = "enrolments",
    params(("id" = u64, Path, description = "enrolment method id")),
    request_body = MethodRequestBody,
    responses(
        (status = 200, description = "the plan, applied unless `dry_run`", body = RequestOutcomeView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "the enrolment method is disabled", body = ErrorBody),
        (status = 422, description = "a field is invalid, or the plugin refused (its `code` and `field`)", body = ErrorBody),
        (status = 502, description = "the plugin failed or returned a plan the host rejected; recorded as the method's last error", body = ErrorBody),
    )
)]
#[post("/methods/{id}/requests")]
async fn method_request(
    api: SiteApi,
    path: web::Path<IdPath>,
    body: JsonBody<MethodRequestBody>,
) -> ApiResult<web::Json<RequestOutcomeView>> {
    let body = body
        .read(api.authorise(Ask::Site(Need::SiteMember)).await?)
        .await?;
    let SiteApi { who, site } = api;
    let id = EnrolmentMethodId(path.id);
    let (request, dry_run) = body.request()?;
    let outcome = blocking(move || site.method_request(&who, id, request, dry_run)).await?;
    Ok(web::Json(outcome.into()))
}

/// `?dry_run=true` reports without applying.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DryRunQuery {
    /// Report what would change and write nothing (default false).
    pub dry_run: Option<bool>,
}

/// Runs an enrolment method's reconcile to the end, each page applied in
/// its own transaction, and reports what changed.
#[utoipa::path(
    tag = "enrolments",
    params(("id" = u64, Path, description = "enrolment method id"), DryRunQuery),
    responses(
        (status = 200, body = ReconcileReportView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, description = "the plugin refused", body = ErrorBody),
        (status = 502, description = "the plugin failed or returned a plan the host rejected; pages before it stay applied", body = ErrorBody),
    )
)]
#[post("/methods/{id}/reconcile")]
async fn reconcile(
    api: SiteApi,
    path: web::Path<IdPath>,
    query: web::Query<DryRunQuery>,
) -> ApiResult<web::Json<ReconcileReportView>> {
    let SiteApi { who, site } = api;
    let id = EnrolmentMethodId(path.id);
    let dry_run = query.dry_run.unwrap_or(false);
    let report = blocking(move || site.reconcile_method(&who, id, dry_run)).await?;
    Ok(web::Json(report.into()))
}

/// Which enrolment methods a site reconcile runs.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SiteReconcileQuery {
    /// Only this course's enrolment methods (course managers may ask); default
    /// every enrolment method of the site (site admins).
    pub course: Option<u64>,
    /// Report what would change and write nothing (default false).
    pub dry_run: Option<bool>,
}

/// Reconciles every enrolment method of the site, or of one course, and
/// reports each; one that fails does not stop the others.
#[utoipa::path(
    tag = "enrolments",
    params(SiteReconcileQuery),
    responses(
        (status = 200, description = "one entry per enrolment method", body = Vec<MethodReconcileView>),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    )
)]
#[post("/reconcile")]
async fn reconcile_site(
    api: SiteApi,
    query: web::Query<SiteReconcileQuery>,
) -> ApiResult<web::Json<Vec<MethodReconcileView>>> {
    let SiteApi { who, site } = api;
    let q = query.into_inner();
    let course = q.course.map(CourseId);
    let dry_run = q.dry_run.unwrap_or(false);
    let done = blocking(move || site.reconcile_site(&who, course, dry_run)).await?;
    Ok(web::Json(done.mirror()))
}

/// What adding this enrolment method would do (enrolments, group
/// memberships, the groups it would create), without adding it. The body
/// is the one of `POST /courses/{id}/methods`.
#[utoipa::path(
    tag = "enrolments",
    params(("id" = u64, Path, description = "course id")),
    request_body = super::enrolments::AddMethod,
    responses(
        (status = 200, body = MethodPreviewView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, description = "as when adding: a bad field, a plugin not enabled, or a config the plugin refuses", body = ErrorBody),
        (status = 502, description = "the plugin failed", body = ErrorBody),
    )
)]
#[post("/courses/{id}/methods/preview")]
async fn preview_method(
    api: SiteApi,
    path: web::Path<IdPath>,
    body: JsonBody<super::enrolments::AddMethod>,
) -> ApiResult<web::Json<MethodPreviewView>> {
    let body = body
        .read(
            api.authorise(Ask::Site(Need::ConfigureCourse(CourseId(path.id))))
                .await?,
        )
        .await?;
    let SiteApi { who, site } = api;
    let id = CourseId(path.id);
    let new = body.into_new();
    let preview = blocking(move || site.preview_method(&who, id, new)).await?;
    Ok(web::Json(preview.into()))
}

/// Self enrolment into a course.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SelfEnrolBody {
    /// The enrolment method to use; default the course's first enabled
    /// `self` method.
    pub method: Option<EnrolmentMethodIdView>,
    /// The enrolment key, if the method asks for one.
    pub key: Option<String>,
    #[serde(default)]
    pub dry_run: bool,
}

/// The caller enrols themselves in a course through its self enrolment.
#[utoipa::path(
    tag = "enrolments",
    params(("id" = u64, Path, description = "course id")),
    request_body = SelfEnrolBody,
    responses(
        (status = 200, description = "the plan, applied unless `dry_run`", body = RequestOutcomeView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "no such course, or no self enrolment in it", body = ErrorBody),
        (status = 409, description = "the enrolment method is disabled", body = ErrorBody),
        (status = 422, description = "the plugin refused (e.g. a wrong key), with its `code` and `field`", body = ErrorBody),
        (status = 502, description = "the plugin failed", body = ErrorBody),
    )
)]
#[post("/courses/{id}/self-enrol")]
async fn self_enrol(
    api: SiteApi,
    path: web::Path<IdPath>,
    body: JsonBody<SelfEnrolBody>,
) -> ApiResult<web::Json<RequestOutcomeView>> {
    let body = body
        .read(api.authorise(Ask::Site(Need::SiteMember)).await?)
        .await?;
    let SiteApi { who, site } = api;
    let course = CourseId(path.id);
    let b = body;
    let outcome =
        blocking(move || site.self_enrol(&who, course, b.method.mirror(), b.key, b.dry_run))
            .await?;
    Ok(web::Json(outcome.into()))
}
