//! Who sees what inside a course: the one place the group-mode rules live
//! (issue 18). Every service that shows or takes part in something of a
//! course — its content, participants, groups, discussions, submissions,
//! grades, announcements — asks a [`CourseAccess`] rather than deciding
//! from roles itself, so "separate groups" means the same everywhere.
//!
//! Moodle's rules, decided by role: site admins and editing teachers
//! "access all groups"; non-editing teachers and learners see, in a
//! separate-groups activity, only their own groups' people and things.
//! In visible-groups mode everyone sees every group, and a learner takes
//! part in their own groups only. Staff (any teacher, site admins) see
//! hidden sections and activities and activities restricted to a grouping.
//!
//! This module decides; it never writes.

use std::collections::BTreeSet;

use super::auth::{Need, Principal, authorize, authorize_caller};
use super::error::{ServiceError, ServiceResult};
use super::ops::content::load_activity;
use super::ops::courses::load_course;
use crate::domain::*;
use crate::storage::site::SiteRead;

/// How the caller stands in one course.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum CourseStanding {
    /// A learner (or a participant whose only roles are learner ones).
    Learner,
    /// A non-editing teacher: grades and takes part, limited to their own
    /// groups in separate-groups mode.
    NonEditingTeacher,
    /// An editing teacher: edits the course and accesses all groups.
    EditingTeacher,
    /// A site admin, an operator or the host itself.
    Admin,
}

/// The caller's view of one course: their standing and their groups in it.
#[derive(Clone, Debug)]
pub struct CourseAccess {
    pub course: Course,
    /// Who to audit the caller's changes as.
    pub actor: Actor,
    /// `None` for operators, the host and enrolment methods.
    pub user: Option<UserId>,
    pub standing: CourseStanding,
    /// The caller's groups in the course.
    pub groups: BTreeSet<CourseGroupId>,
}

impl CourseAccess {
    /// The caller's access to `course`, once they may view it (a
    /// participant, a site admin, an operator). Authorises in the caller's
    /// snapshot or transaction.
    pub fn of(
        site: &Site,
        t: &impl SiteRead,
        who: &Principal,
        course: CourseId,
    ) -> ServiceResult<Self> {
        let actor = authorize(site, t, who, Need::ViewCourse(course))?;
        let course = load_course(t, course)?;
        let Some(user) = who.site_user_id(site.id) else {
            return Ok(Self {
                course,
                actor,
                user: None,
                standing: CourseStanding::Admin,
                groups: BTreeSet::new(),
            });
        };
        let is_admin = t
            .user(user)?
            .is_some_and(|u| u.site_role == SiteRole::SiteAdmin);
        let standing = if is_admin {
            CourseStanding::Admin
        } else {
            t.user_course_enrolments(course.id, user)?
                .iter()
                .filter(|e| e.status == EnrolmentStatus::Active)
                .filter_map(|e| e.role)
                .map(|role| match role {
                    Role::Teacher => CourseStanding::EditingTeacher,
                    Role::NonEditingTeacher => CourseStanding::NonEditingTeacher,
                    Role::Learner => CourseStanding::Learner,
                })
                .max()
                .unwrap_or(CourseStanding::Learner)
        };
        let groups = t.user_group_ids_in(course.id, user)?.into_iter().collect();
        Ok(Self {
            course,
            actor,
            user: Some(user),
            standing,
            groups,
        })
    }

    /// Any teacher of the course, or a site admin.
    pub fn is_staff(&self) -> bool {
        self.standing >= CourseStanding::NonEditingTeacher
    }

    /// May change the course's content and settings: editing teachers and
    /// site admins.
    pub fn can_edit(&self) -> bool {
        self.standing >= CourseStanding::EditingTeacher
    }

    /// Moodle's "access all groups": editing teachers and site admins.
    pub fn accesses_all_groups(&self) -> bool {
        self.standing >= CourseStanding::EditingTeacher
    }

    /// The group mode that holds for `activity` (or for the course's own
    /// pages, such as its participants, when `None`): the course's when it
    /// forces its mode or the activity sets none.
    pub fn group_mode(&self, activity: Option<&Activity>) -> GroupMode {
        match activity {
            Some(a) if !self.course.force_group_mode => {
                a.group_mode.unwrap_or(self.course.group_mode)
            }
            _ => self.course.group_mode,
        }
    }

    /// May see what belongs to `group` (`None`: to all participants)
    /// under `mode`.
    pub fn sees_group(&self, mode: GroupMode, group: Option<CourseGroupId>) -> bool {
        match group {
            None => true,
            Some(g) => {
                mode != GroupMode::Separate
                    || self.accesses_all_groups()
                    || self.groups.contains(&g)
            }
        }
    }

