//! Assignments: an assignment's page (a learner's submission, status,
//! grade and feedback; staff's figures), its create and edit forms, the
//! staff list of submissions with a group filter, a submission's page with
//! the grading form, and file downloads.
//!
//! The submission form is `multipart/form-data` (text and a file in one
//! post), read with the bounded parser of `upload.rs`; its token is
//! checked like every form's before anything is written. Every decision
//! of who sees what is the assignment service's.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::super::{HttpError, blocking};
use super::forms::{FormErrors, datetime_local, datetime_of, form_outcome, render, ticked};
use super::session::{SitePage, SitePost};
use super::upload::{Body, content_type, read_upload, upload_fields};
use super::{Layout, Section, page_routes};
use crate::domain::*;
use crate::services::assignments::{
    AssignmentEditor, AssignmentInput, AssignmentView, GradeInput, GradeScope, HOST_MAX_FILE_BYTES,
    MAX_TEXT_BYTES, NewFile, SubmissionDetail, SubmissionInput, SubmissionList, human_size,
    parse_sha256,
};
use crate::services::content::ActivityDraft;

page_routes! {
    get "/assignments/{assignment}" => show, CourseMember;
    post "/assignments/{assignment}/submission" => submit, CourseMember;
    get "/sections/{section}/assignments/new" => new_form, CourseStaff;
    post "/sections/{section}/assignments" => create, CourseStaff;
    get "/assignments/{assignment}/edit" => edit_form, CourseStaff;
    post "/assignments/{assignment}/edit" => update, CourseStaff;
    get "/assignments/{assignment}/submissions" => list, CourseStaff;
    get "/submissions/{submission}" => show_submission, CourseMember;
    get "/submissions/{submission}/files/{file}" => download, CourseMember;
    post "/submissions/{submission}/grade" => grade, CourseStaff;
}

#[derive(serde::Deserialize)]
pub(crate) struct AssignmentPath {
    assignment: u64,
}

#[derive(serde::Deserialize)]
pub(crate) struct SectionPath {
    section: u64,
}

#[derive(serde::Deserialize)]
pub(crate) struct SubmissionPath {
    submission: u64,
}

#[derive(serde::Deserialize)]
pub(crate) struct FilePath {
    submission: u64,
    file: String,
}

#[derive(serde::Deserialize)]
pub(crate) struct GroupQuery {
    group: Option<String>,
}

/// A group id from a query or a form: blank is none.
fn group_of(value: Option<&str>) -> Result<Option<CourseGroupId>, FormErrors> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => v.parse().map(|g| Some(CourseGroupId(g))).map_err(|_| {
            let mut errors = FormErrors::none();
            errors.add("group", "choose one of the groups listed");
            errors
        }),
    }
}

fn grade_words(value: Option<f64>, max: f64) -> String {
    match value {
        Some(v) => format!("{v} / {max}"),
        None => "No grade (feedback only)".to_owned(),
    }
}

/// A file of a submission as a page lists it.
pub(crate) struct FileLink {
    pub name: String,
    pub size: String,
    pub href: String,
}

fn file_links(page: &SitePage, submission: &Submission) -> Vec<FileLink> {
    submission
        .files
        .iter()
        .map(|f| FileLink {
            name: f.name.clone(),
            size: human_size(f.bytes),
            href: page.link(&format!(
                "/submissions/{}/files/{}",
                submission.id,
                f.sha256_hex()
            )),
        })
        .collect()
}

// ------------------------------------------------------ assignment page

#[derive(Template)]
#[template(path = "pages/assignments/show.html")]
pub(crate) struct ShowPage {
    pub layout: Layout,
    pub view: AssignmentView,
    pub csrf: String,
    pub errors: FormErrors,
    pub due: String,
    pub cutoff: String,
    pub max_file: String,
    pub course_href: String,
    pub edit_href: String,
    pub submissions_href: String,
    pub submit_action: String,
    /// The learner's state in words and as a class name.
    pub state_label: &'static str,
    pub state_class: &'static str,
    pub files: Vec<FileLink>,
    /// The group select of a learner in several groups: (id, name).
    pub group_options: Vec<(String, String)>,
    pub group_value: String,
    pub can_submit: bool,
    pub text_value: String,
    pub grade_words: String,
}

