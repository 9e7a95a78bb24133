//! Storage: redb files, typed tables and migrations.
//!
//! The layout is one registry file (`registry.redb`: sites, operators) and
//! one file per site (`sites/{slug}.redb`: everything of that site), so a
//! site is backed up, restored, moved or deleted as a unit. This module owns
//! the table definitions, the byte encoding of records and the schema
//! versions. It knows nothing of authorisation or domain rules: callers in
//! `services` decide *whether* to write; storage only says *how*.
//!
//! Every write runs inside one redb write transaction that the caller hands
//! in (`SiteTables`, `RegistryTables`); storage functions never open or
//! commit transactions of their own.
//!
//! - `tables.rs`: the macro both files declare their tables with;
//! - `site/`, `registry/`: each file's tables, queries and writes;
//! - `migrations/`: the numbered migrations of both, on frozen tables;
//! - `pool.rs`: site files opened on demand, and their transactions;
//! - `private.rs`: the data dir and its files readable by the owner only;
//! - `FORMAT.md`: what is encoded by hand, and why it is correct.

pub mod migrations;
pub mod pool;
pub mod private;
pub mod registry;
pub mod site;
mod tables;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// Errors of the storage layer. None of them is the user's fault: a
/// service maps them to an internal error and logs the detail.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("database error: {0}")]
    Redb(#[from] redb::Error),
    #[error("the data file {path} is open in another process (is `charon serve` running?)")]
    AlreadyOpen { path: String },
    #[error("corrupt record in table {table}: {reason}")]
    Corrupt { table: &'static str, reason: String },
    #[error(
        "the data file {path} has schema version {found}, newer than this Charon knows ({known}); upgrade Charon"
    )]
    TooNew {
        path: String,
        found: u64,
        known: u64,
    },
    #[error(
        "the data dir {path} is owned by user id {owner}, not by the user Charon runs as ({me}); \
         run Charon as its owner or give it a data dir of its own"
    )]
    ForeignDataDir { path: String, owner: u32, me: u32 },
    #[error("I/O error on {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

macro_rules! redb_error_from {
    ($($t:ty),*) => {$(
        impl From<$t> for StorageError {
            fn from(e: $t) -> Self {
                StorageError::Redb(e.into())
            }
        }
    )*};
}
redb_error_from!(
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);

pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// Records are stored as postcard: compact, fast, and with serde. postcard
/// is not self-describing, so a changed record layout needs a migration,
/// and stored types must not use serde's internally or adjacently tagged
/// enums (they need `deserialize_any`); `tests::every_record_round_trips`
/// guards that.
pub(crate) fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Serialising plain data structs into a Vec cannot fail.
    postcard::to_allocvec(value).unwrap_or_default()
}

pub(crate) fn decode<T: DeserializeOwned>(table: &'static str, bytes: &[u8]) -> Result<T> {
    postcard::from_bytes(bytes).map_err(|e| StorageError::Corrupt {
        table,
        reason: e.to_string(),
    })
}

