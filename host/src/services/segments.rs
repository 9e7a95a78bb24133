//! User segments: site-wide sets of users for mass actions (PRODUCT §2).

use super::auth::{Need, authorize};
use super::error::{ServiceError, ServiceResult};
use super::execution::Foreseen;
use super::ops::courses::load_course;
use super::ops::segments::{
    add_segment_member_in, check_idnumber_free, create_segment_in, load_segment,
};
use super::ops::users::{load_user, require_user};
use super::{
    Page, Principal, SiteServices, clamp_limit, matches_query, page_of, user_matches, validate,
};
use crate::domain::*;
use crate::storage::registry::RegistryRead;
use crate::storage::site::{SiteReadTables, SiteTables, prelude::*};

pub use super::MembershipChange;
pub use super::ops::segments::NewSegment;

/// Changes to a segment; `None` leaves a field as it is. `idnumber:
/// Some("")` clears it.
#[derive(Clone, Debug, Default)]
pub struct SegmentUpdate {
    pub name: Option<String>,
    pub idnumber: Option<String>,
    pub description: Option<String>,
    pub visible: Option<bool>,
}

/// A segment with its member count, as lists show it.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct SegmentSummary {
    pub segment: Segment,
    pub members: u64,
}

/// A managed segment's members change only through its component.
fn check_membership_editable(
    t: &SiteTables<'_>,
    who: &Principal,
    segment: &Segment,
) -> ServiceResult<()> {
    let Some(component) = &segment.managed_by else {
        return Ok(());
    };
    let by_component = match who.method_id() {
        Some(m) => t.method(m)?.is_some_and(|m| &m.plugin == component),
        None => false,
    };
    if by_component {
        Ok(())
    } else {
        Err(ServiceError::Conflict(format!(
            "segment {:?} is managed by {component:?}; its members change only through it",
            segment.name
        )))
    }
}

impl SiteServices {
    pub fn create_segment(&self, who: &Principal, new: NewSegment) -> ServiceResult<Segment> {
        self.write(|t| {
            // Authorised before the input is checked: whoever may not
            // create a segment hears that, not the form's rules.
            let actor = authorize(&self.site, t, who, Need::SiteAdmin)?;
            let validate::Labels {
                name,
                idnumber,
                description,
            } = validate::labels(&new.name, new.idnumber.as_deref(), &new.description)?;
            create_segment_in(
                t,
                actor,
                NewSegment {
                    name,
                    idnumber,
                    description,
                    ..new
                },
                "segment created",
            )
        })
    }

    pub fn update_segment(
        &self,
        who: &Principal,
        id: SegmentId,
        update: SegmentUpdate,
    ) -> ServiceResult<Segment> {
        self.write(|t| {
            let actor = authorize(&self.site, t, who, Need::SiteAdmin)?;
            let validate::LabelChanges {
                name,
                idnumber,
                description,
            } = validate::label_changes(
                update.name.as_deref(),
                update.idnumber.as_deref(),
                update.description.as_deref(),
            )?;
            let mut segment = load_segment(t, id)?;
            let before = segment.clone();
            if let Some(v) = name {
                segment.name = v;
            }
            if let Some(v) = idnumber {
                check_idnumber_free(t, &v, Some(id))?;
                segment.idnumber = v;
            }
            if let Some(v) = description {
                segment.description = v;
            }
            if let Some(v) = update.visible {
                segment.visible = v;
            }
            if segment == before {
                return Ok(segment);
            }
            t.put_segment(&segment)?;
            t.audit_log(
                actor,
                "segment.updated",
                format!("segment #{id} {:?}", segment.name),
                "segment updated",
            )?;
            Ok(segment)
        })
    }

