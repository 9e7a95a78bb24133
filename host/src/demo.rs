//! The demo organisation of the product brief, loaded into one site.
//!
//! An organisation with HR, Finance, IT and Operations departments: one
//! user segment per department (idnumbers `hr`, `finance`, `it`,
//! `operations`), 300 employees with deterministic names and a
//! `department` profile field, each a member of their department's
//! segment; the mandatory compliance course `COMPLIANCE` (separate groups)
//! with one group per department, every employee enrolled as learner
//! through the course's manual method and placed in their department's
//! group; one teacher; and a site admin `siteadmin`. The course also has
//! an enabled self enrolment method (no key), added with the course, so
//! the site's public home page has a course to show, and a first section
//! "Week 1: Policies" with a page, so the course page has content.
//! Its gradebook has a category "Assessments" with two manual items,
//! "Practical check" (max 50, pass 25) and "Policy quiz" (max 10, pass 6),
//! and deterministic grades that differ by department — Finance visibly
//! behind, a few learners not graded yet — so the per-group analysis has
//! something to show.
//!
//! Everything goes through the public services as the given principal, so
//! the audit log records who loaded it. Loading is idempotent: what exists
//! (matched by username, idnumber, shortname) is kept and only what is
//! missing is added, so a second run changes nothing. This module never
//! touches storage directly.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::{CourseId, GroupMode, ProfileFieldKind, Role, UserId};
use crate::services::content::{ActivityDraft, SectionDraft};
use crate::services::courses::{MANUAL_PLUGIN, NewCourse};
use crate::services::enrolments::NewMethod;
use crate::services::gradebook::entry::GradeChange;
use crate::services::gradebook::{GradeItemDraft, NewItemKind};
use crate::services::groups::NewGroup;
use crate::services::profile_fields::NewProfileField;
use crate::services::segments::NewSegment;
use crate::services::users::NewUser;
use crate::services::{Principal, ServiceError, ServiceResult, Services, SiteServices, password};

/// The bundled self enrolment plugin, which the demo's course offers.
const SELF_PLUGIN: &str = "self";

/// How many employees the demo creates.
pub const EMPLOYEES: usize = 300;
pub const COURSE_SHORTNAME: &str = "COMPLIANCE";
pub const COURSE_FULLNAME: &str = "Mandatory Compliance Training";
pub const SITE_ADMIN: &str = "siteadmin";
pub const TEACHER: &str = "teacher";

/// `(idnumber, name)` of each department, and so of its segment and group.
pub const DEPARTMENTS: [(&str, &str); 4] = [
    ("hr", "HR"),
    ("finance", "Finance"),
    ("it", "IT"),
    ("operations", "Operations"),
];

const FIRST_NAMES: [&str; 20] = [
    "Ada", "Ben", "Chloe", "Dev", "Elif", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kemal",
    "Lena", "Mateo", "Nadia", "Oscar", "Priya", "Quinn", "Rosa", "Sami", "Tova",
];
const LAST_NAMES: [&str; 15] = [
    "Abbott",
    "Brandt",
    "Costa",
    "Dufour",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Haddad",
    "Ivanova",
    "Jensen",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Novak",
    "Okafor",
];

/// What a load did. Counts are of things created by this run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoReport {
    pub site: String,
    pub users_created: usize,
    pub segments_created: usize,
    pub course_created: bool,
    pub groups_created: usize,
    pub enrolments_created: usize,
    /// Set only when this run created `siteadmin`: its password, to show
    /// once.
    pub site_admin_password: Option<String>,
}

impl DemoReport {
    /// Nothing was missing: the demo was already loaded.
    pub fn was_already_loaded(&self) -> bool {
        self.users_created == 0
            && self.segments_created == 0
            && !self.course_created
            && self.groups_created == 0
            && self.enrolments_created == 0
    }
}

/// One employee of the demo organisation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Employee {
    pub username: String,
    pub firstname: &'static str,
    pub lastname: &'static str,
    /// Index into [`DEPARTMENTS`].
    pub department: usize,
}

/// The `i`-th employee (`i < EMPLOYEES`). First and last names are chosen
/// so every pair is distinct; departments are spread unevenly (15 % HR,
/// 20 % Finance, 25 % IT, 40 % Operations) so group statistics differ.
pub fn employee(i: usize) -> Employee {
    let firstname = FIRST_NAMES[i % FIRST_NAMES.len()];
    let lastname = LAST_NAMES[(i / FIRST_NAMES.len()) % LAST_NAMES.len()];
    // 7 is coprime with 20, so the bucket does not follow the first name.
    let bucket = (i * 7) % 20;
    let department = match bucket {
        0..=2 => 0,
        3..=6 => 1,
        7..=11 => 2,
        _ => 3,
    };
    Employee {
        username: format!("{}.{}", firstname, lastname).to_lowercase(),
        firstname,
        lastname,
        department,
    }
}

