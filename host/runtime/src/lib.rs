//! The WebAssembly plugin runtime: loads enrolment-method components and
//! calls them in a sandbox.
//!
//! This crate knows nothing of storage, services or HTTP; it sits below
//! the host's services and is what the plugin harness runs too. A call
//! takes and returns the version-neutral types of [`contract`], over
//! domain types, whichever contract version the plugin speaks: it gets
//! its data through a [`Queries`] object the caller supplies (the services
//! pass one scoped to the enrolment method; the plugin harness passes scripted
//! data) and returns what the component returned, or a [`PluginError`]
//! saying how the component misbehaved. Every call runs in a fresh store
//! from the component's pre-instantiated template, with its memory capped,
//! its CPU time bounded by epoch interruption, and WASI granting nothing.
//!
//! Its tests that need built components (loading, the sandbox, hostile
//! plugins, the disk cache, concurrency) live in the host crate
//! (`host/src/runtime_tests/`), whose build script builds those components.

pub mod cache;
pub mod contract;
mod inspect;
mod limits;
mod state;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use charon_domain::{CourseId, Plan, SegmentId, SegmentPlan};
use wasmtime::component::{InstancePre, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};

pub use charon_contract::SUPPORTED as SUPPORTED_CONTRACTS;
pub use contract::{Queries, no_queries};
pub use inspect::{Inspected, MAX_COMPONENT_BYTES, inspect_component, parse_version};

use contract::{
    Bindings, Context, Event, FieldError, Manifest, ReconcileStep, Refusal, Request, RuleCalls,
    RuleContext, SegmentStep,
};
use state::CallState;

/// How long one epoch tick lasts; deadlines are counted in ticks.
const TICK: Duration = Duration::from_millis(5);

/// Limits and places of the runtime. The operator sets them with `charon
/// serve` flags; tests shrink them (a short deadline, a small memory) to
/// run fast.
#[derive(Clone, Debug)]
pub struct RuntimeConfig {
    /// Linear memory one call may use, in bytes, across all of the
    /// component's memories. A call that asks for more is stopped with
    /// [`PluginError::OutOfMemory`]. Default 64 MiB.
    pub memory_limit: usize,
    /// Wall-clock budget of one call, host queries included, counted in
    /// 5 ms epoch ticks (so it is honoured to within 5 ms). A call that
    /// runs longer is stopped with [`PluginError::Timeout`]. Default 1 s.
    pub deadline: Duration,
    /// Most actions one plan may hold; more is [`PluginError::PlanTooLarge`].
    /// Default 20,000.
    pub max_plan_actions: usize,
    /// Most bytes of text (reasons, names) one plan may hold, with a fixed
    /// 32 bytes counted per action. Default 8 MiB.
    pub max_plan_bytes: usize,
    /// Where compiled components are kept between runs (files named
    /// `<sha256>-<engine key>.cwasm`); `None` compiles on every load.
    pub cache_dir: Option<PathBuf>,
    /// Calls that may run at the same time. The pooling allocator reserves
    /// this many instance slots up front (address space, not memory); a
    /// call beyond it is refused at once with [`PluginError::Host`] rather
    /// than waiting. Default 64.
    pub max_concurrent_calls: u32,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            memory_limit: 64 << 20,
            deadline: Duration::from_secs(1),
            max_plan_actions: 20_000,
            max_plan_bytes: 8 << 20,
            cache_dir: None,
            max_concurrent_calls: 64,
        }
    }
}

/// How a component failed to load or misbehaved in a call.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    /// Refused at install: not wasm, not a component, unknown contract,
    /// forbidden import, bad manifest.
    #[error("{0}")]
    Invalid(String),
    #[error("the plugin ran longer than its {0:?} limit and was stopped")]
    Timeout(Duration),
    #[error("the plugin needed more than its {} MiB memory limit and was stopped", .0 >> 20)]
    OutOfMemory(usize),
    #[error("the plugin overflowed its stack (runaway recursion) and was stopped")]
    StackOverflow,
    #[error("the plugin crashed: {0}")]
    Crashed(String),
    #[error(
        "the plugin returned a plan of {actions} actions and {bytes} bytes; the limit is {max_actions} actions and {max_bytes} bytes"
    )]
    PlanTooLarge {
        actions: usize,
        bytes: usize,
        max_actions: usize,
        max_bytes: usize,
    },
    /// The host itself failed (compiling, the cache, too many calls).
    #[error("the plugin runtime failed: {0}")]
    Host(String),
}

