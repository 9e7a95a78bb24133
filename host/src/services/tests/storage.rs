//! Storage: the record encoding, site files opened on demand and closed
//! when idle, one opener per data dir, and schema versions.

use std::fmt::Debug;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::domain::*;
use crate::storage::{decode, encode};

#[track_caller]
fn assert_round_trips<T: Serialize + DeserializeOwned + PartialEq + Debug>(value: T) {
    let back: T = decode("test", &encode(&value))
        .unwrap_or_else(|e| panic!("{value:?} does not decode: {e}"));
    assert_eq!(back, value);
}

#[test]
fn every_stored_record_decodes_to_what_was_encoded() {
    // postcard is not self-describing: an enum representation that needs
    // one (internally or adjacently tagged) encodes fine and then never
    // decodes. Each stored type and every enum variant is checked here.
    let (u, c, m) = (UserId(7), CourseId(3), EnrolmentMethodId(2));
    let (s, g) = (SegmentId(4), CourseGroupId(5));
    for owner in [MembershipOwner::Manual, MembershipOwner::Method(m)] {
        assert_round_trips(GroupMembership {
            group: g,
            user: u,
            owner,
            added_at: Timestamp(1_700_000_000_000),
        });
    }
    for actor in [
        Actor::Operator(OperatorId(1)),
        Actor::User(u),
        Actor::Method(m),
        Actor::System,
    ] {
        assert_round_trips(AuditEntry {
            id: AuditId(9),
            at: Timestamp(1),
            actor,
            action: "segment.member_added".into(),
            target: "user #7 in segment #4".into(),
            reason: "added to segment \"HR\"".into(),
        });
    }
    for event in [
        SiteEvent::UserCreated { user: u },
        SiteEvent::UserUpdated { user: u },
        SiteEvent::UserChanged {
            user: u,
            changes: UserChanges {
                email: true,
                profile: true,
                ..Default::default()
            },
        },
        SiteEvent::UserSuspended { user: u },
        SiteEvent::UserReactivated { user: u },
        SiteEvent::UserDeleted { user: u },
        SiteEvent::SegmentMemberAdded {
            segment: s,
            user: u,
        },
        SiteEvent::SegmentMemberRemoved {
            segment: s,
            user: u,
        },
        SiteEvent::SegmentDeleted { segment: s },
        SiteEvent::UserEnrolled {
            course: c,
            user: u,
            method: m,
        },
        SiteEvent::EnrolmentUpdated {
            course: c,
            user: u,
            method: m,
        },
        SiteEvent::UserUnenrolled {
            course: c,
            user: u,
            method: m,
        },
        SiteEvent::GroupMemberAdded { group: g, user: u },
        SiteEvent::GroupMemberRemoved { group: g, user: u },
        SiteEvent::GroupDeleted {
            course: c,
            group: g,
        },
        SiteEvent::CourseDeleted { course: c },
        SiteEvent::MethodAdded {
            course: c,
            method: m,
        },
        SiteEvent::MethodEnabled {
            course: c,
            method: m,
        },
        SiteEvent::MethodDisabled {
            course: c,
            method: m,
        },
        SiteEvent::MethodUpdated {
            course: c,
            method: m,
        },
        SiteEvent::MethodDeleted {
            course: c,
            method: m,
        },
    ] {
        assert_round_trips(event);
    }
    for role in [
        None,
        Some(Role::Learner),
        Some(Role::NonEditingTeacher),
        Some(Role::Teacher),
    ] {
        for status in [EnrolmentStatus::Active, EnrolmentStatus::Suspended] {
            assert_round_trips(Enrolment {
                course: c,
                user: u,
                method: m,
                role,
                status,
                created_at: Timestamp(1),
                updated_at: Timestamp(2),
            });
        }
    }
    for status in [UserStatus::Active, UserStatus::Suspended] {
        for site_role in [SiteRole::User, SiteRole::SiteAdmin] {
            assert_round_trips(User {
                id: u,
                username: "alice".into(),
                email: "alice@example.org".into(),
                firstname: "Alice".into(),
                lastname: "Brown".into(),
                status,
                site_role,
                profile: [("department".to_string(), "HR".to_string())].into(),
                password_hash: Some("$argon2id$…".into()),
                created_at: Timestamp(1),
                updated_at: Timestamp(2),
            });
        }
    }
    assert_round_trips(Segment {
        id: s,
        name: "HR".into(),
        idnumber: Some("hr".into()),
        description: "People".into(),
        visible: false,
        managed_by: Some("profile-rules".into()),
        created_at: Timestamp(1),
    });
    for group_mode in [GroupMode::None, GroupMode::Separate, GroupMode::Visible] {
        assert_round_trips(Course {
            id: c,
            shortname: "COMP101".into(),
            fullname: "Compliance 101".into(),
            group_mode,
            force_group_mode: true,
            created_at: Timestamp(1),
        });
    }
    for status in [
        EnrolmentMethodStatus::Enabled,
        EnrolmentMethodStatus::Disabled,
    ] {
        assert_round_trips(EnrolmentMethod {
            id: m,
            course: c,
            plugin: "manual".into(),
            name: "Manual enrolments".into(),
            status,
            config: "{}".into(),
            created_at: Timestamp(1),
        });
    }
    assert_round_trips(CourseGroup {
        id: g,
        course: c,
        name: "Team A".into(),
        idnumber: None,
        description: String::new(),
        created_at: Timestamp(1),
    });
    for status in [SiteStatus::Active, SiteStatus::Suspended] {
        assert_round_trips(Site {
            id: SiteId(1),
            slug: "acme".into(),
            name: "Acme LMS".into(),
            hostnames: vec!["acme.test".into()],
            status,
            brand_colour: "#1f5f8b".into(),
            created_at: Timestamp(1),
        });
    }
    assert_round_trips(Operator {
        id: OperatorId(1),
        username: "admin".into(),
        password_hash: "$argon2id$…".into(),
        must_change_password: true,
        created_at: Timestamp(1),
    });
}

