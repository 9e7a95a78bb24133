//! The add and edit forms of an enrolment method: choose a plugin, fill
//! its config form, see a dry-run preview of what adding it would do, and
//! save; the plugin's field errors are renamed to land beside their
//! inputs.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use serde_json::{Map, Value};

use super::config_form::{
    ConfigInput, Typed, config_inputs, config_json, config_values, input_name,
};
use super::{CoursePath, MethodPath, NewQuery, count, method_path, methods_path, plugin_options};
use crate::domain::{CourseId, EnrolmentMethodId, EnrolmentMethodStatus, PluginConfigField};
use crate::http::pages::forms::{FormErrors, render, status_for};
use crate::http::pages::session::{Flash, FlashKind, SitePage, SitePost, redirect_with};
use crate::http::pages::{Layout, Section};
use crate::http::{HttpError, blocking};
use crate::services::ServiceError;
use crate::services::enrolments::{MethodUpdate, NewMethod};
use crate::services::execution::MethodPreview;
use crate::services::execution::{AddedMethod, FirstRun};
use crate::services::plugins::MethodForm;

#[derive(Template)]
#[template(path = "pages/methods/form.html")]
pub(crate) struct FormPage {
    pub layout: Layout,
    pub heading: String,
    pub description: String,
    pub action: String,
    pub csrf: String,
    pub plugin: String,
    /// The method's name as typed (`name` is the macros' own parameter).
    pub method_name: String,
    /// Only a new method has the checkbox; an existing one is enabled
    /// or disabled from the list.
    pub new: bool,
    pub enabled: bool,
    pub inputs: Vec<ConfigInput>,
    pub errors: FormErrors,
    pub button: &'static str,
    pub cancel: String,
    /// The method's warning (its group was deleted), unless dismissed.
    pub warning: Option<String>,
    pub dismiss_action: String,
}

pub(super) fn form_page(
    page: &SitePage,
    data: &MethodForm,
    typed: &Typed,
    errors: FormErrors,
) -> FormPage {
    let course = data.course.id;
    let (heading, action, button, new) = match &data.method {
        Some(m) => (
            format!("Edit enrolment method “{}”", m.name),
            page.link(&method_path(course, m.id)),
            "Save changes",
            false,
        ),
        None => (
            format!("Add {} to {}", data.manifest.name, data.course.fullname),
            page.link(&format!("{}/preview", methods_path(course))),
            "Preview",
            true,
        ),
    };
    FormPage {
        layout: Layout::signed_in(page, &heading, Section::Courses),
        heading,
        description: data.manifest.description.clone(),
        action,
        csrf: page.csrf().to_owned(),
        plugin: data.manifest.id.clone(),
        method_name: typed.name.clone(),
        new,
        enabled: typed.enabled,
        inputs: config_inputs(data, typed),
        errors,
        button,
        cancel: page.link(&methods_path(course)),
        warning: data.warning.as_ref().map(|w| w.message()),
        dismiss_action: match &data.method {
            Some(m) => page.link(&format!("{}/dismiss-warning", method_path(course, m.id))),
            None => String::new(),
        },
    }
}

/// The plugin's field errors renamed after their inputs; the method's
/// own fields (`name`, `plugin`) keep their names.
pub(super) fn form_errors(e: ServiceError) -> Result<FormErrors, HttpError> {
    let e = match e {
        ServiceError::ConfigRejected { context, errors } => ServiceError::ConfigRejected {
            context,
            errors: errors
                .into_iter()
                .map(|mut fe| {
                    if !fe.field.is_empty() {
                        fe.field = input_name(&fe.field);
                    }
                    fe
                })
                .collect(),
        },
        ServiceError::Refused {
            code,
            message,
            field,
        } => ServiceError::Refused {
            code,
            message,
            field: field.map(|f| input_name(&f)),
        },
        other => other,
    };
    FormErrors::from_service(e)
}

pub(super) async fn load_new_form(
    page: &SitePage,
    course: CourseId,
    plugin: String,
) -> Result<MethodForm, HttpError> {
    let services = page.site.services.clone();
    let who = page.principal().clone();
    blocking(move || services.new_method_form(&who, course, &plugin)).await
}

/// Which plugin to add, when the link named none.
#[derive(Template)]
#[template(path = "pages/methods/choose.html")]
pub(crate) struct ChoosePage {
    pub layout: Layout,
    pub heading: String,
    pub action: String,
    pub plugins: Vec<(String, String)>,
    pub cancel: String,
}

