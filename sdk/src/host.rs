//! The host's read-only queries, behind a trait so plugin logic runs the
//! same against the real host ([`WasmHost`]) and the [`MockHost`](crate::mock::MockHost).

use crate::bindings::charon::enrolment::host as imports;
use crate::{
    CourseGroup, Enrolment, EnrolmentPage, GroupId, GroupMember, HostError, LogLevel, MemberPage,
    SegmentId, SegmentMemberPage, Sibling, User, UserId, UserPage,
};

/// Read-only queries scoped to the calling enrolment method's site and
/// course.
/// Each needs the capability its doc names in the manifest; without it the
/// host answers [`HostError::Denied`].
///
/// ```
/// use charon_sdk::{Host, mock::MockHost};
/// let host = MockHost::new().user(1, "ada").user(2, "bo").segment(3, "HR", [1, 2]);
/// let page = host.segment_members(3, None, 10).unwrap();
/// assert_eq!(page.members.iter().map(|m| m.user).collect::<Vec<_>>(), vec![1, 2]);
/// ```
pub trait Host {
    /// A user of the site (`read-users`).
    fn user(&self, id: UserId) -> Result<Option<User>, HostError>;
    /// The site's users after `after`, at most `limit` (≤ 1000), by id
    /// (`read-users`): a reconcile walks them page by page.
    ///
    /// ```
    /// use charon_sdk::{Host, mock::MockHost};
    /// let host = MockHost::new().user(1, "ada").user(2, "bo").user(3, "cy");
    /// let page = host.list_users(None, 2).unwrap();
    /// assert_eq!(page.users.iter().map(|u| u.id).collect::<Vec<_>>(), [1, 2]);
    /// assert_eq!(host.list_users(page.next, 2).unwrap().users[0].id, 3);
    /// ```
    fn list_users(&self, after: Option<UserId>, limit: u32) -> Result<UserPage, HostError>;
    /// Users whose e-mail address ends with `@domain` (without case), by id,
    /// read from the host's index (`read-users`).
    ///
    /// ```
    /// use charon_sdk::{Host, mock::MockHost};
    /// let host = MockHost::new().user(1, "ada").email(1, "ada@Acme.example").user(2, "bo");
    /// let page = host.users_by_email_domain("acme.example", None, 100).unwrap();
    /// assert_eq!(page.users.iter().map(|u| u.id).collect::<Vec<_>>(), [1]);
    /// ```
    fn users_by_email_domain(
        &self,
        domain: &str,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<UserPage, HostError>;
    /// Users whose profile field `field` (a short name) holds `value`
    /// (without case), by id, read from the host's index (`read-users`).
    ///
    /// ```
    /// use charon_sdk::{Host, mock::MockHost};
    /// let host = MockHost::new().user(1, "ada").profile(1, "department", "HR").user(2, "bo");
    /// let page = host.users_by_profile_field("department", "hr", None, 100).unwrap();
    /// assert_eq!(page.users.iter().map(|u| u.id).collect::<Vec<_>>(), [1]);
    /// ```
    fn users_by_profile_field(
        &self,
        field: &str,
        value: &str,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<UserPage, HostError>;
    /// The name of a segment, if it exists (`read-segments`).
    fn segment_exists(&self, segment: SegmentId) -> Result<Option<String>, HostError>;
    /// Members of a segment after `after`, at most `limit` (≤ 1000), each
    /// with whether their account is suspended (`read-segments`).
    fn segment_members(
        &self,
        segment: SegmentId,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<SegmentMemberPage, HostError>;
    /// (`read-segments`)
    fn is_segment_member(&self, segment: SegmentId, user: UserId) -> Result<bool, HostError>;
    /// Enrolments of the course by every method, by user (`read-enrolments`).
    fn course_enrolments(
        &self,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<EnrolmentPage, HostError>;
    /// One user's enrolments in the course (`read-enrolments`).
    fn user_enrolments(&self, user: UserId) -> Result<Vec<Enrolment>, HostError>;
    /// The calling method's own enrolments after `after`, at most `limit`
    /// (≤ 1000), by user (`read-enrolments`).
    fn method_enrolments(
        &self,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<EnrolmentPage, HostError>;
    /// How many enrolments the calling method has (`read-enrolments`).
    fn method_enrolment_count(&self) -> Result<u64, HostError>;
    /// The other enrolment methods of the same plugin in the course, not
    /// the one called or validated (`read-enrolments`).
    fn sibling_methods(&self) -> Result<Vec<Sibling>, HostError>;
    /// Groups of the course (`read-groups`).
    fn course_groups(&self) -> Result<Vec<CourseGroup>, HostError>;
    /// Members of a group of the course (`read-groups`).
    fn group_members(
        &self,
        group: GroupId,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<MemberPage, HostError>;
    /// One membership of a group of the course (`read-groups`).
    fn group_membership(
        &self,
        group: GroupId,
        user: UserId,
    ) -> Result<Option<GroupMember>, HostError>;
    /// The group the calling method created under `key` with
    /// `create-group`, if it still exists (`read-groups`).
    fn method_group(&self, key: &str) -> Result<Option<GroupId>, HostError>;
    /// Writes to the host's log, tagged with the method. Always allowed.
    fn log(&self, level: LogLevel, message: &str);
}

/// The real host, reached through the component's imports. Only works
/// inside a component the host runs; natively every query panics.
///
/// ```no_run
/// use charon_sdk::{Host, WasmHost};
/// let me = WasmHost.user(1);
/// ```
#[derive(Copy, Clone, Debug, Default)]
pub struct WasmHost;

impl Host for WasmHost {
    fn user(&self, id: UserId) -> Result<Option<User>, HostError> {
        imports::get_user(id)
    }
    fn list_users(&self, after: Option<UserId>, limit: u32) -> Result<UserPage, HostError> {
        imports::list_users(after, limit)
    }
    fn users_by_email_domain(
        &self,
        domain: &str,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<UserPage, HostError> {
        imports::users_by_email_domain(domain, after, limit)
    }
    fn users_by_profile_field(
        &self,
        field: &str,
        value: &str,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<UserPage, HostError> {
        imports::users_by_profile_field(field, value, after, limit)
    }
    fn segment_exists(&self, segment: SegmentId) -> Result<Option<String>, HostError> {
        imports::segment_exists(segment)
    }
    fn segment_members(
        &self,
        segment: SegmentId,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<SegmentMemberPage, HostError> {
        imports::segment_members(segment, after, limit)
    }
    fn is_segment_member(&self, segment: SegmentId, user: UserId) -> Result<bool, HostError> {
        imports::is_segment_member(segment, user)
    }
    fn course_enrolments(
        &self,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<EnrolmentPage, HostError> {
        imports::course_enrolments(after, limit)
    }
    fn user_enrolments(&self, user: UserId) -> Result<Vec<Enrolment>, HostError> {
        imports::user_enrolments(user)
    }
    fn method_enrolments(
        &self,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<EnrolmentPage, HostError> {
        imports::method_enrolments(after, limit)
    }
    fn method_enrolment_count(&self) -> Result<u64, HostError> {
        imports::method_enrolment_count()
    }
    fn sibling_methods(&self) -> Result<Vec<Sibling>, HostError> {
        imports::sibling_methods()
    }
    fn method_group(&self, key: &str) -> Result<Option<GroupId>, HostError> {
        imports::method_group(key)
    }
    fn course_groups(&self) -> Result<Vec<CourseGroup>, HostError> {
        imports::course_groups()
    }
    fn group_members(
        &self,
        group: GroupId,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<MemberPage, HostError> {
        imports::group_members(group, after, limit)
    }
    fn group_membership(
        &self,
        group: GroupId,
        user: UserId,
    ) -> Result<Option<GroupMember>, HostError> {
        imports::group_membership(group, user)
    }
    fn log(&self, level: LogLevel, message: &str) {
        imports::log(level, message)
    }
}

/// A host error becomes a refusal, so `?` works inside method code.
impl From<HostError> for crate::Refusal {
    fn from(e: HostError) -> Self {
        crate::Refusal::new("host-error", e.to_string())
    }
}