// ------------------------------------------------------------ site files

use std::time::Duration;

use crate::services::testing::TestSite;
use crate::services::{Principal, ServiceError, Services};
use crate::storage::StorageError;
use crate::storage::pool::SiteStore;

const HOUR: Duration = Duration::from_secs(3600);

#[test]
fn site_files_close_when_idle_and_unheld_and_reopen_on_demand() {
    let fx = TestSite::new();
    let globex = fx.another_site("globex");
    let globex_id = globex.id();
    let globex_file = fx.dir.path().join("sites/globex.redb");
    assert_eq!(fx.services.open_site_count(), 2);
    // Both are held (by the fixtures' handles): nothing closes.
    assert_eq!(fx.services.close_idle_sites(Duration::ZERO), 0);
    drop(globex);
    // Recently used: it stays for now.
    assert_eq!(fx.services.close_idle_sites(HOUR), 0);
    assert_eq!(fx.services.close_idle_sites(Duration::ZERO), 1);
    assert_eq!(fx.services.open_site_count(), 1);
    // Really closed: another opener gets the file.
    drop(SiteStore::open(&globex_file, globex_id).expect("the file is free"));
    // The next request opens it again, with its data.
    let site = fx.services.site(globex_id).unwrap();
    assert_eq!(fx.services.open_site_count(), 2);
    let users = site.list_users(&fx.operator, None, None, 100).unwrap();
    assert_eq!(users.items.len(), 7);
}

#[test]
fn a_reopened_data_dir_opens_no_site_until_one_is_asked_for() {
    let TestSite {
        dir,
        services,
        site,
        learners,
        ..
    } = TestSite::new();
    let id = site.site().id;
    drop(site);
    drop(services);
    let services = Services::open(dir.path()).unwrap();
    assert_eq!(services.open_site_count(), 0);
    let site = services
        .site_for_host("ACME.test:443")
        .unwrap()
        .expect("routed");
    assert_eq!(site.site().id, id);
    assert_eq!(services.open_site_count(), 1);
    let op = Principal::system();
    let members = site.segment_members(&op, crate::domain::SegmentId(1), None, 10);
    let ids: Vec<UserId> = members.unwrap().items.iter().map(|u| u.id).collect();
    assert_eq!(ids, learners[0..3].to_vec());
}

