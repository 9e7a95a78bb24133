//! The gradebook (issue 19): a course's grade items and categories, the
//! grader report and the learner's own report, grades entered in bulk, the
//! per-group statistics, and CSV/XLSX exports and a CSV import.
//!
//! Every assignment is an item (created with it); teachers add manual
//! items and categories, each category and the course total aggregating
//! their children (`compute`). Who sees whose grades is decided by
//! [`CourseAccess`]: staff see the learners of the groups they may see
//! under the course's group mode (a non-editing teacher in separate groups
//! only their own), a learner only their own grades of items not hidden.
//! Editing teachers and site admins change the items; any teacher enters
//! grades for the learners they see. Every change is audited with its old
//! and new value.
//!
//! The learners of a gradebook are the users with an active learner
//! enrolment in the course.

pub mod analysis;
pub mod compute;
pub mod entry;
pub mod export;
pub mod import;
pub mod pages_support;
pub mod report;
#[cfg(test)]
pub mod sample;
pub mod stats;
#[cfg(test)]
mod tests;

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;

use super::SiteServices;
use super::auth::{Principal, authorize_caller};
use super::course_access::CourseAccess;
use super::error::{ServiceError, ServiceResult};
use super::ops::gradebook::load_grade_item;
use super::validate;
use crate::domain::*;
use crate::storage::site::prelude::*;
use compute::{Book, View};

/// The largest maximum grade an item may have.
pub const MAX_GRADE_LIMIT: f64 = 100_000.0;
/// The largest weight an item may have.
pub const MAX_WEIGHT: f64 = 1_000.0;

/// What a teacher adds to a gradebook.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NewItemKind {
    /// An item whose grades teachers enter.
    Manual,
    /// A category, with its total.
    Category,
}

/// A new manual item or category.
#[derive(Clone, Debug)]
pub struct GradeItemDraft {
    pub kind: NewItemKind,
    pub name: String,
    /// Manual items only (a category's maximum is computed).
    pub max_grade: f64,
    pub pass_grade: Option<f64>,
    pub due_at: Option<Timestamp>,
    /// The category it counts in (manual items only).
    pub parent: Option<GradeItemId>,
    pub weight: f64,
    /// Categories only.
    pub aggregation: Aggregation,
    pub hidden: bool,
}

impl Default for GradeItemDraft {
    fn default() -> Self {
        Self {
            kind: NewItemKind::Manual,
            name: String::new(),
            max_grade: 100.0,
            pass_grade: None,
            due_at: None,
            parent: None,
            weight: 1.0,
            aggregation: Aggregation::default(),
            hidden: false,
        }
    }
}

/// Changes to an item; `None` leaves a field as it is. `pass_grade`,
/// `due_at` and `parent` take `Some(None)` to clear.
#[derive(Clone, Debug, Default)]
pub struct GradeItemUpdate {
    pub name: Option<String>,
    pub max_grade: Option<f64>,
    pub pass_grade: Option<Option<f64>>,
    pub due_at: Option<Option<Timestamp>>,
    pub parent: Option<Option<GradeItemId>>,
    pub weight: Option<f64>,
    pub aggregation: Option<Aggregation>,
    pub hidden: Option<bool>,
}

/// An item as the gradebook shows it: its record, its effective maximum
/// (a total's is computed) and what may be changed of it.
#[derive(Clone, Debug, Serialize)]
pub struct ItemView {
    #[serde(flatten)]
    pub item: GradeItem,
    /// The maximum grades lie within (a total's as computed).
    pub effective_max: f64,
    /// "assignment", "manual", "category" or "course".
    pub kind: &'static str,
    /// The name of its category, if it counts in one.
    pub category: Option<String>,
}

pub(crate) fn kind_of(source: GradeSource) -> &'static str {
    match source {
        GradeSource::Assignment(_) => "assignment",
        GradeSource::Manual => "manual",
        GradeSource::Category => "category",
        GradeSource::Course => "course",
    }
}