impl PluginError {
    /// A stable code for the API and the enrolment method's last error.
    pub fn code(&self) -> &'static str {
        match self {
            PluginError::Invalid(_) => "invalid_plugin",
            PluginError::Timeout(_) => "plugin_timeout",
            PluginError::OutOfMemory(_) => "plugin_out_of_memory",
            PluginError::StackOverflow => "plugin_stack_overflow",
            PluginError::Crashed(_) => "plugin_crashed",
            PluginError::PlanTooLarge { .. } => "plan_too_large",
            PluginError::Host(_) => "runtime_error",
        }
    }
}

/// A loaded component: compiled, checked and ready to instantiate.
pub struct Plugin {
    /// Hex SHA-256 of the component bytes.
    pub sha256: String,
    /// The contract version from its custom section.
    pub contract: String,
    /// What `describe` returned when it was loaded.
    pub manifest: Manifest,
    /// Whether the machine code came from the disk cache rather than a
    /// compilation (for logs, tests and benchmarks).
    pub from_cache: bool,
    pre: InstancePre<CallState>,
    /// The contract version it speaks, with where its exports are.
    bindings: Bindings,
}

impl Plugin {
    /// What the registry keeps of its manifest, in the words of the
    /// contract it speaks.
    pub fn registry_manifest(&self) -> charon_domain::PluginManifest {
        self.manifest.to_registry(&self.bindings)
    }

    /// What one instance of the component takes from the instance pool
    /// (memories, tables, initial memory), to check it against
    /// [`MEMORIES_PER_CALL`] and [`TABLES_PER_CALL`]; `None` when wasmtime
    /// cannot tell (imported resources).
    pub fn resources_required(&self) -> Option<wasmtime::ResourcesRequired> {
        self.pre.component().resources_required()
    }
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("id", &self.manifest.id)
            .field("version", &self.manifest.version)
            .field("sha256", &self.sha256)
            .finish()
    }
}

/// What one component may instantiate, per call. A Rust `wasm32-wasip2`
/// component (the SDK's output) instantiates 3 core modules (the program,
/// the WASI adapter and the import shim) with 1 memory and 2 tables; the
/// limits leave room for other toolchains without letting one call take a
/// large share of the pool. A component over them is refused at load.
pub const CORE_INSTANCES_PER_CALL: u32 = 8;
pub const MEMORIES_PER_CALL: u32 = 2;
pub const TABLES_PER_CALL: u32 = 4;
/// Table elements per table: ours have 100–200 (function pointers).
const TABLE_ELEMENTS: usize = 20_000;

/// Linear memory that stays mapped in a pooled slot between calls (reset
/// with a memset instead of being unmapped), so a call does not take a page
/// fault on every page of the shadow stack and heap it touches: the first
/// pages of a Rust component's memory are its stack.
const MEMORY_KEEP_RESIDENT: usize = 1 << 20;

/// Table bytes reset in place between calls: our tables hold 100–200
/// function pointers, so the first 1,024 entries cover them; resetting all
/// 20,000 slots each call cost more than the call itself.
const TABLE_KEEP_RESIDENT: usize = 1024 * std::mem::size_of::<usize>();

const WASM_PAGE: usize = 64 << 10;

/// What the calls of one plugin version cost and how they ended, since the
/// runtime started (what the operator's plugin page shows).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallStats {
    pub calls: u64,
    /// Calls that ended in a [`PluginError`] (a refusal is an answer, not
    /// a failure).
    pub failures: u64,
    pub total: Duration,
    pub longest: Duration,
    /// The last failure's code and message.
    pub last_failure: Option<(String, String)>,
}

impl CallStats {
    /// The mean duration of a call.
    pub fn mean(&self) -> Duration {
        if self.calls == 0 {
            return Duration::ZERO;
        }
        self.total / u32::try_from(self.calls).unwrap_or(u32::MAX)
    }
}

