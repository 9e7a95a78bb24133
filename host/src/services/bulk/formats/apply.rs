//! A checked file written: every planned change through the same `ops`
//! functions the single-change services use.

use std::collections::HashMap;

use super::super::{ImportCounts, ImportKind, ImportProgress, tick};
use super::{GroupRef, Plan, SegmentRef, UserRef};
use crate::domain::*;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::ops::enrolments::enrol_existing_user;
use crate::services::ops::groups::{add_group_member_in, insert_group_in};
use crate::services::ops::profile::ProfileRules;
use crate::services::ops::segments::{add_segment_member_in, create_segment_in};
use crate::services::ops::users::{ProfileCheck, insert_user};
use crate::storage::site::SiteTables;

/// Writes a checked plan in the caller's transaction, through the same
/// functions the single-change services use, and counts what changed.
/// `hashes` holds the password hash of each new user's row that has one.
pub fn apply(
    t: &mut SiteTables<'_>,
    actor: Actor,
    kind: ImportKind,
    plan: Plan,
    hashes: &HashMap<u64, String>,
    progress: Option<&ImportProgress>,
) -> ServiceResult<ImportCounts> {
    let reason_tail = format!("(CSV import of {kind})");
    let mut done = ImportCounts {
        unchanged: plan.counts.unchanged,
        ..ImportCounts::default()
    };
    // Writes so far, across the loops below, for the progress bar.
    let mut written = 0usize;
    let mut step = || {
        tick(progress, written);
        written += 1;
    };
    let created_reason = format!("segment created {reason_tail}");
    let mut new_segments = Vec::with_capacity(plan.segments.len());
    for new in plan.segments {
        step();
        new_segments.push(create_segment_in(t, actor, new, &created_reason)?);
        done.segments_created += 1;
    }
    let group_reason = format!("group created {reason_tail}");
    let mut new_groups = Vec::with_capacity(plan.new_groups.len());
    for new in plan.new_groups {
        step();
        let group = CourseGroup {
            id: t.new_group_id()?,
            course: new.course,
            name: new.name,
            idnumber: None,
            description: String::new(),
            created_at: t.now,
        };
        insert_group_in(t, actor, &group, &group_reason)?;
        new_groups.push(group);
        done.groups_created += 1;
    }
    let missing =
        |what: &str, i: usize| ServiceError::Internal(format!("import plan names new {what} {i}"));
    let user_reason = format!("user created {reason_tail}");
    let mut new_ids = Vec::with_capacity(plan.users.len());
    let rules = ProfileRules::load(t)?;
    for planned in plan.users {
        step();
        let mut user = planned.user;
        if planned.password.is_some() {
            // The hashes were made from a read of the site just before;
            // a new user without one means the site changed in between.
            let hash = hashes.get(&planned.line).ok_or_else(|| {
                ServiceError::Conflict(
                    "the site changed while the file was being checked; import it again".into(),
                )
            })?;
            user.password_hash = Some(hash.clone());
        }
        new_ids.push(insert_user(t, actor, user, &user_reason, &rules, ProfileCheck::AsGiven)?.id);
        done.users_created += 1;
    }
    let resolve = |u: UserRef| -> ServiceResult<UserId> {
        match u {
            UserRef::Existing(id) => Ok(id),
            UserRef::New(i) => new_ids
                .get(i)
                .copied()
                .ok_or_else(|| ServiceError::Internal(format!("import plan names new user {i}"))),
        }
    };
    for (segment, user) in plan.segment_members {
        step();
        let (segment, name) = match segment {
            SegmentRef::Existing(id) => {
                (id, plan.segment_names.get(&id).map_or("", String::as_str))
            }
            SegmentRef::New(i) => {
                let s = new_segments.get(i).ok_or_else(|| missing("segment", i))?;
                (s.id, s.name.as_str())
            }
        };
        let reason = format!("added to segment {name:?} {reason_tail}");
        if add_segment_member_in(t, actor, segment, resolve(user)?, &reason)? {
            done.segment_members_added += 1;
        } else {
            done.unchanged += 1;
        }
    }
    for (method, user, role) in plan.enrolments {
        step();
        let m = plan
            .methods
            .get(&method)
            .ok_or_else(|| ServiceError::Internal(format!("import plan lacks method #{method}")))?;
        let reason = format!("enrolled as {} {reason_tail}", role.label());
        let user = resolve(user)?;
        if enrol_existing_user(t, actor, m, user, role, Some(reason.as_str()))?.1 {
            done.enrolments_changed += 1;
        } else {
            done.unchanged += 1;
        }
    }
    for (group, user) in plan.group_members {
        step();
        let g = match group {
            GroupRef::Existing(id) => plan
                .groups
                .get(&id)
                .ok_or_else(|| ServiceError::Internal(format!("import plan lacks group #{id}")))?,
            GroupRef::New(i) => new_groups.get(i).ok_or_else(|| missing("group", i))?,
        };
        let reason = format!("added to group {:?} {reason_tail}", g.name);
        if add_group_member_in(
            t,
            actor,
            MembershipOwner::Manual,
            g,
            resolve(user)?,
            &reason,
        )? {
            done.group_members_added += 1;
        } else {
            done.unchanged += 1;
        }
    }
    Ok(done)
}