    /// May take part — start a discussion, submit — in `group` (`None`:
    /// all participants) under `mode`. Without groups, everyone takes part
    /// in "all participants" and nothing is per group. With groups,
    /// learners take part in their own groups only, and "all
    /// participants" is for staff.
    pub fn takes_part_in(&self, mode: GroupMode, group: Option<CourseGroupId>) -> bool {
        match (mode, group) {
            (GroupMode::None, None) => true,
            (GroupMode::None, Some(_)) => false,
            (_, None) => self.is_staff(),
            (_, Some(g)) => {
                self.groups.contains(&g)
                    || (self.is_staff()
                        && (self.accesses_all_groups() || mode == GroupMode::Visible))
            }
        }
    }

    /// The groups whose people and things the caller may see under
    /// `mode`: `None` means every group.
    pub fn group_filter(&self, mode: GroupMode) -> Option<&BTreeSet<CourseGroupId>> {
        if mode == GroupMode::Separate && !self.accesses_all_groups() {
            Some(&self.groups)
        } else {
            None
        }
    }

    /// Whether the caller sees `activity` (of this course) at all: staff
    /// see everything; others not a hidden activity or one in a hidden
    /// section, nor one restricted to a grouping none of their groups is
    /// in.
    pub fn sees_activity(&self, t: &impl SiteRead, activity: &Activity) -> ServiceResult<bool> {
        if self.is_staff() {
            return Ok(true);
        }
        let section_visible = t
            .course_section(activity.section)?
            .is_some_and(|s| s.visible);
        self.sees_activity_in(t, section_visible, activity, &mut GroupingCache::default())
    }

    /// [`sees_activity`](Self::sees_activity) for a caller who read the
    /// activity's section already (the course page, section by section),
    /// remembering in `cache` which groupings hold one of the caller's
    /// groups.
    pub fn sees_activity_in(
        &self,
        t: &impl SiteRead,
        section_visible: bool,
        activity: &Activity,
        cache: &mut GroupingCache,
    ) -> ServiceResult<bool> {
        if self.is_staff() {
            return Ok(true);
        }
        if !activity.visible || !section_visible {
            return Ok(false);
        }
        match activity.grouping {
            None => Ok(true),
            Some(grouping) => match cache.0.get(&grouping) {
                Some(&known) => Ok(known),
                None => {
                    let found = self.in_grouping(t, grouping)?;
                    cache.0.insert(grouping, found);
                    Ok(found)
                }
            },
        }
    }