/// The engine, the linker and the epoch ticker. One per host process (tests
/// make many; each reserves address space for its pool, see [`Runtime::new`]).
pub struct Runtime {
    engine: Engine,
    linker: Linker<CallState>,
    config: RuntimeConfig,
    /// Calls running now, against `config.max_concurrent_calls`.
    in_flight: AtomicU32,
    /// Per `(plugin id, version)`: a short lock per call, never held
    /// while a plugin runs.
    stats: std::sync::Mutex<std::collections::HashMap<(String, String), CallStats>>,
    ticker: Option<Ticker>,
}

/// The thread that advances the engine's epoch every [`TICK`]. It stops as
/// soon as its channel's sender is dropped, and the runtime waits for it,
/// so dropping a runtime leaves no thread behind.
struct Ticker {
    stop: mpsc::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Ticker {
    fn start(engine: &Engine) -> Result<Self, PluginError> {
        let (stop, stopped) = mpsc::channel::<()>();
        // A weak handle, so the ticker never keeps the engine (and its
        // pool's reservation) alive after the runtime is gone.
        let engine = engine.weak();
        let thread = std::thread::Builder::new()
            .name("charon-epoch".into())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(TICK) {
                    match engine.upgrade() {
                        Some(engine) => engine.increment_epoch(),
                        None => break,
                    }
                }
            })
            .map_err(|e| PluginError::Host(format!("cannot start the epoch ticker: {e}")))?;
        Ok(Self { stop, thread })
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        if let Some(Ticker { stop, thread }) = self.ticker.take() {
            drop(stop);
            // The thread wakes on the closed channel at once; it cannot
            // panic, and if it did there is nothing left to clean up.
            let _ = thread.join();
        }
    }
}

/// Holds one of the `max_concurrent_calls` places for the length of a call.
struct CallSlot<'a>(&'a AtomicU32);

