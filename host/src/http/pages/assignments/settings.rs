//! An assignment's create and edit forms: the common activity fields
//! (name, instructions, visibility, group mode, grouping) and the
//! assignment's own settings, checked by the service; a refused form comes
//! back with its errors and nothing written.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::super::super::{HttpError, blocking};
use super::super::forms::{FormErrors, datetime_local, datetime_of, form_outcome, render, ticked};
use super::super::session::{SitePage, SitePost};
use super::super::{Layout, Section};
use super::{AssignmentPath, SectionPath};
use crate::domain::*;
use crate::services::assignments::{AssignmentEditor, AssignmentInput};
use crate::services::content::ActivityDraft;

/// The create/edit form as typed: the common activity fields, then the
/// assignment's own.
#[derive(serde::Deserialize, Default, Clone)]
pub(crate) struct SettingsForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    visible: Option<String>,
    /// Blank: the course's; else `none`, `separate` or `visible`.
    #[serde(default)]
    group_mode: String,
    /// Blank: no restriction; else a grouping id.
    #[serde(default)]
    grouping: String,
    #[serde(default)]
    due_at: String,
    #[serde(default)]
    cutoff_at: String,
    #[serde(default)]
    max_grade: String,
    online_text: Option<String>,
    file_submissions: Option<String>,
    /// In MiB, decimals allowed.
    #[serde(default)]
    max_file_mib: String,
    #[serde(default)]
    max_files: String,
    group_submission: Option<String>,
}

fn form_of(current: &Option<(Activity, AssignmentSettings)>) -> SettingsForm {
    let (activity, input) = match current {
        Some((a, s)) => (Some(a), AssignmentInput::from(s)),
        None => (None, AssignmentInput::default()),
    };
    let mode = |m: Option<GroupMode>| match m {
        None => "",
        Some(GroupMode::None) => "none",
        Some(GroupMode::Separate) => "separate",
        Some(GroupMode::Visible) => "visible",
    };
    let tick = |b: bool| b.then(|| "1".to_owned());
    SettingsForm {
        name: activity.map(|a| a.name.clone()).unwrap_or_default(),
        description: activity.map(|a| a.description.clone()).unwrap_or_default(),
        visible: tick(activity.is_none_or(|a| a.visible)),
        group_mode: mode(activity.and_then(|a| a.group_mode)).to_owned(),
        grouping: activity
            .and_then(|a| a.grouping)
            .map(|g| g.to_string())
            .unwrap_or_default(),
        due_at: input.due_at.map(datetime_local).unwrap_or_default(),
        cutoff_at: input.cutoff_at.map(datetime_local).unwrap_or_default(),
        max_grade: input.max_grade.to_string(),
        online_text: tick(input.online_text),
        file_submissions: tick(input.file_submissions),
        max_file_mib: (input.max_file_bytes as f64 / (1024.0 * 1024.0)).to_string(),
        max_files: input.max_files.to_string(),
        group_submission: tick(input.group_submission),
    }
}

/// The form's values as the service's inputs, or the field errors.
fn inputs_of(form: &SettingsForm) -> Result<(ActivityDraft, AssignmentInput), FormErrors> {
    let mut errors = FormErrors::none();
    let group_mode = match form.group_mode.as_str() {
        "" => None,
        "none" => Some(GroupMode::None),
        "separate" => Some(GroupMode::Separate),
        "visible" => Some(GroupMode::Visible),
        _ => {
            errors.add("group_mode", "choose one of the group modes listed");
            None
        }
    };
    let grouping = match form.grouping.trim() {
        "" => None,
        v => v
            .parse()
            .map(GroupingId)
            .map_err(|_| errors.add("grouping", "choose one of the groupings listed"))
            .ok(),
    };
    let mut date = |field: &str, value: &str| match datetime_of(field, value) {
        Ok(t) => t,
        Err(e) => {
            errors.add(field, e.get(field).unwrap_or_default().to_owned());
            None
        }
    };
    let due_at = date("due_at", &form.due_at);
    let cutoff_at = date("cutoff_at", &form.cutoff_at);
    let mut number = |field: &str, value: &str| -> f64 {
        value.trim().parse::<f64>().unwrap_or_else(|_| {
            errors.add(field, "must be a number");
            0.0
        })
    };
    let max_grade = number("max_grade", &form.max_grade);
    let max_file_mib = number("max_file_mib", &form.max_file_mib);
    let max_files = number("max_files", &form.max_files);
    if !errors.is_empty() {
        return Err(errors);
    }
    let draft = ActivityDraft {
        name: form.name.clone(),
        description: form.description.clone(),
        visible: ticked(&form.visible),
        group_mode,
        grouping,
    };
    let input = AssignmentInput {
        due_at,
        cutoff_at,
        max_grade,
        online_text: ticked(&form.online_text),
        file_submissions: ticked(&form.file_submissions),
        // Out-of-range values reach the service, which names the limits.
        max_file_bytes: (max_file_mib.max(0.0) * 1024.0 * 1024.0) as u64,
        max_files: max_files.clamp(0.0, f64::from(u32::MAX)) as u32,
        group_submission: ticked(&form.group_submission),
    };
    Ok((draft, input))
}

