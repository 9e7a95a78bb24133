//! The tables of a site file, each with its key/value layout, and the
//! state a write transaction keeps beside them until `flush`.
//!
//! Keys are big-endian integers or tuples of them, so ranges scan in id
//! order: `(segment, user)` lists one segment's members, `(user, segment)`
//! one user's segments. Values are postcard-encoded domain records unless a
//! line says otherwise (see `FORMAT.md` for what is encoded by hand).
//! Names carry a version suffix so a migration can build a new layout
//! beside the old one; a change to any line here needs a migration.
//!
//! This module declares; it never reads or writes a row.

use std::collections::{BTreeMap, HashMap};

use super::audit_codec::EncodedAudit;
use super::counters::Counter;
use super::user_courses::UserCourseEdit;
use crate::domain::{EventEnvelope, SiteId, Timestamp};

type Bytes = &'static [u8];

crate::storage::tables::tables! {
    /// Table definitions of a site file (the live ones: migrations keep
    /// frozen copies of their own).
    pub mod defs;

    /// Every table of a site, opened once in a write transaction, and what
    /// the transaction has done that `flush` writes at its end.
    pub struct SiteTables<'tx>(site: SiteId) {
        /// Events of this transaction, in order, for publishing after
        /// commit. Those from `events_flushed` on are not in the outbox
        /// table yet: `flush` writes them there in chunks.
        pub(crate) pending: Vec<EventEnvelope> = Vec::new(),
        pub(super) events_flushed: usize = 0,
        /// Audit entries of this transaction not yet in the audit table
        /// (`flush` writes them in chunks).
        pub(super) unflushed_audit: EncodedAudit = EncodedAudit::default(),
        /// Id counters read once and written back by `flush`: a bulk
        /// change must not rewrite `meta` once per row.
        pub(super) counters: [Option<u64>; Counter::ALL] = [None; Counter::ALL],
        /// Member-count changes, applied by `flush`.
        pub(super) segment_count_deltas: HashMap<u64, i64> = HashMap::new(),
        pub(super) group_count_deltas: HashMap<u64, i64> = HashMap::new(),
        /// Changes to `user_courses` rows, applied by `flush`: an
        /// enrolment and a group membership of the same user in one
        /// transaction then write the row once.
        pub(super) user_course_edits: BTreeMap<(u64, u64), UserCourseEdit> = BTreeMap::new(),
        pub(crate) site: SiteId = site,
        /// The transaction's one reading of the clock: every row of one
        /// change carries the same time.
        pub(crate) now: Timestamp = Timestamp::now(),
    }

    /// Every table of a site in one read snapshot, each opened when
    /// first read: a plugin's query reads two or three of the thirty,
    /// and opening all of them was a twentieth of a 100,000-member
    /// sync (its plugin makes three queries per page).
    pub struct SiteReadTables;

    /// Raw table access for the queries of [`super::SiteRead`].
    pub trait SiteTablesRead;

    /// `name → u64`: `schema_version`, the id counters `next.{kind}` and
    /// `changes` (see `counters.rs`).
    meta: META = ("meta-v1", &'static str, u64);
    /// `UserId → User`.
    users: USERS = ("users-v1", u64, Bytes);
    /// `lower-case username → UserId`.
    users_by_username: USERS_BY_USERNAME = ("users-by-username-v1", &'static str, u64);
    /// `lower-case email → UserId`.
    users_by_email: USERS_BY_EMAIL = ("users-by-email-v1", &'static str, u64);
    /// `(lower-case e-mail domain, UserId) → ()`: a domain's users in id
    /// order, for rules and queries on "e-mail ends with @domain".
    users_by_email_domain: USERS_BY_EMAIL_DOMAIN = ("users-by-email-domain-v1", (&'static str, u64), ());
    /// `ProfileFieldId → ProfileField`.
    profile_fields: PROFILE_FIELDS = ("profile-fields-v1", u64, Bytes);
    /// `(field short name, lower-case value, UserId) → ()`: the users with
    /// a value of a profile field, in id order, kept in step by `put_user`.
    profile_values: PROFILE_VALUES = ("profile-values-v1", (&'static str, &'static str, u64), ());
    /// `SegmentId → Segment`.
    segments: SEGMENTS = ("segments-v1", u64, Bytes);
    /// `idnumber → SegmentId` (only segments that have one).
    segments_by_idnumber: SEGMENTS_BY_IDNUMBER = ("segments-by-idnumber-v1", &'static str, u64);
    /// `(SegmentId, UserId) → added_at millis`: the members of a segment.
    segment_members: SEGMENT_MEMBERS = ("segment-members-v1", (u64, u64), i64);
    /// `(UserId, SegmentId) → ()`: reverse index of `segment_members`.
    user_segments: USER_SEGMENTS = ("user-segments-v1", (u64, u64), ());
    /// `SegmentId → SegmentRule`: the rule that manages a segment, if any.
    segment_rules: SEGMENT_RULES = ("segment-rules-v1", u64, Bytes);
    /// `SegmentId → member count`, kept in step so lists need no scan.
    segment_member_counts: SEGMENT_MEMBER_COUNTS = ("segment-member-counts-v1", u64, u64);
    /// `CourseId → Course`.
    courses: COURSES = ("courses-v1", u64, Bytes);
    /// `lower-case shortname → CourseId`.
    courses_by_shortname: COURSES_BY_SHORTNAME = ("courses-by-shortname-v1", &'static str, u64);
    /// `EnrolmentMethodId → EnrolmentMethod`.
    methods: METHODS = ("enrolment-methods-v1", u64, Bytes);
    /// `(CourseId, EnrolmentMethodId) → ()`: the methods of a course.
    course_methods: COURSE_METHODS = ("course-methods-v1", (u64, u64), ());
    /// `(CourseId, UserId, EnrolmentMethodId) → Enrolment`. A method's
    /// enrolments are read from here too, by a scan of its course that
    /// skips other methods' keys: an index by method was a fifth of the
    /// rows a 100,000-member sync writes.
    enrolments: ENROLMENTS = ("enrolments-v1", (u64, u64, u64), Bytes);
    /// `(UserId, CourseId) → [CourseGroupId]` (little-endian u64s,
    /// ascending): the courses a user has at least one enrolment in, each
    /// with the user's groups there. The one reverse index of enrolments
    /// and group memberships both (a group member is always enrolled in
    /// the group's course); written by `flush`, once per transaction.
    user_courses: USER_COURSES = ("user-courses-v1", (u64, u64), Bytes);
    /// `CourseGroupId → CourseGroup`.
    groups: GROUPS = ("course-groups-v1", u64, Bytes);
    /// `(CourseId, CourseGroupId) → ()`: the groups of a course.
    course_groups: COURSE_GROUPS = ("course-groups-by-course-v1", (u64, u64), ());
    /// `(CourseId, lower-case name) → CourseGroupId`.
    group_names: GROUP_NAMES = ("course-group-names-v1", (u64, &'static str), u64);
    /// `(CourseId, idnumber) → CourseGroupId`.
    group_idnumbers: GROUP_IDNUMBERS = ("course-group-idnumbers-v1", (u64, &'static str), u64);
    /// `(CourseGroupId, UserId) → GroupMembership`. No reverse index:
    /// a user's groups are those of their courses (`user_courses`) that
    /// have them as a member.
    group_members: GROUP_MEMBERS = ("course-group-members-v1", (u64, u64), Bytes);
    /// `CourseGroupId → member count`, kept in step so lists need no scan.
    group_member_counts: GROUP_MEMBER_COUNTS = ("course-group-member-counts-v1", u64, u64);
    /// `first AuditId → [AuditEntry]`: the audit log in chunks of at most
    /// `site::CHUNK` (256) entries with consecutive ids from the key on,
    /// one row per chunk rather than per entry (a reconcile page audits
    /// 2,000 changes). A chunk never spans two transactions. The entries
    /// are encoded by hand (`audit_codec.rs`, `FORMAT.md` §2).
    audit: AUDIT = ("audit-v2", u64, Bytes);
    /// `first seq → [SiteEvent]`: the transactional outbox of the event
    /// stream, chunked like `audit`; the event at index `i` of a row has
    /// seq `key + i`.
    events: EVENTS = ("events-v2", u64, Bytes);
    /// `EnrolmentMethodId → MethodRun`: how a method's plugin calls went
    /// (last error and error count). Operational state, not audited.
    method_runs: METHOD_RUNS = ("method-runs-v1", u64, Bytes);
    /// `name → u64`: `cursor`, the last outbox seq the event dispatcher
    /// has delivered to the methods.
    dispatch: DISPATCH = ("dispatch-v1", &'static str, u64);
    /// `(EnrolmentMethodId, key) → CourseGroupId`: the groups a method
    /// created with a plan's `create-group`, by the key it gave them.
    method_groups: METHOD_GROUPS = ("method-groups-v1", (u64, &'static str), u64);
    /// `plugin id → JSON object`: a plugin's site-wide settings, as the
    /// site admin saved them.
    plugin_settings: PLUGIN_SETTINGS = ("plugin-settings-v1", &'static str, &'static str);
    /// `EnrolmentMethodId → MethodWarning`: what a method's course staff
    /// must act on (its group was deleted), until dismissed or acted on.
    /// A row per method that has one; most have none.
    method_warnings: METHOD_WARNINGS = ("method-warnings-v1", u64, Bytes);
    /// `MassEnrolmentId → MassEnrolment`: what a one-off mass enrolment
    /// of a segment asked and did (its figures, whether it was undone),
    /// without its user lists, so a list decodes little.
    mass_enrolments: MASS_ENROLMENTS = ("mass-enrolments-v1", u64, Bytes);
    /// `MassEnrolmentId → MassEnrolmentUsers`: the users it enrolled and
    /// grouped (postcard; a 100,000-member action is one row of ~300 KB,
    /// read only by its page and its undo).
    mass_enrolment_users: MASS_ENROLMENT_USERS = ("mass-enrolment-users-v1", u64, Bytes);
    /// `(CourseId, MassEnrolmentId) → ()`: the mass enrolments into a course.
    course_mass_enrolments: COURSE_MASS_ENROLMENTS = ("course-mass-enrolments-v1", (u64, u64), ());
    /// `(SegmentId, MassEnrolmentId) → ()`: the mass enrolments of a
    /// segment's members (kept when the segment is deleted: the record
    /// still names it).
    segment_mass_enrolments: SEGMENT_MASS_ENROLMENTS = ("segment-mass-enrolments-v1", (u64, u64), ());
    /// `AnnouncementId → Announcement`: each announcement once, whatever
    /// its number of recipients.
    announcements: ANNOUNCEMENTS = ("announcements-v1", u64, Bytes);
    /// `(CourseId, AnnouncementId) → ()`: the announcements to a course or
    /// to groups of it.
    course_announcements: COURSE_ANNOUNCEMENTS = ("course-announcements-v1", (u64, u64), ());
    /// `(send_at millis, AnnouncementId) → ()`: the scheduled
    /// announcements, soonest first; a row leaves when it is sent or
    /// withdrawn.
    scheduled_announcements: SCHEDULED_ANNOUNCEMENTS = ("scheduled-announcements-v1", (i64, u64), ());
    /// `(AnnouncementId, chunk) → [UserId]`: the recipients fixed when it
    /// was sent, ascending, as LEB128 deltas (`FORMAT.md` §3), chunks of
    /// at most 4,096 ids with consecutive numbers from 0.
    announcement_recipients: ANNOUNCEMENT_RECIPIENTS = ("announcement-recipients-v1", (u64, u32), Bytes);
    /// `(UserId, AnnouncementId) → read (0 or 1)`: a user's inbox, one
    /// byte per copy; the body stays in `announcements`.
    inbox: INBOX = ("inbox-v1", (u64, u64), u8);
    /// `UserId → unread count` of `inbox`, kept in step so the header
    /// needs no scan; a row per user with an unread copy.
    inbox_unread: INBOX_UNREAD = ("inbox-unread-v1", u64, u64);
    /// `UserId → MessagePreferences`, only for users who changed the
    /// defaults.
    message_preferences: MESSAGE_PREFERENCES = ("message-preferences-v1", u64, Bytes);
    /// `MailId → MailJob`: the e-mail copies still to send.
    mail_jobs: MAIL_JOBS = ("mail-jobs-v1", u64, Bytes);
    /// `(not_before millis, MailId) → ()`: every job of `mail_jobs` by
    /// when it may next be tried.
    mail_due: MAIL_DUE = ("mail-due-v1", (i64, u64), ());
    /// `(AnnouncementId, UserId) → MailFailure`: copies that were not
    /// delivered, until queued again.
    mail_failures: MAIL_FAILURES = ("mail-failures-v1", (u64, u64), Bytes);
    /// `name → value` (postcard): the site's own settings; `smtp` holds
    /// its `SmtpSettings`.
    settings: SETTINGS = ("settings-v1", &'static str, Bytes);
    /// `CourseSectionId → CourseSection`.
    course_sections: COURSE_SECTIONS = ("course-sections-v1", u64, Bytes);
    /// `CourseId → [CourseSectionId]` (postcard): a course's sections in
    /// page order; the one row a reorder rewrites.
    course_section_order: COURSE_SECTION_ORDER = ("course-section-order-v1", u64, Bytes);
    /// `ActivityId → Activity`.
    activities: ACTIVITIES = ("activities-v1", u64, Bytes);
    /// `CourseSectionId → [ActivityId]` (postcard): a section's activities
    /// in page order.
    section_activity_order: SECTION_ACTIVITY_ORDER = ("section-activity-order-v1", u64, Bytes);
    /// `GroupingId → Grouping`.
    groupings: GROUPINGS = ("groupings-v1", u64, Bytes);
    /// `(CourseId, GroupingId) → ()`: a course's groupings.
    course_groupings: COURSE_GROUPINGS = ("course-groupings-v1", (u64, u64), ());
    /// `(GroupingId, CourseGroupId) → ()`: the groups in a grouping.
    grouping_groups: GROUPING_GROUPS = ("grouping-groups-v1", (u64, u64), ());
    /// `(CourseGroupId, GroupingId) → ()`: the reverse of `grouping_groups`,
    /// so deleting a group finds its groupings without a scan.
    group_groupings: GROUP_GROUPINGS = ("group-groupings-v1", (u64, u64), ());
    /// `DiscussionId → Discussion`.
    discussions: DISCUSSIONS = ("discussions-v1", u64, Bytes);
    /// `(forum ActivityId, CourseGroupId or 0 for all participants,
    /// DiscussionId) → ()`: a forum's discussions by group, so a
    /// separate-groups list reads only its reader's groups' rows (and the
    /// all-participants ones), newest first by a reverse scan.
    forum_discussions: FORUM_DISCUSSIONS = ("forum-discussions-v1", (u64, u64, u64), ());
    /// `(DiscussionId, PostId) → Post`: a discussion's posts in one range
    /// scan, in the order they were written.
    posts: POSTS = ("posts-v1", (u64, u64), Bytes);
    /// `PostId → DiscussionId`: where a post is, for routes that name
    /// only the post.
    post_discussions: POST_DISCUSSIONS = ("post-discussions-v1", u64, u64);
    /// `(forum ActivityId, DiscussionId or 0 for the whole forum, UserId)
    /// → ()`: who subscribed to a forum or to one of its discussions; a
    /// post's subscribers are two range scans.
    forum_subscriptions: FORUM_SUBSCRIPTIONS = ("forum-subscriptions-v1", (u64, u64, u64), ());
    /// `ActivityId → AssignmentSettings`: an assignment activity's own
    /// settings (the activity row holds its name and instructions).
    assignments: ASSIGNMENTS = ("assignments-v1", u64, Bytes);
    /// `SubmissionId → Submission`, with its files' names and digests
    /// (their bytes are in `file_chunks`).
    submissions: SUBMISSIONS = ("submissions-v1", u64, Bytes);
    /// `(ActivityId, owner kind, owner id) → SubmissionId`, kind 0 a user,
    /// 1 a group: an assignment's submissions, and the one of a user or a
    /// group by a point lookup.
    assignment_submissions: ASSIGNMENT_SUBMISSIONS = ("assignment-submissions-v1", (u64, u8, u64), u64);
    /// `SHA-256 → (bytes, references)`: every submitted file's content
    /// once, with how many submission files name it; the row and its
    /// chunks leave with the last reference.
    files: FILES = ("files-v1", [u8; 32], (u64, u64));
    /// `(SHA-256, chunk) → bytes`: a file's content in chunks of
    /// `FILE_CHUNK_BYTES` (1 MiB), numbered from 0.
    file_chunks: FILE_CHUNKS = ("file-chunks-v1", ([u8; 32], u32), Bytes);
    /// `GradeItemId → GradeItem`: a column of a course's gradebook (an
    /// assignment's, a manual item, a category total, the course total).
    grade_items: GRADE_ITEMS = ("grade-items-v2", u64, Bytes);
    /// `(CourseId, GradeItemId) → ()`: the grade items of a course.
    course_grade_items: COURSE_GRADE_ITEMS = ("course-grade-items-v1", (u64, u64), ());
    /// `(GradeItemId, UserId) → GradeEntry`: the grades of an item.
    grade_entries: GRADE_ENTRIES = ("grade-entries-v1", (u64, u64), Bytes);
    /// `(CourseId, UserId) → cells`: a user's grades in a course with
    /// their values, one row per user (`grade_row.rs`, FORMAT.md §9), kept
    /// in step with `grade_entries`; the grader report and the statistics
    /// read these, not the entries.
    course_user_grades: COURSE_USER_GRADES = ("course-user-grades-v3", (u64, u64), Bytes);
}