/// The items of `book` that exist in `view`, as shown.
pub(crate) fn item_views(book: &Book, view: View) -> Vec<ItemView> {
    book.items
        .iter()
        .enumerate()
        .filter(|&(i, _)| book.shown(view, i))
        .map(|(i, item)| ItemView {
            item: item.clone(),
            effective_max: book.max(view, i),
            kind: kind_of(item.source),
            category: item
                .parent
                .and_then(|p| book.position(p))
                .map(|p| book.items[p].name.clone()),
        })
        .collect()
}

/// A course's gradebook set-up: its items in display order and the
/// categories an item may be put in.
#[derive(Clone, Debug, Serialize)]
pub struct GradebookSetup {
    pub course: Course,
    pub items: Vec<ItemView>,
    pub categories: Vec<GradeItem>,
    /// Whether the caller may change items (editing teachers, admins).
    pub can_edit: bool,
}

/// The book of `course` as stored.
pub(crate) fn load_book(t: &impl SiteRead, course: CourseId) -> ServiceResult<Book> {
    Ok(Book::new(t.grade_items_of_course(course)?))
}

/// The learners of `course` — users with an active learner enrolment —
/// in user order, limited to the members of `groups` when given.
pub(crate) fn course_learners(
    t: &impl SiteRead,
    course: CourseId,
    groups: Option<&BTreeSet<CourseGroupId>>,
) -> ServiceResult<Vec<UserId>> {
    let is_learner = |enrolments: &[Enrolment]| {
        enrolments
            .iter()
            .any(|e| e.status == EnrolmentStatus::Active && e.role == Some(Role::Learner))
    };
    match groups {
        Some(groups) => {
            let mut users = BTreeSet::new();
            for &g in groups {
                users.extend(t.group_member_ids(g)?);
            }
            let mut out = Vec::with_capacity(users.len());
            for user in users {
                if is_learner(&t.user_course_enrolments(course, user)?) {
                    out.push(user);
                }
            }
            Ok(out)
        }
        None => {
            let mut out = Vec::new();
            let mut after = None;
            loop {
                let page = t.course_enrolments_page(course, after, 5_000)?;
                let Some(last) = page.last() else { break };
                after = Some(last.user);
                let mut i = 0;
                while i < page.len() {
                    let user = page[i].user;
                    let end = page[i..]
                        .iter()
                        .position(|e| e.user != user)
                        .map_or(page.len(), |n| i + n);
                    if is_learner(&page[i..end]) {
                        out.push(user);
                    }
                    i = end;
                }
            }
            Ok(out)
        }
    }
}

/// The groups of `course` the caller may see under the course's group
/// mode, by name.
pub(crate) fn visible_groups(
    t: &impl SiteRead,
    access: &CourseAccess,
) -> ServiceResult<Vec<CourseGroup>> {
    let filter = access.group_filter(access.group_mode(None));
    let mut groups: Vec<CourseGroup> = t
        .course_group_list(access.course.id)?
        .into_iter()
        .filter(|g| filter.is_none_or(|f| f.contains(&g.id)))
        .collect();
    groups.sort_by_key(|g| g.name.to_lowercase());
    Ok(groups)
}

/// The learners a staff caller sees, narrowed to `group` when given (one
/// they may see: another answers not found).
pub(crate) fn seen_learners(
    t: &impl SiteRead,
    access: &CourseAccess,
    group: Option<CourseGroupId>,
) -> ServiceResult<Vec<UserId>> {
    let mode = access.group_mode(None);
    match group {
        Some(g) => {
            let known = t.group(g)?.is_some_and(|x| x.course == access.course.id);
            if !known || !access.sees_group(mode, Some(g)) {
                return Err(ServiceError::not_found(format!("group #{g}")));
            }
            course_learners(t, access.course.id, Some(&BTreeSet::from([g])))
        }
        None => course_learners(t, access.course.id, access.group_filter(mode)),
    }
}