pub(super) async fn new_form(
    page: SitePage,
    path: web::Path<CoursePath>,
    query: web::Query<NewQuery>,
) -> Result<HttpResponse, HttpError> {
    let course = CourseId(path.course);
    let plugin = query.plugin.clone().unwrap_or_default();
    if plugin.trim().is_empty() {
        let services = page.site.services.clone();
        let who = page.principal().clone();
        let found = blocking(move || services.course_methods(&who, course)).await?;
        let heading = format!("Add an enrolment method to {}", found.course.fullname);
        let view = ChoosePage {
            layout: Layout::signed_in(&page, &heading, Section::Courses),
            heading,
            action: page.link(&format!("{}/new", methods_path(course))),
            plugins: plugin_options(&found.plugins),
            cancel: page.link(&methods_path(course)),
        };
        return render(&view, StatusCode::OK);
    }
    let data = load_new_form(&page, course, plugin).await?;
    let typed = Typed::defaults(&data.manifest);
    render(
        &form_page(&page, &data, &typed, FormErrors::none()),
        StatusCode::OK,
    )
}

/// "Back to the form" from the preview: the form again, as typed.
pub(super) async fn back_to_form(
    post: SitePost<Vec<(String, String)>>,
    path: web::Path<CoursePath>,
) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let typed = Typed::from_pairs(&form);
    let data = load_new_form(&page, CourseId(path.course), typed.plugin.clone()).await?;
    render(
        &form_page(&page, &data, &typed, FormErrors::none()),
        StatusCode::OK,
    )
}

/// The refused form again, with the messages and the values as typed.
pub(super) async fn refused_form(
    page: &SitePage,
    e: ServiceError,
    typed: &Typed,
    load: impl std::future::Future<Output = Result<MethodForm, HttpError>>,
) -> Result<HttpResponse, HttpError> {
    let errors = form_errors(e)?;
    let data = load.await?;
    let view = form_page(page, &data, typed, errors);
    render(&view, status_for(&view.errors))
}

pub(super) fn new_method(typed: &Typed, fields: &[PluginConfigField]) -> NewMethod {
    NewMethod {
        plugin: typed.plugin.clone(),
        name: typed.name.clone(),
        config: config_json(fields, typed),
        enabled: typed.enabled,
    }
}

#[derive(Template)]
#[template(path = "pages/methods/preview.html")]
pub(crate) struct PreviewPage {
    pub layout: Layout,
    pub heading: String,
    /// What saving would do, one line each.
    pub effects: Vec<String>,
    /// Actions of the plugin's plans the host would refuse, in words.
    pub refused: Vec<String>,
    /// Refused actions in all (the list stops at 1,000).
    pub refused_count: u64,
    pub csrf: String,
    pub hidden: Vec<(String, String)>,
    pub save_action: String,
    pub back_action: String,
    pub cancel: String,
}

pub(super) fn effects_of(preview: &MethodPreview, enabled: bool) -> Vec<String> {
    let mut out = Vec::new();
    out.push(match preview.enrolments {
        0 => "No one would be enrolled now.".to_owned(),
        1 => "1 user would be enrolled.".to_owned(),
        n => format!("{n} users would be enrolled."),
    });
    // Suspension changes no enrolment, but such a participant is not an
    // active one: say how many.
    if preview.suspended_accounts > 0 {
        out.push(format!(
            "{}: enrolled all the same, active participants once re-activated.",
            count(
                preview.suspended_accounts,
                "of them has a suspended site account",
                "of them have suspended site accounts"
            )
        ));
    }
    for name in &preview.groups_created {
        out.push(format!("The course group “{name}” would be created."));
    }
    if preview.group_memberships > 0 {
        out.push(format!(
            "{} would be added.",
            count(
                preview.group_memberships,
                "group membership",
                "group memberships"
            )
        ));
    }
    let other = preview
        .actions
        .saturating_sub(preview.enrolments + preview.group_memberships)
        .saturating_sub(preview.groups_created.len() as u64);
    if other > 0 {
        out.push(format!(
            "{} in all.",
            count(preview.actions, "change", "changes")
        ));
    }
    if !enabled {
        out.push(
            "The method would be saved disabled: it enrols no one until it is enabled.".to_owned(),
        );
    }
    out
}

/// The new-method form as posted: what was typed, the form it was typed
/// into (its fields say how to read the values; the service checks them
/// all again) and the method they describe.
async fn posted_new_method(
    page: &SitePage,
    course: CourseId,
    form: &[(String, String)],
) -> Result<(Typed, MethodForm, NewMethod), HttpError> {
    let typed = Typed::from_pairs(form);
    let data = load_new_form(page, course, typed.plugin.clone()).await?;
    let new = new_method(&typed, &data.manifest.config);
    Ok((typed, data, new))
}