/// Loads the demo into the site named by `key` (slug or id).
pub fn load_into(services: &Services, who: &Principal, key: &str) -> ServiceResult<DemoReport> {
    let site = services.find_site(who, key)?;
    load_demo(&services.site(site.id)?, who)
}

/// Loads the demo organisation into `site` as `who` (a site admin or an
/// operator), adding only what is missing.
pub fn load_demo(site: &SiteServices, who: &Principal) -> ServiceResult<DemoReport> {
    let mut report = DemoReport {
        site: site.site().slug.clone(),
        ..Default::default()
    };

    // People.
    if find(site.user_by_username(who, SITE_ADMIN))?.is_none() {
        let pw = password::generate();
        site.create_user(
            who,
            NewUser {
                username: SITE_ADMIN.into(),
                email: format!("{SITE_ADMIN}@example.org"),
                firstname: "Sam".into(),
                lastname: "Admin".into(),
                password: Some(pw.clone()),
                site_admin: true,
                ..Default::default()
            },
        )?;
        report.users_created += 1;
        report.site_admin_password = Some(pw);
    }
    // The department every employee has, as a menu: rules and forms offer
    // its four choices.
    let fields = site.list_profile_fields(who)?;
    if !fields.iter().any(|f| f.shortname == "department") {
        site.create_profile_field(
            who,
            NewProfileField {
                shortname: "department".into(),
                name: "Department".into(),
                kind: ProfileFieldKind::Menu {
                    choices: DEPARTMENTS
                        .iter()
                        .map(|(_, name)| (*name).to_owned())
                        .collect(),
                },
                required: false,
                visible_to_user: true,
                locked: true,
                position: None,
            },
        )?;
    }
    let employees: Vec<Employee> = (0..EMPLOYEES).map(employee).collect();
    let mut wanted: Vec<NewUser> = Vec::new();
    if find(site.user_by_username(who, TEACHER))?.is_none() {
        wanted.push(NewUser {
            username: TEACHER.into(),
            email: format!("{TEACHER}@example.org"),
            firstname: "Theo".into(),
            lastname: "Marsh".into(),
            ..Default::default()
        });
    }
    for e in &employees {
        if find(site.user_by_username(who, &e.username))?.is_none() {
            wanted.push(NewUser {
                username: e.username.clone(),
                email: format!("{}@example.org", e.username),
                firstname: e.firstname.into(),
                lastname: e.lastname.into(),
                profile: BTreeMap::from([(
                    "department".to_owned(),
                    DEPARTMENTS[e.department].1.to_owned(),
                )]),
                ..Default::default()
            });
        }
    }
    report.users_created += wanted.len();
    if !wanted.is_empty() {
        // One transaction for all of them, not one per user.
        site.create_users(who, wanted)?;
    }
    let teacher = site.user_by_username(who, TEACHER)?.id;
    let mut by_department: [Vec<UserId>; 4] = Default::default();
    for e in &employees {
        by_department[e.department].push(site.user_by_username(who, &e.username)?.id);
    }

    // Segments, one per department.
    for (d, (idnumber, name)) in DEPARTMENTS.iter().enumerate() {
        let segment = match find(site.segment_by_idnumber(who, idnumber))? {
            Some(s) => s,
            None => {
                report.segments_created += 1;
                site.create_segment(
                    who,
                    NewSegment {
                        name: (*name).into(),
                        idnumber: Some((*idnumber).into()),
                        description: format!("Everyone in the {name} department."),
                        ..Default::default()
                    },
                )?
            }
        };
        site.add_segment_members(who, segment.id, &by_department[d])?;
    }

    // The compliance course, its groups and enrolments.
    let course = match find(site.course_by_shortname(who, COURSE_SHORTNAME))? {
        Some(c) => c,
        None => {
            report.course_created = true;
            let course = site.create_course(
                who,
                NewCourse {
                    shortname: COURSE_SHORTNAME.into(),
                    fullname: COURSE_FULLNAME.into(),
                    group_mode: GroupMode::Separate,
                    force_group_mode: false,
                },
            )?;
            site.add_method(
                who,
                course.id,
                NewMethod {
                    plugin: SELF_PLUGIN.into(),
                    name: "Self enrolment".into(),
                    config: serde_json::json!({}),
                    enabled: true,
                },
            )?;
            // Something to open on the course page; the teacher adds the
            // rest (a discussion, an assignment) from there.
            let week1 = site.create_section(
                who,
                course.id,
                &SectionDraft {
                    name: "Week 1: Policies".into(),
                    summary: "Read the code of conduct before the first discussion.".into(),
                    visible: true,
                },
            )?;
            site.create_page(
                who,
                week1.id,
                &ActivityDraft {
                    name: "Code of conduct".into(),
                    description: "## Our code of conduct\n\nTreat colleagues with respect, \
                                  protect customer data, and report concerns to HR."
                        .into(),
                    visible: true,
                    ..Default::default()
                },
            )?;
            course
        }
    };
    let manual = site
        .list_methods(who, course.id)?
        .into_iter()
        .find(|m| m.plugin == MANUAL_PLUGIN)
        .ok_or_else(|| {
            ServiceError::Conflict(format!(
                "course {COURSE_SHORTNAME} has no manual enrolment method to enrol the demo users with"
            ))
        })?;
    let enrolled = enrolled_users(site, who, course.id)?;
    let mut enrol = |user: UserId, role: Role| -> ServiceResult<()> {
        if !enrolled.contains(&user) {
            site.enrol(who, manual.id, user, role)?;
            report.enrolments_created += 1;
        }
        Ok(())
    };
    enrol(teacher, Role::Teacher)?;
    for &user in by_department.iter().flatten() {
        enrol(user, Role::Learner)?;
    }
    for (d, (idnumber, name)) in DEPARTMENTS.iter().enumerate() {
        let group = match find(site.find_group(who, course.id, idnumber))? {
            Some(g) => g,
            None => {
                report.groups_created += 1;
                site.create_group(
                    who,
                    course.id,
                    NewGroup {
                        name: (*name).into(),
                        idnumber: Some((*idnumber).into()),
                        description: format!("Learners of the {name} department."),
                    },
                )?
            }
        };
        site.add_group_members(who, group.id, &by_department[d])?;
    }
    demo_grades(site, who, course.id, &by_department)?;
    Ok(report)
}

