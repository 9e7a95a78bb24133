//! What a course's staff see of its groups: the groups page, a group's
//! page with who keeps each membership, what deleting a group takes with
//! it, and who could join.

use super::{GroupSummary, group_summaries};
use crate::domain::*;
use crate::services::auth::{Need, authorize, authorized_group};
use crate::services::error::ServiceResult;
use crate::services::ops::courses::load_course;
use crate::services::ops::users::load_user;
use crate::services::{Page, Principal, SiteServices, clamp_limit, page_of, user_matches};
use crate::storage::site::prelude::*;

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
    /// The enrolment method that keeps the membership; `None`
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
    /// Enrolment methods of the course configured with this group.
    pub used_by: Vec<EnrolmentMethod>,
}

/// What deleting a group takes with it.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupDeletion {
    pub group: CourseGroup,
    pub course: Course,
    /// Memberships added by hand.
    pub manual: u64,
    /// Memberships kept by each enrolment method.
    pub by_method: Vec<(EnrolmentMethod, u64)>,
    /// Enrolment methods of the course configured with this group.
    pub used_by: Vec<EnrolmentMethod>,
}

/// Participants of a group's course who could be added to it.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupCandidates {
    pub group: CourseGroup,
    pub course: Course,
    pub candidates: Page<User, UserId>,
}

/// Methods of the group's course that name it in their config (`group`,
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

impl SiteServices {
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
            let groups = group_summaries(t, course, None, query, offset, clamp_limit(limit))?;
            Ok(CourseGroups {
                course: found,
                groups,
            })
        })
    }

    /// The group page: the group, its course, a page of members with who
    /// keeps each membership, and the methods configured with it.
    pub fn group_overview(
        &self,
        who: &Principal,
        id: CourseGroupId,
        filter: &MemberFilter,
        after: Option<UserId>,
        limit: usize,
    ) -> ServiceResult<GroupOverview> {
        self.read(|t| {
            let (group, _) = authorized_group(&self.site, t, who, id, Need::ConfigureCourse)?;
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
                page: page_of(out, limit, |m| m.user.id),
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
            let (group, _) = authorized_group(&self.site, t, who, id, Need::ConfigureCourse)?;
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
            let (group, _) = authorized_group(&self.site, t, who, id, Need::ManageCourse)?;
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
                candidates: page_of(out, limit, |u| u.id),
            })
        })
    }
}
