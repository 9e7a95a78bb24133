//! Course groups and their memberships (PRODUCT §2).
//!
//! Each membership records its owner. A membership owned by an enrolment
//! method is removed only by that method; a manual one is never removed by
//! a sync. A group member must be enrolled in the group's course.

use super::auth::{Need, authorize, authorize_caller};
use super::courses::load_course;
use super::error::{ServiceError, ServiceResult};
use super::users::{load_user, require_user};
use super::{Page, Principal, SiteServices, clamp_limit, validate};
use crate::domain::*;
use crate::storage::site::{SiteTables, prelude::*};

#[derive(Clone, Debug, Default)]
pub struct NewGroup {
    pub name: String,
    pub idnumber: Option<String>,
    pub description: String,
}

#[derive(Clone, Debug, Default)]
pub struct GroupUpdate {
    pub name: Option<String>,
    /// `Some("")` clears it.
    pub idnumber: Option<String>,
    pub description: Option<String>,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct GroupSummary {
    pub group: CourseGroup,
    pub members: u64,
}

/// A member of a group with who added them.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct GroupMember {
    pub user: User,
    pub membership: GroupMembership,
}

/// A page of a course's groups, with the course they belong to.
#[derive(Clone, Debug, PartialEq)]
pub struct CourseGroups {
    pub course: Course,
    pub groups: Page<GroupSummary, usize>,
}

/// A member of a group with the owner of the membership spelled out.
#[derive(Clone, Debug, PartialEq)]
pub struct OwnedMember {
    pub user: User,
    pub membership: GroupMembership,
    /// The enrolment method instance that keeps the membership; `None`
    /// when it was added by hand.
    pub method: Option<EnrolmentMethod>,
}

/// Which members [`SiteServices::group_overview`] lists.
#[derive(Clone, Debug, Default)]
pub struct MemberFilter {
    /// Name, username or e-mail contains this.
    pub query: Option<String>,
    /// Only these users (those of them who are members).
    pub users: Option<Vec<UserId>>,
}

/// A group as its page shows it to the course's staff.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupOverview {
    pub group: CourseGroup,
    pub course: Course,
    /// All members, whatever the filter.
    pub members: u64,
    pub page: Page<OwnedMember, UserId>,
    /// Enrolment method instances of the course configured with this group.
    pub used_by: Vec<EnrolmentMethod>,
}

/// What deleting a group takes with it.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupDeletion {
    pub group: CourseGroup,
    pub course: Course,
    /// Memberships added by hand.
    pub manual: u64,
    /// Memberships kept by each enrolment method instance.
    pub by_method: Vec<(EnrolmentMethod, u64)>,
    /// Enrolment method instances of the course configured with this group.
    pub used_by: Vec<EnrolmentMethod>,
}

/// Participants of a group's course who could be added to it.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupCandidates {
    pub group: CourseGroup,
    pub course: Course,
    pub candidates: Page<User, UserId>,
}

/// Instances of the group's course that name it in their config (`group`,
/// the key the bundled plugins use) or created it under that key.
fn methods_using(t: &impl SiteRead, group: &CourseGroup) -> ServiceResult<Vec<EnrolmentMethod>> {
    let mut out = Vec::new();
    for m in t.course_methods_list(group.course)? {
        let configured = serde_json::from_str::<serde_json::Value>(&m.config)
            .ok()
            .and_then(|c| c.get("group").and_then(serde_json::Value::as_u64))
            == Some(group.id.0);
        if configured || t.method_group(m.id, "group")? == Some(group.id) {
            out.push(m);
        }
    }
    Ok(out)
}

/// The membership's owner as a method record, looked up once per method.
fn owner_method(
    t: &impl SiteRead,
    owner: MembershipOwner,
    seen: &mut std::collections::BTreeMap<EnrolmentMethodId, Option<EnrolmentMethod>>,
) -> ServiceResult<Option<EnrolmentMethod>> {
    match owner {
        MembershipOwner::Manual => Ok(None),
        MembershipOwner::Method(id) => {
            if let Some(m) = seen.get(&id) {
                return Ok(m.clone());
            }
            let m = t.method(id)?;
            seen.insert(id, m.clone());
            Ok(m)
        }
    }
}

fn user_matches(query: Option<&str>, u: &User) -> bool {
    super::matches_query(query, &[&u.full_name(), &u.username, &u.email])
}

pub(crate) fn load_group(t: &impl SiteRead, id: CourseGroupId) -> ServiceResult<CourseGroup> {
    t.group(id)?
        .ok_or_else(|| ServiceError::not_found(format!("course group #{id}")))
}

