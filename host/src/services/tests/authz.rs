//! Authorisation: sites are isolated (PRODUCT §2), operators alone run the
//! host, and inside a site each role reaches only what it should.
//!
//! The heart is a walk: a table with one call per public `SiteServices`
//! function. A test checks the table against the source, so a new service
//! function fails the suite until it is added here, and so is walked by
//! every principal that must be refused.

use super::{refusal, says};
use crate::domain::*;
use crate::services::content::{ActivityDraft, ActivityUpdate, SectionDraft, SectionUpdate};
use crate::services::courses::{CourseUpdate, NewCourse};
use crate::services::enrolments::{EnrolmentUpdate, MethodUpdate, NewMethod};
use crate::services::execution::MethodRequest;
use crate::services::groupings::GroupingUpdate;
use crate::services::groups::{GroupUpdate, NewGroup};
use crate::services::mass_enrolments::{MassEnrolmentRequest, MassGroupChoice};
use crate::services::profile_fields::{NewProfileField, ProfileFieldUpdate};
use crate::services::segments::{NewSegment, SegmentUpdate};
use crate::services::sites::NewSite;
use crate::services::testing::TestSite;
use crate::services::users::{NewUser, ProfileCheck, UserUpdate};
use crate::services::{AuditFilter, Principal, ServiceResult, SiteServices};
use crate::storage::site::TableDump;

/// What the calls of a walk name: things of the site walked, or things it
/// never had.
struct Ids {
    user: UserId,
    username: &'static str,
    segment: SegmentId,
    segment_idnumber: &'static str,
    course: CourseId,
    shortname: &'static str,
    method: EnrolmentMethodId,
    group: CourseGroupId,
    group_key: &'static str,
    /// No `TestSite` has an announcement: the walk's announcement calls
    /// are refused or not found, never allowed.
    announcement: AnnouncementId,
    section: CourseSectionId,
    activity: ActivityId,
    grouping: GroupingId,
    /// The walk's submission: none in a `TestSite`, so its calls are
    /// refused or not found, never allowed.
    submission: SubmissionId,
    /// The course's total: every course has one.
    grade_item: GradeItemId,
}

/// The course total of `course`.
fn course_total(fx: &TestSite, course: CourseId) -> GradeItemId {
    fx.site
        .gradebook_setup(&Principal::system(), course)
        .expect("gradebook")
        .items
        .iter()
        .find(|i| i.item.source == GradeSource::Course)
        .expect("course total")
        .item
        .id
}

impl Ids {
    /// Things that exist in a `TestSite`.
    fn of(fx: &TestSite) -> Self {
        Self {
            user: fx.learners[0],
            username: "learner1",
            segment: fx.hr,
            segment_idnumber: "hr",
            course: fx.course,
            shortname: "COMP101",
            method: fx.manual,
            group: fx.team_a,
            group_key: "Team A",
            announcement: AnnouncementId(1),
            section: fx.section,
            activity: fx.page,
            grouping: fx.grouping,
            submission: SubmissionId(1),
            grade_item: course_total(fx, fx.course),
        }
    }

    /// Things no `TestSite` has: a refusal must not depend on whether the
    /// named thing exists, or it tells a stranger what exists.
    fn unknown() -> Self {
        Self {
            user: UserId(999),
            username: "nobody",
            segment: SegmentId(999),
            segment_idnumber: "nope",
            course: CourseId(999),
            shortname: "NOPE1",
            method: EnrolmentMethodId(999),
            group: CourseGroupId(999),
            group_key: "Nope",
            announcement: AnnouncementId(999),
            section: CourseSectionId(999),
            activity: ActivityId(999),
            grouping: GroupingId(999),
            submission: SubmissionId(999),
            grade_item: GradeItemId(999),
        }
    }
}

type Call = fn(&SiteServices, &Principal, &Ids) -> ServiceResult<()>;

/// The mass enrolment the walk asks for: the walked segment into the
/// walked course, into a new group.
fn walked_mass_enrolment(ids: &Ids) -> MassEnrolmentRequest {
    MassEnrolmentRequest {
        course: ids.course,
        role: Role::Learner,
        group: MassGroupChoice::New("Walked".into()),
    }
}

