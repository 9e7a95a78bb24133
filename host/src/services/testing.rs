//! Test fixtures: a populated site in one line, and the helpers that let
//! a test compare whole states (snapshots, audit and event trails).

use std::sync::Arc;

use super::courses::NewCourse;
use super::enrolments::NewMethod;
use super::segments::NewSegment;
use super::sites::NewSite;
use super::users::NewUser;
use super::{Principal, Services, SiteServices};
use crate::domain::*;
use crate::storage::site::{TableDump, defs, prelude::*};
use redb::TableHandle;

mod rules;

/// A host on a temporary data dir with one populated site.
///
/// Site "acme": the bundled plugins and the test plugin `noop` (which
/// accepts any config and plans nothing) enabled; site admin `admin`, teacher `teacher`, learners `learner1`
/// to `learner5`; segments HR (`hr`, learners 1–3) and Finance
/// (`finance`, learners 4–5); course `COMP101` with the teacher enrolled
/// as teacher, learners 1–4 as learners, and groups "Team A" and "Team B";
/// its content: a section "Week 1" with a page "Welcome", and a grouping
/// "Both teams" of Team A and Team B.
pub struct TestSite {
    /// Shared by every site of one host (see [`TestSite::two_sites`]).
    pub dir: Arc<tempfile::TempDir>,
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
    pub section: CourseSectionId,
    pub page: ActivityId,
    pub grouping: GroupingId,
}

/// The fixture's sites: `slug`, named "{slug} LMS", at `{slug}.test`.
fn site_named(slug: &str) -> NewSite {
    NewSite {
        slug: slug.into(),
        name: format!("{slug} LMS"),
        hostnames: vec![format!("{slug}.test")],
        brand_colour: None,
    }
}

impl TestSite {
    pub fn new() -> Self {
        Self::named("acme")
    }

    pub fn named(slug: &str) -> Self {
        Self::with_runtime(slug, crate::runtime::RuntimeConfig::default())
    }

