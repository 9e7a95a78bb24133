//! Course content (issue 18): `/courses/{id}/content`, sections
//! (`/courses/{id}/sections`, `/sections/{id}`), page activities
//! (`/sections/{id}/pages`), any activity (`/activities/{id}`), groupings
//! (`/courses/{id}/groupings`, `/groupings/{id}`) and the site's privacy
//! settings (`/settings/privacy`). Discussions and assignments have their
//! own modules; they share `/activities/{id}` for the common fields.

use actix_web::{HttpResponse, delete, get, patch, post, put, web};
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

use super::enrolments::present;
use super::views::{
    ActivityDetailView, ActivityView, CourseContentView, CourseGroupIdView, CourseSectionIdView,
    GroupModeView, GroupingIdView, GroupingView, Mirror, PrivacyView, SectionView,
};
use super::{ApiResult, IdPath, JsonBody, SiteApi};
use crate::domain::{ActivityId, CourseId, CourseSectionId, GroupingId, SitePrivacy};
use crate::http::{ErrorBody, HttpError, blocking};
use crate::services::content::{ActivityDraft, ActivityUpdate, SectionDraft, SectionUpdate};
use crate::services::groupings::GroupingUpdate;
use crate::services::{Ask, Need};

pub(super) fn routes(cfg: &mut ServiceConfig) {
    cfg.service(course_content)
        .service(create_section)
        .service(get_section)
        .service(update_section)
        .service(move_section)
        .service(delete_section)
        .service(create_page)
        .service(get_activity)
        .service(update_activity)
        .service(move_activity)
        .service(delete_activity)
        .service(list_groupings)
        .service(create_grouping)
        .service(get_grouping)
        .service(update_grouping)
        .service(delete_grouping)
        .service(get_privacy)
        .service(put_privacy);
}

fn yes() -> bool {
    true
}

/// A new section, added at the end of the course.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSection {
    /// One line, at most 255 characters.
    pub name: String,
    /// Markdown.
    #[serde(default)]
    pub summary: String,
    /// Default true.
    #[serde(default = "yes")]
    pub visible: bool,
}

/// Changes to a section; absent fields stay as they are.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSection {
    pub name: Option<String>,
    pub summary: Option<String>,
    pub visible: Option<bool>,
}

/// Where to move a section: its new position in the course, 0 first
/// (past the end: last).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SectionPosition {
    #[schema(minimum = 0, maximum = 100000)]
    pub position: u32,
}

/// The largest position a move names; a list is never that long, and a
/// bound keeps the document's integer range one every client reads alike.
const MAX_POSITION: u32 = 100_000;

fn position(p: u32) -> Result<usize, HttpError> {
    if p > MAX_POSITION {
        return Err(HttpError::BadField {
            field: Some("position".into()),
            message: format!("{p} is past the largest position, {MAX_POSITION}"),
        });
    }
    Ok(p as usize)
}

/// The course's sections in their new order.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct SectionOrder {
    pub sections: Vec<CourseSectionIdView>,
}

/// A new page activity, added at the end of the section.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateActivity {
    /// One line, at most 255 characters.
    pub name: String,
    /// Markdown (a page's body); HTML in it is not kept.
    #[serde(default)]
    pub description: String,
    /// Default true.
    #[serde(default = "yes")]
    pub visible: bool,
    /// Absent or `null`: the course's group mode.
    pub group_mode: Option<GroupModeView>,
    /// Only members of a group in this grouping (and staff) see it.
    pub grouping: Option<GroupingIdView>,
}

impl CreateActivity {
    /// The common fields of every kind of activity.
    pub(super) fn draft(self) -> ActivityDraft {
        ActivityDraft {
            name: self.name,
            description: self.description,
            visible: self.visible,
            group_mode: self.group_mode.map(Mirror::mirror),
            grouping: self.grouping.map(Mirror::mirror),
        }
    }
}

/// Changes to any activity's common fields; absent fields stay as they
/// are, `null` clears `group_mode` (the course's) or `grouping`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateActivity {
    pub name: Option<String>,
    pub description: Option<String>,
    pub visible: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<GroupModeView>)]
    pub group_mode: Option<Option<GroupModeView>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<GroupingIdView>)]
    pub grouping: Option<Option<GroupingIdView>>,
}

/// Where to move an activity: a section of the same course and a position
/// in it, 0 first.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivityPosition {
    pub section: CourseSectionIdView,
    #[schema(minimum = 0, maximum = 100000)]
    pub position: u32,
}