/// One valid call of every public `SiteServices` function that acts for a
/// principal. Add a line here when you add a service function.
fn site_walk() -> Vec<(&'static str, Call)> {
    use crate::services::bulk::{ImportKind, ImportOptions};
    // A file a site admin may import (a dry run, or a segment).
    const CSV: &[u8] = b"name,idnumber\nWalked,walked\n";
    vec![
        // bulk/mod.rs
        ("import_csv", |s, who, _| {
            s.import_csv(who, ImportKind::Segments, CSV, false)
                .map(drop)
        }),
        ("import_csv_with", |s, who, _| {
            s.import_csv_with(
                who,
                ImportKind::Segments,
                CSV,
                true,
                &ImportOptions::default(),
            )
            .map(drop)
        }),
        // bulk/staged.rs
        ("import_limit", |s, who, _| s.import_limit(who).map(drop)),
        ("import_template", |s, who, _| {
            s.import_template(who, ImportKind::Users).map(drop)
        }),
        ("stage_import", |s, who, _| {
            s.stage_import(who, ImportKind::Segments, "walk.csv", CSV.to_vec())
                .map(drop)
        }),
        // Refused before the id is looked up, so any id does.
        ("staged_import", |s, who, _| {
            s.staged_import(who, "0").map(drop)
        }),
        ("staged_import_status", |s, who, _| {
            s.staged_import_status(who, "0").map(drop)
        }),
        ("apply_staged_import", |s, who, _| {
            s.apply_staged_import(who, "0").map(drop)
        }),
        // mail/
        ("mail_queue", |s, who, _| {
            s.mail_queue(who, None, None, 10).map(drop)
        }),
        // Refused before the failure is looked up, so any one does.
        ("retry_mail_failure", |s, who, ids| {
            s.retry_mail_failure(who, crate::domain::AnnouncementId(1), ids.user)
        }),
        ("retry_all_mail_failures", |s, who, _| {
            s.retry_all_mail_failures(who).map(drop)
        }),
        ("smtp_overview", |s, who, _| s.smtp_overview(who).map(drop)),
        ("save_smtp_settings", |s, who, _| {
            let input = crate::services::mail::SmtpSettingsInput {
                host: "smtp.example.org".into(),
                port: 587,
                security: Some(crate::domain::SmtpSecurity::StartTls),
                from_address: "lms@example.org".into(),
                ..Default::default()
            };
            s.save_smtp_settings(who, input).map(drop)
        }),
        ("remove_smtp_settings", |s, who, _| {
            s.remove_smtp_settings(who).map(drop)
        }),
        ("message_preferences", |s, who, ids| {
            s.message_preferences(who, ids.user).map(drop)
        }),
        // The defaults again: allowed, it writes nothing.
        ("set_message_preferences", |s, who, ids| {
            s.set_message_preferences(who, ids.user, Default::default())
                .map(drop)
        }),
        // mod.rs
        ("audit_log", |s, who, _| {
            s.audit_log(who, &AuditFilter::default(), None, 10)
                .map(drop)
        }),
        ("audit_log_by_name", |s, who, _| {
            s.audit_log_by_name(who, &AuditFilter::default(), Some("system"), None, 10)
                .map(drop)
        }),
        ("events_after", |s, who, _| {
            s.events_after(who, 0, 10).map(drop)
        }),
        // dashboard.rs
        ("dashboard", |s, who, _| s.dashboard(who).map(drop)),
        // the enrolment-method pages
        ("course_methods", |s, who, ids| {
            s.course_methods(who, ids.course).map(drop)
        }),
        ("method_overview", |s, who, ids| {
            s.method_overview(who, ids.method).map(drop)
        }),
        ("new_method_form", |s, who, ids| {
            s.new_method_form(who, ids.course, "manual").map(drop)
        }),
        ("method_form", |s, who, ids| {
            s.method_form(who, ids.method).map(drop)
        }),
        // users.rs
        ("create_user", |s, who, _| {
            let new = NewUser {
                username: "walker".into(),
                email: "walker@example.org".into(),
                firstname: "Walk".into(),
                lastname: "Er".into(),
                ..Default::default()
            };
            s.create_user(who, new).map(drop)
        }),
        ("create_users", |s, who, _| {
            let new = NewUser {
                username: "walker2".into(),
                email: "walker2@example.org".into(),
                firstname: "Walk".into(),
                lastname: "Er".into(),
                ..Default::default()
            };
            s.create_users(who, vec![new]).map(drop)
        }),
        ("update_user", |s, who, ids| {
            let update = UserUpdate {
                firstname: Some("Changed".into()),
                site_admin: Some(true),
                ..Default::default()
            };
            s.update_user(who, ids.user, update).map(drop)
        }),
        ("set_user_password", |s, who, ids| {
            s.set_user_password(who, ids.user, "a long enough password")
        }),
        ("suspend_user", |s, who, ids| {
            s.suspend_user(who, ids.user).map(drop)
        }),
        ("reactivate_user", |s, who, ids| {
            s.reactivate_user(who, ids.user).map(drop)
        }),
        ("delete_user", |s, who, ids| s.delete_user(who, ids.user)),
        ("get_user", |s, who, ids| {
            s.get_user(who, ids.user).map(drop)
        }),
        ("user_by_username", |s, who, ids| {
            s.user_by_username(who, ids.username).map(drop)
        }),
        ("list_users", |s, who, _| {
            s.list_users(who, None, None, 10).map(drop)
        }),
        ("create_user_with", |s, who, _| {
            let new = NewUser {
                username: "walker3".into(),
                email: "walker3@example.org".into(),
                firstname: "Walk".into(),
                lastname: "Er".into(),
                ..Default::default()
            };
            s.create_user_with(who, new, ProfileCheck::Complete)
                .map(drop)
        }),
        ("update_user_with", |s, who, ids| {
            let update = UserUpdate {
                lastname: Some("Changed".into()),
                ..Default::default()
            };
            s.update_user_with(who, ids.user, update, ProfileCheck::Complete)
                .map(drop)
        }),
        // profile_fields.rs
        ("list_profile_fields", |s, who, _| {
            s.list_profile_fields(who).map(drop)
        }),
        ("get_profile_field", |s, who, _| {
            s.get_profile_field(who, ProfileFieldId(1)).map(drop)
        }),
        ("create_profile_field", |s, who, _| {
            let new = NewProfileField {
                shortname: "walked".into(),
                name: "Walked".into(),
                kind: ProfileFieldKind::Checkbox,
                required: false,
                visible_to_user: true,
                locked: false,
                position: None,
            };
            s.create_profile_field(who, new).map(drop)
        }),
        ("update_profile_field", |s, who, _| {
            let update = ProfileFieldUpdate {
                name: Some("Division".into()),
                ..Default::default()
            };
            s.update_profile_field(who, ProfileFieldId(1), update)
                .map(drop)
        }),
        ("update_own_profile", |s, who, ids| {
            s.update_own_profile(who, ids.user, Default::default())
                .map(drop)
        }),
        ("delete_profile_field", |s, who, _| {
            s.delete_profile_field(who, ProfileFieldId(1)).map(drop)
        }),
        // segments.rs
        ("create_segment", |s, who, _| {
            let new = NewSegment {
                name: "Walk".into(),
                ..Default::default()
            };
            s.create_segment(who, new).map(drop)
        }),
        ("update_segment", |s, who, ids| {
            let update = SegmentUpdate {
                name: Some("Changed".into()),
                ..Default::default()
            };
            s.update_segment(who, ids.segment, update).map(drop)
        }),
        ("delete_segment", |s, who, ids| {
            s.delete_segment(who, ids.segment)
        }),
        ("add_segment_members", |s, who, ids| {
            s.add_segment_members(who, ids.segment, &[UserId(7)])
                .map(drop)
        }),
        ("remove_segment_members", |s, who, ids| {
            s.remove_segment_members(who, ids.segment, &[ids.user])
                .map(drop)
        }),
        ("get_segment", |s, who, ids| {
            s.get_segment(who, ids.segment).map(drop)
        }),
        ("segment_by_idnumber", |s, who, ids| {
            s.segment_by_idnumber(who, ids.segment_idnumber).map(drop)
        }),
        ("list_segments", |s, who, _| {
            s.list_segments(who, None, 0, 10).map(drop)
        }),
        ("segment_members", |s, who, ids| {
            s.segment_members(who, ids.segment, None, 10).map(drop)
        }),
        ("user_segments", |s, who, ids| {
            s.user_segments(who, ids.user).map(drop)
        }),
        ("find_segment_members", |s, who, ids| {
            s.find_segment_members(who, ids.segment, Some("a"), None, 10)
                .map(drop)
        }),
        ("segment_candidates", |s, who, ids| {
            s.segment_candidates(who, ids.segment, Some("a"), None, 10)
                .map(drop)
        }),
        ("segment_members_among", |s, who, ids| {
            s.segment_members_among(who, ids.segment, &[ids.user])
                .map(drop)
        }),
        ("segment_usage", |s, who, ids| {
            s.segment_usage(who, ids.segment).map(drop)
        }),
        // segment_rules/mod.rs
        ("segment_rule", |s, who, ids| {
            s.segment_rule(who, ids.segment).map(drop)
        }),
        ("rule_plugins", |s, who, _| s.rule_plugins(who).map(drop)),
        ("set_segment_rule", |s, who, ids| {
            s.set_segment_rule(
                who,
                ids.segment,
                "profile-field-rules",
                &serde_json::json!({"rule": "profile.department equals HR"}),
            )
            .map(drop)
        }),
        ("run_segment_rule", |s, who, ids| {
            s.run_segment_rule(who, ids.segment, true).map(drop)
        }),
        ("set_segment_rule_enabled", |s, who, ids| {
            s.set_segment_rule_enabled(who, ids.segment, true).map(drop)
        }),
        ("remove_segment_rule", |s, who, ids| {
            s.remove_segment_rule(who, ids.segment)
        }),
        // courses.rs
        ("create_course", |s, who, _| {
            let new = NewCourse {
                shortname: "WALK1".into(),
                fullname: "Walk".into(),
                group_mode: GroupMode::None,
                force_group_mode: false,
            };
            s.create_course(who, new).map(drop)
        }),
        ("update_course", |s, who, ids| {
            let update = CourseUpdate {
                fullname: Some("Changed".into()),
                ..Default::default()
            };
            s.update_course(who, ids.course, update).map(drop)
        }),
        ("delete_course", |s, who, ids| {
            s.delete_course(who, ids.course)
        }),
        ("get_course", |s, who, ids| {
            s.get_course(who, ids.course).map(drop)
        }),
        ("course_by_shortname", |s, who, ids| {
            s.course_by_shortname(who, ids.shortname).map(drop)
        }),
        ("list_courses", |s, who, _| {
            s.list_courses(who, None, 0, 10).map(drop)
        }),
        ("course_overview", |s, who, ids| {
            s.course_overview(who, ids.course).map(drop)
        }),
        // content/ (changes that keep the walked section, page and
        // grouping, so later calls still find them)
        ("course_content", |s, who, ids| {
            s.course_content(who, ids.course).map(drop)
        }),
        ("get_section", |s, who, ids| {
            s.get_section(who, ids.section).map(drop)
        }),
        ("create_section", |s, who, ids| {
            let draft = SectionDraft {
                name: "Walked".into(),
                ..Default::default()
            };
            s.create_section(who, ids.course, &draft).map(drop)
        }),
        ("update_section", |s, who, ids| {
            let update = SectionUpdate {
                summary: Some("Walked.".into()),
                ..Default::default()
            };
            s.update_section(who, ids.section, &update).map(drop)
        }),
        ("move_section", |s, who, ids| {
            s.move_section(who, ids.section, 0).map(drop)
        }),
        ("create_page", |s, who, ids| {
            let draft = ActivityDraft {
                name: "Walked".into(),
                visible: true,
                ..Default::default()
            };
            s.create_page(who, ids.section, &draft).map(drop)
        }),
        ("activity_page", |s, who, ids| {
            s.activity_page(who, ids.activity).map(drop)
        }),
        ("update_activity", |s, who, ids| {
            let update = ActivityUpdate {
                description: Some("Walked.".into()),
                ..Default::default()
            };
            s.update_activity(who, ids.activity, &update).map(drop)
        }),
        ("set_activity_visible", |s, who, ids| {
            s.set_activity_visible(who, ids.activity, true).map(drop)
        }),
        ("move_activity", |s, who, ids| {
            s.move_activity(who, ids.activity, ids.section, 0).map(drop)
        }),
        ("new_activity_form", |s, who, ids| {
            s.new_activity_form(who, ids.section).map(drop)
        }),
        ("edit_activity_form", |s, who, ids| {
            s.edit_activity_form(who, ids.activity).map(drop)
        }),
        // groupings.rs
        ("list_groupings", |s, who, ids| {
            s.list_groupings(who, ids.course).map(drop)
        }),
        ("grouping_choices", |s, who, ids| {
            s.grouping_choices(who, ids.course).map(drop)
        }),
        ("get_grouping", |s, who, ids| {
            s.get_grouping(who, ids.grouping).map(drop)
        }),
        ("grouping_form", |s, who, ids| {
            s.grouping_form(who, ids.grouping).map(drop)
        }),
        ("create_grouping", |s, who, ids| {
            s.create_grouping(who, ids.course, "Walked", "", &[])
                .map(drop)
        }),
        ("update_grouping", |s, who, ids| {
            let update = GroupingUpdate {
                description: Some("Walked.".into()),
                ..Default::default()
            };
            s.update_grouping(who, ids.grouping, &update).map(drop)
        }),
        // privacy.rs
        ("site_privacy", |s, who, _| s.site_privacy(who).map(drop)),
        ("set_site_privacy", |s, who, _| {
            s.set_site_privacy(who, &SitePrivacy::default()).map(drop)
        }),
        // Last of the content: what deletes the walked page, section and
        // grouping.
        ("delete_activity", |s, who, ids| {
            s.delete_activity(who, ids.activity).map(drop)
        }),
        ("delete_grouping", |s, who, ids| {
            s.delete_grouping(who, ids.grouping).map(drop)
        }),
        ("delete_section", |s, who, ids| {
            s.delete_section(who, ids.section).map(drop)
        }),
        // enrolments/
        ("add_method", |s, who, ids| {
            let new = NewMethod {
                plugin: "self".into(),
                name: String::new(),
                config: serde_json::json!({}),
                enabled: true,
            };
            s.add_method(who, ids.course, new).map(drop)
        }),
        ("add_method_and_run", |s, who, ids| {
            let new = NewMethod {
                plugin: "self".into(),
                name: String::new(),
                config: serde_json::json!({}),
                enabled: true,
            };
            s.add_method_and_run(who, ids.course, new).map(drop)
        }),
        ("update_method", |s, who, ids| {
            let update = MethodUpdate {
                name: Some("Changed".into()),
                ..Default::default()
            };
            s.update_method(who, ids.method, update).map(drop)
        }),
        ("set_method_status", |s, who, ids| {
            s.set_method_status(who, ids.method, EnrolmentMethodStatus::Disabled)
                .map(drop)
        }),
        ("delete_method", |s, who, ids| {
            s.delete_method(who, ids.method)
        }),
        ("dismiss_method_warning", |s, who, ids| {
            s.dismiss_method_warning(who, ids.method).map(drop)
        }),
        ("list_methods", |s, who, ids| {
            s.list_methods(who, ids.course).map(drop)
        }),
        ("get_method", |s, who, ids| {
            s.get_method(who, ids.method).map(drop)
        }),
        ("enrol", |s, who, ids| {
            s.enrol(who, ids.method, UserId(7), Role::Learner).map(drop)
        }),
        ("enrol_users", |s, who, ids| {
            s.enrol_users(who, ids.method, &[UserId(7)], Role::Learner)
                .map(drop)
        }),
        ("update_enrolment", |s, who, ids| {
            let update = EnrolmentUpdate {
                status: Some(EnrolmentStatus::Suspended),
                role: Some(None),
            };
            s.update_enrolment(who, ids.method, ids.user, update)
                .map(drop)
        }),
        ("set_enrolment_status", |s, who, ids| {
            s.set_enrolment_status(who, ids.method, ids.user, EnrolmentStatus::Suspended, true)
                .map(drop)
        }),
        ("set_enrolment_role", |s, who, ids| {
            s.set_enrolment_role(who, ids.method, ids.user, Some(Role::Teacher))
                .map(drop)
        }),
        ("unenrol", |s, who, ids| {
            s.unenrol(who, ids.method, ids.user)
        }),
        ("participants", |s, who, ids| {
            s.participants(who, ids.course, None, 10).map(drop)
        }),
        ("course_participants", |s, who, ids| {
            s.course_participants(who, ids.course, Some("test"), None, 10)
                .map(drop)
        }),
        ("user_enrolments", |s, who, ids| {
            s.user_enrolments(who, ids.user).map(drop)
        }),
        // groups/
        ("create_group", |s, who, ids| {
            let new = NewGroup {
                name: "Walk group".into(),
                ..Default::default()
            };
            s.create_group(who, ids.course, new).map(drop)
        }),
        ("update_group", |s, who, ids| {
            let update = GroupUpdate {
                name: Some("Changed".into()),
                ..Default::default()
            };
            s.update_group(who, ids.group, update).map(drop)
        }),
        ("delete_group", |s, who, ids| {
            s.delete_group(who, ids.group).map(drop)
        }),
        ("get_group", |s, who, ids| {
            s.get_group(who, ids.group).map(drop)
        }),
        ("list_groups", |s, who, ids| {
            s.list_groups(who, ids.course).map(drop)
        }),
        ("search_groups", |s, who, ids| {
            s.search_groups(who, ids.course, Some("team"), 0, 10)
                .map(drop)
        }),
        ("add_group_members", |s, who, ids| {
            s.add_group_members(who, ids.group, &[ids.user]).map(drop)
        }),
        ("remove_group_members", |s, who, ids| {
            s.remove_group_members(who, ids.group, &[ids.user])
                .map(drop)
        }),
        ("group_members", |s, who, ids| {
            s.group_members(who, ids.group, None, 10).map(drop)
        }),
        ("find_group", |s, who, ids| {
            s.find_group(who, ids.course, ids.group_key).map(drop)
        }),
        ("course_groups", |s, who, ids| {
            s.course_groups(who, ids.course, Some("team"), 0, 10)
                .map(drop)
        }),
        ("group_overview", |s, who, ids| {
            s.group_overview(who, ids.group, &Default::default(), None, 10)
                .map(drop)
        }),
        ("group_deletion", |s, who, ids| {
            s.group_deletion(who, ids.group).map(drop)
        }),
        ("group_candidates", |s, who, ids| {
            s.group_candidates(who, ids.group, None, None, 10).map(drop)
        }),
        // mass_enrolments.rs (refused before anything is looked up; for
        // whoever may, a new group gives the fixture's HR something to do)
        ("preview_mass_enrolment", |s, who, ids| {
            s.preview_mass_enrolment(who, ids.segment, &walked_mass_enrolment(ids))
                .map(drop)
        }),
        ("apply_mass_enrolment", |s, who, ids| {
            s.apply_mass_enrolment(who, ids.segment, &walked_mass_enrolment(ids))
                .map(drop)
        }),
        ("undo_mass_enrolment", |s, who, _| {
            s.undo_mass_enrolment(who, MassEnrolmentId(1)).map(drop)
        }),
        ("mass_enrolment", |s, who, _| {
            s.mass_enrolment(who, MassEnrolmentId(1)).map(drop)
        }),
        ("mass_enrolment_users", |s, who, _| {
            s.mass_enrolment_users(who, MassEnrolmentId(1)).map(drop)
        }),
        ("course_mass_enrolments", |s, who, ids| {
            s.course_mass_enrolments(who, ids.course).map(drop)
        }),
        ("mass_enrolment_choices", |s, who, ids| {
            s.mass_enrolment_choices(who, ids.segment).map(drop)
        }),
        ("segment_mass_enrolments", |s, who, ids| {
            s.segment_mass_enrolments(who, ids.segment).map(drop)
        }),
        // plugins/
        ("site_plugins", |s, who, _| s.site_plugins(who).map(drop)),
        // announcements/ (a preview and a create to the course: refused
        // for everyone the walks check; the inbox is each user's own)
        ("site_audiences", |s, who, _| {
            s.site_audiences(who).map(drop)
        }),
        ("announcement_reach", |s, who, ids| {
            s.announcement_reach(who, ids.course).map(drop)
        }),
        ("preview_announcement", |s, who, ids| {
            s.preview_announcement(who, &walk_draft(ids)).map(drop)
        }),
        ("create_announcement", |s, who, ids| {
            s.create_announcement(who, walk_draft(ids)).map(drop)
        }),
        ("update_announcement", |s, who, ids| {
            s.update_announcement(who, ids.announcement, walk_draft(ids))
                .map(drop)
        }),
        ("withdraw_announcement", |s, who, ids| {
            s.withdraw_announcement(who, ids.announcement).map(drop)
        }),
        ("announcement", |s, who, ids| {
            s.announcement(who, ids.announcement).map(drop)
        }),
        ("site_announcements", |s, who, _| {
            s.site_announcements(who, None, 10).map(drop)
        }),
        ("course_announcements", |s, who, ids| {
            s.course_announcements(who, ids.course, None, 10).map(drop)
        }),
        ("inbox", |s, who, _| s.inbox(who, None, 10).map(drop)),
        ("unread_count", |s, who, _| s.unread_count(who).map(drop)),
        ("open_inbox_message", |s, who, ids| {
            s.open_inbox_message(who, ids.announcement).map(drop)
        }),
        ("set_inbox_read", |s, who, ids| {
            s.set_inbox_read(who, ids.announcement, true)
        }),
        ("mark_inbox_read", |s, who, _| {
            s.mark_inbox_read(who).map(drop)
        }),
        // assignments/
        ("create_assignment", |s, who, ids| {
            s.create_assignment(who, ids.section, walk_activity(), Default::default())
                .map(drop)
        }),
        ("new_assignment_form", |s, who, ids| {
            s.new_assignment_form(who, ids.section).map(drop)
        }),
        ("edit_assignment_form", |s, who, ids| {
            s.edit_assignment_form(who, ids.activity).map(drop)
        }),
        ("update_assignment", |s, who, ids| {
            s.update_assignment(who, ids.activity, walk_activity(), Default::default())
                .map(drop)
        }),
        ("assignment", |s, who, ids| {
            s.assignment(who, ids.activity, None).map(drop)
        }),
        ("assignment_submissions", |s, who, ids| {
            s.assignment_submissions(who, ids.activity, None).map(drop)
        }),
        ("assignment_grades", |s, who, ids| {
            s.assignment_grades(who, ids.activity).map(drop)
        }),
        // gradebook/
        ("gradebook_setup", |s, who, ids| {
            s.gradebook_setup(who, ids.course).map(drop)
        }),
        ("create_grade_item", |s, who, ids| {
            let draft = crate::services::gradebook::GradeItemDraft {
                name: "Walked".into(),
                ..Default::default()
            };
            s.create_grade_item(who, ids.course, draft).map(drop)
        }),
        ("get_grade_item", |s, who, ids| {
            s.get_grade_item(who, ids.grade_item).map(drop)
        }),
        ("update_grade_item", |s, who, ids| {
            s.update_grade_item(who, ids.grade_item, Default::default())
                .map(drop)
        }),
        ("delete_grade_item", |s, who, ids| {
            s.delete_grade_item(who, ids.grade_item).map(drop)
        }),
        ("grader_report", |s, who, ids| {
            s.grader_report(who, ids.course, &Default::default())
                .map(drop)
        }),
        ("user_report", |s, who, ids| {
            s.user_report(who, ids.course).map(drop)
        }),
        ("set_grades", |s, who, ids| {
            s.set_grades(who, ids.course, &[]).map(drop)
        }),
        ("group_statistics", |s, who, ids| {
            s.group_statistics(who, ids.course).map(drop)
        }),
        ("export_gradebook", |s, who, ids| {
            let kind = crate::services::gradebook::export::ExportKind::GradesCsv;
            s.export_gradebook(who, ids.course, None, kind).map(drop)
        }),
        ("import_grades", |s, who, ids| {
            s.import_grades(who, ids.course, b"username\n", false)
                .map(drop)
        }),
        // gradebook/pages_support.rs
        ("grades_page", |s, who, ids| {
            s.grades_page(who, ids.course, &Default::default())
                .map(drop)
        }),
        ("grade_item_setup", |s, who, ids| {
            s.grade_item_setup(who, ids.grade_item).map(drop)
        }),
        ("grade_import_template", |s, who, ids| {
            s.grade_import_template(who, ids.course).map(drop)
        }),
        ("save_submission", |s, who, ids| {
            s.save_submission(who, ids.activity, Default::default())
                .map(drop)
        }),
        ("submission", |s, who, ids| {
            s.submission(who, ids.submission).map(drop)
        }),
        ("submission_file", |s, who, ids| {
            s.submission_file(who, ids.submission, &[0; 32]).map(drop)
        }),
        ("grade_submission", |s, who, ids| {
            s.grade_submission(who, ids.submission, Default::default())
                .map(drop)
        }),
        // plugin_settings.rs
        ("plugin_settings", |s, who, _| {
            s.plugin_settings(who, "manual").map(drop)
        }),
        ("set_plugin_settings", |s, who, _| {
            s.set_plugin_settings(who, "manual", Default::default())
                .map(drop)
        }),
        // execution/ (dry runs: a walk that is allowed writes nothing)
        ("method_request", |s, who, ids| {
            let request = MethodRequest::EnrolUsers {
                users: vec![ids.user],
                role: None,
                group: None,
            };
            s.method_request(who, ids.method, request, true).map(drop)
        }),
        ("self_enrol", |s, who, ids| {
            s.self_enrol(who, ids.course, None, None, true).map(drop)
        }),
        ("reconcile_method", |s, who, ids| {
            s.reconcile_method(who, ids.method, true).map(drop)
        }),
        ("method_status", |s, who, ids| {
            s.method_status(who, ids.method).map(drop)
        }),
        ("reconcile_site", |s, who, ids| {
            s.reconcile_site(who, Some(ids.course), true).map(drop)
        }),
        ("preview_method", |s, who, ids| {
            let new = NewMethod {
                plugin: "manual".into(),
                name: String::new(),
                config: serde_json::json!({}),
                enabled: true,
            };
            s.preview_method(who, ids.course, new).map(drop)
        }),
        // discussions/ (no `TestSite` has a forum: every call names one
        // that does not exist, so a site member hears "not found"; see
        // `NAMED_FORUM_THINGS`)
        ("create_forum", |s, who, _| {
            s.create_forum(who, CourseSectionId(999), &walk_forum())
                .map(drop)
        }),
        ("update_forum", |s, who, _| {
            s.update_forum(who, ActivityId(1), &walk_forum()).map(drop)
        }),
        ("forum", |s, who, _| {
            s.forum(who, ActivityId(1), None, None, 10).map(drop)
        }),
        ("start_discussion", |s, who, ids| {
            let new = crate::services::discussions::NewDiscussion {
                group: Some(ids.group),
                subject: "Walked".into(),
                body: "A walk.".into(),
            };
            s.start_discussion(who, ActivityId(1), new).map(drop)
        }),
        ("discussion", |s, who, _| {
            s.discussion(who, DiscussionId(1)).map(drop)
        }),
        ("post", |s, who, _| s.post(who, PostId(1)).map(drop)),
        ("reply", |s, who, _| {
            s.reply(who, PostId(1), "A walk.").map(drop)
        }),
        ("edit_post", |s, who, _| {
            s.edit_post(who, PostId(1), "A walk.", None).map(drop)
        }),
        ("delete_post", |s, who, _| {
            s.delete_post(who, PostId(1)).map(drop)
        }),
        ("set_subscription", |s, who, _| {
            s.set_subscription(who, SubscriptionTarget::Forum(ActivityId(1)), true)
                .map(drop)
        }),
        ("discussion_edit_window", |s, who, _| {
            s.discussion_edit_window(who).map(drop)
        }),
        // 0 minutes is refused after the caller: an allowed walk writes
        // nothing.
        ("set_discussion_edit_window", |s, who, _| {
            s.set_discussion_edit_window(who, 0).map(drop)
        }),
    ]
}

