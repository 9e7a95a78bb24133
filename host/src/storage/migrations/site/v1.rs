//! Site schema version 1, frozen: the tables the first release created,
//! with the layouts it wrote. Later migrations read from these
//! definitions; nothing here may change.

use redb::{TableDefinition, WriteTransaction};

use crate::storage::Result;

type Bytes = &'static [u8];

/// `name → u64`: `schema_version` and the id counters `next.{kind}`.
pub(super) const META: TableDefinition<&str, u64> = TableDefinition::new("meta-v1");
/// `UserId → User`.
pub(super) const USERS: TableDefinition<u64, Bytes> = TableDefinition::new("users-v1");
/// `lower-case username → UserId`.
const USERS_BY_USERNAME: TableDefinition<&str, u64> = TableDefinition::new("users-by-username-v1");
/// `lower-case email → UserId`.
const USERS_BY_EMAIL: TableDefinition<&str, u64> = TableDefinition::new("users-by-email-v1");
/// `SegmentId → Segment`.
const SEGMENTS: TableDefinition<u64, Bytes> = TableDefinition::new("segments-v1");
/// `idnumber → SegmentId`.
const SEGMENTS_BY_IDNUMBER: TableDefinition<&str, u64> =
    TableDefinition::new("segments-by-idnumber-v1");
/// `(SegmentId, UserId) → added_at millis`.
const SEGMENT_MEMBERS: TableDefinition<(u64, u64), i64> =
    TableDefinition::new("segment-members-v1");
/// `(UserId, SegmentId) → ()`.
const USER_SEGMENTS: TableDefinition<(u64, u64), ()> = TableDefinition::new("user-segments-v1");
/// `SegmentId → member count`.
const SEGMENT_MEMBER_COUNTS: TableDefinition<u64, u64> =
    TableDefinition::new("segment-member-counts-v1");
/// `CourseId → Course`.
pub(super) const COURSES: TableDefinition<u64, Bytes> = TableDefinition::new("courses-v1");
/// `lower-case shortname → CourseId`.
const COURSES_BY_SHORTNAME: TableDefinition<&str, u64> =
    TableDefinition::new("courses-by-shortname-v1");
/// `EnrolmentMethodId → EnrolmentMethod`.
const METHODS: TableDefinition<u64, Bytes> = TableDefinition::new("enrolment-methods-v1");
/// `(CourseId, EnrolmentMethodId) → ()`.
const COURSE_METHODS: TableDefinition<(u64, u64), ()> = TableDefinition::new("course-methods-v1");
/// `(CourseId, UserId, EnrolmentMethodId) → Enrolment`.
pub(super) const ENROLMENTS: TableDefinition<(u64, u64, u64), Bytes> =
    TableDefinition::new("enrolments-v1");
/// `(EnrolmentMethodId, UserId) → ()`: a method's enrolments (dropped by
/// version 5).
pub(super) const METHOD_ENROLMENTS: TableDefinition<(u64, u64), ()> =
    TableDefinition::new("method-enrolments-v1");
/// `(UserId, CourseId, EnrolmentMethodId) → ()`: a user's enrolments
/// (dropped by version 5).
pub(super) const USER_ENROLMENTS: TableDefinition<(u64, u64, u64), ()> =
    TableDefinition::new("user-enrolments-v1");
/// `CourseGroupId → CourseGroup`.
const GROUPS: TableDefinition<u64, Bytes> = TableDefinition::new("course-groups-v1");
/// `(CourseId, CourseGroupId) → ()`.
pub(super) const COURSE_GROUPS: TableDefinition<(u64, u64), ()> =
    TableDefinition::new("course-groups-by-course-v1");
/// `(CourseId, lower-case name) → CourseGroupId`.
const GROUP_NAMES: TableDefinition<(u64, &str), u64> =
    TableDefinition::new("course-group-names-v1");
/// `(CourseId, idnumber) → CourseGroupId`.
const GROUP_IDNUMBERS: TableDefinition<(u64, &str), u64> =
    TableDefinition::new("course-group-idnumbers-v1");
/// `(CourseGroupId, UserId) → GroupMembership`.
pub(super) const GROUP_MEMBERS: TableDefinition<(u64, u64), Bytes> =
    TableDefinition::new("course-group-members-v1");
/// `(UserId, CourseGroupId) → ()`: a user's groups (dropped by version 5).
pub(super) const USER_GROUPS: TableDefinition<(u64, u64), ()> =
    TableDefinition::new("user-course-groups-v1");
/// `CourseGroupId → member count`.
const GROUP_MEMBER_COUNTS: TableDefinition<u64, u64> =
    TableDefinition::new("course-group-member-counts-v1");
/// `AuditId → AuditEntry`, one row per entry (chunked by version 4).
pub(super) const AUDIT: TableDefinition<u64, Bytes> = TableDefinition::new("audit-v1");
/// `seq → SiteEvent`, one row per event (chunked by version 4).
pub(super) const EVENTS: TableDefinition<u64, Bytes> = TableDefinition::new("events-v1");

/// Creates every table of version 1, empty.
pub(super) fn create_the_site_schema(tx: &WriteTransaction) -> Result<()> {
    tx.open_table(META)?;
    tx.open_table(USERS)?;
    tx.open_table(USERS_BY_USERNAME)?;
    tx.open_table(USERS_BY_EMAIL)?;
    tx.open_table(SEGMENTS)?;
    tx.open_table(SEGMENTS_BY_IDNUMBER)?;
    tx.open_table(SEGMENT_MEMBERS)?;
    tx.open_table(USER_SEGMENTS)?;
    tx.open_table(SEGMENT_MEMBER_COUNTS)?;
    tx.open_table(COURSES)?;
    tx.open_table(COURSES_BY_SHORTNAME)?;
    tx.open_table(METHODS)?;
    tx.open_table(COURSE_METHODS)?;
    tx.open_table(ENROLMENTS)?;
    tx.open_table(METHOD_ENROLMENTS)?;
    tx.open_table(USER_ENROLMENTS)?;
    tx.open_table(GROUPS)?;
    tx.open_table(COURSE_GROUPS)?;
    tx.open_table(GROUP_NAMES)?;
    tx.open_table(GROUP_IDNUMBERS)?;
    tx.open_table(GROUP_MEMBERS)?;
    tx.open_table(USER_GROUPS)?;
    tx.open_table(GROUP_MEMBER_COUNTS)?;
    tx.open_table(AUDIT)?;
    tx.open_table(EVENTS)?;
    Ok(())
}
