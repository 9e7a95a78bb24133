//! A native, in-memory host for unit-testing method logic without wasm.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use crate::{
    Capability, CourseGroup, Enrolment, EnrolmentPage, EnrolmentStatus, GroupId, GroupMember, Host,
    HostError, InstanceId, LogLevel, MemberPage, MembershipOwner, Role, SegmentId, User, UserId,
    UserPage,
};

/// An in-memory site seen from one course, built with chained calls.
/// Queries page exactly as the real host does (by user id, `limit` capped
/// at 1000), and a capability list can be set to check the manifest.
///
/// ```
/// use charon_sdk::{Host, Role, mock::MockHost};
/// let host = MockHost::new()
///     .user(1, "ada")
///     .segment(10, "HR", [1])
///     .enrolled(1, 99, Role::Learner);
/// assert!(host.is_segment_member(10, 1).unwrap());
/// assert_eq!(host.user_enrolments(1).unwrap().len(), 1);
/// ```
#[derive(Debug, Default)]
pub struct MockHost {
    pub users: BTreeMap<UserId, User>,
    pub segments: BTreeMap<SegmentId, (String, BTreeSet<UserId>)>,
    /// `(user, instance) → enrolment` of the course.
    pub enrolments: BTreeMap<(UserId, InstanceId), Enrolment>,
    pub groups: BTreeMap<GroupId, CourseGroup>,
    /// `(group, user) → owner`.
    pub memberships: BTreeMap<(GroupId, UserId), MembershipOwner>,
    /// The calling instance (for `instance_enrolment_count`).
    pub instance: InstanceId,
    /// When set, queries outside these capabilities are denied.
    pub capabilities: Option<Vec<Capability>>,
    /// Every `log` call, in order.
    pub logs: RefCell<Vec<(LogLevel, String)>>,
}

impl MockHost {
    /// An empty site; the calling instance is #1.
    ///
    /// ```
    /// let host = charon_sdk::mock::MockHost::new();
    /// assert_eq!(host.instance, 1);
    /// ```
    pub fn new() -> Self {
        MockHost {
            instance: 1,
            ..Default::default()
        }
    }

    /// Adds an active user named `username`.
    ///
    /// ```
    /// use charon_sdk::{Host, mock::MockHost};
    /// let host = MockHost::new().user(5, "bo");
    /// assert_eq!(host.user(5).unwrap().unwrap().username, "bo");
    /// ```
    pub fn user(mut self, id: UserId, username: &str) -> Self {
        self.users.insert(
            id,
            User {
                id,
                username: username.into(),
                firstname: username.into(),
                lastname: String::new(),
                email: format!("{username}@example.test"),
                suspended: false,
            },
        );
        self
    }

    /// Adds a segment with these members.
    ///
    /// ```
    /// use charon_sdk::{Host, mock::MockHost};
    /// let host = MockHost::new().segment(2, "IT", [4, 5]);
    /// assert_eq!(host.segment_exists(2).unwrap().as_deref(), Some("IT"));
    /// ```
    pub fn segment(
        mut self,
        id: SegmentId,
        name: &str,
        members: impl IntoIterator<Item = UserId>,
    ) -> Self {
        self.segments
            .insert(id, (name.into(), members.into_iter().collect()));
        self
    }

    /// Adds an active enrolment of `user` through `instance`.
    ///
    /// ```
    /// use charon_sdk::{Host, Role, mock::MockHost};
    /// let host = MockHost::new().enrolled(4, 1, Role::Learner);
    /// assert_eq!(host.instance_enrolment_count().unwrap(), 1);
    /// ```
    pub fn enrolled(mut self, user: UserId, instance: InstanceId, role: Role) -> Self {
        self.enrolments.insert(
            (user, instance),
            Enrolment {
                user,
                instance,
                role: Some(role),
                status: EnrolmentStatus::Active,
            },
        );
        self
    }

    /// Adds a group of the course.
    ///
    /// ```
    /// use charon_sdk::{Host, mock::MockHost};
    /// let host = MockHost::new().group(3, "Team A");
    /// assert_eq!(host.course_groups().unwrap()[0].name, "Team A");
    /// ```
    pub fn group(mut self, id: GroupId, name: &str) -> Self {
        self.groups.insert(
            id,
            CourseGroup {
                id,
                name: name.into(),
                idnumber: None,
            },
        );
        self
    }

    /// Adds a group membership with its owner.
    ///
    /// ```
    /// use charon_sdk::{Host, MembershipOwner, mock::MockHost};
    /// let host = MockHost::new().group(3, "A").member(3, 4, MembershipOwner::Manual);
    /// assert!(host.group_membership(3, 4).unwrap().is_some());
    /// ```
    pub fn member(mut self, group: GroupId, user: UserId, owner: MembershipOwner) -> Self {
        self.memberships.insert((group, user), owner);
        self
    }

    /// Restricts queries to these capabilities, as the real host restricts
    /// them to the manifest's.
    ///
    /// ```
    /// use charon_sdk::{Capability, Host, mock::MockHost};
    /// let host = MockHost::new().only(&[Capability::ReadUsers]);
    /// assert!(host.course_groups().is_err());
    /// ```
    pub fn only(mut self, capabilities: &[Capability]) -> Self {
        self.capabilities = Some(capabilities.to_vec());
        self
    }