    /// [`named`](Self::named) on a host whose plugin runtime has these
    /// limits (e.g. a short deadline for the hostile plugins).
    pub fn with_runtime(slug: &str, runtime: crate::runtime::RuntimeConfig) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let services = Services::open_with(dir.path(), runtime).expect("open services");
        let operator = Principal::system();
        let site = services
            .create_site(&operator, site_named(slug))
            .expect("site");
        let mut fx = Self::populate(Arc::new(dir), services.clone(), site.id);
        fx.operator = operator;
        fx
    }

    /// Two sites with the same content on one host: "acme" and "globex".
    /// Their ids of users, courses, … coincide, which is what makes a
    /// cross-site call dangerous.
    pub fn two_sites() -> (Self, Self) {
        let a = Self::named("acme");
        let b = a.another_site("globex");
        (a, b)
    }

    /// A new site `slug` on this host, populated like this one.
    pub fn another_site(&self, slug: &str) -> Self {
        let site = self
            .services
            .create_site(&Principal::system(), site_named(slug))
            .expect("site");
        Self::populate(self.dir.clone(), self.services.clone(), site.id)
    }

    /// Adds the fixture's content to an existing site of `services`.
    pub fn populate(dir: Arc<tempfile::TempDir>, services: Services, site: SiteId) -> Self {
        let s = services.site(site).expect("site services");
        let op = Principal::system();
        services
            .install_plugin(&op, &test_plugin("charon-test-noop"))
            .expect("install noop");
        services
            .enable_plugin(&op, &site.to_string(), "noop", None)
            .expect("enable noop");
        // As a site migrated from before profile fields has it: the demo's
        // `department`, as text.
        s.create_profile_field(
            &op,
            crate::services::profile_fields::NewProfileField {
                shortname: "department".into(),
                name: "Department".into(),
                kind: ProfileFieldKind::Text,
                required: false,
                visible_to_user: true,
                locked: false,
                position: None,
            },
        )
        .expect("profile field");
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
        let segment = |name: &str, idnumber: &str| {
            s.create_segment(
                &op,
                NewSegment {
                    name: name.into(),
                    idnumber: Some(idnumber.into()),
                    ..Default::default()
                },
            )
            .expect("segment")
            .id
        };
        let hr = segment("HR", "hr");
        let finance = segment("Finance", "finance");
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
        let team_a = named_group(&s, &op, course, "Team A");
        let team_b = named_group(&s, &op, course, "Team B");
        let (section, page, grouping) = content_in(&s, &op, course, &[team_a, team_b]);
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
            section,
            page,
            grouping,
        }
    }

    /// Content in `course` like the fixture's: a section "Week 1" with a
    /// page "Welcome", and a grouping "Both teams" of `groups`.
    pub fn content_in(
        &self,
        course: CourseId,
        groups: &[CourseGroupId],
    ) -> (CourseSectionId, ActivityId, GroupingId) {
        content_in(&self.site, &Principal::system(), course, groups)
    }

    /// What belongs to Team B only, for the walks proving a learner of
    /// Team A reads none of it: a grouping "B only" of Team B, a page
    /// "B-only-page" restricted to it, and a discussion
    /// "B-only-discussion" of Team B in a forum both teams see. Call on [`with_teams`](Self::with_teams).
    pub fn team_b_things(&self) -> TeamB {
        let grouping = self
            .site
            .create_grouping(&self.admin, self.course, "B only", "", &[self.team_b])
            .expect("grouping of Team B")
            .grouping
            .id;
        let page = self
            .site
            .create_page(
                &self.admin,
                self.section,
                &super::content::ActivityDraft {
                    name: "B-only-page".into(),
                    description: "For Team B.".into(),
                    visible: true,
                    grouping: Some(grouping),
                    ..Default::default()
                },
            )
            .expect("page of Team B")
            .id;
        let forum = self
            .site
            .create_forum(
                &self.admin,
                self.section,
                &super::content::ActivityDraft {
                    name: "Team forum".into(),
                    visible: true,
                    ..Default::default()
                },
            )
            .expect("forum of both teams")
            .id;
        let discussion = self
            .site
            .start_discussion(
                &self.admin,
                forum,
                super::discussions::NewDiscussion {
                    group: Some(self.team_b),
                    subject: "B-only-discussion".into(),
                    body: "For Team B.".into(),
                },
            )
            .expect("discussion of Team B");
        // A group assignment open to all, and Team B's submission to it.
        let assignment = self.assignment_in(
            self.section,
            "Group report",
            crate::services::assignments::AssignmentInput {
                group_submission: true,
                ..Default::default()
            },
        );
        let submitted = self
            .site
            .save_submission(
                &self.as_user(self.learners[2]),
                assignment,
                crate::services::assignments::SubmissionInput {
                    group: Some(self.team_b),
                    text: Some("Work of B only".into()),
                    add_files: vec![crate::services::assignments::NewFile {
                        name: "b-only.txt".into(),
                        content_type: "text/plain".into(),
                        content: b"B only".to_vec(),
                    }],
                    submit: true,
                    ..Default::default()
                },
            )
            .expect("Team B's submission")
            .submission;
        TeamB {
            grouping,
            page,
            forum,
            discussion: discussion.id,
            post: discussion.first_post,
            assignment,
            submission: submitted.id,
            file: submitted.files[0].sha256_hex(),
        }
    }

    /// Learners 1 and 2 in Team A, learners 3 and 4 in Team B: the
    /// separate-groups course of issue 18's tests.
    pub fn with_teams(self) -> Self {
        self.site
            .add_group_members(&self.admin, self.team_a, &self.learners[0..2])
            .expect("team A");
        self.site
            .add_group_members(&self.admin, self.team_b, &self.learners[2..4])
            .expect("team B");
        self
    }

    pub fn learner(&self, i: usize) -> Principal {
        Principal::site_user(self.id(), self.learners[i])
    }

    pub fn id(&self) -> SiteId {
        self.site.site().id
    }

    /// A site user principal for `user`.
    pub fn as_user(&self, user: UserId) -> Principal {
        Principal::site_user(self.id(), user)
    }

    /// An enrolment method acting for itself (the plugin runtime's principal).
    pub fn as_method(&self, method: EnrolmentMethodId) -> Principal {
        Principal::method(self.id(), method)
    }

    /// A new user `name` enrolled in the course as a non-editing teacher
    /// and made a member of `group` (in the fixture's separate-groups
    /// course, a teacher who sees only that group).
    pub fn non_editing_teacher_in(&self, name: &str, group: CourseGroupId) -> UserId {
        let id = self.user(name);
        self.site
            .enrol(&self.admin, self.manual, id, Role::NonEditingTeacher)
            .expect("enrol as non-editing teacher");
        self.site
            .add_group_members(&self.admin, group, &[id])
            .expect("group member");
        id
    }

    /// A plain user `name` with no password, created by the system.
    pub fn user(&self, name: &str) -> UserId {
        self.site
            .create_user(
                &Principal::system(),
                NewUser {
                    username: name.into(),
                    email: format!("{name}@example.org"),
                    firstname: name.into(),
                    lastname: "Test".into(),
                    ..Default::default()
                },
            )
            .expect("user")
            .id
    }

    /// `n` users `bulk1`… written straight into the store in one
    /// transaction. Only for volume tests: it skips the audit log and the
    /// outbox, which one service call per user would fill.
    pub fn bulk_users(&self, n: usize) -> Vec<UserId> {
        self.site
            .write(|t| {
                let mut ids = Vec::with_capacity(n);
                for i in 1..=n {
                    let user = User {
                        id: t.new_user_id()?,
                        username: format!("bulk{i}"),
                        email: format!("bulk{i}@example.org"),
                        firstname: "Bulk".into(),
                        lastname: format!("User {i}"),
                        status: UserStatus::Active,
                        site_role: SiteRole::User,
                        profile: Default::default(),
                        password_hash: None,
                        created_at: t.now,
                        updated_at: t.now,
                    };
                    t.put_user(&user)?;
                    ids.push(user.id);
                }
                Ok(ids)
            })
            .expect("bulk users")
    }

    /// Another course `shortname` (with its manual method), created by the
    /// system.
    pub fn other_course(&self, shortname: &str) -> (CourseId, EnrolmentMethodId) {
        let op = Principal::system();
        let course = self
            .site
            .create_course(
                &op,
                NewCourse {
                    shortname: shortname.into(),
                    fullname: format!("{shortname} course"),
                    group_mode: GroupMode::Visible,
                    force_group_mode: false,
                },
            )
            .expect("course")
            .id;
        let manual = self.site.list_methods(&op, course).expect("methods")[0].id;
        (course, manual)
    }

    /// An enabled enrolment method of `plugin` (enabled on the site, and
    /// accepting `{}`) on the fixture's course.
    pub fn add_method(&self, plugin: &str) -> EnrolmentMethodId {
        self.site
            .add_method(
                &Principal::system(),
                self.course,
                NewMethod {
                    plugin: plugin.into(),
                    name: String::new(),
                    config: serde_json::json!({}),
                    enabled: true,
                },
            )
            .expect("method")
            .id
    }

    /// An enabled enrolment method of the test plugin `noop` named `name`, with
    /// `config`, added to the fixture's course by its site admin.
    pub fn add_named_noop(&self, name: &str, config: serde_json::Value) -> EnrolmentMethodId {
        self.site
            .add_method(
                &self.admin,
                self.course,
                NewMethod {
                    plugin: "noop".into(),
                    name: name.into(),
                    config,
                    enabled: true,
                },
            )
            .expect("method")
            .id
    }

    /// An enrolment method of `noop` named `name`, configured with Team A, that
    /// keeps `members` there (added as the method itself): memberships
    /// the group's pages and services must show as kept by a method.
    pub fn method_keeping(&self, name: &str, members: &[UserId]) -> EnrolmentMethodId {
        let method = self.add_named_noop(name, serde_json::json!({ "group": self.team_a.0 }));
        self.site
            .add_group_members(&self.as_method(method), self.team_a, members)
            .expect("members");
        method
    }

    /// Participants of every kind a course's participant list shows:
    /// learner 2 enrolled a second time, through a new `noop` method
    /// named `name` (returned), and learner 3's manual enrolment suspended.
    pub fn mixed_participants(&self, name: &str) -> EnrolmentMethodId {
        let second = self.add_named_noop(name, serde_json::json!({}));
        self.site
            .enrol(&self.admin, second, self.learners[1], Role::Learner)
            .expect("enrol");
        self.site
            .set_enrolment_status(
                &self.admin,
                self.manual,
                self.learners[2],
                EnrolmentStatus::Suspended,
                false,
            )
            .expect("suspend");
        second
    }

    /// A visible section `name` at the end of `course`, added by the site
    /// admin.
    pub fn section(&self, course: CourseId, name: &str) -> CourseSectionId {
        self.site
            .create_section(
                &self.admin,
                course,
                &crate::services::content::SectionDraft {
                    name: name.into(),
                    summary: String::new(),
                    visible: true,
                },
            )
            .expect("section")
            .id
    }

    /// An assignment `name` in a new section of the fixture's course,
    /// added by its editing teacher with `input`.
    pub fn assignment(
        &self,
        name: &str,
        input: crate::services::assignments::AssignmentInput,
    ) -> ActivityId {
        let section = self.section(self.course, "Assignments");
        self.assignment_in(section, name, input)
    }

    /// An assignment `name` at the end of `section`, added by the course's
    /// editing teacher with `input`.
    pub fn assignment_in(
        &self,
        section: CourseSectionId,
        name: &str,
        input: crate::services::assignments::AssignmentInput,
    ) -> ActivityId {
        self.site
            .create_assignment(
                &self.teacher,
                section,
                crate::services::content::ActivityDraft {
                    name: name.into(),
                    description: "Write **one page**.".into(),
                    visible: true,
                    group_mode: None,
                    grouping: None,
                },
                input,
            )
            .expect("assignment")
            .id
    }

    /// An assignment "Essay" in the fixture's section, and the first
    /// learner's draft to it holding the file `essay.txt`: what the route
    /// walks name for `{assignment}`, `{submission}` and a file's digest.
    pub fn assignment_sample(&self) -> AssignmentSample {
        let assignment = self.assignment_in(self.section, "Essay", Default::default());
        let submission = self
            .site
            .save_submission(
                &self.learner(0),
                assignment,
                crate::services::assignments::SubmissionInput {
                    text: Some("My essay".into()),
                    add_files: vec![crate::services::assignments::NewFile {
                        name: "essay.txt".into(),
                        content_type: "text/plain".into(),
                        content: b"An essay.".to_vec(),
                    }],
                    ..Default::default()
                },
            )
            .expect("submission")
            .submission;
        AssignmentSample {
            assignment,
            submission: submission.id,
            file: submission.files[0].sha256_hex(),
        }
    }

    /// A group `name` of `course`, created by the site admin.
    pub fn add_group(&self, course: CourseId, name: &str) -> CourseGroupId {
        named_group(&self.site, &self.admin, course, name)
    }

    /// Installs the component `bytes` and adds an enabled method of it to
    /// the fixture's course with `config`. The one place tests set up a
    /// plugin method, so the install's signature changes here only.
    pub fn with_plugin_method(&self, bytes: &[u8], config: serde_json::Value) -> EnrolmentMethodId {
        // Drained first, as a running host's dispatcher would be, so the
        // new method hears only what happens after it was added.
        self.site.dispatch_pending().expect("dispatch");
        let op = Principal::system();
        let plugin = self
            .services
            .install_plugin(&op, bytes)
            .expect("install plugin");
        self.services
            .enable_plugin(
                &op,
                &self.id().to_string(),
                &plugin.id,
                Some(&plugin.version),
            )
            .expect("enable plugin");
        self.site
            .add_method(
                &op,
                self.course,
                NewMethod {
                    plugin: plugin.id.clone(),
                    name: String::new(),
                    config,
                    enabled: true,
                },
            )
            .expect("method")
            .id
    }

    /// The site file without the enrolment methods' run state and the
    /// dispatcher's cursor: what a failed plugin call must leave as it was.
    pub fn data_without_runs(&self) -> TableDump {
        let mut dump = self.snapshot();
        dump.retain(|(name, _)| !["method-runs-v1", "dispatch-v1"].contains(&name.as_str()));
        dump
    }

    /// The site file byte for byte.
    pub fn snapshot(&self) -> TableDump {
        self.site.snapshot()
    }

    /// Asserts the site file is byte for byte as `before`.
    #[track_caller]
    pub fn assert_unchanged(&self, before: &TableDump) {
        assert_same_tables(&self.snapshot(), before);
    }

    /// The site's data without its id counters, audit log and outbox: what
    /// a cascade must restore exactly.
    pub fn data(&self) -> TableDump {
        let mut dump = self.snapshot();
        let skip = [defs::META.name(), defs::AUDIT.name(), defs::EVENTS.name()];
        dump.retain(|(name, _)| !skip.contains(&name.as_str()));
        dump
    }

    /// Where the audit log and the outbox stand now.
    pub fn mark(&self) -> Mark {
        self.site
            .read(|t| {
                Ok(Mark {
                    audit: t.last_audit_id()?,
                    seq: t.last_event_seq()?,
                    at: Timestamp::now(),
                })
            })
            .expect("mark")
    }

    /// The audit entries and events written since `mark`, oldest first.
    /// Checks that every entry is stamped between the mark and now.
    pub fn changes_since(&self, mark: &Mark) -> Changes {
        let now = Timestamp::now();
        let entries = self
            .site
            .read(|t| Ok(t.audit_page(None, usize::MAX, |e| e.id.0 > mark.audit)?))
            .expect("audit");
        let audit = entries
            .into_iter()
            .rev()
            .map(|e| {
                assert!(
                    mark.at <= e.at && e.at <= now,
                    "audit entry {e:?} is not stamped between {} and {now}",
                    mark.at
                );
                Audited {
                    actor: e.actor,
                    action: e.action,
                    target: e.target,
                    reason: e.reason,
                }
            })
            .collect();
        let events = self
            .site
            .events_after(&Principal::system(), mark.seq, super::MAX_PAGE)
            .expect("events")
            .into_iter()
            .map(|e| {
                assert_eq!(e.site, self.id());
                e.event
            })
            .collect();
        Changes { audit, events }
    }
}

