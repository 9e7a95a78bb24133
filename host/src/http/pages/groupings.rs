//! Groupings (issue 18): a course's list with an "Add a grouping" form,
//! a grouping's page (its name, description and which of the course's
//! groups are in it, as checkboxes), and deleting one.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::super::{HttpError, blocking};
use super::forms::{ConfirmPage, Empty, FormErrors, form_outcome, render, status_for};
use super::session::{SitePage, SitePost};
use super::words::count;
use super::{Layout, Section, page_routes};
use crate::domain::{CourseGroupId, CourseId, GroupingId};
use crate::services::groupings::{GroupingSummary, GroupingUpdate};

page_routes! {
    get "/courses/{course}/groupings" => list, CourseStaff;
    post "/courses/{course}/groupings" => create, CourseStaff;
    get "/groupings/{grouping}" => show, CourseStaff;
    post "/groupings/{grouping}" => update, CourseStaff;
    get "/groupings/{grouping}/delete" => confirm_delete, CourseStaff;
    post "/groupings/{grouping}/delete" => delete, CourseStaff;
}

#[derive(serde::Deserialize)]
pub(crate) struct CoursePath {
    course: u64,
}

#[derive(serde::Deserialize)]
pub(crate) struct GroupingPath {
    grouping: u64,
}

/// A grouping's form; `group` repeats once per ticked group.
#[derive(serde::Deserialize, Default, Clone)]
pub(crate) struct GroupingForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    group: Vec<u64>,
}

impl GroupingForm {
    fn groups(&self) -> Vec<CourseGroupId> {
        self.group.iter().copied().map(CourseGroupId).collect()
    }
}

pub(crate) struct GroupingRow {
    pub name: String,
    pub href: String,
    pub groups: String,
    pub activities: String,
}

pub(crate) struct GroupChoice {
    pub id: String,
    pub name: String,
    pub ticked: bool,
}

#[derive(Template)]
#[template(path = "pages/groupings/list.html")]
pub(crate) struct ListPage {
    pub layout: Layout,
    pub course_name: String,
    pub course_href: String,
    pub rows: Vec<GroupingRow>,
    pub action: String,
    pub csrf: String,
    pub form: GroupingForm,
    pub groups: Vec<GroupChoice>,
    pub errors: FormErrors,
}

#[derive(Template)]
#[template(path = "pages/groupings/show.html")]
pub(crate) struct ShowPage {
    pub layout: Layout,
    pub heading: String,
    pub course_href: String,
    pub action: String,
    pub delete_href: String,
    pub csrf: String,
    pub form: GroupingForm,
    pub groups: Vec<GroupChoice>,
    pub errors: FormErrors,
}

fn choices(all: &[crate::domain::CourseGroup], ticked: &[u64]) -> Vec<GroupChoice> {
    all.iter()
        .map(|g| GroupChoice {
            id: g.id.to_string(),
            name: g.name.clone(),
            ticked: ticked.contains(&g.id.0),
        })
        .collect()
}

async fn list_page(
    page: &SitePage,
    course: CourseId,
    form: GroupingForm,
    errors: FormErrors,
) -> Result<ListPage, HttpError> {
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let found = blocking(move || services.grouping_choices(&who, course)).await?;
    let title = format!("Groupings of {}", found.course.fullname);
    Ok(ListPage {
        layout: Layout::signed_in(page, &title, Section::Courses),
        course_name: found.course.fullname.clone(),
        course_href: page.link(&format!("/courses/{course}")),
        rows: found
            .groupings
            .into_iter()
            .map(|g| GroupingRow {
                href: page.link(&format!("/groupings/{}", g.grouping.id)),
                groups: if g.groups.is_empty() {
                    "No group".to_owned()
                } else {
                    g.groups
                        .iter()
                        .map(|g| g.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                },
                activities: count(g.activities as u64, "activity", "activities"),
                name: g.grouping.name,
            })
            .collect(),
        action: page.link(&format!("/courses/{course}/groupings")),
        csrf: page.csrf().to_owned(),
        groups: choices(&found.groups, &form.group),
        form,
        errors,
    })
}

async fn list(page: SitePage, path: web::Path<CoursePath>) -> Result<HttpResponse, HttpError> {
    let view = list_page(
        &page,
        CourseId(path.course),
        GroupingForm::default(),
        FormErrors::none(),
    )
    .await?;
    render(&view, StatusCode::OK)
}

async fn create(
    post: SitePost<GroupingForm>,
    path: web::Path<CoursePath>,
) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let course = CourseId(path.course);
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let f = form.clone();
    let outcome = blocking(move || {
        services.create_grouping(&who, course, &f.name, &f.description, &f.groups())
    })
    .await;
    match form_outcome(outcome)? {
        Ok(g) => Ok(page.done(
            &format!("/courses/{course}/groupings"),
            format!("Grouping {} created.", g.grouping.name),
        )),
        Err(errors) => {
            let view = list_page(&page, course, form, errors).await?;
            render(&view, status_for(&view.errors))
        }
    }
}

