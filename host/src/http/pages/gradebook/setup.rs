//! The gradebook set-up: the items in gradebook order, the forms that add
//! a manual item or a category, the course total's aggregation and pass
//! grade, an item's edit form and its deletion with a confirmation step.
//! Non-editing teachers see the list read-only (the service says who may
//! change items).
//!
//! The edit form carries only the fields the item's kind lets change; a
//! field absent from a post is left as it is.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::super::super::{HttpError, blocking};
use super::super::forms::{
    ConfirmPage, Empty, FormErrors, datetime_local, datetime_of, form_outcome, render, ticked,
};
use super::super::session::{SitePage, SitePost};
use super::super::{Layout, Section};
use super::{CoursePath, GradebookLinks, ItemPath};
use crate::domain::*;
use crate::services::gradebook::pages_support::GradeItemSetup;
use crate::services::gradebook::{
    GradeItemDraft, GradeItemUpdate, GradebookSetup, ItemView, NewItemKind, format_grade,
};

/// The fields of the add and edit forms, as typed. A field the form did
/// not carry is `None`.
#[derive(serde::Deserialize, Default, Clone)]
pub(crate) struct ItemForm {
    pub kind: Option<String>,
    pub name: Option<String>,
    pub max_grade: Option<String>,
    pub pass_grade: Option<String>,
    pub due_at: Option<String>,
    pub category: Option<String>,
    pub weight: Option<String>,
    pub aggregation: Option<String>,
    pub hidden: Option<String>,
    /// Present when the form has the "hidden" checkbox (an unticked box
    /// sends nothing).
    pub has_hidden: Option<String>,
}

fn text(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or_default()
}

impl ItemForm {
    /// A field's text, for the templates.
    pub fn get(&self, field: &str) -> &str {
        let v = match field {
            "name" => &self.name,
            "max_grade" => &self.max_grade,
            "pass_grade" => &self.pass_grade,
            "due_at" => &self.due_at,
            "category" => &self.category,
            "weight" => &self.weight,
            "aggregation" => &self.aggregation,
            _ => &None,
        };
        text(v)
    }

    pub fn is_hidden(&self) -> bool {
        ticked(&self.hidden)
    }

    fn of(view: &ItemView) -> Self {
        let i = &view.item;
        Self {
            kind: Some(view.kind.to_owned()),
            name: Some(i.name.clone()),
            max_grade: Some(format_grade(i.max_grade)),
            pass_grade: i.pass_grade.map(format_grade),
            due_at: i.due_at.map(datetime_local),
            category: i.parent.map(|p| p.to_string()),
            weight: Some(format_grade(i.weight)),
            aggregation: Some(i.aggregation.as_str().to_owned()),
            hidden: i.hidden.then(|| "1".to_owned()),
            has_hidden: Some("1".to_owned()),
        }
    }

    fn blank(kind: &str) -> Self {
        Self {
            kind: Some(kind.to_owned()),
            max_grade: Some("100".to_owned()),
            weight: Some("1".to_owned()),
            aggregation: Some(Aggregation::default().as_str().to_owned()),
            ..Self::default()
        }
    }
}

/// Reads the numbers, date, category and aggregation of `form`; the
/// messages of those that cannot be read go to `errors`.
struct Read {
    max_grade: Option<f64>,
    pass_grade: Option<Option<f64>>,
    due_at: Option<Option<Timestamp>>,
    parent: Option<Option<GradeItemId>>,
    weight: Option<f64>,
    aggregation: Option<Aggregation>,
}

fn read(form: &ItemForm, errors: &mut FormErrors) -> Read {
    let mut number = |field: &str, v: &Option<String>| -> Option<Option<f64>> {
        let v = v.as_deref()?.trim();
        if v.is_empty() {
            return Some(None);
        }
        match v.replace(',', ".").parse::<f64>() {
            Ok(n) => Some(Some(n)),
            Err(_) => {
                errors.add(field, "must be a number");
                None
            }
        }
    };
    let max_grade = number("max_grade", &form.max_grade).flatten();
    let pass_grade = number("pass_grade", &form.pass_grade);
    let weight = number("weight", &form.weight).flatten();
    let due_at = form
        .due_at
        .as_deref()
        .and_then(|v| match datetime_of("due_at", v) {
            Ok(t) => Some(t),
            Err(e) => {
                errors.add("due_at", e.get("due_at").unwrap_or_default().to_owned());
                None
            }
        });
    let parent = form.category.as_deref().and_then(|v| match v.trim() {
        "" => Some(None),
        v => match v.parse() {
            Ok(id) => Some(Some(GradeItemId(id))),
            Err(_) => {
                errors.add("category", "choose one of the categories listed");
                None
            }
        },
    });
    let aggregation = form.aggregation.as_deref().and_then(|v| {
        let a = Aggregation::parse(v.trim());
        if a.is_none() {
            errors.add("aggregation", "choose one of the aggregations listed");
        }
        a
    });
    Read {
        max_grade,
        pass_grade,
        due_at,
        parent,
        weight,
        aggregation,
    }
}

