//! `/sections/{id}/assignments`, `/assignments/{id}[/…]` and
//! `/submissions/{id}[/…]`: assignments, a learner's own submission (its
//! text as JSON, each file as a raw `PUT` of its bytes), staff's list of
//! submissions, grading, grades and file downloads.
//!
//! A file travels as itself, not base64 in JSON: a 10 MiB file is one
//! 10 MiB body (read within the host's file cap, holding an upload slot),
//! its name in the path and its type in `Content-Type`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

use super::views::{
    AssignmentSettingsView, AssignmentView, CourseGroupIdView, GradeItemIdView, GradeView,
    GroupModeView, GroupingIdView, Mirror, MySubmissionView, SubmissionDetailView,
    SubmissionListView, UserIdView,
};
use super::{ApiResult, IdPath, JsonBody, SiteApi, read_body};
use crate::domain::{ActivityId, CourseGroupId, CourseSectionId, SubmissionId};
use crate::http::{ErrorBody, HttpError, blocking};
use crate::services::assignments::{
    GradeInput, GradeScope, HOST_MAX_FILE_BYTES, NewFile, SubmissionInput, parse_sha256,
};
use crate::services::content::ActivityDraft;

pub(super) fn routes(cfg: &mut ServiceConfig) {
    cfg.service(create_assignment)
        .service(get_assignment)
        .service(update_assignment)
        .service(list_submissions)
        .service(my_submission)
        .service(save_my_submission)
        .service(put_my_file)
        .service(get_submission)
        .service(get_submission_file)
        .service(grade_submission)
        .service(list_grades);
}

/// An assignment to create, or its new state.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WriteAssignment {
    pub name: String,
    /// Markdown; HTML in it is not kept when shown.
    #[serde(default)]
    pub instructions: String,
    /// Shown to learners (default true).
    pub visible: Option<bool>,
    /// Absent: the course's.
    pub group_mode: Option<GroupModeView>,
    /// Only members of a group in this grouping (and staff) see it.
    pub grouping: Option<GroupingIdView>,
    pub settings: AssignmentSettingsView,
}

impl WriteAssignment {
    fn split(self) -> (ActivityDraft, crate::services::assignments::AssignmentInput) {
        (
            ActivityDraft {
                name: self.name,
                description: self.instructions,
                visible: self.visible.unwrap_or(true),
                group_mode: self.group_mode.map(Into::into),
                grouping: self.grouping.mirror(),
            },
            self.settings.into(),
        )
    }
}

/// `?group=`: the group a learner in several submits for.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct GroupQuery {
    /// A course group id.
    #[param(minimum = 1, maximum = 9223372036854775807_i64)]
    pub group: Option<u64>,
}

impl GroupQuery {
    fn group(&self) -> Option<CourseGroupId> {
        self.group.map(CourseGroupId)
    }
}

/// A learner's submission: its online text (absent: unchanged), files to
/// remove by name, and whether to submit it for grading now (else it is
/// saved as a draft).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WriteSubmission {
    /// With group submission, for a learner in several groups.
    pub group: Option<CourseGroupIdView>,
    /// Markdown, at most 256 KiB.
    pub text: Option<String>,
    #[serde(default)]
    pub remove_files: Vec<String>,
    #[serde(default)]
    pub submit: bool,
}

/// A grade: a number within `0..=max_grade` (absent: feedback only) and
/// Markdown feedback; for a group submission, every learner of the group
/// unless `user` names one of them.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WriteGrade {
    pub grade: Option<f64>,
    #[serde(default)]
    pub feedback: String,
    pub user: Option<UserIdView>,
}

#[derive(Debug, Deserialize)]
pub struct FilePath {
    pub id: u64,
    pub name: String,
}

#[derive(Debug, Deserialize)]
pub struct DigestPath {
    pub id: u64,
    pub sha256: String,
}

/// The grade item the gradebook reads an assignment's grades from.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[schema(as = AssignmentGrades)]
pub struct AssignmentGradesView {
    pub grade_item: GradeItemIdView,
    pub grades: Vec<GradeView>,
}

