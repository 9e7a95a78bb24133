//! Schema versions and numbered migrations for both kinds of redb file.
//!
//! A file records its schema version in its `meta` table. Opening a file
//! runs, in order, each migration newer than that version, each in its own
//! write transaction that also bumps the version, so a crash between two
//! migrations leaves a file at a well-defined older version. A file newer
//! than this binary knows is refused rather than misread.
//!
//! Migration 1 creates the schema. From migration 2 on, each migration
//! ships with a fixture file of the previous version under
//! `host/tests/fixtures/` and a test that opens it.

use redb::{ReadableDatabase, TableDefinition, WriteTransaction};

use super::site::CHUNK;
use super::{Result, StorageError, decode, encode};

/// One step from version `version - 1` to `version`.
pub struct Migration {
    pub version: u64,
    pub name: &'static str,
    pub apply: fn(&WriteTransaction) -> Result<()>,
}

pub const SITE_MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "create the site schema",
        apply: super::site::create_all_tables,
    },
    Migration {
        version: 2,
        name: "enrolment-method run state and the event dispatcher's cursor",
        apply: add_method_runs,
    },
    Migration {
        version: 3,
        name: "groups created by enrolment methods and plugins' site-wide settings",
        apply: add_method_groups,
    },
    Migration {
        version: 4,
        name: "the audit log and the outbox in chunks of entries",
        apply: chunk_audit_and_outbox,
    },
    Migration {
        version: 5,
        name: "one reverse index of enrolments and group memberships: a user's courses",
        apply: index_user_courses,
    },
];

/// The indexes of enrolments and group memberships up to version 4:
/// `(method, user)`, `(user, course, method)` and `(user, group)`, each
/// `→ ()`.
const METHOD_ENROLMENTS_V1: TableDefinition<(u64, u64), ()> =
    TableDefinition::new("method-enrolments-v1");
const USER_ENROLMENTS_V1: TableDefinition<(u64, u64, u64), ()> =
    TableDefinition::new("user-enrolments-v1");
const USER_GROUPS_V1: TableDefinition<(u64, u64), ()> =
    TableDefinition::new("user-course-groups-v1");

/// Builds `user-courses-v1` (a user's courses, each with their groups
/// there) from the enrolments and memberships, and deletes the three
/// indexes it replaces: a method's enrolments are now
/// read from its course's rows, a user's groups through their courses.
/// Three index rows per enrolled group member became one, which is what
/// a 100,000-member sync spent most of its time writing.
fn index_user_courses(tx: &WriteTransaction) -> Result<()> {
    use super::site::defs;
    use redb::ReadableTable;
    use std::collections::{BTreeMap, HashMap};
    {
        let mut rows: BTreeMap<(u64, u64), Vec<u64>> = BTreeMap::new();
        for row in tx.open_table(defs::ENROLMENTS)?.iter()? {
            let (course, user, _) = row?.0.value();
            rows.entry((user, course)).or_default();
        }
        let mut course_of = HashMap::new();
        for row in tx.open_table(defs::COURSE_GROUPS)?.iter()? {
            let (course, group) = row?.0.value();
            course_of.insert(group, course);
        }
        for row in tx.open_table(defs::GROUP_MEMBERS)?.iter()? {
            let (group, user) = row?.0.value();
            if let Some(&course) = course_of.get(&group) {
                rows.entry((user, course)).or_default().push(group);
            }
        }
        let mut index = tx.open_table(defs::USER_COURSES)?;
        for (key, groups) in rows {
            let bytes: Vec<u8> = groups.iter().flat_map(|g| g.to_le_bytes()).collect();
            index.insert(key, bytes.as_slice())?;
        }
    }
    tx.delete_table(METHOD_ENROLMENTS_V1)?;
    tx.delete_table(USER_ENROLMENTS_V1)?;
    tx.delete_table(USER_GROUPS_V1)?;
    Ok(())
}

/// The audit log and the outbox up to version 3: one row per entry,
/// `AuditId → AuditEntry` and `seq → SiteEvent`.
const AUDIT_V1: TableDefinition<u64, &[u8]> = TableDefinition::new("audit-v1");
const EVENTS_V1: TableDefinition<u64, &[u8]> = TableDefinition::new("events-v1");

