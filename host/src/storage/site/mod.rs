//! One site's redb file: its tables and typed access to them.
//!
//! In dependency order, each file one concern:
//! - `tables.rs`: the table list, each line with its key/value layout, and
//!   the two handles it gives — [`SiteTables`] (a write transaction: every
//!   table plus what the transaction keeps aside until `flush`) and
//!   [`SiteReadTables`] (a read snapshot that opens tables lazily);
//! - `audit_codec.rs`, `user_courses.rs`, `counters.rs`: what the project
//!   encodes or buffers by hand (the audit entry encoding, the
//!   `user-courses` rows and their per-transaction edits, the id counters,
//!   the `changes` number and member counts; see `../FORMAT.md`);
//! - `read/`: the queries, one sub-trait per area, gathered by
//!   [`SiteRead`]; they serve reads and writes alike;
//! - `write/`: the writes, inherent methods of [`SiteTables`] per area, and
//!   `flush`.
//!
//! Relations read from both ends have reverse-index tables that the write
//! functions keep in step; callers never touch an index table, a key's
//! bytes or a table handle. This module never decides whether a change is
//! allowed, and never opens or commits a transaction (`pool::SiteStore`
//! does).

mod audit_codec;
mod counters;
mod grade_row;
mod id_list;
mod read;
mod tables;
mod user_courses;
mod write;

pub use self::audit_codec::AuditText;
pub use self::read::{GroupScope, MailQueueCounts, SiteRead, SiteTablesRead, Unflushed};
#[cfg(test)]
pub(crate) use self::tables::dump_all_tables;
pub use self::tables::{SiteReadTables, SiteTables, defs};
pub use self::user_courses::UserCourseEdit;
#[cfg(test)]
pub(crate) use crate::storage::tables::TableDump;

/// Every query trait, for code that calls queries on a concrete
/// [`SiteReadTables`] or [`SiteTables`] (a generic `impl SiteRead` sees
/// them without it): `use crate::storage::site::prelude::*;`.
pub mod prelude {
    pub use super::SiteRead;
    pub use super::read::{
        AnnouncementRead as _, AssignmentRead as _, ContentRead as _, CourseRead as _,
        DiscussionRead as _, EnrolmentRead as _, GroupRead as _, LogRead as _, MailRead as _,
        MassEnrolmentRead as _, MetaRead as _, MethodRead as _, SegmentRead as _, UserRead as _,
    };
}

/// At most this many audit entries or outbox events share one row: large
/// enough that a bulk change writes a few rows instead of one per entry,
/// small enough that reading one entry decodes little besides it.
pub(crate) const CHUNK: usize = 256;

#[cfg(test)]
pub(crate) mod tests {
    use crate::domain::SiteId;
    use crate::storage::pool::SiteStore;

    pub(crate) const SITE: SiteId = SiteId(1);

    /// An empty site file of today's schema in a temporary folder.
    pub(crate) fn store() -> (tempfile::TempDir, SiteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SiteStore::open(&dir.path().join("s.redb"), SITE).unwrap();
        (dir, store)
    }
}
