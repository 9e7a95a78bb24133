//! The per-group analysis: for each group the caller sees (and for all of
//! them together), for each item and total, the statistics of `stats`.
//! A learner in several groups counts in each.
//!
//! One scan of the course's grade index feeds every group: the learners'
//! rows are computed once (staff view: hidden items count, since this is
//! the teachers' analysis), then each value is pushed into the buckets of
//! the learner's groups.

use std::collections::HashMap;

use serde::Serialize;

use super::compute::View;
use super::stats::{Summary, summarise};
use super::{ItemView, course_learners, item_views, load_book, visible_groups};
use crate::domain::*;
use crate::services::SiteServices;
use crate::services::auth::Principal;
use crate::services::course_access::CourseAccess;
use crate::services::error::ServiceResult;
use crate::storage::site::prelude::*;

/// A set of learners the analysis compares.
#[derive(Clone, Debug, Serialize)]
pub struct Cohort {
    /// `None`: every learner the caller sees.
    pub group: Option<CourseGroupId>,
    pub name: String,
    pub members: u64,
}

/// One item's statistics per cohort.
#[derive(Clone, Debug, Serialize)]
pub struct ItemStatistics {
    pub item: ItemView,
    /// One per cohort, in the cohorts' order.
    pub cohorts: Vec<Summary>,
}

/// The analysis of a course.
#[derive(Clone, Debug, Serialize)]
pub struct GroupStatistics {
    pub course: Course,
    /// "All participants" (or "All my groups" for a limited teacher)
    /// first, then each group by name.
    pub cohorts: Vec<Cohort>,
    /// Every item and total, in gradebook order.
    pub items: Vec<ItemStatistics>,
    /// Whether the caller sees only some groups.
    pub limited: bool,
}

impl SiteServices {
    /// The per-group statistics of `course` (its staff).
    pub fn group_statistics(
        &self,
        who: &Principal,
        course: CourseId,
    ) -> ServiceResult<GroupStatistics> {
        self.read(|t| {
            let access = CourseAccess::of(&self.site, t, who, course)?;
            access.require_staff()?;
            group_statistics_in(t, &access)
        })
    }
}

pub(crate) fn group_statistics_in(
    t: &impl SiteRead,
    access: &CourseAccess,
) -> ServiceResult<GroupStatistics> {
    let course = access.course.id;
    let filter = access.group_filter(access.group_mode(None));
    let limited = filter.is_some();
    let book = load_book(t, course)?;
    let groups = visible_groups(t, access)?;
    let learners = course_learners(t, course, filter)?;
    // Each learner's cohorts: 0 is everyone, then 1 + the group's index.
    let mut of_learner: HashMap<UserId, Vec<u16>> =
        learners.iter().map(|&u| (u, vec![0])).collect();
    let mut members = vec![learners.len() as u64; 1];
    for (gi, g) in groups.iter().enumerate() {
        let mut n = 0;
        for u in t.group_member_ids(g.id)? {
            if let Some(c) = of_learner.get_mut(&u) {
                c.push(gi as u16 + 1);
                n += 1;
            }
        }
        members.push(n);
    }
    let items = book.items.len();
    let cohorts = groups.len() + 1;
    // buckets[item * cohorts + cohort]: the values graded.
    let mut buckets: Vec<Vec<f64>> = vec![Vec::new(); items * cohorts];
    let mut row = book.empty_row();
    let mut cells: Vec<(GradeItemId, Option<f64>)> = Vec::with_capacity(items);
    let mut current: Option<UserId> = None;
    let mut flush = |user: Option<UserId>, cells: &mut Vec<(GradeItemId, Option<f64>)>| {
        if let Some(u) = user
            && let Some(cs) = of_learner.remove(&u)
        {
            book.compute_into(cells, View::Staff, &mut row);
            for (i, v) in row.values.iter().enumerate() {
                if let Some(v) = *v {
                    for &c in &cs {
                        buckets[i * cohorts + c as usize].push(v);
                    }
                }
            }
        }
        cells.clear();
    };
    t.course_grade_cells(course, |user, item, value| {
        if current != Some(user) {
            flush(current, &mut cells);
            current = Some(user);
        }
        cells.push((item, value));
    })?;
    flush(current, &mut cells);
    // Learners without any grade still count as members: their totals are
    // missing, which the member counts already say.
    let mut out_items = Vec::with_capacity(items);
    let views = item_views(&book, View::Staff);
    for view in views {
        let Some(i) = book.position(view.item.id) else {
            continue;
        };
        let pass = view.item.pass_grade;
        let summaries = (0..cohorts)
            .map(|c| summarise(&mut buckets[i * cohorts + c], members[c], pass))
            .collect();
        out_items.push(ItemStatistics {
            item: view,
            cohorts: summaries,
        });
    }
    let mut out_cohorts = vec![Cohort {
        group: None,
        name: if limited {
            "All my groups"
        } else {
            "All participants"
        }
        .to_owned(),
        members: members[0],
    }];
    for (gi, g) in groups.iter().enumerate() {
        out_cohorts.push(Cohort {
            group: Some(g.id),
            name: g.name.clone(),
            members: members[gi + 1],
        });
    }
    Ok(GroupStatistics {
        course: access.course.clone(),
        cohorts: out_cohorts,
        items: out_items,
        limited,
    })
}
