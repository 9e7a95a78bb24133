//! One-off mass enrolment of a segment's members: the form on the
//! segment (course, role, group), its preview with the figures, apply
//! (POST, 303 to the result), the result page with "Remove these
//! enrolments again" behind a confirmation, and a course's list.
//!
//! Nothing here decides who may do it or what it does: every page is one
//! call of `services::mass_enrolments`, which refuses everyone but site
//! admins and operators and checks the choices.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::super::{HttpError, blocking};
use super::forms::{ConfirmPage, FormErrors, form_outcome, render};
use super::session::{SitePage, SitePost};
use super::words::count;
use super::{Layout, Section, page_routes};
use crate::domain::{
    CourseGroupId, CourseId, MassEnrolmentFigures, MassEnrolmentId, Role, SegmentId,
};
use crate::services::mass_enrolments::{
    MassEnrolmentChoices, MassEnrolmentDetail, MassEnrolmentPreview, MassEnrolmentRequest,
    MassGroupChoice, PreviewGroup,
};
use crate::services::{Ask, Need, Principal, ServiceResult, SiteServices};

page_routes! {
    get "/segments/{segment}/mass-enrolments" => form, SiteAdmin;
    post "/segments/{segment}/mass-enrolments/preview" => preview, SiteAdmin;
    post "/segments/{segment}/mass-enrolments" => apply, SiteAdmin;
    get "/mass-enrolments/{id}" => show, SiteAdmin;
    get "/mass-enrolments/{id}/undo" => confirm_undo, SiteAdmin;
    post "/mass-enrolments/{id}/undo" => undo, SiteAdmin;
    get "/courses/{course}/mass-enrolments" => course_list, SiteAdmin;
}

#[derive(serde::Deserialize)]
pub(crate) struct SegmentPath {
    segment: u64,
}

#[derive(serde::Deserialize)]
pub(crate) struct IdPath {
    id: u64,
}

#[derive(serde::Deserialize)]
pub(crate) struct CoursePath {
    course: u64,
}

/// The sentence every page of a mass enrolment says, so nobody takes it
/// for a sync.
const ONE_OFF: &str = "This enrols the segment's members of today, once: unlike a Segment sync \
    enrolment method, it does not follow the segment, so people who join it later are not enrolled \
    and people who leave it stay enrolled.";

/// The roles the form offers, as `(value, label)`.
const ROLES: [(&str, Role); 3] = [
    ("learner", Role::Learner),
    ("non_editing_teacher", Role::NonEditingTeacher),
    ("teacher", Role::Teacher),
];

// ------------------------------------------------------------ the form

/// The fields of the form, as typed: `group` is empty (no group), `new`
/// (a new group named `new_group`) or an existing group's id.
#[derive(serde::Deserialize, Default, Clone)]
pub(crate) struct MassForm {
    #[serde(default)]
    course: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    group: String,
    #[serde(default)]
    new_group: String,
}

impl MassForm {
    /// The request the form asks for. A course or group that is not a
    /// number, or an unknown role, comes only from a forged form: a bad
    /// request, not a form error.
    fn request(&self) -> Result<MassEnrolmentRequest, HttpError> {
        let course = self
            .course
            .parse()
            .map(CourseId)
            .map_err(|_| HttpError::BadRequest(format!("{:?} is not a course", self.course)))?;
        let role = ROLES
            .iter()
            .find(|(v, _)| *v == self.role)
            .map(|(_, r)| *r)
            .ok_or_else(|| HttpError::BadRequest(format!("unknown role {:?}", self.role)))?;
        let group = match self.group.as_str() {
            "" => MassGroupChoice::None,
            "new" => MassGroupChoice::New(self.new_group.clone()),
            id => MassGroupChoice::Existing(CourseGroupId(
                id.parse()
                    .map_err(|_| HttpError::BadRequest(format!("{id:?} is not a group")))?,
            )),
        };
        Ok(MassEnrolmentRequest {
            course,
            role,
            group,
        })
    }

    /// The form's fields as hidden inputs, for the preview's Apply.
    fn hidden(&self) -> Vec<(String, String)> {
        [
            ("course", &self.course),
            ("role", &self.role),
            ("group", &self.group),
            ("new_group", &self.new_group),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.clone()))
        .collect()
    }
}

/// One mass enrolment as the lists show it.
pub(crate) struct MassRow {
    pub href: String,
    pub at: String,
    pub segment: String,
    pub course: String,
    pub role: String,
    pub group: String,
    pub enrolled: u64,
    pub undone: bool,
}