/// A new grouping.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGrouping {
    /// Unique in the course.
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Groups of the course to put in it.
    #[serde(default)]
    pub groups: Vec<CourseGroupIdView>,
}

/// Changes to a grouping; absent fields stay as they are. `groups` sets
/// exactly which groups are in it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateGrouping {
    pub name: Option<String>,
    pub description: Option<String>,
    pub groups: Option<Vec<CourseGroupIdView>>,
}

/// A course's content as the caller sees it, in page order. Participants.
#[utoipa::path(
    tag = "content",
    params(("id" = u64, Path, description = "course id")),
    responses((status = 200, body = CourseContentView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[get("/courses/{id}/content")]
async fn course_content(
    api: SiteApi,
    path: web::Path<IdPath>,
) -> ApiResult<web::Json<CourseContentView>> {
    let SiteApi { who, site } = api;
    let course = CourseId(path.id);
    let content = blocking(move || site.course_content(&who, course)).await?;
    Ok(web::Json(content.into()))
}

/// Adds a section at the end of a course (editing teachers, site admins).
#[utoipa::path(
    tag = "content",
    params(("id" = u64, Path, description = "course id")),
    request_body = CreateSection,
    responses((status = 201, body = SectionView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
#[post("/courses/{id}/sections")]
async fn create_section(
    api: SiteApi,
    path: web::Path<IdPath>,
    body: JsonBody<CreateSection>,
) -> ApiResult<HttpResponse> {
    let course = CourseId(path.id);
    let b = body
        .read(
            api.authorise(Ask::Site(Need::ConfigureCourse(course)))
                .await?,
        )
        .await?;
    let SiteApi { who, site } = api;
    let draft = SectionDraft {
        name: b.name,
        summary: b.summary,
        visible: b.visible,
    };
    let section = blocking(move || site.create_section(&who, course, &draft)).await?;
    Ok(HttpResponse::Created().json(SectionView::from(section)))
}

/// One section (a hidden one for the course's staff only).
#[utoipa::path(
    tag = "content",
    params(("id" = u64, Path, description = "section id")),
    responses((status = 200, body = SectionView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[get("/sections/{id}")]
async fn get_section(api: SiteApi, path: web::Path<IdPath>) -> ApiResult<web::Json<SectionView>> {
    let SiteApi { who, site } = api;
    let id = CourseSectionId(path.id);
    let section = blocking(move || site.get_section(&who, id)).await?;
    Ok(web::Json(section.into()))
}

/// Renames a section, changes its summary, shows or hides it.
#[utoipa::path(
    tag = "content",
    params(("id" = u64, Path, description = "section id")),
    request_body = UpdateSection,
    responses((status = 200, body = SectionView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
#[patch("/sections/{id}")]
async fn update_section(
    api: SiteApi,
    path: web::Path<IdPath>,
    body: JsonBody<UpdateSection>,
) -> ApiResult<web::Json<SectionView>> {
    let id = CourseSectionId(path.id);
    let b = body
        .read(
            api.authorise(Ask::Section(id, Need::ConfigureCourse))
                .await?,
        )
        .await?;
    let SiteApi { who, site } = api;
    let update = SectionUpdate {
        name: b.name,
        summary: b.summary,
        visible: b.visible,
    };
    let section = blocking(move || site.update_section(&who, id, &update)).await?;
    Ok(web::Json(section.into()))
}

/// Moves a section to a position of its course.
#[utoipa::path(
    tag = "content",
    params(("id" = u64, Path, description = "section id")),
    request_body = SectionPosition,
    responses((status = 200, body = SectionOrder), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
#[put("/sections/{id}/position")]
async fn move_section(
    api: SiteApi,
    path: web::Path<IdPath>,
    body: JsonBody<SectionPosition>,
) -> ApiResult<web::Json<SectionOrder>> {
    let id = CourseSectionId(path.id);
    let b = body
        .read(
            api.authorise(Ask::Section(id, Need::ConfigureCourse))
                .await?,
        )
        .await?;
    let to = position(b.position)?;
    let SiteApi { who, site } = api;
    let (_, order) = blocking(move || site.move_section(&who, id, to)).await?;
    Ok(web::Json(SectionOrder {
        sections: order.into_iter().map(Mirror::mirror).collect(),
    }))
}

/// Deletes a section with its activities (their discussions, submissions
/// and grades go with them).
#[utoipa::path(
    tag = "content",
    params(("id" = u64, Path, description = "section id")),
    responses((status = 204, description = "deleted"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[delete("/sections/{id}")]
async fn delete_section(api: SiteApi, path: web::Path<IdPath>) -> ApiResult<HttpResponse> {
    let SiteApi { who, site } = api;
    let id = CourseSectionId(path.id);
    blocking(move || site.delete_section(&who, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Adds a page (Markdown) at the end of a section.
#[utoipa::path(
    tag = "content",
    params(("id" = u64, Path, description = "section id")),
    request_body = CreateActivity,
    responses((status = 201, body = ActivityView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
#[post("/sections/{id}/pages")]
async fn create_page(
    api: SiteApi,
    path: web::Path<IdPath>,
    body: JsonBody<CreateActivity>,
) -> ApiResult<HttpResponse> {
    let id = CourseSectionId(path.id);
    let b = body
        .read(
            api.authorise(Ask::Section(id, Need::ConfigureCourse))
                .await?,
        )
        .await?;
    let SiteApi { who, site } = api;
    let draft = b.draft();
    let activity = blocking(move || site.create_page(&who, id, &draft)).await?;
    Ok(HttpResponse::Created().json(ActivityView::from(activity)))
}

/// One activity with its description rendered; "not found" to whoever
/// may not see it (hidden, or restricted to a grouping).
#[utoipa::path(
    tag = "content",
    params(("id" = u64, Path, description = "activity id")),
    responses((status = 200, body = ActivityDetailView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[get("/activities/{id}")]
async fn get_activity(
    api: SiteApi,
    path: web::Path<IdPath>,
) -> ApiResult<web::Json<ActivityDetailView>> {
    let SiteApi { who, site } = api;
    let id = ActivityId(path.id);
    let page = blocking(move || site.activity_page(&who, id)).await?;
    Ok(web::Json(page.into()))
}

/// Changes an activity's common fields (any kind).
#[utoipa::path(
    tag = "content",
    params(("id" = u64, Path, description = "activity id")),
    request_body = UpdateActivity,
    responses((status = 200, body = ActivityView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
#[patch("/activities/{id}")]
async fn update_activity(
    api: SiteApi,
    path: web::Path<IdPath>,
    body: JsonBody<UpdateActivity>,
) -> ApiResult<web::Json<ActivityView>> {
    let id = ActivityId(path.id);
    let b = body
        .read(
            api.authorise(Ask::Activity(id, Need::ConfigureCourse))
                .await?,
        )
        .await?;
    let SiteApi { who, site } = api;
    let update = ActivityUpdate {
        name: b.name,
        description: b.description,
        visible: b.visible,
        group_mode: b.group_mode.map(|m| m.map(Mirror::mirror)),
        grouping: b.grouping.map(|g| g.map(Mirror::mirror)),
    };
    let activity = blocking(move || site.update_activity(&who, id, &update)).await?;
    Ok(web::Json(activity.into()))
}

/// Moves an activity to a position of a section of the same course.
#[utoipa::path(
    tag = "content",
    params(("id" = u64, Path, description = "activity id")),
    request_body = ActivityPosition,
    responses((status = 200, body = ActivityView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, description = "the section is not one of the activity's course", body = ErrorBody))
)]
#[put("/activities/{id}/position")]
async fn move_activity(
    api: SiteApi,
    path: web::Path<IdPath>,
    body: JsonBody<ActivityPosition>,
) -> ApiResult<web::Json<ActivityView>> {
    let id = ActivityId(path.id);
    let b = body
        .read(
            api.authorise(Ask::Activity(id, Need::ConfigureCourse))
                .await?,
        )
        .await?;
    let to = position(b.position)?;
    let SiteApi { who, site } = api;
    let section: CourseSectionId = b.section.mirror();
    let activity = blocking(move || site.move_activity(&who, id, section, to)).await?;
    Ok(web::Json(activity.into()))
}

/// Deletes an activity with everything of its kind.
#[utoipa::path(
    tag = "content",
    params(("id" = u64, Path, description = "activity id")),
    responses((status = 204, description = "deleted"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[delete("/activities/{id}")]
async fn delete_activity(api: SiteApi, path: web::Path<IdPath>) -> ApiResult<HttpResponse> {
    let SiteApi { who, site } = api;
    let id = ActivityId(path.id);
    blocking(move || site.delete_activity(&who, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A course's groupings with their groups (the course's staff).
#[utoipa::path(
    tag = "content",
    params(("id" = u64, Path, description = "course id")),
    responses((status = 200, body = Vec<GroupingView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[get("/courses/{id}/groupings")]
async fn list_groupings(
    api: SiteApi,
    path: web::Path<IdPath>,
) -> ApiResult<web::Json<Vec<GroupingView>>> {
    let SiteApi { who, site } = api;
    let course = CourseId(path.id);
    let list = blocking(move || site.list_groupings(&who, course)).await?;
    Ok(web::Json(list.into_iter().map(Into::into).collect()))
}

/// Creates a grouping (editing teachers, site admins).
#[utoipa::path(
    tag = "content",
    params(("id" = u64, Path, description = "course id")),
    request_body = CreateGrouping,
    responses((status = 201, body = GroupingView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
#[post("/courses/{id}/groupings")]
async fn create_grouping(
    api: SiteApi,
    path: web::Path<IdPath>,
    body: JsonBody<CreateGrouping>,
) -> ApiResult<HttpResponse> {
    let course = CourseId(path.id);
    let b = body
        .read(
            api.authorise(Ask::Site(Need::ConfigureCourse(course)))
                .await?,
        )
        .await?;
    let SiteApi { who, site } = api;
    let groups: Vec<_> = b.groups.into_iter().map(Mirror::mirror).collect();
    let created =
        blocking(move || site.create_grouping(&who, course, &b.name, &b.description, &groups))
            .await?;
    Ok(HttpResponse::Created().json(GroupingView::from(created)))
}

/// One grouping with its groups (the course's staff).
#[utoipa::path(
    tag = "content",
    params(("id" = u64, Path, description = "grouping id")),
    responses((status = 200, body = GroupingView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[get("/groupings/{id}")]
async fn get_grouping(api: SiteApi, path: web::Path<IdPath>) -> ApiResult<web::Json<GroupingView>> {
    let SiteApi { who, site } = api;
    let id = GroupingId(path.id);
    let found = blocking(move || site.get_grouping(&who, id)).await?;
    Ok(web::Json(found.into()))
}

/// Renames a grouping or sets its groups (editing teachers, site admins).
#[utoipa::path(
    tag = "content",
    params(("id" = u64, Path, description = "grouping id")),
    request_body = UpdateGrouping,
    responses((status = 200, body = GroupingView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
#[patch("/groupings/{id}")]
async fn update_grouping(
    api: SiteApi,
    path: web::Path<IdPath>,
    body: JsonBody<UpdateGrouping>,
) -> ApiResult<web::Json<GroupingView>> {
    let id = GroupingId(path.id);
    let b = body
        .read(
            api.authorise(Ask::Grouping(id, Need::ConfigureCourse))
                .await?,
        )
        .await?;
    let SiteApi { who, site } = api;
    let update = GroupingUpdate {
        name: b.name,
        description: b.description,
        groups: b
            .groups
            .map(|g| g.into_iter().map(Mirror::mirror).collect()),
    };
    let found = blocking(move || site.update_grouping(&who, id, &update)).await?;
    Ok(web::Json(found.into()))
}

/// Deletes a grouping; the activities restricted to it are hidden and
/// lose the restriction.
#[utoipa::path(
    tag = "content",
    params(("id" = u64, Path, description = "grouping id")),
    responses((status = 204, description = "deleted"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[delete("/groupings/{id}")]
async fn delete_grouping(api: SiteApi, path: web::Path<IdPath>) -> ApiResult<HttpResponse> {
    let SiteApi { who, site } = api;
    let id = GroupingId(path.id);
    blocking(move || site.delete_grouping(&who, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// What the site lets participants see of each other (site admins).
#[utoipa::path(
    tag = "content",
    responses((status = 200, body = PrivacyView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody))
)]
#[get("/settings/privacy")]
async fn get_privacy(api: SiteApi) -> ApiResult<web::Json<PrivacyView>> {
    let SiteApi { who, site } = api;
    let p = blocking(move || site.site_privacy(&who)).await?;
    Ok(web::Json(p.into()))
}

/// Saves what the site lets participants see of each other (site admins).
#[utoipa::path(
    tag = "content",
    request_body = PrivacyView,
    responses((status = 200, body = PrivacyView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody))
)]
#[put("/settings/privacy")]
async fn put_privacy(
    api: SiteApi,
    body: JsonBody<PrivacyView>,
) -> ApiResult<web::Json<PrivacyView>> {
    let b = body
        .read(api.authorise(Ask::Site(Need::SiteAdmin)).await?)
        .await?;
    let SiteApi { who, site } = api;
    let privacy = SitePrivacy {
        learners_see_emails: b.learners_see_emails,
    };
    let p = blocking(move || site.set_site_privacy(&who, &privacy)).await?;
    Ok(web::Json(p.into()))
}
