//! Typed queries over a site, written once for reads and writes alike.
//!
//! Each area has a sub-trait with provided methods only (`UserRead`,
//! `SegmentRead`, …), implemented for every type that gives raw table
//! access ([`SiteTablesRead`]) and says what its transaction has not
//! flushed yet ([`Unflushed`]): the read snapshot (`SiteReadTables`,
//! nothing unflushed) and the write transaction (`SiteTables`). [`SiteRead`]
//! gathers them, so a function that reads takes `&impl SiteRead`; code
//! that calls queries on a concrete `SiteReadTables` or `SiteTables`
//! imports `storage::site::prelude::*`, which names every sub-trait.
//!
//! A query never writes, and answers as the transaction sees the site:
//! the tables with the transaction's unflushed audit entries, events and
//! `user-courses` edits applied.

mod announcements;
mod assignments;
mod content;
mod courses;
mod discussions;
mod enrolments;
mod groups;
mod log;
mod mail;
mod mass_enrolments;
mod meta;
mod methods;
mod segments;
mod users;

pub use self::announcements::AnnouncementRead;
pub use self::assignments::AssignmentRead;
pub(crate) use self::assignments::owner_key;
pub use self::content::ContentRead;
pub(crate) use self::content::PRIVACY_SETTING;
pub use self::courses::CourseRead;
pub(crate) use self::discussions::{
    ALL_PARTICIPANTS, DISCUSSION_EDIT_WINDOW_SETTING, subscription_key,
};
pub use self::discussions::{DiscussionRead, GroupScope};
pub use self::enrolments::EnrolmentRead;
pub use self::groups::GroupRead;
pub use self::log::LogRead;
pub(crate) use self::mail::SMTP_SETTING;
pub use self::mail::{MailQueueCounts, MailRead};
pub use self::mass_enrolments::MassEnrolmentRead;
pub use self::meta::MetaRead;
pub use self::methods::MethodRead;
pub use self::segments::SegmentRead;
pub use self::users::UserRead;
pub use super::tables::SiteTablesRead;
use super::tables::{SiteReadTables, SiteTables};
use super::user_courses::UserCourseEdit;
use crate::domain::{AuditEntry, EventEnvelope};
use crate::storage::Result;
use crate::storage::tables::{all_records, get_record};

/// What a transaction has done that `flush` has not written to the tables
/// yet. Queries apply it on top of the tables, so a read inside a write
/// sees the write's own changes. A read snapshot has nothing unflushed.
pub trait Unflushed {
    /// Audit entries of this transaction not yet flushed, oldest first;
    /// all newer than every row of the audit table.
    fn unflushed_audit(&self) -> Result<Vec<AuditEntry>> {
        Ok(Vec::new())
    }

    /// The id of the newest of them.
    fn last_unflushed_audit_id(&self) -> Option<u64> {
        None
    }

    /// Outbox events of this transaction not yet flushed, oldest first;
    /// all newer than every row of the outbox table.
    fn unflushed_events(&self) -> &[EventEnvelope] {
        &[]
    }

    /// This transaction's unflushed changes to `user`'s rows of
    /// `user_courses`, by course.
    fn user_course_edits(&self, _user: u64) -> Vec<(u64, &UserCourseEdit)> {
        Vec::new()
    }
}

impl Unflushed for SiteReadTables {}

impl Unflushed for SiteTables<'_> {
    fn unflushed_audit(&self) -> Result<Vec<AuditEntry>> {
        self.unflushed_audit.entries()
    }

    fn last_unflushed_audit_id(&self) -> Option<u64> {
        self.unflushed_audit.last_id()
    }

    fn unflushed_events(&self) -> &[EventEnvelope] {
        &self.pending[self.events_flushed..]
    }

    fn user_course_edits(&self, user: u64) -> Vec<(u64, &UserCourseEdit)> {
        self.user_course_edits_of(user)
    }
}

/// Every query over a site: the sub-traits of all areas together.
pub trait SiteRead:
    MetaRead
    + UserRead
    + SegmentRead
    + CourseRead
    + MethodRead
    + EnrolmentRead
    + GroupRead
    + LogRead
    + AnnouncementRead
    + AssignmentRead
    + MassEnrolmentRead
    + MailRead
    + ContentRead
    + DiscussionRead
{
}

impl<T: SiteTablesRead + Unflushed> SiteRead for T {}

/// `(a, 0) ..= (a, u64::MAX)`: every pair key starting with `a`.
fn pair_prefix(a: u64) -> std::ops::RangeInclusive<(u64, u64)> {
    (a, 0)..=(a, u64::MAX)
}

fn pair_after(a: u64, after: Option<u64>) -> std::ops::RangeInclusive<(u64, u64)> {
    let start = after.map_or(0, |b| b.saturating_add(1));
    (a, start)..=(a, u64::MAX)
}
