//! The migrations of a site file, one module per schema version, each
//! holding the frozen table definitions it creates or reads.

mod v1;
mod v10;
mod v11;
mod v12;
mod v13;
mod v14;
mod v15;
mod v2;
mod v3;
mod v4;
mod v5;
mod v6;
mod v7;
mod v8;
mod v9;

#[cfg(test)]
mod fixtures;

use super::Migration;

pub const SITE_MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "create the site schema",
        apply: v1::create_the_site_schema,
    },
    Migration {
        version: 2,
        name: "enrolment-method run state and the event dispatcher's cursor",
        apply: v2::add_method_runs,
    },
    Migration {
        version: 3,
        name: "groups created by enrolment methods and plugins' site-wide settings",
        apply: v3::add_method_groups,
    },
    Migration {
        version: 4,
        name: "the audit log and the outbox in chunks of entries",
        apply: v4::chunk_audit_and_outbox,
    },
    Migration {
        version: 5,
        name: "one reverse index of enrolments and group memberships: a user's courses",
        apply: v5::index_user_courses,
    },
    Migration {
        version: 6,
        name: "what an enrolment method's staff must act on: its group was deleted",
        apply: v6::add_method_warnings,
    },
    Migration {
        version: 7,
        name: "one-off mass enrolments of a segment into a course",
        apply: v7::add_mass_enrolments,
    },
    Migration {
        version: 8,
        name: "announcements, the inbox, message preferences, the mail queue and site settings",
        apply: v8::add_messaging,
    },
    Migration {
        version: 9,
        name: "course content: sections, activities and groupings",
        apply: v9::add_course_content,
    },
    Migration {
        version: 10,
        name: "forums: discussions, posts and subscriptions",
        apply: v10::add_forums,
    },
    Migration {
        version: 11,
        name: "assignments, submissions, submitted files and grades",
        apply: v11::add_assignments,
    },
    Migration {
        version: 12,
        name: "the gradebook: manual items, categories, course totals and indexed values",
        apply: v12::add_gradebook,
    },
    Migration {
        version: 13,
        name: "one row of grade values per learner and course",
        apply: v13::pack_grade_rows,
    },
    Migration {
        version: 14,
        name: "custom profile fields, and users indexed by e-mail domain and profile value",
        apply: v14::add_profile_fields,
    },
    Migration {
        version: 15,
        name: "rule-based segments: the rule that manages a segment",
        apply: v15::add_segment_rules,
    },
];

/// Helpers of the site migration tests.
#[cfg(test)]
mod testing {
    use super::SITE_MIGRATIONS;
    use crate::storage::migrations::migrate;
    use crate::storage::site::SiteReadTables;

    /// A new site file in a temporary folder, begun at `version` (see
    /// `migrations::testing::file_at`); `fill` writes the rows of that
    /// version, then the file is migrated to today's.
    pub(super) struct Migrated {
        _dir: tempfile::TempDir,
        db: redb::Database,
        /// The versions the migration applied.
        pub(super) applied: Vec<u64>,
    }

    impl Migrated {
        pub(super) fn from(version: u64, fill: impl FnOnce(&redb::WriteTransaction)) -> Self {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("s.redb");
            let db = redb::Database::create(&path).unwrap();
            let tx = crate::storage::migrations::testing::file_at(&db, SITE_MIGRATIONS, version);
            fill(&tx);
            tx.commit().unwrap();
            let applied = migrate(&db, &path, SITE_MIGRATIONS).unwrap();
            Self {
                _dir: dir,
                db,
                applied,
            }
        }

        /// A read snapshot of the migrated file.
        pub(super) fn tables(&self) -> SiteReadTables {
            use redb::ReadableDatabase;
            SiteReadTables::open(self.db.begin_read().unwrap())
        }

        /// The names of the tables the migrated file holds.
        pub(super) fn table_names(&self) -> Vec<String> {
            use redb::ReadableDatabase;
            let tx = self.db.begin_read().unwrap();
            crate::storage::tables::stored_table_names(&tx).unwrap()
        }
    }

    /// A segment-member-added event naming `user`.
    pub(super) fn member_added(user: u64) -> crate::domain::SiteEvent {
        crate::domain::SiteEvent::SegmentMemberAdded {
            segment: crate::domain::SegmentId(1),
            user: crate::domain::UserId(user),
        }
    }
}
