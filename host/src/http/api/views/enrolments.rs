//! Enrolment methods, enrolments, roles and the participants of a course.

use serde::{Deserialize, Serialize};

use super::{
    CourseIdView, EnrolmentMethodIdView, Mirror, TimestampView, UserIdView, UserStatusView,
    UserView, mirror_enum, mirror_struct,
};
use crate::domain::{Enrolment, EnrolmentMethod, EnrolmentMethodStatus, EnrolmentStatus, Role};
use crate::services::enrolments::Participant;
use crate::services::enrolments::secrets::masked_config;

#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = Role)]
pub enum RoleView {
    Learner,
    NonEditingTeacher,
    Teacher,
}

mirror_enum!(
    Role,
    RoleView {
        Learner,
        NonEditingTeacher,
        Teacher,
    }
);

#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = EnrolmentStatus)]
pub enum EnrolmentStatusView {
    Active,
    Suspended,
}

mirror_enum!(EnrolmentStatus, EnrolmentStatusView { Active, Suspended });

#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = EnrolmentMethodStatus)]
pub enum EnrolmentMethodStatusView {
    Enabled,
    Disabled,
}

mirror_enum!(
    EnrolmentMethodStatus,
    EnrolmentMethodStatusView { Enabled, Disabled }
);

/// An enrolment method, its config as the JSON object it is
/// (the store keeps it as text).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MethodView {
    pub id: EnrolmentMethodIdView,
    pub course: CourseIdView,
    /// The plugin id, e.g. `manual` or `segment-sync`.
    pub plugin: String,
    pub name: String,
    pub status: EnrolmentMethodStatusView,
    /// The plugin's settings. A field the plugin marks secret (kind
    /// `secret` in its manifest, e.g. `self`'s `enrolment_key`) is never
    /// shown: when it holds a value it reads `{"secret": true, "set":
    /// true}`. Sending that back, leaving the field out or sending it blank
    /// keeps the stored value; `null` clears it.
    #[schema(value_type = Object)]
    pub config: serde_json::Value,
    pub created_at: TimestampView,
}

/// A method and the keys of its plugin's secret config fields: the
/// method as the API shows it, those fields masked
/// (`services::enrolments::secrets`).
impl From<(EnrolmentMethod, Vec<String>)> for MethodView {
    fn from((m, secrets): (EnrolmentMethod, Vec<String>)) -> Self {
        Self {
            config: masked_config(&m.config, &secrets),
            id: m.id.mirror(),
            course: m.course.mirror(),
            plugin: m.plugin,
            name: m.name,
            status: m.status.mirror(),
            created_at: m.created_at.mirror(),
        }
    }
}

/// An enrolment method just added, with how its first run went.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AddedMethodView {
    #[serde(flatten)]
    pub method: MethodView,
    pub first_run: super::FirstRunView,
}

/// The method as the API shows it (its secret fields masked) and its
/// first run.
impl From<((EnrolmentMethod, Vec<String>), super::FirstRunView)> for AddedMethodView {
    fn from((method, first_run): ((EnrolmentMethod, Vec<String>), super::FirstRunView)) -> Self {
        Self {
            method: MethodView::from(method),
            first_run,
        }
    }
}

/// A user's enrolment in a course through one enrolment method.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = Enrolment)]
pub struct EnrolmentView {
    pub course: CourseIdView,
    pub user: UserIdView,
    pub method: EnrolmentMethodIdView,
    /// `None` after "suspend and remove role".
    pub role: Option<RoleView>,
    pub status: EnrolmentStatusView,
    pub created_at: TimestampView,
    pub updated_at: TimestampView,
}

mirror_struct!(
    Enrolment,
    EnrolmentView {
        course,
        user,
        method,
        role,
        status,
        created_at,
        updated_at,
    }
);

/// A user of a course with every enrolment they have in it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ParticipantView {
    pub user: UserView,
    pub enrolments: Vec<EnrolmentView>,
    /// An active participant: the account is active and at least one
    /// enrolment is. Suspending an account changes no enrolment (each keeps
    /// its own status) but makes this false.
    pub active: bool,
    /// The site account's status, beside the enrolments' own: a suspended
    /// account cannot sign in.
    pub account_status: UserStatusView,
}

impl From<Participant> for ParticipantView {
    fn from(p: Participant) -> Self {
        Self {
            active: p.is_active(),
            account_status: p.user.status.mirror(),
            user: p.user.into(),
            enrolments: p.enrolments.mirror(),
        }
    }
}