/// The forum the walk creates or edits.
fn walk_forum() -> crate::services::discussions::ActivityDraft {
    crate::services::discussions::ActivityDraft {
        name: "Walked".into(),
        visible: true,
        ..Default::default()
    }
}

/// The common fields of an activity the walk adds or edits.
fn walk_activity() -> crate::services::content::ActivityDraft {
    crate::services::content::ActivityDraft {
        name: "Walked".into(),
        visible: true,
        ..Default::default()
    }
}

/// Calls that name the walk's forum, discussion or post (or the section
/// a forum is added to), which no `TestSite` has: once the caller is
/// known to be of the site, not found. (Activity #1 is the fixture's
/// page: it names no forum.)
const NAMED_FORUM_THINGS: &[(&str, &str)] = &[
    ("create_forum", "course section #999 not found"),
    ("update_forum", "forum #1 not found"),
    ("forum", "forum #1 not found"),
    ("start_discussion", "forum #1 not found"),
    ("set_subscription", "forum #1 not found"),
    ("discussion", "discussion #1 not found"),
    ("post", "post #1 not found"),
    ("reply", "post #1 not found"),
    ("edit_post", "post #1 not found"),
    ("delete_post", "post #1 not found"),
];

/// The not-found outcome of `name` if it names a forum thing.
fn named_forum_thing(name: &str) -> Option<(&'static str, String)> {
    NAMED_FORUM_THINGS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, m)| says("NotFound", m))
}

