//! Who takes part in a course, as each caller may see it (issue 18): in a
//! separate-groups course a learner or a non-editing teacher sees only the
//! members of their own groups (and themself), and only staff — or every
//! participant, when the site turns it on — see e-mail addresses. The API
//! list and the participants page read the same walk.

use std::collections::BTreeMap;

use super::{CourseParticipants, EnrolmentVia, Participant, ParticipantDetail};
use crate::domain::*;
use crate::services::auth::{Need, Principal, authorize};
use crate::services::course_access::CourseAccess;
use crate::services::error::ServiceResult;
use crate::services::ops::methods::load_method;
use crate::services::ops::users::load_user;
use crate::services::{Page, SiteServices, clamp_limit, page_of, user_matches};
use crate::storage::site::{SiteRead, prelude::*};

/// What a caller may see of a course's people.
struct PeopleView {
    /// `None`: every participant; else these users only (ascending).
    only: Option<Vec<UserId>>,
    shows_emails: bool,
}

impl PeopleView {
    fn of(t: &impl SiteRead, access: &CourseAccess) -> ServiceResult<Self> {
        let mode = access.group_mode(None);
        let only = match access.group_filter(mode) {
            None => None,
            Some(groups) => {
                let mut ids: Vec<UserId> = access.user.into_iter().collect();
                for &g in groups {
                    let mut after = None;
                    loop {
                        let page = t.group_members_page(g, after, 4096)?;
                        let Some(last) = page.last() else { break };
                        after = Some(last.user);
                        ids.extend(page.iter().map(|m| m.user));
                    }
                }
                ids.sort_unstable();
                ids.dedup();
                Some(ids)
            }
        };
        Ok(Self {
            only,
            shows_emails: access.sees_emails(t)?,
        })
    }

    /// Up to `limit + 1` participants after `after` in user-id order that
    /// the caller may see and `keep` accepts, each with their enrolments.
    fn walk(
        &self,
        t: &impl SiteRead,
        access: &CourseAccess,
        course: CourseId,
        after: Option<UserId>,
        limit: usize,
        keep: impl Fn(&User) -> bool,
    ) -> ServiceResult<Vec<(User, Vec<Enrolment>)>> {
        let mut out = Vec::new();
        let mut take = |user: UserId, enrolments: Vec<Enrolment>| -> ServiceResult<bool> {
            let user = access.user_as_seen(self.shows_emails, load_user(t, user)?);
            if keep(&user) {
                out.push((user, enrolments));
            }
            Ok(out.len() > limit)
        };
        if let Some(ids) = &self.only {
            let start = after.map_or(0, |a| ids.partition_point(|&u| u <= a));
            for &user in &ids[start..] {
                let enrolments = t.user_course_enrolments(course, user)?;
                if !enrolments.is_empty() && take(user, enrolments)? {
                    break;
                }
            }
            return Ok(out);
        }
        let mut cursor = after;
        loop {
            let rows = t.course_enrolments_page(course, cursor, 256)?;
            let Some(last) = rows.last() else { break };
            cursor = Some(last.user);
            // A page never cuts one user's enrolments (storage's rule).
            let mut by_user: Vec<(UserId, Vec<Enrolment>)> = Vec::new();
            for e in rows {
                match by_user.last_mut() {
                    Some((u, list)) if *u == e.user => list.push(e),
                    _ => by_user.push((e.user, vec![e])),
                }
            }
            for (user, enrolments) in by_user {
                if take(user, enrolments)? {
                    return Ok(out);
                }
            }
        }
        Ok(out)
    }
}

impl SiteServices {
    /// Participants of a course the caller may see, in user-id order, each
    /// with all their enrolments in it.
    pub fn participants(
        &self,
        who: &Principal,
        course: CourseId,
        after: Option<UserId>,
        limit: usize,
    ) -> ServiceResult<Page<Participant, UserId>> {
        self.read(|t| {
            let access = CourseAccess::of(&self.site, t, who, course)?;
            let view = PeopleView::of(t, &access)?;
            let limit = clamp_limit(limit);
            let rows = view.walk(t, &access, course, after, limit, |_| true)?;
            let out = rows
                .into_iter()
                .map(|(user, enrolments)| Participant { user, enrolments })
                .collect();
            Ok(page_of(out, limit, |p: &Participant| p.user.id))
        })
    }

    /// The participants page: who the caller may see, searched by name,
    /// username and (where they see it) e-mail, with their groups and, for
    /// those who manage enrolments, the method behind each enrolment.
    pub fn course_participants(
        &self,
        who: &Principal,
        course: CourseId,
        query: Option<&str>,
        after: Option<UserId>,
        limit: usize,
    ) -> ServiceResult<CourseParticipants> {
        self.read(|t| {
            let access = CourseAccess::of(&self.site, t, who, course)?;
            let manages = authorize(&self.site, t, who, Need::ManageCourse(course)).is_ok();
            let view = PeopleView::of(t, &access)?;
            let limit = clamp_limit(limit);
            let rows = view.walk(t, &access, course, after, limit, |u| user_matches(query, u))?;
            let mode = access.group_mode(None);
            let mut methods: BTreeMap<EnrolmentMethodId, EnrolmentMethod> = BTreeMap::new();
            let mut group_names: BTreeMap<CourseGroupId, String> = BTreeMap::new();
            let mut out = Vec::with_capacity(rows.len());
            let mut groups = Vec::with_capacity(rows.len());
            for (user, enrolments) in rows {
                let mut names = Vec::new();
                for g in t.user_group_ids_in(course, user.id)? {
                    if !access.sees_group(mode, Some(g)) {
                        continue;
                    }
                    if !group_names.contains_key(&g)
                        && let Some(group) = t.group(g)?
                    {
                        group_names.insert(g, group.name);
                    }
                    if let Some(name) = group_names.get(&g) {
                        names.push(name.clone());
                    }
                }
                names.sort_by_key(|n| n.to_lowercase());
                groups.push(names);
                let mut via = Vec::with_capacity(enrolments.len());
                for enrolment in enrolments {
                    let method = match methods.get(&enrolment.method) {
                        Some(m) => m.clone(),
                        None => {
                            let mut m = load_method(t, enrolment.method)?;
                            if !manages {
                                // Its config (an enrolment key, a secret) is
                                // the course managers' only.
                                m.config = String::new();
                            }
                            methods.insert(m.id, m.clone());
                            m
                        }
                    };
                    via.push(EnrolmentVia { enrolment, method });
                }
                out.push(ParticipantDetail {
                    user,
                    enrolments: via,
                });
            }
            groups.truncate(limit);
            Ok(CourseParticipants {
                course: access.course.clone(),
                participants: page_of(out, limit, |p: &ParticipantDetail| p.user.id),
                manages,
                shows_emails: view.shows_emails,
                limited_to_groups: view.only.is_some(),
                groups,
            })
        })
    }
}
