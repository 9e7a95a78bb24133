//! Enrolment methods of a course (`/courses/{id}/methods`, `/methods/…`),
//! the enrolments made through them (`/methods/{id}/enrolments/…`) and the
//! participants they make (`/courses/{id}/participants`).

use actix_web::{HttpResponse, delete, get, patch, post, web};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::services::{Ask, Need, ServiceResult, SiteServices};

use super::JsonBody;

use super::views::{
    AddedMethodView, EnrolmentStatusView, EnrolmentView, FirstRunOutcomeView, FirstRunView,
    MethodView, Mirror, ParticipantView, RoleView, UserIdView,
};
use super::{
    ApiResult, IdPath, IdUserPath, MAX_BULK_USERS, MembershipChange, Page, PageQuery, SiteApi,
};
use crate::domain::{
    CourseId, EnrolmentMethod, EnrolmentMethodId, EnrolmentMethodStatus, Role, UserId,
};
use crate::http::{ErrorBody, HttpError, blocking};
use crate::services::enrolments::{EnrolmentUpdate, MethodUpdate, NewMethod};

pub(super) fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_methods)
        .service(add_method)
        .service(get_method)
        .service(update_method)
        .service(enable_method)
        .service(disable_method)
        .service(delete_method)
        .service(list_participants)
        .service(enrol)
        .service(update_enrolment)
        .service(unenrol);
}

/// A new enrolment method on a course.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMethod {
    /// The plugin id, e.g. `manual`, `self`, `segment-sync`.
    pub plugin: String,
    /// What the pages show; default (or blank) the plugin id.
    #[serde(default)]
    pub name: String,
    /// The plugin's settings, a JSON object; default `{}`.
    #[schema(value_type = Option<Object>)]
    pub config: Option<serde_json::Value>,
    /// Default true.
    pub enabled: Option<bool>,
    /// Default true: run the method's first reconcile before answering
    /// and report it in `first_run`. False answers at once and leaves the
    /// first run to the dispatcher (the plugin's `method-added` event).
    /// A preview ignores it.
    pub wait_for_first_run: Option<bool>,
}

impl AddMethod {
    pub(super) fn into_new(self) -> NewMethod {
        NewMethod {
            plugin: self.plugin,
            name: self.name,
            config: self
                .config
                .unwrap_or_else(|| serde_json::Value::Object(Default::default())),
            enabled: self.enabled.unwrap_or(true),
        }
    }
}

/// Changes to an enrolment method; absent fields stay as they are. Enable
/// or disable it with `…/enable` and `…/disable`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMethod {
    pub name: Option<String>,
    /// Replaces the whole config; a JSON object.
    #[schema(value_type = Option<Object>)]
    pub config: Option<serde_json::Value>,
}

/// Whom to enrol: `user` for one (the answer is the enrolment), or `users`
/// for many in one transaction, all or none (the answer counts them).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Enrol {
    pub user: Option<UserIdView>,
    /// At most 100,000 ids.
    pub users: Option<Vec<UserIdView>>,
    /// Default `learner`.
    pub role: Option<RoleView>,
}

/// Who, checked: exactly one of `user` and `users`, within the bulk limit.
enum Whom {
    One(UserId),
    Many(Vec<UserId>),
}

impl Enrol {
    fn whom(self) -> Result<(Whom, Role), HttpError> {
        let role = self.role.mirror().unwrap_or(Role::Learner);
        let whom = match (self.user, self.users) {
            (Some(user), None) => Whom::One(user.mirror()),
            (None, Some(users)) if users.len() > MAX_BULK_USERS => {
                return Err(HttpError::BadField {
                    field: Some("users".into()),
                    message: format!(
                        "{} users in one call; the maximum is {MAX_BULK_USERS}",
                        users.len()
                    ),
                });
            }
            (None, Some(users)) => Whom::Many(users.mirror()),
            (None, None) => {
                return Err(HttpError::BadField {
                    field: Some("user".into()),
                    message: "missing field `user` (or `users` to enrol many)".into(),
                });
            }
            (Some(_), Some(_)) => {
                return Err(HttpError::BadField {
                    field: Some("users".into()),
                    message: "give `user` or `users`, not both".into(),
                });
            }
        };
        Ok((whom, role))
    }
}

