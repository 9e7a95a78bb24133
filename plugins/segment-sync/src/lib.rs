//! User segment sync: enrols the members of a user segment in the course,
//! as Moodle's "Cohort sync".
//!
//! Config (JSON, kebab-case keys; unknown keys are refused):
//!
//! | key | meaning |
//! |---|---|
//! | `segment` | the segment whose members are enrolled (required) |
//! | `role` | the role they get; default `learner` |
//! | `group` | `"none"` (default), `"new"` (a group the method creates, named "{segment} segment", then "{segment} segment (2)", "(3)", … when a group of the course already has the name), or the id of a group of the course |
//! | `removal-action` | what happens to a member who leaves the segment: `site-default` (default), `unenrol`, `suspend`, `suspend-remove-role` |
//!
//! Site-wide setting `removal-action` (`unenrol` by default, `suspend` or
//! `suspend-remove-role`): what `site-default` means.
//!
//! A config is refused when the segment does not exist, when the group is
//! not a group of the course, or when another enrolment method of this plugin in
//! the course (enabled or not) already syncs the same segment with the
//! same role: their enrolments would be the same people twice.
//!
//! Behaviour:
//!
//! - **Added, enabled or reconfigured**: the plan asks the host for a
//!   reconcile, which does the work page by page.
//! - **A member joins the segment**: they are enrolled with the role — a
//!   suspended enrolment of the method is re-activated and
//!   a wrong or removed role set — and, when the method has a group,
//!   added to it unless they already have a membership of it, whoever
//!   owns it. A member event never creates the "new" group: the
//!   reconcile that adding or saving the method asks for does, once.
//! - **A member leaves the segment**: the removal action applies to their
//!   enrolment through this method: *unenrol* (the host removes the
//!   method's group memberships with it), *suspend* (role and groups
//!   kept), or *suspend and remove the role*. What is already so is not
//!   asked again.
//! - **The method's group is deleted**: the host clears it from the
//!   config (to "none") in the same transaction and shows a warning until
//!   an admin chooses again; it also holds the method to that, so the
//!   group is never made again unless an admin saves "create new group"
//!   anew (Moodle makes the "new" group once, when the method is saved).
//!   The plugin only logs, when its config still names the group.
//! - **The segment is deleted**: with *unenrol* the method is deleted
//!   with its enrolments; otherwise it is disabled and a reconcile
//!   suspends its enrolments (and removes their roles with
//!   *suspend-remove-role*).
//! - **Reconcile** (stateless, resumable, in bounded steps: a page of at
//!   most 1,000 users of each list and a handful of host queries, so a
//!   100,000-member segment takes about 100 steps): (1) the segment's
//!   members and the method's enrolments are walked together by user
//!   id: every member is enrolled or
//!   re-activated with the role and grouped, and every enrolment of
//!   someone who is no longer a member gets the removal action; (2) the
//!   memberships the method owns in any group other than its group are
//!   removed — that is how changing the method's group moves its
//!   members. Memberships added by hand or by another enrolment method are never
//!   touched. A reconcile that finds the segment gone does what its
//!   deletion does; a disabled method whose segment still exists is
//!   left alone. Asked again once its plans are
//!   applied, a reconcile returns empty plans.
//!
//! **Suspended accounts** (Moodle's rule): suspending a site account
//! changes no enrolment. A suspended member is enrolled like any other,
//! and an enrolled member who is suspended stays enrolled; the account
//! cannot sign in, the participants list shows it as suspended and it
//! does not count as an active participant. So suspending before or
//! after the sync ends the same.
//!
//! Events about a segment arrive after the fact, so a member event is
//! checked against the segment as it is now: a member who joined and left
//! before the event was handled is neither enrolled nor removed.

use std::collections::{BTreeMap, BTreeSet};

use charon_sdk::*;
use serde::{Deserialize, Serialize};

mod config;
pub use config::{Config, GroupChoice};

/// Most users a reconcile step asks the host for, per query: the host's
/// own page limit.
pub const PAGE: u32 = 1000;

/// The key under which the method creates its "new" group.
pub const GROUP_KEY: &str = "group";

/// The site-wide setting (and the config key) of the removal action.
pub const REMOVAL_SETTING: &str = "removal-action";

/// Most group pages one reconcile step reads while removing the
/// method's memberships from other groups: enough to get through a
/// course's empty groups quickly, few enough to keep a step short.
const GROUP_CALLS_PER_STEP: usize = 8;

