//! User segment members to group: puts the course's participants who are
//! members of a user segment into a group of the course, as Moodle's
//! "Cohort group sync". It enrols nobody.
//!
//! Config (JSON; unknown keys are refused):
//!
//! | key | meaning |
//! |---|---|
//! | `segment` | the segment (required; it must exist) |
//! | `group` | the id of a group of the course (required) |
//!
//! Behaviour:
//!
//! - Every user enrolled in the course by any method — whatever the
//!   enrolment's status — who is a member of the segment is added to the
//!   group, unless they already have a membership of it (added by hand or
//!   by any method: it is left as it is). The method owns the
//!   memberships it adds, and removes only those.
//! - **Live**: a user enrolled, or a participant who joins the segment,
//!   is added; a member who leaves the segment, or a user with no
//!   enrolment left in the course, loses the membership the method
//!   added.
//! - **Added, enabled, reconfigured or disabled**: the plan asks the host
//!   for a reconcile.
//! - **The segment is deleted**: the method is disabled, and the
//!   reconcile that follows removes its memberships.
//! - **Reconcile** (stateless, resumable, in bounded steps: a page of at
//!   most 1,000 users of each list and a handful of host queries): while
//!   enabled with its segment, (1) the segment's members, the course's
//!   enrolments and the group's members are walked together by user id:
//!   enrolled members missing from the group are added, and the
//!   method's memberships of users who left the segment or the course
//!   are removed; (2) the method's memberships of any other group are
//!   removed (its group changed). Disabled, or with its segment gone (then
//!   it also disables itself, as the deletion's event does), it removes
//!   every membership it owns, group by group. Asked again once its plans
//!   are applied, a reconcile returns empty plans.
//!
//! Events arrive after the fact, so each is checked against the site as
//! it is now: a user who joined and left the segment before the event
//! was handled is not added.

use std::collections::BTreeSet;

use charon_sdk::*;
use serde::{Deserialize, Serialize};

/// Most users a reconcile step asks the host for, per query: the host's
/// own page limit.
pub const PAGE: u32 = 1000;

/// Most group pages one reconcile step reads while removing the
/// method's memberships group by group: enough to get through a
/// course's groups quickly, few enough to keep a step short.
const GROUP_CALLS_PER_STEP: usize = 8;

/// A method's settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// The segment whose enrolled members join the group.
    pub segment: SegmentId,
    /// The group of the course they join.
    pub group: GroupId,
}

/// The segment-members-to-group method.
pub struct SegmentGroup;

impl Plugin for SegmentGroup {
    type Config = Config;

    fn manifest() -> Manifest {
        Manifest::new(
            "segment-group",
            "User segment members to group",
            env!("CARGO_PKG_VERSION"),
        )
        .describe("Puts the course's participants who are members of a user segment into a group. Enrols nobody. Suspended accounts are grouped like any other: suspension stops sign-in and changes no enrolment or group.")
        .field(
            ConfigField::new("segment", "Segment", FieldKind::Segment)
                .required()
                .help("Its members who are enrolled in the course join the group."),
        )
        .field(
            ConfigField::new("group", "Group", FieldKind::Group)
                .required()
                .help("A group of the course. Memberships added by hand are left alone."),
        )
        .handles(&[
            EventKind::UserEnrolled,
            EventKind::UserUnenrolled,
            EventKind::SegmentMemberAdded,
            EventKind::SegmentMemberRemoved,
            EventKind::SegmentDeleted,
            EventKind::MethodAdded,
            EventKind::MethodEnabled,
            EventKind::MethodDisabled,
            EventKind::MethodUpdated,
        ])
        .needs(&[
            Capability::ReadSegments,
            Capability::ReadEnrolments,
            Capability::ReadGroups,
        ])
    }