pub(crate) fn check_unique(t: &SiteTables<'_>, g: &CourseGroup) -> ServiceResult<()> {
    if let Some(other) = t.group_id_by_name(g.course, &g.name)?
        && other != g.id
    {
        return Err(ServiceError::duplicate(
            "name",
            format!("the course already has a group named {:?}", g.name),
        ));
    }
    if let Some(idn) = &g.idnumber
        && let Some(other) = t.group_id_by_idnumber(g.course, idn)?
        && other != g.id
    {
        return Err(ServiceError::duplicate(
            "idnumber",
            format!("group #{other} of this course already has the idnumber {idn:?}"),
        ));
    }
    Ok(())
}

/// Deletes a group with its memberships (used by course deletion too).
pub(crate) fn delete_group_in(t: &mut SiteTables<'_>, group: &CourseGroup) -> ServiceResult<()> {
    loop {
        let batch = t.group_members_page(group.id, None, 4096)?;
        if batch.is_empty() {
            break;
        }
        for m in batch {
            t.delete_group_member(group.course, group.id, m.user)?;
        }
    }
    t.delete_group_row(group)?;
    t.emit(SiteEvent::GroupDeleted {
        course: group.course,
        group: group.id,
    })?;
    Ok(())
}

/// Adds `user` to `group`, audited and evented, owned by `owner`; `false`
/// when they already were a member (the membership keeps its owner).
/// Refused unless the user exists and is enrolled in the group's course.
/// Shared by [`SiteServices::add_group_members`] and the CSV import.
pub(crate) fn add_group_member_in(
    t: &mut SiteTables<'_>,
    actor: Actor,
    owner: MembershipOwner,
    group: &CourseGroup,
    user: UserId,
    reason: &str,
) -> ServiceResult<bool> {
    require_user(t, user)?;
    if t.user_course_enrolments(group.course, user)?.is_empty() {
        return Err(ServiceError::NotEnrolled {
            user,
            course: group.course,
        });
    }
    let added = t.add_group_member_if_absent(
        group.course,
        &GroupMembership {
            group: group.id,
            user,
            owner,
            added_at: t.now,
        },
    )?;
    if !added {
        return Ok(false);
    }
    t.audit_log(
        actor,
        "group.member_added",
        AuditTarget::GroupMember {
            user,
            group: group.id,
        },
        reason,
    )?;
    t.emit(SiteEvent::GroupMemberAdded {
        group: group.id,
        user,
    })?;
    Ok(true)
}

/// The owner a new membership gets from the acting principal.
fn owner_for(who: &Principal) -> MembershipOwner {
    match who.method_id() {
        Some(m) => MembershipOwner::Method(m),
        None => MembershipOwner::Manual,
    }
}

impl SiteServices {
    pub fn create_group(
        &self,
        who: &Principal,
        course: CourseId,
        new: NewGroup,
    ) -> ServiceResult<CourseGroup> {
        let name = validate::required_text("name", &new.name, validate::MAX_NAME)?;
        let idnumber = validate::idnumber("idnumber", new.idnumber.as_deref())?;
        let description =
            validate::optional_text("description", &new.description, validate::MAX_DESCRIPTION)?;
        self.write(|t| {
            let actor = authorize(&self.site, t, who, Need::ManageCourse(course))?;
            load_course(t, course)?;
            let group = CourseGroup {
                id: t.new_group_id()?,
                course,
                name,
                idnumber,
                description,
                created_at: t.now,
            };
            check_unique(t, &group)?;
            t.put_group(&group)?;
            t.audit_log(
                actor,
                "group.created",
                format!("group #{} {:?} in course #{course}", group.id, group.name),
                "group created",
            )?;
            Ok(group)
        })
    }

    pub fn update_group(
        &self,
        who: &Principal,
        id: CourseGroupId,
        update: GroupUpdate,
    ) -> ServiceResult<CourseGroup> {
        let name = update
            .name
            .as_deref()
            .map(|v| validate::required_text("name", v, validate::MAX_NAME))
            .transpose()?;
        let idnumber = update
            .idnumber
            .as_deref()
            .map(|v| validate::idnumber("idnumber", Some(v)))
            .transpose()?;
        let description = update
            .description
            .as_deref()
            .map(|v| validate::optional_text("description", v, validate::MAX_DESCRIPTION))
            .transpose()?;
        self.write(|t| {
            authorize_caller(&self.site, t, who)?;
            let mut group = load_group(t, id)?;
            let actor = authorize(&self.site, t, who, Need::ConfigureCourse(group.course))?;
            if let Some(v) = name {
                group.name = v;
            }
            if let Some(v) = idnumber {
                group.idnumber = v;
            }
            if let Some(v) = description {
                group.description = v;
            }
            check_unique(t, &group)?;
            t.put_group(&group)?;
            t.audit_log(
                actor,
                "group.updated",
                format!("group #{id}"),
                "group updated",
            )?;
            Ok(group)
        })
    }

