//! The WebAssembly plugin runtime: loads enrolment-method components and
//! calls them in a sandbox.
//!
//! This module knows nothing of storage or services. A call gets its data
//! through a [`Queries`] object the caller supplies (the services pass one
//! scoped to the instance; the plugin harness passes scripted data) and
//! returns what the component returned, or a [`PluginError`] saying how the
//! component misbehaved. Every call runs in a fresh store from the
//! component's pre-instantiated template, with its memory capped, its CPU
//! time bounded by epoch interruption, and WASI granting nothing.

mod cache;
mod inspect;
mod limits;
mod state;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use wasmtime::component::Linker;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};

pub use inspect::{SUPPORTED_CONTRACTS, inspect_component};
pub use state::Queries;

use state::CallState;

/// The host side of the WIT contract (`sdk/wit/since_v0.1.0`).
pub mod wit {
    wasmtime::component::bindgen!({
        path: "../sdk/wit/since_v0.1.0",
        world: "enrolment-method",
    });

    pub use charon::enrolment::types::*;
}

/// How long one epoch tick lasts; deadlines are counted in ticks.
const TICK: Duration = Duration::from_millis(5);

/// Limits and places of the runtime; the operator sets them with
/// `charon serve` flags.
#[derive(Clone, Debug)]
pub struct RuntimeConfig {
    /// Linear memory one call may use.
    pub memory_limit: usize,
    /// Wall-clock CPU budget of one call.
    pub deadline: Duration,
    /// Most actions one plan may hold.
    pub max_plan_actions: usize,
    /// Most bytes of text (reasons, names) one plan may hold.
    pub max_plan_bytes: usize,
    /// Where compiled components are kept between runs; `None` compiles
    /// every time.
    pub cache_dir: Option<PathBuf>,
    /// Calls that may run at the same time (pooling allocator slots).
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
    /// A stable code for the API and the instance's last error.
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
    pub manifest: wit::Manifest,
    pre: wit::EnrolmentMethodPre<CallState>,
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

/// The engine, the linker and the epoch ticker. One per host process.
pub struct Runtime {
    engine: Engine,
    linker: Linker<CallState>,
    config: RuntimeConfig,
    ticker_stop: Arc<AtomicBool>,
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

impl Runtime {
    pub fn new(config: RuntimeConfig) -> Result<Self, PluginError> {
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(config.max_concurrent_calls)
            .total_core_instances(config.max_concurrent_calls * 16)
            .total_memories(config.max_concurrent_calls * 4)
            .total_tables(config.max_concurrent_calls * 8)
            .max_memory_size(config.memory_limit);
        let mut wasm = Config::new();
        wasm.wasm_component_model(true)
            .epoch_interruption(true)
            .max_wasm_stack(512 << 10)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&wasm).map_err(host_error)?;
        let mut linker = Linker::new(&engine);
        // std on wasm32-wasip2 imports WASI; it is linked with nothing
        // granted (see `state::sandbox_wasi`).
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(host_error)?;
        wit::EnrolmentMethod::add_to_linker::<CallState, wasmtime::component::HasSelf<CallState>>(
            &mut linker,
            |s| s,
        )
        .map_err(host_error)?;

        let ticker_stop = Arc::new(AtomicBool::new(false));
        let (stop, ticking) = (ticker_stop.clone(), engine.clone());
        std::thread::Builder::new()
            .name("charon-epoch".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(TICK);
                    ticking.increment_epoch();
                }
            })
            .map_err(|e| PluginError::Host(format!("cannot start the epoch ticker: {e}")))?;
        Ok(Self {
            engine,
            linker,
            config,
            ticker_stop,
        })
    }

    pub fn config(&self) -> &RuntimeConfig {
        &self.config
    }

    /// Checks and compiles a component (or loads it from the disk cache),
    /// pre-instantiates it and asks it to describe itself.
    pub fn load(&self, bytes: &[u8]) -> Result<Plugin, PluginError> {
        let inspected = inspect_component(bytes)?;
        let component = cache::compile(
            &self.engine,
            self.config.cache_dir.as_deref(),
            &inspected.sha256,
            bytes,
        )?;
        inspect::check_imports(&self.engine, &component)?;
        let pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(|e| PluginError::Invalid(format!("the component cannot be linked: {e}")))?;
        let pre = wit::EnrolmentMethodPre::new(pre).map_err(|e| {
            PluginError::Invalid(format!(
                "the component does not export the enrolment-method contract: {e}"
            ))
        })?;
        let mut plugin = Plugin {
            sha256: inspected.sha256,
            contract: inspected.contract,
            manifest: wit::Manifest {
                id: String::new(),
                name: String::new(),
                version: String::new(),
                description: String::new(),
                config: Vec::new(),
                events: Vec::new(),
                capabilities: Vec::new(),
            },
            pre,
        };
        let manifest = self.call(&plugin, state::no_queries(), |m, s| m.call_describe(s))?;
        inspect::check_manifest(&manifest)?;
        plugin.manifest = manifest;
        Ok(plugin)
    }

    /// The component's own compiled form, for tests of the cache.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn validate_config(
        &self,
        plugin: &Plugin,
        queries: Box<dyn Queries>,
        course: u64,
        config: &str,
    ) -> Result<Result<String, Vec<wit::FieldError>>, PluginError> {
        self.call(plugin, queries, |m, s| {
            m.call_validate_config(s, course, config)
        })
    }

    pub fn handle_event(
        &self,
        plugin: &Plugin,
        queries: Box<dyn Queries>,
        ctx: &wit::Context,
        event: &wit::Event,
    ) -> Result<Result<wit::Plan, wit::Refusal>, PluginError> {
        let out = self.call(plugin, queries, |m, s| {
            m.call_handle_event(s, ctx, event.clone())
        })?;
        self.checked(out, |p| p)
    }

    pub fn handle_request(
        &self,
        plugin: &Plugin,
        queries: Box<dyn Queries>,
        ctx: &wit::Context,
        request: &wit::Request,
    ) -> Result<Result<wit::Plan, wit::Refusal>, PluginError> {
        let out = self.call(plugin, queries, |m, s| {
            m.call_handle_request(s, ctx, request)
        })?;
        self.checked(out, |p| p)
    }

    pub fn reconcile(
        &self,
        plugin: &Plugin,
        queries: Box<dyn Queries>,
        ctx: &wit::Context,
        cursor: Option<&str>,
    ) -> Result<Result<wit::ReconcileStep, wit::Refusal>, PluginError> {
        let out = self.call(plugin, queries, |m, s| m.call_reconcile(s, ctx, cursor))?;
        self.checked(out, |step| &step.plan)
    }

    /// Refuses plans over the size limits.
    fn checked<T>(
        &self,
        out: Result<T, wit::Refusal>,
        plan: impl Fn(&T) -> &wit::Plan,
    ) -> Result<Result<T, wit::Refusal>, PluginError> {
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
        f: impl FnOnce(
            &wit::exports::charon::enrolment::method::Guest,
            &mut Store<CallState>,
        ) -> wasmtime::Result<R>,
    ) -> Result<R, PluginError> {
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
        let result = plugin
            .pre
            .instantiate(&mut store)
            .and_then(|instance| f(instance.charon_enrolment_method(), &mut store));
        result.map_err(|e| limits::explain(e, store.data(), &self.config))
    }
}

fn host_error(e: impl std::fmt::Display) -> PluginError {
    PluginError::Host(e.to_string())
}

#[cfg(test)]
mod tests;