    fn validate(
        _course: CourseId,
        config: &Config,
        host: &dyn Host,
    ) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        match host.segment_exists(config.segment) {
            Ok(Some(_)) => {}
            Ok(None) => errors.push(FieldError::new(
                "segment",
                format!("segment #{} does not exist", config.segment),
            )),
            Err(e) => errors.push(FieldError::new(
                "segment",
                format!("cannot read the segment: {e}"),
            )),
        }
        match host.course_groups() {
            Ok(groups) if groups.iter().any(|g| g.id == config.group) => {}
            Ok(_) => errors.push(FieldError::new(
                "group",
                format!("group #{} is not a group of this course", config.group),
            )),
            Err(e) => errors.push(FieldError::new(
                "group",
                format!("cannot read the course's groups: {e}"),
            )),
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    fn handle_event(ctx: &Context<Config>, event: Event, host: &dyn Host) -> Result<Plan, Refusal> {
        let segment = ctx.config.segment;
        let mut plan = Plan::new();
        match event {
            Event::MethodAdded => {
                plan.reconcile("the segment-to-group sync was added");
            }
            Event::MethodEnabled => {
                plan.reconcile("the segment-to-group sync was enabled");
            }
            Event::MethodUpdated => {
                plan.reconcile("the segment-to-group sync's settings changed");
            }
            Event::MethodDisabled => {
                plan.reconcile("the segment-to-group sync was disabled");
            }
            Event::SegmentDeleted(s) if s == segment => {
                // The segment and its name are gone by now.
                let reason = format!("its segment #{segment} was deleted");
                if ctx.enabled {
                    plan.disable_method(reason.clone());
                }
                plan.reconcile(reason);
            }
            // The host sends these only to enabled methods; a disabled
            // one has removed its memberships and adds none.
            _ if !ctx.enabled => {}
            Event::UserEnrolled(e) => return joined(ctx, e.user, host),
            Event::SegmentMemberAdded(e) if e.segment == segment => {
                return joined(ctx, e.user, host);
            }
            Event::UserUnenrolled(e) => return unenrolled(ctx, e.user, host),
            Event::SegmentMemberRemoved(e) if e.segment == segment => {
                return left(ctx, e.user, host);
            }
            _ => {}
        }
        Ok(plan)
    }

    fn reconcile(
        ctx: &Context<Config>,
        cursor: Option<String>,
        host: &dyn Host,
    ) -> Result<ReconcileStep, Refusal> {
        let cursor = Cursor::parse(cursor.as_deref())?;
        let segment = if ctx.enabled {
            host.segment_exists(ctx.config.segment)?
        } else {
            None
        };
        let Some(name) = segment else {
            return cleanup_step(ctx, cursor, host);
        };
        match cursor {
            None => sync_step(ctx, &name, None, host),
            Some(Cursor::Sync(after)) => sync_step(ctx, &name, after, host),
            Some(Cursor::Others(from, after)) => others_step(ctx, &name, from, after, host),
            // Enabled again in the middle: start over.
            Some(Cursor::Cleanup(..)) => sync_step(ctx, &name, None, host),
        }
    }
}

/// The user is enrolled or joined the segment: adds them to the group if
/// they are now both enrolled and a member, and not in it yet.
fn joined(ctx: &Context<Config>, user: UserId, host: &dyn Host) -> Result<Plan, Refusal> {
    let config = &ctx.config;
    let mut plan = Plan::new();
    if !host.is_segment_member(config.segment, user)? || host.user_enrolments(user)?.is_empty() {
        return Ok(plan);
    }
    match host.group_membership(config.group, user) {
        Ok(Some(_)) => {}
        Ok(None) => {
            let Some(name) = host.segment_exists(config.segment)? else {
                return Ok(plan);
            };
            plan.add_to_group(
                user,
                GroupRef::Existing(config.group),
                format!("member of segment {name}"),
            );
        }
        Err(HostError::OutOfScope(_)) => group_gone(config.group, host),
        Err(e) => return Err(e.into()),
    }
    Ok(plan)
}

/// The user was unenrolled by some method: with no enrolment left in the
/// course, the membership the method added goes.
fn unenrolled(ctx: &Context<Config>, user: UserId, host: &dyn Host) -> Result<Plan, Refusal> {
    if !host.user_enrolments(user)?.is_empty() {
        return Ok(Plan::new());
    }
    leave(ctx, user, "no longer enrolled in the course", host)
}

/// The user left the segment: the membership the method added goes,
/// unless they are back in it since.
fn left(ctx: &Context<Config>, user: UserId, host: &dyn Host) -> Result<Plan, Refusal> {
    let segment = ctx.config.segment;
    if host.is_segment_member(segment, user)? {
        return Ok(Plan::new());
    }
    let Some(name) = host.segment_exists(segment)? else {
        // Deleted: its own event cleans up.
        return Ok(Plan::new());
    };
    leave(ctx, user, &format!("left segment {name}"), host)
}

/// Removes the user's membership of the group if the method added it.
fn leave(
    ctx: &Context<Config>,
    user: UserId,
    reason: &str,
    host: &dyn Host,
) -> Result<Plan, Refusal> {
    let mut plan = Plan::new();
    match host.group_membership(ctx.config.group, user) {
        Ok(Some(m)) if m.owner == MembershipOwner::Method(ctx.method) => {
            plan.remove_from_group(user, ctx.config.group, reason);
        }
        Ok(_) => {}
        // Deleted with its memberships: nothing left to remove.
        Err(HostError::OutOfScope(_)) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(plan)
}

/// The configured group was deleted since the config was saved: nobody
/// joins it until an admin chooses another.
fn group_gone(id: GroupId, host: &dyn Host) {
    host.log(
        LogLevel::Warn,
        &format!("group #{id} is no longer a group of the course; nobody is added to it"),
    );
}

/// Where a reconcile is, as the short text the host hands back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cursor {
    /// Walking segment members, enrolments and the group's members after
    /// this user: `s:<after>`.
    Sync(Option<UserId>),
    /// Removing own memberships from the other groups, from this group
    /// on, after this user: `o:<group>:<after>`.
    Others(Option<GroupId>, Option<UserId>),
    /// Disabled or segment gone: removing every own membership, from this
    /// group on, after this user: `x:<group>:<after>`.
    Cleanup(Option<GroupId>, Option<UserId>),
}

impl Cursor {
    fn parse(text: Option<&str>) -> Result<Option<Cursor>, Refusal> {
        let Some(text) = text else {
            return Ok(None);
        };
        let bad = || {
            Refusal::new(
                "bad-cursor",
                format!("the reconcile cursor {text:?} is not one this plugin made"),
            )
        };
        let id = |s: &str| -> Result<Option<u64>, Refusal> {
            if s.is_empty() {
                Ok(None)
            } else {
                s.parse().map(Some).map_err(|_| bad())
            }
        };
        let (phase, rest) = text.split_once(':').ok_or_else(bad)?;
        let (group, after) = rest.split_once(':').unwrap_or((rest, ""));
        Ok(Some(match phase {
            "s" => Cursor::Sync(id(rest)?),
            "o" => Cursor::Others(id(group)?, id(after)?),
            "x" => Cursor::Cleanup(id(group)?, id(after)?),
            _ => return Err(bad()),
        }))
    }

