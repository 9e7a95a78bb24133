//! Test fixtures: a populated site in one line.

use super::courses::NewCourse;
use super::segments::NewSegment;
use super::sites::NewSite;
use super::users::NewUser;
use super::{Principal, Services, SiteServices};
use crate::domain::*;

/// A host on a temporary data dir with one populated site.
///
/// Site "acme": site admin `admin`, teacher `teacher`, learners `learner1`
/// to `learner5`; segments HR (`hr`, learners 1–3) and Finance
/// (`finance`, learners 4–5); course `COMP101` with the teacher enrolled
/// as teacher, learners 1–4 as learners, and groups "Team A" and "Team B".
pub struct TestSite {
    pub dir: tempfile::TempDir,
    pub services: Services,
    pub site: SiteServices,
    pub operator: Principal,
    pub admin: Principal,
    pub admin_id: UserId,
    pub teacher: Principal,
    pub teacher_id: UserId,
    pub learners: Vec<UserId>,
    pub hr: SegmentId,
    pub finance: SegmentId,
    pub course: CourseId,
    pub manual: EnrolmentMethodId,
    pub team_a: CourseGroupId,
    pub team_b: CourseGroupId,
}

impl TestSite {
    pub fn new() -> Self {
        Self::named("acme")
    }

    pub fn named(slug: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let services = Services::open(dir.path()).expect("open services");
        let operator = Principal::system();
        let site = services
            .create_site(
                &operator,
                NewSite {
                    slug: slug.into(),
                    name: format!("{slug} LMS"),
                    hostnames: vec![format!("{slug}.test")],
                    brand_colour: None,
                },
            )
            .expect("site");
        let mut fx = Self::populate(dir, services.clone(), site.id);
        fx.operator = operator;
        fx
    }

    /// Adds the fixture's content to an existing site of `services`.
    pub fn populate(dir: tempfile::TempDir, services: Services, site: SiteId) -> Self {
        let s = services.site(site).expect("site services");
        let op = Principal::system();
        let user = |name: &str, admin: bool| {
            s.create_user(
                &op,
                NewUser {
                    username: name.into(),
                    email: format!("{name}@example.org"),
                    firstname: name.into(),
                    lastname: "Test".into(),
                    site_admin: admin,
                    ..Default::default()
                },
            )
            .expect("user")
            .id
        };
        let admin_id = user("admin", true);
        let teacher_id = user("teacher", false);
        let learners: Vec<UserId> = (1..=5)
            .map(|i| user(&format!("learner{i}"), false))
            .collect();
        let hr = s
            .create_segment(
                &op,
                NewSegment {
                    name: "HR".into(),
                    idnumber: Some("hr".into()),
                    ..Default::default()
                },
            )
            .expect("segment")
            .id;
        let finance = s
            .create_segment(
                &op,
                NewSegment {
                    name: "Finance".into(),
                    idnumber: Some("finance".into()),
                    ..Default::default()
                },
            )
            .expect("segment")
            .id;
        s.add_segment_members(&op, hr, &learners[0..3])
            .expect("members");
        s.add_segment_members(&op, finance, &learners[3..5])
            .expect("members");
        let course = s
            .create_course(
                &op,
                NewCourse {
                    shortname: "COMP101".into(),
                    fullname: "Compliance 101".into(),
                    group_mode: GroupMode::Separate,
                    force_group_mode: false,
                },
            )
            .expect("course")
            .id;
        let manual = s.list_methods(&op, course).expect("methods")[0].id;
        s.enrol(&op, manual, teacher_id, Role::Teacher)
            .expect("enrol teacher");
        for &l in &learners[0..4] {
            s.enrol(&op, manual, l, Role::Learner)
                .expect("enrol learner");
        }
        let group = |name: &str| {
            s.create_group(
                &op,
                course,
                super::groups::NewGroup {
                    name: name.into(),
                    ..Default::default()
                },
            )
            .expect("group")
            .id
        };
        let team_a = group("Team A");
        let team_b = group("Team B");
        Self {
            dir,
            admin: Principal::site_user(site, admin_id),
            teacher: Principal::site_user(site, teacher_id),
            services,
            site: s,
            operator: op,
            admin_id,
            teacher_id,
            learners,
            hr,
            finance,
            course,
            manual,
            team_a,
            team_b,
        }
    }

    pub fn learner(&self, i: usize) -> Principal {
        Principal::site_user(self.site.site().id, self.learners[i])
    }
}
