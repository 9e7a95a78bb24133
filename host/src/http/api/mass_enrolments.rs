//! One-off mass enrolments: a segment's active members enrolled once into
//! a course through its manual method (`/segments/{id}/mass-enrolments…`),
//! what each did and its undo (`/mass-enrolments/{id}…`), and those of a
//! course (`/courses/{id}/mass-enrolments`). Site admins only; unlike a
//! segment-sync method, a mass enrolment does not follow the segment.

use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa_actix_web::service_config::ServiceConfig;

use super::listing::ListQuery;
use super::views::{
    CourseGroupIdView, CourseIdView, MassEnrolmentPreviewView, MassEnrolmentView, Mirror, RoleView,
};
use super::{ApiResult, IdPath, JsonBody, Page, SiteApi};
use crate::domain::{CourseId, MassEnrolmentId, Role, SegmentId};
use crate::http::{ErrorBody, HttpError, blocking};
use crate::services::mass_enrolments::{
    MassEnrolmentDetail, MassEnrolmentRequest, MassGroupChoice,
};
use crate::services::{Ask, Need};

pub(super) fn routes(cfg: &mut ServiceConfig) {
    cfg.service(preview_mass_enrolment)
        .service(apply_mass_enrolment)
        .service(list_segment_mass_enrolments)
        .service(list_course_mass_enrolments)
        .service(get_mass_enrolment)
        .service(undo_mass_enrolment);
}

/// A mass enrolment of the segment in the path: into which course, with
/// which role, into which group (`group` an existing group of the course,
/// or `new_group` the name of one to create; not both).
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MassEnrol {
    pub course: CourseIdView,
    /// Default `learner`.
    pub role: Option<RoleView>,
    /// An existing group of the course.
    pub group: Option<CourseGroupIdView>,
    /// The name of a new group of the course, created by the enrolment.
    pub new_group: Option<String>,
}

impl MassEnrol {
    fn into_request(self) -> Result<MassEnrolmentRequest, HttpError> {
        let group = match (self.group, self.new_group) {
            (None, None) => MassGroupChoice::None,
            (Some(g), None) => MassGroupChoice::Existing(g.mirror()),
            (None, Some(name)) => MassGroupChoice::New(name),
            (Some(_), Some(_)) => {
                return Err(HttpError::BadField {
                    field: Some("new_group".into()),
                    message: "give either `group` (an existing group) or `new_group` (a new one), not both".into(),
                });
            }
        };
        Ok(MassEnrolmentRequest {
            course: self.course.mirror(),
            role: self.role.mirror().unwrap_or(Role::Learner),
            group,
        })
    }
}

/// What enrolling the segment's members would do, before anything is
/// written: how many would be enrolled, are already, and are skipped as
/// suspended (site admins).
#[utoipa::path(
    tag = "mass-enrolments",
    params(("id" = u64, Path, description = "segment id")),
    request_body = MassEnrol,
    responses(
        (status = 200, body = MassEnrolmentPreviewView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, description = "a field breaks a rule (the new group's name is taken, …)", body = ErrorBody),
    )
)]
#[post("/segments/{id}/mass-enrolments/preview")]
async fn preview_mass_enrolment(
    api: SiteApi,
    path: web::Path<IdPath>,
    body: JsonBody<MassEnrol>,
) -> ApiResult<web::Json<MassEnrolmentPreviewView>> {
    let body = body
        .read(api.authorise(Ask::Site(Need::SiteAdmin)).await?)
        .await?;
    let request = body.into_request()?;
    let SiteApi { who, site } = api;
    let segment = SegmentId(path.id);
    let preview = blocking(move || site.preview_mass_enrolment(&who, segment, &request)).await?;
    Ok(web::Json(preview.into()))
}

