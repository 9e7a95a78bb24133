//! Writes to a site: inherent methods of [`SiteTables`], one file per
//! area, and `flush`, which ends every write transaction.
//!
//! Each write keeps its reverse indexes, unique-key indexes and member
//! counts in step with the primary rows; nothing else writes them. None
//! checks a domain rule or authorisation: services decide *whether*,
//! these functions only say *how*. None opens or commits a transaction.

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
mod methods;
mod segments;
mod users;

use super::SiteTables;
use crate::storage::Result;

impl SiteTables<'_> {
    /// Writes what the transaction kept aside: `changes`, the id counters,
    /// member counts, `user-courses` rows, then the audit and outbox
    /// chunks. `SiteStore::write` calls it before committing.
    pub(crate) fn flush(&mut self) -> Result<()> {
        self.flush_counters()?;
        self.flush_user_courses()?;
        self.flush_log()
    }
}
