//! Announcements: the site's list and compose page (site admins: to a
//! segment or a course), a course's list and compose page (its teachers:
//! to the course or some of its groups), an announcement's page with its
//! delivery figures, and editing or withdrawing a scheduled one.
//!
//! Compose is one form with two buttons: "Preview" renders the body and
//! the recipient count on the same page without writing anything; "Send"
//! (or "Schedule", with a time) writes. The inbox lives in `inbox.rs`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::super::{HttpError, blocking};
use super::forms::{
    Empty, FormErrors, PAGE_SIZE, cursor, datetime_local, datetime_of, form_outcome, render,
    status_for,
};
use super::session::{SitePage, SitePost};
use super::{Layout, Section, page_routes};
use crate::domain::{
    AnnouncementId, AnnouncementState, Audience, CourseGroupId, CourseId, SegmentId, Timestamp,
};
use crate::services::announcements::{
    AnnouncementDraft, AnnouncementPreview, AnnouncementView, CourseReach, SiteAudiences,
};
use crate::services::{Page, ServiceError};

page_routes! {
    get "/announcements" => site_list, SiteAdmin;
    get "/announcements/new" => site_compose, SiteAdmin;
    post "/announcements" => site_submit, SiteAdmin;
    get "/announcements/{announcement}" => show, CourseStaff;
    get "/announcements/{announcement}/edit" => edit_form, CourseStaff;
    post "/announcements/{announcement}/edit" => edit_submit, CourseStaff;
    post "/announcements/{announcement}/withdraw" => withdraw, CourseStaff;
    get "/courses/{course}/announcements" => course_list, CourseStaff;
    get "/courses/{course}/announcements/new" => course_compose, CourseStaff;
    post "/courses/{course}/announcements" => course_submit, CourseStaff;
}

#[derive(serde::Deserialize)]
pub(crate) struct AnnouncementPath {
    announcement: u64,
}

#[derive(serde::Deserialize)]
pub(crate) struct CoursePath {
    course: u64,
}

#[derive(serde::Deserialize)]
pub(crate) struct ListQuery {
    after: Option<String>,
}

// ------------------------------------------------------------------ lists

pub(crate) struct Row {
    pub subject: String,
    pub href: String,
    pub audience: String,
    pub author: String,
    pub state: &'static str,
    pub when: String,
    pub recipients: u64,
    pub delivery: String,
}

fn state_label(state: AnnouncementState) -> &'static str {
    match state {
        AnnouncementState::Scheduled => "Scheduled",
        AnnouncementState::Sent => "Sent",
        AnnouncementState::Withdrawn => "Withdrawn",
    }
}

/// "12 sent, 1 failed, 3 queued" — the e-mail copies, or a dash when none
/// were queued.
fn delivery_words(view: &AnnouncementView) -> String {
    let d = view.announcement.delivery;
    if d.queued == 0 {
        return "Inbox only".to_owned();
    }
    let waiting = d.queued.saturating_sub(d.sent + d.failed);
    format!("{} sent, {} failed, {} queued", d.sent, d.failed, waiting)
}

fn row_of(page: &SitePage, v: AnnouncementView) -> Row {
    let a = &v.announcement;
    Row {
        href: page.link(&format!("/announcements/{}", a.id)),
        state: state_label(a.state),
        when: a.send_at.to_string(),
        recipients: a.recipients,
        delivery: delivery_words(&v),
        subject: a.subject.clone(),
        audience: v.audience.clone(),
        author: v.author,
    }
}

#[derive(Template)]
#[template(path = "pages/announcements/list.html")]
pub(crate) struct ListPage {
    pub layout: Layout,
    pub heading: String,
    pub lede: &'static str,
    pub new_href: String,
    pub rows: Vec<Row>,
    pub first: Option<String>,
    pub next: Option<String>,
}

fn list_page(
    page: &SitePage,
    heading: String,
    lede: &'static str,
    path: &str,
    found: Page<AnnouncementView, AnnouncementId>,
    first_page: bool,
    section: Section,
) -> ListPage {
    ListPage {
        layout: Layout::signed_in(page, &heading, section),
        heading,
        lede,
        new_href: page.link(&format!("{path}/new")),
        next: found.next.map(|n| format!("{}?after={n}", page.link(path))),
        first: (!first_page).then(|| page.link(path)),
        rows: found.items.into_iter().map(|v| row_of(page, v)).collect(),
    }
}