    /// Whether one of the caller's groups is in `grouping`.
    pub fn in_grouping(&self, t: &impl SiteRead, grouping: GroupingId) -> ServiceResult<bool> {
        for &g in &self.groups {
            if t.grouping_has_group(grouping, g)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Whether the caller sees other participants' e-mail addresses:
    /// staff always, learners when the site lets them.
    pub fn sees_emails(&self, t: &impl SiteRead) -> ServiceResult<bool> {
        Ok(self.is_staff() || t.site_privacy()?.learners_see_emails)
    }

    /// `user` as the caller may see them: no e-mail address unless
    /// `sees_emails` (their own always), never a password hash.
    pub fn user_as_seen(&self, sees_emails: bool, mut user: User) -> User {
        if !sees_emails && self.user != Some(user.id) {
            user.email = String::new();
        }
        user.password_hash = None;
        user
    }

    /// Refuses unless the caller may change the course's content.
    pub fn require_edit(&self) -> ServiceResult<()> {
        if self.can_edit() {
            Ok(())
        } else {
            Err(ServiceError::Forbidden(format!(
                "only the editing teachers of course {:?} and site admins change its content",
                self.course.shortname
            )))
        }
    }

    /// Refuses unless the caller is staff of the course.
    pub fn require_staff(&self) -> ServiceResult<()> {
        if self.is_staff() {
            Ok(())
        } else {
            Err(ServiceError::Forbidden(format!(
                "only the teachers of course {:?} and site admins may do this",
                self.course.shortname
            )))
        }
    }
}

/// Which groupings hold one of the caller's groups, as far as asked.
#[derive(Default)]
pub struct GroupingCache(std::collections::BTreeMap<GroupingId, bool>);

/// The activity `id` with the caller's access to its course. Not found —
/// never "forbidden" — when it does not exist or the caller may not see
/// it, so a hidden activity stays hidden through its URL.
pub fn activity_for(
    site: &Site,
    t: &impl SiteRead,
    who: &Principal,
    id: ActivityId,
) -> ServiceResult<(Activity, CourseAccess)> {
    authorize_caller(site, t, who)?;
    let activity = load_activity(t, id)?;
    let access = CourseAccess::of(site, t, who, activity.course)?;
    if !access.sees_activity(t, &activity)? {
        return Err(ServiceError::not_found(format!("activity #{id}")));
    }
    Ok((activity, access))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(standing: CourseStanding, groups: &[u64], mode: GroupMode) -> CourseAccess {
        CourseAccess {
            course: Course {
                id: CourseId(1),
                shortname: "c".into(),
                fullname: "C".into(),
                group_mode: mode,
                force_group_mode: false,
                created_at: Timestamp(0),
            },
            actor: Actor::User(UserId(9)),
            user: Some(UserId(9)),
            standing,
            groups: groups.iter().map(|&g| CourseGroupId(g)).collect(),
        }
    }

    const A: Option<CourseGroupId> = Some(CourseGroupId(1));
    const B: Option<CourseGroupId> = Some(CourseGroupId(2));

    #[test]
    fn separate_mode_limits_learners_and_non_editing_teachers_to_their_groups() {
        use CourseStanding::*;
        use GroupMode::Separate;
        for who in [Learner, NonEditingTeacher] {
            let a = access(who, &[1], Separate);
            assert!(a.sees_group(Separate, A), "{who:?}");
            assert!(!a.sees_group(Separate, B), "{who:?}");
            assert!(
                a.sees_group(Separate, None),
                "{who:?} sees all-participants things"
            );
            assert_eq!(a.group_filter(Separate).map(|g| g.len()), Some(1));
        }
        for who in [EditingTeacher, Admin] {
            let a = access(who, &[], Separate);
            assert!(a.sees_group(Separate, B), "{who:?}");
            assert!(a.group_filter(Separate).is_none());
        }
    }

    #[test]
    fn a_learner_in_two_groups_sees_both_and_in_none_sees_only_all_participants() {
        let two = access(CourseStanding::Learner, &[1, 2], GroupMode::Separate);
        assert!(two.sees_group(GroupMode::Separate, A) && two.sees_group(GroupMode::Separate, B));
        let none = access(CourseStanding::Learner, &[], GroupMode::Separate);
        assert!(!none.sees_group(GroupMode::Separate, A));
        assert!(none.sees_group(GroupMode::Separate, None));
        assert!(!none.takes_part_in(GroupMode::Separate, None));
        assert!(!none.takes_part_in(GroupMode::Separate, A));
    }

    #[test]
    fn visible_mode_shows_every_group_but_learners_take_part_in_their_own() {
        let a = access(CourseStanding::Learner, &[1], GroupMode::Visible);
        assert!(a.sees_group(GroupMode::Visible, B));
        assert!(a.takes_part_in(GroupMode::Visible, A));
        assert!(!a.takes_part_in(GroupMode::Visible, B));
        assert!(!a.takes_part_in(GroupMode::Visible, None));
        let teacher = access(CourseStanding::NonEditingTeacher, &[1], GroupMode::Visible);
        assert!(teacher.takes_part_in(GroupMode::Visible, B));
        assert!(teacher.takes_part_in(GroupMode::Visible, None));
        let limited = access(CourseStanding::NonEditingTeacher, &[1], GroupMode::Separate);
        assert!(!limited.takes_part_in(GroupMode::Separate, B));
    }

    #[test]
    fn without_groups_everyone_takes_part_in_all_participants_only() {
        let a = access(CourseStanding::Learner, &[1], GroupMode::None);
        assert!(a.takes_part_in(GroupMode::None, None));
        assert!(!a.takes_part_in(GroupMode::None, A));
        assert!(a.sees_group(GroupMode::None, B));
    }

    #[test]
    fn a_forced_course_mode_overrides_the_activity_and_unforced_it_does_not() {
        let mut a = access(CourseStanding::Learner, &[], GroupMode::Separate);
        let activity = Activity {
            id: ActivityId(1),
            course: CourseId(1),
            section: CourseSectionId(1),
            kind: ActivityKind::Page,
            name: "p".into(),
            description: String::new(),
            visible: true,
            group_mode: Some(GroupMode::Visible),
            grouping: None,
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
        };
        assert_eq!(a.group_mode(Some(&activity)), GroupMode::Visible);
        a.course.force_group_mode = true;
        assert_eq!(a.group_mode(Some(&activity)), GroupMode::Separate);
        a.course.force_group_mode = false;
        let inherit = Activity {
            group_mode: None,
            ..activity
        };
        assert_eq!(a.group_mode(Some(&inherit)), GroupMode::Separate);
    }
}
