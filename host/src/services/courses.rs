//! Courses and what a home page lists.

use super::auth::{Need, authorize, authorize_caller};
use super::content::{CourseContent, course_content_in};
use super::contract::RequestKind;
use super::course_access::CourseAccess;
use super::error::{ServiceError, ServiceResult};
use super::ops::content::delete_course_content_in;
use super::ops::courses::load_course;
use super::ops::gradebook::{create_course_total_in, delete_course_grades_in};
use super::ops::groups::delete_group_in;
use super::ops::methods::delete_method_in;
use super::{Page, Principal, SiteServices, clamp_limit, matches_query, validate};
use crate::domain::*;
use crate::storage::site::{SiteTables, prelude::*};

pub use super::ops::courses::{MANUAL_DEFAULT_CONFIG, MANUAL_PLUGIN};

#[derive(Clone, Debug)]
pub struct NewCourse {
    pub shortname: String,
    pub fullname: String,
    pub group_mode: GroupMode,
    pub force_group_mode: bool,
}

#[derive(Clone, Debug, Default)]
pub struct CourseUpdate {
    pub shortname: Option<String>,
    pub fullname: Option<String>,
    pub group_mode: Option<GroupMode>,
    pub force_group_mode: Option<bool>,
}

/// A course as its page shows it to one viewer.
#[derive(Clone, Debug, PartialEq)]
pub struct CourseOverview {
    pub course: Course,
    /// The sections and activities the viewer sees.
    pub content: CourseContent,
    /// Whether the viewer may change the course's settings, groups and
    /// enrolment methods (site admin or editing teacher); a learner sees
    /// the course without them.
    pub can_configure: bool,
    /// Counts for the staff's links; zero when `can_configure` is false.
    pub groups: u64,
    pub methods: u64,
}

/// What a site's home page shows to anyone: its courses open to self
/// enrolment, nothing else. Segments, groups and counts are an admin's
/// tools (departments, regions) and not public.
#[derive(Clone, Debug, serde::Serialize)]
pub struct HomeOverview {
    /// Courses with an enabled enrolment method whose plugin answers
    /// self-enrolment requests (its manifest says so), by full name.
    pub courses: Vec<Course>,
}

fn check_shortname_free(
    t: &SiteTables<'_>,
    shortname: &str,
    me: Option<CourseId>,
) -> ServiceResult<()> {
    if let Some(other) = t.course_id_by_shortname(shortname)?
        && Some(other) != me
    {
        return Err(ServiceError::duplicate(
            "shortname",
            format!("course #{other} already has the short name {shortname:?}"),
        ));
    }
    Ok(())
}

impl SiteServices {
    /// Creates a course with a manual enrolment method, as Moodle does, so
    /// people can be enrolled by hand at once.
    pub fn create_course(&self, who: &Principal, new: NewCourse) -> ServiceResult<Course> {
        self.write(|t| {
            // Whoever may not create a course hears that, whatever they typed.
            let actor = authorize(&self.site, t, who, Need::SiteAdmin)?;
            let shortname =
                validate::required_text("shortname", &new.shortname, validate::MAX_NAME)?;
            let fullname = validate::required_text("fullname", &new.fullname, validate::MAX_NAME)?;
            check_shortname_free(t, &shortname, None)?;
            let course = Course {
                id: t.new_course_id()?,
                shortname,
                fullname,
                group_mode: new.group_mode,
                force_group_mode: new.force_group_mode,
                created_at: t.now,
            };
            t.put_course(&course)?;
            create_course_total_in(t, course.id)?;
            let manual = EnrolmentMethod {
                id: t.new_method_id()?,
                course: course.id,
                plugin: MANUAL_PLUGIN.into(),
                name: "Manual enrolments".into(),
                status: EnrolmentMethodStatus::Enabled,
                config: MANUAL_DEFAULT_CONFIG.into(),
                created_at: t.now,
            };
            t.put_method(&manual)?;
            t.audit_log(
                actor,
                "course.created",
                format!("course #{} {:?}", course.id, course.shortname),
                "course created",
            )?;
            t.emit(SiteEvent::MethodAdded {
                course: course.id,
                method: manual.id,
            })?;
            Ok(course)
        })
    }

    pub fn update_course(
        &self,
        who: &Principal,
        id: CourseId,
        update: CourseUpdate,
    ) -> ServiceResult<Course> {
        self.write(|t| {
            // Whoever may not change the course hears that, whatever they typed.
            let actor = authorize(&self.site, t, who, Need::ConfigureCourse(id))?;
            let shortname = update
                .shortname
                .as_deref()
                .map(|v| validate::required_text("shortname", v, validate::MAX_NAME))
                .transpose()?;
            let fullname = update
                .fullname
                .as_deref()
                .map(|v| validate::required_text("fullname", v, validate::MAX_NAME))
                .transpose()?;
            let mut course = load_course(t, id)?;
            let before = course.clone();
            if let Some(v) = shortname {
                check_shortname_free(t, &v, Some(id))?;
                course.shortname = v;
            }
            if let Some(v) = fullname {
                course.fullname = v;
            }
            if let Some(v) = update.group_mode {
                course.group_mode = v;
            }
            if let Some(v) = update.force_group_mode {
                course.force_group_mode = v;
            }
            if course == before {
                return Ok(course);
            }
            t.put_course(&course)?;
            t.audit_log(
                actor,
                "course.updated",
                format!("course #{id}"),
                "course updated",
            )?;
            Ok(course)
        })
    }