/// A user's name as the gradebook lists it ("Last, First" sorts; this is
/// shown) and their e-mail address.
pub(crate) fn learner_names(
    t: &impl SiteRead,
    users: &[UserId],
) -> ServiceResult<HashMap<UserId, User>> {
    let mut out = HashMap::with_capacity(users.len());
    for &u in users {
        if let Some(user) = t.user(u)? {
            out.insert(u, user);
        }
    }
    Ok(out)
}

fn checked_number(field: &'static str, value: f64, min: f64, max: f64) -> ServiceResult<f64> {
    if !value.is_finite() || value < min || value > max {
        return Err(ServiceError::invalid(
            field,
            format!("must be a number from {min} to {max}"),
        ));
    }
    Ok(value)
}

/// Checks the fields every item carries; `max` is its (effective)
/// maximum.
fn check_common(item: &GradeItem, max: f64) -> ServiceResult<()> {
    if let Some(p) = item.pass_grade {
        checked_number("pass_grade", p, 0.0, max)?;
    }
    checked_number("weight", item.weight, 0.0, MAX_WEIGHT)?;
    Ok(())
}

/// Checks `parent` names a category of `course`.
fn check_parent(
    t: &impl SiteRead,
    course: CourseId,
    parent: Option<GradeItemId>,
) -> ServiceResult<()> {
    if let Some(p) = parent {
        let ok = t
            .grade_item(p)?
            .is_some_and(|i| i.course == course && i.source == GradeSource::Category);
        if !ok {
            return Err(ServiceError::invalid(
                "parent",
                format!("grade item #{p} is not a category of this course"),
            ));
        }
    }
    Ok(())
}

fn shown(v: Option<f64>) -> String {
    v.map_or_else(|| "none".to_owned(), format_grade)
}

/// A grade as pages, exports and the audit log write it: at most two
/// decimals, no trailing zeros.
pub fn format_grade(v: f64) -> String {
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_owned()
    } else {
        s.to_owned()
    }
}

/// What changed between two versions of an item, for the audit log.
fn describe_change(before: &GradeItem, after: &GradeItem) -> String {
    let mut parts = Vec::new();
    if before.name != after.name {
        parts.push(format!("name {:?} → {:?}", before.name, after.name));
    }
    if before.max_grade != after.max_grade {
        parts.push(format!(
            "max {} → {}",
            format_grade(before.max_grade),
            format_grade(after.max_grade)
        ));
    }
    if before.pass_grade != after.pass_grade {
        parts.push(format!(
            "pass {} → {}",
            shown(before.pass_grade),
            shown(after.pass_grade)
        ));
    }
    if before.due_at != after.due_at {
        parts.push("due date changed".to_owned());
    }
    if before.parent != after.parent {
        let p = |x: Option<GradeItemId>| x.map_or_else(|| "none".to_owned(), |i| format!("#{i}"));
        parts.push(format!(
            "category {} → {}",
            p(before.parent),
            p(after.parent)
        ));
    }
    if before.weight != after.weight {
        parts.push(format!(
            "weight {} → {}",
            format_grade(before.weight),
            format_grade(after.weight)
        ));
    }
    if before.aggregation != after.aggregation {
        parts.push(format!(
            "aggregation {} → {}",
            before.aggregation.as_str(),
            after.aggregation.as_str()
        ));
    }
    if before.hidden != after.hidden {
        parts.push(if after.hidden { "hidden" } else { "shown" }.to_owned());
    }
    parts.join(", ")
}

/// Loads item `id` and the caller's access to its course, with the right
/// to change it (editing teachers and admins).
fn editable_item(
    s: &SiteServices,
    t: &impl SiteRead,
    who: &Principal,
    id: GradeItemId,
) -> ServiceResult<(GradeItem, CourseAccess)> {
    authorize_caller(&s.site, t, who)?;
    let item = load_grade_item(t, id, None)?;
    let access = CourseAccess::of(&s.site, t, who, item.course)?;
    if !access.is_staff() {
        return Err(ServiceError::not_found(format!("grade item #{id}")));
    }
    access.require_edit()?;
    Ok((item, access))
}