fn row(page: &SitePage, d: &MassEnrolmentDetail) -> MassRow {
    let r = &d.record;
    MassRow {
        href: page.link(&format!("/mass-enrolments/{}", r.id)),
        at: r.at.to_string(),
        segment: r.segment_name.clone(),
        course: d.course.shortname.clone(),
        role: r.role.label().to_owned(),
        group: group_label(d),
        enrolled: r.figures.to_enrol,
        undone: r.undone.is_some(),
    }
}

fn group_label(d: &MassEnrolmentDetail) -> String {
    match (&d.group, d.record.group) {
        (Some(g), _) => g.name.clone(),
        (None, Some(id)) => format!("group #{id} (deleted)"),
        (None, None) => "—".to_owned(),
    }
}

#[derive(Template)]
#[template(path = "pages/mass_enrolments/form.html")]
pub(crate) struct FormPage {
    pub layout: Layout,
    pub heading: String,
    pub members: String,
    pub one_off: &'static str,
    pub action: String,
    pub csrf: String,
    pub form: MassForm,
    pub errors: FormErrors,
    pub courses: Vec<(String, String)>,
    pub roles: Vec<(String, String)>,
    pub groups: Vec<(String, String)>,
    pub earlier: Vec<MassRow>,
    pub back: String,
}

fn form_page(
    page: &SitePage,
    choices: MassEnrolmentChoices,
    form: MassForm,
    errors: FormErrors,
) -> FormPage {
    let id = choices.segment.id;
    let heading = format!("Enrol the members of {} in a course", choices.segment.name);
    let mut groups = vec![
        (String::new(), "No group".to_owned()),
        ("new".to_owned(), "A new group, named below".to_owned()),
    ];
    for (course, list) in &choices.courses {
        for g in list {
            groups.push((
                g.id.to_string(),
                format!("{}: {}", course.shortname, g.name),
            ));
        }
    }
    FormPage {
        layout: Layout::signed_in(page, &heading, Section::Segments),
        members: count(choices.members, "member", "members"),
        one_off: ONE_OFF,
        action: page.link(&format!("/segments/{id}/mass-enrolments/preview")),
        csrf: page.csrf().to_owned(),
        courses: choices
            .courses
            .iter()
            .map(|(c, _)| {
                (
                    c.id.to_string(),
                    format!("{} — {}", c.shortname, c.fullname),
                )
            })
            .collect(),
        roles: ROLES
            .iter()
            .map(|(v, r)| ((*v).to_owned(), r.label().to_owned()))
            .collect(),
        groups,
        earlier: choices.earlier.iter().map(|d| row(page, d)).collect(),
        back: page.link(&format!("/segments/{id}")),
        heading,
        form,
        errors,
    }
}

async fn choices_of(page: &SitePage, id: SegmentId) -> Result<MassEnrolmentChoices, HttpError> {
    let services = page.site.services.clone();
    let who = page.principal().clone();
    blocking(move || services.mass_enrolment_choices(&who, id)).await
}