/// Adds an assignment at the end of a section (editing teachers and site
/// admins); its grade item is created with it.
#[utoipa::path(
    tag = "assignments",
    params(("id" = u64, Path, description = "course section id")),
    request_body = WriteAssignment,
    responses((status = 201, body = AssignmentView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
#[post("/sections/{id}/assignments")]
async fn create_assignment(
    api: SiteApi,
    path: web::Path<IdPath>,
    body: JsonBody<WriteAssignment>,
) -> ApiResult<HttpResponse> {
    let section = CourseSectionId(path.id);
    let ok = api
        .authorise_with(move |s, who| s.new_assignment_form(who, section).map(drop))
        .await?;
    let (draft, input) = body.read(ok).await?.split();
    let SiteApi { who, site } = api;
    let created = blocking(move || {
        let a = site.create_assignment(&who, section, draft, input)?;
        site.assignment(&who, a.id, None)
    })
    .await?;
    Ok(HttpResponse::Created().json(AssignmentView::from(created)))
}

/// An assignment with the caller's side: a learner's own submission, grade
/// and feedback (`mine`), or staff's counts.
#[utoipa::path(
    tag = "assignments",
    params(("id" = u64, Path, description = "assignment (activity) id"), GroupQuery),
    responses((status = 200, body = AssignmentView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[get("/assignments/{id}")]
async fn get_assignment(
    api: SiteApi,
    path: web::Path<IdPath>,
    query: web::Query<GroupQuery>,
) -> ApiResult<web::Json<AssignmentView>> {
    let SiteApi { who, site } = api;
    let (id, group) = (ActivityId(path.id), query.group());
    let found = blocking(move || site.assignment(&who, id, group)).await?;
    Ok(web::Json(found.into()))
}

/// Replaces an assignment's fields and settings (editing teachers and site
/// admins).
#[utoipa::path(
    tag = "assignments",
    params(("id" = u64, Path, description = "assignment (activity) id")),
    request_body = WriteAssignment,
    responses((status = 200, body = AssignmentView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
#[put("/assignments/{id}")]
async fn update_assignment(
    api: SiteApi,
    path: web::Path<IdPath>,
    body: JsonBody<WriteAssignment>,
) -> ApiResult<web::Json<AssignmentView>> {
    let id = ActivityId(path.id);
    let ok = api
        .authorise_with(move |s, who| s.edit_assignment_form(who, id).map(drop))
        .await?;
    let (draft, input) = body.read(ok).await?.split();
    let SiteApi { who, site } = api;
    let updated = blocking(move || {
        site.update_assignment(&who, id, draft, input)?;
        site.assignment(&who, id, None)
    })
    .await?;
    Ok(web::Json(updated.into()))
}

/// The submissions the caller (staff) may see, optionally of one group: in
/// separate-groups mode a non-editing teacher sees only their groups'.
#[utoipa::path(
    tag = "assignments",
    params(("id" = u64, Path, description = "assignment (activity) id"), GroupQuery),
    responses((status = 200, body = SubmissionListView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
#[get("/assignments/{id}/submissions")]
async fn list_submissions(
    api: SiteApi,
    path: web::Path<IdPath>,
    query: web::Query<GroupQuery>,
) -> ApiResult<web::Json<SubmissionListView>> {
    let SiteApi { who, site } = api;
    let (id, group) = (ActivityId(path.id), query.group());
    let list = blocking(move || site.assignment_submissions(&who, id, group)).await?;
    Ok(web::Json(list.into()))
}

/// The caller's own submission (a learner's, or their group's), its
/// state, and their grade.
#[utoipa::path(
    tag = "assignments",
    params(("id" = u64, Path, description = "assignment (activity) id"), GroupQuery),
    responses((status = 200, body = MySubmissionView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[get("/assignments/{id}/submission")]
async fn my_submission(
    api: SiteApi,
    path: web::Path<IdPath>,
    query: web::Query<GroupQuery>,
) -> ApiResult<web::Json<MySubmissionView>> {
    let SiteApi { who, site } = api;
    let (id, group) = (ActivityId(path.id), query.group());
    let found = blocking(move || site.assignment(&who, id, group)).await?;
    let mine = found.learner.ok_or_else(|| {
        HttpError::Service(crate::services::ServiceError::Forbidden(
            "only the course's learners submit; staff read the list of submissions".into(),
        ))
    })?;
    Ok(web::Json(mine.into()))
}

/// Saves the caller's submission: its text, files removed, and whether it
/// is submitted for grading. After the cut-off, or once submitted, 409.
#[utoipa::path(
    tag = "assignments",
    params(("id" = u64, Path, description = "assignment (activity) id")),
    request_body = WriteSubmission,
    responses((status = 200, body = MySubmissionView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody))
)]
#[put("/assignments/{id}/submission")]
async fn save_my_submission(
    api: SiteApi,
    path: web::Path<IdPath>,
    body: JsonBody<WriteSubmission>,
) -> ApiResult<web::Json<MySubmissionView>> {
    let id = ActivityId(path.id);
    let ok = api
        .authorise_with(move |s, who| learner_of(s, who, id))
        .await?;
    let body = body.read(ok).await?;
    let group: Option<CourseGroupId> = body.group.mirror();
    let input = SubmissionInput {
        group,
        text: body.text,
        add_files: Vec::new(),
        remove_files: body.remove_files,
        submit: body.submit,
    };
    let SiteApi { who, site } = api;
    let mine = blocking(move || {
        site.save_submission(&who, id, input)?;
        site.assignment(&who, id, group)
    })
    .await?;
    mine_of(mine)
}

/// Adds a file to the caller's draft (one of the same name replaces it):
/// the body is the file's bytes, `Content-Type` its type. Over the
/// assignment's limit: 422 naming it, nothing written; over the host's
/// cap: 413.
#[utoipa::path(
    tag = "assignments",
    params(("id" = u64, Path, description = "assignment (activity) id"),
        ("name" = String, Path, description = "the file's name"), GroupQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream",
        description = "the file's bytes; its Content-Type is kept (and never used to render it)"),
    responses((status = 200, body = MySubmissionView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 422, body = ErrorBody),
        (status = 503, description = "as many uploads as the server reads at once are being read; try again after `Retry-After` seconds", body = ErrorBody))
)]
#[put("/assignments/{id}/submission/files/{name}")]
async fn put_my_file(
    req: HttpRequest,
    api: SiteApi,
    path: web::Path<FilePath>,
    query: web::Query<GroupQuery>,
    body: web::Payload,
) -> ApiResult<web::Json<MySubmissionView>> {
    let id = ActivityId(path.id);
    api.authorise_with(move |s, who| learner_of(s, who, id))
        .await?;
    let bytes = read_body(&req, body, HOST_MAX_FILE_BYTES as usize).await?;
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let group: Option<CourseGroupId> = query.group();
    let input = SubmissionInput {
        group,
        add_files: vec![NewFile {
            name: path.name.clone(),
            content_type,
            content: bytes.to_vec(),
        }],
        ..Default::default()
    };
    let SiteApi { who, site } = api;
    let mine = blocking(move || {
        site.save_submission(&who, id, input)?;
        site.assignment(&who, id, group)
    })
    .await?;
    mine_of(mine)
}

/// Refuses unless the caller may see assignment `id` and submits to it.
fn learner_of(
    site: &crate::services::SiteServices,
    who: &crate::services::Principal,
    id: ActivityId,
) -> crate::services::ServiceResult<()> {
    match site.assignment(who, id, None)?.learner {
        Some(_) => Ok(()),
        None => Err(crate::services::ServiceError::Forbidden(
            "only the course's learners submit; teachers and admins grade submissions".into(),
        )),
    }
}

fn mine_of(
    view: crate::services::assignments::AssignmentView,
) -> ApiResult<web::Json<MySubmissionView>> {
    match view.learner {
        Some(part) => Ok(web::Json(part.into())),
        None => Err(HttpError::Internal("a learner's assignment without their side".into()).into()),
    }
}

/// One submission, for its owner (its group's members) and the staff who
/// may see it; anyone else of the course: 404.
#[utoipa::path(
    tag = "assignments",
    params(("id" = u64, Path, description = "submission id")),
    responses((status = 200, body = SubmissionDetailView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[get("/submissions/{id}")]
async fn get_submission(
    api: SiteApi,
    path: web::Path<IdPath>,
) -> ApiResult<web::Json<SubmissionDetailView>> {
    let SiteApi { who, site } = api;
    let id = SubmissionId(path.id);
    let found = blocking(move || site.submission(&who, id)).await?;
    Ok(web::Json(found.into()))
}

/// A file of a submission, as an attachment (never rendered: HTML and
/// other active types come as `application/octet-stream`).
#[utoipa::path(
    tag = "assignments",
    params(("id" = u64, Path, description = "submission id"),
        ("sha256" = String, Path, description = "the file's SHA-256, 64 hex digits")),
    responses((status = 200, description = "the file's bytes", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[get("/submissions/{id}/files/{sha256}")]
async fn get_submission_file(api: SiteApi, path: web::Path<DigestPath>) -> ApiResult<HttpResponse> {
    let SiteApi { who, site } = api;
    let id = SubmissionId(path.id);
    let sha = parse_sha256(&path.sha256);
    let (file, content) = blocking(move || {
        // A digest that is not one names no file: asked only once the
        // caller may see the submission, so it says nothing more.
        let sha = sha.unwrap_or([0; 32]);
        site.submission_file(&who, id, &sha)
    })
    .await?;
    Ok(crate::http::download::attachment(&file, content))
}

/// Grades a submission (staff who may see it): one grade entry per user it
/// goes to, each audited with its old and new value.
#[utoipa::path(
    tag = "assignments",
    params(("id" = u64, Path, description = "submission id")),
    request_body = WriteGrade,
    responses((status = 200, body = Vec<GradeView>), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody))
)]
#[put("/submissions/{id}/grade")]
async fn grade_submission(
    api: SiteApi,
    path: web::Path<IdPath>,
    body: JsonBody<WriteGrade>,
) -> ApiResult<web::Json<Vec<GradeView>>> {
    let id = SubmissionId(path.id);
    let ok = api
        .authorise_with(move |s, who| match s.submission(who, id)?.can_grade {
            true => Ok(()),
            false => Err(crate::services::ServiceError::Forbidden(
                "only the course's teachers and site admins grade".into(),
            )),
        })
        .await?;
    let body = body.read(ok).await?;
    let input = GradeInput {
        value: body.grade,
        feedback: body.feedback,
        scope: match body.user {
            Some(u) => GradeScope::Member(u.mirror()),
            None => GradeScope::Submission,
        },
    };
    let SiteApi { who, site } = api;
    let graded = blocking(move || site.grade_submission(&who, id, input)).await?;
    Ok(web::Json(graded.into_iter().map(Into::into).collect()))
}

/// The grades of an assignment the caller may see (staff: of the users
/// they may see; a learner: their own), with the grade item the gradebook
/// reads.
#[utoipa::path(
    tag = "assignments",
    params(("id" = u64, Path, description = "assignment (activity) id")),
    responses((status = 200, body = AssignmentGradesView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[get("/assignments/{id}/grades")]
async fn list_grades(
    api: SiteApi,
    path: web::Path<IdPath>,
) -> ApiResult<web::Json<AssignmentGradesView>> {
    let SiteApi { who, site } = api;
    let id = ActivityId(path.id);
    let (item, grades) = blocking(move || {
        let grades = site.assignment_grades(&who, id)?;
        let item = site.assignment(&who, id, None)?.settings.grade_item;
        Ok((item, grades))
    })
    .await?;
    Ok(web::Json(AssignmentGradesView {
        grade_item: item.mirror(),
        grades: grades.into_iter().map(Into::into).collect(),
    }))
}