impl SiteServices {
    /// The gradebook set-up of `course` (its staff).
    pub fn gradebook_setup(
        &self,
        who: &Principal,
        course: CourseId,
    ) -> ServiceResult<GradebookSetup> {
        self.read(|t| {
            let access = CourseAccess::of(&self.site, t, who, course)?;
            access.require_staff()?;
            let book = load_book(t, course)?;
            Ok(GradebookSetup {
                items: item_views(&book, View::Staff),
                categories: book
                    .items
                    .iter()
                    .filter(|i| i.source == GradeSource::Category)
                    .cloned()
                    .collect(),
                can_edit: access.can_edit(),
                course: access.course,
            })
        })
    }

    /// Grade item `id` as the gradebook shows it (the course's staff).
    pub fn get_grade_item(&self, who: &Principal, id: GradeItemId) -> ServiceResult<ItemView> {
        self.read(|t| {
            authorize_caller(&self.site, t, who)?;
            let item = load_grade_item(t, id, None)?;
            let access = CourseAccess::of(&self.site, t, who, item.course)?;
            if !access.is_staff() {
                return Err(ServiceError::not_found(format!("grade item #{id}")));
            }
            let book = load_book(t, item.course)?;
            item_views(&book, View::Staff)
                .into_iter()
                .find(|v| v.item.id == id)
                .ok_or_else(|| ServiceError::not_found(format!("grade item #{id}")))
        })
    }

    /// Adds a manual item or a category to `course` (editing teachers and
    /// site admins).
    pub fn create_grade_item(
        &self,
        who: &Principal,
        course: CourseId,
        draft: GradeItemDraft,
    ) -> ServiceResult<GradeItem> {
        self.write(|t| {
            let access = CourseAccess::of(&self.site, t, who, course)?;
            access.require_edit()?;
            let name = validate::required_text("name", &draft.name, validate::MAX_NAME)?;
            let (source, max_grade, parent) = match draft.kind {
                NewItemKind::Manual => {
                    let max = checked_number("max_grade", draft.max_grade, 0.01, MAX_GRADE_LIMIT)?;
                    check_parent(t, course, draft.parent)?;
                    (GradeSource::Manual, max, draft.parent)
                }
                NewItemKind::Category => (GradeSource::Category, 100.0, None),
            };
            let item = GradeItem {
                id: t.new_grade_item_id()?,
                course,
                source,
                name,
                max_grade,
                pass_grade: draft.pass_grade,
                due_at: draft.due_at,
                parent,
                weight: draft.weight,
                aggregation: draft.aggregation,
                hidden: draft.hidden,
                created_at: t.now,
            };
            // A new category has no children: its maximum is 100 under a
            // mean and 0 under a sum, so a pass grade waits for children.
            let max = match (item.source, item.aggregation) {
                (GradeSource::Category, Aggregation::Sum) => 0.0,
                _ => item.max_grade,
            };
            check_common(&item, max)?;
            t.put_grade_item(&item)?;
            t.audit_log(
                access.actor,
                "grade_item.created",
                format_args!(
                    "grade item #{} {:?} in course #{course}",
                    item.id, item.name
                ),
                format_args!(
                    "{} out of {}",
                    kind_of(item.source),
                    format_grade(item.max_grade)
                ),
            )?;
            t.emit(SiteEvent::GradebookChanged { course })?;
            Ok(item)
        })
    }

