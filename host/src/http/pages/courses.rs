//! Courses: the list (all for site admins, one's own for everyone else),
//! creating one, the course page with its settings, and its participants.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::super::{HttpError, blocking};
use super::content::activity_path;
use super::forms::{
    FormErrors, ListQuery, PAGE_SIZE, cursor, form_outcome, page_links, render, search_of,
    status_for, ticked,
};
use super::session::{SitePage, SitePost};
use super::words::{count, method_name};
use super::{Layout, Section, page_routes};
use crate::domain::{Course, CourseId, EnrolmentStatus, GroupMode, UserId, UserStatus};
use crate::services::ServiceError;
use crate::services::content::CourseContent;
use crate::services::courses::{CourseOverview, CourseUpdate, NewCourse};
use crate::services::enrolments::ParticipantDetail;

page_routes! {
    get "/courses" => list, SignedIn;
    // Before `/courses/{course}`, which would otherwise take "new".
    get "/courses/new" => new_form, SiteAdmin;
    post "/courses" => create, SiteAdmin;
    get "/courses/{course}" => show, CourseMember;
    post "/courses/{course}" => update, CourseStaff;
    get "/courses/{course}/participants" => participants, CourseMember;
}

#[derive(serde::Deserialize)]
pub(crate) struct CoursePath {
    course: u64,
}

/// The group modes, as the form's select offers them.
const GROUP_MODES: [(&str, &str); 3] = [
    ("none", "No groups"),
    ("separate", "Separate groups"),
    ("visible", "Visible groups"),
];

fn mode_options() -> Vec<(String, String)> {
    GROUP_MODES
        .iter()
        .map(|(v, l)| ((*v).to_owned(), (*l).to_owned()))
        .collect()
}

fn mode_value(mode: GroupMode) -> &'static str {
    match mode {
        GroupMode::None => "none",
        GroupMode::Separate => "separate",
        GroupMode::Visible => "visible",
    }
}

pub(crate) fn mode_label(mode: GroupMode) -> &'static str {
    match mode {
        GroupMode::None => "No groups",
        GroupMode::Separate => "Separate groups",
        GroupMode::Visible => "Visible groups",
    }
}

/// The group mode a form sent; `None` when it sent none. Only a forged
/// form sends another value, so that is a bad request, not a form error.
fn parse_mode(value: &str) -> Result<Option<GroupMode>, HttpError> {
    match value {
        "" => Ok(None),
        "none" => Ok(Some(GroupMode::None)),
        "separate" => Ok(Some(GroupMode::Separate)),
        "visible" => Ok(Some(GroupMode::Visible)),
        other => Err(HttpError::BadRequest(format!(
            "unknown group mode {other:?}"
        ))),
    }
}

// ------------------------------------------------------------------ list

pub(crate) struct CourseRow {
    pub fullname: String,
    pub shortname: String,
    pub groups: &'static str,
    pub href: String,
}

#[derive(Template)]
#[template(path = "pages/courses/list.html")]
pub(crate) struct ListPage {
    pub layout: Layout,
    pub heading: &'static str,
    pub q: String,
    pub rows: Vec<CourseRow>,
    pub action: String,
    /// The "Create course" link, for site admins.
    pub new_href: Option<String>,
    pub first: Option<String>,
    pub next: Option<String>,
}

async fn list(page: SitePage, query: web::Query<ListQuery>) -> Result<HttpResponse, HttpError> {
    let q = query.q.clone().unwrap_or_default();
    let offset = cursor(&query.after).and_then(|a| usize::try_from(a).ok());
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let search = q.clone();
    let found = blocking(move || {
        services.list_courses(&who, search_of(&search), offset.unwrap_or(0), PAGE_SIZE)
    })
    .await?;
    let base = page.link("/courses");
    let (first, next) = page_links(&base, &q, offset.unwrap_or(0) == 0, found.next);
    let admin = page.session.is_site_admin;
    // The service lists what the viewer may see; only the words differ.
    let heading = if admin { "Courses" } else { "My courses" };
    let view = ListPage {
        layout: Layout::signed_in(&page, heading, Section::Courses),
        heading,
        rows: found
            .items
            .into_iter()
            .map(|c| CourseRow {
                href: page.link(&format!("/courses/{}", c.id)),
                groups: mode_label(c.group_mode),
                fullname: c.fullname,
                shortname: c.shortname,
            })
            .collect(),
        action: base,
        new_href: admin.then(|| page.link("/courses/new")),
        first,
        next,
        q,
    };
    render(&view, StatusCode::OK)
}

