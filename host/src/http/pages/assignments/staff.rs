//! Staff's side of an assignment: the list of submissions with its group
//! filter, one submission with the grading form, and file downloads (for
//! everyone who may see the submission, served by `http::download`).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::super::super::{HttpError, blocking};
use super::super::forms::{FormErrors, form_outcome, render};
use super::super::session::{SitePage, SitePost};
use super::super::{Layout, Section};
use super::{
    AssignmentPath, FileLink, FilePath, GroupQuery, SubmissionPath, file_links, grade_words,
    group_of,
};
use crate::domain::*;
use crate::services::assignments::{
    GradeInput, GradeScope, SubmissionDetail, SubmissionList, parse_sha256,
};

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

pub(super) async fn list(
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

pub(super) async fn show_submission(
    page: SitePage,
    path: web::Path<SubmissionPath>,
) -> Result<HttpResponse, HttpError> {
    let id = SubmissionId(path.submission);
    let (services, who) = (page.site.services.clone(), page.principal().clone());
    let detail = blocking(move || services.submission(&who, id)).await?;
    let view = submission_page(&page, detail, GradeForm::default(), FormErrors::none());
    render(&view, StatusCode::OK)
}

pub(super) async fn grade(
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

pub(super) async fn download(
    page: SitePage,
    path: web::Path<FilePath>,
) -> Result<HttpResponse, HttpError> {
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