/// The form again with `errors` (a refused preview or apply), 422.
async fn form_again(
    page: &SitePage,
    id: SegmentId,
    form: MassForm,
    errors: FormErrors,
) -> Result<HttpResponse, HttpError> {
    let choices = choices_of(page, id).await?;
    render(
        &form_page(page, choices, form, errors),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
}

async fn form(page: SitePage, path: web::Path<SegmentPath>) -> Result<HttpResponse, HttpError> {
    let choices = choices_of(&page, SegmentId(path.segment)).await?;
    let form = MassForm {
        course: choices
            .courses
            .first()
            .map(|(c, _)| c.id.to_string())
            .unwrap_or_default(),
        role: "learner".to_owned(),
        ..MassForm::default()
    };
    render(
        &form_page(&page, choices, form, FormErrors::none()),
        StatusCode::OK,
    )
}

// ---------------------------------------------------------- the preview

/// The figures of a mass enrolment in words, one line each.
fn figure_lines(f: &MassEnrolmentFigures, to_enrol: &str) -> Vec<(String, String)> {
    let people = |n| count(n, "member", "members");
    vec![
        ("Members of the segment".into(), people(f.members)),
        (to_enrol.into(), people(f.to_enrol)),
        (
            "Already enrolled in the course (left as they are)".into(),
            people(f.already_enrolled),
        ),
        (
            "Suspended accounts (skipped)".into(),
            people(f.suspended_accounts),
        ),
        (
            "Suspended manual enrolment in the course (skipped, left suspended)".into(),
            people(f.suspended_enrolments),
        ),
    ]
}

#[derive(Template)]
#[template(path = "pages/mass_enrolments/preview.html")]
pub(crate) struct PreviewPage {
    pub layout: Layout,
    pub heading: String,
    pub one_off: &'static str,
    pub course: String,
    pub role: String,
    pub group: String,
    pub figures: Vec<(String, String)>,
    pub apply_action: String,
    pub csrf: String,
    pub hidden: Vec<(String, String)>,
    pub cancel: String,
}

fn preview_page(page: &SitePage, p: MassEnrolmentPreview, form: &MassForm) -> PreviewPage {
    let heading = format!("Enrol the members of {}?", p.segment.name);
    let f = p.figures;
    let group = match &p.group {
        PreviewGroup::None => "No group.".to_owned(),
        PreviewGroup::Existing(g) => format!(
            "The existing group “{}”: {} added to it.",
            g.name,
            count(f.grouped, "member", "members")
        ),
        PreviewGroup::New(name) => format!(
            "A new group “{name}”, created now: {} added to it.",
            count(f.grouped, "member", "members")
        ),
    };
    PreviewPage {
        layout: Layout::signed_in(page, &heading, Section::Segments),
        one_off: ONE_OFF,
        course: format!("{} — {}", p.course.shortname, p.course.fullname),
        role: p.role.label().to_owned(),
        figures: figure_lines(&f, "To be enrolled now"),
        apply_action: page.link(&format!("/segments/{}/mass-enrolments", p.segment.id)),
        csrf: page.csrf().to_owned(),
        hidden: form.hidden(),
        cancel: page.link(&format!("/segments/{}/mass-enrolments", p.segment.id)),
        heading,
        group,
    }
}

/// Runs `call` (a preview or an apply) on the request `form` asks for,
/// the form read only once the services said the visitor may make it:
/// whoever may not hears 403, never what a forged form got wrong (issue
/// 16, finding 8). A refusal of the form's content comes back as the
/// form's errors.
async fn submitted<T: Send + 'static>(
    page: &SitePage,
    form: &MassForm,
    call: impl FnOnce(&SiteServices, &Principal, &MassEnrolmentRequest) -> ServiceResult<T>
    + Send
    + 'static,
) -> Result<Result<T, FormErrors>, HttpError> {
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let asked = services.clone();
    let asker = who.clone();
    blocking(move || asked.authorize_ask(&asker, Ask::Site(Need::SiteAdmin))).await?;
    let request = form.request()?;
    form_outcome(blocking(move || call(&services, &who, &request)).await)
}

async fn preview(
    post: SitePost<MassForm>,
    path: web::Path<SegmentPath>,
) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let id = SegmentId(path.segment);
    let outcome = submitted(&page, &form, move |s, who, request| {
        s.preview_mass_enrolment(who, id, request)
    });
    match outcome.await? {
        Ok(p) => render(&preview_page(&page, p, &form), StatusCode::OK),
        Err(errors) => form_again(&page, id, form, errors).await,
    }
}

async fn apply(
    post: SitePost<MassForm>,
    path: web::Path<SegmentPath>,
) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let id = SegmentId(path.segment);
    let outcome = submitted(&page, &form, move |s, who, request| {
        s.apply_mass_enrolment(who, id, request)
    });
    match outcome.await? {
        Ok(done) => Ok(page.done(
            &format!("/mass-enrolments/{}", done.id),
            format!(
                "{} enrolled.",
                count(done.figures.to_enrol, "member", "members")
            ),
        )),
        Err(errors) => form_again(&page, id, form, errors).await,
    }
}

// ----------------------------------------------------------- the result

#[derive(Template)]
#[template(path = "pages/mass_enrolments/show.html")]
pub(crate) struct ShowPage {
    pub layout: Layout,
    pub heading: String,
    pub one_off: &'static str,
    pub meta: String,
    pub course: String,
    pub course_href: String,
    pub segment_href: String,
    pub role: String,
    pub group: String,
    pub figures: Vec<(String, String)>,
    /// What the undo did, one line each, once it was undone.
    pub undone: Vec<String>,
    pub undo_href: String,
}

async fn detail(page: &SitePage, id: MassEnrolmentId) -> Result<MassEnrolmentDetail, HttpError> {
    let services = page.site.services.clone();
    let who = page.principal().clone();
    blocking(move || services.mass_enrolment(&who, id)).await
}

