//! Self enrolment: a user enrols themselves, as Moodle's "Self enrolment".
//!
//! Config (every field optional):
//!
//! | key | meaning |
//! |---|---|
//! | `enrolment_key` | the course's key; none (or blank) means no key |
//! | `group_keys` | `{ "<group id>": "<key>" }`: typing a group's key enrols *and* places the user in that group (Moodle's "use group enrolment keys"); when only group keys exist, one of them is required |
//! | `max_enrolled` | most enrolments through this method; 0 or none is unlimited |
//! | `enrol_start`, `enrol_end` | when self enrolment opens and closes (epoch ms, UTC) |
//! | `allow_new` | false stops new self enrolments (Moodle's "allow new self enrolments"); default true |
//! | `role` | the role given; default `learner` |
//! | `allow_unenrol` | whether users may leave the course themselves; default true |
//!
//! The clock is the context's `now`: the method reads no clock of its own.

use std::collections::{BTreeMap, BTreeSet};

use charon_sdk::*;
use serde::{Deserialize, Deserializer, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The course's enrolment key; `None` when blank.
    #[serde(
        default,
        deserialize_with = "blank_is_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub enrolment_key: Option<String>,
    /// Group id → the key that places a user in that group.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub group_keys: BTreeMap<GroupId, String>,
    /// Most enrolments through this method; 0 or `None` is unlimited.
    /// Signed so that a negative number gets a message on its field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_enrolled: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrol_start: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrol_end: Option<Timestamp>,
    #[serde(default = "yes")]
    pub allow_new: bool,
    #[serde(default = "learner")]
    pub role: Role,
    #[serde(default = "yes")]
    pub allow_unenrol: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            enrolment_key: None,
            group_keys: BTreeMap::new(),
            max_enrolled: None,
            enrol_start: None,
            enrol_end: None,
            allow_new: true,
            role: Role::Learner,
            allow_unenrol: true,
        }
    }
}

fn learner() -> Role {
    Role::Learner
}

fn yes() -> bool {
    true
}

/// A blank key field means "no key", not "the empty key".
fn blank_is_none<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let key = Option::<String>::deserialize(d)?;
    Ok(key.filter(|k| !k.trim().is_empty()))
}

pub struct SelfEnrolment;

impl Plugin for SelfEnrolment {
    type Config = Config;

    fn manifest() -> Manifest {
        Manifest::new("self", "Self enrolment", env!("CARGO_PKG_VERSION"))
            .describe("Users enrol themselves, with an enrolment key or a group's key if the course has them.")
            .field(
                ConfigField::new("enrolment_key", "Enrolment key", FieldKind::Secret)
                    .help("Users must type it to enrol. Leave blank for none."),
            )
            .field(
                ConfigField::new("group_keys", "Group enrolment keys", FieldKind::GroupTexts).help(
                    "A user who types a group's key is enrolled and placed in that group. \
                     When only group keys are set, one of them is required.",
                ),
            )
            .field(
                ConfigField::new("max_enrolled", "Maximum enrolled users", FieldKind::Integer((Some(0), None)))
                    .help("0 or blank: unlimited.")
                    .default_json("0"),
            )
            .field(
                ConfigField::new("enrol_start", "Enrolment opens", FieldKind::Datetime)
                    .help("Blank: open now."),
            )
            .field(
                ConfigField::new("enrol_end", "Enrolment closes", FieldKind::Datetime)
                    .help("Blank: never closes."),
            )
            .field(
                ConfigField::new("allow_new", "Allow new self enrolments", FieldKind::Boolean)
                    .default_json("true"),
            )
            .field(ConfigField::new("role", "Role", FieldKind::Role).default_json("\"learner\""))
            .field(
                ConfigField::new("allow_unenrol", "Users may unenrol themselves", FieldKind::Boolean)
                    .default_json("true"),
            )
            .answers(&[RequestKind::SelfEnrol, RequestKind::SelfUnenrol, RequestKind::UnenrolUsers])
            .needs(&[Capability::ReadUsers, Capability::ReadEnrolments, Capability::ReadGroups])
    }