impl Drop for CallSlot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Runtime {
    /// Builds the engine and its instance pool and starts the epoch ticker.
    ///
    /// The pool reserves, per concurrent call, [`MEMORIES_PER_CALL`] slots
    /// of 4 GiB of address space plus guards: with a 4 GiB reservation a
    /// 32-bit memory needs no bounds checks in compiled code, and address
    /// space (not memory: nothing is committed until touched) is cheap on
    /// 64-bit hosts, about 0.5 TiB of the 128 TiB for the default 64 calls.
    /// A configuration the host cannot reserve is a [`PluginError::Host`].
    /// The memory limit is rounded up to whole 64 KiB wasm pages.
    pub fn new(config: RuntimeConfig) -> Result<Self, PluginError> {
        let calls = config.max_concurrent_calls.max(1);
        // Whole wasm pages; a memory cannot stop half-way through one.
        let memory_limit = config.memory_limit.next_multiple_of(WASM_PAGE);
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(calls)
            .total_core_instances(calls.saturating_mul(CORE_INSTANCES_PER_CALL))
            .total_memories(calls.saturating_mul(MEMORIES_PER_CALL))
            .total_tables(calls.saturating_mul(TABLES_PER_CALL))
            .max_core_instances_per_component(CORE_INSTANCES_PER_CALL)
            .max_memories_per_component(MEMORIES_PER_CALL)
            .max_tables_per_component(TABLES_PER_CALL)
            .table_elements(TABLE_ELEMENTS)
            .max_memory_size(memory_limit)
            .linear_memory_keep_resident(MEMORY_KEEP_RESIDENT.min(memory_limit))
            .table_keep_resident(TABLE_KEEP_RESIDENT)
            // Resets only the pages a call dirtied (Linux ≥ 6.7; elsewhere
            // the plain memset/madvise): with it a fresh instance per call
            // costs a few dirty pages, not a 1 MiB memset or page faults on
            // every page of the stack.
            .pagemap_scan(wasmtime::Enabled::Auto);
        let mut wasm = Config::new();
        wasm.wasm_component_model(true)
            .epoch_interruption(true)
            // Native stack for wasm frames; Rust's own (shadow) stack lives
            // in linear memory. Well under the 2 MiB of the threads that
            // make calls, so overflow traps instead of crashing the host.
            .max_wasm_stack(512 << 10)
            .memory_reservation(4 << 30)
            .memory_guard_size(32 << 20)
            // Copy the (small) data segments into the pooled memory rather
            // than map the module's image copy-on-write: a plugin's image
            // is tens of KiB, and the mmap/munmap pair per instance cost
            // more than the copy (no-op call 22.8 → 17.9 µs, BENCHMARKS.md).
            .memory_init_cow(false)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&wasm).map_err(host_error)?;
        let mut linker = Linker::new(&engine);
        // std on wasm32-wasip2 imports WASI; it is linked with nothing
        // granted (see `state::sandbox_wasi`).
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(host_error)?;
        contract::add_to_linker(&mut linker).map_err(host_error)?;
        let ticker = Ticker::start(&engine)?;
        Ok(Self {
            engine,
            linker,
            config: RuntimeConfig {
                max_concurrent_calls: calls,
                memory_limit,
                ..config
            },
            in_flight: AtomicU32::new(0),
            stats: Default::default(),
            ticker: Some(ticker),
        })
    }

    pub fn config(&self) -> &RuntimeConfig {
        &self.config
    }

    /// Checks and compiles a component (or loads it from the disk cache),
    /// pre-instantiates it, binds the contract version it declares and
    /// asks it to describe itself.
    pub fn load(&self, bytes: &[u8]) -> Result<Plugin, PluginError> {
        let inspected = inspect_component(bytes)?;
        let (component, from_cache) = cache::compile(
            &self.engine,
            self.config.cache_dir.as_deref(),
            &inspected.sha256,
            bytes,
        )?;
        inspect::check_imports(&self.engine, &component, &inspected.contract)?;
        let pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(|e| PluginError::Invalid(format!("the component cannot be linked: {e}")))?;
        let bindings = Bindings::of(&inspected.contract, &pre)?;
        let mut plugin = Plugin {
            sha256: inspected.sha256,
            contract: inspected.contract,
            from_cache,
            manifest: Manifest::default(),
            pre,
            bindings,
        };
        let manifest = self.call(&plugin, no_queries(), |i, s| {
            plugin.bindings.calls().describe(i, s)
        })?;
        inspect::check_manifest(&manifest)?;
        plugin.manifest = manifest;
        Ok(plugin)
    }

    /// The wasmtime engine, for tests and benchmarks of compilation.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Instantiates the plugin in a fresh store and drops it: what every
    /// call pays before the plugin's code runs (for benchmarks and health
    /// checks).
    pub fn instantiate(&self, plugin: &Plugin) -> Result<(), PluginError> {
        self.call(plugin, no_queries(), |_, _| Ok(()))
    }

    /// Asks the plugin to check (and perhaps normalise) an enrolment method's config
    /// for `course`: the config to store, or the fields it refuses.
    pub fn validate_config(
        &self,
        plugin: &Plugin,
        queries: Box<dyn Queries>,
        course: CourseId,
        config: &str,
    ) -> Result<Result<String, Vec<FieldError>>, PluginError> {
        self.call(plugin, queries, |i, s| {
            plugin
                .bindings
                .calls()
                .validate_config(i, s, course, config)
        })
    }

    /// Sends an event the plugin's manifest asks for: its plan, or its
    /// refusal.
    pub fn handle_event(
        &self,
        plugin: &Plugin,
        queries: Box<dyn Queries>,
        ctx: &Context,
        event: &Event,
    ) -> Result<Result<Plan, Refusal>, PluginError> {
        let out = self.call(plugin, queries, |i, s| {
            plugin.bindings.calls().handle_event(i, s, ctx, event)
        })?;
        self.checked(out, |p| p)
    }

    /// Passes on a person's request: the plugin's plan, or its refusal.
    pub fn handle_request(
        &self,
        plugin: &Plugin,
        queries: Box<dyn Queries>,
        ctx: &Context,
        request: &Request,
    ) -> Result<Result<Plan, Refusal>, PluginError> {
        let out = self.call(plugin, queries, |i, s| {
            plugin.bindings.calls().handle_request(i, s, ctx, request)
        })?;
        self.checked(out, |p| p)
    }

    /// One page of reconciling the enrolment method: the page's plan and the
    /// cursor of the next, or the plugin's refusal.
    pub fn reconcile(
        &self,
        plugin: &Plugin,
        queries: Box<dyn Queries>,
        ctx: &Context,
        cursor: Option<&str>,
    ) -> Result<Result<ReconcileStep, Refusal>, PluginError> {
        let out = self.call(plugin, queries, |i, s| {
            plugin.bindings.calls().reconcile(i, s, ctx, cursor)
        })?;
        self.checked(out, |step| &step.plan)
    }

    /// Asks the plugin to turn a method's config from version
    /// `from_version` of the plugin into one for this version: `None` when
    /// its contract has no migration (before 0.4.0; the config is kept as
    /// it is), else the migrated config or the fields it refuses.
    pub fn migrate_config(
        &self,
        plugin: &Plugin,
        queries: Box<dyn Queries>,
        course: CourseId,
        from_version: &str,
        config: &str,
    ) -> Result<Option<Result<String, Vec<FieldError>>>, PluginError> {
        let Some(calls) = plugin.bindings.migrate_calls() else {
            return Ok(None);
        };
        self.call(plugin, queries, |i, s| {
            calls.migrate_config(i, s, course, from_version, config)
        })
        .map(Some)
    }

    /// Asks a segment-rule plugin to check (and perhaps normalise) a rule's
    /// config for `segment`: the config to store, or the fields it refuses.
    pub fn validate_rule(
        &self,
        plugin: &Plugin,
        queries: Box<dyn Queries>,
        segment: SegmentId,
        config: &str,
    ) -> Result<Result<String, Vec<FieldError>>, PluginError> {
        let calls = rule_calls(plugin)?;
        self.call(plugin, queries, |i, s| {
            calls.validate_rule(i, s, segment, config)
        })
    }

    /// Sends an event to a segment rule: its segment plan, or its refusal.
    pub fn rule_event(
        &self,
        plugin: &Plugin,
        queries: Box<dyn Queries>,
        ctx: &RuleContext,
        event: &Event,
    ) -> Result<Result<SegmentPlan, Refusal>, PluginError> {
        let calls = rule_calls(plugin)?;
        let out = self.call(plugin, queries, |i, s| calls.rule_event(i, s, ctx, event))?;
        self.segment_checked(out, |p| p)
    }

    /// One page of bringing a rule's segment in line: the page's segment
    /// plan and the cursor of the next, or the plugin's refusal.
    pub fn rule_reconcile(
        &self,
        plugin: &Plugin,
        queries: Box<dyn Queries>,
        ctx: &RuleContext,
        cursor: Option<&str>,
    ) -> Result<Result<SegmentStep, Refusal>, PluginError> {
        let calls = rule_calls(plugin)?;
        let out = self.call(plugin, queries, |i, s| {
            calls.rule_reconcile(i, s, ctx, cursor)
        })?;
        self.segment_checked(out, |step| &step.plan)
    }

    /// [`Self::checked`] for segment plans: the same limits, with each
    /// action counted as its reason and the fixed 32 bytes.
    fn segment_checked<T>(
        &self,
        out: Result<T, Refusal>,
        plan: impl Fn(&T) -> &SegmentPlan,
    ) -> Result<Result<T, Refusal>, PluginError> {
        if let Ok(value) = &out {
            let p = plan(value);
            let bytes: usize = p.actions.iter().map(|a| 32 + a.reason.len()).sum();
            if p.actions.len() > self.config.max_plan_actions || bytes > self.config.max_plan_bytes
            {
                return Err(PluginError::PlanTooLarge {
                    actions: p.actions.len(),
                    bytes,
                    max_actions: self.config.max_plan_actions,
                    max_bytes: self.config.max_plan_bytes,
                });
            }
        }
        Ok(out)
    }

    /// Refuses plans over the size limits, counted on the neutral plan
    /// whatever contract version it came from.
    fn checked<T>(
        &self,
        out: Result<T, Refusal>,
        plan: impl Fn(&T) -> &Plan,
    ) -> Result<Result<T, Refusal>, PluginError> {
        if let Ok(value) = &out {
            let p = plan(value);
            let bytes: usize = p.actions.iter().map(limits::action_bytes).sum();
            if p.actions.len() > self.config.max_plan_actions || bytes > self.config.max_plan_bytes
            {
                return Err(PluginError::PlanTooLarge {
                    actions: p.actions.len(),
                    bytes,
                    max_actions: self.config.max_plan_actions,
                    max_bytes: self.config.max_plan_bytes,
                });
            }
        }
        Ok(out)
    }

    /// One call in a fresh store: instantiate from the template, run `f`,
    /// and turn a trap into what it means.
    fn call<R>(
        &self,
        plugin: &Plugin,
        queries: Box<dyn Queries>,
        f: impl FnOnce(&wasmtime::component::Instance, &mut Store<CallState>) -> wasmtime::Result<R>,
    ) -> Result<R, PluginError> {
        let _slot = self.take_slot()?;
        let state = CallState::new(queries, &plugin.manifest, self.config.memory_limit);
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limits);
        let ticks = self
            .config
            .deadline
            .as_millis()
            .div_ceil(TICK.as_millis())
            .max(1) as u64;
        store.set_epoch_deadline(ticks);
        store.epoch_deadline_trap();
        let started = std::time::Instant::now();
        let result = plugin
            .pre
            .instantiate(&mut store)
            .and_then(|instance| f(&instance, &mut store))
            .map_err(|e| limits::explain(e, store.data(), &self.config));
        self.count(plugin, started.elapsed(), result.as_ref().err());
        result
    }

    fn count(&self, plugin: &Plugin, took: Duration, failure: Option<&PluginError>) {
        // `describe` at load has no manifest yet: not a call of the plugin's.
        if plugin.manifest.id.is_empty() {
            return;
        }
        let mut stats = self.stats.lock().unwrap_or_else(|p| p.into_inner());
        let s = stats
            .entry((plugin.manifest.id.clone(), plugin.manifest.version.clone()))
            .or_default();
        s.calls += 1;
        s.total += took;
        s.longest = s.longest.max(took);
        if let Some(e) = failure {
            s.failures += 1;
            s.last_failure = Some((e.code().to_owned(), e.to_string()));
        }
    }

    /// The call statistics of every version of plugin `id` that was called,
    /// by version.
    pub fn call_stats(&self, id: &str) -> Vec<(String, CallStats)> {
        let stats = self.stats.lock().unwrap_or_else(|p| p.into_inner());
        let mut out: Vec<(String, CallStats)> = stats
            .iter()
            .filter(|((plugin, _), _)| plugin == id)
            .map(|((_, version), s)| (version.clone(), s.clone()))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}