#[test]
fn a_data_dir_open_in_this_process_cannot_be_opened_twice() {
    let fx = TestSite::new();
    let registry = fx.dir.path().join("registry.redb");
    match Services::open(fx.dir.path()) {
        Err(ServiceError::Storage(StorageError::AlreadyOpen { path })) => {
            assert_eq!(path, registry.display().to_string())
        }
        Err(other) => panic!("expected AlreadyOpen, got {other:?}"),
        Ok(_) => panic!("a second opener of one data dir must be refused"),
    }
    let site_file = fx.dir.path().join("sites/acme.redb");
    let err = SiteStore::open(&site_file, fx.id()).err().expect("refused");
    assert_eq!(
        err.to_string(),
        format!(
            "the data file {} is open in another process (is `charon serve` running?)",
            site_file.display()
        )
    );
}

/// Set by the test below for the child process it starts.
const CHILD_OPENS: &str = "CHARON_TEST_CHILD_OPENS_DATA_DIR";

/// Not a test on its own: the child half of the next test, which runs
/// this test binary again with this one test selected.
#[test]
#[ignore = "run by a_data_dir_open_in_another_process_is_refused_with_a_hint"]
fn child_opens_the_data_dir_its_parent_holds() {
    let Ok(dir) = std::env::var(CHILD_OPENS) else {
        return;
    };
    match Services::open(&dir) {
        Ok(_) => println!("CHILD: opened"),
        Err(ServiceError::Storage(e)) => println!("CHILD: {e}"),
        Err(e) => println!("CHILD: {e:?}"),
    }
}

#[test]
fn a_data_dir_open_in_another_process_is_refused_with_a_hint() {
    let fx = TestSite::new();
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "services::tests::storage::child_opens_the_data_dir_its_parent_holds",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_OPENS, fx.dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let expected = format!(
        "CHILD: the data file {} is open in another process (is `charon serve` running?)",
        fx.dir.path().join("registry.redb").display()
    );
    assert!(
        stdout.lines().any(|l| l.ends_with(&expected)),
        "child said:\n{stdout}"
    );
}

#[test]
fn a_data_dir_from_a_newer_charon_is_refused_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("registry.redb");
    {
        let db = redb::Database::create(&path).unwrap();
        let tx = db.begin_write().unwrap();
        let meta: redb::TableDefinition<&str, u64> = redb::TableDefinition::new("meta-v1");
        tx.open_table(meta)
            .unwrap()
            .insert("schema_version", 7)
            .unwrap();
        tx.commit().unwrap();
    }
    let err = Services::open(dir.path()).err().expect("refused");
    let ServiceError::Storage(err) = err else {
        panic!("expected a storage error, got {err:?}");
    };
    assert_eq!(
        err.to_string(),
        format!(
            "the data file {} has schema version 7, newer than this Charon knows ({}); upgrade Charon",
            path.display(),
            crate::storage::migrations::latest(crate::storage::migrations::REGISTRY_MIGRATIONS)
        )
    );
}

#[test]
fn a_site_file_is_created_at_the_latest_schema_and_keeps_its_data_when_reopened() {
    use crate::storage::migrations::{SITE_MIGRATIONS, latest};
    use crate::storage::site::prelude::*;
    let fx = TestSite::new();
    let version = fx.site.read(|t| Ok(t.schema_version()?)).unwrap();
    assert_eq!(version, latest(SITE_MIGRATIONS));
    let before = fx.snapshot();
    let file = fx.dir.path().join("sites/acme.redb");
    let id = fx.id();
    let TestSite {
        dir,
        services,
        site,
        ..
    } = fx;
    drop((site, services));
    let reopened = SiteStore::open(&file, id).unwrap();
    crate::services::testing::assert_same_tables(&reopened.snapshot().unwrap(), &before);
    drop(dir);
}
