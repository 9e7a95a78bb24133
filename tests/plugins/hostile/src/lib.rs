//! A misbehaving enrolment method for the host's tests. Its config says
//! how it misbehaves, in every call that has a context (events, requests,
//! reconcile) and in `validate-config`:
//!
//! - `loop`: spins forever;
//! - `memory`: allocates until it cannot;
//! - `recursion`: recurses without end;
//! - `panic`: panics with a message;
//! - `huge-plan`: returns a plan of about 100 MB (1,000 actions of 100 KB);
//! - `many-actions`: returns a plan of 1,000,000 tiny actions;
//! - `other-course`: adds a user to group `group` (a group of another
//!   course, given in the config);
//! - `foreign-membership`: removes user `user` from group `group` (a
//!   membership it does not own);
//! - `unknown-user`: enrols user #999999999;
//! - `well-behaved`: enrols user `user` (to prove the method works);
//! - `mixed`: enrols user `user`, adds them to group `group` (another
//!   course's) and enrols user #999999999: one good action, two refused;
//! - `two-pages`: its reconcile creates a group and enrols user `user` on
//!   a first page, and puts them in that group on a second (a dry run
//!   must check the second as if the first had been applied).

use charon_sdk::*;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Clone)]
pub struct Config {
    pub behaviour: String,
    #[serde(default)]
    pub user: u64,
    #[serde(default)]
    pub group: u64,
}

struct Hostile;

#[inline(never)]
#[allow(unconditional_recursion)] // the point of this plugin
fn recurse(depth: u64, trail: &mut Vec<u64>) -> u64 {
    trail.push(depth);
    let below = recurse(depth + 1, trail);
    below.wrapping_add(std::hint::black_box(depth))
}

fn misbehave(config: &Config) -> Result<Plan, Refusal> {
    let mut plan = Plan::new();
    match config.behaviour.as_str() {
        "loop" => {
            let mut n: u64 = 0;
            loop {
                n = std::hint::black_box(n.wrapping_add(1));
            }
        }
        "memory" => {
            let mut hoard: Vec<Vec<u8>> = Vec::new();
            loop {
                hoard.push(vec![1u8; 1 << 20]);
                std::hint::black_box(&hoard);
            }
        }
        "recursion" => {
            let mut trail = Vec::new();
            std::hint::black_box(recurse(0, &mut trail));
        }
        "panic" => panic!("hostile plugin panicked on purpose"),
        "huge-plan" => {
            let reason = "x".repeat(100 * 1024);
            for user in 0..1000 {
                plan.enrol(user, Role::Learner, reason.clone());
            }
        }
        "many-actions" => {
            for user in 0..1_000_000 {
                plan.suspend(user, "");
            }
        }
        "other-course" => {
            plan.add_to_group(
                config.user,
                GroupRef::Existing(config.group),
                "reaching into another course",
            );
        }
        "foreign-membership" => {
            plan.remove_from_group(
                config.user,
                config.group,
                "removing a membership it does not own",
            );
        }
        "unknown-user" => {
            plan.enrol(999_999_999, Role::Learner, "a user that does not exist");
        }
        "well-behaved" => {
            plan.enrol(config.user, Role::Learner, "well-behaved enrolment");
        }
        "mixed" => {
            plan.enrol(config.user, Role::Learner, "a good enrolment");
            plan.add_to_group(
                config.user,
                GroupRef::Existing(config.group),
                "reaching into another course",
            );
            plan.enrol(999_999_999, Role::Learner, "a user that does not exist");
        }
        "two-pages" => {
            plan.create_group("team", "Team", "the first page makes the group");
            plan.enrol(config.user, Role::Learner, "the first page enrols");
        }
        other => {
            return Err(Refusal::new(
                "unknown-behaviour",
                format!("no behaviour {other:?}"),
            ));
        }
    }
    Ok(plan)
}

impl Plugin for Hostile {
    type Config = Config;

    fn manifest() -> Manifest {
        Manifest::new("hostile", "Hostile test plugin", "1.0.0")
            .describe("Misbehaves as its config says; for the host's tests only.")
            // Declared so that pages can add it as a form would.
            .field(ConfigField::new("behaviour", "Behaviour", FieldKind::Text).required())
            .field(
                ConfigField::new("user", "User id", FieldKind::Integer((Some(0), None)))
                    .default_json("0"),
            )
            .field(
                ConfigField::new("group", "Group id", FieldKind::Integer((Some(0), None)))
                    .default_json("0"),
            )
            .handles(&[
                EventKind::UserEnrolled,
                EventKind::SegmentMemberAdded,
                // So that the dry run of a segment's deletion meets a
                // plugin that misbehaves.
                EventKind::SegmentDeleted,
                EventKind::MethodEnabled,
            ])
            // It misbehaves on any request made through it; it lists the
            // teachers' ones, so that a course's self enrolment never
            // picks it.
            .answers(&[RequestKind::EnrolUsers, RequestKind::UnenrolUsers])
            .needs(&[
                Capability::ReadUsers,
                Capability::ReadEnrolments,
                Capability::ReadGroups,
            ])
    }

    fn validate(
        _course: CourseId,
        config: &Config,
        _host: &dyn Host,
    ) -> Result<(), Vec<FieldError>> {
        // Misbehaving at validation only when asked to, so tests can still
        // add methods that misbehave later.
        if config.behaviour.starts_with("validate-") {
            let inner = Config {
                behaviour: config.behaviour["validate-".len()..].to_owned(),
                ..config.clone()
            };
            misbehave(&inner).map_err(|r| vec![FieldError::new("behaviour", r.message)])?;
        }
        Ok(())
    }

    fn handle_event(
        ctx: &Context<Config>,
        _event: Event,
        _host: &dyn Host,
    ) -> Result<Plan, Refusal> {
        misbehave(&ctx.config)
    }

    fn handle_request(
        ctx: &Context<Config>,
        _request: Request,
        _host: &dyn Host,
    ) -> Result<Plan, Refusal> {
        misbehave(&ctx.config)
    }

    fn reconcile(
        ctx: &Context<Config>,
        cursor: Option<String>,
        _host: &dyn Host,
    ) -> Result<ReconcileStep, Refusal> {
        if ctx.config.behaviour == "two-pages" {
            let mut plan = Plan::new();
            if cursor.is_some() {
                plan.add_to_group(
                    ctx.config.user,
                    GroupRef::Created("team".into()),
                    "the second page groups",
                );
                return Ok(ReconcileStep { plan, next: None });
            }
            return Ok(ReconcileStep {
                plan: misbehave(&ctx.config)?,
                next: Some("second".into()),
            });
        }
        Ok(ReconcileStep {
            plan: misbehave(&ctx.config)?,
            next: None,
        })
    }
}

export_plugin!(Hostile);
