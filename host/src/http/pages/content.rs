//! Course content (issue 18): adding, editing, moving, hiding and deleting
//! sections and activities from the course page, the page activity's own
//! page and form, and the common fields every kind of activity's form
//! shows (`ActivityFields`, `templates/pages/content/activity_fields.html`).
//!
//! Each control is a small form posting to its own route (no script), and
//! every answer is a redirect back to the course page, to the section the
//! change was in.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::super::{HttpError, blocking};
use super::courses::mode_label;
use super::forms::{ConfirmPage, Empty, FormErrors, form_outcome, render, status_for, ticked};
use super::session::{SitePage, SitePost};
use super::{Layout, Section, page_routes};
use crate::domain::{
    Activity, ActivityId, ActivityKind, Course, CourseId, CourseSection, CourseSectionId,
    GroupMode, Grouping, GroupingId,
};
use crate::services::content::{
    ActivityDraft, ActivityForm, ActivityPage, ActivityUpdate, SectionDraft, SectionUpdate,
};

page_routes! {
    post "/courses/{course}/sections" => create_section, CourseStaff;
    get "/sections/{section}/edit" => edit_section_form, CourseStaff;
    post "/sections/{section}" => update_section, CourseStaff;
    post "/sections/{section}/move" => move_section, CourseStaff;
    get "/sections/{section}/delete" => confirm_delete_section, CourseStaff;
    post "/sections/{section}/delete" => delete_section, CourseStaff;
    get "/sections/{section}/pages/new" => new_page_form, CourseStaff;
    post "/sections/{section}/pages" => create_page, CourseStaff;
    get "/activities/{activity}" => show_activity, CourseMember;
    get "/activities/{activity}/edit" => edit_activity_form, CourseStaff;
    post "/activities/{activity}" => update_activity, CourseStaff;
    post "/activities/{activity}/visibility" => set_visibility, CourseStaff;
    post "/activities/{activity}/move" => move_activity, CourseStaff;
    get "/activities/{activity}/delete" => confirm_delete_activity, CourseStaff;
    post "/activities/{activity}/delete" => delete_activity, CourseStaff;
}

#[derive(serde::Deserialize)]
pub(crate) struct CoursePath {
    course: u64,
}

#[derive(serde::Deserialize)]
pub(crate) struct SectionPath {
    section: u64,
}

#[derive(serde::Deserialize)]
pub(crate) struct ActivityPath {
    activity: u64,
}

/// Where an activity's own page is: each kind has its own.
pub(crate) fn activity_path(kind: ActivityKind, id: ActivityId) -> String {
    match kind {
        ActivityKind::Page => format!("/activities/{id}"),
        ActivityKind::Discussion => format!("/forums/{id}"),
        ActivityKind::Assignment => format!("/assignments/{id}"),
    }
}

/// The course page, at the section `section`.
fn course_anchor(course: CourseId, section: CourseSectionId) -> String {
    format!("/courses/{course}#section-{section}")
}

// -------------------------------------------------------- common fields

/// The fields every kind of activity's form has, as typed. A kind's form
/// struct holds one of these beside its own fields.
#[derive(serde::Deserialize, Default, Clone)]
pub(crate) struct ActivityFields {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub visible: Option<String>,
    /// `""`: the course's; else `none`, `separate` or `visible`.
    #[serde(default)]
    pub group_mode: String,
    /// `""`: no restriction; else a grouping id.
    #[serde(default)]
    pub grouping: String,
}

impl ActivityFields {
    /// A new activity's defaults: shown, the course's group mode.
    pub fn new_activity() -> Self {
        Self {
            visible: Some("1".into()),
            ..Self::default()
        }
    }

    pub fn of(a: &Activity) -> Self {
        Self {
            name: a.name.clone(),
            description: a.description.clone(),
            visible: a.visible.then(|| "1".to_owned()),
            group_mode: a.group_mode.map_or("", mode_value).to_owned(),
            grouping: a.grouping.map_or_else(String::new, |g| g.to_string()),
        }
    }

    pub fn visible(&self) -> bool {
        ticked(&self.visible)
    }

