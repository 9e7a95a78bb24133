//! The tables of one site's redb file and typed access to them.
//!
//! Keys are big-endian integers or tuples of them, so ranges scan in id
//! order: `(segment, user)` lists one segment's members, `(user, segment)`
//! one user's segments. Values are postcard-encoded domain records. Every
//! relation that is read from both ends has a reverse-index table that the
//! write functions here keep in step; callers never touch the index tables.
//!
//! Reads go through the [`SiteRead`] trait, implemented by both the
//! write-transaction tables and the read-snapshot tables, so one query is
//! written once and serves reads inside writes too.

use redb::{
    ReadOnlyTable, ReadTransaction, ReadableTable, ReadableTableMetadata, Table, TableDefinition,
    WriteTransaction,
};

use super::{Result, decode, encode};
use crate::domain::*;

type Bytes = &'static [u8];

macro_rules! site_tables {
    ($(
        $(#[$doc:meta])*
        $field:ident: $def:ident = ($name:literal, $K:ty, $V:ty);
    )*) => {
        /// Table definitions of a site file. Names carry a version suffix so a
        /// migration can build a new layout beside the old one.
        pub mod defs {
            use super::*;
            $(
                $(#[$doc])*
                pub const $def: TableDefinition<'static, $K, $V> = TableDefinition::new($name);
            )*
        }

        /// Every table of a site, opened once in a write transaction.
        pub struct SiteTables<'tx> {
            $(pub(crate) $field: Table<'tx, $K, $V>,)*
            /// Events of this transaction, in order, for publishing after
            /// commit. Those from `events_flushed` on are not in the outbox
            /// table yet: `flush` writes them there in chunks.
            pub(crate) pending: Vec<EventEnvelope>,
            events_flushed: usize,
            /// Audit entries of this transaction not yet in the audit table
            /// (`flush` writes them in chunks).
            unflushed_audit: EncodedAudit,
            /// Id counters read once and written back by `flush`: a bulk
            /// change must not rewrite `meta` once per row.
            counters: [Option<u64>; Counter::ALL],
            /// Member-count changes, applied by `flush`.
            segment_count_deltas: std::collections::HashMap<u64, i64>,
            group_count_deltas: std::collections::HashMap<u64, i64>,
            /// Changes to `user_courses` rows, applied by `flush`: an
            /// enrolment and a group membership of the same user in one
            /// transaction then write the row once.
            user_course_edits: std::collections::BTreeMap<(u64, u64), UserCourseEdit>,
            pub(crate) site: SiteId,
            pub(crate) now: Timestamp,
        }

        /// Every table of a site in one read snapshot, each opened when
        /// first read: a plugin's query reads two or three of the thirty,
        /// and opening all of them was a twentieth of a 100,000-member
        /// sync (its plugin makes three queries per page).
        pub struct SiteReadTables {
            tx: ReadTransaction,
            $($field: std::sync::OnceLock<ReadOnlyTable<$K, $V>>,)*
        }

        impl<'tx> SiteTables<'tx> {
            pub fn open(tx: &'tx WriteTransaction, site: SiteId) -> Result<Self> {
                Ok(Self {
                    $($field: tx.open_table(defs::$def)?,)*
                    pending: Vec::new(),
                    events_flushed: 0,
                    unflushed_audit: EncodedAudit::default(),
                    counters: [None; Counter::ALL],
                    segment_count_deltas: Default::default(),
                    group_count_deltas: Default::default(),
                    user_course_edits: Default::default(),
                    site,
                    now: Timestamp::now(),
                })
            }
        }

        impl SiteReadTables {
            pub fn open(tx: ReadTransaction) -> Self {
                Self { tx, $($field: std::sync::OnceLock::new(),)* }
            }
        }

        /// Every row of every table as raw key and value bytes, table by
        /// table in name order: a byte-exact picture of a site file for
        /// tests that assert a refused call changed nothing.
        #[cfg(test)]
        pub(crate) fn dump_all_tables(tx: &ReadTransaction) -> Result<TableDump> {
            let mut out = vec![$(dump_table(tx, defs::$def)?,)*];
            out.sort_by(|a, b| a.0.cmp(&b.0));
            Ok(out)
        }

        /// Raw table access for [`SiteRead`]'s provided queries.
        pub trait SiteTablesRead {
            $(fn $field(&self) -> Result<&impl ReadableTable<$K, $V>>;)*

            /// Count changes made in this transaction and not yet flushed.
            fn pending_count_delta(&self, _kind: CountKind, _id: u64) -> i64 {
                0
            }

            /// Audit entries of this transaction not yet flushed, oldest
            /// first; all newer than every row of the audit table.
            fn unflushed_audit(&self) -> Result<Vec<AuditEntry>> {
                Ok(Vec::new())
            }

            /// The id of the newest of them.
            fn last_unflushed_audit_id(&self) -> Option<u64> {
                None
            }

            /// Outbox events of this transaction not yet flushed, oldest
            /// first; all newer than every row of the outbox table.
            fn unflushed_events(&self) -> &[EventEnvelope] {
                &[]
            }

            /// This transaction's unflushed changes to `user`'s rows of
            /// `user_courses`, by course.
            fn user_course_edits(&self, _user: u64) -> Vec<(u64, &UserCourseEdit)> {
                Vec::new()
            }
        }

        impl SiteTablesRead for SiteTables<'_> {
            $(fn $field(&self) -> Result<&impl ReadableTable<$K, $V>> { Ok(&self.$field) })*

            fn pending_count_delta(&self, kind: CountKind, id: u64) -> i64 {
                let deltas = match kind {
                    CountKind::SegmentMembers => &self.segment_count_deltas,
                    CountKind::GroupMembers => &self.group_count_deltas,
                };
                deltas.get(&id).copied().unwrap_or(0)
            }

            fn unflushed_audit(&self) -> Result<Vec<AuditEntry>> {
                self.unflushed_audit.entries()
            }

            fn last_unflushed_audit_id(&self) -> Option<u64> {
                self.unflushed_audit.last_id()
            }

            fn unflushed_events(&self) -> &[EventEnvelope] {
                &self.pending[self.events_flushed..]
            }

            fn user_course_edits(&self, user: u64) -> Vec<(u64, &UserCourseEdit)> {
                self.user_course_edits
                    .range((user, 0)..=(user, u64::MAX))
                    .map(|(&(_, course), edit)| (course, edit))
                    .collect()
            }
        }

        impl SiteTablesRead for SiteReadTables {
            $(fn $field(&self) -> Result<&impl ReadableTable<$K, $V>> {
                if let Some(table) = self.$field.get() {
                    return Ok(table);
                }
                let table = self.tx.open_table(defs::$def)?;
                Ok(self.$field.get_or_init(|| table))
            })*
        }
    };
}

site_tables! {
    /// `name → u64`: `schema_version` and the id counters `next.{kind}`.
    meta: META = ("meta-v1", &'static str, u64);
    /// `UserId → User`.
    users: USERS = ("users-v1", u64, Bytes);
    /// `lower-case username → UserId`.
    users_by_username: USERS_BY_USERNAME = ("users-by-username-v1", &'static str, u64);
    /// `lower-case email → UserId`.
    users_by_email: USERS_BY_EMAIL = ("users-by-email-v1", &'static str, u64);
    /// `SegmentId → Segment`.
    segments: SEGMENTS = ("segments-v1", u64, Bytes);
    /// `idnumber → SegmentId` (only segments that have one).
    segments_by_idnumber: SEGMENTS_BY_IDNUMBER = ("segments-by-idnumber-v1", &'static str, u64);
    /// `(SegmentId, UserId) → added_at millis`: the members of a segment.
    segment_members: SEGMENT_MEMBERS = ("segment-members-v1", (u64, u64), i64);
    /// `(UserId, SegmentId) → ()`: reverse index of `segment_members`.
    user_segments: USER_SEGMENTS = ("user-segments-v1", (u64, u64), ());
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
    /// [`CHUNK`] entries with consecutive ids from the key on, one row
    /// per chunk rather than per entry (a reconcile page audits 2,000
    /// changes). A chunk never spans two transactions.
    audit: AUDIT = ("audit-v2", u64, Bytes);
    /// `first seq → [SiteEvent]`: the transactional outbox of the event
    /// stream, chunked like `audit`; the event at index `i` of a row has
    /// seq `key + i`.
    events: EVENTS = ("events-v2", u64, Bytes);
    /// `EnrolmentMethodId → MethodRun`: how an instance's plugin calls went
    /// (last error and error count). Operational state, not audited.
    method_runs: METHOD_RUNS = ("method-runs-v1", u64, Bytes);
    /// `name → u64`: `cursor`, the last outbox seq the event dispatcher
    /// has delivered to the instances.
    dispatch: DISPATCH = ("dispatch-v1", &'static str, u64);
    /// `(EnrolmentMethodId, key) → CourseGroupId`: the groups an instance
    /// created with a plan's `create-group`, by the key it gave them.
    method_groups: METHOD_GROUPS = ("method-groups-v1", (u64, &'static str), u64);
    /// `plugin id → JSON object`: a plugin's site-wide settings, as the
    /// site admin saved them.
    plugin_settings: PLUGIN_SETTINGS = ("plugin-settings-v1", &'static str, &'static str);
}

/// At most this many audit entries or outbox events share one row: large
/// enough that a bulk change writes a few rows instead of one per entry,
/// small enough that reading one entry decodes little besides it.
pub(crate) const CHUNK: usize = 256;

/// What a write transaction did to one `user_courses` row, applied to the
/// row by `flush` (and by the readers in between): the user's first
/// enrolment in the course, their last one gone, groups added and removed.
/// Kept as changes rather than the row's new value so that the common
/// case — a new enrolment, then a group — writes the row without reading
/// it first. A row lives while the user has an enrolment or a group in
/// the course: the groups of a user whose last enrolment just went stay
/// findable until they are removed (`unenrol_in` removes them next).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UserCourseEdit {
    /// The user's last enrolment in the course went.
    unenrolled: bool,
    /// The user has an enrolment in the course (made in this transaction).
    enrolled: bool,
    add: Vec<u64>,
    remove: Vec<u64>,
}

impl UserCourseEdit {
    fn unenrol(&mut self) {
        self.unenrolled = true;
        self.enrolled = false;
    }

    fn add_group(&mut self, group: u64) {
        self.remove.retain(|g| *g != group);
        if !self.add.contains(&group) {
            self.add.push(group);
        }
    }

    fn remove_group(&mut self, group: u64) {
        self.add.retain(|g| *g != group);
        if !self.remove.contains(&group) {
            self.remove.push(group);
        }
    }

    /// The row after this edit (its groups; `None`: no row), from the
    /// row before it.
    fn apply(&self, before: Option<Vec<u64>>) -> Option<Vec<u64>> {
        let enrolled = self.enrolled || (before.is_some() && !self.unenrolled);
        let mut groups = before.unwrap_or_default();
        groups.retain(|g| !self.remove.contains(g));
        for g in &self.add {
            if !groups.contains(g) {
                groups.push(*g);
            }
        }
        groups.sort_unstable();
        (enrolled || !groups.is_empty()).then_some(groups)
    }
}

fn pack_groups(groups: &[u64]) -> Vec<u8> {
    groups.iter().flat_map(|g| g.to_le_bytes()).collect()
}

fn unpack_groups(bytes: &[u8]) -> Result<Vec<u64>> {
    if !bytes.len().is_multiple_of(8) {
        return Err(super::StorageError::Corrupt {
            table: "user-courses",
            reason: format!("a row of {} bytes is not a list of ids", bytes.len()),
        });
    }
    Ok(bytes
        .chunks_exact(8)
        .map(|c| {
            let mut id = [0; 8];
            id.copy_from_slice(c);
            u64::from_le_bytes(id)
        })
        .collect())
}

/// A write transaction's audit entries not yet in the table, encoded as
/// they are logged: each is postcard's encoding of its [`AuditEntry`],
/// back to back, so a chunk row is its count followed by a slice of
/// `bytes`. Keeping `AuditEntry` values instead cost three strings per
/// entry — made, moved, encoded at flush and freed — and a 100,000-member
/// sync logs 200,000 entries. The encoding is written by hand (postcard's
/// format: LEB128 varints, zigzag for signed, enum variant index first,
/// strings length-first): through serde it was a twentieth of such a sync.
/// `audit_entries_are_encoded_exactly_as_postcard_encodes_them` holds the
/// two together.
#[derive(Default)]
struct EncodedAudit {
    bytes: Vec<u8>,
    /// Where each entry's encoding ends in `bytes`.
    ends: Vec<usize>,
    /// The id of the first entry; the others follow it one by one.
    first: u64,
}

/// postcard's unsigned varint (LEB128).
fn put_varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

/// Text an audit entry is made of (its action, target and reason), as it
/// is written into the entry's encoding: a postcard string, its length
/// and then its UTF-8. Strings are copied, `format_args!` is printed in
/// place, and an [`AuditTarget`] is written digit by digit: a sync logs
/// 200,000 entries, and the formatting machinery's per-argument cost was
/// most of their encoding.
pub trait AuditText {
    fn put(&self, buf: &mut Vec<u8>);
}

impl AuditText for str {
    fn put(&self, buf: &mut Vec<u8>) {
        put_varint(buf, self.len() as u64);
        buf.extend_from_slice(self.as_bytes());
    }
}

impl AuditText for String {
    fn put(&self, buf: &mut Vec<u8>) {
        self.as_str().put(buf)
    }
}

impl<T: AuditText + ?Sized> AuditText for &T {
    fn put(&self, buf: &mut Vec<u8>) {
        (**self).put(buf)
    }
}

impl AuditText for std::fmt::Arguments<'_> {
    fn put(&self, buf: &mut Vec<u8>) {
        put_display(buf, self)
    }
}

impl AuditText for AuditTarget {
    fn put(&self, buf: &mut Vec<u8>) {
        put_text(buf, |buf| {
            for (words, id) in self.pieces() {
                buf.extend_from_slice(words.as_bytes());
                let mut digits = [0u8; 20];
                let mut at = digits.len();
                let mut n = id;
                loop {
                    at -= 1;
                    digits[at] = b'0' + (n % 10) as u8;
                    n /= 10;
                    if n == 0 {
                        break;
                    }
                }
                buf.extend_from_slice(&digits[at..]);
            }
        })
    }
}

/// A `Display` value as a postcard string, printed straight into `buf`.
fn put_display(buf: &mut Vec<u8>, value: impl std::fmt::Display) {
    struct Out<'a>(&'a mut Vec<u8>);
    impl std::fmt::Write for Out<'_> {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            self.0.extend_from_slice(s.as_bytes());
            Ok(())
        }
    }
    put_text(buf, |buf| {
        // Writing into a Vec fails only if a Display impl does.
        let _ = std::fmt::Write::write_fmt(&mut Out(buf), format_args!("{value}"));
    })
}

/// A postcard string whose length is known only once `write` has written
/// its UTF-8 into `buf`.
fn put_text(buf: &mut Vec<u8>, write: impl FnOnce(&mut Vec<u8>)) {
    let at = buf.len();
    // Room for a one-byte length, which every target and reason so far
    // needs (under 128 bytes); a longer one moves the text along.
    buf.push(0);
    write(buf);
    let len = buf.len() - at - 1;
    if len < 0x80 {
        buf[at] = len as u8;
    } else {
        let mut prefix = Vec::with_capacity(3);
        put_varint(&mut prefix, len as u64);
        buf.splice(at..=at, prefix);
    }
}

impl EncodedAudit {
    fn push(
        &mut self,
        id: AuditId,
        at: Timestamp,
        actor: Actor,
        action: &str,
        target: impl AuditText,
        reason: impl AuditText,
    ) {
        if self.ends.is_empty() {
            self.first = id.0;
        }
        let buf = &mut self.bytes;
        put_varint(buf, id.0);
        put_varint(buf, ((at.0 << 1) ^ (at.0 >> 63)) as u64);
        // Variant indices in declaration order, as serde numbers them.
        match actor {
            Actor::Operator(o) => {
                put_varint(buf, 0);
                put_varint(buf, o.0);
            }
            Actor::User(u) => {
                put_varint(buf, 1);
                put_varint(buf, u.0);
            }
            Actor::Method(m) => {
                put_varint(buf, 2);
                put_varint(buf, m.0);
            }
            Actor::System => put_varint(buf, 3),
        }
        action.put(buf);
        target.put(buf);
        reason.put(buf);
        self.ends.push(buf.len());
    }

    fn last_id(&self) -> Option<u64> {
        (!self.ends.is_empty()).then(|| self.first + self.ends.len() as u64 - 1)
    }

    fn entries(&self) -> Result<Vec<AuditEntry>> {
        let mut start = 0;
        let mut out = Vec::with_capacity(self.ends.len());
        for &end in &self.ends {
            out.push(decode("audit", &self.bytes[start..end])?);
            start = end;
        }
        Ok(out)
    }

    /// The audit table's rows: `(first id, encoded Vec<AuditEntry>)` of at
    /// most [`CHUNK`] entries each.
    fn rows(&self) -> impl Iterator<Item = (u64, Vec<u8>)> + '_ {
        self.ends.chunks(CHUNK).enumerate().map(|(i, ends)| {
            let start = match i * CHUNK {
                0 => 0,
                n => self.ends[n - 1],
            };
            let end = ends[ends.len() - 1];
            // A sequence's encoding: its length, then its elements.
            let mut row = encode(&ends.len());
            row.extend_from_slice(&self.bytes[start..end]);
            (self.first + (i * CHUNK) as u64, row)
        })
    }
}

/// The member counts kept per segment and per group.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum CountKind {
    SegmentMembers,
    GroupMembers,
}

/// The id counters in `meta`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Counter {
    User,
    Segment,
    Course,
    Method,
    Group,
    Audit,
    Event,
}

