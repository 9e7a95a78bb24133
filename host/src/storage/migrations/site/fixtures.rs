//! The site fixture of each schema version (`host/tests/fixtures/
//! site-v{N}.redb`, written through the services of that version; the
//! folder's README says by which commit and with what), opened, migrated
//! to today's schema and read through today's queries: rows, indexes,
//! member counts, id counters, the audit log and the outbox.
//!
//! Every fixture holds the same scenario, the later ones with more:
//! `TestSite` ("acme": admin #1, teacher #2, learner1–5 = #3–#7, segments
//! HR #1 and Finance #2, course COMP101 #1 with its manual method #1,
//! groups Team A #1 and Team B #2), then learner1–2 into Team A and
//! learner3 into Team B; method #2 `self` enrolling learner1 and learner5;
//! learner5 suspended; learner4 removed from Finance; 300 users `bulk001`…
//! (#8–#307) made in one call and added in one call to segment Everyone
//! #3; and last learner4 into Team B. From version 2 a `hostile` method
//! #3 whose plugin panics (its run state), from version 3 the
//! segment-sync method #4 "HR sync" of HR into a group it creates ("HR
//! segment" #3) and segment-sync's site settings.

use redb::ReadableTable;

use crate::domain::*;
use crate::storage::migrations::testing::fixture_copy;
use crate::storage::migrations::{migrate, stored_version};
use crate::storage::pool::SiteStore;
use crate::storage::site::prelude::*;
use crate::storage::site::{SiteReadTables, SiteTablesRead};
use crate::storage::{StorageError, decode};

const SITE: SiteId = SiteId(1);
const ADMIN: UserId = UserId(1);
const TEACHER: UserId = UserId(2);
const LEARNER: [UserId; 5] = [UserId(3), UserId(4), UserId(5), UserId(6), UserId(7)];
const HR: SegmentId = SegmentId(1);
const FINANCE: SegmentId = SegmentId(2);
const EVERYONE: SegmentId = SegmentId(3);
const COURSE: CourseId = CourseId(1);
const MANUAL: EnrolmentMethodId = EnrolmentMethodId(1);
const SELF: EnrolmentMethodId = EnrolmentMethodId(2);
const HOSTILE: EnrolmentMethodId = EnrolmentMethodId(3);
const SYNC: EnrolmentMethodId = EnrolmentMethodId(4);
const TEAM_A: CourseGroupId = CourseGroupId(1);
const TEAM_B: CourseGroupId = CourseGroupId(2);
const HR_GROUP: CourseGroupId = CourseGroupId(3);

/// A copy of the fixture of `version`, migrated to today's schema.
struct Migrated {
    _dir: tempfile::TempDir,
    store: SiteStore,
}

impl Migrated {
    fn open(version: u64) -> Self {
        let (dir, path) = fixture_copy(&format!("site-v{version}.redb"));
        let db = redb::Database::create(&path).unwrap();
        assert_eq!(stored_version(&db).unwrap(), version);
        let applied = migrate(&db, &path, super::SITE_MIGRATIONS).unwrap();
        let want: Vec<u64> = (version + 1..=15).collect();
        assert_eq!(applied, want);
        drop(db);
        let store = SiteStore::open(&path, SITE).unwrap();
        // Exactly today's tables, each of its live types (a stray or
        // missing table, or another type, fails the snapshot).
        store.snapshot().unwrap();
        Self { _dir: dir, store }
    }

    fn tables(&self) -> SiteReadTables {
        self.store.read_tables().unwrap()
    }
}

fn ids<T>(list: Vec<T>, id: impl Fn(&T) -> u64) -> Vec<u64> {
    list.iter().map(id).collect()
}

/// `(key, entries)` of every chunk row of the audit log or the outbox.
fn chunks<T: serde::de::DeserializeOwned>(
    table: &impl ReadableTable<u64, &'static [u8]>,
) -> Vec<(u64, usize)> {
    let mut out = Vec::new();
    for row in table.iter().unwrap() {
        let (k, v) = row.unwrap();
        let chunk: Vec<T> = decode("chunk", v.value()).unwrap();
        out.push((k.value(), chunk.len()));
    }
    out
}