    /// The draft these fields say. Only a forged form sends a group mode
    /// or grouping the select does not offer: a bad request.
    pub fn draft(&self) -> Result<ActivityDraft, HttpError> {
        let group_mode = match self.group_mode.as_str() {
            "" => None,
            "none" => Some(GroupMode::None),
            "separate" => Some(GroupMode::Separate),
            "visible" => Some(GroupMode::Visible),
            other => {
                return Err(HttpError::BadRequest(format!(
                    "unknown group mode {other:?}"
                )));
            }
        };
        let grouping = match self.grouping.as_str() {
            "" => None,
            id => Some(GroupingId(id.parse().map_err(|_| {
                HttpError::BadRequest(format!("unknown grouping {id:?}"))
            })?)),
        };
        Ok(ActivityDraft {
            name: self.name.clone(),
            description: self.description.clone(),
            visible: self.visible(),
            group_mode,
            grouping,
        })
    }
}

fn mode_value(mode: GroupMode) -> &'static str {
    match mode {
        GroupMode::None => "none",
        GroupMode::Separate => "separate",
        GroupMode::Visible => "visible",
    }
}

/// The select options of the common fields for `course`'s activities.
pub(crate) struct FieldChoices {
    pub modes: Vec<(String, String)>,
    pub groupings: Vec<(String, String)>,
    /// The course forces its group mode: the activity's is not asked.
    pub forced: bool,
}

impl FieldChoices {
    pub fn of(course: &Course, groupings: &[Grouping]) -> Self {
        let mut modes = vec![(
            String::new(),
            format!("The course's ({})", mode_label(course.group_mode)),
        )];
        for mode in [GroupMode::None, GroupMode::Separate, GroupMode::Visible] {
            modes.push((mode_value(mode).to_owned(), mode_label(mode).to_owned()));
        }
        let mut choices = vec![(String::new(), "Everyone in the course".to_owned())];
        for g in groupings {
            choices.push((g.id.to_string(), format!("Grouping: {}", g.name)));
        }
        Self {
            modes,
            groupings: choices,
            forced: course.force_group_mode,
        }
    }
}

// ------------------------------------------------------------- sections

#[derive(serde::Deserialize, Default, Clone)]
pub(crate) struct SectionForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    summary: String,
    visible: Option<String>,
}

impl SectionForm {
    fn of(s: &CourseSection) -> Self {
        Self {
            name: s.name.clone(),
            summary: s.summary.clone(),
            visible: s.visible.then(|| "1".to_owned()),
        }
    }
}

#[derive(Template)]
#[template(path = "pages/content/section.html")]
pub(crate) struct SectionPage {
    pub layout: Layout,
    pub heading: String,
    pub action: String,
    pub csrf: String,
    pub form: SectionForm,
    pub errors: FormErrors,
    pub cancel: String,
}

/// The "Add a section" form of the course page posts its name only; the
/// section starts shown.
async fn create_section(
    post: SitePost<SectionForm>,
    path: web::Path<CoursePath>,
) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let course = CourseId(path.course);
    let draft = SectionDraft {
        name: form.name.clone(),
        summary: form.summary.clone(),
        visible: true,
    };
    let services = page.site.services.clone();
    let who = page.principal().clone();
    match form_outcome(blocking(move || services.create_section(&who, course, &draft)).await)? {
        Ok(s) => Ok(page.done(
            &course_anchor(course, s.id),
            format!("Section {} added.", s.name),
        )),
        Err(errors) => {
            let view = SectionPage {
                layout: Layout::signed_in(&page, "Add a section", Section::Courses),
                heading: "Add a section".into(),
                action: page.link(&format!("/courses/{course}/sections")),
                csrf: page.csrf().to_owned(),
                form: SectionForm {
                    visible: Some("1".into()),
                    ..form
                },
                errors,
                cancel: page.link(&format!("/courses/{course}")),
            };
            render(&view, status_for(&view.errors))
        }
    }
}

fn section_page(
    page: &SitePage,
    s: &CourseSection,
    form: SectionForm,
    errors: FormErrors,
) -> SectionPage {
    let heading = format!("Edit section {}", s.name);
    SectionPage {
        layout: Layout::signed_in(page, &heading, Section::Courses),
        heading,
        action: page.link(&format!("/sections/{}", s.id)),
        csrf: page.csrf().to_owned(),
        form,
        errors,
        cancel: page.link(&course_anchor(s.course, s.id)),
    }
}