/// Opens (or creates) a redb file, turning "locked by another process" into
/// an error that says what to do.
pub(crate) fn open_database(path: &std::path::Path) -> Result<redb::Database> {
    // redb creates files with the umask's mode; made here first, the file
    // is the owner's alone from its first byte.
    drop(private::touch_private_file(path)?);
    match redb::Database::create(path) {
        Ok(db) => Ok(db),
        Err(redb::DatabaseError::DatabaseAlreadyOpen) => Err(StorageError::AlreadyOpen {
            path: path.display().to_string(),
        }),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::*;

    fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(value: T) {
        let bytes = encode(&value);
        let back: T = decode("test", &bytes).unwrap_or_else(|e| panic!("{value:?}: {e}"));
        assert_eq!(back, value);
    }

    #[test]
    fn every_record_round_trips() {
        let now = Timestamp(1_700_000_000_000);
        round_trip(Site {
            id: SiteId(1),
            slug: "s".into(),
            name: "S".into(),
            hostnames: vec!["h".into()],
            status: SiteStatus::Suspended,
            brand_colour: "#000000".into(),
            created_at: now,
        });
        round_trip(Operator {
            id: OperatorId(1),
            username: "a".into(),
            password_hash: "h".into(),
            must_change_password: true,
            created_at: now,
        });
        for scope in [
            TokenScope::Operator {
                operator: OperatorId(1),
            },
            TokenScope::SiteUser {
                site: SiteId(1),
                user: UserId(2),
            },
        ] {
            round_trip(ApiToken {
                id: ApiTokenId(1),
                name: "t".into(),
                scope,
                prefix: "chr_12".into(),
                created_by: Actor::System,
                created_at: now,
                last_used_at: Some(now),
                revoked_at: None,
            });
        }
        round_trip(User {
            id: UserId(1),
            username: "u".into(),
            email: "u@x.org".into(),
            firstname: "F".into(),
            lastname: "L".into(),
            status: UserStatus::Active,
            site_role: SiteRole::SiteAdmin,
            profile: [("department".to_owned(), "HR".to_owned())].into(),
            password_hash: None,
            created_at: now,
            updated_at: now,
        });
        round_trip(Segment {
            id: SegmentId(1),
            name: "HR".into(),
            idnumber: Some("hr".into()),
            description: String::new(),
            visible: false,
            managed_by: Some("p".into()),
            created_at: now,
        });
        round_trip(Course {
            id: CourseId(1),
            shortname: "C".into(),
            fullname: "Course".into(),
            group_mode: GroupMode::Visible,
            force_group_mode: true,
            created_at: now,
        });
        round_trip(EnrolmentMethod {
            id: EnrolmentMethodId(1),
            course: CourseId(1),
            plugin: "manual".into(),
            name: "M".into(),
            status: EnrolmentMethodStatus::Disabled,
            config: "{}".into(),
            created_at: now,
        });
        round_trip(Enrolment {
            course: CourseId(1),
            user: UserId(1),
            method: EnrolmentMethodId(1),
            role: None,
            status: EnrolmentStatus::Suspended,
            created_at: now,
            updated_at: now,
        });
        round_trip(CourseGroup {
            id: CourseGroupId(1),
            course: CourseId(1),
            name: "G".into(),
            idnumber: None,
            description: "d".into(),
            created_at: now,
        });
        for owner in [
            MembershipOwner::Manual,
            MembershipOwner::Method(EnrolmentMethodId(3)),
        ] {
            round_trip(GroupMembership {
                group: CourseGroupId(1),
                user: UserId(1),
                owner,
                added_at: now,
            });
        }
        for actor in [
            Actor::Operator(OperatorId(1)),
            Actor::User(UserId(1)),
            Actor::Method(EnrolmentMethodId(1)),
            Actor::System,
        ] {
            round_trip(AuditEntry {
                id: AuditId(1),
                at: now,
                actor,
                action: "a.b".into(),
                target: "t".into(),
                reason: "r".into(),
            });
        }
        let kinds = vec![
            PluginFieldKind::Text,
            PluginFieldKind::Integer {
                min: Some(0),
                max: None,
            },
            PluginFieldKind::Choice {
                choices: vec![PluginChoice {
                    value: "a".into(),
                    label: "A".into(),
                }],
            },
            PluginFieldKind::GroupTexts,
        ];
        let manifest = PluginManifest {
            id: "p".into(),
            name: "P".into(),
            version: "1.2.3".into(),
            description: "d".into(),
            config: kinds
                .into_iter()
                .map(|kind| PluginConfigField {
                    key: "k".into(),
                    label: "K".into(),
                    help: String::new(),
                    kind,
                    required: true,
                    default: Some("1".into()),
                })
                .collect(),
            events: vec!["user-enrolled".into()],
            capabilities: vec!["read-users".into()],
        };
        round_trip(manifest.clone());
        round_trip(PluginVersion {
            id: "p".into(),
            version: "1.2.3".into(),
            name: "P".into(),
            description: "d".into(),
            contract: "0.1.0".into(),
            sha256: "ab".into(),
            size: 12,
            manifest,
            installed_at: now,
            installed_by: Actor::Operator(OperatorId(1)),
            bundled: true,
        });
        round_trip(SitePlugin {
            site: SiteId(1),
            plugin: "p".into(),
            enabled: false,
            version: "1.2.3".into(),
            changed_at: now,
        });
        round_trip(SiteEvent::SegmentMemberAdded {
            segment: SegmentId(1),
            user: UserId(2),
        });
        let figures = MassEnrolmentFigures {
            members: 5,
            to_enrol: 2,
            already_enrolled: 1,
            suspended_accounts: 1,
            suspended_enrolments: 1,
            grouped: 3,
        };
        for undone in [
            None,
            Some(MassEnrolmentUndo {
                by: Actor::User(UserId(1)),
                at: now,
                removed: 1,
                kept_changed: 1,
                already_gone: 0,
                ungrouped: 2,
            }),
        ] {
            round_trip(MassEnrolment {
                id: MassEnrolmentId(1),
                segment: SegmentId(2),
                segment_name: "HR".into(),
                course: CourseId(3),
                method: EnrolmentMethodId(4),
                role: Role::NonEditingTeacher,
                group: Some(CourseGroupId(5)),
                group_created: true,
                by: Actor::Operator(OperatorId(1)),
                at: now,
                figures,
                undone,
            });
        }
        round_trip(MassEnrolmentUsers {
            enrolled: vec![UserId(1), UserId(300_000)],
            grouped: vec![UserId(2)],
        });
        round_trip(SiteEvent::GroupDeleted {
            course: CourseId(1),
            group: CourseGroupId(2),
        });
    }
}
