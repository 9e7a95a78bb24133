//! What the gradebook's pages need beyond the reports themselves: the
//! report a course's grades page shows its visitor (staff the grader
//! report, a learner their own), one item with its course's set-up for the
//! edit form, and the CSV template of a course's grade import.
//!
//! Each is one read transaction deciding who sees what like the rest of
//! the gradebook; none writes.

use super::compute::View;
use super::export::{CSV_TYPE, Export, file_part, to_csv};
use super::report::{GraderReport, MAX_PER_PAGE, ReportQuery, UserReport, grader_report_in};
use super::{GradebookSetup, ItemView, item_views, load_book};
use crate::domain::*;
use crate::services::SiteServices;
use crate::services::auth::Principal;
use crate::services::auth::authorize_caller;
use crate::services::course_access::CourseAccess;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::ops::gradebook::load_grade_item;

/// The report of a course's grades page, by who asks.
#[derive(Clone, Debug)]
pub enum GradesPage {
    /// Staff: the grader report.
    Grader(GraderReport),
    /// A learner: their own grades.
    Learner(UserReport),
}

/// One item, for its edit form, with the set-up of its course (the
/// categories it may move to, whether the caller may change it).
#[derive(Clone, Debug)]
pub struct GradeItemSetup {
    pub item: ItemView,
    pub setup: GradebookSetup,
}

impl SiteServices {
    /// The grades page of `course` as `who` sees it: the grader report
    /// for its staff (as `query` asks), the user report for anyone else
    /// taking part.
    pub fn grades_page(
        &self,
        who: &Principal,
        course: CourseId,
        query: &ReportQuery,
    ) -> ServiceResult<GradesPage> {
        let staff = self.read(|t| {
            let access = CourseAccess::of(&self.site, t, who, course)?;
            if access.is_staff() {
                grader_report_in(t, &access, query, MAX_PER_PAGE).map(Some)
            } else {
                Ok(None)
            }
        })?;
        match staff {
            Some(report) => Ok(GradesPage::Grader(report)),
            None => self.user_report(who, course).map(GradesPage::Learner),
        }
    }

    /// Item `id` with its course's set-up (the course's staff, as the
    /// set-up itself: a learner of the course is not allowed).
    pub fn grade_item_setup(
        &self,
        who: &Principal,
        id: GradeItemId,
    ) -> ServiceResult<GradeItemSetup> {
        let course = self.read(|t| {
            authorize_caller(&self.site, t, who)?;
            Ok(load_grade_item(t, id, None)?.course)
        })?;
        let setup = self.gradebook_setup(who, course)?;
        let item = setup
            .items
            .iter()
            .find(|i| i.item.id == id)
            .cloned()
            .ok_or_else(|| ServiceError::not_found(format!("grade item #{id}")))?;
        Ok(GradeItemSetup { item, setup })
    }

    /// A CSV to fill in for the grade import of `course` (its staff): the
    /// `username` column and one column per item whose grades are entered
    /// (totals are computed), headed as the import reads them.
    pub fn grade_import_template(
        &self,
        who: &Principal,
        course: CourseId,
    ) -> ServiceResult<Export> {
        self.read(|t| {
            let access = CourseAccess::of(&self.site, t, who, course)?;
            access.require_staff()?;
            let book = load_book(t, course)?;
            let mut head = vec!["username".to_owned()];
            head.extend(
                item_views(&book, View::Staff)
                    .iter()
                    .filter(|v| !v.item.is_total())
                    .map(|v| v.item.name.clone()),
            );
            Ok(Export {
                filename: format!(
                    "grades-{}-template.csv",
                    file_part(&access.course.shortname)
                ),
                content_type: CSV_TYPE,
                bytes: to_csv(&[head]),
            })
        })
    }
}