async fn edit_section_form(
    page: SitePage,
    path: web::Path<SectionPath>,
) -> Result<HttpResponse, HttpError> {
    // The section's form context asks what saving asks: a learner is
    // refused here, not only when saving.
    let form = activity_form(&page, Ok(CourseSectionId(path.section))).await?;
    let s = form.section;
    let view = section_page(&page, &s, SectionForm::of(&s), FormErrors::none());
    render(&view, StatusCode::OK)
}

async fn update_section(
    post: SitePost<SectionForm>,
    path: web::Path<SectionPath>,
) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let id = CourseSectionId(path.section);
    let update = SectionUpdate {
        name: Some(form.name.clone()),
        summary: Some(form.summary.clone()),
        visible: Some(ticked(&form.visible)),
    };
    let services = page.site.services.clone();
    let who = page.principal().clone();
    match form_outcome(blocking(move || services.update_section(&who, id, &update)).await)? {
        Ok(s) => Ok(page.done(
            &course_anchor(s.course, s.id),
            format!("Section {} saved.", s.name),
        )),
        Err(errors) => {
            let s = activity_form(&page, Ok(id)).await?.section;
            let view = section_page(&page, &s, form, errors);
            render(&view, status_for(&view.errors))
        }
    }
}

/// A position a move form posts (0 first).
#[derive(serde::Deserialize)]
pub(crate) struct MoveForm {
    position: usize,
    /// For an activity: the section to move it to.
    section: Option<u64>,
}

async fn move_section(
    post: SitePost<MoveForm>,
    path: web::Path<SectionPath>,
) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let id = CourseSectionId(path.section);
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let (s, _) = blocking(move || services.move_section(&who, id, form.position)).await?;
    Ok(page.done(
        &course_anchor(s.course, id),
        format!("Section {} moved.", s.name),
    ))
}

async fn confirm_delete_section(
    page: SitePage,
    path: web::Path<SectionPath>,
) -> Result<HttpResponse, HttpError> {
    let id = CourseSectionId(path.section);
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let form = blocking(move || services.new_activity_form(&who, id)).await?;
    let heading = format!("Delete section {}?", form.section.name);
    let view = ConfirmPage {
        layout: Layout::signed_in(&page, &heading, Section::Courses),
        heading,
        effects: vec![
            format!(
                "delete the section “{}” of {} with every activity in it.",
                form.section.name, form.course.fullname
            ),
            "delete the discussions, submissions and grades of those activities.".to_owned(),
        ],
        action: page.link(&format!("/sections/{id}/delete")),
        csrf: page.csrf().to_owned(),
        button: "Delete section".to_owned(),
        cancel: page.link(&course_anchor(form.course.id, id)),
    };
    render(&view, StatusCode::OK)
}

async fn delete_section(
    post: SitePost<Empty>,
    path: web::Path<SectionPath>,
) -> Result<HttpResponse, HttpError> {
    let page = post.page;
    let id = CourseSectionId(path.section);
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let s = blocking(move || services.delete_section(&who, id)).await?;
    Ok(page.done(
        &format!("/courses/{}", s.course),
        format!("Section {} deleted.", s.name),
    ))
}

// ------------------------------------------------------------ activities

#[derive(Template)]
#[template(path = "pages/content/page_form.html")]
pub(crate) struct PageFormPage {
    pub layout: Layout,
    pub heading: String,
    pub lead: String,
    pub action: String,
    pub csrf: String,
    pub fields: ActivityFields,
    pub choices: FieldChoices,
    pub errors: FormErrors,
    pub cancel: String,
    pub button: &'static str,
}

pub(crate) async fn activity_form(
    page: &SitePage,
    at: Result<CourseSectionId, ActivityId>,
) -> Result<ActivityForm, HttpError> {
    let services = page.site.services.clone();
    let who = page.principal().clone();
    blocking(move || match at {
        Ok(section) => services.new_activity_form(&who, section),
        Err(activity) => services.edit_activity_form(&who, activity),
    })
    .await
}