/// An announcement to the walked course, written the moment the walk
/// runs (a schedule in the past would be a field error, not a refusal).
fn walk_draft(ids: &Ids) -> crate::services::announcements::AnnouncementDraft {
    crate::services::announcements::AnnouncementDraft {
        audience: Audience::Course(ids.course),
        subject: "Walked".into(),
        body: "A walk.".into(),
        send_at: None,
    }
}

/// Public `SiteServices` functions that take no principal, and why that is
/// safe.
const SITE_PUBLIC_BY_DESIGN: &[(&str, &str)] = &[
    (
        "reconcile_segment_rules",
        "the host's own reconcile job (every enabled rule of the site); returns a count only",
    ),
    (
        "secret_config_keys",
        "the names of the config fields a plugin's manifest marks secret, never a value: \
         what the HTTP layer masks before it shows a method",
    ),
    (
        "flush",
        "makes earlier commits durable; changes no data and returns nothing",
    ),
    (
        "dispatch_pending",
        "the host's own event delivery (the dispatcher task); returns counts only",
    ),
    (
        "send_due_announcements",
        "the host's scheduler: sends what authorised users scheduled, at their time",
    ),
    (
        "skip_pending_events",
        "tests and benchmarks only (cfg(test) / feature `bench`)",
    ),
    (
        "bench_native_reconcile",
        "benchmarks only (feature `bench`), never in a served binary",
    ),
    (
        "bench_reconcile_page",
        "benchmarks only (feature `bench`), never in a served binary",
    ),
    (
        "site",
        "the handle's own site record, which its caller already named",
    ),
    (
        "home_overview",
        "the public home page, shown to anonymous visitors",
    ),
    (
        "verify_user_password",
        "the login check, which runs before there is a principal",
    ),
    (
        "plugin",
        "the host's own lookup of the component an enrolment method runs; callers authorise the method",
    ),
    (
        "runtime",
        "the sandbox; it runs only components that plugin() or an operator's install hands out",
    ),
    (
        "import_max_bytes",
        "the host's upload limit, the same for every caller",
    ),
    (
        "mail_configured",
        "whether the site sends e-mail at all, which every author's announcement page says",
    ),
    (
        "fixture_sent_announcement",
        "tests and benchmarks only (cfg(test) / feature `bench`)",
    ),
];

