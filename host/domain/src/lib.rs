//! The domain vocabulary of Charon: typed ids and the records the services
//! hand out (PRODUCT §2).
//!
//! This module owns plain data only. It never touches storage, never checks
//! authorisation and never decides a rule; `services` does that. Every
//! record here is what is stored, so a field added here needs a migration,
//! and a serde attribute must keep the record decodable by postcard (no
//! `tag`/`content`/`untagged` enums, no `flatten`).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

mod mass_enrolment;
mod plan;
pub use mass_enrolment::*;
pub use plan::*;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub u64);

        impl $name {
            pub const fn get(self) -> u64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map(Self)
            }
        }
    };
}

id_type!(
    /// A site in the registry. Unique on one host.
    SiteId
);
id_type!(
    /// An operator account in the registry.
    OperatorId
);
id_type!(
    /// A user of one site. Only meaningful together with its site.
    UserId
);
id_type!(
    /// A user segment of one site.
    SegmentId
);
id_type!(
    /// A course of one site.
    CourseId
);
id_type!(
    /// A course group; it belongs to exactly one course.
    CourseGroupId
);
id_type!(
    /// An enrolment method: one plugin attached to one course.
    EnrolmentMethodId
);
id_type!(
    /// An entry of a site's audit log; increases with time.
    AuditId
);
id_type!(
    /// An API token in the registry.
    ApiTokenId
);
id_type!(
    /// A one-off mass enrolment of a segment's members into a course.
    MassEnrolmentId
);
id_type!(
    /// An announcement of one site.
    AnnouncementId
);
id_type!(
    /// A message in one site's mail queue.
    MailId
);
mod discussions;
pub use discussions::*;

id_type!(
    /// A section of a course's content; it belongs to exactly one course.
    CourseSectionId
);
id_type!(
    /// An activity of a course (a page, a discussion forum, an assignment).
    ActivityId
);
id_type!(
    /// A named set of a course's groups, restricting who sees an activity.
    GroupingId
);

id_type!(
    /// A submission to an assignment (a user's or a group's).
    SubmissionId
);
id_type!(
    /// A gradebook item (column) of a course.
    GradeItemId
);
id_type!(
    /// A custom user profile field of one site.
    ProfileFieldId
);

mod assignments;
mod events;
mod gradebook;
mod messaging;
mod plugin_fields;
mod profile;
mod segment_rule;
mod teaching;
pub use assignments::*;
pub use events::*;
pub use gradebook::*;
pub use messaging::*;
pub use profile::*;
pub use segment_rule::*;
pub use teaching::*;

/// Milliseconds since the Unix epoch, UTC.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn now() -> Self {
        let millis = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        Self(millis)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let format =
            time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
        match time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000_000)
            .ok()
            .and_then(|t| t.format(&format).ok())
        {
            Some(text) => f.write_str(&text),
            None => write!(f, "@{}ms", self.0),
        }
    }
}

// ---------------------------------------------------------------- registry

#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SiteStatus {
    Active,
    /// Serves no pages to anyone but operators; data stays untouched.
    Suspended,
}

/// One LMS instance. Its data lives in its own redb file named after `slug`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Site {
    pub id: SiteId,
    /// Unique, immutable, `[a-z0-9-]`; names the path prefix `/s/{slug}/`
    /// and the file `sites/{slug}.redb`.
    pub slug: String,
    pub name: String,
    /// Host names (lower case, no port) that route to this site.
    pub hostnames: Vec<String>,
    pub status: SiteStatus,
    /// Branding colour as `#rrggbb`.
    pub brand_colour: String,
    pub created_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Operator {
    pub id: OperatorId,
    pub username: String,
    /// PHC string of an Argon2id hash.
    pub password_hash: String,
    /// Set for the generated first password, which is shown only once.
    pub must_change_password: bool,
    pub created_at: Timestamp,
}

/// Whom an API token acts as. The service layer's authorisation applies to
/// it unchanged.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenScope {
    /// Acts as this operator, on every site.
    Operator { operator: OperatorId },
    /// Acts as this user of this site, with the user's roles.
    SiteUser { site: SiteId, user: UserId },
}

/// Who a page session signs in: an operator (who may enter every site) or
/// one user of one site.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SessionSubject {
    Operator(OperatorId),
    SiteUser { site: SiteId, user: UserId },
}

/// A signed-in browser. The registry keys it by a hash of the cookie's
/// secret, so a copy of the registry signs nobody in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub subject: SessionSubject,
    /// The token every form of this session must carry back (CSRF).
    pub csrf: String,
    pub created_at: Timestamp,
    /// Updated at most once a minute; the idle timeout counts from here.
    pub last_seen_at: Timestamp,
}

/// A bearer token for the JSON API. Only a hash of the secret is stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiToken {
    pub id: ApiTokenId,
    /// What the owner calls it, e.g. "HR system sync".
    pub name: String,
    pub scope: TokenScope,
    /// The first characters of the secret, to tell tokens apart in lists.
    pub prefix: String,
    pub created_by: Actor,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