impl Counter {
    const ALL: usize = 7;

    fn key(self) -> &'static str {
        match self {
            Counter::User => "next.user",
            Counter::Segment => "next.segment",
            Counter::Course => "next.course",
            Counter::Method => "next.method",
            Counter::Group => "next.group",
            Counter::Audit => "next.audit",
            Counter::Event => "next.event",
        }
    }
}

/// The `meta` key counting the transactions that changed the site: every
/// write that audits or emits anything (which every domain change does)
/// adds one. A fact a read snapshot showed still holds in a later write
/// transaction that finds the same number — what lets a plan's apply trust
/// the user statuses its plugin's queries were answered from.
const CHANGES: &str = "changes";

const COUNTERS: [Counter; Counter::ALL] = [
    Counter::User,
    Counter::Segment,
    Counter::Course,
    Counter::Method,
    Counter::Group,
    Counter::Audit,
    Counter::Event,
];

/// Rows of each table as `(table name, [(key bytes, value bytes)])`.
#[cfg(test)]
pub(crate) type TableDump = Vec<TableRows>;

/// One table's name and its rows as `(key bytes, value bytes)`.
#[cfg(test)]
pub(crate) type TableRows = (String, Vec<(Vec<u8>, Vec<u8>)>);

#[cfg(test)]
fn dump_table<K: redb::Key + 'static, V: redb::Value + 'static>(
    tx: &ReadTransaction,
    def: TableDefinition<'static, K, V>,
) -> Result<TableRows> {
    use redb::TableHandle;
    let table = tx.open_table(def)?;
    let mut rows = Vec::new();
    for row in table.iter()? {
        let (k, v) = row?;
        rows.push((
            K::as_bytes(&k.value()).as_ref().to_vec(),
            V::as_bytes(&v.value()).as_ref().to_vec(),
        ));
    }
    Ok((def.name().to_owned(), rows))
}