async fn show(page: SitePage, path: web::Path<IdPath>) -> Result<HttpResponse, HttpError> {
    let d = detail(&page, MassEnrolmentId(path.id)).await?;
    let r = &d.record;
    let heading = format!("Mass enrolment #{} of {}", r.id, r.segment_name);
    let mut group = group_label(&d);
    if r.group.is_some() {
        group.push_str(&format!(
            " ({}{})",
            count(r.figures.grouped, "member", "members"),
            if r.group_created {
                " added; the group was created by this enrolment"
            } else {
                " added"
            }
        ));
    }
    let undone = match &r.undone {
        None => Vec::new(),
        Some(u) => vec![
            format!("Removed by {} on {}.", u.by, u.at),
            format!("{} removed.", count(u.removed, "enrolment", "enrolments")),
            format!(
                "{} kept: changed since (another role or status).",
                count(u.kept_changed, "enrolment", "enrolments")
            ),
            format!(
                "{} already gone.",
                count(u.already_gone, "enrolment", "enrolments")
            ),
            format!(
                "{} removed.",
                count(u.ungrouped, "group membership", "group memberships")
            ),
        ],
    };
    let view = ShowPage {
        layout: Layout::signed_in(&page, &heading, Section::Segments),
        one_off: ONE_OFF,
        meta: format!("Applied by {} on {}", r.by, r.at),
        course: format!("{} — {}", d.course.shortname, d.course.fullname),
        course_href: page.link(&format!("/courses/{}/mass-enrolments", r.course)),
        segment_href: page.link(&format!("/segments/{}", r.segment)),
        role: r.role.label().to_owned(),
        figures: figure_lines(&r.figures, "Enrolled"),
        undo_href: page.link(&format!("/mass-enrolments/{}/undo", r.id)),
        heading,
        group,
        undone,
    };
    render(&view, StatusCode::OK)
}

// ------------------------------------------------------------- the undo

async fn confirm_undo(page: SitePage, path: web::Path<IdPath>) -> Result<HttpResponse, HttpError> {
    let d = detail(&page, MassEnrolmentId(path.id)).await?;
    let r = &d.record;
    let heading = format!("Remove the enrolments of mass enrolment #{} again?", r.id);
    let mut effects = vec![format!(
        "remove the {} it made in {} through the manual method, where they are unchanged since; \
         an enrolment someone changed since (role or status) is kept, and other enrolments of \
         the same people (another method) stay",
        count(r.figures.to_enrol, "enrolment", "enrolments"),
        d.course.shortname
    )];
    if r.group.is_some() {
        effects.push(format!(
            "remove the {} it added to the group {} (the group itself is kept)",
            count(r.figures.grouped, "membership", "memberships"),
            group_label(&d)
        ));
    }
    let view = ConfirmPage {
        layout: Layout::signed_in(&page, &heading, Section::Segments),
        heading,
        effects,
        action: page.link(&format!("/mass-enrolments/{}/undo", r.id)),
        csrf: page.csrf().to_owned(),
        button: "Remove these enrolments again".to_owned(),
        cancel: page.link(&format!("/mass-enrolments/{}", r.id)),
    };
    render(&view, StatusCode::OK)
}

#[derive(serde::Deserialize)]
pub(crate) struct Empty {}

async fn undo(post: SitePost<Empty>, path: web::Path<IdPath>) -> Result<HttpResponse, HttpError> {
    let page = post.page;
    let id = MassEnrolmentId(path.id);
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let done = blocking(move || services.undo_mass_enrolment(&who, id)).await?;
    let removed = done.undone.map_or(0, |u| u.removed);
    Ok(page.done(
        &format!("/mass-enrolments/{id}"),
        format!(
            "{} removed again.",
            count(removed, "enrolment", "enrolments")
        ),
    ))
}

// ------------------------------------------------------ a course's list

#[derive(Template)]
#[template(path = "pages/mass_enrolments/list.html")]
pub(crate) struct ListPage {
    pub layout: Layout,
    pub heading: String,
    pub course_href: String,
    pub rows: Vec<MassRow>,
}

async fn course_list(
    page: SitePage,
    path: web::Path<CoursePath>,
) -> Result<HttpResponse, HttpError> {
    let id = CourseId(path.course);
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let (course, list) = blocking(move || services.course_mass_enrolments(&who, id)).await?;
    let heading = format!("Mass enrolments into {}", course.shortname);
    let view = ListPage {
        layout: Layout::signed_in(&page, &heading, Section::Courses),
        course_href: page.link(&format!("/courses/{id}")),
        rows: list.iter().map(|d| row(&page, d)).collect(),
        heading,
    };
    render(&view, StatusCode::OK)
}