    fn encode(self) -> String {
        let id = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_default();
        match self {
            Cursor::Sync(after) => format!("s:{}", id(after)),
            Cursor::Others(group, after) => format!("o:{}:{}", id(group), id(after)),
            Cursor::Cleanup(group, after) => format!("x:{}:{}", id(group), id(after)),
        }
    }
}

fn step(plan: Plan, next: Cursor) -> ReconcileStep {
    ReconcileStep {
        plan,
        next: Some(next.encode()),
    }
}

/// Narrows a step's range of users to what a page covers: a page with a
/// `next` holds every user up to that one and none after; a page without
/// one holds every user left.
fn covered(upto: UserId, next: Option<UserId>) -> UserId {
    next.map_or(upto, |n| upto.min(n))
}

/// Phase 1: one stretch of users, read as one page each of the segment's
/// members, the course's enrolments and the group's members, merged by
/// user id. The stretch ends where the first page that has more ends, so
/// that within it each list is complete. The next step resumes after it.
fn sync_step(
    ctx: &Context<Config>,
    segment: &str,
    after: Option<UserId>,
    host: &dyn Host,
) -> Result<ReconcileStep, Refusal> {
    let config = &ctx.config;
    let mut plan = Plan::new();
    let group = match host.group_members(config.group, after, PAGE) {
        Ok(page) => page,
        Err(HostError::OutOfScope(_)) => {
            // Nothing to add to; the memberships it held went with it,
            // and the other groups are still to be cleaned.
            group_gone(config.group, host);
            return Ok(step(plan, Cursor::Others(None, None)));
        }
        Err(e) => return Err(e.into()),
    };
    let members = host.segment_members(config.segment, after, PAGE)?;
    let enrolments = host.course_enrolments(after, PAGE)?;
    let mut upto = covered(UserId::MAX, members.next);
    upto = covered(upto, enrolments.next);
    upto = covered(upto, group.next);

    let in_stretch = |user: UserId| user <= upto;
    let members: BTreeSet<UserId> = members
        .members
        .iter()
        .map(|m| m.user)
        .take_while(|u| in_stretch(*u))
        .collect();
    let enrolled: BTreeSet<UserId> = enrolments
        .enrolments
        .iter()
        .map(|e| e.user)
        .take_while(|u| in_stretch(*u))
        .collect();
    let grouped: Vec<&GroupMember> = group
        .members
        .iter()
        .take_while(|m| in_stretch(m.user))
        .collect();

    let joined = format!("member of segment {segment}");
    let in_group: BTreeSet<UserId> = grouped.iter().map(|m| m.user).collect();
    for user in members.intersection(&enrolled) {
        if !in_group.contains(user) {
            plan.add_to_group(*user, GroupRef::Existing(config.group), joined.clone());
        }
    }
    let left = format!("left segment {segment}");
    for m in grouped {
        if m.owner != MembershipOwner::Method(ctx.method) {
            continue;
        }
        if !enrolled.contains(&m.user) {
            plan.remove_from_group(m.user, config.group, "no longer enrolled in the course");
        } else if !members.contains(&m.user) {
            plan.remove_from_group(m.user, config.group, left.clone());
        }
    }
    Ok(if upto == UserId::MAX {
        step(plan, Cursor::Others(None, None))
    } else {
        step(plan, Cursor::Sync(Some(upto)))
    })
}

/// Phase 2: removes the method's memberships from every other group.
fn others_step(
    ctx: &Context<Config>,
    segment: &str,
    from: Option<GroupId>,
    after: Option<UserId>,
    host: &dyn Host,
) -> Result<ReconcileStep, Refusal> {
    let keep = ctx.config.group;
    own_memberships_step(
        ctx,
        host,
        |g| g.id != keep,
        from,
        after,
        |g| {
            format!(
                "group {} is no longer the group of segment {segment}",
                g.name
            )
        },
        Cursor::Others,
    )
}

/// Disabled, or the segment is gone: removes every membership the
/// method owns; with the segment gone, an enabled method first
/// disables itself.
fn cleanup_step(
    ctx: &Context<Config>,
    cursor: Option<Cursor>,
    host: &dyn Host,
) -> Result<ReconcileStep, Refusal> {
    let (from, after) = match cursor {
        Some(Cursor::Cleanup(from, after)) => (from, after),
        // From the start, also when things changed in the middle.
        _ => (None, None),
    };
    let first = !matches!(cursor, Some(Cursor::Cleanup(..)));
    let reason = if ctx.enabled {
        format!("its segment #{} no longer exists", ctx.config.segment)
    } else {
        "the segment-to-group sync is disabled".to_owned()
    };
    let mut disable = Plan::new();
    if first && ctx.enabled {
        disable.disable_method(reason.clone());
    }
    let mut out = own_memberships_step(
        ctx,
        host,
        |_| true,
        from,
        after,
        |_| reason.clone(),
        Cursor::Cleanup,
    )?;
    disable.extend(out.plan);
    out.plan = disable;
    Ok(out)
}

/// One step of removing the method's memberships from the course's
/// groups that `wanted` picks, in id order, from group `from` (the first
/// when `None`) after user `after`: a few group pages per step.
fn own_memberships_step(
    ctx: &Context<Config>,
    host: &dyn Host,
    wanted: impl Fn(&CourseGroup) -> bool,
    from: Option<GroupId>,
    after: Option<UserId>,
    reason: impl Fn(&CourseGroup) -> String,
    cursor: fn(Option<GroupId>, Option<UserId>) -> Cursor,
) -> Result<ReconcileStep, Refusal> {
    let mut groups = host.course_groups()?;
    groups.retain(|g| wanted(g) && from.is_none_or(|from| g.id >= from));
    groups.sort_by_key(|g| g.id);

    let mut plan = Plan::new();
    let mut after = after;
    // At most a page of memberships per step, over however many groups.
    let mut room = PAGE;
    for (calls, group) in groups.iter().enumerate() {
        if calls == GROUP_CALLS_PER_STEP || room == 0 {
            return Ok(step(plan, cursor(Some(group.id), None)));
        }
        let page = match host.group_members(group.id, after, room) {
            Ok(page) => page,
            // Deleted since the list was read: nothing of it to remove.
            Err(HostError::OutOfScope(_)) => {
                after = None;
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        room = room.saturating_sub(u32::try_from(page.members.len()).unwrap_or(u32::MAX));
        let why = reason(group);
        for m in &page.members {
            if m.owner == MembershipOwner::Method(ctx.method) {
                plan.remove_from_group(m.user, group.id, why.clone());
            }
        }
        if let Some(next) = page.next {
            return Ok(step(plan, cursor(Some(group.id), Some(next))));
        }
        after = None;
    }
    Ok(ReconcileStep { plan, next: None })
}

export_plugin!(SegmentGroup);

#[cfg(test)]
mod tests;