// ----------------------------------------------------------------- plugins

/// How the admin's form renders one config field of a plugin (the WIT
/// `field-kind`). Values are JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
// Externally tagged (serde's default) for postcard: `"text"`, or
// `{"integer":{"min":0,"max":null}}` in JSON.
#[serde(rename_all = "snake_case")]
pub enum PluginFieldKind {
    /// One line of text.
    Text,
    /// Several lines of text.
    Multiline,
    /// Text shown masked, e.g. an enrolment key.
    Secret,
    /// A whole number within the bounds given.
    Integer {
        min: Option<i64>,
        max: Option<i64>,
    },
    Boolean,
    /// Epoch milliseconds.
    Datetime,
    /// One of these values.
    Choice {
        choices: Vec<PluginChoice>,
    },
    /// A segment of the site (its id).
    Segment,
    /// A group of the course (its id).
    Group,
    /// A course role: `learner`, `non-editing-teacher` or `teacher`.
    Role,
    /// A map from group id to text, e.g. group enrolment keys.
    GroupTexts,
    /// A group of the course (its id), or what the plugin allows besides:
    /// `"none"` (no group) and `"new"` (a group the method creates).
    /// Contract 0.2.0's `group-choice`; last, so that the manifests the
    /// registry kept before it read as they always did (postcard numbers
    /// the variants in order).
    GroupChoice {
        none: bool,
        new: bool,
    },
    /// One of the site's custom profile fields (its short name). Contract
    /// 0.3.0's `profile-field`; last, like `GroupChoice`.
    ProfileField,
}

/// One choice of a [`PluginFieldKind::Choice`] field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginChoice {
    pub value: String,
    pub label: String,
}

/// One field of a plugin's config form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginConfigField {
    /// The JSON key.
    pub key: String,
    pub label: String,
    pub help: String,
    pub kind: PluginFieldKind,
    pub required: bool,
    /// The default as JSON text.
    pub default: Option<String>,
}

/// What a plugin says of itself (`describe`), as the registry keeps it.
/// Events and capabilities are their contract names (`user-enrolled`,
/// `read-segments`), so a later contract may add some without a migration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginManifest {
    /// Stable id: `[a-z0-9-]`, e.g. `self`.
    pub id: String,
    pub name: String,
    /// `MAJOR.MINOR.PATCH`.
    pub version: String,
    pub description: String,
    /// The config form, in the plugin's order.
    pub config: Vec<PluginConfigField>,
    /// The events it asks to receive.
    pub events: Vec<String>,
    /// The host queries it needs.
    pub capabilities: Vec<String>,
}

/// One installed version of a plugin. Its component is stored
/// content-addressed as `DATA/plugins/{sha256}.wasm`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginVersion {
    pub id: String,
    pub version: String,
    pub name: String,
    pub description: String,
    /// The contract version the component was built against, e.g. `0.1.0`.
    pub contract: String,
    /// Hex SHA-256 of the component bytes.
    pub sha256: String,
    /// Size of the component in bytes.
    pub size: u64,
    pub manifest: PluginManifest,
    pub installed_at: Timestamp,
    pub installed_by: Actor,
    /// Shipped inside the `charon` binary and installed by the host itself.
    pub bundled: bool,
}

/// Whether a site may use a plugin, and which installed version its
/// enrolment methods run. The record stays when the plugin is disabled, so its pin
/// is remembered and a bundled plugin is not enabled again at the next
/// start.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SitePlugin {
    pub site: SiteId,
    /// The plugin id.
    pub plugin: String,
    pub enabled: bool,
    /// The pinned version.
    pub version: String,
    pub changed_at: Timestamp,
}

// -------------------------------------------------------------------- site

#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    Active,
    Suspended,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SiteRole {
    User,
    SiteAdmin,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    /// Unique in the site, lower case.
    pub username: String,
    /// Unique in the site (compared case-insensitively).
    pub email: String,
    pub firstname: String,
    pub lastname: String,
    pub status: UserStatus,
    pub site_role: SiteRole,
    /// Values of the site's profile fields (`ProfileField`) by short
    /// name, e.g. `department`, each in its field's canonical form.
    pub profile: BTreeMap<String, String>,
    /// PHC string of an Argon2id hash; `None` until a password is set.
    pub password_hash: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl User {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.firstname, self.lastname)
    }
}

