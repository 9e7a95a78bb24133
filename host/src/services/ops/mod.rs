//! The writes and lookups that run inside a caller's transaction, one file
//! per entity: what every public service module, plans and the CSV import
//! share, so none of them reaches sideways into another.
//!
//! Each function takes the transaction (`&mut SiteTables`) or a snapshot
//! (`&impl SiteRead`) and the `Actor` to audit, never a service handle and
//! never a `Principal`: authorisation is the caller's, done before. A write
//! records its audit entries and events in the same transaction, as every
//! write of the services does.
//!
//! Architecture invariant: `ops` depends on nothing in `services` but
//! `error`, `validate` and `password`, and its files depend on each other
//! in one direction only: `users`, `courses`, `segments`, `gradebook` and
//! `assignments` stand alone, `content` uses the kinds' files (`assignments`) for its
//! deletion cascade, `groups` and `enrolments` use `users`, `methods` uses `enrolments` and
//! `groups`.

pub(crate) mod assignments;
pub(crate) mod content;
pub(crate) mod courses;
pub(crate) mod discussions;
pub(crate) mod enrolments;
pub(crate) mod gradebook;
pub(crate) mod groups;
pub(crate) mod methods;
pub(crate) mod profile;
pub(crate) mod segments;
pub(crate) mod users;
