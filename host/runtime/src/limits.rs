//! Memory limiting and turning a failed call into what it means.

use wasmtime::{ResourceLimiter, Trap};

use charon_domain::{PlanAction, PlanGroup, PlanOp};

use crate::state::CallState;
use crate::{PluginError, RuntimeConfig};

/// Caps linear memory across all of a call's memories, and remembers
/// whether it refused a growth, so an allocation failure (which Rust turns
/// into an abort, an `unreachable` trap) is reported as "out of memory"
/// rather than a bare crash.
pub(crate) struct Limiter {
    memory_limit: usize,
    /// Bytes of linear memory the call's instances hold now.
    memory_used: usize,
    pub(crate) refused_memory: bool,
}

impl Limiter {
    pub(crate) fn new(memory_limit: usize) -> Self {
        Self {
            memory_limit,
            memory_used: 0,
            refused_memory: false,
        }
    }
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // Wasmtime asks for each memory's creation too (from 0), so the sum
        // covers initial sizes as well as growth.
        let after = self
            .memory_used
            .saturating_sub(current)
            .saturating_add(desired);
        if after > self.memory_limit {
            self.refused_memory = true;
            return Ok(false);
        }
        self.memory_used = after;
        Ok(true)
    }

    fn memory_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        // Refused by the pool's own per-memory maximum rather than above:
        // the same limit, reached another way.
        self.refused_memory = true;
        Ok(())
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

/// What a trap or error of a call means for the admin who reads it.
pub(crate) fn explain(
    e: wasmtime::Error,
    state: &CallState,
    config: &RuntimeConfig,
) -> PluginError {
    if state.limits.refused_memory {
        return PluginError::OutOfMemory(config.memory_limit);
    }
    if let Some(pool) = e.downcast_ref::<wasmtime::PoolConcurrencyLimitError>() {
        // Our own count of calls keeps us under the pool's totals for
        // components within the per-call limits; this is the safety net.
        tracing::warn!("plugin instance pool exhausted: {pool}");
        return crate::busy(config.max_concurrent_calls);
    }
    if let Some(exit) = e.downcast_ref::<wasmtime_wasi::I32Exit>() {
        return PluginError::Crashed(format!(
            "the plugin exited (status {}) instead of returning",
            exit.0
        ));
    }
    let trap = e.downcast_ref::<Trap>().copied();
    let hint = match trap {
        Some(Trap::Interrupt) => return PluginError::Timeout(config.deadline),
        Some(Trap::StackOverflow) => return PluginError::StackOverflow,
        // Rust on wasm keeps its stack at the bottom of linear memory and
        // grows it down: overflowing it wraps below address 0 and faults
        // there, so an out-of-bounds access is most often a stack overflow
        // (large locals, deep recursion) rather than a wild pointer.
        Some(Trap::MemoryOutOfBounds) => {
            " (an out-of-bounds memory access; in a Rust plugin this usually means its stack overflowed: deep recursion or large local variables)"
        }
        _ => "",
    };
    let stderr = guest_stderr(&state.stderr.contents());
    let detail = match (trap, stderr.is_empty()) {
        // A Rust panic prints its message and then aborts (`unreachable`):
        // the message says it all.
        (Some(Trap::UnreachableCodeReached), false) if stderr.contains("panicked") => stderr,
        (Some(trap), false) => format!("{stderr} ({trap}{hint})"),
        (Some(trap), true) => format!("{trap}{hint}"),
        (None, false) => format!("{stderr} ({e:#})"),
        (None, true) => format!("{e:#}"),
    };
    // The guest decides what it prints: keep the message bounded.
    PluginError::Crashed(detail.chars().take(1000).collect())
}

/// What the guest wrote to stderr, on one line, without the standard
/// library's advice about backtraces (which the admin cannot act on) and
/// the name of a thread the guest does not have.
fn guest_stderr(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw)
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with("note: run with `RUST_BACKTRACE"))
        .map(|line| {
            line.strip_prefix("thread '<unnamed>' ")
                .map_or(line, |rest| rest.trim_start_matches(|c: char| c != 'p'))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The text a plan action carries, for the plan size limit. Counted on the
/// neutral plan, so the limits mean the same for every contract version.
pub(crate) fn action_bytes(a: &PlanAction) -> usize {
    let text = match &a.op {
        PlanOp::AddToGroup { group, .. } | PlanOp::RemoveFromGroup { group, .. } => match group {
            PlanGroup::Created(key) => key.len(),
            PlanGroup::Existing(_) => 0,
        },
        PlanOp::CreateGroup {
            key,
            name,
            idnumber,
        } => key.len() + name.len() + idnumber.as_ref().map_or(0, String::len),
        _ => 0,
    };
    // Fixed part of an action: ids and tags.
    a.reason.len() + text + 32
}