#[derive(Template)]
#[template(path = "pages/assignments/form.html")]
pub(crate) struct FormPage {
    pub layout: Layout,
    pub heading: String,
    pub action: String,
    pub cancel: String,
    pub csrf: String,
    pub form: SettingsForm,
    pub errors: FormErrors,
    pub group_modes: Vec<(String, String)>,
    pub groupings: Vec<(String, String)>,
    pub submit_label: &'static str,
}

fn form_page(
    page: &SitePage,
    editor: &AssignmentEditor,
    form: SettingsForm,
    errors: FormErrors,
) -> FormPage {
    let course_mode = match editor.course.group_mode {
        GroupMode::None => "no groups",
        GroupMode::Separate => "separate groups",
        GroupMode::Visible => "visible groups",
    };
    let (heading, action, cancel, submit_label) = match &editor.current {
        Some((a, _)) => (
            format!("Edit {}", a.name),
            page.link(&format!("/assignments/{}/edit", a.id)),
            page.link(&format!("/assignments/{}", a.id)),
            "Save changes",
        ),
        None => (
            "New assignment".to_owned(),
            page.link(&format!("/sections/{}/assignments", editor.section)),
            page.link(&format!("/courses/{}", editor.course.id)),
            "Save assignment",
        ),
    };
    let pair = |v: &str, l: &str| (v.to_owned(), l.to_owned());
    FormPage {
        layout: Layout::signed_in(page, &heading, Section::Courses),
        heading,
        action,
        cancel,
        csrf: page.csrf().to_owned(),
        form,
        errors,
        group_modes: vec![
            pair("", &format!("The course's ({course_mode})")),
            pair("none", "No groups"),
            pair("separate", "Separate groups"),
            pair("visible", "Visible groups"),
        ],
        groupings: std::iter::once(pair("", "None: everyone in the course"))
            .chain(
                editor
                    .groupings
                    .iter()
                    .map(|g| (g.id.to_string(), g.name.clone())),
            )
            .collect(),
        submit_label,
    }
}

pub(super) async fn new_form(
    page: SitePage,
    path: web::Path<SectionPath>,
) -> Result<HttpResponse, HttpError> {
    let section = CourseSectionId(path.section);
    let (services, who) = (page.site.services.clone(), page.principal().clone());
    let editor = blocking(move || services.new_assignment_form(&who, section)).await?;
    let form = form_of(&editor.current);
    render(
        &form_page(&page, &editor, form, FormErrors::none()),
        StatusCode::OK,
    )
}

pub(super) async fn edit_form(
    page: SitePage,
    path: web::Path<AssignmentPath>,
) -> Result<HttpResponse, HttpError> {
    let id = ActivityId(path.assignment);
    let (services, who) = (page.site.services.clone(), page.principal().clone());
    let editor = blocking(move || services.edit_assignment_form(&who, id)).await?;
    let form = form_of(&editor.current);
    render(
        &form_page(&page, &editor, form, FormErrors::none()),
        StatusCode::OK,
    )
}

/// Saves a create or edit form through `save`, or shows it again with the
/// errors (nothing written).
async fn save_settings(
    page: SitePage,
    form: SettingsForm,
    load: impl FnOnce(
        &crate::services::SiteServices,
        &crate::services::Principal,
    ) -> crate::services::ServiceResult<AssignmentEditor>
    + Send
    + 'static,
    save: impl FnOnce(
        &crate::services::SiteServices,
        &crate::services::Principal,
        ActivityDraft,
        AssignmentInput,
    ) -> crate::services::ServiceResult<Activity>
    + Send
    + 'static,
) -> Result<HttpResponse, HttpError> {
    let inputs = inputs_of(&form);
    let (services, who) = (page.site.services.clone(), page.principal().clone());
    let (editor, saved) = blocking(move || {
        let editor = load(&services, &who)?;
        let saved = inputs.map(|(draft, input)| save(&services, &who, draft, input));
        Ok((editor, saved))
    })
    .await?;
    let errors = match saved {
        Err(errors) => errors,
        Ok(result) => match form_outcome(result.map_err(HttpError::from))? {
            Ok(activity) => {
                return Ok(page.done(
                    &format!("/assignments/{}", activity.id),
                    format!("Assignment “{}” saved.", activity.name),
                ));
            }
            Err(errors) => errors,
        },
    };
    render(
        &form_page(&page, &editor, form, errors),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
}

pub(super) async fn create(
    post: SitePost<SettingsForm>,
    path: web::Path<SectionPath>,
) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let section = CourseSectionId(path.section);
    save_settings(
        page,
        form,
        move |s, who| s.new_assignment_form(who, section),
        move |s, who, draft, input| s.create_assignment(who, section, draft, input),
    )
    .await
}

pub(super) async fn update(
    post: SitePost<SettingsForm>,
    path: web::Path<AssignmentPath>,
) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let id = ActivityId(path.assignment);
    save_settings(
        page,
        form,
        move |s, who| s.edit_assignment_form(who, id),
        move |s, who, draft, input| s.update_assignment(who, id, draft, input),
    )
    .await
}
