//! The numbers a site keeps in `meta` and the member counts: id counters
//! read once per transaction, the `changes` number, and member-count
//! deltas, all written back by `flush`.
//!
//! A bulk change takes thousands of ids and adds thousands of members in
//! one transaction; writing `meta` or a count row once per row was most of
//! its cost. This module owns when those rows are read and written; it
//! never decides what is counted (the write functions do).

use redb::{ReadableTable, Table};

use super::SiteTables;
use crate::storage::Result;

/// The id counters in `meta`, each stored under `next.{kind}` as the next
/// id to hand out (absent: 1).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum Counter {
    User,
    Segment,
    Course,
    Method,
    Group,
    Audit,
    Event,
    MassEnrolment,
    Announcement,
    Mail,
    CourseSection,
    Activity,
    Grouping,
    Discussion,
    Post,
    Submission,
    GradeItem,
    ProfileField,
}

impl Counter {
    pub(super) const ALL: usize = 18;

    fn key(self) -> &'static str {
        match self {
            Counter::User => "next.user",
            Counter::Segment => "next.segment",
            Counter::Course => "next.course",
            Counter::Method => "next.method",
            Counter::Group => "next.group",
            Counter::Audit => "next.audit",
            Counter::Event => "next.event",
            Counter::MassEnrolment => "next.mass_enrolment",
            Counter::Announcement => "next.announcement",
            Counter::Mail => "next.mail",
            Counter::CourseSection => "next.course_section",
            Counter::Activity => "next.activity",
            Counter::Grouping => "next.grouping",
            Counter::Discussion => "next.discussion",
            Counter::Post => "next.post",
            Counter::Submission => "next.submission",
            Counter::GradeItem => "next.grade_item",
            Counter::ProfileField => "next.profile_field",
        }
    }
}

const COUNTERS: [Counter; Counter::ALL] = [
    Counter::User,
    Counter::Segment,
    Counter::Course,
    Counter::Method,
    Counter::Group,
    Counter::Audit,
    Counter::Event,
    Counter::MassEnrolment,
    Counter::Announcement,
    Counter::Mail,
    Counter::CourseSection,
    Counter::Activity,
    Counter::Grouping,
    Counter::Discussion,
    Counter::Post,
    Counter::Submission,
    Counter::GradeItem,
    Counter::ProfileField,
];

/// The `meta` key counting the transactions that changed the site: every
/// write that audits or emits anything (which every domain change does)
/// adds one. A fact a read snapshot showed still holds in a later write
/// transaction that finds the same number — what lets a plan's apply trust
/// the user statuses its plugin's queries were answered from.
pub(super) const CHANGES: &str = "changes";

impl SiteTables<'_> {
    /// The next id of `counter`: read from `meta` once per transaction,
    /// then counted here until `flush` writes it back.
    pub(super) fn next_id(&mut self, counter: Counter) -> Result<u64> {
        let slot = &mut self.counters[counter as usize];
        let next = match *slot {
            Some(n) => n,
            None => self.meta.get(counter.key())?.map_or(1, |g| g.value()),
        };
        *slot = Some(next + 1);
        Ok(next)
    }

    /// Writes `changes` (if this transaction audited or emitted), the
    /// counters it took ids from, and its member-count changes.
    pub(super) fn flush_counters(&mut self) -> Result<()> {
        if !self.unflushed_audit.is_empty() || self.events_flushed < self.pending.len() {
            let changes = self.meta.get(CHANGES)?.map_or(0, |g| g.value());
            self.meta.insert(CHANGES, changes + 1)?;
        }
        for counter in COUNTERS {
            if let Some(next) = self.counters[counter as usize].take() {
                self.meta.insert(counter.key(), next)?;
            }
        }
        for (id, delta) in std::mem::take(&mut self.segment_count_deltas) {
            add_count(&mut self.segment_member_counts, id, delta)?;
        }
        for (id, delta) in std::mem::take(&mut self.group_count_deltas) {
            add_count(&mut self.group_member_counts, id, delta)?;
        }
        Ok(())
    }
}

/// Adds `delta` to a count row; a count of 0 has no row.
fn add_count(table: &mut Table<'_, u64, u64>, key: u64, delta: i64) -> Result<()> {
    let current = table.get(key)?.map_or(0, |g| g.value());
    let next = current.saturating_add_signed(delta);
    if next == 0 {
        table.remove(key)?;
    } else {
        table.insert(key, next)?;
    }
    Ok(())
}