async fn site_list(
    page: SitePage,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, HttpError> {
    let before = cursor(&query.after).map(AnnouncementId);
    let (services, who) = (page.site.services.clone(), page.principal().clone());
    let found = blocking(move || services.site_announcements(&who, before, PAGE_SIZE)).await?;
    let view = list_page(
        &page,
        "Announcements".to_owned(),
        "What the site's segments and courses were told, and what is scheduled.",
        "/announcements",
        found,
        before.is_none(),
        Section::Announcements,
    );
    render(&view, StatusCode::OK)
}

async fn course_list(
    page: SitePage,
    path: web::Path<CoursePath>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, HttpError> {
    let course = CourseId(path.course);
    let before = cursor(&query.after).map(AnnouncementId);
    let (services, who) = (page.site.services.clone(), page.principal().clone());
    let (reach, found) = blocking(move || {
        Ok((
            services.announcement_reach(&who, course)?,
            services.course_announcements(&who, course, before, PAGE_SIZE)?,
        ))
    })
    .await?;
    let view = list_page(
        &page,
        format!("Announcements of {}", reach.course.shortname),
        "What this course or its groups were told, and what is scheduled.",
        &format!("/courses/{course}/announcements"),
        found,
        before.is_none(),
        Section::Courses,
    );
    render(&view, StatusCode::OK)
}

// ---------------------------------------------------------------- compose

/// The compose form as typed. `audience` is `segment:{id}` or
/// `course:{id}` on the site's form, `course` or `groups` on a course's
/// (with the ticked `group`s).
#[derive(serde::Deserialize, Default, Clone)]
pub(crate) struct ComposeForm {
    #[serde(default)]
    audience: String,
    #[serde(default)]
    group: Vec<u64>,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    body: String,
    /// `YYYY-MM-DDTHH:MM` (a `datetime-local` input), UTC; blank: now.
    #[serde(default)]
    send_at: String,
    /// Which button: `preview` or `send`.
    #[serde(default)]
    action: String,
}

/// A choice of the audience select or radio group.
pub(crate) struct Choice {
    pub value: String,
    pub label: String,
}

/// A group checkbox of a course's form.
pub(crate) struct GroupChoice {
    pub id: u64,
    pub name: String,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "pages/announcements/compose.html")]
pub(crate) struct ComposePage {
    pub layout: Layout,
    pub heading: String,
    pub action: String,
    pub cancel: String,
    pub csrf: String,
    pub form: ComposeForm,
    pub errors: FormErrors,
    /// The site's form: a select of segments and courses.
    pub choices: Vec<Choice>,
    /// A course's form: whether the whole course may be chosen, and the
    /// groups that may.
    pub course_form: bool,
    pub whole_course: bool,
    pub groups: Vec<GroupChoice>,
    pub preview: Option<AnnouncementPreview>,
    /// The send button's words ("Send now" or "Save changes").
    pub submit_label: &'static str,
    /// Whether the site's mail can go out; else the page says it reaches
    /// inboxes only.
    pub email: bool,
}

fn site_choices(audiences: &SiteAudiences) -> Vec<Choice> {
    let mut out = Vec::new();
    for (s, members) in &audiences.segments {
        out.push(Choice {
            value: format!("segment:{}", s.id),
            label: format!("Segment: {} ({members} members)", s.name),
        });
    }
    for c in &audiences.courses {
        out.push(Choice {
            value: format!("course:{}", c.id),
            label: format!("Course: {} — {}", c.shortname, c.fullname),
        });
    }
    out
}

fn group_choices(reach: &CourseReach, form: &ComposeForm) -> Vec<GroupChoice> {
    reach
        .groups
        .iter()
        .map(|g| GroupChoice {
            id: g.id.0,
            name: g.name.clone(),
            checked: form.group.contains(&g.id.0),
        })
        .collect()
}

/// Which form a compose page shows: the site's (segments and courses) or
/// a course's (the course and its groups), and whether e-mail goes out.
enum Form {
    Site(SiteAudiences, bool),
    Course(CourseReach, bool),
}

impl Form {
    /// The form for `course` (a course's) or the site's, as `who` may
    /// fill it in.
    fn load(
        services: &crate::services::SiteServices,
        who: &crate::services::Principal,
        course: Option<CourseId>,
    ) -> crate::services::ServiceResult<Self> {
        let email = services.mail_configured()?;
        Ok(match course {
            Some(course) => Form::Course(services.announcement_reach(who, course)?, email),
            None => Form::Site(services.site_audiences(who)?, email),
        })
    }
}

struct Compose {
    heading: String,
    action: String,
    cancel: String,
    submit_label: &'static str,
}

fn compose_page(
    page: &SitePage,
    c: Compose,
    form: Form,
    values: ComposeForm,
    errors: FormErrors,
    preview: Option<AnnouncementPreview>,
) -> ComposePage {
    let (choices, course_form, whole_course, groups, email) = match &form {
        Form::Site(a, email) => (site_choices(a), false, false, Vec::new(), *email),
        Form::Course(r, email) => (
            Vec::new(),
            true,
            r.whole_course,
            group_choices(r, &values),
            *email,
        ),
    };
    let section = if course_form {
        Section::Courses
    } else {
        Section::Announcements
    };
    ComposePage {
        layout: Layout::signed_in(page, &c.heading, section),
        heading: c.heading,
        action: c.action,
        cancel: c.cancel,
        csrf: page.csrf().to_owned(),
        form: values,
        errors,
        choices,
        course_form,
        whole_course,
        groups,
        preview,
        submit_label: c.submit_label,
        email,
    }
}

/// The audience a form names, or the field error saying why not.
fn audience_of(form: &ComposeForm, course: Option<CourseId>) -> Result<Audience, FormErrors> {
    let bad = |message: &str| {
        let mut errors = FormErrors::none();
        errors.add("audience", message);
        errors
    };
    let id = |v: &str| {
        v.parse::<u64>()
            .ok()
            .filter(|n| *n > 0 && *n <= i64::MAX as u64)
    };
    match (course, form.audience.as_str()) {
        (Some(course), "course") => Ok(Audience::Course(course)),
        (Some(course), "groups") => Ok(Audience::Groups {
            course,
            groups: form.group.iter().map(|g| CourseGroupId(*g)).collect(),
        }),
        (None, v) => match v.split_once(':') {
            Some(("segment", n)) => id(n)
                .map(|n| Audience::Segment(SegmentId(n)))
                .ok_or_else(|| bad("choose a segment or a course")),
            Some(("course", n)) => id(n)
                .map(|n| Audience::Course(CourseId(n)))
                .ok_or_else(|| bad("choose a segment or a course")),
            _ => Err(bad("choose a segment or a course")),
        },
        _ => Err(bad("choose the whole course or some of its groups")),
    }
}

/// `YYYY-MM-DDTHH:MM[:SS]` as UTC; blank is "now".
fn send_at_of(value: &str) -> Result<Option<Timestamp>, FormErrors> {
    datetime_of("send_at", value)
}

fn draft_of(form: &ComposeForm, course: Option<CourseId>) -> Result<AnnouncementDraft, FormErrors> {
    let audience = audience_of(form, course);
    let send_at = send_at_of(&form.send_at);
    match (audience, send_at) {
        (Ok(audience), Ok(send_at)) => Ok(AnnouncementDraft {
            audience,
            subject: form.subject.clone(),
            body: form.body.clone(),
            send_at,
        }),
        (Err(mut a), Err(b)) => {
            a.add("send_at", b.get("send_at").unwrap_or_default().to_owned());
            Err(a)
        }
        (Err(e), _) | (_, Err(e)) => Err(e),
    }
}

async fn site_compose(page: SitePage) -> Result<HttpResponse, HttpError> {
    let (services, who) = (page.site.services.clone(), page.principal().clone());
    let form = blocking(move || Form::load(&services, &who, None)).await?;
    let view = compose_page(
        &page,
        site_compose_words(&page),
        form,
        ComposeForm::default(),
        FormErrors::none(),
        None,
    );
    render(&view, StatusCode::OK)
}

fn site_compose_words(page: &SitePage) -> Compose {
    Compose {
        heading: "New announcement".to_owned(),
        action: page.link("/announcements"),
        cancel: page.link("/announcements"),
        submit_label: "Send",
    }
}

fn course_compose_words(page: &SitePage, course: CourseId) -> Compose {
    Compose {
        heading: "New announcement".to_owned(),
        action: page.link(&format!("/courses/{course}/announcements")),
        cancel: page.link(&format!("/courses/{course}/announcements")),
        submit_label: "Send",
    }
}

async fn course_compose(
    page: SitePage,
    path: web::Path<CoursePath>,
) -> Result<HttpResponse, HttpError> {
    let course = CourseId(path.course);
    let (services, who) = (page.site.services.clone(), page.principal().clone());
    let loaded = blocking(move || Form::load(&services, &who, Some(course))).await?;
    let whole_course = matches!(&loaded, Form::Course(reach, _) if reach.whole_course);
    let form = ComposeForm {
        audience: if whole_course { "course" } else { "groups" }.to_owned(),
        ..ComposeForm::default()
    };
    let view = compose_page(
        &page,
        course_compose_words(&page, course),
        loaded,
        form,
        FormErrors::none(),
        None,
    );
    render(&view, StatusCode::OK)
}

/// What a compose or edit form's submission does: preview (nothing
/// written) or write, then the page again with messages, or a redirect.
enum Outcome {
    Page(Box<ComposePage>),
    Done(AnnouncementId, AnnouncementState),
}

/// Previews or writes `form` through `write`, answering the compose page
/// (`c`, `form_of` for its choices) again on a preview or a refusal.
async fn submit(
    page: &SitePage,
    c: Compose,
    course: Option<CourseId>,
    values: ComposeForm,
    write: impl FnOnce(
        &crate::services::SiteServices,
        &crate::services::Principal,
        AnnouncementDraft,
    ) -> crate::services::ServiceResult<crate::domain::Announcement>
    + Send
    + 'static,
) -> Result<Outcome, HttpError> {
    let (services, who) = (page.site.services.clone(), page.principal().clone());
    let drafted = draft_of(&values, course);
    let preview_only = values.action == "preview";
    let (form, result) = blocking(move || {
        let form = Form::load(&services, &who, course)?;
        let result = match drafted {
            Err(errors) => Err(errors),
            Ok(draft) if preview_only => Ok(Err(services.preview_announcement(&who, &draft))),
            Ok(draft) => Ok(Ok(write(&services, &who, draft))),
        };
        Ok((form, result))
    })
    .await?;
    let (errors, preview) = match result {
        Err(errors) => (errors, None),
        Ok(Err(preview)) => match form_outcome(preview.map_err(HttpError::from))? {
            Ok(p) => (FormErrors::none(), Some(p)),
            Err(errors) => (errors, None),
        },
        Ok(Ok(written)) => match form_outcome(written.map_err(HttpError::from))? {
            Ok(a) => return Ok(Outcome::Done(a.id, a.state)),
            Err(errors) => (errors, None),
        },
    };
    Ok(Outcome::Page(Box::new(compose_page(
        page, c, form, values, errors, preview,
    ))))
}

fn answer(page: &SitePage, outcome: Outcome) -> Result<HttpResponse, HttpError> {
    match outcome {
        Outcome::Page(view) => render(&*view, status_for(&view.errors)),
        Outcome::Done(id, state) => Ok(page.done(
            &format!("/announcements/{id}"),
            match state {
                AnnouncementState::Scheduled => "Announcement scheduled.",
                _ => "Announcement sent.",
            },
        )),
    }
}

async fn site_submit(post: SitePost<ComposeForm>) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let words = site_compose_words(&page);
    let outcome = submit(&page, words, None, form, |s, who, d| {
        s.create_announcement(who, d)
    })
    .await?;
    answer(&page, outcome)
}

