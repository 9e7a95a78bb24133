//! Charon's host: multi-site storage, domain services, the HTTP server and
//! the command line. See `ARCHITECTURE.md` at the repository root for the
//! map; each module's own doc says what it owns.

// The vocabulary is a crate of its own (`host/domain`), shared with the
// plugin runtime; every `crate::domain::…` path keeps working.
pub use charon_domain as domain;

pub mod console;
pub mod demo;
pub mod failpoints;
pub mod http;
pub mod jobs;
// The plugin runtime is a crate of its own (`host/runtime`), which the
// plugin harness uses without the web host; `crate::runtime::…` paths
// keep working.
pub use charon_runtime as runtime;
pub mod scaffold;
pub mod services;
pub mod storage;

#[cfg(test)]
mod runtime_tests;
#[cfg(test)]
mod tidy;