    fn validate(
        _course: CourseId,
        config: &Config,
        host: &dyn Host,
    ) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        if !config.group_keys.is_empty() {
            let groups: BTreeSet<GroupId> = host
                .course_groups()
                .map_err(|e| {
                    vec![FieldError::new(
                        "group_keys",
                        format!("cannot read the course's groups: {e}"),
                    )]
                })?
                .into_iter()
                .map(|g| g.id)
                .collect();
            let mut seen: BTreeMap<&str, GroupId> = BTreeMap::new();
            for (group, key) in &config.group_keys {
                if !groups.contains(group) {
                    errors.push(FieldError::new(
                        "group_keys",
                        format!("group #{group} is not a group of this course"),
                    ));
                }
                let key = key.trim();
                if key.is_empty() {
                    errors.push(FieldError::new(
                        "group_keys",
                        format!("the key of group #{group} is empty"),
                    ));
                } else if config.enrolment_key.as_deref().map(str::trim) == Some(key) {
                    errors.push(FieldError::new(
                        "group_keys",
                        format!("the key of group #{group} is the course's enrolment key; a key must say which group"),
                    ));
                } else if let Some(other) = seen.insert(key, *group) {
                    errors.push(FieldError::new(
                        "group_keys",
                        format!("groups #{other} and #{group} have the same key"),
                    ));
                }
            }
        }
        if let Some(max) = config.max_enrolled
            && max < 0
        {
            errors.push(FieldError::new(
                "max_enrolled",
                "must be 0 (unlimited) or more",
            ));
        }
        if let (Some(start), Some(end)) = (config.enrol_start, config.enrol_end)
            && start >= end
        {
            errors.push(FieldError::new(
                "enrol_end",
                format!(
                    "must be after the opening ({}); it is {}",
                    utc(start),
                    utc(end)
                ),
            ));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    fn handle_request(
        ctx: &Context<Config>,
        request: Request,
        host: &dyn Host,
    ) -> Result<Plan, Refusal> {
        match request {
            Request::SelfEnrol(r) => self_enrol(ctx, r, host),
            Request::SelfUnenrol(user) => self_unenrol(ctx, user, host),
            Request::UnenrolUsers(users) => unenrol(ctx, &users, host),
            Request::EnrolUsers(_) => Err(Refusal::new(
                "not-manual",
                "self enrolment only enrols the person who asks; use manual enrolment to enrol others",
            )),
        }
    }
}

fn self_enrol(ctx: &Context<Config>, r: SelfEnrol, host: &dyn Host) -> Result<Plan, Refusal> {
    let config = &ctx.config;
    if !ctx.enabled {
        return Err(Refusal::new(
            "disabled",
            "self enrolment is switched off in this course",
        ));
    }
    if !config.allow_new {
        return Err(Refusal::new(
            "not-accepting",
            "this course does not accept new self enrolments",
        ));
    }
    if let Some(start) = config.enrol_start
        && ctx.now < start
    {
        return Err(Refusal::new(
            "not-open",
            format!("enrolment opens on {}", utc(start)),
        ));
    }
    if let Some(end) = config.enrol_end
        && ctx.now >= end
    {
        return Err(Refusal::new(
            "closed",
            format!("enrolment closed on {}", utc(end)),
        ));
    }
    let Some(user) = host.user(r.user)? else {
        return Err(Refusal::new(
            "unknown-user",
            format!("user #{} does not exist", r.user),
        ));
    };
    if user.suspended {
        return Err(Refusal::new(
            "user-suspended",
            "your account is suspended, so you cannot enrol",
        ));
    }
    let enrolments = host.user_enrolments(r.user)?;
    if enrolments
        .iter()
        .any(|e| e.status == EnrolmentStatus::Active)
    {
        return Err(Refusal::new(
            "already-enrolled",
            "you are already enrolled in this course",
        ));
    }
    if enrolments.iter().any(|e| e.method == ctx.method) {
        return Err(Refusal::new(
            "enrolment-suspended",
            "your enrolment in this course is suspended; ask a teacher to re-activate it",
        ));
    }
    if let Some(max) = config.max_enrolled.filter(|m| *m > 0)
        && host.method_enrolment_count()? >= max.unsigned_abs()
    {
        return Err(Refusal::new(
            "course-full",
            format!("the course is full: {max} users have enrolled themselves"),
        ));
    }

    let typed = r.key.as_deref().map(str::trim).filter(|k| !k.is_empty());
    let group_key = typed.and_then(|t| config.group_keys.iter().find(|(_, k)| k.trim() == t));
    let course_key = config.enrolment_key.as_deref().map(str::trim);
    let role = config.role;
    let mut plan = Plan::new();
    match (group_key, course_key, typed) {
        (Some((&group, _)), _, _) => {
            // A group deleted since the key was set: enrol all the same,
            // the user typed a key the course handed out.
            match host.course_groups()?.into_iter().find(|g| g.id == group) {
                Some(g) => {
                    plan.enrol(
                        user.id,
                        role,
                        format!(
                            "enrolled themselves as {} with the key of group {}",
                            role.label(),
                            g.name
                        ),
                    );
                    plan.add_to_group(
                        user.id,
                        GroupRef::Existing(g.id),
                        format!("typed the enrolment key of group {}", g.name),
                    );
                }
                None => {
                    host.log(
                        LogLevel::Warn,
                        &format!("group #{group} has a key but is no longer a group of the course"),
                    );
                    plan.enrol(
                        user.id,
                        role,
                        format!("enrolled themselves as {} with a group key", role.label()),
                    );
                }
            }
        }
        (None, Some(key), Some(t)) if key == t => {
            plan.enrol(
                user.id,
                role,
                format!(
                    "enrolled themselves as {} with the enrolment key",
                    role.label()
                ),
            );
        }
        (None, None, _) if config.group_keys.is_empty() => {
            plan.enrol(
                user.id,
                role,
                format!("enrolled themselves as {}", role.label()),
            );
        }
        (None, course_key, typed) => {
            let what = if course_key.is_some() {
                "an enrolment key"
            } else {
                "a group enrolment key"
            };
            return Err(match typed {
                None => Refusal::new("key-required", format!("this course needs {what}")),
                Some(_) => Refusal::new("wrong-key", "the enrolment key is wrong"),
            }
            .on_field("key"));
        }
    }
    Ok(plan)
}

fn self_unenrol(ctx: &Context<Config>, user: UserId, host: &dyn Host) -> Result<Plan, Refusal> {
    if !ctx.config.allow_unenrol {
        return Err(Refusal::new(
            "unenrol-not-allowed",
            "you cannot unenrol yourself from this course; ask a teacher",
        ));
    }
    if !host
        .user_enrolments(user)?
        .iter()
        .any(|e| e.method == ctx.method)
    {
        return Err(Refusal::new(
            "not-enrolled",
            "you did not enrol yourself in this course",
        ));
    }
    let mut plan = Plan::new();
    plan.unenrol(user, "unenrolled themselves (self enrolment)");
    Ok(plan)
}

/// A teacher removes users who enrolled themselves; all or none, naming
/// those who did not come in through this method.
fn unenrol(ctx: &Context<Config>, users: &[UserId], host: &dyn Host) -> Result<Plan, Refusal> {
    let mut seen = BTreeSet::new();
    let users: Vec<UserId> = users.iter().copied().filter(|u| seen.insert(*u)).collect();
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
            strangers.push(format!("#{user}"));
        }
    }
    if !strangers.is_empty() {
        return Err(Refusal::new(
            "not-enrolled",
            format!(
                "did not enrol themselves here, so not unenrolled: {}; nobody was unenrolled",
                strangers.join(", ")
            ),
        )
        .on_field("users"));
    }
    let mut plan = Plan::new();
    for user in users {
        plan.unenrol(
            user,
            "unenrolled by a teacher or administrator (self enrolment)",
        );
    }
    Ok(plan)
}

/// `2026-12-01 09:00 UTC` from epoch milliseconds, without a time crate:
/// the plugin stays small and needs no clock.
pub fn utc(ms: Timestamp) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60
    )
}

/// Howard Hinnant's `civil_from_days`: (year, month, day) of a count of
/// days since 1970-01-01 in the proleptic Gregorian calendar.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

export_plugin!(SelfEnrolment);

#[cfg(test)]
mod tests;