/// The form of the common fields of an activity: a new one of `kind`
/// (a page or a forum, which have no settings of their own) in the
/// form's section, or the form's activity when editing.
pub(crate) fn page_form(
    page: &SitePage,
    form: &ActivityForm,
    fields: ActivityFields,
    errors: FormErrors,
    kind: ActivityKind,
) -> PageFormPage {
    let (noun, route) = match kind {
        ActivityKind::Discussion => ("forum", "forums"),
        ActivityKind::Assignment => ("assignment", "assignments"),
        ActivityKind::Page => ("page", "pages"),
    };
    let (heading, action, button) = match &form.activity {
        None => (
            format!("Add a {noun}"),
            page.link(&format!("/sections/{}/{route}", form.section.id)),
            match kind {
                ActivityKind::Discussion => "Add forum",
                ActivityKind::Assignment => "Add assignment",
                ActivityKind::Page => "Add page",
            },
        ),
        Some(a) => (
            format!("Edit {}", a.name),
            page.link(&format!("/activities/{}", a.id)),
            "Save changes",
        ),
    };
    PageFormPage {
        layout: Layout::signed_in(page, &heading, Section::Courses),
        heading,
        lead: format!("{} — section {}", form.course.fullname, form.section.name),
        action,
        csrf: page.csrf().to_owned(),
        fields,
        choices: FieldChoices::of(&form.course, &form.groupings),
        errors,
        cancel: page.link(&course_anchor(form.course.id, form.section.id)),
        button,
    }
}

async fn new_page_form(
    page: SitePage,
    path: web::Path<SectionPath>,
) -> Result<HttpResponse, HttpError> {
    let form = activity_form(&page, Ok(CourseSectionId(path.section))).await?;
    let view = page_form(
        &page,
        &form,
        ActivityFields::new_activity(),
        FormErrors::none(),
        ActivityKind::Page,
    );
    render(&view, StatusCode::OK)
}

async fn create_page(
    post: SitePost<ActivityFields>,
    path: web::Path<SectionPath>,
) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let section = CourseSectionId(path.section);
    let draft = form.draft()?;
    let services = page.site.services.clone();
    let who = page.principal().clone();
    match form_outcome(blocking(move || services.create_page(&who, section, &draft)).await)? {
        Ok(a) => Ok(page.done(
            &course_anchor(a.course, a.section),
            format!("Page {} added.", a.name),
        )),
        Err(errors) => {
            let f = activity_form(&page, Ok(section)).await?;
            let view = page_form(&page, &f, form, errors, ActivityKind::Page);
            render(&view, status_for(&view.errors))
        }
    }
}

#[derive(Template)]
#[template(path = "pages/content/activity.html")]
pub(crate) struct ActivityShowPage {
    pub layout: Layout,
    pub p: ActivityPage,
    pub kind: &'static str,
    pub mode: &'static str,
    pub course_href: String,
    pub edit_href: Option<String>,
}

async fn show_activity(
    page: SitePage,
    path: web::Path<ActivityPath>,
) -> Result<HttpResponse, HttpError> {
    let id = ActivityId(path.activity);
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let p = blocking(move || services.activity_page(&who, id)).await?;
    if p.activity.kind != ActivityKind::Page {
        // Each kind has its own page; this address stays a stable link.
        return Ok(HttpResponse::SeeOther()
            .insert_header((
                actix_web::http::header::LOCATION,
                page.link(&activity_path(p.activity.kind, id)),
            ))
            .finish());
    }
    let view = ActivityShowPage {
        layout: Layout::signed_in(&page, &p.activity.name, Section::Courses),
        kind: p.activity.kind.label(),
        mode: mode_label(p.group_mode),
        course_href: page.link(&course_anchor(p.course.id, p.section.id)),
        edit_href: p
            .can_edit
            .then(|| page.link(&format!("/activities/{id}/edit"))),
        p,
    };
    render(&view, StatusCode::OK)
}