/// Moves `audit-v1` and `events-v1` into the chunked `audit-v2` and
/// `events-v2` (see `site::defs::AUDIT`) and deletes the old tables. Ids
/// and seqs stay what they were, so audit page cursors and the
/// dispatcher's cursor still point at the same entries.
fn chunk_audit_and_outbox(tx: &WriteTransaction) -> Result<()> {
    use crate::domain::{AuditEntry, SiteEvent};
    rechunk::<AuditEntry>(tx, AUDIT_V1, super::site::defs::AUDIT, "audit-v1")?;
    rechunk::<SiteEvent>(tx, EVENTS_V1, super::site::defs::EVENTS, "events-v1")?;
    Ok(())
}

/// Copies one-entry-per-row `old` into `new` as chunks of consecutive
/// keys. Old rows have no gaps (a rolled-back write takes no id), but a
/// chunk is closed at a gap anyway: the readers take a row's entries to
/// run on from its key, and a wrong seq would be worse than a short chunk.
fn rechunk<T: serde::Serialize + serde::de::DeserializeOwned>(
    tx: &WriteTransaction,
    old: TableDefinition<u64, &[u8]>,
    new: TableDefinition<u64, &[u8]>,
    name: &'static str,
) -> Result<()> {
    use redb::ReadableTable;
    {
        let from = tx.open_table(old)?;
        let mut to = tx.open_table(new)?;
        let mut first = 0;
        let mut chunk: Vec<T> = Vec::new();
        for row in from.iter()? {
            let (k, v) = row?;
            let key = k.value();
            if !chunk.is_empty() && (chunk.len() == CHUNK || key != first + chunk.len() as u64) {
                to.insert(first, encode(&chunk).as_slice())?;
                chunk.clear();
            }
            if chunk.is_empty() {
                first = key;
            }
            chunk.push(decode(name, v.value())?);
        }
        if !chunk.is_empty() {
            to.insert(first, encode(&chunk).as_slice())?;
        }
    }
    tx.delete_table(old)?;
    Ok(())
}

/// Creates `method-groups-v1` and `plugin-settings-v1`, both empty: no
/// instance has created a group by key and no site has settings yet.
fn add_method_groups(tx: &WriteTransaction) -> Result<()> {
    tx.open_table(super::site::defs::METHOD_GROUPS)?;
    tx.open_table(super::site::defs::PLUGIN_SETTINGS)?;
    Ok(())
}

/// Creates `method-runs-v1` and `dispatch-v1`. The dispatcher starts at
/// the end of the existing outbox: events written before plugins ran had
/// no instance to reach, and replaying a site's whole history to its
/// instances on upgrade would redo (idempotently, but slowly) what they
/// never asked for.
fn add_method_runs(tx: &WriteTransaction) -> Result<()> {
    use redb::ReadableTable;
    tx.open_table(super::site::defs::METHOD_RUNS)?;
    let last = tx
        .open_table(EVENTS_V1)?
        .last()?
        .map_or(0, |(k, _)| k.value());
    tx.open_table(super::site::defs::DISPATCH)?
        .insert("cursor", last)?;
    Ok(())
}

pub const REGISTRY_MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "create the registry schema",
        apply: super::registry::create_all_tables,
    },
    Migration {
        version: 2,
        name: "add installed plugin versions and per-site plugin records",
        apply: super::registry::create_plugin_tables,
    },
    Migration {
        version: 3,
        name: "add page sessions",
        apply: super::registry::create_session_table,
    },
];

/// The schema version this binary writes.
pub fn latest(migrations: &[Migration]) -> u64 {
    migrations.last().map_or(0, |m| m.version)
}

const META: TableDefinition<&str, u64> = TableDefinition::new("meta-v1");

fn stored_version(db: &redb::Database) -> Result<u64> {
    let tx = db.begin_read()?;
    let meta = match tx.open_table(META) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(0),
        Err(e) => return Err(e.into()),
    };
    Ok(meta.get("schema_version")?.map_or(0, |g| g.value()))
}

