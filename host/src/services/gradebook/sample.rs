//! A gradebook to test with, in one line: `fx.gradebook_sample()` on the
//! fixture's course (with `with_teams()` for the group tests).

use super::{GradeItemDraft, NewItemKind};
use crate::domain::*;
use crate::services::gradebook::entry::GradeChange;
use crate::services::testing::TestSite;

/// The sample's items: a category "Practicals" (mean) holding "Practical
/// check" (max 50, pass 25), a top-level "Quiz" (max 10, pass 5), and the
/// course total. Grades: learner 1 quiz 8 and check 40, learner 2 quiz 4,
/// learner 3 check 10, learner 4 none.
pub struct GradebookSample {
    pub category: GradeItemId,
    pub check: GradeItemId,
    pub quiz: GradeItemId,
    pub total: GradeItemId,
}

impl TestSite {
    pub fn gradebook_sample(&self) -> GradebookSample {
        let add = |draft: GradeItemDraft| {
            self.site
                .create_grade_item(&self.admin, self.course, draft)
                .expect("grade item")
                .id
        };
        let category = add(GradeItemDraft {
            kind: NewItemKind::Category,
            name: "Practicals".into(),
            ..Default::default()
        });
        let check = add(GradeItemDraft {
            name: "Practical check".into(),
            max_grade: 50.0,
            pass_grade: Some(25.0),
            parent: Some(category),
            ..Default::default()
        });
        let quiz = add(GradeItemDraft {
            name: "Quiz".into(),
            max_grade: 10.0,
            pass_grade: Some(5.0),
            ..Default::default()
        });
        let total = self
            .site
            .gradebook_setup(&self.admin, self.course)
            .expect("setup")
            .items
            .iter()
            .find(|i| i.item.source == GradeSource::Course)
            .expect("course total")
            .item
            .id;
        let l = &self.learners;
        let grade = |user: UserId, item: GradeItemId, v: f64| GradeChange {
            user,
            item,
            value: Some(v),
        };
        self.site
            .set_grades(
                &self.admin,
                self.course,
                &[
                    grade(l[0], quiz, 8.0),
                    grade(l[0], check, 40.0),
                    grade(l[1], quiz, 4.0),
                    grade(l[2], check, 10.0),
                ],
            )
            .expect("grades");
        GradebookSample {
            category,
            check,
            quiz,
            total,
        }
    }
}