/// What happens to a member who leaves the segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RemovalAction {
    /// Unenrol; the host removes the method's memberships with it.
    Unenrol,
    /// Suspend the enrolment, keeping the role and the groups.
    Suspend,
    /// Suspend the enrolment and remove its role.
    SuspendRemoveRole,
}

/// A method's removal action: its own, or the site's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MethodRemoval {
    /// The site-wide `removal-action` setting.
    #[default]
    SiteDefault,
    /// [`RemovalAction::Unenrol`].
    Unenrol,
    /// [`RemovalAction::Suspend`].
    Suspend,
    /// [`RemovalAction::SuspendRemoveRole`].
    SuspendRemoveRole,
}

/// The removal action that applies to the method: its own, else the
/// site's setting, else unenrol (Moodle's default).
///
/// ```
/// use charon_plugin_segment_sync::{Config, RemovalAction, removal_action};
/// let mut ctx = charon_sdk::Context { method: 1, course: 2, config: Config::new(5), settings: Default::default(), enabled: true, now: 0 };
/// assert_eq!(removal_action(&ctx), RemovalAction::Unenrol);
/// ctx.settings.insert("removal-action".into(), "suspend".into());
/// assert_eq!(removal_action(&ctx), RemovalAction::Suspend);
/// ```
pub fn removal_action(ctx: &Context<Config>) -> RemovalAction {
    match ctx.config.removal_action {
        MethodRemoval::Unenrol => RemovalAction::Unenrol,
        MethodRemoval::Suspend => RemovalAction::Suspend,
        MethodRemoval::SuspendRemoveRole => RemovalAction::SuspendRemoveRole,
        MethodRemoval::SiteDefault => ctx
            .setting_str(REMOVAL_SETTING)
            .and_then(|s| serde_json::from_value(serde_json::Value::from(s)).ok())
            .unwrap_or(RemovalAction::Unenrol),
    }
}

/// The segment sync method.
pub struct SegmentSync;

impl Plugin for SegmentSync {
    type Config = Config;

