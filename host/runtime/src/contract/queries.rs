//! The read-only queries a plugin makes during a call, in domain types:
//! the [`Queries`] a caller supplies, and [`Guarded`], the one place they
//! are checked against the plugin's declared capabilities, their pages
//! capped and its log lines bounded, whatever contract version asked.

use charon_domain::{
    CourseGroup, CourseGroupId, Enrolment, EnrolmentMethod, GroupMembership, SegmentId, User,
    UserId,
};

use super::{Capability, HostError, LogLevel, Manifest};

/// A member of a segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SegmentMember {
    pub user: UserId,
    /// Whether the user's site account is suspended (the host enrols no
    /// suspended user).
    pub suspended: bool,
}

/// A page of rows in increasing user id; `next` is the cursor of the
/// following page, `None` on the last one.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<UserId>,
}

/// The read-only, method-scoped queries a call may make: what the
/// contract's `host` interface answers, in domain types. The services
/// implement it over one read snapshot of the site; the harness over
/// scripted data. Capability checks and page caps happen before these are
/// called (`Guarded`); `limit` is then within 1–1000.
pub trait Queries: Send {
    fn user(&mut self, id: UserId) -> Result<Option<User>, HostError>;
    /// The site's users after `after`, by id.
    fn list_users(&mut self, after: Option<UserId>, limit: u32) -> Result<Page<User>, HostError>;
    /// Users whose e-mail domain is `domain` (compared without case).
    fn users_by_email_domain(
        &mut self,
        domain: &str,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Page<User>, HostError>;
    /// Users whose profile field `field` holds `value` (without case).
    fn users_by_profile_value(
        &mut self,
        field: &str,
        value: &str,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Page<User>, HostError>;
    /// The segment's name, if it exists.
    fn segment_exists(&mut self, segment: SegmentId) -> Result<Option<String>, HostError>;
    fn segment_members(
        &mut self,
        segment: SegmentId,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Page<SegmentMember>, HostError>;
    fn is_segment_member(&mut self, segment: SegmentId, user: UserId) -> Result<bool, HostError>;
    /// Enrolments in the method's course, through every method.
    fn course_enrolments(
        &mut self,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Page<Enrolment>, HostError>;
    /// One user's enrolments in the method's course.
    fn user_enrolments(&mut self, user: UserId) -> Result<Vec<Enrolment>, HostError>;
    /// The method's own enrolments.
    fn method_enrolments(
        &mut self,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Page<Enrolment>, HostError>;
    fn method_enrolment_count(&mut self) -> Result<u64, HostError>;
    /// The other enrolment methods of the same plugin in the course.
    fn sibling_methods(&mut self) -> Result<Vec<EnrolmentMethod>, HostError>;
    fn course_groups(&mut self) -> Result<Vec<CourseGroup>, HostError>;
    /// The group the method created under `key`, if it still exists.
    fn method_group(&mut self, key: &str) -> Result<Option<CourseGroupId>, HostError>;
    fn group_members(
        &mut self,
        group: CourseGroupId,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Page<GroupMembership>, HostError>;
    fn group_membership(
        &mut self,
        group: CourseGroupId,
        user: UserId,
    ) -> Result<Option<GroupMembership>, HostError>;
    /// A line the plugin logged (the runtime has already written it to the
    /// host's log, tagged with the plugin).
    fn log(&mut self, level: LogLevel, message: &str);
}

/// Queries for calls that have no enrolment method (`describe`, benchmarks):
/// every query answers `unavailable`.
pub fn no_queries() -> Box<dyn Queries> {
    Box::new(NoQueries)
}

struct NoQueries;

fn unavailable<T>() -> Result<T, HostError> {
    Err(HostError::Unavailable(
        "no enrolment method: this call has no site to query".into(),
    ))
}

impl Queries for NoQueries {
    fn user(&mut self, _: UserId) -> Result<Option<User>, HostError> {
        unavailable()
    }
    fn list_users(&mut self, _: Option<UserId>, _: u32) -> Result<Page<User>, HostError> {
        unavailable()
    }
    fn users_by_email_domain(
        &mut self,
        _: &str,
        _: Option<UserId>,
        _: u32,
    ) -> Result<Page<User>, HostError> {
        unavailable()
    }
    fn users_by_profile_value(
        &mut self,
        _: &str,
        _: &str,
        _: Option<UserId>,
        _: u32,
    ) -> Result<Page<User>, HostError> {
        unavailable()
    }
    fn segment_exists(&mut self, _: SegmentId) -> Result<Option<String>, HostError> {
        unavailable()
    }
    fn segment_members(
        &mut self,
        _: SegmentId,
        _: Option<UserId>,
        _: u32,
    ) -> Result<Page<SegmentMember>, HostError> {
        unavailable()
    }
    fn is_segment_member(&mut self, _: SegmentId, _: UserId) -> Result<bool, HostError> {
        unavailable()
    }
    fn course_enrolments(
        &mut self,
        _: Option<UserId>,
        _: u32,
    ) -> Result<Page<Enrolment>, HostError> {
        unavailable()
    }
    fn user_enrolments(&mut self, _: UserId) -> Result<Vec<Enrolment>, HostError> {
        unavailable()
    }
    fn method_enrolments(
        &mut self,
        _: Option<UserId>,
        _: u32,
    ) -> Result<Page<Enrolment>, HostError> {
        unavailable()
    }
    fn method_enrolment_count(&mut self) -> Result<u64, HostError> {
        unavailable()
    }
    fn sibling_methods(&mut self) -> Result<Vec<EnrolmentMethod>, HostError> {
        unavailable()
    }
    fn course_groups(&mut self) -> Result<Vec<CourseGroup>, HostError> {
        unavailable()
    }
    fn method_group(&mut self, _: &str) -> Result<Option<CourseGroupId>, HostError> {
        unavailable()
    }
    fn group_members(
        &mut self,
        _: CourseGroupId,
        _: Option<UserId>,
        _: u32,
    ) -> Result<Page<GroupMembership>, HostError> {
        unavailable()
    }
    fn group_membership(
        &mut self,
        _: CourseGroupId,
        _: UserId,
    ) -> Result<Option<GroupMembership>, HostError> {
        unavailable()
    }
    fn log(&mut self, _: LogLevel, _: &str) {}
}

/// Caps what one host answer can cost: a page is at most this many rows.
const MAX_PAGE: u32 = 1000;

/// Caps what one log line of a plugin can cost the host's log.
const MAX_LOG_CHARS: usize = 2000;

/// The caller's queries as one call of a plugin may use them: each query
/// only with the capability it needs, pages of 1–[`MAX_PAGE`] rows, log
/// lines bounded and written to the host's log. Every contract version's
/// host interface answers through it.
pub(crate) struct Guarded {
    queries: Box<dyn Queries>,
    capabilities: Vec<Capability>,
    plugin: String,
}

impl Guarded {
    /// `describe` runs before the manifest is known: with the empty
    /// manifest it gets nothing.
    pub(crate) fn new(queries: Box<dyn Queries>, manifest: &Manifest) -> Self {
        Self {
            queries,
            capabilities: manifest.capabilities.clone(),
            plugin: manifest.id.clone(),
        }
    }

    fn need(&self, capability: Capability) -> Result<(), HostError> {
        if self.capabilities.contains(&capability) {
            Ok(())
        } else {
            Err(HostError::Denied(format!(
                "the plugin's manifest does not declare the {} capability",
                capability.name()
            )))
        }
    }

    fn with(&mut self, capability: Capability) -> Result<&mut dyn Queries, HostError> {
        self.need(capability)?;
        Ok(&mut *self.queries)
    }

    pub(crate) fn user(&mut self, id: UserId) -> Result<Option<User>, HostError> {
        self.with(Capability::ReadUsers)?.user(id)
    }
    pub(crate) fn list_users(
        &mut self,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Page<User>, HostError> {
        self.with(Capability::ReadUsers)?
            .list_users(after, limit.clamp(1, MAX_PAGE))
    }
    pub(crate) fn users_by_email_domain(
        &mut self,
        domain: &str,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Page<User>, HostError> {
        // The index keeps domains in lower case, without the `@`.
        let domain = domain.trim().trim_start_matches('@').to_ascii_lowercase();
        self.with(Capability::ReadUsers)?.users_by_email_domain(
            &domain,
            after,
            limit.clamp(1, MAX_PAGE),
        )
    }
    pub(crate) fn users_by_profile_value(
        &mut self,
        field: &str,
        value: &str,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Page<User>, HostError> {
        self.with(Capability::ReadUsers)?.users_by_profile_value(
            field,
            value.trim(),
            after,
            limit.clamp(1, MAX_PAGE),
        )
    }
    pub(crate) fn segment_exists(
        &mut self,
        segment: SegmentId,
    ) -> Result<Option<String>, HostError> {
        self.with(Capability::ReadSegments)?.segment_exists(segment)
    }
    pub(crate) fn segment_members(
        &mut self,
        segment: SegmentId,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Page<SegmentMember>, HostError> {
        self.with(Capability::ReadSegments)?.segment_members(
            segment,
            after,
            limit.clamp(1, MAX_PAGE),
        )
    }
    pub(crate) fn is_segment_member(
        &mut self,
        segment: SegmentId,
        user: UserId,
    ) -> Result<bool, HostError> {
        self.with(Capability::ReadSegments)?
            .is_segment_member(segment, user)
    }
    pub(crate) fn course_enrolments(
        &mut self,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Page<Enrolment>, HostError> {
        self.with(Capability::ReadEnrolments)?
            .course_enrolments(after, limit.clamp(1, MAX_PAGE))
    }
    pub(crate) fn user_enrolments(&mut self, user: UserId) -> Result<Vec<Enrolment>, HostError> {
        self.with(Capability::ReadEnrolments)?.user_enrolments(user)
    }
    pub(crate) fn method_enrolments(
        &mut self,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Page<Enrolment>, HostError> {
        self.with(Capability::ReadEnrolments)?
            .method_enrolments(after, limit.clamp(1, MAX_PAGE))
    }
    pub(crate) fn method_enrolment_count(&mut self) -> Result<u64, HostError> {
        self.with(Capability::ReadEnrolments)?
            .method_enrolment_count()
    }
    pub(crate) fn sibling_methods(&mut self) -> Result<Vec<EnrolmentMethod>, HostError> {
        self.with(Capability::ReadEnrolments)?.sibling_methods()
    }
    pub(crate) fn course_groups(&mut self) -> Result<Vec<CourseGroup>, HostError> {
        self.with(Capability::ReadGroups)?.course_groups()
    }
    pub(crate) fn method_group(&mut self, key: &str) -> Result<Option<CourseGroupId>, HostError> {
        self.with(Capability::ReadGroups)?.method_group(key)
    }
    pub(crate) fn group_members(
        &mut self,
        group: CourseGroupId,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Page<GroupMembership>, HostError> {
        self.with(Capability::ReadGroups)?
            .group_members(group, after, limit.clamp(1, MAX_PAGE))
    }
    pub(crate) fn group_membership(
        &mut self,
        group: CourseGroupId,
        user: UserId,
    ) -> Result<Option<GroupMembership>, HostError> {
        self.with(Capability::ReadGroups)?
            .group_membership(group, user)
    }
    pub(crate) fn log(&mut self, level: LogLevel, message: &str) {
        // A chatty plugin must not flood the host log.
        let message: String = message.chars().take(MAX_LOG_CHARS).collect();
        match level {
            LogLevel::Debug => tracing::debug!(plugin = %self.plugin, "{message}"),
            LogLevel::Info => tracing::info!(plugin = %self.plugin, "{message}"),
            LogLevel::Warn => tracing::warn!(plugin = %self.plugin, "{message}"),
            LogLevel::Error => tracing::error!(plugin = %self.plugin, "{message}"),
        }
        self.queries.log(level, &message);
    }
}