    /// Changes item `id` (editing teachers and site admins). An
    /// assignment's name and maximum are its assignment's; a total's
    /// maximum is computed; only manual items move between categories.
    pub fn update_grade_item(
        &self,
        who: &Principal,
        id: GradeItemId,
        update: GradeItemUpdate,
    ) -> ServiceResult<GradeItem> {
        self.write(|t| {
            let (before, access) = editable_item(self, t, who, id)?;
            let mut item = before.clone();
            let own = |field: &'static str, what: &str| {
                Err(ServiceError::invalid(field, what.to_string()))
            };
            if let Some(name) = &update.name {
                let name = validate::required_text("name", name, validate::MAX_NAME)?;
                if name != item.name {
                    match item.source {
                        GradeSource::Assignment(_) => {
                            return own("name", "an assignment's item is named by the assignment");
                        }
                        _ => item.name = name,
                    }
                }
            }
            if let Some(max) = update.max_grade
                && max != item.max_grade
            {
                match item.source {
                    GradeSource::Manual => {
                        item.max_grade = checked_number("max_grade", max, 0.01, MAX_GRADE_LIMIT)?;
                    }
                    GradeSource::Assignment(_) => {
                        return own(
                            "max_grade",
                            "an assignment's maximum grade is set in its settings",
                        );
                    }
                    _ => return own("max_grade", "a total's maximum is computed"),
                }
            }
            if let Some(parent) = update.parent
                && parent != item.parent
            {
                if item.is_total() {
                    return own(
                        "parent",
                        "categories and the course total are not put in a category",
                    );
                }
                check_parent(t, item.course, parent)?;
                item.parent = parent;
            }
            if let Some(v) = update.pass_grade {
                item.pass_grade = v;
            }
            if let Some(v) = update.due_at {
                item.due_at = v;
            }
            if let Some(v) = update.weight {
                item.weight = v;
            }
            if let Some(v) = update.aggregation {
                item.aggregation = v;
            }
            if let Some(v) = update.hidden {
                if v && item.source == GradeSource::Course {
                    return own(
                        "hidden",
                        "the course total is not hidden; hide the items instead",
                    );
                }
                item.hidden = v;
            }
            if item == before {
                return Ok(item);
            }
            // The maximum a pass grade is checked against is the one the
            // item has after the change.
            let mut items = t.grade_items_of_course(item.course)?;
            if let Some(slot) = items.iter_mut().find(|i| i.id == id) {
                *slot = item.clone();
            }
            let book = Book::new(items);
            let max = book
                .position(id)
                .map_or(item.max_grade, |i| book.max(View::Staff, i));
            check_common(&item, max)?;
            t.put_grade_item(&item)?;
            t.audit_log(
                access.actor,
                "grade_item.updated",
                format_args!("grade item #{id} {:?}", item.name),
                describe_change(&before, &item).as_str(),
            )?;
            t.emit(SiteEvent::GradebookChanged {
                course: item.course,
            })?;
            Ok(item)
        })
    }

    /// Deletes a manual item (with its grades) or a category (its items
    /// move to the top level; its overrides go). An assignment's item goes
    /// with its assignment, the course total with the course.
    pub fn delete_grade_item(&self, who: &Principal, id: GradeItemId) -> ServiceResult<()> {
        self.write(|t| {
            let (item, access) = editable_item(self, t, who, id)?;
            match item.source {
                GradeSource::Assignment(a) => {
                    return Err(ServiceError::Conflict(format!(
                        "grade item #{id} is assignment #{a}'s: delete the assignment instead"
                    )));
                }
                GradeSource::Course => {
                    return Err(ServiceError::Conflict(
                        "the course total goes only with its course".to_owned(),
                    ));
                }
                GradeSource::Category => {
                    for mut child in t.grade_items_of_course(item.course)? {
                        if child.parent == Some(id) {
                            child.parent = None;
                            t.put_grade_item(&child)?;
                        }
                    }
                }
                GradeSource::Manual => {}
            }
            let grades = t.grade_entries_of(id)?.len();
            t.delete_grade_item(&item)?;
            t.audit_log(
                access.actor,
                "grade_item.deleted",
                format_args!("grade item #{id} {:?}", item.name),
                format_args!("{} with its {grades} grade(s)", kind_of(item.source)),
            )?;
            t.emit(SiteEvent::GradebookChanged {
                course: item.course,
            })?;
            Ok(())
        })
    }
}