    /// Deletes a segment and its memberships. Enrolment methods that use it
    /// learn of it through `SegmentDeleted` and decide what happens to their
    /// enrolments.
    pub fn delete_segment(&self, who: &Principal, id: SegmentId) -> ServiceResult<()> {
        self.write(|t| {
            let actor = authorize(&self.site, t, who, Need::SiteAdmin)?;
            let segment = load_segment(t, id)?;
            loop {
                let batch = t.segment_member_ids(id, None, 4096)?;
                if batch.is_empty() {
                    break;
                }
                for user in batch {
                    t.remove_segment_member(id, user)?;
                }
            }
            t.delete_segment_row(&segment)?;
            t.audit_log(
                actor,
                "segment.deleted",
                format!("segment #{id} {:?}", segment.name),
                "segment deleted",
            )?;
            t.emit(SiteEvent::SegmentDeleted { segment: id })?;
            Ok(())
        })
    }

    /// Adds users to a segment; users already in it are left alone. Any
    /// unknown user fails the whole call.
    pub fn add_segment_members(
        &self,
        who: &Principal,
        id: SegmentId,
        users: &[UserId],
    ) -> ServiceResult<MembershipChange> {
        self.write(|t| {
            let actor = authorize(&self.site, t, who, Need::SiteAdmin)?;
            let segment = load_segment(t, id)?;
            check_membership_editable(t, who, &segment)?;
            let reason = format!("added to segment {:?}", segment.name);
            let mut change = MembershipChange::default();
            for &user in users {
                require_user(t, user)?;
                if add_segment_member_in(t, actor, id, user, &reason)? {
                    change.changed += 1;
                } else {
                    change.unchanged += 1;
                }
            }
            Ok(change)
        })
    }

    /// Removes users from a segment; non-members are left alone.
    pub fn remove_segment_members(
        &self,
        who: &Principal,
        id: SegmentId,
        users: &[UserId],
    ) -> ServiceResult<MembershipChange> {
        self.write(|t| {
            let actor = authorize(&self.site, t, who, Need::SiteAdmin)?;
            let segment = load_segment(t, id)?;
            check_membership_editable(t, who, &segment)?;
            let reason = format!("removed from segment {:?}", segment.name);
            let mut change = MembershipChange::default();
            for &user in users {
                if t.remove_segment_member(id, user)? {
                    change.changed += 1;
                    t.audit_log(
                        actor,
                        "segment.member_removed",
                        AuditTarget::SegmentMember { user, segment: id },
                        &reason,
                    )?;
                    t.emit(SiteEvent::SegmentMemberRemoved { segment: id, user })?;
                } else {
                    change.unchanged += 1;
                }
            }
            Ok(change)
        })
    }

    pub fn get_segment(&self, who: &Principal, id: SegmentId) -> ServiceResult<SegmentSummary> {
        self.read(|t| {
            authorize(&self.site, t, who, Need::SiteAdmin)?;
            let segment = load_segment(t, id)?;
            Ok(SegmentSummary {
                members: t.segment_member_count(id)?,
                segment,
            })
        })
    }

    pub fn segment_by_idnumber(&self, who: &Principal, idnumber: &str) -> ServiceResult<Segment> {
        self.read(|t| {
            authorize(&self.site, t, who, Need::SiteAdmin)?;
            let id = t.segment_id_by_idnumber(idnumber)?.ok_or_else(|| {
                ServiceError::not_found(format!("segment with idnumber {idnumber:?}"))
            })?;
            load_segment(t, id)
        })
    }

    /// Segments ordered by name (then id), searched by name, idnumber and
    /// description.
    /// `offset` pages through the sorted list.
    pub fn list_segments(
        &self,
        who: &Principal,
        query: Option<&str>,
        offset: usize,
        limit: usize,
    ) -> ServiceResult<Page<SegmentSummary, usize>> {
        self.read(|t| {
            authorize(&self.site, t, who, Need::SiteAdmin)?;
            let limit = clamp_limit(limit);
            let mut all: Vec<Segment> = t
                .all_segments()?
                .into_iter()
                .filter(|s| {
                    matches_query(
                        query,
                        &[&s.name, s.idnumber.as_deref().unwrap_or(""), &s.description],
                    )
                })
                .collect();
            all.sort_by(|a, b| {
                a.name
                    .to_lowercase()
                    .cmp(&b.name.to_lowercase())
                    .then(a.id.cmp(&b.id))
            });
            super::offset_page(all, offset, limit, |segment| {
                Ok(SegmentSummary {
                    members: t.segment_member_count(segment.id)?,
                    segment,
                })
            })
        })
    }

