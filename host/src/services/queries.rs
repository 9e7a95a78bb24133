//! The host side of the contract's read-only queries, for one method,
//! answered in domain types (the runtime converts them to whichever
//! contract version the plugin speaks).
//!
//! [`SiteQueries`] answers every query of one plugin call from ONE read
//! snapshot of the site, so a plugin sees a consistent state however many
//! queries it makes and however long it runs (the snapshot does not block
//! writers). Everything is scoped: users and segments of this site only,
//! enrolments and groups of the method's course only; a group of another
//! course is `out-of-scope`, not "not found", so the plugin's author sees
//! what went wrong.

use super::SiteServices;
use super::error::ServiceResult;
use super::plugin_settings::effective;
use crate::domain::*;
use crate::runtime::contract::{HostError, LogLevel, Page, SegmentMember};
use crate::runtime::{Plugin, Queries};
use crate::storage::StorageError;
use crate::storage::site::{SiteReadTables, prelude::*};

/// The most rows one page answer holds, whatever the plugin asks.
const MAX_PAGE: u32 = 1000;

/// The users a call's `segment-members` answers showed as users of the
/// site (active or suspended: suspension changes no enrolment), with the
/// snapshot's change number ([`SiteRead::changes`]).
/// Applying the call's plan in a transaction that finds the same number,
/// the host need not read those users' records again: nothing changed in
/// between. The plugin cannot add to it; only the host's own answers do.
#[derive(Default)]
pub(crate) struct UsersSeen {
    pub(crate) changes: u64,
    /// In answer order; made a set only when a plan is applied (a
    /// reconcile page that changes nothing never needs it).
    pub(crate) users: std::sync::Mutex<Vec<UserId>>,
}

impl UsersSeen {
    /// The users, if `changes_now` is still the snapshot's number.
    pub(crate) fn still_users(&self, changes_now: u64) -> std::collections::HashSet<UserId> {
        if changes_now != self.changes {
            return Default::default();
        }
        std::mem::take(&mut *self.users.lock().unwrap_or_else(|p| p.into_inner()))
            .into_iter()
            .collect()
    }
}

/// Queries of one method (or, while validating a config for a new
/// method, of one course) over one read snapshot.
pub(crate) struct SiteQueries {
    t: SiteReadTables,
    /// Where `segment-members` notes the users it answered.
    seen: std::sync::Arc<UsersSeen>,
    course: CourseId,
    method: Option<EnrolmentMethodId>,
    /// The calling plugin: `sibling-methods` lists its other methods.
    plugin: String,
    /// A segment answered as if already deleted (see [`SiteView`]).
    hidden_segment: Option<SegmentId>,
}

/// The site a plugin call sees: as it is, or as it will be once a segment
/// is deleted (for a dry run of the plugin's answer to `segment-deleted`,
/// asked while the segment still exists).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum SiteView {
    #[default]
    AsIs,
    WithoutSegment(SegmentId),
}

impl SiteServices {
    /// Queries scoped to `course` and, once it exists, `method`, over a
    /// snapshot taken now.
    pub(crate) fn course_queries(
        &self,
        course: CourseId,
        method: Option<EnrolmentMethodId>,
        plugin: &str,
    ) -> ServiceResult<Box<dyn Queries>> {
        Ok(Box::new(SiteQueries {
            t: self.store.read_tables()?,
            seen: Default::default(),
            course,
            method,
            plugin: plugin.to_owned(),
            hidden_segment: None,
        }))
    }
}

impl SiteServices {
    /// The queries of a call of method `m`, answering as `view` says,
    /// and the plugin settings it receives, both from one snapshot (one
    /// read transaction per call).
    pub(crate) fn method_call_inputs_in(
        &self,
        m: &EnrolmentMethod,
        plugin: &Plugin,
        view: SiteView,
    ) -> ServiceResult<(Box<dyn Queries>, String, std::sync::Arc<UsersSeen>)> {
        let t = self.store.read_tables()?;
        let seen = std::sync::Arc::new(UsersSeen {
            changes: t.changes()?,
            users: Default::default(),
        });
        let manifest = &plugin.manifest;
        let settings = if manifest.settings.is_empty() {
            "{}".to_owned()
        } else {
            let saved = t.plugin_settings_json(&manifest.id)?;
            serde_json::Value::Object(effective(&manifest.settings, saved.as_deref())).to_string()
        };
        let queries = SiteQueries {
            t,
            seen: seen.clone(),
            course: m.course,
            method: Some(m.id),
            plugin: m.plugin.clone(),
            hidden_segment: match view {
                SiteView::AsIs => None,
                SiteView::WithoutSegment(segment) => Some(segment),
            },
        };
        Ok((Box::new(queries), settings, seen))
    }
}