fn show_page(
    page: &SitePage,
    view: AssignmentView,
    errors: FormErrors,
    text: Option<String>,
) -> ShowPage {
    let when = |t: Option<Timestamp>| t.map_or_else(|| "None".to_owned(), |t| t.to_string());
    let id = view.activity.id;
    let (state_label, state_class, files, can_submit, text_value, grade_text) = match &view.learner
    {
        Some(part) => (
            part.state.label(),
            part.state.as_str(),
            part.submission
                .as_ref()
                .map(|s| file_links(page, &s.submission))
                .unwrap_or_default(),
            part.blocked.is_none(),
            text.unwrap_or_else(|| {
                part.submission
                    .as_ref()
                    .map(|s| s.submission.text.clone())
                    .unwrap_or_default()
            }),
            part.grade
                .as_ref()
                .map(|g| grade_words(g.entry.value, g.max_grade))
                .unwrap_or_default(),
        ),
        None => ("", "", Vec::new(), false, String::new(), String::new()),
    };
    let (group_options, group_value) = match &view.learner {
        Some(part) if part.groups.len() > 1 => (
            std::iter::once((String::new(), "Choose a group".to_owned()))
                .chain(
                    part.groups
                        .iter()
                        .map(|g| (g.id.to_string(), g.name.clone())),
                )
                .collect(),
            match part.owner {
                Some(SubmissionOwner::Group(g)) => g.to_string(),
                _ => String::new(),
            },
        ),
        _ => (Vec::new(), String::new()),
    };
    ShowPage {
        layout: Layout::signed_in(page, &view.activity.name, Section::Courses),
        csrf: page.csrf().to_owned(),
        errors,
        due: when(view.settings.due_at),
        cutoff: when(view.settings.cutoff_at),
        max_file: human_size(view.settings.max_file_bytes),
        course_href: page.link(&format!("/courses/{}", view.activity.course)),
        edit_href: page.link(&format!("/assignments/{id}/edit")),
        submissions_href: page.link(&format!("/assignments/{id}/submissions")),
        submit_action: page.link(&format!("/assignments/{id}/submission")),
        state_label,
        state_class,
        files,
        group_options,
        group_value,
        can_submit,
        text_value,
        grade_words: grade_text,
        view,
    }
}

async fn show(
    page: SitePage,
    path: web::Path<AssignmentPath>,
    query: web::Query<GroupQuery>,
) -> Result<HttpResponse, HttpError> {
    let id = ActivityId(path.assignment);
    let group = group_of(query.group.as_deref()).unwrap_or(None);
    let (services, who) = (page.site.services.clone(), page.principal().clone());
    let view = blocking(move || services.assignment(&who, id, group)).await?;
    render(
        &show_page(&page, view, FormErrors::none(), None),
        StatusCode::OK,
    )
}

/// The submission form's fields, read from the multipart body.
struct SubmissionFields {
    group: Option<String>,
    text: Option<String>,
    remove: Vec<String>,
    submit: bool,
}

fn submission_fields(fields: Vec<(String, String)>) -> SubmissionFields {
    let mut out = SubmissionFields {
        group: None,
        text: None,
        remove: Vec::new(),
        submit: false,
    };
    for (name, value) in fields {
        match name.as_str() {
            "group" => out.group = Some(value),
            "text" => out.text = Some(value),
            "remove" => out.remove.push(value),
            "action" => out.submit = value == "submit",
            _ => {}
        }
    }
    out
}