/// What [`TestSite::assignment_sample`] made.
pub struct AssignmentSample {
    pub assignment: ActivityId,
    pub submission: SubmissionId,
    /// The file's SHA-256 in hex.
    pub file: String,
}

/// The component built from `tests/plugins/{crate_name}` (e.g.
/// `charon-test-noop`).
pub fn test_plugin(crate_name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CHARON_PLUGIN_WASM_DIR"))
        .join(format!("{}.wasm", crate_name.replace('-', "_")));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Asserts two dumps of a site file are equal; on failure names only the
/// rows that differ, table by table, rather than printing two whole files.
#[track_caller]
pub fn assert_same_tables(actual: &TableDump, expected: &TableDump) {
    if actual == expected {
        return;
    }
    let mut report = String::new();
    let tables: std::collections::BTreeSet<&String> = actual
        .iter()
        .chain(expected)
        .map(|(name, _)| name)
        .collect();
    let rows = |dump: &TableDump, name: &str| -> Vec<(Vec<u8>, Vec<u8>)> {
        dump.iter()
            .find(|(n, _)| n == name)
            .map(|(_, rows)| rows.clone())
            .unwrap_or_default()
    };
    for name in tables {
        let (a, e) = (rows(actual, name), rows(expected, name));
        for row in a.iter().filter(|r| !e.contains(r)) {
            report.push_str(&format!("{name}: unexpected {:?} => {:?}\n", row.0, row.1));
        }
        for row in e.iter().filter(|r| !a.contains(r)) {
            report.push_str(&format!("{name}: missing    {:?} => {:?}\n", row.0, row.1));
        }
    }
    panic!("the site file differs from what was expected:\n{report}");
}

/// Team B's own things (see [`TestSite::team_b_things`]).
pub struct TeamB {
    pub grouping: GroupingId,
    pub page: ActivityId,
    /// A forum of the separate-groups course (seen by both teams) and its
    /// Team B discussion "B-only-discussion" with its first post.
    pub forum: ActivityId,
    pub discussion: DiscussionId,
    pub post: PostId,
    /// A group assignment everyone sees, and Team B's submission to it
    /// with its one file's digest.
    pub assignment: ActivityId,
    pub submission: SubmissionId,
    pub file: String,
}

impl TeamB {
    /// Text that appears only in Team B's things and people: a page or
    /// an answer showing one to a learner of Team A leaks.
    pub const MARKERS: &[&str] = &[
        "learner3",
        "learner4",
        "Team B",
        "B-only-page",
        "B only",
        "B-only-discussion",
        "Work of B only",
        "b-only.txt",
    ];
}

/// A position in a site's audit log and outbox.
pub struct Mark {
    audit: u64,
    seq: u64,
    at: Timestamp,
}

/// What a site recorded about a change: its audit entries and its events.
#[derive(Debug, PartialEq, Eq)]
pub struct Changes {
    pub audit: Vec<Audited>,
    pub events: Vec<SiteEvent>,
}

impl Changes {
    pub fn none() -> Self {
        Self {
            audit: Vec::new(),
            events: Vec::new(),
        }
    }
}

/// An audit entry without its id and time (checked by `changes_since`).
#[derive(Debug, PartialEq, Eq)]
pub struct Audited {
    pub actor: Actor,
    pub action: String,
    pub target: String,
    pub reason: String,
}

/// `Audited` in one line: `audited(actor, "segment.created", "segment #3 \"X\"", "segment created")`.
pub fn audited(actor: Actor, action: &str, target: &str, reason: &str) -> Audited {
    Audited {
        actor,
        action: action.into(),
        target: target.into(),
        reason: reason.into(),
    }
}

fn content_in(
    site: &SiteServices,
    who: &Principal,
    course: CourseId,
    groups: &[CourseGroupId],
) -> (CourseSectionId, ActivityId, GroupingId) {
    let section = site
        .create_section(
            who,
            course,
            &super::content::SectionDraft {
                name: "Week 1".into(),
                summary: "The first week.".into(),
                visible: true,
            },
        )
        .expect("section")
        .id;
    let page = site
        .create_page(
            who,
            section,
            &super::content::ActivityDraft {
                name: "Welcome".into(),
                description: "Hello **everyone**.".into(),
                visible: true,
                ..Default::default()
            },
        )
        .expect("page")
        .id;
    let grouping = site
        .create_grouping(who, course, "Both teams", "", groups)
        .expect("grouping")
        .grouping
        .id;
    (section, page, grouping)
}

/// A group `name` of `course` with nothing else set, created by `who`.
fn named_group(
    site: &SiteServices,
    who: &Principal,
    course: CourseId,
    name: &str,
) -> CourseGroupId {
    site.create_group(
        who,
        course,
        super::groups::NewGroup {
            name: name.into(),
            ..Default::default()
        },
    )
    .expect("group")
    .id
}
