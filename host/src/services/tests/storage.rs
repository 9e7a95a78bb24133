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