    /// Members of a segment in id order.
    pub fn segment_members(
        &self,
        who: &Principal,
        id: SegmentId,
        after: Option<UserId>,
        limit: usize,
    ) -> ServiceResult<Page<User, UserId>> {
        self.read(|t| {
            authorize(&self.site, t, who, Need::SiteAdmin)?;
            load_segment(t, id)?;
            let limit = clamp_limit(limit);
            let mut users = Vec::new();
            for uid in t.segment_member_ids(id, after, limit + 1)? {
                users.push(load_user(t, uid)?);
            }
            Ok(page_of(users, limit, |u| u.id))
        })
    }

    /// The segments a user belongs to.
    pub fn user_segments(&self, who: &Principal, user: UserId) -> ServiceResult<Vec<Segment>> {
        self.read(|t| {
            authorize(&self.site, t, who, Need::SelfOrAdmin(user))?;
            require_user(t, user)?;
            let mut out = Vec::new();
            for id in t.user_segment_ids(user)? {
                out.push(load_segment(t, id)?);
            }
            Ok(out)
        })
    }
}

/// A segment and a page of users seen from it (its members, or the users
/// who could join it), read in one snapshot so the two agree.
#[derive(Clone, Debug, PartialEq)]
pub struct SegmentWithUsers {
    pub segment: SegmentSummary,
    pub users: Page<User, UserId>,
}

/// An enrolment method that uses a segment, or that deleting it changes.
#[derive(Clone, Debug, PartialEq)]
pub struct SegmentUse {
    pub method: EnrolmentMethod,
    pub course: Course,
    /// What deleting the segment does to the method, from a dry run of its
    /// plugin's answer.
    pub on_delete: Foreseen,
}

/// A segment and the enrolment methods that use it.
#[derive(Clone, Debug, PartialEq)]
pub struct SegmentUsage {
    pub segment: SegmentSummary,
    pub uses: Vec<SegmentUse>,
}

/// The config key naming the segment when a plugin's manifest is not at
/// hand (the bundled segment plugins use it).
const SEGMENT_KEY: &str = "segment";