impl SiteServices {
    /// The queries of a call of the rule of `segment` (plugin `plugin`),
    /// and the plugin's settings, from one snapshot: users of the site,
    /// and of the segments only the one it manages; no course.
    pub(crate) fn rule_call_inputs(
        &self,
        segment: SegmentId,
        plugin: &Plugin,
    ) -> ServiceResult<(Box<dyn Queries>, String)> {
        let t = self.store.read_tables()?;
        let manifest = &plugin.manifest;
        let settings = if manifest.settings.is_empty() {
            "{}".to_owned()
        } else {
            let saved = t.plugin_settings_json(&manifest.id)?;
            serde_json::Value::Object(effective(&manifest.settings, saved.as_deref())).to_string()
        };
        let site = SiteQueries {
            t,
            seen: Default::default(),
            // No course is in a rule's scope: every course query is
            // refused below before this is read.
            course: CourseId(0),
            method: None,
            plugin: manifest.id.clone(),
            hidden_segment: None,
        };
        Ok((Box::new(RuleQueries { site, segment }), settings))
    }
}

/// The queries of a segment rule: [`SiteQueries`] for users and for its
/// own segment; any other segment, and anything of a course, is
/// `out-of-scope`.
struct RuleQueries {
    site: SiteQueries,
    segment: SegmentId,
}

impl RuleQueries {
    fn own(&self, segment: SegmentId) -> Result<(), HostError> {
        if segment == self.segment {
            Ok(())
        } else {
            Err(HostError::OutOfScope(format!(
                "a segment rule sees only its own segment #{}, not #{segment}",
                self.segment
            )))
        }
    }
}

fn no_course<T>() -> Result<T, HostError> {
    Err(HostError::OutOfScope(
        "a segment rule has no course: course queries are not in its scope".into(),
    ))
}