// ------------------------------------------------------------------ form

/// The fields of the course form, as typed.
#[derive(serde::Deserialize, Default, Clone)]
pub(crate) struct CourseForm {
    #[serde(default)]
    shortname: String,
    #[serde(default)]
    fullname: String,
    #[serde(default)]
    group_mode: String,
    force_group_mode: Option<String>,
}

impl CourseForm {
    fn of(c: &Course) -> Self {
        Self {
            shortname: c.shortname.clone(),
            fullname: c.fullname.clone(),
            group_mode: mode_value(c.group_mode).to_owned(),
            force_group_mode: c.force_group_mode.then(|| "1".to_owned()),
        }
    }

    fn forced(&self) -> bool {
        ticked(&self.force_group_mode)
    }
}

#[derive(Template)]
#[template(path = "pages/courses/new.html")]
pub(crate) struct NewPage {
    pub layout: Layout,
    pub action: String,
    pub csrf: String,
    pub form: CourseForm,
    pub modes: Vec<(String, String)>,
    pub errors: FormErrors,
    pub cancel: String,
}

fn new_page(page: &SitePage, form: CourseForm, errors: FormErrors) -> NewPage {
    NewPage {
        layout: Layout::signed_in(page, "New course", Section::Courses),
        action: page.link("/courses"),
        csrf: page.csrf().to_owned(),
        form,
        modes: mode_options(),
        errors,
        cancel: page.link("/courses"),
    }
}

async fn new_form(page: SitePage) -> Result<HttpResponse, HttpError> {
    // Only site admins create courses; opening the form asks a site-admin
    // service too, so a teacher is refused here and not only when saving.
    let services = page.site.services.clone();
    let who = page.principal().clone();
    blocking(move || services.list_users(&who, None, None, 1)).await?;
    let form = CourseForm {
        group_mode: "none".to_owned(),
        ..CourseForm::default()
    };
    render(&new_page(&page, form, FormErrors::none()), StatusCode::OK)
}

async fn create(post: SitePost<CourseForm>) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let new = NewCourse {
        shortname: form.shortname.clone(),
        fullname: form.fullname.clone(),
        group_mode: parse_mode(&form.group_mode)?.unwrap_or(GroupMode::None),
        force_group_mode: form.forced(),
    };
    let services = page.site.services.clone();
    let who = page.principal().clone();
    match form_outcome(blocking(move || services.create_course(&who, new)).await)? {
        Ok(course) => Ok(page.done(
            &format!("/courses/{}", course.id),
            format!("Course {} created.", course.fullname),
        )),
        Err(errors) => {
            let view = new_page(&page, form, errors);
            render(&view, status_for(&view.errors))
        }
    }
}

// ------------------------------------------------------------ course page

pub(crate) struct StaffLink {
    pub label: &'static str,
    pub detail: String,
    pub href: String,
}

/// One activity on the course page, with the controls of those who edit.
pub(crate) struct ActivityRow {
    pub name: String,
    pub href: String,
    pub kind: &'static str,
    pub visible: bool,
    pub restricted: bool,
    /// `/activities/{id}` (the controls post under it).
    pub base: String,
    pub section: String,
    pub up: Option<usize>,
    pub down: Option<usize>,
}

/// One section of the course page.
pub(crate) struct SectionRow {
    pub id: String,
    pub name: String,
    pub summary_html: String,
    pub visible: bool,
    /// `/sections/{id}` (the controls post under it).
    pub base: String,
    pub up: Option<usize>,
    pub down: Option<usize>,
    pub activities: Vec<ActivityRow>,
}

