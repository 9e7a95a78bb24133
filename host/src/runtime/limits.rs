//! Memory limiting and turning a failed call into what it means.

use wasmtime::{ResourceLimiter, Trap};

use super::state::CallState;
use super::wit;
use super::{PluginError, RuntimeConfig};

/// Caps linear memory and remembers whether it refused a growth, so an
/// allocation failure (which Rust turns into an abort) is reported as
/// "out of memory" rather than a bare crash.
pub(crate) struct Limiter {
    memory_limit: usize,
    pub(crate) refused_memory: bool,
}

impl Limiter {
    pub(crate) fn new(memory_limit: usize) -> Self {
        Self {
            memory_limit,
            refused_memory: false,
        }
    }
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_limit {
            self.refused_memory = true;
            return Ok(false);
        }
        Ok(true)
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
    match e.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => return PluginError::Timeout(config.deadline),
        Some(Trap::StackOverflow) => return PluginError::StackOverflow,
        _ => {}
    }
    let stderr = String::from_utf8_lossy(&state.stderr.contents())
        .trim()
        .to_owned();
    let detail = match e.downcast_ref::<Trap>() {
        Some(trap) if !stderr.is_empty() => format!("{stderr} ({trap})"),
        Some(trap) => trap.to_string(),
        None if !stderr.is_empty() => format!("{stderr} ({e})"),
        None => format!("{e:#}"),
    };
    // The guest decides what it prints: keep the message bounded.
    PluginError::Crashed(detail.chars().take(1000).collect())
}

/// The text a plan action carries, for the plan size limit.
pub(crate) fn action_bytes(a: &wit::Action) -> usize {
    let text = match &a.op {
        wit::Operation::AddToGroup(g) | wit::Operation::RemoveFromGroup(g) => match &g.group {
            wit::GroupRef::Created(key) => key.len(),
            wit::GroupRef::Existing(_) => 0,
        },
        wit::Operation::CreateGroup(c) => {
            c.key.len() + c.name.len() + c.idnumber.as_ref().map_or(0, String::len)
        }
        _ => 0,
    };
    // Fixed part of an action: ids and tags.
    a.reason.len() + text + 32
}