pub(crate) struct ItemRow {
    pub name: String,
    pub kind: &'static str,
    pub category: String,
    pub max: String,
    pub pass: String,
    pub weight: String,
    pub aggregation: &'static str,
    pub hidden: bool,
    pub edit_href: String,
    pub delete_href: Option<String>,
    pub indent: bool,
}

/// The aggregations, with what each does, for the forms.
pub(crate) struct AggregationChoice {
    pub value: &'static str,
    pub label: &'static str,
    pub about: &'static str,
}

fn aggregations() -> Vec<AggregationChoice> {
    Aggregation::ALL
        .iter()
        .map(|a| AggregationChoice {
            value: a.as_str(),
            label: a.label(),
            about: match a {
                Aggregation::Mean => {
                    "the default: each grade as a percentage of its item's maximum, averaged; \
                     items count alike whatever their maximum, missing grades are left out"
                }
                Aggregation::WeightedMean => {
                    "as the mean, each item counting its weight times (weight 2 counts twice)"
                }
                Aggregation::Sum => {
                    "the points earned out of the points available; a missing grade earns nothing"
                }
            },
        })
        .collect()
}

fn kind_words(kind: &str) -> &'static str {
    match kind {
        "assignment" => "Assignment",
        "manual" => "Manual item",
        "category" => "Category total",
        _ => "Course total",
    }
}

#[derive(Template)]
#[template(path = "pages/gradebook/setup.html")]
pub(crate) struct SetupPage {
    pub layout: Layout,
    pub links: GradebookLinks,
    pub course_name: String,
    pub can_edit: bool,
    pub rows: Vec<ItemRow>,
    pub csrf: String,
    pub create_action: String,
    pub categories: Vec<(String, String)>,
    pub aggregations: Vec<AggregationChoice>,
    pub item_form: ItemForm,
    pub item_errors: FormErrors,
    pub category_form: ItemForm,
    pub category_errors: FormErrors,
    /// The course total's form (it posts to the total's edit action).
    pub total_action: Option<String>,
    pub total_form: ItemForm,
    /// The course total's form is answered on the edit page: none here.
    pub no_errors: FormErrors,
}

fn setup_page(
    page: &SitePage,
    setup: GradebookSetup,
    refused: Option<(ItemForm, FormErrors)>,
) -> SetupPage {
    let course = setup.course.id;
    let links = GradebookLinks::of(page, course);
    let rows = setup
        .items
        .iter()
        .map(|v| {
            let i = &v.item;
            ItemRow {
                name: i.name.clone(),
                kind: kind_words(v.kind),
                category: v.category.clone().unwrap_or_default(),
                max: format_grade(v.effective_max),
                pass: i.pass_grade.map(format_grade).unwrap_or_default(),
                weight: format_grade(i.weight),
                aggregation: if i.is_total() {
                    i.aggregation.label()
                } else {
                    ""
                },
                hidden: i.hidden,
                edit_href: page.link(&format!("/grade-items/{}/edit", i.id)),
                delete_href: matches!(v.kind, "manual" | "category")
                    .then(|| page.link(&format!("/grade-items/{}/delete", i.id))),
                indent: i.parent.is_some(),
            }
        })
        .collect();
    let total = setup.items.iter().find(|v| v.kind == "course");
    let (mut item_form, mut item_errors) = (ItemForm::blank("manual"), FormErrors::none());
    let (mut category_form, mut category_errors) =
        (ItemForm::blank("category"), FormErrors::none());
    if let Some((form, errors)) = refused {
        if text(&form.kind) == "category" {
            (category_form, category_errors) = (form, errors);
        } else {
            (item_form, item_errors) = (form, errors);
        }
    }
    SetupPage {
        layout: Layout::signed_in(
            page,
            &format!("Gradebook set-up: {}", setup.course.fullname),
            Section::Courses,
        ),
        course_name: setup.course.fullname.clone(),
        can_edit: setup.can_edit,
        rows,
        csrf: page.csrf().to_owned(),
        create_action: page.link(&format!("/courses/{course}/grades/items")),
        categories: category_options(&setup),
        aggregations: aggregations(),
        item_form,
        item_errors,
        category_form,
        category_errors,
        total_action: total.map(|t| page.link(&format!("/grade-items/{}/edit", t.item.id))),
        total_form: total.map(ItemForm::of).unwrap_or_default(),
        no_errors: FormErrors::none(),
        links,
    }
}

