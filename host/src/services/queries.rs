//! The host side of the contract's read-only queries, for one instance.
//!
//! [`SiteQueries`] answers every query of one plugin call from ONE read
//! snapshot of the site, so a plugin sees a consistent state however many
//! queries it makes and however long it runs (the snapshot does not block
//! writers). Everything is scoped: users and segments of this site only,
//! enrolments and groups of the instance's course only; a group of another
//! course is `out-of-scope`, not "not found", so the plugin's author sees
//! what went wrong.

use super::SiteServices;
use super::contract::{settings_fields, wit_role};
use super::error::ServiceResult;
use super::plugin_settings::effective;
use crate::domain::*;
use crate::runtime::wit::{self, HostError};
use crate::runtime::{Plugin, Queries};
use crate::storage::StorageError;
use crate::storage::site::{SiteReadTables, prelude::*};

/// The most rows one page answer holds, whatever the plugin asks.
const MAX_PAGE: u32 = 1000;

/// The users a call's `segment-members` answers showed as active users of
/// the site, with the snapshot's change number ([`SiteRead::changes`]).
/// Applying the call's plan in a transaction that finds the same number,
/// the host need not read those users' records again: nothing changed in
/// between. The plugin cannot add to it; only the host's own answers do.
#[derive(Default)]
pub(crate) struct ActiveSeen {
    pub(crate) changes: u64,
    /// In answer order; made a set only when a plan is applied (a
    /// reconcile page that changes nothing never needs it).
    pub(crate) users: std::sync::Mutex<Vec<UserId>>,
}

impl ActiveSeen {
    /// The users, if `changes_now` is still the snapshot's number.
    pub(crate) fn still_active(&self, changes_now: u64) -> std::collections::HashSet<UserId> {
        if changes_now != self.changes {
            return Default::default();
        }
        std::mem::take(&mut *self.users.lock().unwrap_or_else(|p| p.into_inner()))
            .into_iter()
            .collect()
    }
}

/// Queries of one instance (or, while validating a config for a new
/// instance, of one course) over one read snapshot.
pub(crate) struct SiteQueries {
    t: SiteReadTables,
    /// Where `segment-members` notes the active users it answered.
    seen: std::sync::Arc<ActiveSeen>,
    course: CourseId,
    instance: Option<EnrolmentMethodId>,
    /// The calling plugin: `sibling-instances` lists its other instances.
    plugin: String,
}

impl SiteServices {
    /// Queries scoped to `course` and, once it exists, `instance`, over a
    /// snapshot taken now.
    pub(crate) fn course_queries(
        &self,
        course: CourseId,
        instance: Option<EnrolmentMethodId>,
        plugin: &str,
    ) -> ServiceResult<Box<dyn Queries>> {
        Ok(Box::new(SiteQueries {
            t: self.store.read_tables()?,
            seen: Default::default(),
            course,
            instance,
            plugin: plugin.to_owned(),
        }))
    }
}

impl SiteServices {
    /// The queries of a call of instance `m` and the plugin settings it
    /// receives, both from one snapshot (one read transaction per call).
    pub(crate) fn method_call_inputs(
        &self,
        m: &EnrolmentMethod,
        plugin: &Plugin,
    ) -> ServiceResult<(Box<dyn Queries>, String, std::sync::Arc<ActiveSeen>)> {
        let t = self.store.read_tables()?;
        let seen = std::sync::Arc::new(ActiveSeen {
            changes: t.changes()?,
            users: Default::default(),
        });
        let manifest = &plugin.manifest;
        let settings = if manifest.settings.is_empty() {
            "{}".to_owned()
        } else {
            let saved = t.plugin_settings_json(&manifest.id)?;
            let fields = settings_fields(manifest);
            serde_json::Value::Object(effective(&fields, saved.as_deref())).to_string()
        };
        let queries = SiteQueries {
            t,
            seen: seen.clone(),
            course: m.course,
            instance: Some(m.id),
            plugin: m.plugin.clone(),
        };
        Ok((Box::new(queries), settings, seen))
    }
}

fn unavailable(e: StorageError) -> HostError {
    tracing::error!(error = %e, "storage error while answering a plugin query");
    HostError::Unavailable("the host could not read the site; the call will be retried".into())
}

fn limit_of(limit: u32) -> usize {
    limit.clamp(1, MAX_PAGE) as usize
}

fn wit_enrolment(e: &Enrolment) -> wit::Enrolment {
    wit::Enrolment {
        user: e.user.0,
        instance: e.method.0,
        role: e.role.map(wit_role),
        status: match e.status {
            EnrolmentStatus::Active => wit::EnrolmentStatus::Active,
            EnrolmentStatus::Suspended => wit::EnrolmentStatus::Suspended,
        },
    }
}

fn wit_member(m: &GroupMembership) -> wit::GroupMember {
    wit::GroupMember {
        user: m.user.0,
        owner: match m.owner {
            MembershipOwner::Manual => wit::MembershipOwner::Manual,
            MembershipOwner::Method(id) => wit::MembershipOwner::Instance(id.0),
        },
    }
}