/// `(a, 0) ..= (a, u64::MAX)`: every pair key starting with `a`.
fn pair_prefix(a: u64) -> std::ops::RangeInclusive<(u64, u64)> {
    (a, 0)..=(a, u64::MAX)
}

fn pair_after(a: u64, after: Option<u64>) -> std::ops::RangeInclusive<(u64, u64)> {
    let start = after.map_or(0, |b| b.saturating_add(1));
    (a, start)..=(a, u64::MAX)
}

fn get_record<T: serde::de::DeserializeOwned>(
    table: &impl ReadableTable<u64, Bytes>,
    name: &'static str,
    id: u64,
) -> Result<Option<T>> {
    match table.get(id)? {
        Some(guard) => Ok(Some(decode(name, guard.value())?)),
        None => Ok(None),
    }
}

fn all_records<T: serde::de::DeserializeOwned>(
    table: &impl ReadableTable<u64, Bytes>,
    name: &'static str,
) -> Result<Vec<T>> {
    let mut out = Vec::new();
    for row in table.iter()? {
        let (_, v) = row?;
        out.push(decode(name, v.value())?);
    }
    Ok(out)
}

/// Typed queries over a site, written once for reads and writes alike.
pub trait SiteRead: SiteTablesRead {
    fn schema_version(&self) -> Result<u64> {
        Ok(self.meta()?.get("schema_version")?.map_or(0, |g| g.value()))
    }

    // ------------------------------------------------------------- users

    fn user(&self, id: UserId) -> Result<Option<User>> {
        get_record(self.users()?, "users", id.0)
    }

    fn user_exists(&self, id: UserId) -> Result<bool> {
        Ok(self.users()?.get(id.0)?.is_some())
    }