fn category_options(setup: &GradebookSetup) -> Vec<(String, String)> {
    std::iter::once((String::new(), "None (top level)".to_owned()))
        .chain(
            setup
                .categories
                .iter()
                .map(|c| (c.id.to_string(), c.name.clone())),
        )
        .collect()
}

async fn load_setup(page: &SitePage, course: CourseId) -> Result<GradebookSetup, HttpError> {
    let (services, who) = (page.site.services.clone(), page.principal().clone());
    blocking(move || services.gradebook_setup(&who, course)).await
}

pub(super) async fn show(
    page: SitePage,
    path: web::Path<CoursePath>,
) -> Result<HttpResponse, HttpError> {
    let setup = load_setup(&page, CourseId(path.course)).await?;
    render(&setup_page(&page, setup, None), StatusCode::OK)
}

pub(super) async fn create(
    post: SitePost<ItemForm>,
    path: web::Path<CoursePath>,
) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let course = CourseId(path.course);
    let mut errors = FormErrors::none();
    let r = read(&form, &mut errors);
    let kind = if text(&form.kind) == "category" {
        NewItemKind::Category
    } else {
        NewItemKind::Manual
    };
    let draft = GradeItemDraft {
        kind,
        name: text(&form.name).to_owned(),
        max_grade: r.max_grade.unwrap_or(100.0),
        pass_grade: r.pass_grade.flatten(),
        due_at: r.due_at.flatten(),
        parent: r.parent.flatten(),
        weight: r.weight.unwrap_or(1.0),
        aggregation: r.aggregation.unwrap_or_default(),
        hidden: ticked(&form.hidden),
    };
    if errors.is_empty() {
        let (services, who) = (page.site.services.clone(), page.principal().clone());
        let created = blocking(move || services.create_grade_item(&who, course, draft)).await;
        match form_outcome(created)? {
            Ok(item) => {
                return Ok(page.done(
                    &format!("/courses/{course}/grades/setup"),
                    format!("Added {:?}.", item.name),
                ));
            }
            Err(e) => errors = e,
        }
    }
    let setup = load_setup(&page, course).await?;
    render(
        &setup_page(&page, setup, Some((form, errors))),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
}

// ------------------------------------------------------------ edit

#[derive(Template)]
#[template(path = "pages/gradebook/item.html")]
pub(crate) struct ItemPage {
    pub layout: Layout,
    pub links: GradebookLinks,
    pub course_name: String,
    pub heading: String,
    pub kind: &'static str,
    pub kind_words: &'static str,
    pub can_edit: bool,
    pub csrf: String,
    pub action: String,
    pub form: ItemForm,
    pub errors: FormErrors,
    pub categories: Vec<(String, String)>,
    pub aggregations: Vec<AggregationChoice>,
    pub max_words: String,
}

fn item_page(page: &SitePage, s: GradeItemSetup, form: ItemForm, errors: FormErrors) -> ItemPage {
    let course = s.setup.course.id;
    ItemPage {
        layout: Layout::signed_in(
            page,
            &format!("Edit grade item: {}", s.item.item.name),
            Section::Courses,
        ),
        links: GradebookLinks::of(page, course),
        course_name: s.setup.course.fullname.clone(),
        heading: s.item.item.name.clone(),
        kind: s.item.kind,
        kind_words: kind_words(s.item.kind),
        can_edit: s.setup.can_edit,
        csrf: page.csrf().to_owned(),
        action: page.link(&format!("/grade-items/{}/edit", s.item.item.id)),
        form,
        errors,
        categories: category_options(&s.setup),
        aggregations: aggregations(),
        max_words: format_grade(s.item.effective_max),
    }
}