/// Calls every function of the walk on `site` as `who`; returns, for each,
/// its name and refusal (or "allowed").
fn walk(site: &SiteServices, who: &Principal, ids: &Ids) -> Outcomes {
    site_walk()
        .into_iter()
        .map(|(name, call)| {
            let outcome = match call(site, who, ids) {
                Ok(()) => ("allowed", String::new()),
                Err(e) => refusal(&e),
            };
            (name, outcome)
        })
        .collect()
}

/// The same refusal for every function of the walk.
fn all_refused(message: &str) -> Outcomes {
    site_walk()
        .into_iter()
        .map(|(name, _)| (name, says("Forbidden", message)))
        .collect()
}

type Outcomes = Vec<(&'static str, (&'static str, String))>;

/// `outcomes` with `name`'s outcome replaced.
fn except(mut outcomes: Outcomes, name: &str, outcome: (&'static str, String)) -> Outcomes {
    let entry = outcomes
        .iter_mut()
        .find(|(n, _)| *n == name)
        .expect("a walked function");
    entry.1 = outcome;
    outcomes
}

const OPERATOR_ONLY: &str = "not allowed: only an operator may do this";

/// What any participant of a course may read of it: the course, its
/// groups and its people. One list, so every role's walk states the same
/// rule.
const COURSE_PARTICIPANT_READS: &[&str] = &[
    "user_report",
    "grades_page",
    "get_course",
    "course_by_shortname",
    "course_overview",
    "participants",
    "course_participants",
    "course_content",
    "get_section",
    "activity_page",
    "list_groups",
    "search_groups",
    "get_group",
    "group_members",
    "find_group",
];

/// What only the course's staff (its editing teachers, and site admins)
/// may do: change the course, its instances, enrolments and groups, and
/// open the pages they do that from.
const COURSE_STAFF_ONLY: &[&str] = &[
    "update_course",
    "add_method",
    "add_method_and_run",
    "update_method",
    "set_method_status",
    "delete_method",
    "dismiss_method_warning",
    "list_methods",
    "get_method",
    "enrol",
    "enrol_users",
    "update_enrolment",
    "set_enrolment_status",
    "set_enrolment_role",
    "unenrol",
    "create_group",
    "update_group",
    "delete_group",
    "add_group_members",
    "remove_group_members",
    "course_groups",
    "group_overview",
    "group_deletion",
    "group_candidates",
    "method_request",
    "reconcile_method",
    "reconcile_site",
    "preview_method",
    "method_status",
    "course_methods",
    "method_overview",
    "new_method_form",
    "method_form",
];

/// Changes to a course's content and groupings, and the forms they are
/// made from: its editing teachers and site admins.
const CONTENT_EDITS: &[&str] = &[
    "create_section",
    "update_section",
    "move_section",
    "delete_section",
    "create_page",
    "create_assignment",
    "new_assignment_form",
    "update_activity",
    "set_activity_visible",
    "move_activity",
    "delete_activity",
    "new_activity_form",
    "edit_activity_form",
    "create_grouping",
    "update_grouping",
    "delete_grouping",
    "create_grade_item",
];

/// What any teacher of a course does and no learner: its groupings (they
/// restrict what learners see, which is not a learner's to know), and its
/// gradebook — reports, statistics, exports, grades entered or imported.
const STAFF_READS: &[&str] = &[
    "list_groupings",
    "grouping_choices",
    "get_grouping",
    "grouping_form",
    "gradebook_setup",
    "grader_report",
    "group_statistics",
    "export_gradebook",
    "set_grades",
    "import_grades",
    "grade_import_template",
    "grade_item_setup",
];

/// A site user's own inbox: always theirs, so always allowed (the walk's
/// user has none of the walk's announcement: opening it is not found).
const OWN_INBOX: &[&str] = &["inbox", "unread_count", "mark_inbox_read"];

/// Calls that name the walk's announcement, which no `TestSite` has: once
/// the caller is known to be of the site, not found.
const NAMED_ANNOUNCEMENT: &[&str] = &[
    "update_announcement",
    "withdraw_announcement",
    "announcement",
];

/// Calls that name the walk's activity as an assignment, or the course
/// total as a grade item (not seen by learners: not found).
const ASSIGNMENT_CALLS: &[&str] = &[
    "get_grade_item",
    "update_grade_item",
    "delete_grade_item",
    "edit_assignment_form",
    "update_assignment",
    "assignment",
    "assignment_submissions",
    "assignment_grades",
    "save_submission",
];

/// Calls that name an assignment or a submission: the walk's activity is
/// a page, not an assignment, and no `TestSite` has a submission, so once
/// the caller is known to be a participant, not found (a learner learns
/// nothing of what exists), with the thing they named.
fn named_teaching(name: &str) -> Option<(&'static str, String)> {
    let what = match name {
        "get_grade_item" | "update_grade_item" | "delete_grade_item" => "grade item #1",
        _ if ASSIGNMENT_CALLS.contains(&name) => "assignment #1",
        "submission" | "submission_file" | "grade_submission" => "submission #1",
        _ => return None,
    };
    Some(says("NotFound", &format!("{what} not found")))
}

/// The same, in the caller's own inbox.
const NAMED_MESSAGE: &[&str] = &["open_inbox_message", "set_inbox_read"];

/// A site user's own record, which they may read and whose password and
/// message preferences they may set.
const OWN_RECORD: &[&str] = &[
    "get_user",
    "list_profile_fields",
    "update_own_profile",
    "user_by_username",
    "user_segments",
    "user_enrolments",
    "set_user_password",
    "message_preferences",
    "set_message_preferences",
];

/// Asserts the site is as in `before` but for the rows setting one's own
/// password writes (the user, its audit entry, the change counter).
#[track_caller]
fn assert_only_a_password_changed(fx: &TestSite, before: &TableDump) {
    let mut after = fx.snapshot();
    let mut expected_after = before.clone();
    for dump in [&mut after, &mut expected_after] {
        dump.retain(|(t, _)| !["users-v1", "audit-v2", "meta-v1"].contains(&t.as_str()));
    }
    assert_eq!(after, expected_after);
}

/// Asserts a walk went as expected; on failure lists only the functions
/// whose outcome differs.
#[track_caller]
fn assert_walk(actual: &Outcomes, expected: &Outcomes, who: &dyn std::fmt::Debug) {
    if actual == expected {
        return;
    }
    let mut report = String::new();
    for ((name, got), (_, want)) in actual.iter().zip(expected) {
        if got != want {
            report.push_str(&format!("  {name}: got {got:?}, want {want:?}\n"));
        }
    }
    panic!("walk as {who:?} differs:\n{report}");
}

/// The names of `pub fn`s in top-level `impl {type_name} {` blocks of the
/// services source, every folder but the tests'. rustfmt puts such a
/// block's closing brace alone at the start of a line and its functions at
/// four spaces.
fn public_fns_of(type_name: &str) -> Vec<String> {
    let mut names = Vec::new();
    let files = super::tidy::service_sources();
    let opening = format!("impl {type_name} {{");
    for file in files {
        let source = std::fs::read_to_string(&file).expect("source file");
        let mut inside = false;
        for line in source.lines() {
            if line == opening {
                inside = true;
            } else if inside && line.starts_with('}') {
                inside = false;
            } else if inside && let Some(rest) = line.strip_prefix("    pub fn ") {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                names.push(name);
            }
        }
    }
    names.sort();
    names
}

#[test]
fn every_public_site_service_is_walked_or_public_by_design() {
    let mut listed: Vec<String> = site_walk()
        .iter()
        .map(|(name, _)| name.to_string())
        .chain(
            SITE_PUBLIC_BY_DESIGN
                .iter()
                .map(|(name, _)| name.to_string()),
        )
        .collect();
    listed.sort();
    let in_source = public_fns_of("SiteServices");
    assert_eq!(
        listed, in_source,
        "the walk in services/tests/authz.rs must list every public SiteServices function"
    );
    // Guards the source scan itself: finding (almost) nothing would make the
    // comparison above vacuous.
    assert!(in_source.len() >= 50, "found only {in_source:?}");
}

#[test]
fn a_site_admin_of_one_site_is_forbidden_everything_on_another() {
    let (a, b) = TestSite::two_sites();
    let before = (a.snapshot(), b.snapshot());
    let message = r#"not allowed: you act for another site and cannot touch site "globex""#;
    let strangers = [
        a.admin.clone(),
        a.teacher.clone(),
        a.learner(0),
        a.as_method(a.manual),
    ];
    for who in &strangers {
        assert_walk(
            &walk(&b.site, who, &Ids::of(&b)),
            &all_refused(message),
            who,
        );
    }
    a.assert_unchanged(&before.0);
    b.assert_unchanged(&before.1);
}

#[test]
fn a_stranger_learns_nothing_from_ids_that_do_not_exist_on_another_site() {
    let (a, b) = TestSite::two_sites();
    let before = b.snapshot();
    let message = r#"not allowed: you act for another site and cannot touch site "globex""#;
    for who in [a.admin.clone(), a.as_method(a.manual)] {
        assert_walk(
            &walk(&b.site, &who, &Ids::unknown()),
            &all_refused(message),
            &who,
        );
    }
    b.assert_unchanged(&before);
}

#[test]
fn a_suspended_site_admin_is_refused_everything() {
    let fx = TestSite::new();
    fx.site.suspend_user(&fx.operator, fx.admin_id).unwrap();
    let before = fx.snapshot();
    let expected = except(
        all_refused("not allowed: your account is suspended"),
        "events_after",
        says("Forbidden", OPERATOR_ONLY),
    );
    assert_walk(
        &walk(&fx.site, &fx.admin, &Ids::of(&fx)),
        &expected,
        &fx.admin,
    );
    assert_walk(
        &walk(&fx.site, &fx.admin, &Ids::unknown()),
        &expected,
        &fx.admin,
    );
    fx.assert_unchanged(&before);
}

#[test]
fn a_deleted_user_is_refused_everything() {
    let fx = TestSite::new();
    let former = fx.user("former");
    fx.site
        .update_user(
            &fx.admin,
            former,
            UserUpdate {
                site_admin: Some(true),
                ..Default::default()
            },
        )
        .unwrap();
    fx.site.delete_user(&fx.admin, former).unwrap();
    let before = fx.snapshot();
    let expected = except(
        all_refused("not allowed: your account no longer exists"),
        "events_after",
        says("Forbidden", OPERATOR_ONLY),
    );
    let who = fx.as_user(former);
    assert_walk(&walk(&fx.site, &who, &Ids::of(&fx)), &expected, &who);
    fx.assert_unchanged(&before);
}

#[test]
fn a_suspended_site_refuses_its_users_but_not_operators() {
    let fx = TestSite::new();
    fx.services.suspend_site(&fx.operator, "acme").unwrap();
    // Handles are per request; a fresh one sees the new status.
    let site = fx.services.site(fx.id()).unwrap();
    let before = fx.snapshot();
    let message = r#"not allowed: site "acme" is suspended"#;
    for who in [fx.admin.clone(), fx.learner(0), fx.as_method(fx.manual)] {
        assert_walk(
            &walk(&site, &who, &Ids::of(&fx)),
            &all_refused(message),
            &who,
        );
    }
    fx.assert_unchanged(&before);
    let operator = Principal::operator(OperatorId(1));
    assert!(site.list_users(&operator, None, None, 10).is_ok());
    assert!(site.suspend_user(&operator, fx.learners[0]).is_ok());

    fx.services.resume_site(&fx.operator, "acme").unwrap();
    let site = fx.services.site(fx.id()).unwrap();
    assert!(site.list_users(&fx.admin, None, None, 10).is_ok());
}

#[test]
fn learners_cannot_do_what_site_admins_or_teachers_do() {
    let fx = TestSite::new();
    let before = fx.snapshot();
    let admin_only = "not allowed: this needs the site admin role";
    let teacher_only = "not allowed: you do not teach course #1";
    let outcomes = walk(&fx.site, &fx.learner(0), &Ids::of(&fx));
    let expected: Outcomes = site_walk()
        .into_iter()
        .map(|(name, _)| {
            let outcome = match name {
                // learner1 is in no group of the separate-groups course.
                "get_group" | "group_members" => says("NotFound", "course group #1 not found"),
                "find_group" => says("NotFound", "group \"Team A\" in course #1 not found"),
                _ if CONTENT_EDITS.contains(&name) => says(
                    "Forbidden",
                    "not allowed: only the editing teachers of course \"COMP101\" and site admins change its content",
                ),
                _ if STAFF_READS.contains(&name) => says(
                    "Forbidden",
                    "not allowed: only the teachers of course \"COMP101\" and site admins may do this",
                ),
                // A learner sees their course, its content, its groups and
                // its people, their own record, and everyone's dashboard:
                // their own courses.
                _ if COURSE_PARTICIPANT_READS.contains(&name)
                    || OWN_RECORD.contains(&name)
                    || OWN_INBOX.contains(&name)
                    || ["list_courses", "dashboard"].contains(&name) =>
                {
                    ("allowed", String::new())
                }
                "events_after" => says("Forbidden", OPERATOR_ONLY),
                _ if COURSE_STAFF_ONLY.contains(&name) => says("Forbidden", teacher_only),
                _ if NAMED_ANNOUNCEMENT.contains(&name) => {
                    says("NotFound", "announcement #1 not found")
                }
                _ if NAMED_MESSAGE.contains(&name) => {
                    says("NotFound", "message #1 in your inbox not found")
                }
                _ if named_teaching(name).is_some() => named_teaching(name).unwrap_or_default(),
                "announcement_reach" | "course_announcements" => says(
                    "Forbidden",
                    "not allowed: only the teachers of course #1 and site admins announce to it",
                ),
                "preview_announcement" | "create_announcement" => says(
                    "Forbidden",
                    "not allowed: only site admins and teachers write announcements",
                ),
                // Any user may look for a self enrolment; this course has none.
                "self_enrol" => says("NotFound", "self enrolment in course #1 not found"),
                _ if named_forum_thing(name).is_some() => {
                    named_forum_thing(name).expect("a forum call")
                }
                _ => says("Forbidden", admin_only),
            };
            (name, outcome)
        })
        .collect();
    assert_walk(&outcomes, &expected, &fx.learner(0));
    // Only the learner's own password changed.
    assert_only_a_password_changed(&fx, &before);
}

#[test]
fn a_learner_cannot_see_another_users_record() {
    let fx = TestSite::new();
    let me = fx.learner(0);
    let other = fx.learners[1];
    let message = says("Forbidden", "not allowed: this needs the site admin role");
    assert_eq!(refusal(&fx.site.get_user(&me, other).unwrap_err()), message);
    assert_eq!(
        refusal(&fx.site.user_enrolments(&me, other).unwrap_err()),
        message
    );
    assert_eq!(
        refusal(&fx.site.user_segments(&me, other).unwrap_err()),
        message
    );
    assert_eq!(
        refusal(
            &fx.site
                .set_user_password(&me, other, "a long enough password")
                .unwrap_err()
        ),
        message
    );
}

#[test]
fn a_teacher_manages_their_own_course_but_not_another_nor_the_site() {
    let fx = TestSite::new();
    let (history, history_manual) = fx.other_course("HIST1");
    let history_group = fx.add_group(history, "Evening");
    let (section, activity, grouping) = fx.content_in(history, &[history_group]);

    // Another course, and the site: refused, nothing written.
    let before = fx.snapshot();
    let other = Ids {
        grade_item: course_total(&fx, history),
        course: history,
        shortname: "HIST1",
        method: history_manual,
        group: history_group,
        group_key: "Evening",
        section,
        activity,
        grouping,
        ..Ids::of(&fx)
    };
    let not_mine = says("Forbidden", "not allowed: you do not teach course #2");
    let site_level = says("Forbidden", "not allowed: this needs the site admin role");
    let expected: Outcomes = site_walk()
        .into_iter()
        .map(|(name, _)| {
            let outcome = match name {
                // Their own record and inbox, and the list of their own
                // courses.
                _ if OWN_RECORD.contains(&name)
                    || OWN_INBOX.contains(&name)
                    || ["list_courses", "dashboard"].contains(&name) =>
                {
                    ("allowed", String::new())
                }
                "events_after" => says("Forbidden", OPERATOR_ONLY),
                _ if COURSE_PARTICIPANT_READS.contains(&name)
                    || CONTENT_EDITS.contains(&name)
                    || STAFF_READS.contains(&name)
                    || ASSIGNMENT_CALLS.contains(&name)
                    || [
                        "announcement_reach",
                        "course_announcements",
                        "preview_announcement",
                        "create_announcement",
                    ]
                    .contains(&name) =>
                {
                    says(
                        "Forbidden",
                        "not allowed: you are not a participant of course #2",
                    )
                }
                _ if NAMED_ANNOUNCEMENT.contains(&name) => {
                    says("NotFound", "announcement #1 not found")
                }
                _ if NAMED_MESSAGE.contains(&name) => {
                    says("NotFound", "message #1 in your inbox not found")
                }
                _ if named_teaching(name).is_some() => named_teaching(name).unwrap_or_default(),
                _ if COURSE_STAFF_ONLY.contains(&name) => not_mine.clone(),
                "self_enrol" => says("NotFound", "self enrolment in course #2 not found"),
                _ if named_forum_thing(name).is_some() => {
                    named_forum_thing(name).expect("a forum call")
                }
                _ => site_level.clone(),
            };
            (name, outcome)
        })
        .collect();
    let teacher_as_learner1 = Ids {
        user: fx.teacher_id,
        username: "teacher",
        ..other
    };
    assert_walk(
        &walk(&fx.site, &fx.teacher, &teacher_as_learner1),
        &expected,
        &fx.teacher,
    );
    // Only the teacher's own password changed.
    assert_only_a_password_changed(&fx, &before);

    // Their own course: they run it.
    let t = &fx.teacher;
    let s = &fx.site;
    let newcomer = fx.learners[4];
    s.update_course(
        t,
        fx.course,
        CourseUpdate {
            fullname: Some("Compliance 101 (2025)".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let self_enrol = s
        .add_method(
            t,
            fx.course,
            NewMethod {
                plugin: "self".into(),
                name: "Self enrolment".into(),
                config: serde_json::json!({"role": "learner"}),
                enabled: true,
            },
        )
        .unwrap()
        .id;
    s.set_method_status(t, self_enrol, EnrolmentMethodStatus::Disabled)
        .unwrap();
    s.delete_method(t, self_enrol).unwrap();
    s.enrol(t, fx.manual, newcomer, Role::Learner).unwrap();
    s.set_enrolment_role(t, fx.manual, newcomer, Some(Role::NonEditingTeacher))
        .unwrap();
    let group = s
        .create_group(
            t,
            fx.course,
            NewGroup {
                name: "Team C".into(),
                ..Default::default()
            },
        )
        .unwrap()
        .id;
    s.add_group_members(t, group, &[newcomer, fx.learners[0]])
        .unwrap();
    s.remove_group_members(t, group, &[fx.learners[0]]).unwrap();
    assert_eq!(s.group_members(t, group, None, 10).unwrap().items.len(), 1);
    s.unenrol(t, fx.manual, newcomer).unwrap();
    assert_eq!(s.group_members(t, group, None, 10).unwrap().items.len(), 0);
    s.delete_group(t, group).unwrap();
    assert_eq!(s.list_groups(t, fx.course).unwrap().len(), 2);
}

#[test]
fn a_non_editing_teacher_sees_the_course_but_does_not_manage_it() {
    let fx = TestSite::new();
    fx.site
        .enrol(
            &fx.admin,
            fx.manual,
            fx.learners[4],
            Role::NonEditingTeacher,
        )
        .unwrap();
    let assistant = fx.learner(4);
    assert!(
        fx.site
            .participants(&assistant, fx.course, None, 10)
            .is_ok()
    );
    let create = fx.site.create_group(
        &assistant,
        fx.course,
        NewGroup {
            name: "Mine".into(),
            ..Default::default()
        },
    );
    assert_eq!(
        refusal(&create.unwrap_err()),
        says("Forbidden", "not allowed: you do not teach course #1")
    );
}

#[test]
fn an_enrolment_method_acts_on_its_own_course_only() {
    let fx = TestSite::new();
    let (history, _) = fx.other_course("HIST1");
    let method = fx.as_method(fx.manual);
    let before = fx.snapshot();
    let outside = says(
        "Forbidden",
        "not allowed: enrolment method #1 may only act on its own course #1",
    );
    assert_eq!(
        refusal(&fx.site.list_groups(&method, history).unwrap_err()),
        outside
    );
    assert_eq!(
        refusal(&fx.site.list_users(&method, None, None, 10).unwrap_err()),
        outside
    );
    assert_eq!(
        refusal(
            &fx.site
                .add_segment_members(&method, fx.hr, &[fx.learners[4]])
                .unwrap_err()
        ),
        outside
    );
    fx.assert_unchanged(&before);
}

#[test]
fn an_enrolment_method_cannot_change_its_course_or_other_methods() {
    // A plugin returns plans of enrolments and group memberships (PRODUCT
    // §3); course settings and methods are for people.
    let fx = TestSite::new();
    let sync = fx.add_method("noop");
    let before = fx.snapshot();
    let as_sync = fx.as_method(sync);
    let outcomes = walk(&fx.site, &as_sync, &Ids::of(&fx));
    let outcome = |name: &str| outcomes.iter().find(|(n, _)| *n == name).unwrap().1.clone();
    let refused = says(
        "Forbidden",
        "not allowed: an enrolment method cannot change the course, its enrolment methods or its groups",
    );
    for name in [
        "update_course",
        "add_method",
        "add_method_and_run",
        "update_method",
        "set_method_status",
        "delete_method",
        "dismiss_method_warning",
        "update_group",
        "delete_group",
    ] {
        assert_eq!(outcome(name), refused, "{name}");
    }
    let mut after = fx.snapshot();
    // What it may do (here: create a group) is its business; what it may
    // not do must leave the methods and the course untouched.
    let mut expected = before.clone();
    for dump in [&mut after, &mut expected] {
        dump.retain(|(t, _)| {
            ["courses-v1", "enrolment-methods-v1", "course-methods-v1"].contains(&t.as_str())
        });
    }
    assert_eq!(after, expected);
}

type HostCall = fn(&crate::services::Services, &Principal) -> ServiceResult<()>;

/// One call of every operator service that takes a principal.
fn operator_walk() -> Vec<(&'static str, HostCall)> {
    vec![
        ("create_operator", |s, who| {
            s.create_operator(who, "walker", "a long enough password", false)
                .map(drop)
        }),
        ("create_site", |s, who| {
            let new = NewSite {
                slug: "walk".into(),
                name: "Walk".into(),
                hostnames: vec![],
                brand_colour: None,
            };
            s.create_site(who, new).map(drop)
        }),
        ("find_site", |s, who| s.find_site(who, "acme").map(drop)),
        ("host_status", |s, who| s.host_status(who).map(drop)),
        ("list_sites", |s, who| s.list_sites(who).map(drop)),
        ("mail_figures", |s, who| s.mail_figures(who).map(drop)),
        ("site_summaries", |s, who| s.site_summaries(who).map(drop)),
        ("site_summaries_page", |s, who| {
            s.site_summaries_page(who, None, None, 10).map(drop)
        }),
        ("site_details", |s, who| {
            s.site_details(who, "acme").map(drop)
        }),
        ("plugins_overview", |s, who| {
            s.plugins_overview(who).map(drop)
        }),
        ("suspend_site", |s, who| {
            s.suspend_site(who, "acme").map(drop)
        }),
        ("resume_site", |s, who| s.resume_site(who, "acme").map(drop)),
        ("delete_site", |s, who| s.delete_site(who, "acme").map(drop)),
        // plugins/
        ("install_plugin", |s, who| {
            let bytes = crate::services::testing::test_plugin("charon-test-capped-v1");
            s.install_plugin(who, &bytes).map(drop)
        }),
        ("list_plugins", |s, who| s.list_plugins(who).map(drop)),
        ("get_plugin", |s, who| s.get_plugin(who, "noop").map(drop)),
        ("plugin_call_stats", |s, who| {
            s.plugin_call_stats(who, "noop").map(drop)
        }),
        ("enable_plugin", |s, who| {
            s.enable_plugin(who, "acme", "noop", None).map(drop)
        }),
        ("disable_plugin", |s, who| {
            s.disable_plugin(who, "acme", "noop", true).map(drop)
        }),
        ("upgrade_plugin", |s, who| {
            s.upgrade_plugin(who, "acme", "noop", "1.0.0").map(drop)
        }),
        ("uninstall_plugin", |s, who| {
            s.uninstall_plugin(who, "noop", "1.0.0", true).map(drop)
        }),
        ("reconcile_site_by_key", |s, who| {
            s.reconcile_site_by_key(who, "acme", None, true).map(drop)
        }),
        // bulk/mod.rs
        ("import_csv_by_key", |s, who| {
            let file = b"name\nWalked\n";
            let options = crate::services::bulk::ImportOptions::default();
            s.import_csv_by_key(
                who,
                "acme",
                crate::services::bulk::ImportKind::Segments,
                file,
                true,
                &options,
            )
            .map(drop)
        }),
    ]
}

/// What an operator function says to anyone else.
fn operators_only(name: &str) -> &'static str {
    if name.contains("plugin") {
        "not allowed: only an operator may manage plugins"
    } else {
        "not allowed: only an operator may manage sites"
    }
}

/// Public `Services` functions that take no principal, and why.
const HOST_PUBLIC_BY_DESIGN: &[(&str, &str)] = &[
    (
        "open",
        "opens the data dir; the process that calls it owns the host",
    ),
    (
        "open_with",
        "open, with the plugin runtime's limits; the process that calls it owns the host",
    ),
    ("data_dir", "the path the caller opened"),
    ("events", "the in-process bus, for the host's own consumers"),
    ("site", "a handle only; every call on it is authorised"),
    (
        "site_by_slug",
        "a handle only; every call on it is authorised",
    ),
    (
        "site_for_host",
        "a handle only; every call on it is authorised",
    ),
    ("close_idle_sites", "housekeeping of the host process"),
    ("open_site_count", "a metric of the host process"),
    (
        "runtime",
        "the sandbox; it runs only components that an install or a site's plugin() hands out",
    ),
    (
        "install_bundled_plugins",
        "start-up of the host process (first_run), before any principal",
    ),
    (
        "first_run",
        "set-up on an empty data dir by the host process, before any principal",
    ),
    (
        "verify_operator",
        "the operator login check, before there is a principal",
    ),
    (
        "sign_in_site_user",
        "the page sign-in, before there is a principal; services::sessions via http::pages tests",
    ),
    (
        "sign_in_operator",
        "the operator page sign-in, before there is a principal",
    ),
    (
        "session",
        "turns a session secret into its principal, as authenticate_token does for tokens",
    ),
    (
        "sign_out",
        "ends the session of the secret its holder presents",
    ),
    ("set_session_policy", "configuration of the host process"),
    (
        "set_import_max_bytes",
        "configuration of the host process (serve --import-max-mib)",
    ),
    (
        "set_reconcile_durable_every",
        "configuration of the host process (serve --reconcile-durable-ms)",
    ),
    (
        "import_max_bytes",
        "a setting of the host process, the same for every caller",
    ),
    (
        "authenticate_token",
        "the API bearer check, before there is a principal",
    ),
    (
        "console_operator",
        "the console's identity: whoever holds the data dir is the operator at the console",
    ),
    (
        "create_token",
        "authorised per requested scope (site admin of that site, or that operator); services::tokens tests",
    ),
    (
        "list_tokens",
        "authorised per site (site admin) or operator; services::tokens tests",
    ),
    (
        "revoke_token",
        "authorised per the token's scope; services::tokens tests",
    ),
    (
        "create_site_token",
        "site admin of that site, then create_token; services::tokens tests",
    ),
    (
        "revoke_site_token",
        "site admin of that site, then revoke_token; services::tokens tests",
    ),
    (
        "create_operator_token",
        "acts as the calling operator, so operators only; services::tokens tests",
    ),
    (
        "revoke_token_as_operator",
        "operators only, then revoke_token; services::tokens tests",
    ),
    (
        "create_token_for",
        "find_site (operators only), then create_site_token or create_operator_token; services::tokens tests",
    ),
    (
        "list_tokens_by_key",
        "find_site (operators only), then list_tokens; services::tokens tests",
    ),
    (
        "send_due_announcements",
        "the host's scheduler job: sends what authorised users scheduled, at their time",
    ),
];

#[test]
fn every_public_host_service_is_walked_or_public_by_design() {
    let mut listed: Vec<String> = operator_walk()
        .iter()
        .map(|(name, _)| name.to_string())
        .chain(
            HOST_PUBLIC_BY_DESIGN
                .iter()
                .map(|(name, _)| name.to_string()),
        )
        .collect();
    listed.sort();
    assert_eq!(listed, public_fns_of("Services"));
}

#[test]
fn only_operators_may_run_the_host() {
    let fx = TestSite::new();
    let sites_before = fx.services.list_sites(&fx.operator).unwrap();
    let plugins_before = fx.services.list_plugins(&fx.operator).unwrap();
    let before = fx.snapshot();
    for who in [
        fx.admin.clone(),
        fx.teacher.clone(),
        fx.learner(0),
        fx.as_method(fx.manual),
    ] {
        let outcomes: Vec<_> = operator_walk()
            .into_iter()
            .map(|(name, call)| (name, call(&fx.services, &who).map_err(|e| refusal(&e))))
            .collect();
        let expected: Vec<_> = operator_walk()
            .into_iter()
            .map(|(name, _)| (name, Err(says("Forbidden", operators_only(name)))))
            .collect();
        assert_eq!(outcomes, expected, "{who:?}");
    }
    assert_eq!(fx.services.list_sites(&fx.operator).unwrap(), sites_before);
    assert_eq!(
        fx.services.list_plugins(&fx.operator).unwrap(),
        plugins_before
    );
    fx.assert_unchanged(&before);
}

/// A caller without the right to a change is refused before their input
/// is looked at: bad input from a learner gets "not allowed", not a field
/// error that would tell them what the form wants (and cost an argon2 hash
/// for a password).
#[test]
fn a_caller_without_the_right_is_refused_whatever_they_typed() {
    let fx = TestSite::new();
    let learner = fx.learner(0);
    let before = fx.snapshot();
    let forbidden = |r: (&'static str, String)| assert_eq!(r.0, "Forbidden", "{r:?}");
    forbidden(refusal(
        &fx.site
            .create_course(
                &learner,
                NewCourse {
                    shortname: " ".into(),
                    fullname: String::new(),
                    group_mode: GroupMode::None,
                    force_group_mode: false,
                },
            )
            .unwrap_err(),
    ));
    forbidden(refusal(
        &fx.site
            .update_course(
                &learner,
                fx.course,
                CourseUpdate {
                    shortname: Some(String::new()),
                    ..Default::default()
                },
            )
            .unwrap_err(),
    ));
    forbidden(refusal(
        &fx.site
            .create_user(
                &learner,
                NewUser {
                    username: "Not A Username!".into(),
                    email: "nowhere".into(),
                    password: Some("x".into()),
                    ..Default::default()
                },
            )
            .unwrap_err(),
    ));
    forbidden(refusal(
        &fx.site
            .update_user(
                &learner,
                fx.learners[1],
                UserUpdate {
                    email: Some("nowhere".into()),
                    ..Default::default()
                },
            )
            .unwrap_err(),
    ));
    // The same input from a site admin is a field error.
    let invalid = refusal(
        &fx.site
            .update_user(
                &fx.admin,
                fx.learners[1],
                UserUpdate {
                    email: Some("nowhere".into()),
                    ..Default::default()
                },
            )
            .unwrap_err(),
    );
    assert_eq!(invalid.0, "Invalid", "{invalid:?}");
    fx.assert_unchanged(&before);
}

/// Finding 8 of issue 16: a caller who may not make a call hears that,
/// whatever they sent. Checking the input first would answer a learner
/// with the rules of a form they may not use ("name: required").
#[test]
fn a_caller_who_may_not_write_is_refused_before_the_input_is_checked() {
    let fx = TestSite::new();
    let ids = Ids::of(&fx);
    let calls: Vec<(&str, Call)> = vec![
        ("create_course", |s, who, _| {
            s.create_course(
                who,
                NewCourse {
                    shortname: String::new(),
                    fullname: String::new(),
                    group_mode: GroupMode::None,
                    force_group_mode: false,
                },
            )
            .map(drop)
        }),
        ("update_course", |s, who, ids| {
            let update = CourseUpdate {
                shortname: Some(String::new()),
                ..CourseUpdate::default()
            };
            s.update_course(who, ids.course, update).map(drop)
        }),
        ("create_segment", |s, who, _| {
            let new = NewSegment {
                name: String::new(),
                idnumber: None,
                description: String::new(),
                visible: true,
                managed_by: None,
            };
            s.create_segment(who, new).map(drop)
        }),
        ("update_segment", |s, who, ids| {
            let update = SegmentUpdate {
                name: Some(String::new()),
                ..SegmentUpdate::default()
            };
            s.update_segment(who, ids.segment, update).map(drop)
        }),
        ("create_group", |s, who, ids| {
            let new = NewGroup {
                name: String::new(),
                idnumber: None,
                description: String::new(),
            };
            s.create_group(who, ids.course, new).map(drop)
        }),
        ("update_group", |s, who, ids| {
            let update = GroupUpdate {
                name: Some(String::new()),
                ..GroupUpdate::default()
            };
            s.update_group(who, ids.group, update).map(drop)
        }),
        ("add_method", |s, who, ids| {
            let new = NewMethod {
                plugin: String::new(),
                name: "y".repeat(10_000),
                config: serde_json::json!("not an object"),
                enabled: true,
            };
            s.add_method(who, ids.course, new).map(drop)
        }),
        ("add_method_and_run", |s, who, ids| {
            let new = NewMethod {
                plugin: String::new(),
                name: "y".repeat(10_000),
                config: serde_json::json!("not an object"),
                enabled: true,
            };
            s.add_method_and_run(who, ids.course, new).map(drop)
        }),
        ("preview_method", |s, who, ids| {
            let new = NewMethod {
                plugin: String::new(),
                name: String::new(),
                config: serde_json::json!("not an object"),
                enabled: true,
            };
            s.preview_method(who, ids.course, new).map(drop)
        }),
        ("update_method", |s, who, ids| {
            let update = MethodUpdate {
                name: Some(String::new()),
                config: Some(serde_json::json!("not an object")),
            };
            s.update_method(who, ids.method, update).map(drop)
        }),
        ("create_user", |s, who, _| {
            let new = NewUser {
                username: String::new(),
                ..NewUser::default()
            };
            s.create_user(who, new).map(drop)
        }),
        ("update_user", |s, who, ids| {
            let update = UserUpdate {
                username: Some(String::new()),
                ..UserUpdate::default()
            };
            s.update_user(who, ids.user, update).map(drop)
        }),
        ("create_profile_field", |s, who, _| {
            let new = NewProfileField {
                shortname: "Not a short name!".into(),
                name: String::new(),
                kind: ProfileFieldKind::Menu { choices: vec![] },
                required: false,
                visible_to_user: true,
                locked: false,
                position: None,
            };
            s.create_profile_field(who, new).map(drop)
        }),
        ("update_profile_field", |s, who, _| {
            let update = ProfileFieldUpdate {
                name: Some(String::new()),
                ..Default::default()
            };
            s.update_profile_field(who, ProfileFieldId(1), update)
                .map(drop)
        }),
    ];
    let other = fx.another_site("globex");
    for (who, name) in [
        (fx.learner(0), "a learner"),
        (other.admin.clone(), "another site's admin"),
    ] {
        for (call, f) in &calls {
            let refused = f(&fx.site, &who, &ids).expect_err(call);
            assert_eq!(
                refusal(&refused).0,
                "Forbidden",
                "{call} by {name}: {refused}"
            );
        }
    }
}