async fn submit(
    page: SitePage,
    path: web::Path<AssignmentPath>,
    body: web::Payload,
) -> Result<HttpResponse, HttpError> {
    let id = ActivityId(path.assignment);
    let limit = (HOST_MAX_FILE_BYTES as usize).saturating_add(MAX_TEXT_BYTES);
    let body = match read_upload(&page.request, body, limit).await? {
        Body::Within(body) => body,
        Body::TooLarge(size) => {
            let mut errors = FormErrors::none();
            errors.add(
                "file",
                format!(
                    "the upload is {}; this host accepts files of at most {}",
                    human_size(size as u64),
                    human_size(HOST_MAX_FILE_BYTES)
                ),
            );
            return refused_submission(&page, id, errors, None, StatusCode::PAYLOAD_TOO_LARGE)
                .await;
        }
    };
    let upload = upload_fields(&content_type(&page.request), &body, "file");
    if !upload.token_is(page.csrf()) {
        return Err(HttpError::CsrfRejected);
    }
    let fields = submission_fields(upload.fields);
    let group = match group_of(fields.group.as_deref()) {
        Ok(group) => group,
        Err(errors) => {
            return refused_submission(
                &page,
                id,
                errors,
                fields.text,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let add_files = if upload.file.is_empty() && upload.filename.is_empty() {
        Vec::new()
    } else {
        vec![NewFile {
            name: upload.filename,
            content_type: upload.file_type,
            content: upload.file,
        }]
    };
    let input = SubmissionInput {
        group,
        text: fields.text.clone(),
        add_files,
        remove_files: fields.remove,
        submit: fields.submit,
    };
    let (services, who) = (page.site.services.clone(), page.principal().clone());
    let saved = blocking(move || services.save_submission(&who, id, input)).await;
    match form_outcome(saved)? {
        Ok(view) => {
            let back = match (group, view.submission.owner) {
                (Some(_), SubmissionOwner::Group(g)) => format!("/assignments/{id}?group={g}"),
                _ => format!("/assignments/{id}"),
            };
            Ok(page.done(
                &back,
                if fields.submit {
                    "Submitted for grading."
                } else {
                    "Draft saved."
                },
            ))
        }
        Err(errors) => {
            refused_submission(
                &page,
                id,
                errors,
                fields.text,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// The assignment page again with what was wrong, nothing written.
async fn refused_submission(
    page: &SitePage,
    id: ActivityId,
    errors: FormErrors,
    text: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, HttpError> {
    let (services, who) = (page.site.services.clone(), page.principal().clone());
    let view = blocking(move || services.assignment(&who, id, None)).await?;
    render(&show_page(page, view, errors, text), status)
}

// ------------------------------------------------------ create and edit

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

async fn new_form(page: SitePage, path: web::Path<SectionPath>) -> Result<HttpResponse, HttpError> {
    let section = CourseSectionId(path.section);
    let (services, who) = (page.site.services.clone(), page.principal().clone());
    let editor = blocking(move || services.new_assignment_form(&who, section)).await?;
    let form = form_of(&editor.current);
    render(
        &form_page(&page, &editor, form, FormErrors::none()),
        StatusCode::OK,
    )
}

async fn edit_form(
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

async fn create(
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

async fn update(
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

// ------------------------------------------------------ submissions list

pub(crate) struct Row {
    pub owner: String,
    pub state_label: &'static str,
    pub state_class: &'static str,
    pub updated: String,
    pub grade: String,
    pub href: String,
}

#[derive(Template)]
#[template(path = "pages/assignments/submissions.html")]
pub(crate) struct ListPage {
    pub layout: Layout,
    pub list: SubmissionList,
    pub rows: Vec<Row>,
    pub group_options: Vec<(String, String)>,
    pub group_value: String,
    pub filter_action: String,
    pub back: String,
}

async fn list(
    page: SitePage,
    path: web::Path<AssignmentPath>,
    query: web::Query<GroupQuery>,
) -> Result<HttpResponse, HttpError> {
    let id = ActivityId(path.assignment);
    let group = group_of(query.group.as_deref()).map_err(|_| {
        HttpError::Service(crate::services::ServiceError::invalid(
            "group",
            "choose one of the groups listed",
        ))
    })?;
    let (services, who) = (page.site.services.clone(), page.principal().clone());
    let list = blocking(move || services.assignment_submissions(&who, id, group)).await?;
    let max = list.settings.max_grade;
    let rows = list
        .rows
        .iter()
        .map(|r| Row {
            owner: r.owner_name.clone(),
            state_label: r.state.label(),
            state_class: r.state.as_str(),
            updated: r.submission.updated_at.to_string(),
            grade: r.grade.map(|g| format!("{g} / {max}")).unwrap_or_default(),
            href: page.link(&format!("/submissions/{}", r.submission.id)),
        })
        .collect();
    let view = ListPage {
        layout: Layout::signed_in(
            &page,
            &format!("Submissions: {}", list.activity.name),
            Section::Courses,
        ),
        group_options: std::iter::once((String::new(), "All groups I may see".to_owned()))
            .chain(
                list.groups
                    .iter()
                    .map(|g| (g.id.to_string(), g.name.clone())),
            )
            .collect(),
        group_value: group.map(|g| g.to_string()).unwrap_or_default(),
        filter_action: page.link(&format!("/assignments/{id}/submissions")),
        back: page.link(&format!("/assignments/{id}")),
        rows,
        list,
    };
    render(&view, StatusCode::OK)
}

// ------------------------------------------------------ one submission

#[derive(serde::Deserialize, Default)]
pub(crate) struct GradeForm {
    #[serde(default)]
    grade: String,
    #[serde(default)]
    feedback: String,
    /// Blank: the whole submission (every group member); else one member.
    #[serde(default)]
    member: String,
}

#[derive(Template)]
#[template(path = "pages/assignments/submission.html")]
pub(crate) struct SubmissionPage {
    pub layout: Layout,
    pub detail: SubmissionDetail,
    pub files: Vec<FileLink>,
    pub csrf: String,
    pub errors: FormErrors,
    pub grade_action: String,
    pub back: String,
    pub grade_label: String,
    pub grade_value: String,
    pub feedback_value: String,
    pub is_group: bool,
    pub member_options: Vec<(String, String)>,
    pub member_value: String,
    /// `(user, grade in words, feedback html)` per grade shown.
    pub grades: Vec<(String, String, String)>,
}

fn submission_page(
    page: &SitePage,
    detail: SubmissionDetail,
    form: GradeForm,
    errors: FormErrors,
) -> SubmissionPage {
    let is_group = matches!(detail.view.submission.owner, SubmissionOwner::Group(_));
    let max = detail.settings.max_grade;
    let back = if detail.can_grade {
        page.link(&format!("/assignments/{}/submissions", detail.activity.id))
    } else {
        page.link(&format!("/assignments/{}", detail.activity.id))
    };
    SubmissionPage {
        layout: Layout::signed_in(
            page,
            &format!("Submission of {}", detail.view.owner_name),
            Section::Courses,
        ),
        files: file_links(page, &detail.view.submission),
        csrf: page.csrf().to_owned(),
        errors,
        grade_action: page.link(&format!("/submissions/{}/grade", detail.view.submission.id)),
        back,
        grade_label: format!("Grade (out of {max})"),
        grade_value: form.grade,
        feedback_value: form.feedback,
        is_group,
        member_options: std::iter::once((
            String::new(),
            "Apply grades and feedback to entire group".to_owned(),
        ))
        .chain(
            detail
                .graded_users
                .iter()
                .map(|(u, name)| (u.to_string(), format!("{name} only"))),
        )
        .collect(),
        member_value: form.member,
        grades: detail
            .grades
            .iter()
            .map(|g| {
                (
                    g.user_name.clone(),
                    grade_words(g.entry.value, g.max_grade),
                    g.feedback_html.clone(),
                )
            })
            .collect(),
        detail,
    }
}

async fn show_submission(
    page: SitePage,
    path: web::Path<SubmissionPath>,
) -> Result<HttpResponse, HttpError> {
    let id = SubmissionId(path.submission);
    let (services, who) = (page.site.services.clone(), page.principal().clone());
    let detail = blocking(move || services.submission(&who, id)).await?;
    let view = submission_page(&page, detail, GradeForm::default(), FormErrors::none());
    render(&view, StatusCode::OK)
}

async fn grade(
    post: SitePost<GradeForm>,
    path: web::Path<SubmissionPath>,
) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let id = SubmissionId(path.submission);
    let mut errors = FormErrors::none();
    let value = match form.grade.trim() {
        "" => None,
        v => v.parse::<f64>().map(Some).unwrap_or_else(|_| {
            errors.add("grade", "must be a number");
            None
        }),
    };
    let scope = match form.member.trim() {
        "" => GradeScope::Submission,
        v => v
            .parse()
            .map(|u| GradeScope::Member(UserId(u)))
            .unwrap_or_else(|_| {
                errors.add("member", "choose one of the members listed");
                GradeScope::Submission
            }),
    };
    let input = GradeInput {
        value,
        feedback: form.feedback.clone(),
        scope,
    };
    let valid = errors.is_empty();
    let (services, who) = (page.site.services.clone(), page.principal().clone());
    let (detail, graded) = blocking(move || {
        let detail = services.submission(&who, id)?;
        let graded = valid.then(|| services.grade_submission(&who, id, input));
        Ok((detail, graded))
    })
    .await?;
    if let Some(result) = graded {
        match form_outcome(result.map_err(HttpError::from))? {
            Ok(done) => {
                return Ok(page.done(
                    &format!("/submissions/{id}"),
                    format!("Grade saved for {} user(s).", done.len()),
                ));
            }
            Err(e) => errors = e,
        }
    }
    render(
        &submission_page(&page, detail, form, errors),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
}

async fn download(page: SitePage, path: web::Path<FilePath>) -> Result<HttpResponse, HttpError> {
    let id = SubmissionId(path.submission);
    let sha = parse_sha256(&path.file).ok_or_else(|| {
        HttpError::Service(crate::services::ServiceError::not_found(format!(
            "file of submission #{id}"
        )))
    })?;
    let (services, who) = (page.site.services.clone(), page.principal().clone());
    let (file, content) = blocking(move || services.submission_file(&who, id, &sha)).await?;
    Ok(crate::http::download::attachment(&file, content))
}