/// A site-wide set of users (Moodle: cohort).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    pub id: SegmentId,
    pub name: String,
    /// Optional external key, unique in the site; CSV files name segments by it.
    pub idnumber: Option<String>,
    pub description: String,
    pub visible: bool,
    /// When set, the component (a plugin id) that alone changes the members.
    pub managed_by: Option<String>,
    pub created_at: Timestamp,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupMode {
    /// No groups are used for separation.
    None,
    /// Learners see only their own groups.
    Separate,
    /// Learners see all groups and take part in their own.
    Visible,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Course {
    pub id: CourseId,
    /// Unique in the site.
    pub shortname: String,
    pub fullname: String,
    pub group_mode: GroupMode,
    /// When true, the group mode applies to every activity of the course.
    pub force_group_mode: bool,
    pub created_at: Timestamp,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnrolmentMethodStatus {
    Enabled,
    Disabled,
}

/// An enrolment method: one plugin attached to one course, with its own
/// configuration. Several may use the same plugin in one course.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnrolmentMethod {
    pub id: EnrolmentMethodId,
    pub course: CourseId,
    /// The plugin id, e.g. `manual` or `segment-sync`.
    pub plugin: String,
    /// What the pages show; defaults to the plugin's name.
    pub name: String,
    pub status: EnrolmentMethodStatus,
    /// The plugin's configuration as JSON text (validated by the plugin).
    pub config: String,
    pub created_at: Timestamp,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Learner,
    NonEditingTeacher,
    Teacher,
}

impl Role {
    pub fn teaches(self) -> bool {
        matches!(self, Role::Teacher | Role::NonEditingTeacher)
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Learner => "Learner",
            Role::NonEditingTeacher => "Non-editing teacher",
            Role::Teacher => "Teacher",
        }
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnrolmentStatus {
    Active,
    Suspended,
}

/// A user's enrolment in a course through one enrolment method.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Enrolment {
    pub course: CourseId,
    pub user: UserId,
    pub method: EnrolmentMethodId,
    /// `None` after "suspend and remove role".
    pub role: Option<Role>,
    pub status: EnrolmentStatus,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A set of users inside one course (a team).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CourseGroup {
    pub id: CourseGroupId,
    pub course: CourseId,
    /// Unique in the course (compared case-insensitively).
    pub name: String,
    /// Optional, unique in the course.
    pub idnumber: Option<String>,
    pub description: String,
    pub created_at: Timestamp,
}

/// Who owns a group membership, and so who may remove it.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
// Externally tagged (serde's default): postcard, the store's encoding, is
// not self-describing and cannot decode internally or adjacently tagged
// enums. A JSON API that wants another shape maps it at its own boundary.
#[serde(rename_all = "snake_case")]
pub enum MembershipOwner {
    /// Added by a person; never removed by a sync.
    Manual,
    /// Added by an enrolment method, which alone removes it.
    Method(EnrolmentMethodId),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupMembership {
    pub group: CourseGroupId,
    pub user: UserId,
    pub owner: MembershipOwner,
    pub added_at: Timestamp,
}

// ------------------------------------------------------------------ audit

/// Who made a change, as the audit log records it.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
// Externally tagged (serde's default): postcard, the store's encoding, is
// not self-describing and cannot decode internally or adjacently tagged
// enums. A JSON API that wants another shape maps it at its own boundary.
#[serde(rename_all = "snake_case")]
pub enum Actor {
    Operator(OperatorId),
    User(UserId),
    Method(EnrolmentMethodId),
    /// The host itself (first-run set-up, demo data, migrations).
    System,
    /// The rule that manages this segment (its plugin acting on it).
    Rule(SegmentId),
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::Operator(id) => write!(f, "operator #{id}"),
            Actor::User(id) => write!(f, "user #{id}"),
            Actor::Method(id) => write!(f, "enrolment method #{id}"),
            Actor::System => f.write_str("system"),
            Actor::Rule(id) => write!(f, "rule of segment #{id}"),
        }
    }
}

/// What an audit entry of a member-level change is about, in the words the
/// log uses for it (`user #7 in course #2 via method #3`). A sync or an
/// import writes these by the hundred thousand; the storage layer writes
/// their text without the formatting machinery (`storage::site::AuditText`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditTarget {
    Enrolment {
        user: UserId,
        course: CourseId,
        method: EnrolmentMethodId,
    },
    GroupMember {
        user: UserId,
        group: CourseGroupId,
    },
    SegmentMember {
        user: UserId,
        segment: SegmentId,
    },
}

impl AuditTarget {
    /// The target's text as `(words, id)` pieces, two or three of them.
    pub fn pieces(&self) -> impl Iterator<Item = (&'static str, u64)> {
        let pieces = match *self {
            AuditTarget::Enrolment {
                user,
                course,
                method,
            } => [
                Some(("user #", user.0)),
                Some((" in course #", course.0)),
                Some((" via method #", method.0)),
            ],
            AuditTarget::GroupMember { user, group } => [
                Some(("user #", user.0)),
                Some((" in group #", group.0)),
                None,
            ],
            AuditTarget::SegmentMember { user, segment } => [
                Some(("user #", user.0)),
                Some((" in segment #", segment.0)),
                None,
            ],
        };
        pieces.into_iter().flatten()
    }
}

impl fmt::Display for AuditTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (words, id) in self.pieces() {
            write!(f, "{words}{id}")?;
        }
        Ok(())
    }
}

/// One change to a site: who, what, when and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: AuditId,
    pub at: Timestamp,
    pub actor: Actor,
    /// A stable dotted name such as `segment.member_added`.
    pub action: String,
    /// What was changed, e.g. `segment #3` or `user #7 in group #2`.
    pub target: String,
    /// Why, in words a site admin understands.
    pub reason: String,
}
