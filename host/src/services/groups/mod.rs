//! Course groups and their memberships (PRODUCT §2).
//!
//! Each membership records its owner. A membership owned by an enrolment
//! method is removed only by that method; a manual one is never removed by
//! a sync. A group member must be enrolled in the group's course.

mod staff;

use super::auth::{Need, authorize, authorized_group};
use super::course_access::CourseAccess;
use super::error::{ServiceError, ServiceResult};
use super::ops::courses::load_course;
use super::ops::groups::{
    add_group_member_in, check_unique, delete_group_in, insert_group_in, load_group,
    remove_group_member_in,
};
use super::ops::methods::orphan_methods_of_group_in;
use super::ops::users::load_user;
use super::{
    MembershipChange, Page, Principal, SiteServices, clamp_limit, matches_query, offset_page,
    page_of, validate,
};
use crate::domain::*;
use crate::storage::site::prelude::*;

pub use staff::{
    CourseGroups, GroupCandidates, GroupDeletion, GroupOverview, MemberFilter, OwnedMember,
};

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
        self.write(|t| {
            // Authorised before the input is checked: whoever may not
            // create a group hears that, not the form's rules.
            let actor = authorize(&self.site, t, who, Need::ManageCourse(course))?;
            let validate::Labels {
                name,
                idnumber,
                description,
            } = validate::labels(&new.name, new.idnumber.as_deref(), &new.description)?;
            load_course(t, course)?;
            let group = CourseGroup {
                id: t.new_group_id()?,
                course,
                name,
                idnumber,
                description,
                created_at: t.now,
            };
            insert_group_in(t, actor, &group, "group created")?;
            Ok(group)
        })
    }

    pub fn update_group(
        &self,
        who: &Principal,
        id: CourseGroupId,
        update: GroupUpdate,
    ) -> ServiceResult<CourseGroup> {
        self.write(|t| {
            let (mut group, actor) =
                authorized_group(&self.site, t, who, id, Need::ConfigureCourse)?;
            let validate::LabelChanges {
                name,
                idnumber,
                description,
            } = validate::label_changes(
                update.name.as_deref(),
                update.idnumber.as_deref(),
                update.description.as_deref(),
            )?;
            let before = group.clone();
            if let Some(v) = name {
                group.name = v;
            }
            if let Some(v) = idnumber {
                group.idnumber = v;
            }
            if let Some(v) = description {
                group.description = v;
            }
            if group == before {
                return Ok(group);
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
    ///
    /// The enrolment methods of the course that grouped into it (named in
    /// their config, or created by them) stop grouping and get a warning,
    /// in the same transaction (`ops::methods::orphan_methods_of_group_in`):
    /// a deleted group is never made again behind the admin's back.
    pub fn delete_group(&self, who: &Principal, id: CourseGroupId) -> ServiceResult<CourseGroup> {
        let (group, warned) = self.write(|t| {
            let (group, actor) = authorized_group(&self.site, t, who, id, Need::ConfigureCourse)?;
            let mut forms = std::collections::HashMap::new();
            for m in t.course_methods_list(group.course)? {
                if let std::collections::hash_map::Entry::Vacant(slot) = forms.entry(m.plugin) {
                    let form = self.pinned_manifest(slot.key())?.map(|p| p.config);
                    slot.insert(form);
                }
            }
            let warned = orphan_methods_of_group_in(t, actor, &group, |plugin| {
                forms.get(plugin).cloned().flatten()
            })?;
            delete_group_in(t, &group)?;
            t.audit_log(
                actor,
                "group.deleted",
                format!("group #{id} {:?} in course #{}", group.name, group.course),
                "group deleted",
            )?;
            Ok((group, warned))
        })?;
        for method in warned {
            tracing::warn!(
                site = %self.site.slug,
                course = %group.course,
                method = %method,
                group = %group.id,
                "the group {:?} of an enrolment method was deleted; the method groups no one until a group is chosen again",
                group.name
            );
        }
        Ok(group)
    }

    pub fn get_group(&self, who: &Principal, id: CourseGroupId) -> ServiceResult<GroupSummary> {
        self.read(|t| {
            let (group, _) = visible_group(&self.site, t, who, id)?;
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
            let access = CourseAccess::of(&self.site, t, who, course)?;
            let only = access.group_filter(access.group_mode(None));
            group_summaries(t, course, only, query, offset, limit)
        })
    }

    /// Adds users to a group. Each must be enrolled in the course; any who is
    /// not fails the whole call. Existing memberships keep their owner.
    pub fn add_group_members(
        &self,
        who: &Principal,
        id: CourseGroupId,
        users: &[UserId],
    ) -> ServiceResult<MembershipChange> {
        self.write(|t| {
            let (group, actor) = authorized_group(&self.site, t, who, id, Need::ManageCourse)?;
            let owner = owner_for(who);
            let reason = format!("added to group {:?}", group.name);
            MembershipChange::tally(users, |user| {
                add_group_member_in(t, actor, owner, &group, user, &reason)
            })
        })
    }

    /// Removes users from a group. A membership owned by an enrolment method
    /// can only be removed by that method; trying fails the whole call.
    pub fn remove_group_members(
        &self,
        who: &Principal,
        id: CourseGroupId,
        users: &[UserId],
    ) -> ServiceResult<MembershipChange> {
        self.write(|t| {
            let (group, actor) = authorized_group(&self.site, t, who, id, Need::ManageCourse)?;
            let me = owner_for(who);
            let reason = format!("removed from group {:?}", group.name);
            let mut change = MembershipChange::default();
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
                remove_group_member_in(t, actor, group.course, id, user, &reason)?;
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
            let (_, access) = visible_group(&self.site, t, who, id)?;
            let sees_emails = access.sees_emails(t)?;
            let limit = clamp_limit(limit);
            let mut out = Vec::new();
            for membership in t.group_members_page(id, after, limit + 1)? {
                out.push(GroupMember {
                    user: access.user_as_seen(sees_emails, load_user(t, membership.user)?),
                    membership,
                });
            }
            Ok(page_of(out, limit, |m| m.user.id))
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
            let access = CourseAccess::of(&self.site, t, who, course)?;
            let id = match t.group_id_by_idnumber(course, key)? {
                Some(id) => id,
                None => t.group_id_by_name(course, key)?.ok_or_else(|| {
                    ServiceError::not_found(format!("group {key:?} in course #{course}"))
                })?,
            };
            if !access.sees_group(access.group_mode(None), Some(id)) {
                return Err(ServiceError::not_found(format!(
                    "group {key:?} in course #{course}"
                )));
            }
            load_group(t, id)
        })
    }
}

/// A course's groups ordered by name (then id), searched by name and
/// idnumber, with member counts: the window `offset .. offset + limit`.
/// The group `id` and the caller's access to its course, when the caller
/// may see it: in a separate-groups course a learner or a non-editing
/// teacher sees only their own groups, and another group is "not found".
fn visible_group(
    site: &Site,
    t: &impl SiteRead,
    who: &Principal,
    id: CourseGroupId,
) -> ServiceResult<(CourseGroup, CourseAccess)> {
    let (group, _) = authorized_group(site, t, who, id, Need::ViewCourse)?;
    let access = CourseAccess::of(site, t, who, group.course)?;
    if !access.sees_group(access.group_mode(None), Some(id)) {
        return Err(ServiceError::not_found(format!("course group #{id}")));
    }
    Ok((group, access))
}

fn group_summaries(
    t: &impl SiteRead,
    course: CourseId,
    only: Option<&std::collections::BTreeSet<CourseGroupId>>,
    query: Option<&str>,
    offset: usize,
    limit: usize,
) -> ServiceResult<Page<GroupSummary, usize>> {
    let mut all: Vec<CourseGroup> = t
        .course_group_list(course)?
        .into_iter()
        .filter(|g| only.is_none_or(|only| only.contains(&g.id)))
        .filter(|g| matches_query(query, &[&g.name, g.idnumber.as_deref().unwrap_or("")]))
        .collect();
    all.sort_by(|a, b| {
        a.name
            .to_lowercase()
            .cmp(&b.name.to_lowercase())
            .then(a.id.cmp(&b.id))
    });
    offset_page(all, offset, limit, |group| {
        Ok(GroupSummary {
            members: t.group_member_count(group.id)?,
            group,
        })
    })
}