    /// Deletes a group with its memberships; returns what it was, so the
    /// caller knows the course it belonged to.
    pub fn delete_group(&self, who: &Principal, id: CourseGroupId) -> ServiceResult<CourseGroup> {
        self.write(|t| {
            authorize_caller(&self.site, t, who)?;
            let group = load_group(t, id)?;
            let actor = authorize(&self.site, t, who, Need::ConfigureCourse(group.course))?;
            delete_group_in(t, &group)?;
            t.audit_log(
                actor,
                "group.deleted",
                format!("group #{id} {:?} in course #{}", group.name, group.course),
                "group deleted",
            )?;
            Ok(group)
        })
    }

    pub fn get_group(&self, who: &Principal, id: CourseGroupId) -> ServiceResult<GroupSummary> {
        self.read(|t| {
            authorize_caller(&self.site, t, who)?;
            let group = load_group(t, id)?;
            authorize(&self.site, t, who, Need::ViewCourse(group.course))?;
            Ok(GroupSummary {
                members: t.group_member_count(id)?,
                group,
            })
        })
    }

    /// Groups of a course ordered by name, with member counts.
    pub fn list_groups(
        &self,
        who: &Principal,
        course: CourseId,
    ) -> ServiceResult<Vec<GroupSummary>> {
        Ok(self.groups_page(who, course, None, 0, usize::MAX)?.items)
    }

    /// Groups of a course ordered by name (then id), searched by name and
    /// idnumber; `offset` pages through the sorted list.
    pub fn search_groups(
        &self,
        who: &Principal,
        course: CourseId,
        query: Option<&str>,
        offset: usize,
        limit: usize,
    ) -> ServiceResult<Page<GroupSummary, usize>> {
        self.groups_page(who, course, query, offset, clamp_limit(limit))
    }

    fn groups_page(
        &self,
        who: &Principal,
        course: CourseId,
        query: Option<&str>,
        offset: usize,
        limit: usize,
    ) -> ServiceResult<Page<GroupSummary, usize>> {
        self.read(|t| {
            authorize(&self.site, t, who, Need::ViewCourse(course))?;
            load_course(t, course)?;
            let mut all: Vec<CourseGroup> = t
                .course_group_list(course)?
                .into_iter()
                .filter(|g| {
                    super::matches_query(query, &[&g.name, g.idnumber.as_deref().unwrap_or("")])
                })
                .collect();
            all.sort_by(|a, b| {
                a.name
                    .to_lowercase()
                    .cmp(&b.name.to_lowercase())
                    .then(a.id.cmp(&b.id))
            });
            super::offset_page(all, offset, limit, |group| {
                Ok(GroupSummary {
                    members: t.group_member_count(group.id)?,
                    group,
                })
            })
        })
    }

    /// Adds users to a group. Each must be enrolled in the course; any who is
    /// not fails the whole call. Existing memberships keep their owner.
    pub fn add_group_members(
        &self,
        who: &Principal,
        id: CourseGroupId,
        users: &[UserId],
    ) -> ServiceResult<super::segments::MembershipChange> {
        self.write(|t| {
            authorize_caller(&self.site, t, who)?;
            let group = load_group(t, id)?;
            let actor = authorize(&self.site, t, who, Need::ManageCourse(group.course))?;
            let owner = owner_for(who);
            let reason = format!("added to group {:?}", group.name);
            let mut change = super::segments::MembershipChange::default();
            for &user in users {
                if add_group_member_in(t, actor, owner, &group, user, &reason)? {
                    change.changed += 1;
                } else {
                    change.unchanged += 1;
                }
            }
            Ok(change)
        })
    }