pub(super) async fn preview(
    post: SitePost<Vec<(String, String)>>,
    path: web::Path<CoursePath>,
) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let course = CourseId(path.course);
    let (typed, data, new) = posted_new_method(&page, course, &form).await?;
    let services = page.site.services.clone();
    let who = page.principal().clone();
    match blocking(move || services.preview_method(&who, course, new)).await {
        Ok(preview) => {
            let heading = format!(
                "Preview: {} in {}",
                data.manifest.name, data.course.fullname
            );
            let view = PreviewPage {
                layout: Layout::signed_in(&page, &heading, Section::Courses),
                heading,
                effects: effects_of(&preview, typed.enabled),
                refused: preview.refused.iter().map(ToString::to_string).collect(),
                refused_count: preview.refused_actions,
                csrf: page.csrf().to_owned(),
                hidden: typed.hidden(),
                save_action: page.link(&methods_path(course)),
                back_action: page.link(&format!("{}/new", methods_path(course))),
                cancel: page.link(&methods_path(course)),
            };
            render(&view, StatusCode::OK)
        }
        Err(HttpError::Service(e)) => refused_form(&page, e, &typed, async { Ok(data) }).await,
        Err(e) => Err(e),
    }
}

pub(super) async fn create(
    post: SitePost<Vec<(String, String)>>,
    path: web::Path<CoursePath>,
) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let course = CourseId(path.course);
    let (typed, data, new) = posted_new_method(&page, course, &form).await?;
    let services = page.site.services.clone();
    let who = page.principal().clone();
    match blocking(move || services.add_method_and_run(&who, course, new)).await {
        Ok(added) => Ok(added_flash(&page, course, &added)),
        Err(HttpError::Service(e)) => refused_form(&page, e, &typed, async { Ok(data) }).await,
        Err(e) => Err(e),
    }
}

/// Where adding a method leads: its course's methods, saying how its
/// first run went (a failure as an error: the method is added, and its
/// plugin does not work).
fn added_flash(page: &SitePage, course: CourseId, added: &AddedMethod) -> HttpResponse {
    let name = &added.method.name;
    let (kind, text) = match &added.first_run {
        FirstRun::Done(report) => (
            FlashKind::Success,
            format!(
                "Enrolment method “{name}” added. Its first run made {}.",
                count(report.changed, "change", "changes")
            ),
        ),
        FirstRun::NotRun => (
            FlashKind::Success,
            format!("Enrolment method “{name}” added, disabled: it runs once enabled."),
        ),
        FirstRun::Failed(error) => (
            FlashKind::Error,
            format!(
                "Enrolment method “{name}” added, but its first run failed: {}",
                error.message
            ),
        ),
    };
    redirect_with(
        &page.request,
        page.base(),
        &page.link(&methods_path(course)),
        Flash { kind, text },
    )
}

pub(super) async fn load_form(page: &SitePage, path: &MethodPath) -> Result<MethodForm, HttpError> {
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let id = EnrolmentMethodId(path.method);
    let data = blocking(move || services.method_form(&who, id)).await?;
    // A method is addressed under its own course only.
    if data.course.id != CourseId(path.course) {
        return Err(HttpError::NoSuchPage);
    }
    Ok(data)
}

pub(super) async fn edit_form(
    page: SitePage,
    path: web::Path<MethodPath>,
) -> Result<HttpResponse, HttpError> {
    let data = load_form(&page, &path).await?;
    let Some(m) = &data.method else {
        return Err(HttpError::NoSuchPage);
    };
    let config: Map<String, Value> = serde_json::from_str(&m.config).unwrap_or_default();
    let typed = Typed {
        plugin: m.plugin.clone(),
        name: m.name.clone(),
        enabled: m.status == EnrolmentMethodStatus::Enabled,
        config: config_values(&data.manifest.config, &config, true),
    };
    render(
        &form_page(&page, &data, &typed, FormErrors::none()),
        StatusCode::OK,
    )
}

pub(super) async fn update(
    post: SitePost<Vec<(String, String)>>,
    path: web::Path<MethodPath>,
) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let data = load_form(&page, &path).await?;
    let mut typed = Typed::from_pairs(&form);
    typed.plugin = data.manifest.id.clone();
    let update = MethodUpdate {
        name: Some(typed.name.clone()),
        config: Some(config_json(&data.manifest.config, &typed)),
    };
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let id = EnrolmentMethodId(path.method);
    match blocking(move || services.update_method(&who, id, update)).await {
        Ok(m) => Ok(page.done(
            &methods_path(m.course),
            format!("Changes to “{}” saved.", m.name),
        )),
        Err(HttpError::Service(e)) => refused_form(&page, e, &typed, async { Ok(data) }).await,
        Err(e) => Err(e),
    }
}
