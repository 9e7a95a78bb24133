//! What one call's store holds: the sandboxed WASI context, the memory
//! limiter and the caller's queries, checked against the manifest's
//! capabilities.

use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use super::limits::Limiter;
use super::wit::{self, Capability, HostError};

/// The read-only, instance-scoped queries a call may make: the host side
/// of the contract's `host` interface. The services implement it over one
/// read snapshot of the site; the harness over scripted data. Capability
/// checks happen before these are called.
pub trait Queries: Send {
    fn user(&mut self, id: u64) -> Result<Option<wit::User>, HostError>;
    fn segment_exists(&mut self, segment: u64) -> Result<Option<String>, HostError>;
    fn segment_members(
        &mut self,
        segment: u64,
        after: Option<u64>,
        limit: u32,
    ) -> Result<wit::SegmentMemberPage, HostError>;
    fn is_segment_member(&mut self, segment: u64, user: u64) -> Result<bool, HostError>;
    fn course_enrolments(
        &mut self,
        after: Option<u64>,
        limit: u32,
    ) -> Result<wit::EnrolmentPage, HostError>;
    fn user_enrolments(&mut self, user: u64) -> Result<Vec<wit::Enrolment>, HostError>;
    fn instance_enrolments(
        &mut self,
        after: Option<u64>,
        limit: u32,
    ) -> Result<wit::EnrolmentPage, HostError>;
    fn instance_enrolment_count(&mut self) -> Result<u64, HostError>;
    fn sibling_instances(&mut self) -> Result<Vec<wit::Sibling>, HostError>;
    fn course_groups(&mut self) -> Result<Vec<wit::CourseGroup>, HostError>;
    fn instance_group(&mut self, key: &str) -> Result<Option<u64>, HostError>;
    fn group_members(
        &mut self,
        group: u64,
        after: Option<u64>,
        limit: u32,
    ) -> Result<wit::MemberPage, HostError>;
    fn group_membership(
        &mut self,
        group: u64,
        user: u64,
    ) -> Result<Option<wit::GroupMember>, HostError>;
    fn log(&mut self, level: wit::LogLevel, message: &str);
}

/// Queries for calls that have no instance (`describe`, benchmarks):
/// every query answers `unavailable`.
pub fn no_queries() -> Box<dyn Queries> {
    Box::new(NoQueries)
}

struct NoQueries;

fn unavailable<T>() -> Result<T, HostError> {
    Err(HostError::Unavailable(
        "no instance: this call has no site to query".into(),
    ))
}

impl Queries for NoQueries {
    fn user(&mut self, _: u64) -> Result<Option<wit::User>, HostError> {
        unavailable()
    }
    fn segment_exists(&mut self, _: u64) -> Result<Option<String>, HostError> {
        unavailable()
    }
    fn segment_members(
        &mut self,
        _: u64,
        _: Option<u64>,
        _: u32,
    ) -> Result<wit::SegmentMemberPage, HostError> {
        unavailable()
    }
    fn is_segment_member(&mut self, _: u64, _: u64) -> Result<bool, HostError> {
        unavailable()
    }
    fn course_enrolments(
        &mut self,
        _: Option<u64>,
        _: u32,
    ) -> Result<wit::EnrolmentPage, HostError> {
        unavailable()
    }
    fn user_enrolments(&mut self, _: u64) -> Result<Vec<wit::Enrolment>, HostError> {
        unavailable()
    }
    fn instance_enrolments(
        &mut self,
        _: Option<u64>,
        _: u32,
    ) -> Result<wit::EnrolmentPage, HostError> {
        unavailable()
    }
    fn instance_enrolment_count(&mut self) -> Result<u64, HostError> {
        unavailable()
    }
    fn sibling_instances(&mut self) -> Result<Vec<wit::Sibling>, HostError> {
        unavailable()
    }
    fn instance_group(&mut self, _: &str) -> Result<Option<u64>, HostError> {
        unavailable()
    }
    fn course_groups(&mut self) -> Result<Vec<wit::CourseGroup>, HostError> {
        unavailable()
    }
    fn group_members(
        &mut self,
        _: u64,
        _: Option<u64>,
        _: u32,
    ) -> Result<wit::MemberPage, HostError> {
        unavailable()
    }
    fn group_membership(&mut self, _: u64, _: u64) -> Result<Option<wit::GroupMember>, HostError> {
        unavailable()
    }
    fn log(&mut self, _: wit::LogLevel, _: &str) {}
}

