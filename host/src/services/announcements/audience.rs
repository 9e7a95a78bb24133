//! Who may announce to whom, and who receives an announcement.
//!
//! A site admin announces to a segment or to a course (or some of its
//! groups). A teacher (editing or not) of a course announces to it or to
//! some of its groups; in a course whose group mode is *separate*, only a
//! teacher who sees all groups (an editing teacher: Moodle's
//! `accessallgroups`) may reach the whole course or a group they are not
//! a member of — a non-editing teacher reaches only their own groups.
//! These rules are checked here, inside the caller's transaction, both
//! when an announcement is written and when the compose page asks what to
//! offer.
//!
//! The recipients are resolved when the announcement is sent: active
//! accounts only, the course's ones with an active enrolment, never the
//! author.

use crate::domain::*;
use crate::services::auth::{Need, Principal, authorize, authorize_caller};
use crate::services::course_access::CourseAccess;
use crate::services::error::{ServiceError, ServiceResult};
use crate::storage::site::prelude::*;

/// What `who` may announce to in `course`: the whole course, and which of
/// its groups.
#[derive(Clone, Debug, PartialEq)]
pub struct CourseReach {
    pub course: Course,
    pub whole_course: bool,
    pub groups: Vec<CourseGroup>,
}

/// What `who` may reach in `course`; `Forbidden` unless they teach it or
/// are a site admin.
pub(crate) fn course_reach(
    site: &Site,
    t: &impl SiteRead,
    who: &Principal,
    course: CourseId,
) -> ServiceResult<CourseReach> {
    authorize_caller(site, t, who)?;
    let course = t
        .course(course)?
        .ok_or_else(|| ServiceError::not_found(format!("course #{course}")))?;
    // Who reaches which groups is the course's group mode as
    // `CourseAccess` reads it for everything else of the course.
    let access = CourseAccess::of(site, t, who, course.id)?;
    if !access.is_staff() {
        return Err(ServiceError::Forbidden(format!(
            "only the teachers of course #{} and site admins announce to it",
            course.id
        )));
    }
    let all = t.course_group_list(course.id)?;
    Ok(match access.group_filter(access.group_mode(None)) {
        None => CourseReach {
            course,
            whole_course: true,
            groups: all,
        },
        Some(own) => CourseReach {
            groups: all.into_iter().filter(|g| own.contains(&g.id)).collect(),
            course,
            whole_course: false,
        },
    })
}

/// Checks that `who` may announce to `audience` and that it names things
/// of this site; answers the audience with its groups sorted and
/// deduplicated. Field errors name `audience`.
pub(crate) fn authorize_audience(
    site: &Site,
    t: &impl SiteRead,
    who: &Principal,
    audience: &Audience,
) -> ServiceResult<Audience> {
    authorize(site, t, who, Need::Announce)?;
    match audience {
        Audience::Segment(segment) => {
            authorize(site, t, who, Need::SiteAdmin).map_err(|_| {
                ServiceError::Forbidden("only a site admin announces to a segment".into())
            })?;
            if t.segment(*segment)?.is_none() {
                return Err(ServiceError::invalid(
                    "audience",
                    format!("segment #{segment} is not a segment of this site"),
                ));
            }
            Ok(audience.clone())
        }
        Audience::Course(course) => {
            let reach = course_reach(site, t, who, *course)?;
            if !reach.whole_course {
                return Err(ServiceError::Forbidden(format!(
                    "course #{course} has separate groups and you do not see all of them: \
                     announce to your own groups"
                )));
            }
            Ok(audience.clone())
        }
        Audience::Groups { course, groups } => {
            let reach = course_reach(site, t, who, *course)?;
            let mut groups = groups.clone();
            groups.sort_unstable();
            groups.dedup();
            if groups.is_empty() {
                return Err(ServiceError::invalid(
                    "audience",
                    "choose at least one group",
                ));
            }
            for group in &groups {
                match t.group(*group)? {
                    Some(g) if g.course == *course => {}
                    _ => {
                        return Err(ServiceError::invalid(
                            "audience",
                            format!("group #{group} is not a group of course #{course}"),
                        ));
                    }
                }
                if !reach.groups.iter().any(|g| g.id == *group) {
                    return Err(ServiceError::Forbidden(format!(
                        "course #{course} has separate groups and group #{group} is not yours"
                    )));
                }
            }
            Ok(Audience::Groups {
                course: *course,
                groups,
            })
        }
    }
}

/// The recipients of an announcement to `audience` by `author`, as of
/// now: ascending ids of active accounts (course audiences: with an active
/// enrolment in the course), without the author.
pub(crate) fn recipients(
    t: &impl SiteRead,
    audience: &Audience,
    author: UserId,
) -> ServiceResult<Vec<UserId>> {
    let mut ids: Vec<UserId> = match audience {
        Audience::Segment(segment) => t.segment_member_ids(*segment, None, usize::MAX)?,
        Audience::Course(course) => {
            let mut ids: Vec<UserId> = t
                .course_enrolments_page(*course, None, usize::MAX)?
                .into_iter()
                .filter(|e| e.status == EnrolmentStatus::Active && e.role.is_some())
                .map(|e| e.user)
                .collect();
            ids.dedup();
            ids
        }
        Audience::Groups { course, groups } => {
            let mut ids = Vec::new();
            for group in groups {
                ids.extend(
                    t.group_members_page(*group, None, usize::MAX)?
                        .into_iter()
                        .map(|m| m.user),
                );
            }
            ids.sort_unstable();
            ids.dedup();
            let mut active = Vec::with_capacity(ids.len());
            for user in ids {
                if t.is_participant(*course, user)? {
                    active.push(user);
                }
            }
            active
        }
    };
    ids.retain(|&u| u != author);
    let mut out = Vec::with_capacity(ids.len());
    for user in ids {
        if t.user_status(user)? == Some(UserStatus::Active) {
            out.push(user);
        }
    }
    Ok(out)
}

/// The audience in words, as lists and the audit log show it.
pub(crate) fn describe(t: &impl SiteRead, audience: &Audience) -> ServiceResult<String> {
    Ok(match audience {
        Audience::Segment(segment) => match t.segment(*segment)? {
            Some(s) => format!("segment {}", s.name),
            None => format!("segment #{segment} (deleted)"),
        },
        Audience::Course(course) => match t.course(*course)? {
            Some(c) => format!("course {}", c.shortname),
            None => format!("course #{course} (deleted)"),
        },
        Audience::Groups { course, groups } => {
            let course_name = t
                .course(*course)?
                .map_or_else(|| format!("#{course}"), |c| c.shortname);
            let mut names = Vec::with_capacity(groups.len());
            for g in groups {
                names.push(
                    t.group(*g)?
                        .map_or_else(|| format!("group #{g} (deleted)"), |g| g.name),
                );
            }
            format!("{} in course {course_name}", names.join(", "))
        }
    })
}