/// What an enrolment call did: the enrolment of the one user, or the
/// counts of a bulk call.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Enrolled {
    One(EnrolmentView),
    Many(MembershipChange),
}

/// Changes to one enrolment, in one transaction; absent fields stay as
/// they are.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateEnrolment {
    pub status: Option<EnrolmentStatusView>,
    /// A role, or `null` to drop it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<RoleView>)]
    pub role: Option<Option<RoleView>>,
    /// Drop the role (with `"status": "suspended"`: Moodle's "suspend and
    /// remove role"); the same as `"role": null`.
    #[serde(default)]
    pub remove_role: bool,
}

/// Tells a field given as `null` (`Some(None)`) from an absent one (`None`).
pub(super) fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

impl UpdateEnrolment {
    fn checked(self) -> Result<EnrolmentUpdate, HttpError> {
        let role = match (self.remove_role, self.role) {
            (true, Some(Some(_))) => {
                return Err(HttpError::BadField {
                    field: Some("remove_role".into()),
                    message: "give a `role` or `remove_role`, not both".into(),
                });
            }
            (true, _) => Some(None),
            (false, role) => role,
        };
        Ok(EnrolmentUpdate {
            status: self.status.mirror(),
            role: role.mirror(),
        })
    }
}

/// The enrolment methods of a course, all in one page. Site admins and the
/// course's teachers.
#[utoipa::path(
    tag = "enrolments",
    params(("id" = u64, Path, description = "course id")),
    responses((status = 200, body = Page<MethodView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[get("/courses/{id}/methods")]
async fn list_methods(
    api: SiteApi,
    path: web::Path<IdPath>,
) -> ApiResult<web::Json<Page<MethodView>>> {
    let SiteApi { who, site } = api;
    let id = CourseId(path.id);
    let items = blocking(move || {
        let methods = site.list_methods(&who, id)?;
        methods
            .into_iter()
            .map(|m| shown(&site, m))
            .collect::<ServiceResult<Vec<_>>>()
    })
    .await?;
    Ok(web::Json(Page {
        items: items.into_iter().map(MethodView::from).collect(),
        next_cursor: None,
    }))
}

/// Adds an enrolment method to a course. Several of one plugin may be on
/// one course.
#[utoipa::path(
    tag = "enrolments",
    params(("id" = u64, Path, description = "course id")),
    request_body = AddMethod,
    responses(
        (status = 201, description = "added, with how its first run went: a failed first run (`first_run.outcome` `failed`) leaves the method added, its error recorded as its last error", body = AddedMethodView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, description = "a field is missing, unknown or invalid (config must be a JSON object), the plugin is not enabled on the site, or the plugin refuses the config (code `config_rejected`, with each refused key in `errors`)", body = ErrorBody),
        (status = 502, description = "the plugin failed while checking the config (code `plugin_crashed`, `plugin_timeout`, …)", body = ErrorBody),
    )
)]
#[post("/courses/{id}/methods")]
async fn add_method(
    api: SiteApi,
    path: web::Path<IdPath>,
    body: JsonBody<AddMethod>,
) -> ApiResult<HttpResponse> {
    let body = body
        .read(
            api.authorise(Ask::Site(Need::ConfigureCourse(CourseId(path.id))))
                .await?,
        )
        .await?;
    let SiteApi { who, site } = api;
    let id = CourseId(path.id);
    let wait = body.wait_for_first_run.unwrap_or(true);
    let new = body.into_new();
    let (added, first_run) = blocking(move || {
        let (method, first_run) = if wait {
            let added = site.add_method_and_run(&who, id, new)?;
            (added.method, FirstRunView::from(added.first_run))
        } else {
            let method = site.add_method(&who, id, new)?;
            let outcome = if method.status == EnrolmentMethodStatus::Enabled {
                FirstRunOutcomeView::Deferred
            } else {
                FirstRunOutcomeView::NotRun
            };
            let run = FirstRunView {
                outcome,
                report: None,
                error: None,
            };
            (method, run)
        };
        Ok((shown(&site, method)?, first_run))
    })
    .await?;
    Ok(HttpResponse::Created().json(AddedMethodView::from((added, first_run))))
}