/// What every version holds: the scenario up to version 1's part.
fn assert_the_common_part(t: &SiteReadTables) {
    // Users and their unique-key indexes (lower-cased).
    assert_eq!(t.user_count().unwrap(), 307);
    assert_eq!(t.user_id_by_username("LEARNER3").unwrap(), Some(LEARNER[2]));
    assert_eq!(
        t.user_id_by_email("bulk300@example.org").unwrap(),
        Some(UserId(307))
    );
    assert_eq!(
        t.user(ADMIN).unwrap().unwrap().site_role,
        SiteRole::SiteAdmin
    );
    assert_eq!(
        t.user_status(LEARNER[4]).unwrap(),
        Some(UserStatus::Suspended)
    );
    assert_eq!(t.user_status(LEARNER[3]).unwrap(), Some(UserStatus::Active));
    // Segments, members both ways, kept counts.
    assert_eq!(t.segment_id_by_idnumber("hr").unwrap(), Some(HR));
    assert_eq!(
        t.segment_id_by_idnumber("everyone").unwrap(),
        Some(EVERYONE)
    );
    assert_eq!(t.segment_member_ids(HR, None, 10).unwrap(), LEARNER[0..3]);
    assert_eq!(
        t.segment_member_ids(FINANCE, None, 10).unwrap(),
        [LEARNER[4]]
    );
    assert_eq!(
        t.segment_member_ids(EVERYONE, Some(UserId(305)), 10)
            .unwrap(),
        [UserId(306), UserId(307)]
    );
    let counts: Vec<u64> = [HR, FINANCE, EVERYONE]
        .map(|s| t.segment_member_count(s).unwrap())
        .into();
    assert_eq!(counts, [3, 1, 300]);
    assert!(t.user_segment_ids(LEARNER[3]).unwrap().is_empty());
    assert_eq!(t.user_segment_ids(UserId(8)).unwrap(), [EVERYONE]);
    // The course, its methods and their enrolments.
    assert_eq!(t.course_id_by_shortname("comp101").unwrap(), Some(COURSE));
    let method = |id| t.method(id).unwrap().unwrap();
    assert_eq!(method(MANUAL).plugin, "manual");
    assert_eq!(method(SELF).plugin, "self");
    assert_eq!(
        t.method_enrolment_user_ids(COURSE, MANUAL, None, 10)
            .unwrap(),
        [TEACHER, LEARNER[0], LEARNER[1], LEARNER[2], LEARNER[3]]
    );
    assert_eq!(
        t.method_enrolment_user_ids(COURSE, SELF, None, 10).unwrap(),
        [LEARNER[0], LEARNER[4]]
    );
    assert_eq!(
        t.enrolment(COURSE, TEACHER, MANUAL).unwrap().unwrap().role,
        Some(Role::Teacher)
    );
    // The reverse index of enrolments and memberships (built by
    // migration 5 for older files).
    assert!(t.user_course_ids(ADMIN).unwrap().is_empty());
    assert_eq!(t.user_course_ids(LEARNER[4]).unwrap(), [COURSE]);
    assert!(t.user_course_ids(UserId(8)).unwrap().is_empty());
    assert_eq!(t.user_group_ids(LEARNER[3]).unwrap(), [TEAM_B]);
    assert!(t.user_group_ids(LEARNER[4]).unwrap().is_empty());
    // Groups, their name index, members, kept counts.
    assert_eq!(t.group_id_by_name(COURSE, "TEAM A").unwrap(), Some(TEAM_A));
    let members = |g| ids(t.group_members_page(g, None, 10).unwrap(), |m| m.user.0);
    assert_eq!(members(TEAM_A), [3, 4]);
    assert_eq!(members(TEAM_B), [5, 6]);
    assert_eq!(t.group_member_count(TEAM_A).unwrap(), 2);
    assert_eq!(t.group_member_count(TEAM_B).unwrap(), 2);
    // The audit log and the outbox read whole, every id once, in order.
    let last = t.last_audit_id().unwrap();
    let audit = t.audit_page(None, usize::MAX, |_| true).unwrap();
    assert_eq!(
        ids(audit.clone(), |e| e.id.0),
        (1..=last).rev().collect::<Vec<_>>()
    );
    assert_eq!(audit[0].target, "user #6 in group #2");
    let created = audit.iter().filter(|e| e.action == "user.created").count();
    assert_eq!(created, 307);
    let seq = t.last_event_seq().unwrap();
    let events = t.events_after(SITE, 0, usize::MAX).unwrap();
    assert_eq!(ids(events, |e| e.seq), (1..=seq).collect::<Vec<_>>());
}