async fn course_submit(
    post: SitePost<ComposeForm>,
    path: web::Path<CoursePath>,
) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let course = CourseId(path.course);
    let words = course_compose_words(&page, course);
    let outcome = submit(&page, words, Some(course), form, |s, who, d| {
        s.create_announcement(who, d)
    })
    .await?;
    answer(&page, outcome)
}

// ------------------------------------------------------ one announcement

#[derive(Template)]
#[template(path = "pages/announcements/show.html")]
pub(crate) struct ShowPage {
    pub layout: Layout,
    pub view: AnnouncementView,
    pub state: &'static str,
    pub delivery: String,
    pub edit_href: String,
    pub withdraw_action: String,
    pub csrf: String,
    pub back: String,
}

async fn show(
    page: SitePage,
    path: web::Path<AnnouncementPath>,
) -> Result<HttpResponse, HttpError> {
    let id = AnnouncementId(path.announcement);
    let (services, who) = (page.site.services.clone(), page.principal().clone());
    let view = blocking(move || services.announcement(&who, id)).await?;
    let back = match view.announcement.audience.course() {
        Some(course) => page.link(&format!("/courses/{course}/announcements")),
        None => page.link("/announcements"),
    };
    let page_view = ShowPage {
        layout: Layout::signed_in(&page, &view.announcement.subject, Section::Announcements),
        state: state_label(view.announcement.state),
        delivery: delivery_words(&view),
        edit_href: page.link(&format!("/announcements/{id}/edit")),
        withdraw_action: page.link(&format!("/announcements/{id}/withdraw")),
        csrf: page.csrf().to_owned(),
        back,
        view,
    };
    render(&page_view, StatusCode::OK)
}