pub(crate) struct CallState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limits: Limiter,
    /// What the guest wrote to stderr (a panic message), bounded.
    pub(crate) stderr: MemoryOutputPipe,
    queries: Box<dyn Queries>,
    capabilities: Vec<Capability>,
    plugin: String,
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
    pub(crate) fn new(
        queries: Box<dyn Queries>,
        manifest: &wit::Manifest,
        memory_limit: usize,
    ) -> Self {
        let stderr = MemoryOutputPipe::new(4096);
        Self {
            wasi: sandbox_wasi(
                stderr.clone(),
                manifest.capabilities.contains(&Capability::Clock),
            ),
            table: ResourceTable::new(),
            limits: Limiter::new(memory_limit),
            stderr,
            queries,
            capabilities: manifest.capabilities.clone(),
            plugin: manifest.id.clone(),
        }
    }

    fn need(&self, capability: Capability) -> Result<(), HostError> {
        // `describe` runs before the manifest is known: it gets nothing.
        if self.capabilities.contains(&capability) {
            Ok(())
        } else {
            Err(HostError::Denied(format!(
                "the plugin's manifest does not declare the {} capability",
                capability_name(capability)
            )))
        }
    }
}

pub(crate) fn capability_name(c: Capability) -> &'static str {
    match c {
        Capability::ReadUsers => "read-users",
        Capability::ReadSegments => "read-segments",
        Capability::ReadEnrolments => "read-enrolments",
        Capability::ReadGroups => "read-groups",
        Capability::Clock => "clock",
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

/// Caps what one host answer can cost: a page is at most this many rows.
const MAX_PAGE: u32 = 1000;

impl wit::charon::enrolment::host::Host for CallState {
    fn get_user(&mut self, id: u64) -> Result<Option<wit::User>, HostError> {
        self.need(Capability::ReadUsers)?;
        self.queries.user(id)
    }
    fn segment_exists(&mut self, segment: u64) -> Result<Option<String>, HostError> {
        self.need(Capability::ReadSegments)?;
        self.queries.segment_exists(segment)
    }
    fn segment_members(
        &mut self,
        segment: u64,
        after: Option<u64>,
        limit: u32,
    ) -> Result<wit::SegmentMemberPage, HostError> {
        self.need(Capability::ReadSegments)?;
        self.queries
            .segment_members(segment, after, limit.clamp(1, MAX_PAGE))
    }
    fn is_segment_member(&mut self, segment: u64, user: u64) -> Result<bool, HostError> {
        self.need(Capability::ReadSegments)?;
        self.queries.is_segment_member(segment, user)
    }
    fn course_enrolments(
        &mut self,
        after: Option<u64>,
        limit: u32,
    ) -> Result<wit::EnrolmentPage, HostError> {
        self.need(Capability::ReadEnrolments)?;
        self.queries
            .course_enrolments(after, limit.clamp(1, MAX_PAGE))
    }
    fn user_enrolments(&mut self, user: u64) -> Result<Vec<wit::Enrolment>, HostError> {
        self.need(Capability::ReadEnrolments)?;
        self.queries.user_enrolments(user)
    }
    fn instance_enrolments(
        &mut self,
        after: Option<u64>,
        limit: u32,
    ) -> Result<wit::EnrolmentPage, HostError> {
        self.need(Capability::ReadEnrolments)?;
        self.queries
            .instance_enrolments(after, limit.clamp(1, MAX_PAGE))
    }
    fn instance_enrolment_count(&mut self) -> Result<u64, HostError> {
        self.need(Capability::ReadEnrolments)?;
        self.queries.instance_enrolment_count()
    }
    fn sibling_instances(&mut self) -> Result<Vec<wit::Sibling>, HostError> {
        self.need(Capability::ReadEnrolments)?;
        self.queries.sibling_instances()
    }
    fn instance_group(&mut self, key: String) -> Result<Option<u64>, HostError> {
        self.need(Capability::ReadGroups)?;
        self.queries.instance_group(&key)
    }
    fn course_groups(&mut self) -> Result<Vec<wit::CourseGroup>, HostError> {
        self.need(Capability::ReadGroups)?;
        self.queries.course_groups()
    }
    fn group_members(
        &mut self,
        group: u64,
        after: Option<u64>,
        limit: u32,
    ) -> Result<wit::MemberPage, HostError> {
        self.need(Capability::ReadGroups)?;
        self.queries
            .group_members(group, after, limit.clamp(1, MAX_PAGE))
    }
    fn group_membership(
        &mut self,
        group: u64,
        user: u64,
    ) -> Result<Option<wit::GroupMember>, HostError> {
        self.need(Capability::ReadGroups)?;
        self.queries.group_membership(group, user)
    }
    fn log(&mut self, level: wit::LogLevel, message: String) {
        // A chatty plugin must not flood the host log.
        let message: String = message.chars().take(2000).collect();
        match level {
            wit::LogLevel::Debug => tracing::debug!(plugin = %self.plugin, "{message}"),
            wit::LogLevel::Info => tracing::info!(plugin = %self.plugin, "{message}"),
            wit::LogLevel::Warn => tracing::warn!(plugin = %self.plugin, "{message}"),
            wit::LogLevel::Error => tracing::error!(plugin = %self.plugin, "{message}"),
        }
        self.queries.log(level, &message);
    }
}

impl wit::charon::enrolment::types::Host for CallState {}