    fn need(&self, capability: Capability) -> Result<(), HostError> {
        match &self.capabilities {
            Some(list) if !list.contains(&capability) => Err(HostError::Denied(format!(
                "the manifest does not declare {capability:?}"
            ))),
            _ => Ok(()),
        }
    }
}

fn page_limit(limit: u32) -> usize {
    limit.clamp(1, 1000) as usize
}

fn next_cursor<T>(items: &mut Vec<T>, limit: usize, key: impl Fn(&T) -> UserId) -> Option<UserId> {
    if items.len() > limit {
        items.truncate(limit);
        items.last().map(key)
    } else {
        None
    }
}

impl Host for MockHost {
    fn user(&self, id: UserId) -> Result<Option<User>, HostError> {
        self.need(Capability::ReadUsers)?;
        Ok(self.users.get(&id).cloned())
    }

    fn segment_exists(&self, segment: SegmentId) -> Result<Option<String>, HostError> {
        self.need(Capability::ReadSegments)?;
        Ok(self.segments.get(&segment).map(|(name, _)| name.clone()))
    }

    fn segment_members(
        &self,
        segment: SegmentId,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<UserPage, HostError> {
        self.need(Capability::ReadSegments)?;
        let limit = page_limit(limit);
        let Some((_, members)) = self.segments.get(&segment) else {
            return Ok(UserPage {
                users: Vec::new(),
                next: None,
            });
        };
        let start = after.map_or(0, |a| a.saturating_add(1));
        let mut users: Vec<UserId> = members.range(start..).take(limit + 1).copied().collect();
        let next = next_cursor(&mut users, limit, |u| *u);
        Ok(UserPage { users, next })
    }

    fn is_segment_member(&self, segment: SegmentId, user: UserId) -> Result<bool, HostError> {
        self.need(Capability::ReadSegments)?;
        Ok(self
            .segments
            .get(&segment)
            .is_some_and(|(_, m)| m.contains(&user)))
    }

    fn course_enrolments(
        &self,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<EnrolmentPage, HostError> {
        self.need(Capability::ReadEnrolments)?;
        let limit = page_limit(limit);
        let start = after.map_or(0, |a| a.saturating_add(1));
        // Whole users per page, as the host pages by user.
        let mut users: Vec<UserId> = self
            .enrolments
            .range((start, 0)..)
            .map(|((u, _), _)| *u)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .take(limit + 1)
            .collect();
        let next = next_cursor(&mut users, limit, |u| *u);
        let enrolments = users
            .iter()
            .flat_map(|u| {
                self.enrolments
                    .range((*u, 0)..=(*u, u64::MAX))
                    .map(|(_, e)| e.clone())
            })
            .collect();
        Ok(EnrolmentPage { enrolments, next })
    }

    fn user_enrolments(&self, user: UserId) -> Result<Vec<Enrolment>, HostError> {
        self.need(Capability::ReadEnrolments)?;
        Ok(self
            .enrolments
            .range((user, 0)..=(user, u64::MAX))
            .map(|(_, e)| e.clone())
            .collect())
    }

    fn instance_enrolment_count(&self) -> Result<u64, HostError> {
        self.need(Capability::ReadEnrolments)?;
        Ok(self
            .enrolments
            .values()
            .filter(|e| e.instance == self.instance)
            .count() as u64)
    }

    fn course_groups(&self) -> Result<Vec<CourseGroup>, HostError> {
        self.need(Capability::ReadGroups)?;
        Ok(self.groups.values().cloned().collect())
    }

    fn group_members(
        &self,
        group: GroupId,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<MemberPage, HostError> {
        self.need(Capability::ReadGroups)?;
        if !self.groups.contains_key(&group) {
            return Err(HostError::OutOfScope(format!(
                "group #{group} is not a group of this course"
            )));
        }
        let limit = page_limit(limit);
        let start = after.map_or(0, |a| a.saturating_add(1));
        let mut members: Vec<GroupMember> = self
            .memberships
            .range((group, start)..=(group, u64::MAX))
            .take(limit + 1)
            .map(|((_, user), owner)| GroupMember {
                user: *user,
                owner: *owner,
            })
            .collect();
        let next = next_cursor(&mut members, limit, |m| m.user);
        Ok(MemberPage { members, next })
    }

    fn group_membership(
        &self,
        group: GroupId,
        user: UserId,
    ) -> Result<Option<GroupMember>, HostError> {
        self.need(Capability::ReadGroups)?;
        if !self.groups.contains_key(&group) {
            return Err(HostError::OutOfScope(format!(
                "group #{group} is not a group of this course"
            )));
        }
        Ok(self
            .memberships
            .get(&(group, user))
            .map(|owner| GroupMember {
                user,
                owner: *owner,
            }))
    }

    fn log(&self, level: LogLevel, message: &str) {
        self.logs.borrow_mut().push((level, message.to_owned()));
    }
}
