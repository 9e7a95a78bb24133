//! A native, in-memory host for unit-testing method logic without wasm.
//!
//! Build a site with [`MockHost`]'s chained calls, call the method's trait
//! functions with it, compare the plan with [`Plan::lines`], and
//! [`MockHost::apply`] the plan to check that asking again changes nothing.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use crate::{
    Capability, CourseGroup, Enrolment, EnrolmentPage, EnrolmentStatus, GroupId, GroupMember,
    GroupRef, Host, HostError, LogLevel, MemberPage, MembershipOwner, MethodId, Operation, Plan,
    Role, SegmentId, SegmentMember, SegmentMemberPage, Sibling, User, UserId, UserPage,
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
#[derive(Clone, Debug, Default)]
pub struct MockHost {
    pub users: BTreeMap<UserId, User>,
    pub segments: BTreeMap<SegmentId, (String, BTreeSet<UserId>)>,
    /// `(user, method) → enrolment` of the course.
    pub enrolments: BTreeMap<(UserId, MethodId), Enrolment>,
    pub groups: BTreeMap<GroupId, CourseGroup>,
    /// `(group, user) → owner`.
    pub memberships: BTreeMap<(GroupId, UserId), MembershipOwner>,
    /// The calling method (for the `method_*` queries).
    pub method: MethodId,
    /// Other enrolment methods of the plugin in the course.
    pub siblings: Vec<Sibling>,
    /// `(method, key) → group` of groups methods created.
    pub method_groups: BTreeMap<(MethodId, String), GroupId>,
    /// Instances a plan disabled.
    pub disabled: BTreeSet<MethodId>,
    /// Instances a plan deleted.
    pub deleted: BTreeSet<MethodId>,
    /// How many times a plan asked for a reconcile, per method.
    pub reconciles: BTreeMap<MethodId, u32>,
    /// When set, queries outside these capabilities are denied.
    pub capabilities: Option<Vec<Capability>>,
    /// Every `log` call, in order.
    pub logs: RefCell<Vec<(LogLevel, String)>>,
}

impl MockHost {
    /// An empty site; the calling enrolment method is #1.
    ///
    /// ```
    /// let host = charon_sdk::mock::MockHost::new();
    /// assert_eq!(host.method, 1);
    /// ```
    pub fn new() -> Self {
        MockHost {
            method: 1,
            ..Default::default()
        }
    }