/// The demo's grade items: the category "Assessments" with its two items.
const CATEGORY: &str = "Assessments";
const PRACTICAL: (&str, f64, f64) = ("Practical check", 50.0, 25.0);
const QUIZ: (&str, f64, f64) = ("Policy quiz", 10.0, 6.0);

/// A department's typical share of the maximum (HR, Finance, IT,
/// Operations): Finance is behind.
const DEPARTMENT_LEVEL: [f64; 4] = [0.78, 0.52, 0.74, 0.68];

/// The `n`-th learner of department `d`'s grade on an item of maximum
/// `max`, or `None` for the few not graded yet: the department's level,
/// spread ±20 % of the maximum by a fixed pattern, in whole points.
pub fn demo_grade(d: usize, n: usize, max: f64, salt: usize) -> Option<f64> {
    if (n + salt) % 11 == 5 {
        return None;
    }
    let spread = (((n * 37 + salt * 11) % 41) as f64 - 20.0) / 100.0;
    Some(((DEPARTMENT_LEVEL[d] + spread).clamp(0.0, 1.0) * max).round())
}

/// Adds the demo's grade items and grades to `course` unless its
/// gradebook already has the category (the demo's report does not count
/// them: its shape is the API's).
fn demo_grades(
    site: &SiteServices,
    who: &Principal,
    course: CourseId,
    by_department: &[Vec<UserId>; 4],
) -> ServiceResult<()> {
    let setup = site.gradebook_setup(who, course)?;
    if setup.items.iter().any(|i| i.item.name == CATEGORY) {
        return Ok(());
    }
    let category = site.create_grade_item(
        who,
        course,
        GradeItemDraft {
            kind: NewItemKind::Category,
            name: CATEGORY.into(),
            ..Default::default()
        },
    )?;
    let mut changes = Vec::new();
    for (salt, (name, max, pass)) in [PRACTICAL, QUIZ].into_iter().enumerate() {
        let item = site.create_grade_item(
            who,
            course,
            GradeItemDraft {
                name: name.into(),
                max_grade: max,
                pass_grade: Some(pass),
                parent: Some(category.id),
                ..Default::default()
            },
        )?;
        for (d, users) in by_department.iter().enumerate() {
            for (n, &user) in users.iter().enumerate() {
                if let Some(value) = demo_grade(d, n, max, salt) {
                    changes.push(GradeChange {
                        user,
                        item: item.id,
                        value: Some(value),
                    });
                }
            }
        }
    }
    // One transaction for every grade.
    site.set_grades(who, course, &changes)?;
    Ok(())
}

