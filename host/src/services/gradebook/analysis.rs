//! The per-group analysis: for each group the caller sees (and for all of
//! them together), for each item and total, the statistics of `stats`.
//! A learner in several groups counts in each.
//!
//! One scan of the course's grade index (one row per learner) feeds every
//! group: the learners' rows are computed once (staff view: hidden items count, since this is
//! the teachers' analysis), then each value is pushed into the buckets of
//! the learner's groups.

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
    // The lookups and the merge with the scan below rely on this order.
    debug_assert!(learners.is_sorted(), "course_learners is in id order");
    // Each learner's cohorts, by the learner's place in `learners` (sorted
    // by id, the order the scan visits them in): 0 is everyone, then 1 +
    // the group's index.
    let mut cohorts_of: Vec<Vec<u16>> = vec![vec![0]; learners.len()];
    let mut members = vec![learners.len() as u64; 1];
    for (gi, g) in groups.iter().enumerate() {
        let mut n = 0;
        for u in t.group_member_ids(g.id)? {
            if let Ok(at) = learners.binary_search(&u) {
                cohorts_of[at].push(gi as u16 + 1);
                n += 1;
            }
        }
        members.push(n);
    }
    let items = book.items.len();
    let cohorts = groups.len() + 1;
    // buckets[item * cohorts + cohort]: the values graded, each sized for
    // every member of its cohort so the scan never regrows one.
    let mut buckets: Vec<Vec<f64>> = (0..items * cohorts)
        .map(|k| Vec::with_capacity(members[k % cohorts] as usize))
        .collect();
    let mut row = book.empty_row();
    let mut next = 0;
    t.course_grade_rows(course, |user, cells| {
        // A merge of two sorted lists: grades of users who are not (or no
        // longer) learners the caller sees are passed over.
        while next < learners.len() && learners[next] < user {
            next += 1;
        }
        if learners.get(next) != Some(&user) {
            return;
        }
        book.compute_into(cells, View::Staff, &mut row);
        for (i, v) in row.values.iter().enumerate() {
            if let Some(v) = *v {
                for &c in &cohorts_of[next] {
                    buckets[i * cohorts + c as usize].push(v);
                }
            }
        }
    })?;
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