impl SiteQueries {
    /// A group of the instance's course, or `out-of-scope`.
    fn own_group(&self, group: u64) -> Result<CourseGroup, HostError> {
        match self.t.group(CourseGroupId(group)).map_err(unavailable)? {
            Some(g) if g.course == self.course => Ok(g),
            _ => Err(HostError::OutOfScope(format!(
                "group #{group} is not a group of course #{}",
                self.course
            ))),
        }
    }
}

impl Queries for SiteQueries {
    fn user(&mut self, id: u64) -> Result<Option<wit::User>, HostError> {
        Ok(self
            .t
            .user(UserId(id))
            .map_err(unavailable)?
            .map(|u| wit::User {
                id: u.id.0,
                suspended: u.status != UserStatus::Active,
                username: u.username,
                firstname: u.firstname,
                lastname: u.lastname,
                email: u.email,
            }))
    }

    fn segment_exists(&mut self, segment: u64) -> Result<Option<String>, HostError> {
        Ok(self
            .t
            .segment(SegmentId(segment))
            .map_err(unavailable)?
            .map(|s| s.name))
    }

    fn segment_members(
        &mut self,
        segment: u64,
        after: Option<u64>,
        limit: u32,
    ) -> Result<wit::SegmentMemberPage, HostError> {
        let limit = limit_of(limit);
        let mut users = self
            .t
            .segment_member_ids(SegmentId(segment), after.map(UserId), limit + 1)
            .map_err(unavailable)?;
        let next = more(&mut users, limit, |u| u.0);
        let mut active = self.seen.users.lock().unwrap_or_else(|p| p.into_inner());
        let members = users
            .into_iter()
            .map(|u| {
                let status = self.t.user_status(u).map_err(unavailable)?;
                if status == Some(UserStatus::Active) {
                    active.push(u);
                }
                Ok(wit::SegmentMember {
                    user: u.0,
                    // A member is a user; a missing record is not "suspended".
                    suspended: status.is_some_and(|s| s != UserStatus::Active),
                })
            })
            .collect::<Result<_, HostError>>()?;
        drop(active);
        Ok(wit::SegmentMemberPage { members, next })
    }

    fn is_segment_member(&mut self, segment: u64, user: u64) -> Result<bool, HostError> {
        self.t
            .is_segment_member(SegmentId(segment), UserId(user))
            .map_err(unavailable)
    }

    fn course_enrolments(
        &mut self,
        after: Option<u64>,
        limit: u32,
    ) -> Result<wit::EnrolmentPage, HostError> {
        // `limit` counts enrolments; a user's enrolments are never split
        // across pages, so a page may hold a few more.
        let rows = self
            .t
            .course_enrolments_page(self.course, after.map(UserId), limit_of(limit))
            .map_err(unavailable)?;
        let next = match rows.last() {
            Some(last) => {
                let beyond = self
                    .t
                    .course_enrolments_page(self.course, Some(last.user), 1)
                    .map_err(unavailable)?;
                (!beyond.is_empty()).then_some(last.user.0)
            }
            None => None,
        };
        Ok(wit::EnrolmentPage {
            enrolments: rows.iter().map(wit_enrolment).collect(),
            next,
        })
    }

    fn user_enrolments(&mut self, user: u64) -> Result<Vec<wit::Enrolment>, HostError> {
        Ok(self
            .t
            .user_course_enrolments(self.course, UserId(user))
            .map_err(unavailable)?
            .iter()
            .map(wit_enrolment)
            .collect())
    }

    fn instance_enrolments(
        &mut self,
        after: Option<u64>,
        limit: u32,
    ) -> Result<wit::EnrolmentPage, HostError> {
        let Some(instance) = self.instance else {
            return Ok(wit::EnrolmentPage {
                enrolments: Vec::new(),
                next: None,
            });
        };
        let limit = limit_of(limit);
        let mut rows = self
            .t
            .method_enrolments_page(self.course, instance, after.map(UserId), limit + 1)
            .map_err(unavailable)?;
        let next = more(&mut rows, limit, |e| e.user.0);
        Ok(wit::EnrolmentPage {
            enrolments: rows.iter().map(wit_enrolment).collect(),
            next,
        })
    }

    fn sibling_instances(&mut self) -> Result<Vec<wit::Sibling>, HostError> {
        Ok(self
            .t
            .course_methods_list(self.course)
            .map_err(unavailable)?
            .into_iter()
            .filter(|m| m.plugin == self.plugin && Some(m.id) != self.instance)
            .map(|m| wit::Sibling {
                instance: m.id.0,
                enabled: m.status == EnrolmentMethodStatus::Enabled,
                config: m.config,
            })
            .collect())
    }

    fn instance_group(&mut self, key: &str) -> Result<Option<u64>, HostError> {
        let Some(instance) = self.instance else {
            return Ok(None);
        };
        let Some(group) = self.t.method_group(instance, key).map_err(unavailable)? else {
            return Ok(None);
        };
        // Deleting a group forgets its key too; the course check guards
        // against a stale row all the same.
        Ok(self
            .t
            .group(group)
            .map_err(unavailable)?
            .filter(|g| g.course == self.course)
            .map(|g| g.id.0))
    }

