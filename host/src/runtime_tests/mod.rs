//! The plugin runtime (crate `charon-runtime`) against real components
//! built from `tests/plugins/`: the hostile plugin's misbehaviours, refused
//! loads, the sandbox, concurrency and the disk cache, all through the
//! runtime's public API. Every test uses a short deadline and a small
//! memory so the whole module runs in a few seconds.
//!
//! They live in the host crate, not the runtime's, because the components
//! are built by the host's `build.rs` (which hands their folder over in
//! `CHARON_PLUGIN_WASM_DIR`); the runtime crate would need a second copy
//! of that build. Its own tests (`host/runtime/src/tests.rs`) need no
//! component.

mod cache;
mod concurrency;
mod hostile;
mod loading;
mod sandbox;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::domain::*;
use crate::runtime::contract::*;
use crate::runtime::*;

pub(crate) fn test_plugin_bytes(crate_name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CHARON_PLUGIN_WASM_DIR"))
        .join(format!("{}.wasm", crate_name.replace('-', "_")));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Limits small enough that a runaway plugin is stopped quickly, few pool
/// slots so the many runtimes of the tests reserve little, and a disk cache
/// shared by every test (and run): an unoptimised Cranelift takes seconds
/// to compile a component, a cache hit milliseconds.
pub(crate) fn test_config() -> RuntimeConfig {
    RuntimeConfig {
        deadline: Duration::from_millis(200),
        memory_limit: 16 << 20,
        max_concurrent_calls: 8,
        cache_dir: Some(std::env::temp_dir().join("charon-runtime-tests-cache")),
        ..RuntimeConfig::default()
    }
}

pub(crate) fn ctx(config: &str) -> Context {
    Context {
        method: EnrolmentMethodId(7),
        course: CourseId(3),
        config: config.into(),
        settings: "{}".into(),
        enabled: true,
        now: Timestamp(1_700_000_000_000),
    }
}

pub(crate) fn behaviour(b: &str) -> Context {
    ctx(&format!(r#"{{"behaviour":"{b}","user":42,"group":9}}"#))
}

pub(crate) fn enrolled() -> Event {
    Event::UserEnrolled {
        user: UserId(42),
        method: EnrolmentMethodId(7),
    }
}

/// The user the hostile plugin's well-behaved plan enrols.
#[track_caller]
pub(crate) fn enrolled_user(plan: &Plan) -> u64 {
    match &plan.actions[..] {
        [
            PlanAction {
                op: PlanOp::Enrol { user, .. },
                ..
            },
        ] => user.0,
        other => panic!("not one enrolment: {other:?}"),
    }
}

/// A runtime with the noop and hostile plugins loaded.
pub(crate) struct Loaded {
    pub rt: Runtime,
    pub noop: Plugin,
    pub hostile: Plugin,
}

impl Loaded {
    pub fn new(config: RuntimeConfig) -> Self {
        let rt = Runtime::new(config).unwrap();
        let noop = rt.load(&test_plugin_bytes("charon-test-noop")).unwrap();
        let hostile = rt.load(&test_plugin_bytes("charon-test-hostile")).unwrap();
        Self { rt, noop, hostile }
    }

    /// After a misbehaving call, the runtime still serves: the noop plugin
    /// and the same hostile plugin, well-behaved, both answer.
    #[track_caller]
    pub fn assert_still_serves(&self) {
        let plan = self
            .rt
            .handle_event(&self.noop, no_queries(), &ctx("{}"), &enrolled())
            .unwrap()
            .unwrap();
        assert!(plan.actions.is_empty());
        let plan = self
            .rt
            .handle_event(
                &self.hostile,
                no_queries(),
                &behaviour("well-behaved"),
                &enrolled(),
            )
            .unwrap()
            .unwrap();
        assert_eq!(plan.actions.len(), 1);
        assert_eq!(enrolled_user(&plan), 42);
        assert_eq!(
            self.rt.calls_in_flight(),
            0,
            "every call gave its place back"
        );
    }
}

/// Scripted answers to the host queries, recording which were asked, so a
/// test proves a refused query never reached the caller's data.
#[derive(Clone, Default)]
pub(crate) struct Scripted {
    pub asked: Arc<Mutex<Vec<&'static str>>>,
}

impl Scripted {
    fn ask(&self, what: &'static str) {
        self.asked.lock().unwrap().push(what);
    }
}

impl Queries for Scripted {
    fn user(&mut self, id: UserId) -> Result<Option<User>, HostError> {
        self.ask("user");
        Ok(Some(User {
            id,
            username: "ada".into(),
            email: "ada@example.org".into(),
            firstname: "Ada".into(),
            lastname: "Lovelace".into(),
            status: UserStatus::Active,
            site_role: SiteRole::User,
            profile: Default::default(),
            password_hash: None,
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
        }))
    }
    fn list_users(&mut self, _: Option<UserId>, _: u32) -> Result<Page<User>, HostError> {
        self.ask("list_users");
        Ok(Page {
            items: Vec::new(),
            next: None,
        })
    }
    fn users_by_email_domain(
        &mut self,
        _: &str,
        _: Option<UserId>,
        _: u32,
    ) -> Result<Page<User>, HostError> {
        self.ask("users_by_email_domain");
        Ok(Page {
            items: Vec::new(),
            next: None,
        })
    }
    fn users_by_profile_value(
        &mut self,
        _: &str,
        _: &str,
        _: Option<UserId>,
        _: u32,
    ) -> Result<Page<User>, HostError> {
        self.ask("users_by_profile_value");
        Ok(Page {
            items: Vec::new(),
            next: None,
        })
    }
    fn segment_exists(&mut self, _: SegmentId) -> Result<Option<String>, HostError> {
        self.ask("segment_exists");
        Ok(Some("Secret segment".into()))
    }
    fn segment_members(
        &mut self,
        _: SegmentId,
        _: Option<UserId>,
        _: u32,
    ) -> Result<Page<SegmentMember>, HostError> {
        self.ask("segment_members");
        Ok(Page {
            items: [1, 2]
                .map(|user| SegmentMember {
                    user: UserId(user),
                    suspended: false,
                })
                .to_vec(),
            next: None,
        })
    }
    fn is_segment_member(&mut self, _: SegmentId, _: UserId) -> Result<bool, HostError> {
        self.ask("is_segment_member");
        Ok(true)
    }
    fn course_enrolments(
        &mut self,
        _: Option<UserId>,
        _: u32,
    ) -> Result<Page<Enrolment>, HostError> {
        self.ask("course_enrolments");
        Ok(Page {
            items: vec![],
            next: None,
        })
    }
    fn user_enrolments(&mut self, _: UserId) -> Result<Vec<Enrolment>, HostError> {
        self.ask("user_enrolments");
        Ok(vec![])
    }
    fn method_enrolments(
        &mut self,
        _: Option<UserId>,
        _: u32,
    ) -> Result<Page<Enrolment>, HostError> {
        self.ask("instance_enrolments");
        Ok(Page {
            items: vec![],
            next: None,
        })
    }
    fn method_enrolment_count(&mut self) -> Result<u64, HostError> {
        self.ask("instance_enrolment_count");
        Ok(12345)
    }
    fn sibling_methods(&mut self) -> Result<Vec<EnrolmentMethod>, HostError> {
        self.ask("sibling_instances");
        Ok(vec![])
    }
    fn method_group(&mut self, _: &str) -> Result<Option<CourseGroupId>, HostError> {
        self.ask("instance_group");
        Ok(None)
    }
    fn course_groups(&mut self) -> Result<Vec<CourseGroup>, HostError> {
        self.ask("course_groups");
        Ok(vec![CourseGroup {
            id: CourseGroupId(1),
            course: CourseId(3),
            name: "Secret group".into(),
            idnumber: None,
            description: String::new(),
            created_at: Timestamp(0),
        }])
    }
    fn group_members(
        &mut self,
        _: CourseGroupId,
        _: Option<UserId>,
        _: u32,
    ) -> Result<Page<GroupMembership>, HostError> {
        self.ask("group_members");
        Ok(Page {
            items: vec![],
            next: None,
        })
    }
    fn group_membership(
        &mut self,
        _: CourseGroupId,
        _: UserId,
    ) -> Result<Option<GroupMembership>, HostError> {
        self.ask("group_membership");
        Ok(None)
    }
    fn log(&mut self, _: LogLevel, _: &str) {}
}

#[test]
fn a_noop_component_loads_and_describes_itself() {
    let rt = Runtime::new(test_config()).unwrap();
    let plugin = rt.load(&test_plugin_bytes("charon-test-noop")).unwrap();
    assert_eq!(plugin.manifest.id, "noop");
    assert_eq!(plugin.contract, "0.4.0");
    let plan = rt
        .handle_event(
            &plugin,
            no_queries(),
            &ctx("{}"),
            &Event::UserDeleted(UserId(3)),
        )
        .unwrap()
        .unwrap();
    assert!(plan.actions.is_empty());
}

/// The pool is sized from what one of our components instantiates; every
/// plugin we build must fit one call's share of it, with room to spare.
#[test]
fn our_components_fit_one_call_of_the_pool() {
    let rt = Runtime::new(test_config()).unwrap();
    let mut names: Vec<String> = ["noop", "hostile", "probe"]
        .iter()
        .map(|n| format!("charon-test-{n}"))
        .collect();
    names.extend(
        crate::services::plugins::bundled_components()
            .iter()
            .map(|(name, _)| name.to_string()),
    );
    for name in names {
        let bytes = match crate::services::plugins::bundled_components()
            .iter()
            .find(|(n, _)| **n == *name)
        {
            Some((_, bytes)) => bytes.to_vec(),
            None => test_plugin_bytes(&name),
        };
        let plugin = rt.load(&bytes).unwrap();
        let needs = plugin.resources_required().unwrap();
        assert!(
            needs.num_memories <= MEMORIES_PER_CALL,
            "{name}: {} memories",
            needs.num_memories
        );
        assert!(
            needs.num_tables <= TABLES_PER_CALL,
            "{name}: {} tables",
            needs.num_tables
        );
        let initial_memory = needs.max_initial_memory_size.unwrap_or(0) * 65536;
        assert!(
            initial_memory < (4 << 20),
            "{name}: starts with {initial_memory} bytes of memory"
        );
    }
}

#[test]
fn limits_are_normalised_to_what_the_engine_can_enforce() {
    let rt = Runtime::new(RuntimeConfig {
        memory_limit: (16 << 20) + 1,
        max_concurrent_calls: 0,
        ..test_config()
    })
    .unwrap();
    assert_eq!(
        rt.config().memory_limit,
        (16 << 20) + (64 << 10),
        "whole wasm pages"
    );
    assert_eq!(
        rt.config().max_concurrent_calls,
        1,
        "at least one call at a time"
    );
    let noop = rt.load(&test_plugin_bytes("charon-test-noop")).unwrap();
    rt.instantiate(&noop).unwrap();
}
