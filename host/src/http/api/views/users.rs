//! A user as the API shows them: never a password hash.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Mirror, TimestampView, UserIdView, mirror_enum};
use crate::domain::{SiteRole, User, UserStatus};

#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = UserStatus)]
pub enum UserStatusView {
    Active,
    Suspended,
}

mirror_enum!(UserStatus, UserStatusView { Active, Suspended });

#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = SiteRole)]
pub enum SiteRoleView {
    User,
    SiteAdmin,
}

mirror_enum!(SiteRole, SiteRoleView { User, SiteAdmin });

/// A user as the API shows them: never a password hash.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub id: UserIdView,
    pub username: String,
    pub email: String,
    pub firstname: String,
    pub lastname: String,
    pub status: UserStatusView,
    pub site_role: SiteRoleView,
    pub profile: BTreeMap<String, String>,
    pub has_password: bool,
    pub created_at: TimestampView,
    pub updated_at: TimestampView,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        Self {
            id: u.id.mirror(),
            has_password: u.password_hash.is_some(),
            username: u.username,
            email: u.email,
            firstname: u.firstname,
            lastname: u.lastname,
            status: u.status.mirror(),
            site_role: u.site_role.mirror(),
            profile: u.profile,
            created_at: u.created_at.mirror(),
            updated_at: u.updated_at.mirror(),
        }
    }
}