async fn show_page(
    page: &SitePage,
    id: GroupingId,
    form: Option<GroupingForm>,
    errors: FormErrors,
) -> Result<ShowPage, HttpError> {
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let (g, all): (GroupingSummary, _) = blocking(move || services.grouping_form(&who, id)).await?;
    let form = form.unwrap_or_else(|| GroupingForm {
        name: g.grouping.name.clone(),
        description: g.grouping.description.clone(),
        group: g.groups.iter().map(|g| g.id.0).collect(),
    });
    let heading = format!("Grouping {}", g.grouping.name);
    Ok(ShowPage {
        layout: Layout::signed_in(page, &heading, Section::Courses),
        heading,
        course_href: page.link(&format!("/courses/{}/groupings", g.grouping.course)),
        action: page.link(&format!("/groupings/{id}")),
        delete_href: page.link(&format!("/groupings/{id}/delete")),
        csrf: page.csrf().to_owned(),
        groups: choices(&all, &form.group),
        form,
        errors,
    })
}

async fn show(page: SitePage, path: web::Path<GroupingPath>) -> Result<HttpResponse, HttpError> {
    let view = show_page(&page, GroupingId(path.grouping), None, FormErrors::none()).await?;
    render(&view, StatusCode::OK)
}

async fn update(
    post: SitePost<GroupingForm>,
    path: web::Path<GroupingPath>,
) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let id = GroupingId(path.grouping);
    let update = GroupingUpdate {
        name: Some(form.name.clone()),
        description: Some(form.description.clone()),
        groups: Some(form.groups()),
    };
    let services = page.site.services.clone();
    let who = page.principal().clone();
    match form_outcome(blocking(move || services.update_grouping(&who, id, &update)).await)? {
        Ok(g) => Ok(page.done(
            &format!("/courses/{}/groupings", g.grouping.course),
            format!("Grouping {} saved.", g.grouping.name),
        )),
        Err(errors) => {
            let view = show_page(&page, id, Some(form), errors).await?;
            render(&view, status_for(&view.errors))
        }
    }
}

async fn confirm_delete(
    page: SitePage,
    path: web::Path<GroupingPath>,
) -> Result<HttpResponse, HttpError> {
    let id = GroupingId(path.grouping);
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let (g, _) = blocking(move || services.grouping_form(&who, id)).await?;
    let heading = format!("Delete grouping {}?", g.grouping.name);
    let mut effects = vec![format!(
        "delete the grouping “{}”; its course groups and their members stay.",
        g.grouping.name
    )];
    if g.activities > 0 {
        effects.push(format!(
            "hide the {} restricted to it from learners and lift the restriction: show them again when they are ready for everyone.",
            count(g.activities as u64, "activity", "activities")
        ));
    }
    let view = ConfirmPage {
        layout: Layout::signed_in(&page, &heading, Section::Courses),
        heading,
        effects,
        action: page.link(&format!("/groupings/{id}/delete")),
        csrf: page.csrf().to_owned(),
        button: "Delete grouping".to_owned(),
        cancel: page.link(&format!("/groupings/{id}")),
    };
    render(&view, StatusCode::OK)
}

async fn delete(
    post: SitePost<Empty>,
    path: web::Path<GroupingPath>,
) -> Result<HttpResponse, HttpError> {
    let page = post.page;
    let id = GroupingId(path.grouping);
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let g = blocking(move || services.delete_grouping(&who, id)).await?;
    Ok(page.done(
        &format!("/courses/{}/groupings", g.course),
        format!("Grouping {} deleted.", g.name),
    ))
}