    /// Removes users from a group. A membership owned by an enrolment method
    /// can only be removed by that method; trying fails the whole call.
    pub fn remove_group_members(
        &self,
        who: &Principal,
        id: CourseGroupId,
        users: &[UserId],
    ) -> ServiceResult<super::segments::MembershipChange> {
        self.write(|t| {
            authorize_caller(&self.site, t, who)?;
            let group = load_group(t, id)?;
            let actor = authorize(&self.site, t, who, Need::ManageCourse(group.course))?;
            let me = owner_for(who);
            let reason = format!("removed from group {:?}", group.name);
            let mut change = super::segments::MembershipChange::default();
            for &user in users {
                let Some(m) = t.group_membership(id, user)? else {
                    change.unchanged += 1;
                    continue;
                };
                if let MembershipOwner::Method(owner) = m.owner
                    && me != m.owner
                {
                    let name = t.method(owner)?.map_or_else(|| format!("#{owner}"), |m| format!("{:?}", m.name));
                    return Err(ServiceError::Conflict(format!(
                        "user #{user} was added to group {:?} by enrolment method {name}; only that method can remove them",
                        group.name
                    )));
                }
                if me != MembershipOwner::Manual && m.owner == MembershipOwner::Manual {
                    // A sync never removes a manual membership.
                    return Err(ServiceError::Conflict(format!(
                        "user #{user} was added to group {:?} by hand; an enrolment method cannot remove them",
                        group.name
                    )));
                }
                t.delete_group_member(group.course, id, user)?;
                t.audit_log(actor, "group.member_removed", AuditTarget::GroupMember { user, group: id }, &reason)?;
                t.emit(SiteEvent::GroupMemberRemoved { group: id, user })?;
                change.changed += 1;
            }
            Ok(change)
        })
    }

    /// Members of a group in user-id order, with the owner of each membership.
    pub fn group_members(
        &self,
        who: &Principal,
        id: CourseGroupId,
        after: Option<UserId>,
        limit: usize,
    ) -> ServiceResult<Page<GroupMember, UserId>> {
        self.read(|t| {
            authorize_caller(&self.site, t, who)?;
            let group = load_group(t, id)?;
            authorize(&self.site, t, who, Need::ViewCourse(group.course))?;
            let limit = clamp_limit(limit);
            let mut out = Vec::new();
            for membership in t.group_members_page(id, after, limit + 1)? {
                out.push(GroupMember {
                    user: load_user(t, membership.user)?,
                    membership,
                });
            }
            Ok(super::page_of(out, limit, |m| m.user.id))
        })
    }

    /// The groups page of a course: its groups with member counts, for
    /// the staff who configure them. Ordered and searched as
    /// [`search_groups`](Self::search_groups).
    pub fn course_groups(
        &self,
        who: &Principal,
        course: CourseId,
        query: Option<&str>,
        offset: usize,
        limit: usize,
    ) -> ServiceResult<CourseGroups> {
        self.read(|t| {
            authorize(&self.site, t, who, Need::ConfigureCourse(course))?;
            let found = load_course(t, course)?;
            let mut all: Vec<CourseGroup> = t
                .course_group_list(course)?
                .into_iter()
                .filter(|g| {
                    super::matches_query(query, &[&g.name, g.idnumber.as_deref().unwrap_or("")])
                })
                .collect();
            all.sort_by(|a, b| {
                a.name
                    .to_lowercase()
                    .cmp(&b.name.to_lowercase())
                    .then(a.id.cmp(&b.id))
            });
            let groups = super::offset_page(all, offset, clamp_limit(limit), |group| {
                Ok(GroupSummary {
                    members: t.group_member_count(group.id)?,
                    group,
                })
            })?;
            Ok(CourseGroups {
                course: found,
                groups,
            })
        })
    }

