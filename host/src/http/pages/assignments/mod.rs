//! Assignments: an assignment's page (a learner's submission, status,
//! grade and feedback; staff's figures), its create and edit forms, the
//! staff list of submissions with a group filter, a submission's page with
//! the grading form, and file downloads.
//!
//! This file holds the assignment page and the learner's submission;
//! `settings.rs` the create and edit forms, `staff.rs` the submission
//! list, a submission with its grading form, and downloads.
//!
//! The submission form is `multipart/form-data` (text and a file in one
//! post), read with the bounded parser of `upload.rs`; its token is
//! checked like every form's before anything is written. Every decision
//! of who sees what is the assignment service's.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::super::{HttpError, blocking};
use super::forms::{FormErrors, form_outcome, render};
use super::session::SitePage;
use super::upload::{Body, content_type, read_upload, upload_fields};
use super::{Layout, Section, page_routes};
use crate::domain::*;
use crate::services::assignments::{
    AssignmentView, HOST_MAX_FILE_BYTES, MAX_TEXT_BYTES, NewFile, SubmissionInput, human_size,
};

mod settings;
mod staff;

page_routes! {
    get "/assignments/{assignment}" => show, CourseMember;
    post "/assignments/{assignment}/submission" => submit, CourseMember;
    get "/sections/{section}/assignments/new" => settings::new_form, CourseStaff;
    post "/sections/{section}/assignments" => settings::create, CourseStaff;
    get "/assignments/{assignment}/edit" => settings::edit_form, CourseStaff;
    post "/assignments/{assignment}/edit" => settings::update, CourseStaff;
    get "/assignments/{assignment}/submissions" => staff::list, CourseStaff;
    get "/submissions/{submission}" => staff::show_submission, CourseMember;
    get "/submissions/{submission}/files/{file}" => staff::download, CourseMember;
    post "/submissions/{submission}/grade" => staff::grade, CourseStaff;
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
    let when = |t: Option<Timestamp>| t.map_or_else(|| "none".to_owned(), |t| t.to_string());
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
