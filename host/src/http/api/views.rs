//! What the API shows of domain records where it differs from the stored
//! record (secrets left out, counts added, structures flattened).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::domain::*;

/// A user as the API shows them: never a password hash.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub id: UserId,
    pub username: String,
    pub email: String,
    pub firstname: String,
    pub lastname: String,
    pub status: UserStatus,
    pub site_role: SiteRole,
    pub profile: BTreeMap<String, String>,
    pub has_password: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        Self {
            id: u.id,
            has_password: u.password_hash.is_some(),
            username: u.username,
            email: u.email,
            firstname: u.firstname,
            lastname: u.lastname,
            status: u.status,
            site_role: u.site_role,
            profile: u.profile,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

/// An enrolment-method instance, its config as the JSON object it is
/// (the store keeps it as text).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MethodView {
    pub id: EnrolmentMethodId,
    pub course: CourseId,
    /// The plugin id, e.g. `manual` or `segment-sync`.
    pub plugin: String,
    pub name: String,
    pub status: EnrolmentMethodStatus,
    #[schema(value_type = Object)]
    pub config: serde_json::Value,
    pub created_at: Timestamp,
}

impl From<EnrolmentMethod> for MethodView {
    fn from(m: EnrolmentMethod) -> Self {
        // The service stores only serialised JSON objects; should a record
        // ever hold something else, show the text rather than fail the
        // whole response.
        let config = serde_json::from_str(&m.config)
            .unwrap_or_else(|_| serde_json::Value::String(m.config.clone()));
        Self {
            id: m.id,
            course: m.course,
            plugin: m.plugin,
            name: m.name,
            status: m.status,
            config,
            created_at: m.created_at,
        }
    }
}

/// A user of a course with every enrolment they have in it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ParticipantView {
    pub user: UserView,
    pub enrolments: Vec<Enrolment>,
    /// True while at least one enrolment is active.
    pub active: bool,
}

impl From<crate::services::enrolments::Participant> for ParticipantView {
    fn from(p: crate::services::enrolments::Participant) -> Self {
        Self {
            active: p.is_active(),
            user: p.user.into(),
            enrolments: p.enrolments,
        }
    }
}

/// A user segment with its member count.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SegmentView {
    pub id: SegmentId,
    pub name: String,
    pub idnumber: Option<String>,
    pub description: String,
    pub visible: bool,
    /// The plugin that alone changes the members, if any.
    pub managed_by: Option<String>,
    pub members: u64,
    pub created_at: Timestamp,
}

impl From<crate::services::segments::SegmentSummary> for SegmentView {
    fn from(s: crate::services::segments::SegmentSummary) -> Self {
        let seg = s.segment;
        Self {
            id: seg.id,
            name: seg.name,
            idnumber: seg.idnumber,
            description: seg.description,
            visible: seg.visible,
            managed_by: seg.managed_by,
            members: s.members,
            created_at: seg.created_at,
        }
    }
}