    /// The group page: the group, its course, a page of members with who
    /// keeps each membership, and the instances configured with it.
    pub fn group_overview(
        &self,
        who: &Principal,
        id: CourseGroupId,
        filter: &MemberFilter,
        after: Option<UserId>,
        limit: usize,
    ) -> ServiceResult<GroupOverview> {
        self.read(|t| {
            authorize_caller(&self.site, t, who)?;
            let group = load_group(t, id)?;
            authorize(&self.site, t, who, Need::ConfigureCourse(group.course))?;
            let course = load_course(t, group.course)?;
            let limit = clamp_limit(limit);
            let query = filter.query.as_deref();
            let mut seen = std::collections::BTreeMap::new();
            let mut out = Vec::new();
            let mut push =
                |membership: GroupMembership, out: &mut Vec<OwnedMember>| -> ServiceResult<()> {
                    let user = load_user(t, membership.user)?;
                    if user_matches(query, &user) {
                        let method = owner_method(t, membership.owner, &mut seen)?;
                        out.push(OwnedMember {
                            user,
                            membership,
                            method,
                        });
                    }
                    Ok(())
                };
            if let Some(users) = &filter.users {
                let mut users = users.clone();
                users.sort();
                users.dedup();
                for user in users.into_iter().filter(|u| after.is_none_or(|a| *u > a)) {
                    if out.len() > limit {
                        break;
                    }
                    if let Some(m) = t.group_membership(id, user)? {
                        push(m, &mut out)?;
                    }
                }
            } else {
                let mut cursor = after;
                // A search may skip many members: read on until limit + 1 match.
                while out.len() <= limit {
                    let batch = t.group_members_page(id, cursor, 256)?;
                    let Some(last) = batch.last() else { break };
                    cursor = Some(last.user);
                    for m in batch {
                        push(m, &mut out)?;
                        if out.len() > limit {
                            break;
                        }
                    }
                }
            }
            Ok(GroupOverview {
                members: t.group_member_count(id)?,
                used_by: methods_using(t, &group)?,
                page: super::page_of(out, limit, |m| m.user.id),
                group,
                course,
            })
        })
    }

    /// What [`delete_group`](Self::delete_group) would take with it, for
    /// its confirmation.
    pub fn group_deletion(
        &self,
        who: &Principal,
        id: CourseGroupId,
    ) -> ServiceResult<GroupDeletion> {
        self.read(|t| {
            authorize_caller(&self.site, t, who)?;
            let group = load_group(t, id)?;
            authorize(&self.site, t, who, Need::ConfigureCourse(group.course))?;
            let course = load_course(t, group.course)?;
            let mut manual = 0;
            let mut counts: std::collections::BTreeMap<EnrolmentMethodId, u64> = Default::default();
            let mut cursor = None;
            loop {
                let batch = t.group_members_page(id, cursor, 4096)?;
                let Some(last) = batch.last() else { break };
                cursor = Some(last.user);
                for m in batch {
                    match m.owner {
                        MembershipOwner::Manual => manual += 1,
                        MembershipOwner::Method(method) => *counts.entry(method).or_default() += 1,
                    }
                }
            }
            let mut by_method = Vec::new();
            for (method, n) in counts {
                if let Some(m) = t.method(method)? {
                    by_method.push((m, n));
                }
            }
            Ok(GroupDeletion {
                used_by: methods_using(t, &group)?,
                group,
                course,
                manual,
                by_method,
            })
        })
    }

    /// Participants of the group's course (any enrolment, as
    /// [`add_group_members`](Self::add_group_members) requires) who are
    /// not members, in user-id order, searched by name, username and
    /// e-mail.
    pub fn group_candidates(
        &self,
        who: &Principal,
        id: CourseGroupId,
        query: Option<&str>,
        after: Option<UserId>,
        limit: usize,
    ) -> ServiceResult<GroupCandidates> {
        self.read(|t| {
            authorize_caller(&self.site, t, who)?;
            let group = load_group(t, id)?;
            authorize(&self.site, t, who, Need::ManageCourse(group.course))?;
            let course = load_course(t, group.course)?;
            let limit = clamp_limit(limit);
            let mut out: Vec<User> = Vec::new();
            let mut cursor = after;
            'outer: loop {
                let rows = t.course_enrolments_page(group.course, cursor, 256)?;
                let Some(last) = rows.last() else { break };
                cursor = Some(last.user);
                let mut users: Vec<UserId> = rows.iter().map(|e| e.user).collect();
                users.dedup();
                for user in users {
                    if t.group_membership(id, user)?.is_some() {
                        continue;
                    }
                    let user = load_user(t, user)?;
                    if user_matches(query, &user) {
                        out.push(user);
                        if out.len() > limit {
                            break 'outer;
                        }
                    }
                }
            }
            Ok(GroupCandidates {
                group,
                course,
                candidates: super::page_of(out, limit, |u| u.id),
            })
        })
    }

    /// Groups of a course by name or idnumber (what CSV files name).
    pub fn find_group(
        &self,
        who: &Principal,
        course: CourseId,
        key: &str,
    ) -> ServiceResult<CourseGroup> {
        self.read(|t| {
            authorize(&self.site, t, who, Need::ViewCourse(course))?;
            let id = match t.group_id_by_idnumber(course, key)? {
                Some(id) => id,
                None => t.group_id_by_name(course, key)?.ok_or_else(|| {
                    ServiceError::not_found(format!("group {key:?} in course #{course}"))
                })?,
            };
            load_group(t, id)
        })
    }
}
