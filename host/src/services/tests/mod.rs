//! Service-level tests on a temporary redb: PRODUCT §2 as an executable
//! specification, one file per area.
//!
//! Every scenario starts from one fixture call (`TestSite::new()` or
//! `TestSite::two_sites()`) and compares whole states: a refused call is
//! checked against a byte-for-byte snapshot of the site file, a cascade
//! against the data the site had before the deleted thing existed, and a
//! change against the complete list of audit entries and events it wrote.

mod announcements;
mod assignments;
mod audit_events;
mod authz;
mod bulk;
mod contract_v0_1;
mod contract_versions;
mod courses;
mod dry_runs;
mod enrolments;
mod execution;
mod first_runs;
mod group_deleted;
mod groups;
mod mass_enrolments;
mod no_op_updates;
mod plugins;
mod profile_fields;
mod roles;
mod segment_rules;
mod segment_sync;
mod segments;
mod sign_in;
mod sites;
mod storage;
mod suspended_accounts;
mod teaching;
mod tidy;
mod users;

use std::fmt::Debug;

use super::error::{ServiceError, ServiceResult};
use super::testing::TestSite;
use crate::domain::{CourseGroupId, MembershipOwner, UserId};

/// The variant and the message of an error, so a test compares both at once.
pub(crate) fn refusal(err: &ServiceError) -> (&'static str, String) {
    let kind = match err {
        ServiceError::Forbidden(_) => "Forbidden",
        ServiceError::NotFound(_) => "NotFound",
        ServiceError::Invalid { .. } => "Invalid",
        ServiceError::Duplicate { .. } => "Duplicate",
        ServiceError::NotEnrolled { .. } => "NotEnrolled",
        ServiceError::Conflict(_) => "Conflict",
        ServiceError::ConfigRejected { .. } => "ConfigRejected",
        ServiceError::GradesRejected(_) => "GradesRejected",
        ServiceError::Refused { .. } => "Refused",
        ServiceError::PluginFailed { .. } => "PluginFailed",
        ServiceError::Internal(_) => "Internal",
        ServiceError::Storage(_) => "Storage",
    };
    (kind, err.to_string())
}

/// The refusal of a call that must fail.
#[track_caller]
pub(crate) fn refused<T: Debug>(result: ServiceResult<T>) -> (&'static str, String) {
    match result {
        Ok(v) => panic!("expected the call to be refused, it returned {v:?}"),
        Err(e) => refusal(&e),
    }
}

/// `(kind, message)` in one call: `says("Invalid", "name: is required")`.
pub(crate) fn says(kind: &'static str, message: &str) -> (&'static str, String) {
    (kind, message.to_owned())
}

/// `(user, owner)` of every member of a group, in user order.
pub(crate) fn owners(fx: &TestSite, group: CourseGroupId) -> Vec<(UserId, MembershipOwner)> {
    let page = fx
        .site
        .group_members(&fx.admin, group, None, 1000)
        .expect("members");
    page.items
        .iter()
        .map(|m| (m.user.id, m.membership.owner))
        .collect()
}