    /// Deletes a course with its content, enrolment methods, enrolments,
    /// groups and group memberships.
    pub fn delete_course(&self, who: &Principal, id: CourseId) -> ServiceResult<()> {
        self.write(|t| {
            let actor = authorize(&self.site, t, who, Need::SiteAdmin)?;
            let course = load_course(t, id)?;
            // Content first: a forum's discussions name the groups.
            delete_course_content_in(t, actor, id)?;
            delete_course_grades_in(t, id)?;
            for group in t.course_group_list(id)? {
                delete_group_in(t, &group)?;
            }
            for method in t.course_methods_list(id)? {
                delete_method_in(t, actor, &method)?;
            }
            // What was mass-enrolled into it goes with its enrolments.
            t.delete_course_mass_enrolments(id)?;
            t.delete_course_row(&course)?;
            t.audit_log(
                actor,
                "course.deleted",
                format!("course #{id} {:?}", course.shortname),
                "course deleted",
            )?;
            t.emit(SiteEvent::CourseDeleted { course: id })?;
            Ok(())
        })
    }

    pub fn get_course(&self, who: &Principal, id: CourseId) -> ServiceResult<Course> {
        self.read(|t| {
            authorize(&self.site, t, who, Need::ViewCourse(id))?;
            load_course(t, id)
        })
    }

    /// The course page: any participant sees the course; whoever may
    /// configure it also gets the counts behind the staff's links.
    pub fn course_overview(&self, who: &Principal, id: CourseId) -> ServiceResult<CourseOverview> {
        self.read(|t| {
            let access = CourseAccess::of(&self.site, t, who, id)?;
            let content = course_content_in(t, &access)?;
            let course = access.course;
            let can_configure = authorize(&self.site, t, who, Need::ConfigureCourse(id)).is_ok();
            let (groups, methods) = if can_configure {
                (
                    t.course_group_list(id)?.len() as u64,
                    t.course_methods_list(id)?.len() as u64,
                )
            } else {
                (0, 0)
            };
            Ok(CourseOverview {
                course,
                content,
                can_configure,
                groups,
                methods,
            })
        })
    }

    pub fn course_by_shortname(&self, who: &Principal, shortname: &str) -> ServiceResult<Course> {
        self.read(|t| {
            authorize_caller(&self.site, t, who)?;
            let id = t
                .course_id_by_shortname(shortname)?
                .ok_or_else(|| ServiceError::not_found(format!("course {shortname:?}")))?;
            authorize(&self.site, t, who, Need::ViewCourse(id))?;
            load_course(t, id)
        })
    }

    /// Courses the principal may see: all for site admins, their own for
    /// others; sorted by short name (then id), searched by short and full
    /// name. `offset` pages through the sorted list.
    pub fn list_courses(
        &self,
        who: &Principal,
        query: Option<&str>,
        offset: usize,
        limit: usize,
    ) -> ServiceResult<Page<Course, usize>> {
        self.read(|t| {
            authorize(&self.site, t, who, Need::SiteMember)?;
            let limit = clamp_limit(limit);
            let mut all = Vec::new();
            for c in t.all_courses()? {
                if matches_query(query, &[&c.shortname, &c.fullname])
                    && authorize(&self.site, t, who, Need::ViewCourse(c.id)).is_ok()
                {
                    all.push(c);
                }
            }
            all.sort_by(|a, b| {
                a.shortname
                    .to_lowercase()
                    .cmp(&b.shortname.to_lowercase())
                    .then(a.id.cmp(&b.id))
            });
            super::offset_page(all, offset, limit, Ok)
        })
    }

    /// What the site's public home page lists (see [`HomeOverview`]).
    pub fn home_overview(&self) -> ServiceResult<HomeOverview> {
        let candidates = self.read(|t| {
            let mut found = Vec::new();
            for course in t.all_courses()? {
                let plugins: std::collections::BTreeSet<String> = t
                    .course_methods_list(course.id)?
                    .into_iter()
                    .filter(|m| m.status == EnrolmentMethodStatus::Enabled)
                    .map(|m| m.plugin)
                    .collect();
                found.push((course, plugins));
            }
            Ok(found)
        })?;
        let mut answers = std::collections::BTreeMap::new();
        let mut courses = Vec::new();
        for (course, plugins) in candidates {
            let mut open = false;
            for plugin in plugins {
                let answer = match answers.get(&plugin) {
                    Some(a) => *a,
                    None => {
                        let a = self.plugin_answers(&plugin, RequestKind::SelfEnrol)?;
                        answers.insert(plugin, a);
                        a
                    }
                };
                open |= answer;
            }
            if open {
                courses.push(course);
            }
        }
        courses.sort_by_key(|c| c.fullname.to_lowercase());
        Ok(HomeOverview { courses })
    }
}