fn content_rows(page: &SitePage, content: CourseContent) -> Vec<SectionRow> {
    let last_section = content.sections.len().saturating_sub(1);
    content
        .sections
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            let last = s.activities.len().saturating_sub(1);
            let section = s.section.id.to_string();
            SectionRow {
                base: page.link(&format!("/sections/{}", s.section.id)),
                up: i.checked_sub(1),
                down: (i < last_section).then_some(i + 1),
                activities: s
                    .activities
                    .into_iter()
                    .enumerate()
                    .map(|(j, a)| ActivityRow {
                        href: page.link(&activity_path(a.kind, a.id)),
                        base: page.link(&format!("/activities/{}", a.id)),
                        kind: a.kind.label(),
                        visible: a.visible,
                        restricted: a.grouping.is_some(),
                        section: section.clone(),
                        up: j.checked_sub(1),
                        down: (j < last).then_some(j + 1),
                        name: a.name,
                    })
                    .collect(),
                id: section,
                name: s.section.name,
                summary_html: s.summary_html,
                visible: s.section.visible,
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "pages/courses/show.html")]
pub(crate) struct ShowPage {
    pub layout: Layout,
    pub course: Course,
    pub groups: &'static str,
    /// The sections and activities the viewer sees.
    pub sections: Vec<SectionRow>,
    /// The viewer adds, edits and moves content.
    pub can_edit: bool,
    pub participants_href: String,
    /// The gradebook: staff's grader report, a learner's own grades.
    pub grades_href: String,
    /// `/courses/{id}/sections`: the "Add a section" form.
    pub add_section: String,
    /// Whether the viewer may change the course: the links and the form
    /// below are shown only then.
    pub can_configure: bool,
    pub links: Vec<StaffLink>,
    pub action: String,
    pub csrf: String,
    pub form: CourseForm,
    pub modes: Vec<(String, String)>,
    pub errors: FormErrors,
}

fn show_page(
    page: &SitePage,
    o: CourseOverview,
    form: Option<CourseForm>,
    errors: FormErrors,
) -> ShowPage {
    let id = o.course.id;
    let mut links = if o.can_configure {
        vec![
            StaffLink {
                label: "Participants",
                detail: "Who takes part, their roles and how they are enrolled".to_owned(),
                href: page.link(&format!("/courses/{id}/participants")),
            },
            StaffLink {
                label: "Groupings",
                detail: "Sets of course groups that activities can be restricted to".to_owned(),
                href: page.link(&format!("/courses/{id}/groupings")),
            },
            StaffLink {
                label: "Course groups",
                detail: count(o.groups, "course group", "course groups"),
                href: page.link(&format!("/courses/{id}/groups")),
            },
            StaffLink {
                label: "Enrolment methods",
                detail: count(o.methods, "enrolment method", "enrolment methods"),
                href: page.link(&format!("/courses/{id}/methods")),
            },
            StaffLink {
                label: "Announcements",
                detail: "Tell the course or some of its groups, in their inbox and by e-mail"
                    .to_owned(),
                href: page.link(&format!("/courses/{id}/announcements")),
            },
        ]
    } else {
        Vec::new()
    };
    // Mass enrolments are a site admin's (the page refuses the others).
    if o.can_configure && page.session.is_site_admin {
        links.push(StaffLink {
            label: "Mass enrolments",
            detail: "Segments enrolled here once, and their removal".to_owned(),
            href: page.link(&format!("/courses/{id}/mass-enrolments")),
        });
    }
    ShowPage {
        layout: Layout::signed_in(page, &o.course.fullname, Section::Courses),
        groups: mode_label(o.course.group_mode),
        can_edit: o.content.can_edit,
        sections: content_rows(page, o.content),
        participants_href: page.link(&format!("/courses/{id}/participants")),
        grades_href: page.link(&format!("/courses/{id}/grades")),
        add_section: page.link(&format!("/courses/{id}/sections")),
        can_configure: o.can_configure,
        links,
        action: page.link(&format!("/courses/{id}")),
        csrf: page.csrf().to_owned(),
        form: form.unwrap_or_else(|| CourseForm::of(&o.course)),
        modes: mode_options(),
        errors,
        course: o.course,
    }
}

async fn overview(page: &SitePage, id: CourseId) -> Result<CourseOverview, HttpError> {
    let services = page.site.services.clone();
    let who = page.principal().clone();
    blocking(move || services.course_overview(&who, id)).await
}

async fn show(page: SitePage, path: web::Path<CoursePath>) -> Result<HttpResponse, HttpError> {
    let o = overview(&page, CourseId(path.course)).await?;
    render(
        &show_page(&page, o, None, FormErrors::none()),
        StatusCode::OK,
    )
}