/// One enrolment method.
#[utoipa::path(
    tag = "enrolments",
    params(("id" = u64, Path, description = "enrolment method id")),
    responses((status = 200, body = MethodView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[get("/methods/{id}")]
async fn get_method(api: SiteApi, path: web::Path<IdPath>) -> ApiResult<web::Json<MethodView>> {
    let SiteApi { who, site } = api;
    let id = EnrolmentMethodId(path.id);
    let found = blocking(move || {
        let found = site.get_method(&who, id)?;
        shown(&site, found)
    })
    .await?;
    Ok(web::Json(found.into()))
}

/// Renames an enrolment method or replaces its config; its plugin checks
/// a new config (and may normalise it) first.
#[utoipa::path(
    tag = "enrolments",
    params(("id" = u64, Path, description = "enrolment method id")),
    request_body = UpdateMethod,
    responses(
        (status = 200, body = MethodView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, description = "a field is unknown or invalid, the plugin is not enabled on the site, or it refuses the config (code `config_rejected`, with `errors`)", body = ErrorBody),
        (status = 502, description = "the plugin failed while checking the config; recorded as the method's last error", body = ErrorBody),
    )
)]
#[patch("/methods/{id}")]
async fn update_method(
    api: SiteApi,
    path: web::Path<IdPath>,
    body: JsonBody<UpdateMethod>,
) -> ApiResult<web::Json<MethodView>> {
    let body = body
        .read(
            api.authorise(Ask::Method(
                EnrolmentMethodId(path.id),
                Need::ConfigureCourse,
            ))
            .await?,
        )
        .await?;
    let SiteApi { who, site } = api;
    let id = EnrolmentMethodId(path.id);
    let b = body;
    let update = MethodUpdate {
        name: b.name,
        config: b.config,
    };
    let updated = blocking(move || {
        let updated = site.update_method(&who, id, update)?;
        shown(&site, updated)
    })
    .await?;
    Ok(web::Json(updated.into()))
}