    fn instance_enrolment_count(&mut self) -> Result<u64, HostError> {
        let Some(instance) = self.instance else {
            return Ok(0);
        };
        Ok(self
            .t
            .method_enrolment_counts(self.course)
            .map_err(unavailable)?
            .get(&instance)
            .copied()
            .unwrap_or(0))
    }

    fn course_groups(&mut self) -> Result<Vec<wit::CourseGroup>, HostError> {
        Ok(self
            .t
            .course_group_list(self.course)
            .map_err(unavailable)?
            .into_iter()
            .map(|g| wit::CourseGroup {
                id: g.id.0,
                name: g.name,
                idnumber: g.idnumber,
            })
            .collect())
    }

    fn group_members(
        &mut self,
        group: u64,
        after: Option<u64>,
        limit: u32,
    ) -> Result<wit::MemberPage, HostError> {
        let g = self.own_group(group)?;
        let limit = limit_of(limit);
        let mut members: Vec<wit::GroupMember> = self
            .t
            .group_members_page(g.id, after.map(UserId), limit + 1)
            .map_err(unavailable)?
            .iter()
            .map(wit_member)
            .collect();
        let next = more(&mut members, limit, |m| m.user);
        Ok(wit::MemberPage { members, next })
    }

    fn group_membership(
        &mut self,
        group: u64,
        user: u64,
    ) -> Result<Option<wit::GroupMember>, HostError> {
        let g = self.own_group(group)?;
        Ok(self
            .t
            .group_membership(g.id, UserId(user))
            .map_err(unavailable)?
            .as_ref()
            .map(wit_member))
    }

    fn log(&mut self, _level: wit::LogLevel, _message: &str) {
        // The runtime already wrote it to the host's log, tagged with the
        // plugin; nothing is kept per site.
    }
}

/// Cuts `limit + 1` fetched rows to `limit`; the cursor is the last kept
/// row's user when there was more.
fn more<T>(rows: &mut Vec<T>, limit: usize, user: impl Fn(&T) -> u64) -> Option<u64> {
    if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(user)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::testing::TestSite;

    #[test]
    fn queries_answer_only_for_the_instances_course_and_site() {
        let fx = TestSite::new();
        let (other, _) = fx.other_course("OTHER");
        let foreign = fx
            .site
            .create_group(
                &fx.operator,
                other,
                crate::services::groups::NewGroup {
                    name: "Elsewhere".into(),
                    ..Default::default()
                },
            )
            .unwrap()
            .id;
        let mut q = fx
            .site
            .course_queries(fx.course, Some(fx.manual), "manual")
            .unwrap();

        let user = q.user(fx.learners[0].0).unwrap().unwrap();
        assert_eq!(user.username, "learner1");
        assert!(q.user(999_999).unwrap().is_none());
        assert_eq!(q.segment_exists(fx.hr.0).unwrap().as_deref(), Some("HR"));
        assert!(q.is_segment_member(fx.hr.0, fx.learners[0].0).unwrap());
        let groups = q.course_groups().unwrap();
        assert_eq!(groups.len(), 2);
        assert!(matches!(
            q.group_members(foreign.0, None, 10),
            Err(HostError::OutOfScope(_))
        ));
        assert!(matches!(
            q.group_membership(foreign.0, fx.learners[0].0),
            Err(HostError::OutOfScope(_))
        ));
        // The teacher and learners 1–4 through the manual method.
        assert_eq!(q.instance_enrolment_count().unwrap(), 5);
        assert_eq!(q.user_enrolments(fx.learners[4].0).unwrap().len(), 0);
    }

    #[test]
    fn pages_follow_the_cursor_to_the_end() {
        let fx = TestSite::new();
        let mut q = fx
            .site
            .course_queries(fx.course, Some(fx.manual), "manual")
            .unwrap();
        let first = q.segment_members(fx.hr.0, None, 2).unwrap();
        assert_eq!(first.members.len(), 2);
        assert!(first.members.iter().all(|m| !m.suspended));
        let second = q.segment_members(fx.hr.0, first.next, 2).unwrap();
        assert_eq!(
            second.members.iter().map(|m| m.user).collect::<Vec<_>>(),
            vec![fx.learners[2].0]
        );
        assert_eq!(second.next, None);

        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = q.course_enrolments(after, 2).unwrap();
            seen.extend(page.enrolments.iter().map(|e| e.user));
            match page.next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        assert_eq!(seen.len(), 5);
        // A limit of 0 still answers one row; a huge one is capped.
        assert_eq!(
            q.segment_members(fx.hr.0, None, 0).unwrap().members.len(),
            1
        );
        assert_eq!(
            q.segment_members(fx.hr.0, None, u32::MAX)
                .unwrap()
                .members
                .len(),
            3
        );
    }
}