/// Enrols the segment's active members in one transaction, as the preview
/// describes it then (site admins). Refused (409) when it would change
/// nothing.
#[utoipa::path(
    tag = "mass-enrolments",
    params(("id" = u64, Path, description = "segment id")),
    request_body = MassEnrol,
    responses(
        (status = 201, description = "applied", body = MassEnrolmentView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "nothing to do", body = ErrorBody),
        (status = 422, description = "a field breaks a rule (the new group's name is taken, …)", body = ErrorBody),
    )
)]
#[post("/segments/{id}/mass-enrolments")]
async fn apply_mass_enrolment(
    api: SiteApi,
    path: web::Path<IdPath>,
    body: JsonBody<MassEnrol>,
) -> ApiResult<HttpResponse> {
    let body = body
        .read(api.authorise(Ask::Site(Need::SiteAdmin)).await?)
        .await?;
    let request = body.into_request()?;
    let SiteApi { who, site } = api;
    let segment = SegmentId(path.id);
    let done = blocking(move || site.apply_mass_enrolment(&who, segment, &request)).await?;
    Ok(HttpResponse::Created().json(MassEnrolmentView::from(done)))
}

/// The page of `all` that `query` asks for.
fn page_of(
    all: Vec<MassEnrolmentDetail>,
    query: &ListQuery,
) -> ApiResult<web::Json<Page<MassEnrolmentView>>> {
    Ok(web::Json(Page::from_list(all, query, |d| {
        MassEnrolmentView::from(d.record)
    })?))
}

/// The mass enrolments of the segment's members, newest first (site admins).
#[utoipa::path(
    tag = "mass-enrolments",
    params(("id" = u64, Path, description = "segment id"), ListQuery),
    responses(
        (status = 200, description = "a page of mass enrolments", body = Page<MassEnrolmentView>),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    )
)]
#[get("/segments/{id}/mass-enrolments")]
async fn list_segment_mass_enrolments(
    api: SiteApi,
    path: web::Path<IdPath>,
    query: web::Query<ListQuery>,
) -> ApiResult<web::Json<Page<MassEnrolmentView>>> {
    let SiteApi { who, site } = api;
    let segment = SegmentId(path.id);
    let (_, all) = blocking(move || site.segment_mass_enrolments(&who, segment)).await?;
    page_of(all, &query)
}

/// The mass enrolments into the course, newest first (site admins).
#[utoipa::path(
    tag = "mass-enrolments",
    params(("id" = u64, Path, description = "course id"), ListQuery),
    responses(
        (status = 200, description = "a page of mass enrolments", body = Page<MassEnrolmentView>),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    )
)]
#[get("/courses/{id}/mass-enrolments")]
async fn list_course_mass_enrolments(
    api: SiteApi,
    path: web::Path<IdPath>,
    query: web::Query<ListQuery>,
) -> ApiResult<web::Json<Page<MassEnrolmentView>>> {
    let SiteApi { who, site } = api;
    let course = CourseId(path.id);
    let (_, all) = blocking(move || site.course_mass_enrolments(&who, course)).await?;
    page_of(all, &query)
}

/// One mass enrolment: what it did, and its undo if it was undone (site
/// admins).
#[utoipa::path(
    tag = "mass-enrolments",
    params(("id" = u64, Path, description = "mass enrolment id")),
    responses(
        (status = 200, body = MassEnrolmentView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    )
)]
#[get("/mass-enrolments/{id}")]
async fn get_mass_enrolment(
    api: SiteApi,
    path: web::Path<IdPath>,
) -> ApiResult<web::Json<MassEnrolmentView>> {
    let SiteApi { who, site } = api;
    let id = MassEnrolmentId(path.id);
    let found = blocking(move || site.mass_enrolment(&who, id)).await?;
    Ok(web::Json(found.record.into()))
}

/// Removes the enrolments the mass enrolment made that are unchanged
/// since, and the group memberships it added (site admins). An enrolment
/// changed since is kept; a second undo is refused (409).
#[utoipa::path(
    tag = "mass-enrolments",
    params(("id" = u64, Path, description = "mass enrolment id")),
    responses(
        (status = 200, body = MassEnrolmentView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "already undone", body = ErrorBody),
    )
)]
#[post("/mass-enrolments/{id}/undo")]
async fn undo_mass_enrolment(
    api: SiteApi,
    path: web::Path<IdPath>,
) -> ApiResult<web::Json<MassEnrolmentView>> {
    let SiteApi { who, site } = api;
    let id = MassEnrolmentId(path.id);
    let undone = blocking(move || site.undo_mass_enrolment(&who, id)).await?;
    Ok(web::Json(undone.into()))
}