impl Runtime {
    /// How many calls are running now (for health checks and tests).
    pub fn calls_in_flight(&self) -> u32 {
        self.in_flight.load(Ordering::Acquire)
    }

    /// Counts the call in, or refuses it when every place is taken: waiting
    /// here would stall the request or job behind it for as long as other
    /// plugins run, and the pool would refuse the instance anyway.
    fn take_slot(&self) -> Result<CallSlot<'_>, PluginError> {
        let max = self.config.max_concurrent_calls;
        self.in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .map_err(|_| busy(max))?;
        Ok(CallSlot(&self.in_flight))
    }
}

/// The segment-rule calls of a plugin of that kind; any other is refused
/// before it is instantiated.
fn rule_calls(plugin: &Plugin) -> Result<&dyn RuleCalls, PluginError> {
    match plugin.bindings.rule_calls() {
        Some(calls) if plugin.manifest.kind == contract::PluginKind::SegmentRule => Ok(calls),
        _ => Err(PluginError::Invalid(format!(
            "plugin {:?} is not a segment rule (it is an {} plugin, contract {})",
            plugin.manifest.id,
            plugin.manifest.kind.name(),
            plugin.contract
        ))),
    }
}

pub(crate) fn busy(max: u32) -> PluginError {
    PluginError::Host(format!(
        "too many plugin calls at once: all {max} places are taken; the call was not run, try again"
    ))
}

fn host_error(e: impl std::fmt::Display) -> PluginError {
    PluginError::Host(e.to_string())
}

#[cfg(test)]
mod tests;