/// Brings `db` up to the newest version in `migrations`. Returns the
/// versions it applied.
pub fn migrate(
    db: &redb::Database,
    path: &std::path::Path,
    migrations: &[Migration],
) -> Result<Vec<u64>> {
    let known = latest(migrations);
    let found = stored_version(db)?;
    if found > known {
        return Err(StorageError::TooNew {
            path: path.display().to_string(),
            found,
            known,
        });
    }
    let mut applied = Vec::new();
    for m in migrations.iter().filter(|m| m.version > found) {
        let tx = db.begin_write()?;
        (m.apply)(&tx)?;
        tx.open_table(META)?.insert("schema_version", m.version)?;
        tx.commit()?;
        tracing::info!(file = %path.display(), version = m.version, "applied migration: {}", m.name);
        applied.push(m.version);
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::site::defs;

    /// Begins a file at `version` as that version left it: the tables of
    /// the migrations up to it (migration 1 creates today's, so later
    /// tables are dropped again), the three enrolment and membership
    /// indexes before version 5, and the audit log and outbox one row per
    /// entry before version 4. The caller fills and commits it.
    fn file_at(db: &redb::Database, version: u64) -> WriteTransaction {
        assert!(version < 5, "a file at {version} has today's layout");
        let tx = db.begin_write().unwrap();
        for m in SITE_MIGRATIONS.iter().filter(|m| m.version <= version) {
            (m.apply)(&tx).unwrap();
        }
        tx.delete_table(defs::USER_COURSES).unwrap();
        tx.open_table(METHOD_ENROLMENTS_V1).unwrap();
        tx.open_table(USER_ENROLMENTS_V1).unwrap();
        tx.open_table(USER_GROUPS_V1).unwrap();
        if version < 4 {
            tx.delete_table(defs::AUDIT).unwrap();
            tx.delete_table(defs::EVENTS).unwrap();
            tx.open_table(AUDIT_V1).unwrap();
            tx.open_table(EVENTS_V1).unwrap();
        }
        if version < 3 {
            tx.delete_table(defs::METHOD_GROUPS).unwrap();
            tx.delete_table(defs::PLUGIN_SETTINGS).unwrap();
        }
        if version < 2 {
            tx.delete_table(defs::METHOD_RUNS).unwrap();
            tx.delete_table(defs::DISPATCH).unwrap();
        }
        tx.open_table(META)
            .unwrap()
            .insert("schema_version", version)
            .unwrap();
        tx
    }

    fn table_names(tx: &redb::ReadTransaction) -> Vec<String> {
        use redb::TableHandle;
        tx.list_tables()
            .unwrap()
            .map(|t| t.name().to_owned())
            .collect()
    }

    fn member_added(user: u64) -> crate::domain::SiteEvent {
        crate::domain::SiteEvent::SegmentMemberAdded {
            segment: crate::domain::SegmentId(1),
            user: crate::domain::UserId(user),
        }
    }

    #[test]
    fn a_new_file_gets_every_migration_and_a_second_open_none() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.redb");
        let db = redb::Database::create(&path).unwrap();
        assert_eq!(
            migrate(&db, &path, SITE_MIGRATIONS).unwrap(),
            vec![1, 2, 3, 4, 5]
        );
        assert!(migrate(&db, &path, SITE_MIGRATIONS).unwrap().is_empty());
        assert_eq!(stored_version(&db).unwrap(), latest(SITE_MIGRATIONS));
    }

    /// Migration 2 on a version-1 file with history: the run-state table
    /// appears and the dispatcher starts after the existing events.
    #[test]
    fn migration_2_starts_the_dispatcher_at_the_end_of_the_outbox() {
        use crate::storage::site::{SiteRead, SiteReadTables};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.redb");
        let db = redb::Database::create(&path).unwrap();
        let tx = file_at(&db, 1);
        {
            let mut events = tx.open_table(EVENTS_V1).unwrap();
            for seq in 1..=7 {
                events
                    .insert(seq, encode(&member_added(seq)).as_slice())
                    .unwrap();
            }
        }
        tx.commit().unwrap();
        assert_eq!(
            migrate(&db, &path, SITE_MIGRATIONS).unwrap(),
            vec![2, 3, 4, 5]
        );
        let tx = db.begin_read().unwrap();
        let t = SiteReadTables::open(tx);
        assert_eq!(t.dispatch_cursor().unwrap(), 7);
        assert!(
            t.method_run(crate::domain::EnrolmentMethodId(1))
                .unwrap()
                .is_none()
        );
    }

    /// Migration 3 on a version-2 file: the two new tables appear empty
    /// and what was there stays.
    #[test]
    fn migration_3_adds_method_groups_and_plugin_settings() {
        use crate::domain::{CourseGroupId, EnrolmentMethodId};
        use crate::storage::site::{SiteRead, SiteReadTables};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.redb");
        let db = redb::Database::create(&path).unwrap();
        let tx = file_at(&db, 2);
        tx.open_table(defs::DISPATCH)
            .unwrap()
            .insert("cursor", 5)
            .unwrap();
        tx.commit().unwrap();
        assert_eq!(migrate(&db, &path, SITE_MIGRATIONS).unwrap(), vec![3, 4, 5]);
        let tx = db.begin_read().unwrap();
        let t = SiteReadTables::open(tx);
        assert_eq!(t.dispatch_cursor().unwrap(), 5);
        assert_eq!(
            t.method_group(EnrolmentMethodId(1), "group").unwrap(),
            None::<CourseGroupId>
        );
        assert_eq!(t.plugin_settings_json("segment-sync").unwrap(), None);
    }

    /// Migration 4 on a version-3 file: every audit entry and event is
    /// found under its old id and seq, chunks stop at a gap in the keys,
    /// and the old tables are gone.
    #[test]
    fn migration_4_chunks_the_audit_log_and_the_outbox() {
        use crate::domain::*;
        use crate::storage::site::{SiteRead, SiteReadTables, SiteTablesRead};
        use redb::ReadableTableMetadata;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.redb");
        let db = redb::Database::create(&path).unwrap();
        // Two chunks and a bit, then a gap (no write has made one, but
        // a chunk must not run across it), then a short run.
        let ids: Vec<u64> = (1..=2 * CHUNK as u64 + 10).chain(600..=605).collect();
        let entry = |id: u64| AuditEntry {
            id: AuditId(id),
            at: Timestamp(1_700_000_000_000 + id as i64),
            actor: Actor::User(UserId(id)),
            action: "user.updated".into(),
            target: format!("user #{id}"),
            reason: String::new(),
        };
        let tx = file_at(&db, 3);
        {
            let mut audit = tx.open_table(AUDIT_V1).unwrap();
            let mut events = tx.open_table(EVENTS_V1).unwrap();
            for &id in &ids {
                audit.insert(id, encode(&entry(id)).as_slice()).unwrap();
                events
                    .insert(id, encode(&member_added(id)).as_slice())
                    .unwrap();
            }
        }
        tx.open_table(defs::DISPATCH)
            .unwrap()
            .insert("cursor", 300)
            .unwrap();
        tx.commit().unwrap();

        assert_eq!(migrate(&db, &path, SITE_MIGRATIONS).unwrap(), vec![4, 5]);
        let tx = db.begin_read().unwrap();
        let names = table_names(&tx);
        assert!(!names.contains(&"audit-v1".to_owned()), "{names:?}");
        assert!(!names.contains(&"events-v1".to_owned()), "{names:?}");
        let t = SiteReadTables::open(tx);
        let audit = t.audit_page(None, usize::MAX, |_| true).unwrap();
        let want: Vec<AuditEntry> = ids.iter().rev().map(|&id| entry(id)).collect();
        assert_eq!(audit, want);
        let events = t.events_after(SiteId(1), 0, usize::MAX).unwrap();
        let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, ids);
        for e in &events {
            assert_eq!(e.event, member_added(e.seq));
        }
        // The dispatcher carries on where it was.
        assert_eq!(t.dispatch_cursor().unwrap(), 300);
        let next: Vec<u64> = t
            .events_after(SiteId(1), 300, 3)
            .unwrap()
            .iter()
            .map(|e| e.seq)
            .collect();
        assert_eq!(next, [301, 302, 303]);
        // 256 + 256 + 10 before the gap, 6 after it.
        assert_eq!(t.audit().unwrap().len().unwrap(), 4);
        assert_eq!(t.events().unwrap().len().unwrap(), 4);
    }

    /// Migration 5 on a version-4 file: each user's courses are indexed
    /// once whatever the number of methods, a user's groups and enrolments
    /// and a method's enrolments read as before, and the old indexes are
    /// gone.
    #[test]
    fn migration_5_indexes_each_users_courses_and_drops_the_old_indexes() {
        use crate::domain::*;
        use crate::storage::site::{SiteRead, SiteReadTables};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.redb");
        let db = redb::Database::create(&path).unwrap();
        let enrolment = |course: u64, user: u64, method: u64| Enrolment {
            course: CourseId(course),
            user: UserId(user),
            method: EnrolmentMethodId(method),
            role: Some(Role::Learner),
            status: EnrolmentStatus::Active,
            created_at: Timestamp(1),
            updated_at: Timestamp(1),
        };
        // User 7: two methods in course 1, one in course 2, a member of
        // group 10 of course 1. User 8: course 2 only.
        let rows = [(1, 7, 3), (1, 7, 4), (2, 7, 5), (2, 8, 5)];
        let tx = file_at(&db, 4);
        {
            let mut enrolments = tx.open_table(defs::ENROLMENTS).unwrap();
            let mut by_method = tx.open_table(METHOD_ENROLMENTS_V1).unwrap();
            let mut by_user = tx.open_table(USER_ENROLMENTS_V1).unwrap();
            for (c, u, m) in rows {
                enrolments
                    .insert((c, u, m), encode(&enrolment(c, u, m)).as_slice())
                    .unwrap();
                by_method.insert((m, u), ()).unwrap();
                by_user.insert((u, c, m), ()).unwrap();
            }
            let membership = GroupMembership {
                group: CourseGroupId(10),
                user: UserId(7),
                owner: MembershipOwner::Manual,
                added_at: Timestamp(1),
            };
            tx.open_table(defs::GROUP_MEMBERS)
                .unwrap()
                .insert((10, 7), encode(&membership).as_slice())
                .unwrap();
            tx.open_table(defs::COURSE_GROUPS)
                .unwrap()
                .insert((1, 10), ())
                .unwrap();
            tx.open_table(USER_GROUPS_V1)
                .unwrap()
                .insert((7, 10), ())
                .unwrap();
        }
        tx.commit().unwrap();

        assert_eq!(migrate(&db, &path, SITE_MIGRATIONS).unwrap(), vec![5]);
        let tx = db.begin_read().unwrap();
        let names = table_names(&tx);
        for old in [
            "method-enrolments-v1",
            "user-enrolments-v1",
            "user-course-groups-v1",
        ] {
            assert!(!names.contains(&old.to_owned()), "{old} in {names:?}");
        }
        let t = SiteReadTables::open(tx);
        assert_eq!(
            t.user_course_ids(UserId(7)).unwrap(),
            [CourseId(1), CourseId(2)]
        );
        assert_eq!(t.user_course_ids(UserId(8)).unwrap(), [CourseId(2)]);
        let mine: Vec<_> = t
            .user_enrolment_list(UserId(7))
            .unwrap()
            .into_iter()
            .map(|e| (e.course.0, e.user.0, e.method.0))
            .collect();
        assert_eq!(mine, rows[..3]);
        assert_eq!(t.user_group_ids(UserId(7)).unwrap(), [CourseGroupId(10)]);
        assert!(t.user_group_ids(UserId(8)).unwrap().is_empty());
        assert_eq!(
            t.method_enrolment_user_ids(CourseId(2), EnrolmentMethodId(5), None, 10)
                .unwrap(),
            [UserId(7), UserId(8)]
        );
    }

    #[test]
    fn a_registry_of_the_previous_release_opens_and_migrates() {
        // `registry-v1.redb` was written by the release before plugins: a
        // default site, a site "acme", the first operator and a token.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("registry.redb");
        std::fs::copy(
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/registry-v1.redb"
            ),
            &path,
        )
        .unwrap();
        let db = redb::Database::create(&path).unwrap();
        assert_eq!(stored_version(&db).unwrap(), 1);
        assert_eq!(
            migrate(&db, &path, REGISTRY_MIGRATIONS).unwrap(),
            vec![2, 3]
        );
        drop(db);
        let store = crate::storage::registry::RegistryStore::open(&path).unwrap();
        use crate::storage::registry::RegistryRead;
        store
            .read(|t| {
                let slugs: Vec<String> = t.sites()?.into_iter().map(|s| s.slug).collect();
                assert_eq!(slugs, ["default", "acme"]);
                assert_eq!(t.operator_count()?, 1);
                assert_eq!(t.api_tokens()?.len(), 1);
                assert!(t.plugin_versions()?.is_empty());
                assert!(t.site_plugins(crate::domain::SiteId(1))?.is_empty());
                Ok::<_, StorageError>(())
            })
            .unwrap();
    }

    #[test]
    fn a_file_from_a_newer_charon_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.redb");
        let db = redb::Database::create(&path).unwrap();
        let tx = db.begin_write().unwrap();
        tx.open_table(META)
            .unwrap()
            .insert("schema_version", 999)
            .unwrap();
        tx.commit().unwrap();
        let err = migrate(&db, &path, SITE_MIGRATIONS).unwrap_err();
        assert!(
            matches!(err, StorageError::TooNew { found: 999, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("upgrade Charon"));
    }
}
