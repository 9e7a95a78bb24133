//! What one call's store holds: the sandboxed WASI context, the memory
//! limiter and the caller's queries, guarded by the manifest's
//! capabilities (`contract::Guarded`).

use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::contract::{Capability, Guarded, Manifest, Queries};
use crate::limits::Limiter;

pub(crate) struct CallState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limits: Limiter,
    /// What the guest wrote to stderr (a panic message), bounded.
    pub(crate) stderr: MemoryOutputPipe,
    /// The caller's queries, as the plugin may use them; each contract
    /// version's host interface answers through them.
    pub(crate) queries: Guarded,
}

/// A frozen wall clock: without the `clock` capability the guest sees the
/// epoch, so a method cannot behave differently by time except through
/// the `now` the host passes in its context.
struct FrozenClock;

impl wasmtime_wasi::HostWallClock for FrozenClock {
    fn resolution(&self) -> std::time::Duration {
        std::time::Duration::from_secs(1)
    }
    fn now(&self) -> std::time::Duration {
        std::time::Duration::ZERO
    }
}

impl wasmtime_wasi::HostMonotonicClock for FrozenClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}

/// WASI with nothing granted: no preopened directories, no environment,
/// no arguments, no network, stdin empty, stdout discarded, stderr kept
/// (bounded) to explain a crash, clocks frozen unless the manifest asks for
/// `clock`.
fn sandbox_wasi(stderr: MemoryOutputPipe, clock: bool) -> WasiCtx {
    let mut b = WasiCtxBuilder::new();
    b.stderr(stderr);
    b.allow_ip_name_lookup(false)
        .allow_tcp(false)
        .allow_udp(false)
        .allow_blocking_current_thread(true);
    if !clock {
        b.wall_clock(FrozenClock).monotonic_clock(FrozenClock);
    }
    b.build()
}

impl CallState {
    pub(crate) fn new(queries: Box<dyn Queries>, manifest: &Manifest, memory_limit: usize) -> Self {
        let stderr = MemoryOutputPipe::new(4096);
        Self {
            wasi: sandbox_wasi(
                stderr.clone(),
                manifest.capabilities.contains(&Capability::Clock),
            ),
            table: ResourceTable::new(),
            limits: Limiter::new(memory_limit),
            stderr,
            queries: Guarded::new(queries, manifest),
        }
    }
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}