/// Edits the common fields of any kind of activity (a kind's own settings
/// have their own form).
async fn edit_activity_form(
    page: SitePage,
    path: web::Path<ActivityPath>,
) -> Result<HttpResponse, HttpError> {
    let form = activity_form(&page, Err(ActivityId(path.activity))).await?;
    let fields = form
        .activity
        .as_ref()
        .map(ActivityFields::of)
        .unwrap_or_default();
    let view = page_form(&page, &form, fields, FormErrors::none(), ActivityKind::Page);
    render(&view, StatusCode::OK)
}

async fn update_activity(
    post: SitePost<ActivityFields>,
    path: web::Path<ActivityPath>,
) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let id = ActivityId(path.activity);
    let update = ActivityUpdate::all(form.draft()?);
    let services = page.site.services.clone();
    let who = page.principal().clone();
    match form_outcome(blocking(move || services.update_activity(&who, id, &update)).await)? {
        Ok(a) => Ok(page.done(
            &course_anchor(a.course, a.section),
            format!("{} saved.", a.name),
        )),
        Err(errors) => {
            let f = activity_form(&page, Err(id)).await?;
            let view = page_form(&page, &f, form, errors, ActivityKind::Page);
            render(&view, status_for(&view.errors))
        }
    }
}

#[derive(serde::Deserialize)]
pub(crate) struct VisibilityForm {
    /// `1` shows, `0` hides.
    visible: String,
}

async fn set_visibility(
    post: SitePost<VisibilityForm>,
    path: web::Path<ActivityPath>,
) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let id = ActivityId(path.activity);
    let visible = match form.visible.as_str() {
        "1" => true,
        "0" => false,
        other => {
            return Err(HttpError::BadRequest(format!(
                "visible must be 1 or 0, not {other:?}"
            )));
        }
    };
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let a = blocking(move || services.set_activity_visible(&who, id, visible)).await?;
    let word = if a.visible { "shown" } else { "hidden" };
    Ok(page.done(
        &course_anchor(a.course, a.section),
        format!("{} {word}.", a.name),
    ))
}

async fn move_activity(
    post: SitePost<MoveForm>,
    path: web::Path<ActivityPath>,
) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let id = ActivityId(path.activity);
    let Some(section) = form.section else {
        return Err(HttpError::BadRequest(
            "the move form names no section".into(),
        ));
    };
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let a =
        blocking(move || services.move_activity(&who, id, CourseSectionId(section), form.position))
            .await?;
    Ok(page.done(
        &course_anchor(a.course, a.section),
        format!("{} moved.", a.name),
    ))
}

async fn confirm_delete_activity(
    page: SitePage,
    path: web::Path<ActivityPath>,
) -> Result<HttpResponse, HttpError> {
    let form = activity_form(&page, Err(ActivityId(path.activity))).await?;
    let Some(a) = form.activity else {
        return Err(HttpError::Internal(
            "an activity form without its activity".into(),
        ));
    };
    let heading = format!("Delete {}?", a.name);
    let mut effects = vec![format!(
        "delete the {} “{}” from {}.",
        a.kind.label().to_lowercase(),
        a.name,
        form.course.fullname
    )];
    match a.kind {
        ActivityKind::Page => {}
        ActivityKind::Discussion => {
            effects.push("delete every discussion and post in it.".to_owned());
        }
        ActivityKind::Assignment => {
            effects.push("delete every submission, its files and its grades.".to_owned());
        }
    }
    let view = ConfirmPage {
        layout: Layout::signed_in(&page, &heading, Section::Courses),
        heading,
        effects,
        action: page.link(&format!("/activities/{}/delete", a.id)),
        csrf: page.csrf().to_owned(),
        button: format!("Delete {}", a.kind.label().to_lowercase()),
        cancel: page.link(&course_anchor(a.course, a.section)),
    };
    render(&view, StatusCode::OK)
}

async fn delete_activity(
    post: SitePost<Empty>,
    path: web::Path<ActivityPath>,
) -> Result<HttpResponse, HttpError> {
    let page = post.page;
    let id = ActivityId(path.activity);
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let a = blocking(move || services.delete_activity(&who, id)).await?;
    Ok(page.done(
        &course_anchor(a.course, a.section),
        format!("{} deleted.", a.name),
    ))
}