/// The parts of versions 2 and 3: a crashed method's run state, and a
/// segment sync's enrolments, method-owned group, group key and settings.
fn assert_the_hostile_method(t: &SiteReadTables) {
    let run = t.method_run(HOSTILE).unwrap().unwrap();
    assert_eq!(run.last_error.unwrap().code, "plugin_crashed");
    assert!(run.error_count >= 1);
    assert!(t.method_run(MANUAL).unwrap().is_none());
}

fn assert_the_segment_sync(t: &SiteReadTables) {
    assert_eq!(t.method(SYNC).unwrap().unwrap().plugin, "segment-sync");
    assert_eq!(
        t.method_enrolment_user_ids(COURSE, SYNC, None, 10).unwrap(),
        LEARNER[0..3]
    );
    assert_eq!(t.method_group(SYNC, "group").unwrap(), Some(HR_GROUP));
    let owners: Vec<_> = t
        .group_members_page(HR_GROUP, None, 10)
        .unwrap()
        .into_iter()
        .map(|m| (m.user, m.owner))
        .collect();
    let by_sync = MembershipOwner::Method(SYNC);
    assert_eq!(
        owners,
        [
            (LEARNER[0], by_sync),
            (LEARNER[1], by_sync),
            (LEARNER[2], by_sync)
        ]
    );
    assert_eq!(t.user_group_ids(LEARNER[0]).unwrap(), [TEAM_A, HR_GROUP]);
    assert_eq!(
        t.user_group_ids_in(COURSE, LEARNER[2]).unwrap(),
        [TEAM_B, HR_GROUP]
    );
    assert_eq!(
        t.plugin_settings_json("segment-sync").unwrap().as_deref(),
        Some(r#"{"removal-action":"suspend"}"#)
    );
}

/// The chunks a file of version 4 or later was written with stay as they
/// were: the 300 users of one call, then their 300 segment memberships of
/// another, each cut at 256, among `audit_rows` rows of the audit log.
fn assert_the_chunks_as_written(t: &SiteReadTables, audit_rows: usize) {
    let audit = chunks::<AuditEntry>(t.audit().unwrap());
    assert_eq!(audit.len(), audit_rows);
    for row in [(37, 256), (293, 44), (338, 256), (594, 44)] {
        assert!(audit.contains(&row), "{row:?} in {audit:?}");
    }
    let events = chunks::<SiteEvent>(t.events().unwrap());
    assert_eq!(events.len(), 32);
    for row in [(27, 256), (283, 44), (327, 256), (583, 44)] {
        assert!(events.contains(&row), "{row:?} in {events:?}");
    }
}

/// A change after the migration takes the next ids and seqs, counts one
/// more change and keeps the member counts.
fn assert_writes_continue(file: &Migrated) {
    let t = file.tables();
    let (audit, seq, changes) = (
        t.last_audit_id().unwrap(),
        t.last_event_seq().unwrap(),
        t.changes().unwrap(),
    );
    drop(t);
    let (user, id) = file
        .store
        .write(|t| {
            let user = t.new_user_id()?;
            t.insert_segment_member(HR, LEARNER[3])?;
            let id = t.audit_log(Actor::System, "test.change", "after", "")?;
            t.emit(SiteEvent::SegmentMemberAdded {
                segment: HR,
                user: LEARNER[3],
            })?;
            Ok::<_, StorageError>((user, id))
        })
        .unwrap()
        .0;
    assert_eq!((user, id), (UserId(308), AuditId(audit + 1)));
    let t = file.tables();
    assert_eq!(t.last_event_seq().unwrap(), seq + 1);
    assert_eq!(t.changes().unwrap(), changes + 1);
    assert_eq!(t.segment_member_count(HR).unwrap(), 4);
}

/// Migration 4 cut a one-row-per-entry log of a version before it into
/// runs of 256 from id 1 (ids have no gaps), `last` entries in all.
fn assert_rechunked(table: Vec<(u64, usize)>, last: u64) {
    let want: Vec<(u64, usize)> = (0..last.div_ceil(256))
        .map(|i| (1 + 256 * i, (last - 256 * i).min(256) as usize))
        .collect();
    assert_eq!(table, want);
}

#[test]
fn a_version_1_site_migrates_with_its_content() {
    let file = Migrated::open(1);
    let t = file.tables();
    assert_the_common_part(&t);
    // No method ran yet: no run state, no settings, no group keys.
    assert!(t.method(HOSTILE).unwrap().is_none());
    assert!(t.method_run(MANUAL).unwrap().is_none());
    assert_eq!(t.plugin_settings_json("segment-sync").unwrap(), None);
    assert_eq!(t.method_group(SYNC, "group").unwrap(), None);
    assert_eq!(t.last_audit_id().unwrap(), 636);
    assert_rechunked(chunks::<AuditEntry>(t.audit().unwrap()), 636);
    assert_rechunked(chunks::<SiteEvent>(t.events().unwrap()), 627);
    // Migration 2 started the dispatcher after the whole outbox.
    assert_eq!(t.dispatch_cursor().unwrap(), t.last_event_seq().unwrap());
    assert_eq!(t.changes().unwrap(), 0);
    drop(t);
    assert_writes_continue(&file);
}

#[test]
fn a_version_2_site_migrates_with_its_content() {
    let file = Migrated::open(2);
    let t = file.tables();
    assert_the_common_part(&t);
    assert_the_hostile_method(&t);
    assert!(t.method(SYNC).unwrap().is_none());
    assert_eq!(t.plugin_settings_json("segment-sync").unwrap(), None);
    assert_eq!(t.last_audit_id().unwrap(), 641);
    assert_rechunked(chunks::<AuditEntry>(t.audit().unwrap()), 641);
    assert_rechunked(chunks::<SiteEvent>(t.events().unwrap()), 630);
    // The dispatcher is where version 2 left it: before the last event.
    assert_eq!(t.dispatch_cursor().unwrap(), 629);
    assert_eq!(t.changes().unwrap(), 0);
    drop(t);
    assert_writes_continue(&file);
}

#[test]
fn a_version_3_site_migrates_with_its_content() {
    let file = Migrated::open(3);
    let t = file.tables();
    assert_the_common_part(&t);
    assert_the_hostile_method(&t);
    assert_the_segment_sync(&t);
    // Migration 4 cut the one-per-row log into runs of 256.
    assert_eq!(t.last_audit_id().unwrap(), 651);
    assert_rechunked(chunks::<AuditEntry>(t.audit().unwrap()), 651);
    assert_rechunked(chunks::<SiteEvent>(t.events().unwrap()), 637);
    // The dispatcher is where version 3 left it: before the last event.
    assert_eq!(t.dispatch_cursor().unwrap(), 636);
    assert_eq!(t.changes().unwrap(), 0);
    drop(t);
    assert_writes_continue(&file);
}

#[test]
fn a_version_4_site_migrates_with_its_content() {
    let file = Migrated::open(4);
    let t = file.tables();
    assert_the_common_part(&t);
    assert_the_hostile_method(&t);
    assert_the_segment_sync(&t);
    assert_the_chunks_as_written(&t, 45);
    assert_eq!(t.dispatch_cursor().unwrap(), 636);
    assert_eq!(t.changes().unwrap(), 43);
    drop(t);
    assert_writes_continue(&file);
}

/// Version 5 gains only the (empty) table of method warnings.
#[test]
fn a_version_5_site_migrates_with_its_content() {
    let file = Migrated::open(5);
    let t = file.tables();
    assert_the_common_part(&t);
    assert_the_hostile_method(&t);
    assert_the_segment_sync(&t);
    assert_the_chunks_as_written(&t, 46);
    assert_eq!(t.dispatch_cursor().unwrap(), 636);
    assert_eq!(t.changes().unwrap(), 44);
    assert!(t.all_method_warnings().unwrap().is_empty());
    drop(t);
    assert_writes_continue(&file);
}