impl SiteServices {
    /// A segment and a page of its members in id order, searched by
    /// username, names and e-mail.
    pub fn find_segment_members(
        &self,
        who: &Principal,
        id: SegmentId,
        query: Option<&str>,
        after: Option<UserId>,
        limit: usize,
    ) -> ServiceResult<SegmentWithUsers> {
        self.segment_with_users(who, id, |t| {
            let limit = clamp_limit(limit);
            let mut found = Vec::new();
            let mut cursor = after;
            // Members are walked in batches until a page of matches is full,
            // so a rare search term still finds members far down the list.
            'walk: loop {
                let batch = t.segment_member_ids(id, cursor, 1024)?;
                let Some(&last) = batch.last() else { break };
                for uid in batch {
                    let user = load_user(t, uid)?;
                    if user_matches(query, &user) {
                        found.push(user);
                        if found.len() > limit {
                            break 'walk;
                        }
                    }
                }
                cursor = Some(last);
            }
            Ok(page_of(found, limit, |u| u.id))
        })
    }

    /// A segment and a page of the site's users who are not its members,
    /// in id order, searched as the user list is: the people an admin may
    /// add.
    pub fn segment_candidates(
        &self,
        who: &Principal,
        id: SegmentId,
        query: Option<&str>,
        after: Option<UserId>,
        limit: usize,
    ) -> ServiceResult<SegmentWithUsers> {
        self.segment_with_users(who, id, |t| {
            let limit = clamp_limit(limit);
            let mut failed = None;
            let items = t.users_page(after, limit + 1, |u| {
                user_matches(query, u)
                    && match t.is_segment_member(id, u.id) {
                        Ok(member) => !member,
                        Err(e) => {
                            failed.get_or_insert(e);
                            false
                        }
                    }
            })?;
            if let Some(e) = failed {
                return Err(e.into());
            }
            Ok(page_of(items, limit, |u| u.id))
        })
    }

    /// A segment and those of `users` who are its members, in id order:
    /// what removing them would remove. Unknown ids and non-members are
    /// left out.
    pub fn segment_members_among(
        &self,
        who: &Principal,
        id: SegmentId,
        users: &[UserId],
    ) -> ServiceResult<SegmentWithUsers> {
        self.segment_with_users(who, id, |t| {
            let mut ids = users.to_vec();
            ids.sort_unstable();
            ids.dedup();
            let mut items = Vec::new();
            for uid in ids {
                if t.is_segment_member(id, uid)? {
                    items.push(load_user(t, uid)?);
                }
            }
            Ok(Page { items, next: None })
        })
    }

    /// Segment `id` (site admins only) with the page of users `users`
    /// reads from the same snapshot.
    fn segment_with_users(
        &self,
        who: &Principal,
        id: SegmentId,
        users: impl FnOnce(&SiteReadTables) -> ServiceResult<Page<User, UserId>>,
    ) -> ServiceResult<SegmentWithUsers> {
        self.read(|t| {
            authorize(&self.site, t, who, Need::SiteAdmin)?;
            let segment = load_segment(t, id)?;
            let users = users(t)?;
            Ok(SegmentWithUsers {
                segment: SegmentSummary {
                    members: t.segment_member_count(id)?,
                    segment,
                },
                users,
            })
        })
    }

    /// The enrolment methods whose config names segment `id` (in a field
    /// the plugin's manifest declares a segment, else under `segment`), and
    /// any other that deleting it would change, each with what deleting
    /// the segment does to it as its plugin answers in a dry run (the
    /// segment seen as gone, nothing written): what the deletion's
    /// confirmation lists.
    pub fn segment_usage(&self, who: &Principal, id: SegmentId) -> ServiceResult<SegmentUsage> {
        let (segment, methods) = self.read(|t| {
            authorize(&self.site, t, who, Need::SiteAdmin)?;
            let segment = SegmentSummary {
                segment: load_segment(t, id)?,
                members: t.segment_member_count(id)?,
            };
            let mut with_courses = Vec::new();
            for method in t.all_methods()? {
                let course = load_course(t, method.course)?;
                with_courses.push((method, course));
            }
            Ok((segment, with_courses))
        })?;
        // Which config keys name a segment, per plugin, from the manifest of
        // the version the site has pinned.
        let segment_keys: std::collections::BTreeMap<String, Vec<String>> =
            self.registry.read(|r| {
                let mut out = std::collections::BTreeMap::new();
                for sp in r.site_plugins(self.site.id)? {
                    if let Some(v) = r.plugin_version(&sp.plugin, &sp.version)? {
                        let keys = v
                            .manifest
                            .config
                            .iter()
                            .filter(|f| f.kind == PluginFieldKind::Segment)
                            .map(|f| f.key.clone())
                            .collect();
                        out.insert(sp.plugin, keys);
                    }
                }
                Ok::<_, ServiceError>(out)
            })?;
        let fallback = vec![SEGMENT_KEY.to_owned()];
        let mut uses = Vec::new();
        for (method, course) in methods {
            let keys = segment_keys.get(&method.plugin).unwrap_or(&fallback);
            let config: serde_json::Value =
                serde_json::from_str(&method.config).unwrap_or_default();
            let names_it = keys
                .iter()
                .any(|k| config.get(k).and_then(|v| v.as_u64()) == Some(id.0));
            let on_delete = self.foresee_segment_deletion(&method, id)?;
            if names_it || !on_delete.changes_nothing() {
                uses.push(SegmentUse {
                    method,
                    course,
                    on_delete,
                });
            }
        }
        Ok(SegmentUsage { segment, uses })
    }
}
