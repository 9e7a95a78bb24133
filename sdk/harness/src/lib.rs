//! Arrives with the runtime.
