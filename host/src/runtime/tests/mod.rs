//! The runtime against real components built from `tests/plugins/`: the
//! hostile plugin's misbehaviours, refused loads, the sandbox, concurrency
//! and the disk cache. Every test uses a short deadline and a small memory
//! so the whole module runs in a few seconds.

mod cache;
mod concurrency;
mod hostile;
mod loading;
mod sandbox;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::*;

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

pub(crate) fn ctx(config: &str) -> wit::Context {
    wit::Context {
        instance: 7,
        course: 3,
        config: config.into(),
        settings: "{}".into(),
        enabled: true,
        now: 1_700_000_000_000,
    }
}

pub(crate) fn behaviour(b: &str) -> wit::Context {
    ctx(&format!(r#"{{"behaviour":"{b}","user":42,"group":9}}"#))
}

pub(crate) fn enrolled() -> wit::Event {
    wit::Event::UserEnrolled(wit::EnrolmentEvent {
        user: 42,
        instance: 7,
    })
}

/// The user the hostile plugin's well-behaved plan enrols.
#[track_caller]
pub(crate) fn enrolled_user(plan: &wit::Plan) -> u64 {
    match &plan.actions[..] {
        [
            wit::Action {
                op: wit::Operation::Enrol(e),
                ..
            },
        ] => e.user,
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
            .handle_event(&self.noop, state::no_queries(), &ctx("{}"), &enrolled())
            .unwrap()
            .unwrap();
        assert!(plan.actions.is_empty());
        let plan = self
            .rt
            .handle_event(
                &self.hostile,
                state::no_queries(),
                &behaviour("well-behaved"),
                &enrolled(),
            )
            .unwrap()
            .unwrap();
        assert_eq!(plan.actions.len(), 1);
        assert_eq!(enrolled_user(&plan), 42);
        assert_eq!(
            self.rt.in_flight.load(Ordering::Acquire),
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
    fn user(&mut self, id: u64) -> Result<Option<wit::User>, wit::HostError> {
        self.ask("user");
        Ok(Some(wit::User {
            id,
            username: "ada".into(),
            firstname: "Ada".into(),
            lastname: "Lovelace".into(),
            email: "ada@example.org".into(),
            suspended: false,
        }))
    }
    fn segment_exists(&mut self, _: u64) -> Result<Option<String>, wit::HostError> {
        self.ask("segment_exists");
        Ok(Some("Secret segment".into()))
    }
    fn segment_members(
        &mut self,
        _: u64,
        _: Option<u64>,
        _: u32,
    ) -> Result<wit::SegmentMemberPage, wit::HostError> {
        self.ask("segment_members");
        Ok(wit::SegmentMemberPage {
            members: [1, 2]
                .map(|user| wit::SegmentMember {
                    user,
                    suspended: false,
                })
                .to_vec(),
            next: None,
        })
    }
    fn is_segment_member(&mut self, _: u64, _: u64) -> Result<bool, wit::HostError> {
        self.ask("is_segment_member");
        Ok(true)
    }
    fn course_enrolments(
        &mut self,
        _: Option<u64>,
        _: u32,
    ) -> Result<wit::EnrolmentPage, wit::HostError> {
        self.ask("course_enrolments");
        Ok(wit::EnrolmentPage {
            enrolments: vec![],
            next: None,
        })
    }
    fn user_enrolments(&mut self, _: u64) -> Result<Vec<wit::Enrolment>, wit::HostError> {
        self.ask("user_enrolments");
        Ok(vec![])
    }
    fn instance_enrolments(
        &mut self,
        _: Option<u64>,
        _: u32,
    ) -> Result<wit::EnrolmentPage, wit::HostError> {
        self.ask("instance_enrolments");
        Ok(wit::EnrolmentPage {
            enrolments: vec![],
            next: None,
        })
    }
    fn instance_enrolment_count(&mut self) -> Result<u64, wit::HostError> {
        self.ask("instance_enrolment_count");
        Ok(12345)
    }
    fn sibling_instances(&mut self) -> Result<Vec<wit::Sibling>, wit::HostError> {
        self.ask("sibling_instances");
        Ok(vec![])
    }
    fn instance_group(&mut self, _: &str) -> Result<Option<u64>, wit::HostError> {
        self.ask("instance_group");
        Ok(None)
    }
    fn course_groups(&mut self) -> Result<Vec<wit::CourseGroup>, wit::HostError> {
        self.ask("course_groups");
        Ok(vec![wit::CourseGroup {
            id: 1,
            name: "Secret group".into(),
            idnumber: None,
        }])
    }
    fn group_members(
        &mut self,
        _: u64,
        _: Option<u64>,
        _: u32,
    ) -> Result<wit::MemberPage, wit::HostError> {
        self.ask("group_members");
        Ok(wit::MemberPage {
            members: vec![],
            next: None,
        })
    }
    fn group_membership(
        &mut self,
        _: u64,
        _: u64,
    ) -> Result<Option<wit::GroupMember>, wit::HostError> {
        self.ask("group_membership");
        Ok(None)
    }
    fn log(&mut self, _: wit::LogLevel, _: &str) {}
}

#[test]
fn a_noop_component_loads_and_describes_itself() {
    let rt = Runtime::new(test_config()).unwrap();
    let plugin = rt.load(&test_plugin_bytes("charon-test-noop")).unwrap();
    assert_eq!(plugin.manifest.id, "noop");
    assert_eq!(plugin.contract, "0.1.0");
    let plan = rt
        .handle_event(
            &plugin,
            state::no_queries(),
            &ctx("{}"),
            &wit::Event::UserDeleted(3),
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
        let needs = plugin
            .pre
            .instance_pre()
            .component()
            .resources_required()
            .unwrap();
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

/// The epoch ticker is one thread per runtime; dropping the runtime stops
/// and joins it, so tests and hosts that make many runtimes leak nothing.
#[test]
fn dropping_runtimes_leaves_no_ticker_thread_behind() {
    fn tickers() -> usize {
        std::fs::read_dir("/proc/self/task")
            .map(|tasks| {
                tasks
                    .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
                    .filter(|name| name.trim() == "charon-epoch")
                    .count()
            })
            .unwrap_or(0)
    }
    let before = tickers();
    for _ in 0..50 {
        let rt = Runtime::new(test_config()).unwrap();
        drop(rt);
    }
    // Other tests run alongside and hold a few runtimes of their own.
    let after = tickers();
    assert!(
        after < before + 10,
        "{before} ticker threads before, {after} after 50 runtimes were dropped"
    );

    // And the ticker stops by itself if the engine goes first.
    let engine = Engine::default();
    let ticker = Ticker::start(&engine).unwrap();
    drop(engine);
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    while !ticker.thread.is_finished() && std::time::Instant::now() < deadline {
        std::thread::sleep(TICK);
    }
    assert!(ticker.thread.is_finished());
}

#[test]
fn plugin_error_codes_are_stable() {
    assert_eq!(
        PluginError::Timeout(Duration::from_secs(1)).code(),
        "plugin_timeout"
    );
    assert_eq!(
        PluginError::OutOfMemory(1 << 20).to_string(),
        "the plugin needed more than its 1 MiB memory limit and was stopped"
    );
    assert_eq!(busy(3).code(), "runtime_error");
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