impl Queries for RuleQueries {
    fn user(&mut self, id: UserId) -> Result<Option<User>, HostError> {
        self.site.user(id)
    }
    fn list_users(&mut self, after: Option<UserId>, limit: u32) -> Result<Page<User>, HostError> {
        self.site.list_users(after, limit)
    }
    fn users_by_email_domain(
        &mut self,
        domain: &str,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Page<User>, HostError> {
        self.site.users_by_email_domain(domain, after, limit)
    }
    fn users_by_profile_value(
        &mut self,
        field: &str,
        value: &str,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Page<User>, HostError> {
        self.site.users_by_profile_value(field, value, after, limit)
    }
    fn segment_exists(&mut self, segment: SegmentId) -> Result<Option<String>, HostError> {
        self.own(segment)?;
        self.site.segment_exists(segment)
    }
    fn segment_members(
        &mut self,
        segment: SegmentId,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Page<SegmentMember>, HostError> {
        self.own(segment)?;
        self.site.segment_members(segment, after, limit)
    }
    fn is_segment_member(&mut self, segment: SegmentId, user: UserId) -> Result<bool, HostError> {
        self.own(segment)?;
        self.site.is_segment_member(segment, user)
    }
    fn course_enrolments(
        &mut self,
        _: Option<UserId>,
        _: u32,
    ) -> Result<Page<Enrolment>, HostError> {
        no_course()
    }
    fn user_enrolments(&mut self, _: UserId) -> Result<Vec<Enrolment>, HostError> {
        no_course()
    }
    fn method_enrolments(
        &mut self,
        _: Option<UserId>,
        _: u32,
    ) -> Result<Page<Enrolment>, HostError> {
        no_course()
    }
    fn method_enrolment_count(&mut self) -> Result<u64, HostError> {
        no_course()
    }
    fn sibling_methods(&mut self) -> Result<Vec<EnrolmentMethod>, HostError> {
        no_course()
    }
    fn course_groups(&mut self) -> Result<Vec<CourseGroup>, HostError> {
        no_course()
    }
    fn method_group(&mut self, _: &str) -> Result<Option<CourseGroupId>, HostError> {
        no_course()
    }
    fn group_members(
        &mut self,
        _: CourseGroupId,
        _: Option<UserId>,
        _: u32,
    ) -> Result<Page<GroupMembership>, HostError> {
        no_course()
    }
    fn group_membership(
        &mut self,
        _: CourseGroupId,
        _: UserId,
    ) -> Result<Option<GroupMembership>, HostError> {
        no_course()
    }
    fn log(&mut self, level: LogLevel, message: &str) {
        self.site.log(level, message)
    }
}

fn unavailable(e: StorageError) -> HostError {
    tracing::error!(error = %e, "storage error while answering a plugin query");
    HostError::Unavailable("the host could not read the site; the call will be retried".into())
}

fn limit_of(limit: u32) -> usize {
    limit.clamp(1, MAX_PAGE) as usize
}

impl SiteQueries {
    /// A group of the method's course, or `out-of-scope`.
    fn own_group(&self, group: CourseGroupId) -> Result<CourseGroup, HostError> {
        match self.t.group(group).map_err(unavailable)? {
            Some(g) if g.course == self.course => Ok(g),
            _ => Err(HostError::OutOfScope(format!(
                "group #{group} is not a group of course #{}",
                self.course
            ))),
        }
    }
}

impl SiteQueries {
    /// The users of `ids` (in order), a page whose cursor is the last one
    /// when the index had more.
    fn users_of(&mut self, mut ids: Vec<UserId>, limit: usize) -> Result<Page<User>, HostError> {
        let next = more(&mut ids, limit, |u| *u);
        let mut items = Vec::with_capacity(ids.len());
        let mut seen = self.seen.users.lock().unwrap_or_else(|p| p.into_inner());
        for id in ids {
            if let Some(user) = self.t.user(id).map_err(unavailable)? {
                seen.push(id);
                items.push(user);
            }
        }
        Ok(Page { items, next })
    }
}

impl Queries for SiteQueries {
    fn user(&mut self, id: UserId) -> Result<Option<User>, HostError> {
        self.t.user(id).map_err(unavailable)
    }

    fn list_users(&mut self, after: Option<UserId>, limit: u32) -> Result<Page<User>, HostError> {
        let limit = limit_of(limit);
        let mut items = self
            .t
            .users_page(after, limit + 1, |_| true)
            .map_err(unavailable)?;
        let next = more(&mut items, limit, |u| u.id);
        let mut seen = self.seen.users.lock().unwrap_or_else(|p| p.into_inner());
        seen.extend(items.iter().map(|u| u.id));
        Ok(Page { items, next })
    }

    fn users_by_email_domain(
        &mut self,
        domain: &str,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Page<User>, HostError> {
        let limit = limit_of(limit);
        let ids = self
            .t
            .user_ids_by_email_domain(domain, after, limit + 1)
            .map_err(unavailable)?;
        self.users_of(ids, limit)
    }

    fn users_by_profile_value(
        &mut self,
        field: &str,
        value: &str,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Page<User>, HostError> {
        let limit = limit_of(limit);
        let ids = self
            .t
            .user_ids_by_profile_value(field, value, after, limit + 1)
            .map_err(unavailable)?;
        self.users_of(ids, limit)
    }

    fn segment_exists(&mut self, segment: SegmentId) -> Result<Option<String>, HostError> {
        if self.hidden_segment == Some(segment) {
            return Ok(None);
        }
        Ok(self
            .t
            .segment(segment)
            .map_err(unavailable)?
            .map(|s| s.name))
    }

    fn segment_members(
        &mut self,
        segment: SegmentId,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Page<SegmentMember>, HostError> {
        if self.hidden_segment == Some(segment) {
            return Ok(Page {
                items: Vec::new(),
                next: None,
            });
        }
        let limit = limit_of(limit);
        let mut users = self
            .t
            .segment_member_ids(segment, after, limit + 1)
            .map_err(unavailable)?;
        let next = more(&mut users, limit, |u| *u);
        let mut seen = self.seen.users.lock().unwrap_or_else(|p| p.into_inner());
        let items = users
            .into_iter()
            .map(|u| {
                let status = self.t.user_status(u).map_err(unavailable)?;
                if status.is_some() {
                    seen.push(u);
                }
                Ok(SegmentMember {
                    user: u,
                    // A member is a user; a missing record is not "suspended".
                    suspended: status.is_some_and(|s| s != UserStatus::Active),
                })
            })
            .collect::<Result<_, HostError>>()?;
        drop(seen);
        Ok(Page { items, next })
    }

    fn is_segment_member(&mut self, segment: SegmentId, user: UserId) -> Result<bool, HostError> {
        if self.hidden_segment == Some(segment) {
            return Ok(false);
        }
        self.t.is_segment_member(segment, user).map_err(unavailable)
    }

    fn course_enrolments(
        &mut self,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Page<Enrolment>, HostError> {
        // `limit` counts enrolments; a user's enrolments are never split
        // across pages, so a page may hold a few more.
        let items = self
            .t
            .course_enrolments_page(self.course, after, limit_of(limit))
            .map_err(unavailable)?;
        let next = match items.last() {
            Some(last) => {
                let beyond = self
                    .t
                    .course_enrolments_page(self.course, Some(last.user), 1)
                    .map_err(unavailable)?;
                (!beyond.is_empty()).then_some(last.user)
            }
            None => None,
        };
        Ok(Page { items, next })
    }

    fn user_enrolments(&mut self, user: UserId) -> Result<Vec<Enrolment>, HostError> {
        self.t
            .user_course_enrolments(self.course, user)
            .map_err(unavailable)
    }

    fn method_enrolments(
        &mut self,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Page<Enrolment>, HostError> {
        let Some(method) = self.method else {
            return Ok(Page {
                items: Vec::new(),
                next: None,
            });
        };
        let limit = limit_of(limit);
        let mut items = self
            .t
            .method_enrolments_page(self.course, method, after, limit + 1)
            .map_err(unavailable)?;
        let next = more(&mut items, limit, |e| e.user);
        Ok(Page { items, next })
    }

    fn sibling_methods(&mut self) -> Result<Vec<EnrolmentMethod>, HostError> {
        Ok(self
            .t
            .course_methods_list(self.course)
            .map_err(unavailable)?
            .into_iter()
            .filter(|m| m.plugin == self.plugin && Some(m.id) != self.method)
            .collect())
    }

    fn method_group(&mut self, key: &str) -> Result<Option<CourseGroupId>, HostError> {
        let Some(method) = self.method else {
            return Ok(None);
        };
        let Some(group) = self.t.method_group(method, key).map_err(unavailable)? else {
            return Ok(None);
        };
        // Deleting a group forgets its key too; the course check guards
        // against a stale row all the same.
        Ok(self
            .t
            .group(group)
            .map_err(unavailable)?
            .filter(|g| g.course == self.course)
            .map(|g| g.id))
    }

    fn method_enrolment_count(&mut self) -> Result<u64, HostError> {
        let Some(method) = self.method else {
            return Ok(0);
        };
        Ok(self
            .t
            .method_enrolment_counts(self.course)
            .map_err(unavailable)?
            .get(&method)
            .copied()
            .unwrap_or(0))
    }

    fn course_groups(&mut self) -> Result<Vec<CourseGroup>, HostError> {
        self.t.course_group_list(self.course).map_err(unavailable)
    }

    fn group_members(
        &mut self,
        group: CourseGroupId,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Page<GroupMembership>, HostError> {
        let g = self.own_group(group)?;
        let limit = limit_of(limit);
        let mut items = self
            .t
            .group_members_page(g.id, after, limit + 1)
            .map_err(unavailable)?;
        let next = more(&mut items, limit, |m| m.user);
        Ok(Page { items, next })
    }

    fn group_membership(
        &mut self,
        group: CourseGroupId,
        user: UserId,
    ) -> Result<Option<GroupMembership>, HostError> {
        let g = self.own_group(group)?;
        self.t.group_membership(g.id, user).map_err(unavailable)
    }

    fn log(&mut self, _level: LogLevel, _message: &str) {
        // The runtime already wrote it to the host's log, tagged with the
        // plugin; nothing is kept per site.
    }
}

/// Cuts `limit + 1` fetched rows to `limit`; the cursor is the last kept
/// row's user when there was more.
fn more<T>(rows: &mut Vec<T>, limit: usize, user: impl Fn(&T) -> UserId) -> Option<UserId> {
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

        let user = q.user(fx.learners[0]).unwrap().unwrap();
        assert_eq!(user.username, "learner1");
        assert!(q.user(UserId(999_999)).unwrap().is_none());
        assert_eq!(q.segment_exists(fx.hr).unwrap().as_deref(), Some("HR"));
        assert!(q.is_segment_member(fx.hr, fx.learners[0]).unwrap());
        let groups = q.course_groups().unwrap();
        assert_eq!(groups.len(), 2);
        assert!(matches!(
            q.group_members(foreign, None, 10),
            Err(HostError::OutOfScope(_))
        ));
        assert!(matches!(
            q.group_membership(foreign, fx.learners[0]),
            Err(HostError::OutOfScope(_))
        ));
        // The teacher and learners 1–4 through the manual method.
        assert_eq!(q.method_enrolment_count().unwrap(), 5);
        assert_eq!(q.user_enrolments(fx.learners[4]).unwrap().len(), 0);
    }

    #[test]
    fn pages_follow_the_cursor_to_the_end() {
        let fx = TestSite::new();
        let mut q = fx
            .site
            .course_queries(fx.course, Some(fx.manual), "manual")
            .unwrap();
        let first = q.segment_members(fx.hr, None, 2).unwrap();
        assert_eq!(first.items.len(), 2);
        assert!(first.items.iter().all(|m| !m.suspended));
        let second = q.segment_members(fx.hr, first.next, 2).unwrap();
        assert_eq!(
            second.items.iter().map(|m| m.user).collect::<Vec<_>>(),
            vec![fx.learners[2]]
        );
        assert_eq!(second.next, None);

        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = q.course_enrolments(after, 2).unwrap();
            seen.extend(page.items.iter().map(|e| e.user));
            match page.next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        assert_eq!(seen.len(), 5);
        // A limit of 0 still answers one row; a huge one is capped.
        assert_eq!(q.segment_members(fx.hr, None, 0).unwrap().items.len(), 1);
        assert_eq!(
            q.segment_members(fx.hr, None, u32::MAX)
                .unwrap()
                .items
                .len(),
            3
        );
    }
}