/// `Ok(None)` for "not there yet", so the loader can create it.
fn find<T>(result: ServiceResult<T>) -> ServiceResult<Option<T>> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(ServiceError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Users with any enrolment in the course, so a re-run skips them without
/// a write transaction each.
fn enrolled_users(
    site: &SiteServices,
    who: &Principal,
    course: CourseId,
) -> ServiceResult<std::collections::HashSet<UserId>> {
    let mut out = std::collections::HashSet::new();
    let mut after = None;
    loop {
        let page = site.participants(who, course, after, crate::services::MAX_PAGE)?;
        out.extend(page.items.iter().map(|p| p.user.id));
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn employees_have_distinct_usernames_and_every_department_has_some() {
        let all: Vec<Employee> = (0..EMPLOYEES).map(employee).collect();
        let names: std::collections::HashSet<&str> =
            all.iter().map(|e| e.username.as_str()).collect();
        assert_eq!(names.len(), EMPLOYEES);
        let mut sizes = [0; 4];
        for e in &all {
            sizes[e.department] += 1;
        }
        assert_eq!(sizes, [45, 60, 75, 120]);
    }

    #[test]
    fn loading_the_demo_twice_creates_it_once() {
        let dir = tempfile::tempdir().expect("temp dir");
        let services = Services::open(dir.path()).expect("open");
        services.first_run().expect("first run");
        let operator = services.console_operator().expect("operator");

        let first = load_into(&services, &operator, "default").expect("first load");
        assert_eq!(first.users_created, EMPLOYEES + 2);
        assert_eq!(first.segments_created, 4);
        assert!(first.course_created);
        assert_eq!(first.groups_created, 4);
        assert_eq!(first.enrolments_created, EMPLOYEES + 1);
        assert!(first.site_admin_password.is_some());

        let again = load_into(&services, &operator, "default").expect("second load");
        assert!(again.was_already_loaded(), "{again:?}");
        assert_eq!(again.site_admin_password, None);

        let site = services.site_by_slug("default").expect("site");
        let members: Vec<(String, u64)> = site
            .list_segments(&operator, None, 0, 100)
            .expect("segments")
            .items
            .into_iter()
            .map(|s| (s.segment.name, s.members))
            .collect();
        assert_eq!(
            members,
            [
                ("Finance".to_owned(), 60),
                ("HR".to_owned(), 45),
                ("IT".to_owned(), 75),
                ("Operations".to_owned(), 120)
            ]
        );
        let course = site
            .course_by_shortname(&operator, COURSE_SHORTNAME)
            .expect("course");
        assert_eq!(course.group_mode, GroupMode::Separate);
        let groups: Vec<(String, u64)> = site
            .list_groups(&operator, course.id)
            .expect("groups")
            .into_iter()
            .map(|g| (g.group.name, g.members))
            .collect();
        assert_eq!(
            groups,
            [
                ("Finance".to_owned(), 60),
                ("HR".to_owned(), 45),
                ("IT".to_owned(), 75),
                ("Operations".to_owned(), 120)
            ]
        );
        // Finance is behind on the course total, and a few are not graded.
        let stats = site.group_statistics(&operator, course.id).expect("stats");
        let total = stats.items.last().expect("the course total");
        let mean_of = |name: &str| {
            let c = stats
                .cohorts
                .iter()
                .position(|c| c.name == name)
                .expect(name);
            total.cohorts[c].mean.expect("a mean")
        };
        for other in ["HR", "IT", "Operations"] {
            assert!(mean_of("Finance") + 10.0 < mean_of(other), "{other}");
        }
        let practical = &stats.items[0];
        assert_eq!(practical.item.item.name, "Practical check");
        assert!(practical.cohorts[0].missing > 0);
        assert!(practical.cohorts[0].graded > 250);
        let admin = site
            .verify_user_password(
                SITE_ADMIN,
                first.site_admin_password.as_deref().unwrap_or(""),
            )
            .expect("verify");
        assert!(
            admin.is_some(),
            "the printed password signs the site admin in"
        );
    }
}