async fn load_item(page: &SitePage, id: GradeItemId) -> Result<GradeItemSetup, HttpError> {
    let (services, who) = (page.site.services.clone(), page.principal().clone());
    blocking(move || services.grade_item_setup(&who, id)).await
}

pub(super) async fn edit_form(
    page: SitePage,
    path: web::Path<ItemPath>,
) -> Result<HttpResponse, HttpError> {
    let s = load_item(&page, GradeItemId(path.item)).await?;
    let form = ItemForm::of(&s.item);
    render(
        &item_page(&page, s, form, FormErrors::none()),
        StatusCode::OK,
    )
}

pub(super) async fn update(
    post: SitePost<ItemForm>,
    path: web::Path<ItemPath>,
) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let id = GradeItemId(path.item);
    let mut errors = FormErrors::none();
    let r = read(&form, &mut errors);
    let update = GradeItemUpdate {
        name: form.name.clone(),
        max_grade: r.max_grade,
        pass_grade: r.pass_grade,
        due_at: r.due_at,
        parent: r.parent,
        weight: r.weight,
        aggregation: r.aggregation,
        hidden: form.has_hidden.is_some().then(|| ticked(&form.hidden)),
    };
    if errors.is_empty() {
        let (services, who) = (page.site.services.clone(), page.principal().clone());
        let updated = blocking(move || services.update_grade_item(&who, id, update)).await;
        match form_outcome(updated)? {
            Ok(item) => {
                return Ok(page.done(
                    &format!("/courses/{}/grades/setup", item.course),
                    format!("Saved {:?}.", item.name),
                ));
            }
            Err(e) => errors = e,
        }
    }
    let s = load_item(&page, id).await?;
    // A refused form keeps what was typed; fields it did not carry show
    // the item's values.
    let stored = ItemForm::of(&s.item);
    let keep = |typed: Option<String>, stored: Option<String>| typed.or(stored);
    let form = ItemForm {
        kind: stored.kind.clone(),
        name: keep(form.name, stored.name),
        max_grade: keep(form.max_grade, stored.max_grade),
        pass_grade: keep(form.pass_grade, stored.pass_grade),
        due_at: keep(form.due_at, stored.due_at),
        category: keep(form.category, stored.category),
        weight: keep(form.weight, stored.weight),
        aggregation: keep(form.aggregation, stored.aggregation),
        hidden: if form.has_hidden.is_some() {
            form.hidden
        } else {
            stored.hidden
        },
        has_hidden: stored.has_hidden,
    };
    render(
        &item_page(&page, s, form, errors),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
}

// ------------------------------------------------------------ delete

pub(super) async fn confirm_delete(
    page: SitePage,
    path: web::Path<ItemPath>,
) -> Result<HttpResponse, HttpError> {
    let s = load_item(&page, GradeItemId(path.item)).await?;
    let item = &s.item.item;
    let effects = match s.item.kind {
        "category" => vec![
            format!("The category {:?} and its overridden totals go.", item.name),
            "Its items move to the top level with their grades.".to_owned(),
        ],
        _ => vec![format!(
            "The item {:?} and every grade entered for it go.",
            item.name
        )],
    };
    let view = ConfirmPage {
        layout: Layout::signed_in(&page, &format!("Delete {}", item.name), Section::Courses),
        heading: format!("Delete {:?}?", item.name),
        effects,
        action: page.link(&format!("/grade-items/{}/delete", item.id)),
        csrf: page.csrf().to_owned(),
        button: "Delete".to_owned(),
        cancel: page.link(&format!("/courses/{}/grades/setup", item.course)),
    };
    render(&view, StatusCode::OK)
}

pub(super) async fn delete(
    post: SitePost<Empty>,
    path: web::Path<ItemPath>,
) -> Result<HttpResponse, HttpError> {
    let page = post.page;
    let id = GradeItemId(path.item);
    let (services, who) = (page.site.services.clone(), page.principal().clone());
    let (course, name) = blocking(move || {
        let s = services.grade_item_setup(&who, id)?;
        services.delete_grade_item(&who, id)?;
        Ok((s.setup.course.id, s.item.item.name))
    })
    .await?;
    Ok(page.done(
        &format!("/courses/{course}/grades/setup"),
        format!("Deleted {name:?}."),
    ))
}
