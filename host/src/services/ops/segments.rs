//! Segments inside a transaction: looking one up, creating one and adding
//! a member, shared by `segments` and the CSV import so both write the same
//! rows, audit entries and events.
//!
//! Never authorises (callers do, with their principal) and never opens a
//! transaction: every write takes the caller's `SiteTables`.

use crate::domain::*;
use crate::services::error::{ServiceError, ServiceResult};
use crate::storage::site::{SiteTables, prelude::*};

#[derive(Clone, Debug)]
pub struct NewSegment {
    pub name: String,
    pub idnumber: Option<String>,
    pub description: String,
    pub visible: bool,
    /// A plugin id that alone may change the members.
    pub managed_by: Option<String>,
}

impl Default for NewSegment {
    fn default() -> Self {
        Self {
            name: String::new(),
            idnumber: None,
            description: String::new(),
            visible: true,
            managed_by: None,
        }
    }
}

pub(crate) fn load_segment(t: &impl SiteRead, id: SegmentId) -> ServiceResult<Segment> {
    t.segment(id)?
        .ok_or_else(|| ServiceError::not_found(format!("segment #{id}")))
}

/// Refuses an idnumber another segment has.
pub(crate) fn check_idnumber_free(
    t: &SiteTables<'_>,
    idnumber: &Option<String>,
    me: Option<SegmentId>,
) -> ServiceResult<()> {
    if let Some(idn) = idnumber
        && let Some(other) = t.segment_id_by_idnumber(idn)?
        && Some(other) != me
    {
        return Err(ServiceError::duplicate(
            "idnumber",
            format!("segment #{other} already has the idnumber {idn:?}"),
        ));
    }
    Ok(())
}

/// Creates a segment from fields already checked by `validate` (the
/// idnumber is checked here, against the site). Shared by
/// `SiteServices::create_segment` and the CSV import, so both write the
/// same rows and audit entry.
pub(crate) fn create_segment_in(
    t: &mut SiteTables<'_>,
    actor: Actor,
    new: NewSegment,
    reason: &str,
) -> ServiceResult<Segment> {
    check_idnumber_free(t, &new.idnumber, None)?;
    let segment = Segment {
        id: t.new_segment_id()?,
        name: new.name,
        idnumber: new.idnumber,
        description: new.description,
        visible: new.visible,
        managed_by: new.managed_by,
        created_at: t.now,
    };
    t.put_segment(&segment)?;
    t.audit_log(
        actor,
        "segment.created",
        format!("segment #{} {:?}", segment.id, segment.name),
        reason.to_owned(),
    )?;
    Ok(segment)
}

/// Adds an existing user to segment `id`, audited and evented; `false`
/// when they already were a member. The caller has checked that the user
/// exists and that the segment's members may be changed by hand.
pub(crate) fn add_segment_member_in(
    t: &mut SiteTables<'_>,
    actor: Actor,
    id: SegmentId,
    user: UserId,
    reason: &str,
) -> ServiceResult<bool> {
    if !t.insert_segment_member(id, user)? {
        return Ok(false);
    }
    t.audit_log(
        actor,
        "segment.member_added",
        AuditTarget::SegmentMember { user, segment: id },
        reason,
    )?;
    t.emit(SiteEvent::SegmentMemberAdded { segment: id, user })?;
    Ok(true)
}

/// Takes a user out of segment `id`, audited and evented; `false` when
/// they were not a member. The caller has checked that the segment's
/// members may be changed by this actor.
pub(crate) fn remove_segment_member_in(
    t: &mut SiteTables<'_>,
    actor: Actor,
    id: SegmentId,
    user: UserId,
    reason: &str,
) -> ServiceResult<bool> {
    if !t.remove_segment_member(id, user)? {
        return Ok(false);
    }
    t.audit_log(
        actor,
        "segment.member_removed",
        AuditTarget::SegmentMember { user, segment: id },
        reason,
    )?;
    t.emit(SiteEvent::SegmentMemberRemoved { segment: id, user })?;
    Ok(true)
}
