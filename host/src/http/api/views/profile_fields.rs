//! Custom user profile fields.

use serde::{Deserialize, Serialize};

use super::{ProfileFieldIdView, TimestampView, mirror_enum, mirror_struct};
use crate::domain::{ProfileField, ProfileFieldKind};

/// What a profile field holds. A user's value is text in the kind's form:
/// a menu's choice as written, `1` for a ticked checkbox (no value when
/// not), a date as `YYYY-MM-DD`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = ProfileFieldKind)]
pub enum ProfileFieldKindView {
    /// One line of text.
    Text,
    /// One of `choices`.
    Menu {
        choices: Vec<String>,
    },
    Checkbox,
    Date,
}

mirror_enum!(
    ProfileFieldKind,
    ProfileFieldKindView {
        Text,
        Menu { choices },
        Checkbox,
        Date,
    }
);

/// A custom user profile field. Its values are in each user's `profile`
/// under `shortname`, and in the users CSV under `profile_field_<shortname>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = ProfileField)]
pub struct ProfileFieldView {
    pub id: ProfileFieldIdView,
    /// `a-z`, `0-9`, `_`; unique in the site; never changes.
    pub shortname: String,
    pub name: String,
    pub kind: ProfileFieldKindView,
    /// Forms (the admin's user form, a user's own profile) must fill it in;
    /// the API and uploads may leave it empty.
    pub required: bool,
    /// Shown to the user on their own profile.
    pub visible_to_user: bool,
    /// Only site admins change it.
    pub locked: bool,
    /// Forms list fields by this, then by short name.
    pub position: u32,
    pub created_at: TimestampView,
}

mirror_struct!(
    ProfileField,
    ProfileFieldView {
        id,
        shortname,
        name,
        kind,
        required,
        visible_to_user,
        locked,
        position,
        created_at,
    }
);