fn edit_words(page: &SitePage, id: AnnouncementId) -> Compose {
    Compose {
        heading: "Edit scheduled announcement".to_owned(),
        action: page.link(&format!("/announcements/{id}/edit")),
        cancel: page.link(&format!("/announcements/{id}")),
        submit_label: "Save changes",
    }
}

/// The form values of a scheduled announcement.
fn form_of(view: &AnnouncementView) -> ComposeForm {
    let a = &view.announcement;
    let (audience, group) = match &a.audience {
        Audience::Segment(s) => (format!("segment:{s}"), Vec::new()),
        // A post notification is never scheduled, so never edited.
        Audience::Course(_) | Audience::ForumSubscribers { .. } => {
            ("course".to_owned(), Vec::new())
        }
        Audience::Groups { groups, .. } => {
            ("groups".to_owned(), groups.iter().map(|g| g.0).collect())
        }
    };
    ComposeForm {
        audience,
        group,
        subject: a.subject.clone(),
        body: a.body.clone(),
        send_at: datetime_local(a.send_at),
        action: String::new(),
    }
}

async fn edit_form(
    page: SitePage,
    path: web::Path<AnnouncementPath>,
) -> Result<HttpResponse, HttpError> {
    let id = AnnouncementId(path.announcement);
    let (services, who) = (page.site.services.clone(), page.principal().clone());
    let (view, form) = blocking(move || {
        let view = services.announcement(&who, id)?;
        if !view.editable {
            return Err(ServiceError::Conflict(format!(
                "announcement #{id} cannot be changed: only a scheduled announcement can, \
                 by its author, a site admin or an editing teacher of its course"
            )));
        }
        let form = Form::load(&services, &who, view.announcement.audience.course())?;
        Ok((view, form))
    })
    .await?;
    let values = form_of(&view);
    let view = compose_page(
        &page,
        edit_words(&page, id),
        form,
        values,
        FormErrors::none(),
        None,
    );
    render(&view, StatusCode::OK)
}

async fn edit_submit(
    post: SitePost<ComposeForm>,
    path: web::Path<AnnouncementPath>,
) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let id = AnnouncementId(path.announcement);
    let (services, who) = (page.site.services.clone(), page.principal().clone());
    let current = blocking(move || services.announcement(&who, id)).await?;
    let course = current.announcement.audience.course();
    let outcome = submit(
        &page,
        edit_words(&page, id),
        course,
        form,
        move |s, who, d| s.update_announcement(who, id, d),
    )
    .await?;
    answer(&page, outcome)
}

async fn withdraw(
    post: SitePost<Empty>,
    path: web::Path<AnnouncementPath>,
) -> Result<HttpResponse, HttpError> {
    let page = post.page;
    let id = AnnouncementId(path.announcement);
    let (services, who) = (page.site.services.clone(), page.principal().clone());
    let a = blocking(move || services.withdraw_announcement(&who, id)).await?;
    Ok(page.done(
        &format!("/announcements/{id}"),
        format!(
            "Announcement “{}” withdrawn; it will not be sent.",
            a.subject
        ),
    ))
}