/// Enables an enrolment method; enabling an enabled one changes nothing.
#[utoipa::path(
    tag = "enrolments",
    params(("id" = u64, Path, description = "enrolment method id")),
    responses((status = 200, body = MethodView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[post("/methods/{id}/enable")]
async fn enable_method(api: SiteApi, path: web::Path<IdPath>) -> ApiResult<web::Json<MethodView>> {
    let SiteApi { who, site } = api;
    let id = EnrolmentMethodId(path.id);
    let method = blocking(move || {
        let method = site.set_method_status(&who, id, EnrolmentMethodStatus::Enabled)?;
        shown(&site, method)
    })
    .await?;
    Ok(web::Json(method.into()))
}

/// Disables an enrolment method: it enrols nobody until enabled again.
#[utoipa::path(
    tag = "enrolments",
    params(("id" = u64, Path, description = "enrolment method id")),
    responses((status = 200, body = MethodView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[post("/methods/{id}/disable")]
async fn disable_method(api: SiteApi, path: web::Path<IdPath>) -> ApiResult<web::Json<MethodView>> {
    let SiteApi { who, site } = api;
    let id = EnrolmentMethodId(path.id);
    let method = blocking(move || {
        let method = site.set_method_status(&who, id, EnrolmentMethodStatus::Disabled)?;
        shown(&site, method)
    })
    .await?;
    Ok(web::Json(method.into()))
}

/// Deletes an enrolment method with its enrolments and the group
/// memberships it owns.
#[utoipa::path(
    tag = "enrolments",
    params(("id" = u64, Path, description = "enrolment method id")),
    responses((status = 204, description = "deleted"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[delete("/methods/{id}")]
async fn delete_method(api: SiteApi, path: web::Path<IdPath>) -> ApiResult<HttpResponse> {
    let SiteApi { who, site } = api;
    let id = EnrolmentMethodId(path.id);
    blocking(move || site.delete_method(&who, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The people of a course in user-id order, each with every enrolment
/// they have in it (active or not). `q` is not supported here.
#[utoipa::path(
    tag = "enrolments",
    params(("id" = u64, Path, description = "course id"), PageQuery),
    responses(
        (status = 200, body = Page<ParticipantView>),
        (status = 400, description = "the query string does not fit", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, description = "not a cursor of this collection", body = ErrorBody),
    )
)]
#[get("/courses/{id}/participants")]
async fn list_participants(
    api: SiteApi,
    path: web::Path<IdPath>,
    query: web::Query<PageQuery>,
) -> ApiResult<web::Json<Page<ParticipantView>>> {
    let after = query.cursor_id::<u64>()?.map(UserId);
    let limit = query.limit()?;
    let SiteApi { who, site } = api;
    let id = CourseId(path.id);
    let page = blocking(move || site.participants(&who, id, after, limit)).await?;
    Ok(web::Json(Page::from_service(page, ParticipantView::from)))
}

/// Enrols one user (`user`) or many (`users`, one transaction, all or
/// none) through a method, or re-activates their enrolment through it with
/// the given role.
#[utoipa::path(
    tag = "enrolments",
    params(("id" = u64, Path, description = "enrolment method id")),
    request_body = Enrol,
    responses(
        (status = 200, description = "the enrolment (for `user`) or the counts (for `users`)", body = Enrolled),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "no such method or user", body = ErrorBody),
        (status = 409, description = "the method is disabled", body = ErrorBody),
        (status = 422, description = "neither or both of `user` and `users`, or an unknown field", body = ErrorBody),
    )
)]
#[post("/methods/{id}/enrolments")]
async fn enrol(
    api: SiteApi,
    path: web::Path<IdPath>,
    body: JsonBody<Enrol>,
) -> ApiResult<web::Json<Enrolled>> {
    let body = body
        .read(
            api.authorise(Ask::Method(EnrolmentMethodId(path.id), Need::ManageCourse))
                .await?,
        )
        .await?;
    let SiteApi { who, site } = api;
    let id = EnrolmentMethodId(path.id);
    let (whom, role) = body.whom()?;
    let enrolled = blocking(move || match whom {
        Whom::One(user) => site
            .enrol(&who, id, user, role)
            .map(|e| Enrolled::One(e.into())),
        Whom::Many(users) => site
            .enrol_users(&who, id, &users, role)
            .map(|c| Enrolled::Many(c.into())),
    })
    .await?;
    Ok(web::Json(enrolled))
}

/// Suspends or re-activates an enrolment, sets or drops its role.
#[utoipa::path(
    tag = "enrolments",
    params(("id" = u64, Path, description = "enrolment method id"), ("user" = u64, Path, description = "user id")),
    request_body = UpdateEnrolment,
    responses(
        (status = 200, body = EnrolmentView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "no such method, or the user is not enrolled through it", body = ErrorBody),
        (status = 422, description = "a field is unknown or invalid", body = ErrorBody),
    )
)]
#[patch("/methods/{id}/enrolments/{user}")]
async fn update_enrolment(
    api: SiteApi,
    path: web::Path<IdUserPath>,
    body: JsonBody<UpdateEnrolment>,
) -> ApiResult<web::Json<EnrolmentView>> {
    let body = body
        .read(
            api.authorise(Ask::Method(EnrolmentMethodId(path.id), Need::ManageCourse))
                .await?,
        )
        .await?;
    let SiteApi { who, site } = api;
    let (id, user) = (EnrolmentMethodId(path.id), UserId(path.user));
    let update = body.checked()?;
    let enrolment = blocking(move || site.update_enrolment(&who, id, user, update)).await?;
    Ok(web::Json(enrolment.into()))
}

/// Removes an enrolment; when it was the user's last in the course, also
/// their groups there.
#[utoipa::path(
    tag = "enrolments",
    params(("id" = u64, Path, description = "enrolment method id"), ("user" = u64, Path, description = "user id")),
    responses(
        (status = 204, description = "unenrolled"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "no such method, or the user is not enrolled through it", body = ErrorBody),
    )
)]
#[delete("/methods/{id}/enrolments/{user}")]
async fn unenrol(api: SiteApi, path: web::Path<IdUserPath>) -> ApiResult<HttpResponse> {
    let SiteApi { who, site } = api;
    let (id, user) = (EnrolmentMethodId(path.id), UserId(path.user));
    blocking(move || site.unenrol(&who, id, user)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `m` with what the API needs to show it: the keys of the config fields
/// its plugin marks secret, which `MethodView` masks.
fn shown(site: &SiteServices, m: EnrolmentMethod) -> ServiceResult<(EnrolmentMethod, Vec<String>)> {
    let secrets = site.secret_config_keys(&m.plugin)?;
    Ok((m, secrets))
}