    /// A user's status, or `None` when there is no such user. Decodes only
    /// the head of the record (borrowed, no allocation): a plugin's page of
    /// 1,000 segment members asks this 1,000 times.
    fn user_status(&self, id: UserId) -> Result<Option<UserStatus>> {
        /// `User`'s leading fields, in its order (postcard is positional
        /// and ignores what follows `status`). The texts are skipped as
        /// bytes: postcard encodes both alike, and bytes need no UTF-8
        /// check.
        #[derive(serde::Deserialize)]
        struct Head<'a> {
            _id: u64,
            _username: &'a [u8],
            _email: &'a [u8],
            _firstname: &'a [u8],
            _lastname: &'a [u8],
            status: UserStatus,
        }
        let Some(v) = self.users()?.get(id.0)? else {
            return Ok(None);
        };
        let head: Head<'_> =
            postcard::from_bytes(v.value()).map_err(|e| super::StorageError::Corrupt {
                table: "users",
                reason: e.to_string(),
            })?;
        Ok(Some(head.status))
    }

    fn user_id_by_username(&self, username: &str) -> Result<Option<UserId>> {
        let key = username.to_lowercase();
        Ok(self
            .users_by_username()?
            .get(key.as_str())?
            .map(|g| UserId(g.value())))
    }

    fn user_id_by_email(&self, email: &str) -> Result<Option<UserId>> {
        let key = email.to_lowercase();
        Ok(self
            .users_by_email()?
            .get(key.as_str())?
            .map(|g| UserId(g.value())))
    }

    /// Users in id order after `after`, keeping those `keep` accepts.
    fn users_page(
        &self,
        after: Option<UserId>,
        limit: usize,
        mut keep: impl FnMut(&User) -> bool,
    ) -> Result<Vec<User>> {
        let start = after.map_or(0, |u| u.0.saturating_add(1));
        let mut out = Vec::new();
        for row in self.users()?.range(start..)? {
            if out.len() >= limit {
                break;
            }
            let (_, v) = row?;
            let user: User = decode("users", v.value())?;
            if keep(&user) {
                out.push(user);
            }
        }
        Ok(out)
    }

    fn user_count(&self) -> Result<u64> {
        Ok(self.users()?.len()?)
    }

    // ---------------------------------------------------------- segments

    fn segment(&self, id: SegmentId) -> Result<Option<Segment>> {
        get_record(self.segments()?, "segments", id.0)
    }

    fn segment_id_by_idnumber(&self, idnumber: &str) -> Result<Option<SegmentId>> {
        Ok(self
            .segments_by_idnumber()?
            .get(idnumber)?
            .map(|g| SegmentId(g.value())))
    }

    fn all_segments(&self) -> Result<Vec<Segment>> {
        all_records(self.segments()?, "segments")
    }

    fn is_segment_member(&self, segment: SegmentId, user: UserId) -> Result<bool> {
        Ok(self.segment_members()?.get((segment.0, user.0))?.is_some())
    }

    /// Member ids of a segment in id order, after `after`.
    fn segment_member_ids(
        &self,
        segment: SegmentId,
        after: Option<UserId>,
        limit: usize,
    ) -> Result<Vec<UserId>> {
        let mut out = Vec::with_capacity(limit.min(4096));
        for row in self
            .segment_members()?
            .range(pair_after(segment.0, after.map(|u| u.0)))?
        {
            if out.len() >= limit {
                break;
            }
            let (k, _) = row?;
            out.push(UserId(k.value().1));
        }
        Ok(out)
    }

    fn segment_member_count(&self, segment: SegmentId) -> Result<u64> {
        Ok(self
            .segment_member_counts()?
            .get(segment.0)?
            .map_or(0, |g| g.value()))
    }

    fn user_segment_ids(&self, user: UserId) -> Result<Vec<SegmentId>> {
        let mut out = Vec::new();
        for row in self.user_segments()?.range(pair_prefix(user.0))? {
            let (k, _) = row?;
            out.push(SegmentId(k.value().1));
        }
        Ok(out)
    }

    // ----------------------------------------------------------- courses

    fn course(&self, id: CourseId) -> Result<Option<Course>> {
        get_record(self.courses()?, "courses", id.0)
    }

    fn course_id_by_shortname(&self, shortname: &str) -> Result<Option<CourseId>> {
        let key = shortname.to_lowercase();
        Ok(self
            .courses_by_shortname()?
            .get(key.as_str())?
            .map(|g| CourseId(g.value())))
    }

    fn all_courses(&self) -> Result<Vec<Course>> {
        all_records(self.courses()?, "courses")
    }

    // -------------------------------------------------- enrolment methods

    fn method(&self, id: EnrolmentMethodId) -> Result<Option<EnrolmentMethod>> {
        get_record(self.methods()?, "enrolment-methods", id.0)
    }

    /// Every enrolment method of the site (site-wide events reach them all).
    fn all_methods(&self) -> Result<Vec<EnrolmentMethod>> {
        all_records(self.methods()?, "enrolment-methods")
    }

    fn method_run(&self, id: EnrolmentMethodId) -> Result<Option<MethodRun>> {
        get_record(self.method_runs()?, "method-runs", id.0)
    }

    /// The group `method` created under `key`, if it recorded one.
    fn method_group(&self, method: EnrolmentMethodId, key: &str) -> Result<Option<CourseGroupId>> {
        Ok(self
            .method_groups()?
            .get((method.0, key))?
            .map(|g| CourseGroupId(g.value())))
    }

    /// A plugin's site-wide settings as saved (a JSON object), if any.
    fn plugin_settings_json(&self, plugin: &str) -> Result<Option<String>> {
        Ok(self
            .plugin_settings()?
            .get(plugin)?
            .map(|v| v.value().to_owned()))
    }

    /// The last outbox seq the event dispatcher delivered.
    /// How many transactions have changed the site (see
    /// [`CHANGES`]): equal in two snapshots, nothing audited or evented
    /// happened between them.
    fn changes(&self) -> Result<u64> {
        Ok(self.meta()?.get(CHANGES)?.map_or(0, |g| g.value()))
    }

    fn dispatch_cursor(&self) -> Result<u64> {
        Ok(self.dispatch()?.get("cursor")?.map_or(0, |g| g.value()))
    }

    fn course_methods_list(&self, course: CourseId) -> Result<Vec<EnrolmentMethod>> {
        let mut out = Vec::new();
        for row in self.course_methods()?.range(pair_prefix(course.0))? {
            let (k, _) = row?;
            if let Some(m) = self.method(EnrolmentMethodId(k.value().1))? {
                out.push(m);
            }
        }
        Ok(out)
    }

    // -------------------------------------------------------- enrolments

    fn enrolment(
        &self,
        course: CourseId,
        user: UserId,
        method: EnrolmentMethodId,
    ) -> Result<Option<Enrolment>> {
        match self.enrolments()?.get((course.0, user.0, method.0))? {
            Some(g) => Ok(Some(decode("enrolments", g.value())?)),
            None => Ok(None),
        }
    }

    /// Every enrolment of `user` in `course`, one per method.
    fn user_course_enrolments(&self, course: CourseId, user: UserId) -> Result<Vec<Enrolment>> {
        let mut out = Vec::new();
        for row in self
            .enrolments()?
            .range((course.0, user.0, 0)..=(course.0, user.0, u64::MAX))?
        {
            let (_, v) = row?;
            out.push(decode("enrolments", v.value())?);
        }
        Ok(out)
    }

    /// Whether `user` has any enrolment in `course` (any status), without
    /// decoding one.
    fn has_enrolment_in(&self, course: CourseId, user: UserId) -> Result<bool> {
        Ok(self
            .enrolments()?
            .range((course.0, user.0, 0)..=(course.0, user.0, u64::MAX))?
            .next()
            .transpose()?
            .is_some())
    }

    /// A participant has at least one active enrolment in the course.
    fn is_participant(&self, course: CourseId, user: UserId) -> Result<bool> {
        Ok(self
            .user_course_enrolments(course, user)?
            .iter()
            .any(|e| e.status == EnrolmentStatus::Active))
    }

    /// Enrolments of a course ordered by user, after user `after`.
    fn course_enrolments_page(
        &self,
        course: CourseId,
        after: Option<UserId>,
        limit: usize,
    ) -> Result<Vec<Enrolment>> {
        let start = after.map_or(0, |u| u.0.saturating_add(1));
        let mut out = Vec::new();
        let mut last_user = None;
        for row in self
            .enrolments()?
            .range((course.0, start, 0)..=(course.0, u64::MAX, u64::MAX))?
        {
            let (k, v) = row?;
            let user = k.value().1;
            // Never cut one user's enrolments across two pages.
            if out.len() >= limit && last_user != Some(user) {
                break;
            }
            last_user = Some(user);
            out.push(decode("enrolments", v.value())?);
        }
        Ok(out)
    }

    /// `method`'s enrolments in `course`, ordered by user, after user
    /// `after`, at most `limit`, each made into a `T` by `row` from its
    /// user and undecoded record: one scan of the course's keys that skips
    /// other methods' rows.
    fn method_enrolment_rows<T>(
        &self,
        course: CourseId,
        method: EnrolmentMethodId,
        after: Option<UserId>,
        limit: usize,
        mut row: impl FnMut(UserId, &[u8]) -> Result<T>,
    ) -> Result<Vec<T>> {
        let start = after.map_or(0, |u| u.0.saturating_add(1));
        let mut out = Vec::new();
        if limit == 0 {
            return Ok(out);
        }
        for entry in self
            .enrolments()?
            .range((course.0, start, 0)..=(course.0, u64::MAX, u64::MAX))?
        {
            let (k, v) = entry?;
            let (_, user, m) = k.value();
            if m == method.0 {
                out.push(row(UserId(user), v.value())?);
                if out.len() >= limit {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// `method`'s enrolments in `course` after user `after`.
    fn method_enrolments_page(
        &self,
        course: CourseId,
        method: EnrolmentMethodId,
        after: Option<UserId>,
        limit: usize,
    ) -> Result<Vec<Enrolment>> {
        self.method_enrolment_rows(course, method, after, limit, |_, v| decode("enrolments", v))
    }

    /// The users `method` enrols in `course` after user `after`, without
    /// decoding a record.
    fn method_enrolment_user_ids(
        &self,
        course: CourseId,
        method: EnrolmentMethodId,
        after: Option<UserId>,
        limit: usize,
    ) -> Result<Vec<UserId>> {
        self.method_enrolment_rows(course, method, after, limit, |u, _| Ok(u))
    }

    /// How many enrolments each method of `course` has: one walk of the
    /// course's keys, no record decoded.
    fn method_enrolment_counts(
        &self,
        course: CourseId,
    ) -> Result<std::collections::HashMap<EnrolmentMethodId, u64>> {
        let mut out = std::collections::HashMap::new();
        for row in self
            .enrolments()?
            .range((course.0, 0, 0)..=(course.0, u64::MAX, u64::MAX))?
        {
            let (k, _) = row?;
            *out.entry(EnrolmentMethodId(k.value().2)).or_default() += 1;
        }
        Ok(out)
    }

    /// The courses `user` has at least one enrolment in, each with the
    /// user's groups there, by course.
    fn user_course_rows(&self, user: UserId) -> Result<Vec<(CourseId, Vec<CourseGroupId>)>> {
        let mut rows = std::collections::BTreeMap::new();
        for row in self.user_courses()?.range(pair_prefix(user.0))? {
            let (k, v) = row?;
            rows.insert(k.value().1, unpack_groups(v.value())?);
        }
        for (course, edit) in self.user_course_edits(user.0) {
            match edit.apply(rows.remove(&course)) {
                Some(groups) => rows.insert(course, groups),
                None => None,
            };
        }
        Ok(rows
            .into_iter()
            .map(|(c, groups)| (CourseId(c), groups.into_iter().map(CourseGroupId).collect()))
            .collect())
    }

    /// The courses `user` has at least one enrolment in.
    fn user_course_ids(&self, user: UserId) -> Result<Vec<CourseId>> {
        Ok(self
            .user_course_rows(user)?
            .into_iter()
            .map(|(c, _)| c)
            .collect())
    }

    /// Every enrolment of `user`, by course, then method.
    fn user_enrolment_list(&self, user: UserId) -> Result<Vec<Enrolment>> {
        let mut out = Vec::new();
        for course in self.user_course_ids(user)? {
            out.extend(self.user_course_enrolments(course, user)?);
        }
        Ok(out)
    }

    // ------------------------------------------------------ course groups

    fn group(&self, id: CourseGroupId) -> Result<Option<CourseGroup>> {
        get_record(self.groups()?, "course-groups", id.0)
    }

    fn group_id_by_name(&self, course: CourseId, name: &str) -> Result<Option<CourseGroupId>> {
        let key = name.to_lowercase();
        Ok(self
            .group_names()?
            .get((course.0, key.as_str()))?
            .map(|g| CourseGroupId(g.value())))
    }

    fn group_id_by_idnumber(
        &self,
        course: CourseId,
        idnumber: &str,
    ) -> Result<Option<CourseGroupId>> {
        Ok(self
            .group_idnumbers()?
            .get((course.0, idnumber))?
            .map(|g| CourseGroupId(g.value())))
    }

    fn course_group_list(&self, course: CourseId) -> Result<Vec<CourseGroup>> {
        let mut out = Vec::new();
        for row in self.course_groups()?.range(pair_prefix(course.0))? {
            let (k, _) = row?;
            if let Some(g) = self.group(CourseGroupId(k.value().1))? {
                out.push(g);
            }
        }
        Ok(out)
    }

    fn group_membership(
        &self,
        group: CourseGroupId,
        user: UserId,
    ) -> Result<Option<GroupMembership>> {
        match self.group_members()?.get((group.0, user.0))? {
            Some(g) => Ok(Some(decode("course-group-members", g.value())?)),
            None => Ok(None),
        }
    }

    fn group_members_page(
        &self,
        group: CourseGroupId,
        after: Option<UserId>,
        limit: usize,
    ) -> Result<Vec<GroupMembership>> {
        let mut out = Vec::new();
        for row in self
            .group_members()?
            .range(pair_after(group.0, after.map(|u| u.0)))?
        {
            if out.len() >= limit {
                break;
            }
            let (_, v) = row?;
            out.push(decode("course-group-members", v.value())?);
        }
        Ok(out)
    }

    fn group_member_count(&self, group: CourseGroupId) -> Result<u64> {
        Ok(self
            .group_member_counts()?
            .get(group.0)?
            .map_or(0, |g| g.value()))
    }

    /// The groups of `course` that have `user` as a member.
    fn user_group_ids_in(&self, course: CourseId, user: UserId) -> Result<Vec<CourseGroupId>> {
        let before = match self.user_courses()?.get((user.0, course.0))? {
            Some(g) => Some(unpack_groups(g.value())?),
            None => None,
        };
        let edit = self
            .user_course_edits(user.0)
            .into_iter()
            .find(|(c, _)| *c == course.0);
        let groups = match edit {
            Some((_, edit)) => edit.apply(before),
            None => before,
        };
        Ok(groups
            .unwrap_or_default()
            .into_iter()
            .map(CourseGroupId)
            .collect())
    }

    /// Every group that has `user` as a member.
    fn user_group_ids(&self, user: UserId) -> Result<Vec<CourseGroupId>> {
        Ok(self
            .user_course_rows(user)?
            .into_iter()
            .flat_map(|(_, groups)| groups)
            .collect())
    }

    // -------------------------------------------------------------- audit

    /// Audit entries newest first, before `before`, that `keep` accepts.
    fn audit_page(
        &self,
        before: Option<AuditId>,
        limit: usize,
        mut keep: impl FnMut(&AuditEntry) -> bool,
    ) -> Result<Vec<AuditEntry>> {
        let end = before.map_or(u64::MAX, |a| a.0);
        let mut wanted = |entry: &AuditEntry| entry.id.0 < end && keep(entry);
        let mut out = Vec::new();
        for entry in self.unflushed_audit()?.into_iter().rev() {
            if out.len() >= limit {
                return Ok(out);
            }
            if wanted(&entry) {
                out.push(entry);
            }
        }
        // A row whose first id is below `end` may still hold ids at or
        // above it: `wanted` skips those.
        for row in self.audit()?.range(..end)?.rev() {
            let (_, v) = row?;
            let chunk: Vec<AuditEntry> = decode("audit", v.value())?;
            for entry in chunk.into_iter().rev() {
                if out.len() >= limit {
                    return Ok(out);
                }
                if wanted(&entry) {
                    out.push(entry);
                }
            }
        }
        Ok(out)
    }

    /// The newest audit id, 0 when the log is empty.
    fn last_audit_id(&self) -> Result<u64> {
        if let Some(id) = self.last_unflushed_audit_id() {
            return Ok(id);
        }
        match self.audit()?.last()? {
            Some((_, v)) => {
                let chunk: Vec<AuditEntry> = decode("audit", v.value())?;
                Ok(chunk.last().map_or(0, |e| e.id.0))
            }
            None => Ok(0),
        }
    }

    /// Outbox events with `seq > after`, oldest first.
    fn events_after(&self, site: SiteId, after: u64, limit: usize) -> Result<Vec<EventEnvelope>> {
        let start = after.saturating_add(1);
        let mut out = Vec::new();
        // The row holding `start` begins at or before it.
        let first = match self.events()?.range(..=start)?.next_back() {
            Some(row) => row?.0.value(),
            None => start,
        };
        for row in self.events()?.range(first..)? {
            let (k, v) = row?;
            let chunk: Vec<SiteEvent> = decode("events", v.value())?;
            for (seq, event) in (k.value()..).zip(chunk) {
                if seq < start {
                    continue;
                }
                if out.len() >= limit {
                    return Ok(out);
                }
                out.push(EventEnvelope { site, seq, event });
            }
        }
        for envelope in self.unflushed_events() {
            if out.len() >= limit {
                break;
            }
            if envelope.seq >= start {
                out.push(envelope.clone());
            }
        }
        Ok(out)
    }

    /// The newest outbox seq, 0 when the outbox is empty.
    fn last_event_seq(&self) -> Result<u64> {
        if let Some(e) = self.unflushed_events().last() {
            return Ok(e.seq);
        }
        match self.events()?.last()? {
            Some((k, v)) => {
                let chunk: Vec<SiteEvent> = decode("events", v.value())?;
                Ok(k.value() + chunk.len().saturating_sub(1) as u64)
            }
            None => Ok(0),
        }
    }
}

impl<T: SiteTablesRead> SiteRead for T {}

fn add_count(table: &mut Table<'_, u64, u64>, key: u64, delta: i64) -> Result<()> {
    let current = table.get(key)?.map_or(0, |g| g.value());
    let next = current.saturating_add_signed(delta);
    if next == 0 {
        table.remove(key)?;
    } else {
        table.insert(key, next)?;
    }
    Ok(())
}

/// Writes. Each keeps its indexes and counts in step; none checks a
/// domain rule.
impl SiteTables<'_> {
    fn next_id(&mut self, counter: Counter) -> Result<u64> {
        let slot = &mut self.counters[counter as usize];
        let next = match *slot {
            Some(n) => n,
            None => self.meta.get(counter.key())?.map_or(1, |g| g.value()),
        };
        *slot = Some(next + 1);
        Ok(next)
    }

    /// Writes cached counters and count deltas back. `SiteStore::write`
    /// calls it before committing.
    pub(crate) fn flush(&mut self) -> Result<()> {
        if !self.unflushed_audit.ends.is_empty() || self.events_flushed < self.pending.len() {
            let changes = self.meta.get(CHANGES)?.map_or(0, |g| g.value());
            self.meta.insert(CHANGES, changes + 1)?;
        }
        for counter in COUNTERS {
            if let Some(next) = self.counters[counter as usize].take() {
                self.meta.insert(counter.key(), next)?;
            }
        }
        for (id, delta) in std::mem::take(&mut self.segment_count_deltas) {
            add_count(&mut self.segment_member_counts, id, delta)?;
        }
        for (id, delta) in std::mem::take(&mut self.group_count_deltas) {
            add_count(&mut self.group_member_counts, id, delta)?;
        }
        self.flush_user_courses()?;
        // Ids and seqs of one transaction are consecutive (only
        // `audit_log` and `emit` take them), so each chunk is a run that
        // starts at its key, as the readers assume.
        for (first, row) in std::mem::take(&mut self.unflushed_audit).rows() {
            self.audit.insert(first, row.as_slice())?;
        }
        for chunk in self.pending[self.events_flushed..].chunks(CHUNK) {
            let events: Vec<&SiteEvent> = chunk.iter().map(|e| &e.event).collect();
            self.events
                .insert(chunk[0].seq, encode(&events).as_slice())?;
        }
        self.events_flushed = self.pending.len();
        Ok(())
    }

    /// Records an event in the outbox (written by `flush`, in this
    /// transaction); it reaches subscribers after commit.
    pub(crate) fn emit(&mut self, event: SiteEvent) -> Result<()> {
        let seq = self.next_id(Counter::Event)?;
        self.pending.push(EventEnvelope {
            site: self.site,
            seq,
            event,
        });
        Ok(())
    }

    /// Logs a change: `target` and `reason` are anything printable — a
    /// `String`, a `&str`, or `format_args!(…)`, which a bulk change
    /// should use: the entry is encoded at once, so it allocates nothing.
    pub(crate) fn audit_log(
        &mut self,
        actor: Actor,
        action: &str,
        target: impl AuditText,
        reason: impl AuditText,
    ) -> Result<AuditId> {
        let id = AuditId(self.next_id(Counter::Audit)?);
        self.unflushed_audit
            .push(id, self.now, actor, action, target, reason);
        Ok(id)
    }

    // -------------------------------------------------------------- users

    pub(crate) fn new_user_id(&mut self) -> Result<UserId> {
        Ok(UserId(self.next_id(Counter::User)?))
    }

    /// Inserts or replaces a user, moving its username/email index entries.
    pub(crate) fn put_user(&mut self, user: &User) -> Result<()> {
        if let Some(old) = self.user(user.id)? {
            self.users_by_username
                .remove(old.username.to_lowercase().as_str())?;
            self.users_by_email
                .remove(old.email.to_lowercase().as_str())?;
        }
        self.users.insert(user.id.0, encode(user).as_slice())?;
        self.users_by_username
            .insert(user.username.to_lowercase().as_str(), user.id.0)?;
        self.users_by_email
            .insert(user.email.to_lowercase().as_str(), user.id.0)?;
        Ok(())
    }

    pub(crate) fn delete_user_row(&mut self, user: &User) -> Result<()> {
        self.users.remove(user.id.0)?;
        self.users_by_username
            .remove(user.username.to_lowercase().as_str())?;
        self.users_by_email
            .remove(user.email.to_lowercase().as_str())?;
        Ok(())
    }

    // ----------------------------------------------------------- segments

    pub(crate) fn new_segment_id(&mut self) -> Result<SegmentId> {
        Ok(SegmentId(self.next_id(Counter::Segment)?))
    }

    pub(crate) fn put_segment(&mut self, segment: &Segment) -> Result<()> {
        if let Some(old) = self.segment(segment.id)?
            && let Some(idn) = &old.idnumber
        {
            self.segments_by_idnumber.remove(idn.as_str())?;
        }
        self.segments
            .insert(segment.id.0, encode(segment).as_slice())?;
        if let Some(idn) = &segment.idnumber {
            self.segments_by_idnumber
                .insert(idn.as_str(), segment.id.0)?;
        }
        Ok(())
    }

    pub(crate) fn delete_segment_row(&mut self, segment: &Segment) -> Result<()> {
        self.segments.remove(segment.id.0)?;
        self.segment_member_counts.remove(segment.id.0)?;
        self.segment_count_deltas.remove(&segment.id.0);
        if let Some(idn) = &segment.idnumber {
            self.segments_by_idnumber.remove(idn.as_str())?;
        }
        Ok(())
    }

    /// Returns false when the user already was a member.
    pub(crate) fn insert_segment_member(
        &mut self,
        segment: SegmentId,
        user: UserId,
    ) -> Result<bool> {
        // Re-adding is a no-op: the member keeps the time they joined.
        if self.segment_members.get((segment.0, user.0))?.is_some() {
            return Ok(false);
        }
        self.segment_members
            .insert((segment.0, user.0), self.now.0)?;
        self.user_segments.insert((user.0, segment.0), ())?;
        *self.segment_count_deltas.entry(segment.0).or_default() += 1;
        Ok(true)
    }

    /// Returns false when the user was not a member.
    pub(crate) fn remove_segment_member(
        &mut self,
        segment: SegmentId,
        user: UserId,
    ) -> Result<bool> {
        let existed = self.segment_members.remove((segment.0, user.0))?.is_some();
        if existed {
            self.user_segments.remove((user.0, segment.0))?;
            *self.segment_count_deltas.entry(segment.0).or_default() -= 1;
        }
        Ok(existed)
    }

    // ------------------------------------------------------------ courses

    pub(crate) fn new_course_id(&mut self) -> Result<CourseId> {
        Ok(CourseId(self.next_id(Counter::Course)?))
    }

    pub(crate) fn put_course(&mut self, course: &Course) -> Result<()> {
        if let Some(old) = self.course(course.id)? {
            self.courses_by_shortname
                .remove(old.shortname.to_lowercase().as_str())?;
        }
        self.courses
            .insert(course.id.0, encode(course).as_slice())?;
        self.courses_by_shortname
            .insert(course.shortname.to_lowercase().as_str(), course.id.0)?;
        Ok(())
    }

    pub(crate) fn delete_course_row(&mut self, course: &Course) -> Result<()> {
        self.courses.remove(course.id.0)?;
        self.courses_by_shortname
            .remove(course.shortname.to_lowercase().as_str())?;
        Ok(())
    }

    // -------------------------------------------------- enrolment methods

    pub(crate) fn new_method_id(&mut self) -> Result<EnrolmentMethodId> {
        Ok(EnrolmentMethodId(self.next_id(Counter::Method)?))
    }

    pub(crate) fn put_method(&mut self, method: &EnrolmentMethod) -> Result<()> {
        self.methods
            .insert(method.id.0, encode(method).as_slice())?;
        self.course_methods
            .insert((method.course.0, method.id.0), ())?;
        Ok(())
    }

    pub(crate) fn put_method_run(&mut self, id: EnrolmentMethodId, run: &MethodRun) -> Result<()> {
        self.method_runs.insert(id.0, encode(run).as_slice())?;
        Ok(())
    }

    pub(crate) fn put_method_group(
        &mut self,
        method: EnrolmentMethodId,
        key: &str,
        group: CourseGroupId,
    ) -> Result<()> {
        self.method_groups.insert((method.0, key), group.0)?;
        Ok(())
    }

    /// Forgets every key that names `group` (the group is being deleted).
    pub(crate) fn forget_method_group(&mut self, group: CourseGroupId) -> Result<()> {
        // Rows are one per instance that created a group: a scan is cheap.
        let mut stale = Vec::new();
        for row in self.method_groups.iter()? {
            let (k, v) = row?;
            if v.value() == group.0 {
                let (m, key) = k.value();
                stale.push((m, key.to_owned()));
            }
        }
        for (m, key) in stale {
            self.method_groups.remove((m, key.as_str()))?;
        }
        Ok(())
    }

    pub(crate) fn put_plugin_settings(&mut self, plugin: &str, json: &str) -> Result<()> {
        self.plugin_settings.insert(plugin, json)?;
        Ok(())
    }

    pub(crate) fn delete_method_row(&mut self, method: &EnrolmentMethod) -> Result<()> {
        let mut keys = Vec::new();
        for row in self.method_groups.range((method.id.0, "")..)? {
            let (k, _) = row?;
            let (m, key) = k.value();
            if m != method.id.0 {
                break;
            }
            keys.push(key.to_owned());
        }
        for key in keys {
            self.method_groups.remove((method.id.0, key.as_str()))?;
        }
        self.method_runs.remove(method.id.0)?;
        self.methods.remove(method.id.0)?;
        self.course_methods.remove((method.course.0, method.id.0))?;
        Ok(())
    }

    // --------------------------------------------------------- enrolments

    pub(crate) fn put_enrolment(&mut self, e: &Enrolment) -> Result<()> {
        let updated = self
            .enrolments
            .insert((e.course.0, e.user.0, e.method.0), encode(e).as_slice())?
            .is_some();
        // An update (status, role) leaves the user's courses as they were.
        if !updated {
            self.user_course_edit(e.user, e.course).enrolled = true;
        }
        Ok(())
    }

    /// Writes a new enrolment with its index row, unless `(course,
    /// user, method)` already has one: then the file is left as it was and
    /// the existing enrolment is returned. One B-tree descent finds out
    /// and writes, where a look-up before `put_enrolment` takes two — the
    /// difference is a tenth of a 100,000-member initial sync.
    pub(crate) fn insert_enrolment_if_absent(
        &mut self,
        e: &Enrolment,
    ) -> Result<Option<Enrolment>> {
        let key = (e.course.0, e.user.0, e.method.0);
        let old = self
            .enrolments
            .insert(key, encode(e).as_slice())?
            .map(|g| g.value().to_vec());
        if let Some(old) = old {
            self.enrolments.insert(key, old.as_slice())?;
            return Ok(Some(decode("enrolments", &old)?));
        }
        self.user_course_edit(e.user, e.course).enrolled = true;
        Ok(None)
    }

    pub(crate) fn delete_enrolment_row(
        &mut self,
        course: CourseId,
        user: UserId,
        method: EnrolmentMethodId,
    ) -> Result<bool> {
        let existed = self
            .enrolments
            .remove((course.0, user.0, method.0))?
            .is_some();
        if existed && !self.has_enrolment_in(course, user)? {
            self.user_course_edit(user, course).unenrol();
        }
        Ok(existed)
    }

    fn user_course_edit(&mut self, user: UserId, course: CourseId) -> &mut UserCourseEdit {
        self.user_course_edits
            .entry((user.0, course.0))
            .or_default()
    }

    /// Writes the transaction's `user_courses` changes. A row that only
    /// gained (a new enrolment, a group) is written without being read:
    /// written as if new, and in the rare case there was a row, written
    /// again merged with it.
    fn flush_user_courses(&mut self) -> Result<()> {
        for ((user, course), edit) in std::mem::take(&mut self.user_course_edits) {
            let key = (user, course);
            if edit.unenrolled || !edit.remove.is_empty() {
                let before = match self.user_courses.get(key)? {
                    Some(g) => Some(unpack_groups(g.value())?),
                    None => None,
                };
                match edit.apply(before) {
                    Some(groups) => {
                        self.user_courses
                            .insert(key, pack_groups(&groups).as_slice())?;
                    }
                    None => {
                        self.user_courses.remove(key)?;
                    }
                }
                continue;
            }
            let Some(groups) = edit.apply(None) else {
                continue;
            };
            let old = self
                .user_courses
                .insert(key, pack_groups(&groups).as_slice())?
                .map(|g| g.value().to_vec());
            if let Some(old) = old
                && !old.is_empty()
                && let Some(merged) = edit.apply(Some(unpack_groups(&old)?))
            {
                self.user_courses
                    .insert(key, pack_groups(&merged).as_slice())?;
            }
        }
        Ok(())
    }

    // ------------------------------------------------------ course groups

    pub(crate) fn new_group_id(&mut self) -> Result<CourseGroupId> {
        Ok(CourseGroupId(self.next_id(Counter::Group)?))
    }

    pub(crate) fn put_group(&mut self, group: &CourseGroup) -> Result<()> {
        if let Some(old) = self.group(group.id)? {
            self.group_names
                .remove((old.course.0, old.name.to_lowercase().as_str()))?;
            if let Some(idn) = &old.idnumber {
                self.group_idnumbers.remove((old.course.0, idn.as_str()))?;
            }
        }
        self.groups.insert(group.id.0, encode(group).as_slice())?;
        self.course_groups
            .insert((group.course.0, group.id.0), ())?;
        self.group_names.insert(
            (group.course.0, group.name.to_lowercase().as_str()),
            group.id.0,
        )?;
        if let Some(idn) = &group.idnumber {
            self.group_idnumbers
                .insert((group.course.0, idn.as_str()), group.id.0)?;
        }
        Ok(())
    }

    pub(crate) fn delete_group_row(&mut self, group: &CourseGroup) -> Result<()> {
        self.forget_method_group(group.id)?;
        self.groups.remove(group.id.0)?;
        self.group_member_counts.remove(group.id.0)?;
        self.group_count_deltas.remove(&group.id.0);
        self.course_groups.remove((group.course.0, group.id.0))?;
        self.group_names
            .remove((group.course.0, group.name.to_lowercase().as_str()))?;
        if let Some(idn) = &group.idnumber {
            self.group_idnumbers
                .remove((group.course.0, idn.as_str()))?;
        }
        Ok(())
    }

    /// Adds a membership unless `(group, user)` has one already, which is
    /// then kept as it is (its owner too): whether it was added. One
    /// B-tree descent for the common case, a new member (see
    /// `insert_enrolment_if_absent`).
    pub(crate) fn add_group_member_if_absent(
        &mut self,
        course: CourseId,
        m: &GroupMembership,
    ) -> Result<bool> {
        let key = (m.group.0, m.user.0);
        let old = self
            .group_members
            .insert(key, encode(m).as_slice())?
            .map(|g| g.value().to_vec());
        if let Some(old) = old {
            self.group_members.insert(key, old.as_slice())?;
            return Ok(false);
        }
        self.user_course_edit(m.user, course).add_group(m.group.0);
        *self.group_count_deltas.entry(m.group.0).or_default() += 1;
        Ok(true)
    }

    pub(crate) fn delete_group_member(
        &mut self,
        course: CourseId,
        group: CourseGroupId,
        user: UserId,
    ) -> Result<bool> {
        let existed = self.group_members.remove((group.0, user.0))?.is_some();
        if existed {
            self.user_course_edit(user, course).remove_group(group.0);
            *self.group_count_deltas.entry(group.0).or_default() -= 1;
        }
        Ok(existed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::StorageError;
    use crate::storage::pool::SiteStore;

    const SITE: SiteId = SiteId(1);

    fn store() -> (tempfile::TempDir, SiteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SiteStore::open(&dir.path().join("s.redb"), SITE).unwrap();
        (dir, store)
    }

    /// Audits and emits `n` changes, each event naming its audit id as
    /// the user, so a test can tell an event's entry.
    fn change(t: &mut SiteTables<'_>, n: usize) -> Result<()> {
        for _ in 0..n {
            let id = t.audit_log(Actor::System, "test.change", String::new(), String::new())?;
            t.emit(SiteEvent::SegmentMemberAdded {
                segment: SegmentId(1),
                user: UserId(id.0),
            })?;
        }
        Ok(())
    }

    /// Transactions of these sizes: rows that are one entry, a whole
    /// chunk, more than one chunk, and a chunk cut short by its commit.
    const WRITES: [usize; 6] = [1, 300, 5, CHUNK, 2 * CHUNK + 88, 1];

    fn logged() -> (tempfile::TempDir, SiteStore, u64) {
        let (dir, store) = store();
        for n in WRITES {
            store.write(|t| change(t, n)).unwrap();
        }
        (dir, store, WRITES.iter().sum::<usize>() as u64)
    }

    fn audit_ids(t: &impl SiteRead, before: Option<u64>, limit: usize) -> Vec<u64> {
        t.audit_page(before.map(AuditId), limit, |_| true)
            .unwrap()
            .iter()
            .map(|e| e.id.0)
            .collect()
    }

    fn event_seqs(t: &impl SiteRead, after: u64, limit: usize) -> Vec<u64> {
        t.events_after(SITE, after, limit)
            .unwrap()
            .iter()
            .map(|e| {
                assert_eq!(
                    e.event,
                    SiteEvent::SegmentMemberAdded {
                        segment: SegmentId(1),
                        user: UserId(e.seq)
                    },
                    "the event at seq {} is another's",
                    e.seq
                );
                e.seq
            })
            .collect()
    }

    /// Every row boundary and both neighbours of it, plus the ends.
    fn interesting(n: u64) -> Vec<u64> {
        let mut at = vec![0, 1, 2, n - 1, n, n + 1, n + 2];
        let mut start: u64 = 1;
        for w in WRITES {
            let mut left = w as u64;
            while left > 0 {
                at.extend([start.saturating_sub(1), start, start + 1]);
                let len = left.min(CHUNK as u64);
                start += len;
                left -= len;
            }
        }
        at.sort();
        at.dedup();
        at
    }

    #[test]
    fn a_transaction_writes_its_audit_entries_and_events_in_chunks() {
        let (_dir, store, n) = logged();
        let t = store.read_tables().unwrap();
        // 1 + 2 + 1 + 1 + 3 + 1 rows for 1,163 entries of each kind.
        assert_eq!(t.audit().unwrap().len().unwrap(), 9);
        assert_eq!(t.events().unwrap().len().unwrap(), 9);
        assert_eq!(t.last_audit_id().unwrap(), n);
        assert_eq!(t.last_event_seq().unwrap(), n);
        assert_eq!(
            t.meta()
                .unwrap()
                .get("next.audit")
                .unwrap()
                .unwrap()
                .value(),
            n + 1
        );
        assert_eq!(
            t.meta()
                .unwrap()
                .get("next.event")
                .unwrap()
                .unwrap()
                .value(),
            n + 1
        );
    }

    #[test]
    fn audit_pages_start_anywhere_in_a_chunk_and_cross_chunks() {
        let (_dir, store, n) = logged();
        let t = store.read_tables().unwrap();
        for before in interesting(n) {
            let newest = before.saturating_sub(1).min(n);
            for limit in [0, 1, 3, CHUNK, CHUNK + 1, usize::MAX] {
                let want: Vec<u64> = (1..=newest).rev().take(limit).collect();
                assert_eq!(
                    audit_ids(&t, Some(before), limit),
                    want,
                    "before {before}, limit {limit}"
                );
            }
        }
        let all: Vec<u64> = (1..=n).rev().collect();
        assert_eq!(audit_ids(&t, None, usize::MAX), all);
    }

    #[test]
    fn a_filtered_audit_page_reads_on_across_chunks_until_it_is_full() {
        let (_dir, store, n) = logged();
        let t = store.read_tables().unwrap();
        // Sparse matches: a page of 3 spans several rows.
        let keep = |e: &AuditEntry| e.id.0 % 200 == 7;
        for before in interesting(n) {
            let want: Vec<u64> = (1..before.min(n + 1))
                .rev()
                .filter(|id| id % 200 == 7)
                .take(3)
                .collect();
            let got: Vec<u64> = t
                .audit_page(Some(AuditId(before)), 3, keep)
                .unwrap()
                .iter()
                .map(|e| e.id.0)
                .collect();
            assert_eq!(got, want, "before {before}");
        }
    }

    #[test]
    fn events_after_any_seq_start_at_the_next_one() {
        let (_dir, store, n) = logged();
        let t = store.read_tables().unwrap();
        for after in 0..=n + 1 {
            for limit in [1, 7] {
                let want: Vec<u64> = (after + 1..=n).take(limit).collect();
                assert_eq!(
                    event_seqs(&t, after, limit),
                    want,
                    "after {after}, limit {limit}"
                );
            }
        }
        for after in interesting(n) {
            let want: Vec<u64> = (after + 1..=n).collect();
            assert_eq!(event_seqs(&t, after, usize::MAX), want, "after {after}");
        }
    }

    /// Reads inside a write see the transaction's own entries before they
    /// are flushed, newest first after the committed ones.
    #[test]
    fn a_write_reads_its_own_unflushed_entries() {
        let (_dir, store, n) = logged();
        store
            .write(|t| {
                change(t, 3)?;
                assert_eq!(audit_ids(&*t, None, 5), [n + 3, n + 2, n + 1, n, n - 1]);
                assert_eq!(audit_ids(&*t, Some(n + 2), 2), [n + 1, n]);
                assert_eq!(event_seqs(&*t, n - 1, 10), [n, n + 1, n + 2, n + 3]);
                assert_eq!(event_seqs(&*t, n + 1, 1), [n + 2]);
                assert_eq!(t.last_audit_id()?, n + 3);
                assert_eq!(t.last_event_seq()?, n + 3);
                Ok::<_, StorageError>(())
            })
            .unwrap();
        let t = store.read_tables().unwrap();
        assert_eq!(event_seqs(&t, n - 1, 10), [n, n + 1, n + 2, n + 3]);
    }

    #[test]
    fn an_audit_entry_reads_back_as_it_was_logged_before_and_after_its_commit() {
        let (_dir, store) = store();
        let user = UserId(7);
        let logged = |t: &SiteTables<'_>| t.audit_page(None, 10, |_| true);
        let before = store
            .write(|t| {
                t.audit_log(
                    Actor::Method(EnrolmentMethodId(3)),
                    "a.b",
                    "target é",
                    String::from("why"),
                )?;
                t.audit_log(Actor::User(user), "c.d", format_args!("user #{user}"), "")?;
                logged(t)
            })
            .unwrap()
            .0;
        let after = store
            .read_tables()
            .unwrap()
            .audit_page(None, 10, |_| true)
            .unwrap();
        assert_eq!(before, after);
        let now = after[0].at;
        let entry = |id, actor, action: &str, target: &str, reason: &str| AuditEntry {
            id: AuditId(id),
            at: now,
            actor,
            action: action.into(),
            target: target.into(),
            reason: reason.into(),
        };
        assert_eq!(
            after,
            [
                entry(2, Actor::User(user), "c.d", "user #7", ""),
                entry(
                    1,
                    Actor::Method(EnrolmentMethodId(3)),
                    "a.b",
                    "target é",
                    "why"
                ),
            ]
        );
    }

    #[test]
    fn audit_entries_are_encoded_exactly_as_postcard_encodes_them() {
        let long = "x".repeat(300);
        let actors = [
            Actor::Operator(OperatorId(1)),
            Actor::User(UserId(u64::MAX)),
            Actor::Method(EnrolmentMethodId(300)),
            Actor::System,
        ];
        let times = [
            Timestamp(0),
            Timestamp(-1),
            Timestamp(1_700_000_000_000),
            Timestamp(i64::MIN),
        ];
        let mut audit = EncodedAudit::default();
        let mut want = Vec::new();
        for (i, (actor, at)) in actors.into_iter().zip(times).enumerate() {
            let id = AuditId(127 + i as u64);
            let (target, reason) = if i % 2 == 0 {
                ("", long.as_str())
            } else {
                ("é #7", "why")
            };
            audit.push(id, at, actor, "a.b", target, reason);
            want.push(AuditEntry {
                id,
                at,
                actor,
                action: "a.b".into(),
                target: target.into(),
                reason: reason.into(),
            });
        }
        // Targets written digit by digit read as their Display text, and
        // so do texts printed in place or past 127 bytes.
        let targets = [
            AuditTarget::Enrolment {
                user: UserId(0),
                course: CourseId(u64::MAX - 1),
                method: EnrolmentMethodId(10),
            },
            AuditTarget::GroupMember {
                user: UserId(9),
                group: CourseGroupId(1_000_000),
            },
            AuditTarget::SegmentMember {
                user: UserId(123_456_789),
                segment: SegmentId(7),
            },
        ];
        for (i, target) in targets.into_iter().enumerate() {
            let id = AuditId(131 + i as u64);
            let at = Timestamp(5);
            audit.push(
                id,
                at,
                Actor::System,
                "a.c",
                target,
                format_args!("{long}{i}"),
            );
            want.push(AuditEntry {
                id,
                at,
                actor: Actor::System,
                action: "a.c".into(),
                target: target.to_string(),
                reason: format!("{long}{i}"),
            });
        }
        assert_eq!(
            want[4].target,
            "user #0 in course #18446744073709551614 via method #10"
        );
        assert_eq!(want[5].target, "user #9 in group #1000000");
        assert_eq!(want[6].target, "user #123456789 in segment #7");
        let mut start = 0;
        for (end, entry) in audit.ends.iter().zip(&want) {
            assert_eq!(
                &audit.bytes[start..*end],
                encode(entry).as_slice(),
                "{entry:?}"
            );
            start = *end;
        }
        assert_eq!(audit.entries().unwrap(), want);
        let rows: Vec<_> = audit.rows().collect();
        assert_eq!(rows, [(127, encode(&want))]);
    }

    #[test]
    fn a_refused_write_leaves_no_audit_entry_or_event() {
        let (_dir, store, n) = logged();
        let refused = store.write(|t| {
            change(t, CHUNK + 1)?;
            Err::<(), _>(StorageError::Corrupt {
                table: "test",
                reason: "refused".into(),
            })
        });
        assert!(refused.is_err());
        let t = store.read_tables().unwrap();
        assert_eq!(t.last_audit_id().unwrap(), n);
        assert!(event_seqs(&t, n, 10).is_empty());
        // The ids the refused write took are free again.
        drop(t);
        store.write(|t| change(t, 1)).unwrap();
        let t = store.read_tables().unwrap();
        assert_eq!(audit_ids(&t, None, 1), [n + 1]);
    }

    /// `user_courses` holds a course while the user has any enrolment in
    /// it, however many methods: a user's enrolments, groups and a
    /// method's enrolments are all read through it or the course's rows.
    #[test]
    fn a_users_course_is_indexed_while_any_method_enrols_them() {
        let (_dir, store) = store();
        let (u, other) = (UserId(7), UserId(8));
        let (c1, c2) = (CourseId(1), CourseId(2));
        let (m1, m2, m3) = (
            EnrolmentMethodId(3),
            EnrolmentMethodId(4),
            EnrolmentMethodId(5),
        );
        let enrolment = |course, user, method| Enrolment {
            course,
            user,
            method,
            role: Some(Role::Learner),
            status: EnrolmentStatus::Active,
            created_at: Timestamp(1),
            updated_at: Timestamp(1),
        };
        store
            .write(|t| {
                t.put_enrolment(&enrolment(c1, u, m1))?;
                assert!(
                    t.insert_enrolment_if_absent(&enrolment(c1, u, m2))?
                        .is_none()
                );
                // Already there: answered, not written again.
                assert!(
                    t.insert_enrolment_if_absent(&enrolment(c1, u, m2))?
                        .is_some()
                );
                t.put_enrolment(&enrolment(c2, u, m3))?;
                t.put_enrolment(&enrolment(c1, other, m2))?;
                // An update of an existing enrolment.
                t.put_enrolment(&Enrolment {
                    status: EnrolmentStatus::Suspended,
                    ..enrolment(c2, u, m3)
                })?;
                t.put_group(&CourseGroup {
                    id: CourseGroupId(10),
                    course: c1,
                    name: "Team".into(),
                    idnumber: None,
                    description: String::new(),
                    created_at: Timestamp(1),
                })?;
                t.add_group_member_if_absent(
                    c1,
                    &GroupMembership {
                        group: CourseGroupId(10),
                        user: u,
                        owner: MembershipOwner::Manual,
                        added_at: Timestamp(1),
                    },
                )?;
                // Read back inside the transaction, before `flush`.
                assert_eq!(t.user_course_ids(u)?, [c1, c2]);
                assert_eq!(t.user_group_ids_in(c1, u)?, [CourseGroupId(10)]);
                Ok::<_, StorageError>(())
            })
            .unwrap();
        let t = store.read_tables().unwrap();
        assert_eq!(t.user_course_ids(u).unwrap(), [c1, c2]);
        let keys = |list: Vec<Enrolment>| -> Vec<_> {
            list.iter()
                .map(|e| (e.course, e.method, e.status))
                .collect()
        };
        assert_eq!(
            keys(t.user_enrolment_list(u).unwrap()),
            [
                (c1, m1, EnrolmentStatus::Active),
                (c1, m2, EnrolmentStatus::Active),
                (c2, m3, EnrolmentStatus::Suspended)
            ]
        );
        assert_eq!(t.user_group_ids(u).unwrap(), [CourseGroupId(10)]);
        assert_eq!(
            t.method_enrolment_user_ids(c1, m2, None, 10).unwrap(),
            [u, other]
        );
        assert_eq!(
            t.method_enrolment_user_ids(c1, m2, Some(u), 10).unwrap(),
            [other]
        );
        assert_eq!(t.method_enrolment_user_ids(c1, m2, None, 1).unwrap(), [u]);
        let page = t.method_enrolments_page(c1, m1, None, 10).unwrap();
        assert_eq!(keys(page), [(c1, m1, EnrolmentStatus::Active)]);
        let counts = t.method_enrolment_counts(c1).unwrap();
        assert_eq!((counts[&m1], counts[&m2], counts.get(&m3)), (1, 2, None));
        drop(t);

        // One of two methods goes: the course stays; the last: it goes.
        store
            .write(|t| {
                assert!(t.delete_enrolment_row(c1, u, m1)?);
                assert!(!t.delete_enrolment_row(c1, u, m1)?);
                Ok::<_, StorageError>(())
            })
            .unwrap();
        assert_eq!(
            store.read_tables().unwrap().user_course_ids(u).unwrap(),
            [c1, c2]
        );
        // The last enrolment goes; the group stays findable until it is
        // removed too (as `unenrol_in` does next), then the row goes.
        store
            .write(|t| {
                t.delete_enrolment_row(c1, u, m2)?;
                assert_eq!(t.user_group_ids_in(c1, u)?, [CourseGroupId(10)]);
                t.delete_group_member(c1, CourseGroupId(10), u)?;
                assert_eq!(t.user_course_ids(u)?, [c2]);
                Ok::<_, StorageError>(())
            })
            .unwrap();
        let t = store.read_tables().unwrap();
        assert_eq!(t.user_course_ids(u).unwrap(), [c2]);
        assert!(t.user_group_ids(u).unwrap().is_empty());
        assert_eq!(t.user_course_ids(other).unwrap(), [c1]);
    }

    /// An edit of a `user_courses` row composes as its changes happened in
    /// order, whatever the row was before.
    #[test]
    fn user_course_edits_compose_in_order() {
        let mut e = UserCourseEdit::default();
        assert_eq!(e.apply(None), None);
        assert_eq!(e.apply(Some(vec![3])), Some(vec![3]));
        e.enrolled = true;
        e.add_group(5);
        assert_eq!(e.apply(None), Some(vec![5]));
        assert_eq!(e.apply(Some(vec![9, 1])), Some(vec![1, 5, 9]));
        e.remove_group(5);
        e.remove_group(9);
        assert_eq!(e.apply(Some(vec![9, 1])), Some(vec![1]));
        e.add_group(9);
        assert_eq!(e.apply(Some(vec![9, 1])), Some(vec![1, 9]));
        // Unenrolled with a group left: the row stays for the group.
        e.unenrol();
        assert_eq!(e.apply(Some(vec![1])), Some(vec![1, 9]));
        e.remove_group(9);
        e.remove_group(1);
        assert_eq!(e.apply(Some(vec![1])), None);
        // Enrolled again in the same transaction.
        e.enrolled = true;
        assert_eq!(e.apply(Some(vec![1])), Some(vec![]));
    }
}