async fn update(
    post: SitePost<CourseForm>,
    path: web::Path<CoursePath>,
) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let id = CourseId(path.course);
    let update = CourseUpdate {
        shortname: Some(form.shortname.clone()),
        fullname: Some(form.fullname.clone()),
        group_mode: parse_mode(&form.group_mode)?,
        force_group_mode: Some(form.forced()),
    };
    let services = page.site.services.clone();
    let who = page.principal().clone();
    match form_outcome(blocking(move || services.update_course(&who, id, update)).await)? {
        Ok(course) => Ok(page.done(
            &format!("/courses/{id}"),
            format!("Changes to {} saved.", course.fullname),
        )),
        Err(errors) => {
            let o = overview(&page, id).await?;
            // The service checks the content before the permission: a
            // participant who may not change the course is told so.
            if !o.can_configure {
                return Err(HttpError::Service(ServiceError::Forbidden(format!(
                    "you do not teach course #{id}"
                ))));
            }
            let view = show_page(&page, o, Some(form), errors);
            render(&view, status_for(&view.errors))
        }
    }
}

// ---------------------------------------------------------- participants

/// One enrolment of a participant, in words.
pub(crate) struct Via {
    pub method: String,
    pub role: &'static str,
    pub active: bool,
}

pub(crate) struct ParticipantRow {
    pub name: String,
    pub username: String,
    /// Empty when the viewer may not see it.
    pub email: String,
    /// The groups of theirs the viewer may see.
    pub groups: String,
    pub roles: String,
    pub enrolments: Vec<Via>,
    /// At least one enrolment is active, whatever the account's status.
    pub enrolled: bool,
    /// The site account is suspended (it cannot sign in); its enrolments
    /// keep their own status.
    pub account_suspended: bool,
}

impl From<ParticipantDetail> for ParticipantRow {
    fn from(p: ParticipantDetail) -> Self {
        let enrolled = p
            .enrolments
            .iter()
            .any(|e| e.enrolment.status == EnrolmentStatus::Active);
        let account_suspended = p.user.status != UserStatus::Active;
        let mut roles: Vec<&'static str> = Vec::new();
        for e in &p.enrolments {
            let role = e.enrolment.role.map_or("No role", |r| r.label());
            if !roles.contains(&role) {
                roles.push(role);
            }
        }
        Self {
            name: p.user.full_name(),
            email: p.user.email,
            groups: String::new(),
            username: p.user.username,
            roles: roles.join(", "),
            enrolments: p
                .enrolments
                .into_iter()
                .map(|e| Via {
                    method: method_name(&e.method).to_owned(),
                    role: e.enrolment.role.map_or("No role", |r| r.label()),
                    active: e.enrolment.status == EnrolmentStatus::Active,
                })
                .collect(),
            enrolled,
            account_suspended,
        }
    }
}

#[derive(Template)]
#[template(path = "pages/courses/participants.html")]
pub(crate) struct ParticipantsPage {
    pub layout: Layout,
    pub course: Course,
    pub course_href: String,
    pub q: String,
    pub rows: Vec<ParticipantRow>,
    pub action: String,
    pub first: Option<String>,
    pub next: Option<String>,
    /// The viewer manages enrolments: the methods column is shown.
    pub manages: bool,
    pub shows_emails: bool,
    /// The list is limited to the viewer's groups (separate groups).
    pub limited_to_groups: bool,
}

async fn participants(
    page: SitePage,
    path: web::Path<CoursePath>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, HttpError> {
    let id = CourseId(path.course);
    let q = query.q.clone().unwrap_or_default();
    let after = cursor(&query.after).map(UserId);
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let search = q.clone();
    let found = blocking(move || {
        services.course_participants(&who, id, search_of(&search), after, PAGE_SIZE)
    })
    .await?;
    let base = page.link(&format!("/courses/{id}/participants"));
    let (first, next) = page_links(&base, &q, after.is_none(), found.participants.next);
    let title = format!("Participants of {}", found.course.fullname);
    let view = ParticipantsPage {
        layout: Layout::signed_in(&page, &title, Section::Courses),
        course_href: page.link(&format!("/courses/{id}")),
        course: found.course,
        rows: found
            .participants
            .items
            .into_iter()
            .zip(found.groups)
            .map(|(p, groups)| ParticipantRow {
                groups: groups.join(", "),
                ..ParticipantRow::from(p)
            })
            .collect(),
        manages: found.manages,
        shows_emails: found.shows_emails,
        limited_to_groups: found.limited_to_groups,
        action: base,
        first,
        next,
        q,
    };
    render(&view, StatusCode::OK)
}