    /// Adds an active user named `username`.
    ///
    /// ```
    /// use charon_sdk::{Host, mock::MockHost};
    /// let host = MockHost::new().user(5, "bo");
    /// // `Host::user` queries; the inherent `user` builds.
    /// assert_eq!(Host::user(&host, 5).unwrap().unwrap().username, "bo");
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
                site_admin: false,
                profile: Vec::new(),
            },
        );
        self
    }

    /// Adds a user as given, e-mail address and names included (for a
    /// plugin that looks at them, e.g. one that enrols by e-mail domain).
    ///
    /// ```
    /// use charon_sdk::{Host, User, mock::MockHost};
    /// let host = MockHost::new().user_record(User {
    ///     id: 5,
    ///     username: "bo".into(),
    ///     firstname: "Bo".into(),
    ///     lastname: "Lind".into(),
    ///     email: "bo@finance.example".into(),
    ///     suspended: false,
    ///     site_admin: false,
    ///     profile: vec![],
    /// });
    /// assert_eq!(Host::user(&host, 5).unwrap().unwrap().email, "bo@finance.example");
    /// ```
    pub fn user_record(mut self, user: User) -> Self {
        self.users.insert(user.id, user);
        self
    }

    /// Sets the e-mail address of user `id` (added by [`user`](Self::user)
    /// first).
    ///
    /// ```
    /// use charon_sdk::{Host, mock::MockHost};
    /// let host = MockHost::new().user(5, "bo").email(5, "bo@hr.example");
    /// assert_eq!(Host::user(&host, 5).unwrap().unwrap().email, "bo@hr.example");
    /// ```
    pub fn email(mut self, id: UserId, email: &str) -> Self {
        if let Some(user) = self.users.get_mut(&id) {
            user.email = email.into();
        }
        self
    }

    /// Sets user `id`'s value of profile field `field` (a short name), in
    /// the field's form (a menu's choice as written, `1` for a ticked
    /// checkbox, a date as `YYYY-MM-DD`).
    ///
    /// ```
    /// use charon_sdk::{Host, mock::MockHost};
    /// let host = MockHost::new().user(5, "bo").profile(5, "department", "Finance");
    /// let bo = Host::user(&host, 5).unwrap().unwrap();
    /// assert_eq!(bo.profile[0].value, "Finance");
    /// ```
    pub fn profile(mut self, id: UserId, field: &str, value: &str) -> Self {
        if let Some(user) = self.users.get_mut(&id) {
            user.profile.retain(|p| p.field != field);
            user.profile.push(crate::ProfileValue {
                field: field.into(),
                value: value.into(),
            });
            user.profile.sort_by(|a, b| a.field.cmp(&b.field));
        }
        self
    }

    /// Adds a user whose site account is suspended.
    ///
    /// ```
    /// use charon_sdk::{Host, mock::MockHost};
    /// let host = MockHost::new().suspended_user(5, "bo");
    /// assert!(Host::user(&host, 5).unwrap().unwrap().suspended);
    /// ```
    pub fn suspended_user(self, id: UserId, username: &str) -> Self {
        let mut host = self.user(id, username);
        if let Some(user) = host.users.get_mut(&id) {
            user.suspended = true;
        }
        host
    }

    /// Makes `method` the calling enrolment method (the default is #1).
    ///
    /// ```
    /// use charon_sdk::{Host, Role, mock::MockHost};
    /// let host = MockHost::new().enrolled(4, 9, Role::Learner).calling(9);
    /// assert_eq!(host.method_enrolment_count().unwrap(), 1);
    /// ```
    pub fn calling(mut self, method: MethodId) -> Self {
        self.method = method;
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

    /// Adds an active enrolment of `user` through `method`.
    ///
    /// ```
    /// use charon_sdk::{Host, Role, mock::MockHost};
    /// let host = MockHost::new().enrolled(4, 1, Role::Learner);
    /// assert_eq!(host.method_enrolment_count().unwrap(), 1);
    /// ```
    pub fn enrolled(mut self, user: UserId, method: MethodId, role: Role) -> Self {
        self.enrolments.insert(
            (user, method),
            Enrolment {
                user,
                method,
                role: Some(role),
                status: EnrolmentStatus::Active,
            },
        );
        self
    }

    /// Adds an enrolment with any role and status, e.g. a suspended one.
    ///
    /// ```
    /// use charon_sdk::{EnrolmentStatus, Host, mock::MockHost};
    /// let host = MockHost::new().enrolment(4, 1, None, EnrolmentStatus::Suspended);
    /// assert_eq!(host.user_enrolments(4).unwrap()[0].status, EnrolmentStatus::Suspended);
    /// ```
    pub fn enrolment(
        mut self,
        user: UserId,
        method: MethodId,
        role: Option<Role>,
        status: EnrolmentStatus,
    ) -> Self {
        self.enrolments.insert(
            (user, method),
            Enrolment {
                user,
                method,
                role,
                status,
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

    /// Adds another method of the plugin in the course.
    ///
    /// ```
    /// use charon_sdk::{Host, mock::MockHost};
    /// let host = MockHost::new().sibling(2, r#"{"segment":1}"#, true);
    /// assert_eq!(host.sibling_methods().unwrap()[0].method, 2);
    /// ```
    pub fn sibling(mut self, method: MethodId, config: &str, enabled: bool) -> Self {
        self.siblings.push(Sibling {
            method,
            config: config.into(),
            enabled,
        });
        self
    }

    /// Records that `method` created `group` under `key`.
    ///
    /// ```
    /// use charon_sdk::{Host, mock::MockHost};
    /// let host = MockHost::new().group(3, "HR segment").created_group(1, "group", 3);
    /// assert_eq!(host.method_group("group").unwrap(), Some(3));
    /// ```
    pub fn created_group(mut self, method: MethodId, key: &str, group: GroupId) -> Self {
        self.method_groups.insert((method, key.into()), group);
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

    /// Applies a plan of `method` to the data, all or nothing, the way
    /// the host applies it: enrol inserts or re-activates with the role;
    /// suspend, unenrol and set-role need the method's own enrolment;
    /// unenrol also drops the memberships the method owns; add-to-group
    /// keeps an existing membership (and its owner) as it is; only the
    /// method's own memberships may be removed; a created group gets the
    /// next free id, unless the method already created one under that
    /// key; disable and delete are recorded in `disabled` and `deleted`
    /// (delete also drops the method's enrolments and memberships) and
    /// a reconcile request counts in `reconciles`.
    ///
    /// A test applies a plan and asks again to prove the method converges:
    /// the second plan should be empty.
    ///
    /// ```
    /// use charon_sdk::{GroupRef, Host, Plan, Role, mock::MockHost};
    /// let mut host = MockHost::new().user(7, "ada").group(2, "Team A");
    /// let mut plan = Plan::new();
    /// plan.enrol(7, Role::Learner, "asked").add_to_group(7, GroupRef::Existing(2), "asked");
    /// host.apply(1, &plan).unwrap();
    /// assert_eq!(host.method_enrolment_count().unwrap(), 1);
    /// assert!(host.group_membership(2, 7).unwrap().is_some());
    ///
    /// let mut bad = Plan::new();
    /// bad.unenrol(8, "never enrolled");
    /// assert!(host.apply(1, &bad).is_err());
    /// ```
    pub fn apply(&mut self, method: MethodId, plan: &Plan) -> Result<(), String> {
        let mut next = self.clone();
        let mut created: BTreeMap<String, GroupId> = BTreeMap::new();
        for (i, action) in plan.actions.iter().enumerate() {
            if next.deleted.contains(&method) {
                return Err(format!(
                    "action {} follows the method's deletion (action: {action})",
                    i + 1
                ));
            }
            next.apply_one(method, &action.op, &mut created)
                .map_err(|e| format!("{e} (action: {action})"))?;
        }
        *self = next;
        Ok(())
    }

    fn apply_one(
        &mut self,
        method: MethodId,
        op: &Operation,
        created: &mut BTreeMap<String, GroupId>,
    ) -> Result<(), String> {
        let persisted = self.method_groups.clone();
        let group_id = |group: &GroupRef,
                        created: &BTreeMap<String, GroupId>,
                        groups: &BTreeMap<GroupId, CourseGroup>| match group
        {
            GroupRef::Existing(id) if groups.contains_key(id) => Ok(*id),
            GroupRef::Existing(id) => Err(format!("group #{id} is not a group of this course")),
            GroupRef::Created(key) => created
                .get(key)
                .or_else(|| persisted.get(&(method, key.clone())))
                .filter(|id| groups.contains_key(id))
                .copied()
                .ok_or_else(|| format!("no group with key {key:?} was created by this method")),
        };
        match op {
            Operation::Enrol(a) => {
                // As the host: a suspended account is enrolled like any
                // other (suspension changes no enrolment).
                if !self.users.contains_key(&a.user) {
                    return Err(format!("user #{} does not exist", a.user));
                }
                self.enrolments.insert(
                    (a.user, method),
                    Enrolment {
                        user: a.user,
                        method,
                        role: Some(a.role),
                        status: EnrolmentStatus::Active,
                    },
                );
            }
            Operation::Suspend(user) => {
                self.own_enrolment(*user, method)?.status = EnrolmentStatus::Suspended
            }
            Operation::SetRole(a) => self.own_enrolment(a.user, method)?.role = a.role,
            Operation::Unenrol(user) => {
                self.own_enrolment(*user, method)?;
                self.enrolments.remove(&(*user, method));
                self.memberships.retain(|(_, u), owner| {
                    !(u == user && *owner == MembershipOwner::Method(method))
                });
            }
            Operation::AddToGroup(a) => {
                let group = group_id(&a.group, created, &self.groups)?;
                if !self.enrolments.keys().any(|(u, _)| *u == a.user) {
                    return Err(format!("#{} is not enrolled in the course", a.user));
                }
                self.memberships
                    .entry((group, a.user))
                    .or_insert(MembershipOwner::Method(method));
            }
            Operation::RemoveFromGroup(a) => {
                let group = group_id(&a.group, created, &self.groups)?;
                match self.memberships.get(&(group, a.user)) {
                    Some(MembershipOwner::Method(owner)) if *owner == method => {
                        self.memberships.remove(&(group, a.user));
                    }
                    Some(_) => {
                        return Err(format!(
                            "the membership of #{} in group #{group} is not this method's",
                            a.user
                        ));
                    }
                    // Already gone: the host counts it unchanged.
                    None => {}
                }
            }
            Operation::CreateGroup(a) => {
                if created.contains_key(&a.key) {
                    return Err(format!("the plan creates two groups with key {:?}", a.key));
                }
                if let Some(id) = self
                    .method_groups
                    .get(&(method, a.key.clone()))
                    .filter(|id| self.groups.contains_key(id))
                {
                    created.insert(a.key.clone(), *id);
                    return Ok(());
                }
                if self
                    .groups
                    .values()
                    .any(|g| g.name.eq_ignore_ascii_case(&a.name))
                {
                    return Err(format!("a group named {:?} already exists", a.name));
                }
                let id = self.groups.keys().next_back().map_or(1, |last| last + 1);
                self.groups.insert(
                    id,
                    CourseGroup {
                        id,
                        name: a.name.clone(),
                        idnumber: a.idnumber.clone(),
                    },
                );
                created.insert(a.key.clone(), id);
                self.method_groups.insert((method, a.key.clone()), id);
            }
            Operation::DisableMethod => {
                self.disabled.insert(method);
            }
            Operation::DeleteMethod => {
                self.enrolments.retain(|(_, i), _| *i != method);
                self.memberships
                    .retain(|_, owner| *owner != MembershipOwner::Method(method));
                self.deleted.insert(method);
            }
            Operation::Reconcile => *self.reconciles.entry(method).or_default() += 1,
        }
        Ok(())
    }

    fn own_enrolment(&mut self, user: UserId, method: MethodId) -> Result<&mut Enrolment, String> {
        self.enrolments
            .get_mut(&(user, method))
            .ok_or_else(|| format!("#{user} is not enrolled through method #{method}"))
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

impl MockHost {
    /// Users after `after` that `keep` accepts, a page as the host gives.
    fn user_page(
        &self,
        after: Option<UserId>,
        limit: u32,
        keep: impl Fn(&User) -> bool,
    ) -> UserPage {
        let limit = page_limit(limit);
        let start = after.map_or(0, |a| a.saturating_add(1));
        let mut users: Vec<User> = self
            .users
            .range(start..)
            .map(|(_, u)| u)
            .filter(|u| keep(u))
            .take(limit + 1)
            .cloned()
            .collect();
        let next = next_cursor(&mut users, limit, |u| u.id);
        UserPage { users, next }
    }
}

impl Host for MockHost {
    fn user(&self, id: UserId) -> Result<Option<User>, HostError> {
        self.need(Capability::ReadUsers)?;
        Ok(self.users.get(&id).cloned())
    }

    fn list_users(&self, after: Option<UserId>, limit: u32) -> Result<UserPage, HostError> {
        self.need(Capability::ReadUsers)?;
        Ok(self.user_page(after, limit, |_| true))
    }

    fn users_by_email_domain(
        &self,
        domain: &str,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<UserPage, HostError> {
        self.need(Capability::ReadUsers)?;
        let domain = domain.trim().trim_start_matches('@').to_ascii_lowercase();
        Ok(self.user_page(after, limit, |u| {
            u.email
                .rsplit_once('@')
                .is_some_and(|(_, d)| d.eq_ignore_ascii_case(&domain))
        }))
    }

    fn users_by_profile_field(
        &self,
        field: &str,
        value: &str,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<UserPage, HostError> {
        self.need(Capability::ReadUsers)?;
        let value = value.trim().to_lowercase();
        Ok(self.user_page(after, limit, |u| {
            u.profile
                .iter()
                .any(|p| p.field == field && p.value.to_lowercase() == value)
        }))
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
    ) -> Result<SegmentMemberPage, HostError> {
        self.need(Capability::ReadSegments)?;
        let limit = page_limit(limit);
        let Some((_, members)) = self.segments.get(&segment) else {
            return Ok(SegmentMemberPage {
                members: Vec::new(),
                next: None,
            });
        };
        let start = after.map_or(0, |a| a.saturating_add(1));
        let mut members: Vec<SegmentMember> = members
            .range(start..)
            .take(limit + 1)
            .map(|u| SegmentMember {
                user: *u,
                suspended: self.users.get(u).is_some_and(|u| u.suspended),
            })
            .collect();
        let next = next_cursor(&mut members, limit, |m| m.user);
        Ok(SegmentMemberPage { members, next })
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
                    .map(|(_, e)| *e)
            })
            .collect();
        Ok(EnrolmentPage { enrolments, next })
    }

    fn user_enrolments(&self, user: UserId) -> Result<Vec<Enrolment>, HostError> {
        self.need(Capability::ReadEnrolments)?;
        Ok(self
            .enrolments
            .range((user, 0)..=(user, u64::MAX))
            .map(|(_, e)| *e)
            .collect())
    }

    fn method_enrolments(
        &self,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<EnrolmentPage, HostError> {
        self.need(Capability::ReadEnrolments)?;
        let limit = page_limit(limit);
        let start = after.map_or(0, |a| a.saturating_add(1));
        let mut enrolments: Vec<Enrolment> = self
            .enrolments
            .range((start, 0)..)
            .filter(|((_, i), _)| *i == self.method)
            .take(limit + 1)
            .map(|(_, e)| *e)
            .collect();
        let next = next_cursor(&mut enrolments, limit, |e| e.user);
        Ok(EnrolmentPage { enrolments, next })
    }

    fn sibling_methods(&self) -> Result<Vec<Sibling>, HostError> {
        self.need(Capability::ReadEnrolments)?;
        Ok(self
            .siblings
            .iter()
            .filter(|s| s.method != self.method)
            .cloned()
            .collect())
    }

    fn method_group(&self, key: &str) -> Result<Option<GroupId>, HostError> {
        self.need(Capability::ReadGroups)?;
        Ok(self
            .method_groups
            .get(&(self.method, key.to_owned()))
            .filter(|g| self.groups.contains_key(g))
            .copied())
    }

    fn method_enrolment_count(&self) -> Result<u64, HostError> {
        self.need(Capability::ReadEnrolments)?;
        Ok(self
            .enrolments
            .values()
            .filter(|e| e.method == self.method)
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

/// Runs a method's config check the way the host does: parses the JSON
/// (naming the field serde complains about), calls
/// [`Plugin::validate`](crate::Plugin::validate) and
/// returns the config the host would store.
///
/// ```
/// use charon_sdk::{Manifest, Plugin, mock::{self, MockHost}};
///
/// #[derive(serde::Serialize, serde::Deserialize)]
/// #[serde(deny_unknown_fields)]
/// struct Config { #[serde(default)] max: u32 }
/// struct M;
/// impl Plugin for M {
///     type Config = Config;
///     fn manifest() -> Manifest { Manifest::new("m", "M", "1.0.0") }
/// }
///
/// assert_eq!(mock::validate::<M>(1, "{}", &MockHost::new()).unwrap(), r#"{"max":0}"#);
/// assert_eq!(mock::validate::<M>(1, r#"{"x":1}"#, &MockHost::new()).unwrap_err()[0].field, "x");
/// ```
pub fn validate<M: crate::Plugin>(
    course: crate::CourseId,
    config: &str,
    host: &dyn Host,
) -> Result<String, Vec<crate::FieldError>> {
    crate::glue::validate_config::<M>(course, config, host)
}