    fn manifest() -> Manifest {
        let actions = [
            Choice::new("unenrol", "Unenrol from the course"),
            Choice::new("suspend", "Suspend the enrolment (keep role and groups)"),
            Choice::new(
                "suspend-remove-role",
                "Suspend the enrolment and remove the role",
            ),
        ];
        let mut method_actions = vec![Choice::new("site-default", "The site's default")];
        method_actions.extend(actions.iter().cloned());
        Manifest::new("segment-sync", "User segment sync", env!("CARGO_PKG_VERSION"))
            .describe("Enrols the members of a user segment, optionally into a group, and follows the segment as members join and leave. A suspended account is enrolled like any other: suspension stops sign-in and changes no enrolment, and the participants list shows the account as suspended.")
            .field(
                ConfigField::new("segment", "Segment", FieldKind::Segment)
                    .required()
                    .help("Its members are enrolled in the course."),
            )
            .field(
                ConfigField::new("role", "Role", FieldKind::Role)
                    .help("The role the members get.")
                    .default_json("\"learner\""),
            )
            .field(
                ConfigField::new(
                    "group",
                    "Add to group",
                    FieldKind::GroupChoice(GroupChoiceOptions { none: true, new: true }),
                )
                .help(
                    "“Create new group” makes a group named after the user segment \
                     (e.g. “HR segment”) and adds its members to it.",
                )
                .default_json("\"none\""),
            )
            .field(
                ConfigField::new(REMOVAL_SETTING, "When a member leaves the segment", FieldKind::Choice(method_actions))
                    .help("What happens to their enrolment; \"site-default\" follows the site's setting.")
                    .default_json("\"site-default\""),
            )
            .setting(
                ConfigField::new(REMOVAL_SETTING, "When a member leaves the segment", FieldKind::Choice(actions.to_vec()))
                    .help("The default of every segment sync of the site; a method may choose otherwise.")
                    .default_json("\"unenrol\""),
            )
            .handles(&[
                EventKind::SegmentMemberAdded,
                EventKind::SegmentMemberRemoved,
                EventKind::SegmentDeleted,
                EventKind::GroupDeleted,
                EventKind::MethodAdded,
                EventKind::MethodEnabled,
                EventKind::MethodUpdated,
            ])
            .needs(&[
                Capability::ReadUsers,
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
        let name = match host.segment_exists(config.segment) {
            Ok(Some(name)) => Some(name),
            Ok(None) => {
                errors.push(FieldError::new(
                    "segment",
                    format!("segment #{} does not exist", config.segment),
                ));
                None
            }
            Err(e) => {
                errors.push(FieldError::new(
                    "segment",
                    format!("cannot read the segment: {e}"),
                ));
                None
            }
        };
        if let GroupChoice::Existing(id) = config.group {
            match host.course_groups() {
                Ok(groups) if groups.iter().any(|g| g.id == id) => {}
                Ok(_) => errors.push(FieldError::new(
                    "group",
                    format!("group #{id} is not a group of this course"),
                )),
                Err(e) => errors.push(FieldError::new(
                    "group",
                    format!("cannot read the course's groups: {e}"),
                )),
            }
        }
        // Only with the segment's name can the message say which one.
        if let Some(name) = name {
            match host.sibling_methods() {
                Ok(siblings) => {
                    if siblings
                        .iter()
                        .any(|s| sync_key(&s.config) == Some((config.segment, config.role)))
                    {
                        errors.push(FieldError::new(
                            "segment",
                            format!(
                                "segment {name:?} is already synced into this course with the role {} by another enrolment method",
                                config.role.label()
                            ),
                        ));
                    }
                }
                Err(e) => errors.push(FieldError::new(
                    "segment",
                    format!("cannot read the course's other segment syncs: {e}"),
                )),
            }
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
                plan.reconcile("the segment sync was added");
            }
            Event::MethodEnabled => {
                plan.reconcile("the segment sync was enabled");
            }
            Event::MethodUpdated => {
                plan.reconcile("the segment sync's settings changed");
            }
            // The host sends segment events only to enabled methods; a
            // disabled one waits for its next reconcile all the same.
            Event::SegmentMemberAdded(e) if e.segment == segment && ctx.enabled => {
                return member_added(ctx, e.user, host);
            }
            Event::SegmentMemberRemoved(e) if e.segment == segment && ctx.enabled => {
                return member_removed(ctx, e.user, host);
            }
            // The host has already cleared the group from the config and
            // warned the course's staff (a config that still names it is
            // from a host that did not): members are enrolled without it
            // until an admin chooses another.
            Event::GroupDeleted(g) if ctx.config.group == GroupChoice::Existing(g) => {
                group_gone(ctx, g, host);
            }
            Event::SegmentDeleted(s) if s == segment => {
                // The segment and its name are gone by now.
                let reason = format!("its segment #{segment} was deleted");
                if !ctx.enabled {
                    plan.reconcile(reason);
                } else if removal_action(ctx) == RemovalAction::Unenrol {
                    plan.delete_method(reason);
                } else {
                    plan.disable_method(reason.clone());
                    plan.reconcile(reason);
                }
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
        if let Some(Cursor::Orphaned(after)) = cursor {
            return segment_gone(ctx, after, false, host);
        }
        let Some(name) = host.segment_exists(ctx.config.segment)? else {
            // Gone, possibly in the middle of this reconcile: start over
            // with what its deletion does.
            return segment_gone(ctx, None, true, host);
        };
        if !ctx.enabled {
            return Ok(done(Plan::new()));
        }
        match cursor {
            Some(Cursor::Members(after)) => sync_step(ctx, &name, after, host),
            Some(Cursor::Groups(from, after)) => groups_step(ctx, &name, from, after, host),
            // (An orphaned cursor was answered above.)
            None | Some(Cursor::Orphaned(_)) => sync_step(ctx, &name, None, host),
        }
    }
}

/// A sibling's segment and role, read leniently: a config this version
/// cannot parse (an older or newer one) still counts by what it says.
fn sync_key(config: &str) -> Option<(SegmentId, Role)> {
    let value: serde_json::Value = serde_json::from_str(config).ok()?;
    let segment = value.get("segment")?.as_u64()?;
    let role = match value.get("role") {
        None | Some(serde_json::Value::Null) => Role::Learner,
        Some(role) => serde_json::from_value(role.clone()).ok()?,
    };
    Some((segment, role))
}

/// The method's own enrolment among a user's enrolments in the course.
fn own(ctx: &Context<Config>, enrolments: Vec<Enrolment>) -> Option<Enrolment> {
    enrolments.into_iter().find(|e| e.method == ctx.method)
}

/// Why a member needs an `enrol` action, or `None` when their enrolment
/// through the method is already active with the role.
/// The reasons of a member's enrolment actions, written once per plan: a
/// reconcile page gives a thousand members the same one, and formatting
/// it for each was most of the plugin's own time in a sync.
struct EnrolReasons {
    joined: String,
    reactivated: String,
    role_set: String,
}

impl EnrolReasons {
    fn new(segment: &str, role: Role) -> Self {
        let joined = format!("member of segment {segment}");
        Self {
            reactivated: format!("{joined}: enrolment re-activated as {}", role.label()),
            role_set: format!("{joined}: role set to {}", role.label()),
            joined,
        }
    }

    /// Why `current` (the method's enrolment of a member, if any) needs
    /// an enrol action, or `None` when it is already as it should be.
    fn of(&self, current: Option<&Enrolment>, role: Role) -> Option<&str> {
        match current {
            None => Some(&self.joined),
            Some(e) if e.status == EnrolmentStatus::Suspended => Some(&self.reactivated),
            Some(e) if e.role != Some(role) => Some(&self.role_set),
            Some(_) => None,
        }
    }
}

/// Appends the removal action for an enrolment, leaving out what is
/// already so.
fn remove(plan: &mut Plan, e: &Enrolment, action: RemovalAction, reason: &str) {
    let active = e.status == EnrolmentStatus::Active;
    match action {
        RemovalAction::Unenrol => {
            plan.unenrol(e.user, reason);
        }
        RemovalAction::Suspend => {
            if active {
                plan.suspend(e.user, reason);
            }
        }
        RemovalAction::SuspendRemoveRole => {
            if active {
                plan.suspend(e.user, reason);
            }
            if e.role.is_some() {
                plan.set_role(e.user, None, reason);
            }
        }
    }
}

/// The method's group as it stands.
enum Target {
    /// The method puts nobody in a group.
    None,
    /// This group of the course (configured, or created by the method).
    Group(GroupId),
    /// "new", and the method's group does not exist (yet, or any more).
    ToCreate,
}

fn target(ctx: &Context<Config>, host: &dyn Host) -> Result<Target, Refusal> {
    Ok(match ctx.config.group {
        GroupChoice::None => Target::None,
        GroupChoice::Existing(id) => Target::Group(id),
        GroupChoice::New => match host.method_group(GROUP_KEY)? {
            Some(id) => Target::Group(id),
            None => Target::ToCreate,
        },
    })
}

/// Asks for the method's new group: "{segment} segment", numbered like
/// Moodle's when a group of the course already has that name.
fn create_group(plan: &mut Plan, segment: &str, host: &dyn Host) -> Result<(), Refusal> {
    let groups = host.course_groups()?;
    let taken = |name: &str| {
        let name = name.to_lowercase();
        groups.iter().any(|g| g.name.to_lowercase() == name)
    };
    let base = format!("{segment} segment");
    let name = if taken(&base) {
        (2..)
            .map(|n| format!("{base} ({n})"))
            .find(|n| !taken(n))
            .unwrap_or(base)
    } else {
        base
    };
    plan.create_group(
        GROUP_KEY,
        &name,
        format!("the group of the members of segment {segment}"),
    );
    Ok(())
}

fn member_added(ctx: &Context<Config>, user: UserId, host: &dyn Host) -> Result<Plan, Refusal> {
    let mut plan = Plan::new();
    let config = &ctx.config;
    let Some(segment) = host.segment_exists(config.segment)? else {
        return Ok(plan);
    };
    if !host.is_segment_member(config.segment, user)? {
        return Ok(plan);
    }
    // A suspended account is enrolled like any other: suspension stops
    // sign-in and changes no enrolment (Moodle's rule), so suspending
    // before or after the sync ends the same.
    if host.user(user)?.is_none() {
        return Ok(plan);
    }
    let current = own(ctx, host.user_enrolments(user)?);
    let reasons = EnrolReasons::new(&segment, config.role);
    if let Some(reason) = reasons.of(current.as_ref(), config.role) {
        plan.enrol(user, config.role, reason);
    }
    let reason = reasons.joined;
    match target(ctx, host)? {
        Target::None => {}
        Target::Group(id) => match host.group_membership(id, user) {
            Ok(Some(_)) => {}
            Ok(None) => {
                plan.add_to_group(user, GroupRef::Existing(id), reason);
            }
            Err(HostError::OutOfScope(_)) => group_gone(ctx, id, host),
            Err(e) => return Err(e.into()),
        },
        // The "new" group is made by the reconcile that adding or saving
        // the method asks for, which groups everyone; a member event
        // never makes it (after a deletion the host has cleared the
        // group from the config and holds the method to that).
        Target::ToCreate => {}
    }
    Ok(plan)
}

fn member_removed(ctx: &Context<Config>, user: UserId, host: &dyn Host) -> Result<Plan, Refusal> {
    let mut plan = Plan::new();
    let config = &ctx.config;
    let Some(segment) = host.segment_exists(config.segment)? else {
        return Ok(plan);
    };
    // Back in the segment since: nothing to undo.
    if host.is_segment_member(config.segment, user)? {
        return Ok(plan);
    }
    if let Some(e) = own(ctx, host.user_enrolments(user)?) {
        remove(
            &mut plan,
            &e,
            removal_action(ctx),
            &format!("left segment {segment}"),
        );
    }
    Ok(plan)
}

/// A configured group deleted since the config was saved: members are
/// enrolled without it until an admin chooses another.
/// The line names the method and its course (the host's log adds the
/// plugin; its own warning of the deletion names the site too).
fn group_gone(ctx: &Context<Config>, id: GroupId, host: &dyn Host) {
    host.log(
        LogLevel::Warn,
        &format!(
            "enrolment method #{} of course #{}: group #{id} is no longer a group of the course; members are not added to it",
            ctx.method, ctx.course
        ),
    );
}

/// Where a reconcile is, as the short text the host hands back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cursor {
    /// Enrolling and grouping segment members, and applying the removal
    /// action to other enrolments, after this user: `m:<after>`.
    Members(Option<UserId>),
    /// Removing own memberships from other groups, from this group on,
    /// after this user: `g:<group>:<after>`.
    Groups(Option<GroupId>, Option<UserId>),
    /// The segment is gone: suspending enrolments after this user:
    /// `x:<after>`.
    Orphaned(Option<UserId>),
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
        Ok(Some(match phase {
            "m" => Cursor::Members(id(rest)?),
            "x" => Cursor::Orphaned(id(rest)?),
            "g" => match rest.split_once(':') {
                Some((group, after)) => Cursor::Groups(id(group)?, id(after)?),
                None => Cursor::Groups(id(rest)?, None),
            },
            _ => return Err(bad()),
        }))
    }

    fn encode(self) -> String {
        let id = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_default();
        match self {
            Cursor::Members(after) => format!("m:{}", id(after)),
            Cursor::Groups(group, after) => format!("g:{}:{}", id(group), id(after)),
            Cursor::Orphaned(after) => format!("x:{}", id(after)),
        }
    }
}

fn step(plan: Plan, next: Cursor) -> ReconcileStep {
    ReconcileStep {
        plan,
        next: Some(next.encode()),
    }
}

fn done(plan: Plan) -> ReconcileStep {
    ReconcileStep { plan, next: None }
}

/// Narrows a step's range of users to what a page covers: a page with a
/// `next` holds every user up to that one and none after; a page without
/// one holds every user left.
fn covered(upto: UserId, next: Option<UserId>) -> UserId {
    next.map_or(upto, |n| upto.min(n))
}

/// Phase 1: one stretch of users, read as one page of the segment's
/// members, one of the method's enrolments and one of its group's
/// members, merged by user id. The stretch ends where the first page that
/// has more ends, so that within it each list is complete: a member is
/// enrolled and grouped as needed, an enrolment of someone who is not a
/// member gets the removal action. The next step resumes after it.
fn sync_step(
    ctx: &Context<Config>,
    segment: &str,
    after: Option<UserId>,
    host: &dyn Host,
) -> Result<ReconcileStep, Refusal> {
    let config = &ctx.config;
    let mut plan = Plan::new();
    let (group, mut add_to) = match target(ctx, host)? {
        Target::None => (None, None),
        Target::Group(id) => (Some(id), Some(GroupRef::Existing(id))),
        Target::ToCreate => {
            // Every step asks while the group is missing: a dry run, which
            // applies nothing, still shows each step's additions.
            create_group(&mut plan, segment, host)?;
            (None, Some(GroupRef::Created(GROUP_KEY.into())))
        }
    };

    let members = host.segment_members(config.segment, after, PAGE)?;
    let enrolments = host.method_enrolments(after, PAGE)?;
    let mut upto = covered(UserId::MAX, members.next);
    upto = covered(upto, enrolments.next);
    let mut grouped = BTreeSet::new();
    // Group members only matter up to the last member of the stretch.
    if let (Some(id), Some(last)) = (group, members.members.last().map(|m| m.user)) {
        match host.group_members(id, after, PAGE) {
            Ok(page) => {
                if let Some(next) = page.next.filter(|n| *n < last) {
                    upto = upto.min(next);
                }
                grouped.extend(page.members.into_iter().map(|m| m.user));
            }
            Err(HostError::OutOfScope(_)) => {
                if after.is_none() {
                    group_gone(ctx, id, host);
                }
                add_to = None;
            }
            Err(e) => return Err(e.into()),
        }
    }

    let in_stretch = |user: UserId| user <= upto;
    let mut enrolled: BTreeMap<UserId, Enrolment> = enrolments
        .enrolments
        .into_iter()
        .take_while(|e| in_stretch(e.user))
        .map(|e| (e.user, e))
        .collect();
    let reasons = EnrolReasons::new(segment, config.role);
    for member in members.members.iter().take_while(|m| in_stretch(m.user)) {
        // Suspended accounts too (see `member_added`).
        let current = enrolled.remove(&member.user);
        if let Some(why) = reasons.of(current.as_ref(), config.role) {
            plan.enrol(member.user, config.role, why);
        }
        if let Some(group) = &add_to
            && !grouped.contains(&member.user)
        {
            plan.add_to_group(member.user, group.clone(), reasons.joined.as_str());
        }
    }
    // What is left are enrolments of users who are not members.
    let action = removal_action(ctx);
    let left = format!("left segment {segment}");
    for e in enrolled.values() {
        remove(&mut plan, e, action, &left);
    }
    Ok(if upto == UserId::MAX {
        step(plan, Cursor::Groups(None, None))
    } else {
        step(plan, Cursor::Members(Some(upto)))
    })
}

/// Phase 2: removes the method's memberships from every group but its
/// own (all of them when it has none), a few group pages per step.
fn groups_step(
    ctx: &Context<Config>,
    segment: &str,
    from: Option<GroupId>,
    after: Option<UserId>,
    host: &dyn Host,
) -> Result<ReconcileStep, Refusal> {
    let keep = match target(ctx, host)? {
        Target::Group(id) => Some(id),
        Target::None | Target::ToCreate => None,
    };
    let mut groups = host.course_groups()?;
    groups.retain(|g| Some(g.id) != keep && from.is_none_or(|from| g.id >= from));
    groups.sort_by_key(|g| g.id);

    let mut plan = Plan::new();
    let mut after = after;
    // At most a page of memberships per step, over however many groups.
    let mut room = PAGE;
    for (calls, group) in groups.iter().enumerate() {
        if calls == GROUP_CALLS_PER_STEP || room == 0 {
            return Ok(step(plan, Cursor::Groups(Some(group.id), None)));
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
        let reason = format!(
            "group {} is no longer the group of segment {segment}",
            group.name
        );
        for m in &page.members {
            if m.owner == MembershipOwner::Method(ctx.method) {
                plan.remove_from_group(m.user, group.id, reason.clone());
            }
        }
        if let Some(next) = page.next {
            return Ok(step(plan, Cursor::Groups(Some(group.id), Some(next))));
        }
        after = None;
    }
    Ok(done(plan))
}

/// The segment no longer exists. On the first page an enabled method
/// is deleted (removal action *unenrol*) or disabled; then, page by page,
/// its enrolments are suspended (and their roles removed with
/// *suspend-remove-role*).
fn segment_gone(
    ctx: &Context<Config>,
    after: Option<UserId>,
    first: bool,
    host: &dyn Host,
) -> Result<ReconcileStep, Refusal> {
    let mut plan = Plan::new();
    let reason = format!("its segment #{} no longer exists", ctx.config.segment);
    let action = removal_action(ctx);
    if first && ctx.enabled {
        if action == RemovalAction::Unenrol {
            plan.delete_method(reason);
            return Ok(done(plan));
        }
        plan.disable_method(reason.clone());
    }
    // A disabled method is not deleted behind the admin's back, whatever
    // its removal action: its enrolments are suspended.
    let action = match action {
        RemovalAction::SuspendRemoveRole => RemovalAction::SuspendRemoveRole,
        RemovalAction::Unenrol | RemovalAction::Suspend => RemovalAction::Suspend,
    };
    let page = host.method_enrolments(after, PAGE)?;
    for e in &page.enrolments {
        remove(&mut plan, e, action, &reason);
    }
    Ok(match page.next {
        Some(next) => step(plan, Cursor::Orphaned(Some(next))),
        None => done(plan),
    })
}

export_plugin!(SegmentSync);

#[cfg(test)]
mod tests;
