//! Manual enrolment: an admin or teacher enrols and unenrols chosen users,
//! as Moodle's "Manual enrolments".
//!
//! Config: `{ "role": "learner" }`, the role given when a request names
//! none.
//!
//! - `EnrolUsers` enrols every listed user (with the request's role, else
//!   the config's) and, when the request names a group of the course, adds
//!   them to it. Users already enrolled through this method with that
//!   role and active, or already in the group, are left alone, so asking
//!   twice changes nothing. A user who does not exist, or a group of
//!   another course, refuses the whole request: nothing half-done.
//! - `UnenrolUsers` unenrols the listed users. It refuses the whole
//!   request, naming them, when some are not enrolled through this
//!   method: their enrolments belong to another method (or to nobody),
//!   and silently skipping them would let a teacher believe they are gone.
//! - Self-enrolment requests are refused: that is the `self` method's job.

use charon_sdk::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The role of users a request enrols without naming one.
    #[serde(default = "learner")]
    pub role: Role,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            role: Role::Learner,
        }
    }
}

fn learner() -> Role {
    Role::Learner
}

pub struct Manual;

impl Plugin for Manual {
    type Config = Config;

    fn manifest() -> Manifest {
        Manifest::new("manual", "Manual enrolment", env!("CARGO_PKG_VERSION"))
            .describe("Teachers and administrators enrol and unenrol chosen users, optionally into a group.")
            .field(
                ConfigField::new("role", "Default role", FieldKind::Role)
                    .help("The role of users enrolled without choosing one.")
                    .default_json("\"learner\""),
            )
            .answers(&[RequestKind::EnrolUsers, RequestKind::UnenrolUsers])
            .needs(&[Capability::ReadUsers, Capability::ReadEnrolments, Capability::ReadGroups])
    }

    fn handle_request(
        ctx: &Context<Config>,
        request: Request,
        host: &dyn Host,
    ) -> Result<Plan, Refusal> {
        match request {
            Request::EnrolUsers(r) => enrol(ctx, r, host),
            Request::UnenrolUsers(users) => unenrol(ctx, &users, host),
            Request::SelfEnrol(_) | Request::SelfUnenrol(_) => Err(Refusal::new(
                "no-self-enrolment",
                "manual enrolment takes no self-enrolment; ask a teacher to enrol or unenrol you",
            )),
        }
    }
}

/// The users of a request once each, in the order given.
fn distinct(users: &[UserId]) -> Vec<UserId> {
    let mut seen = std::collections::BTreeSet::new();
    users.iter().copied().filter(|u| seen.insert(*u)).collect()
}

/// `#3, #9 and #12`.
fn list(users: &[UserId]) -> String {
    let names: Vec<String> = users.iter().map(|u| format!("#{u}")).collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => names.join(""),
    }
}

fn enrol(ctx: &Context<Config>, r: EnrolUsers, host: &dyn Host) -> Result<Plan, Refusal> {
    let users = distinct(&r.users);
    if users.is_empty() {
        return Err(
            Refusal::new("no-users", "choose at least one user to enrol").on_field("users"),
        );
    }
    let group = match r.group {
        Some(id) => match host.course_groups()?.into_iter().find(|g| g.id == id) {
            Some(group) => Some(group),
            None => {
                return Err(Refusal::new(
                    "unknown-group",
                    format!("group #{id} is not a group of this course"),
                )
                .on_field("group"));
            }
        },
        None => None,
    };
    let mut missing = Vec::new();
    for &user in &users {
        if host.user(user)?.is_none() {
            missing.push(user);
        }
    }
    if !missing.is_empty() {
        let what = if missing.len() == 1 {
            "this user does"
        } else {
            "these users do"
        };
        return Err(Refusal::new(
            "unknown-users",
            format!("{what} not exist: {}", list(&missing)),
        )
        .on_field("users"));
    }

    let role = r.role.unwrap_or(ctx.config.role);
    let mut plan = Plan::new();
    for &user in &users {
        let current = host
            .user_enrolments(user)?
            .into_iter()
            .find(|e| e.method == ctx.method);
        let settled = current
            .as_ref()
            .is_some_and(|e| e.status == EnrolmentStatus::Active && e.role == Some(role));
        if !settled {
            let reason = match current {
                Some(e) if e.status == EnrolmentStatus::Suspended => {
                    format!("re-activated by {} as {}", by(r.requested_by), role.label())
                }
                Some(_) => format!("role set by {} to {}", by(r.requested_by), role.label()),
                None => format!("enrolled by {} as {}", by(r.requested_by), role.label()),
            };
            plan.enrol(user, role, reason);
        }
        if let Some(group) = &group
            && host.group_membership(group.id, user)?.is_none()
        {
            plan.add_to_group(
                user,
                GroupRef::Existing(group.id),
                format!(
                    "added to group {} by {} when enrolled",
                    group.name,
                    by(r.requested_by)
                ),
            );
        }
    }
    Ok(plan)
}

fn unenrol(ctx: &Context<Config>, users: &[UserId], host: &dyn Host) -> Result<Plan, Refusal> {
    let users = distinct(users);
    if users.is_empty() {
        return Err(
            Refusal::new("no-users", "choose at least one user to unenrol").on_field("users"),
        );
    }
    let mut strangers = Vec::new();
    for &user in &users {
        if !host
            .user_enrolments(user)?
            .iter()
            .any(|e| e.method == ctx.method)
        {
            strangers.push(user);
        }
    }
    if !strangers.is_empty() {
        return Err(Refusal::new(
            "not-enrolled",
            format!(
                "not enrolled through this manual enrolment, so not unenrolled: {}; nobody was unenrolled",
                list(&strangers)
            ),
        )
        .on_field("users"));
    }
    let mut plan = Plan::new();
    for user in users {
        plan.unenrol(
            user,
            "unenrolled by a teacher or administrator (manual enrolment)",
        );
    }
    Ok(plan)
}

export_plugin!(Manual);

/// Who asked, for a reason: user ids start at 1, and the host passes 0
/// when an operator (who is no user of the site) made the request.
fn by(requested_by: UserId) -> String {
    if requested_by == 0 {
        "an operator".into()
    } else {
        format!("user #{requested_by}")
    }
}

#[cfg(test)]
mod tests;
