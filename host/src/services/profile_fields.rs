//! Custom user profile fields (Moodle's "User profile fields"): site
//! admins define them; users' values are checked against them wherever a
//! user is written (`ops::profile`), and a user edits their own visible,
//! unlocked ones.

use std::collections::BTreeMap;

use super::auth::{Need, authorize};
use super::error::{ServiceError, ServiceResult};
use super::ops::profile::ProfileRules;
use super::ops::users::{clean_profile, load_user};
use super::{Principal, SiteServices, validate};
use crate::domain::*;
use crate::storage::site::prelude::*;

/// Most profile fields a site may have: forms show them all.
pub const MAX_PROFILE_FIELDS: usize = 100;
/// Most choices a menu field may have.
pub const MAX_CHOICES: usize = 200;

/// A new profile field.
#[derive(Clone, Debug)]
pub struct NewProfileField {
    pub shortname: String,
    pub name: String,
    pub kind: ProfileFieldKind,
    pub required: bool,
    pub visible_to_user: bool,
    pub locked: bool,
    /// Where forms list it; default last.
    pub position: Option<u32>,
}

/// Changes to a profile field; `None` leaves a part as it is. The short
/// name and the kind stay (values are stored under the one in the other's
/// form); a menu's choices may change while no user holds a removed one.
#[derive(Clone, Debug, Default)]
pub struct ProfileFieldUpdate {
    pub name: Option<String>,
    pub choices: Option<Vec<String>>,
    pub required: Option<bool>,
    pub visible_to_user: Option<bool>,
    pub locked: Option<bool>,
    pub position: Option<u32>,
}

/// A menu's choices, trimmed, each non-empty and given once (without case).
fn checked_choices(choices: &[String]) -> ServiceResult<Vec<String>> {
    if choices.is_empty() {
        return Err(ServiceError::invalid(
            "choices",
            "a menu needs at least one choice",
        ));
    }
    if choices.len() > MAX_CHOICES {
        return Err(ServiceError::invalid(
            "choices",
            format!("a menu has at most {MAX_CHOICES} choices"),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(choices.len());
    for c in choices {
        let c = validate::required_text("choices", c, validate::MAX_NAME)?;
        if out.iter().any(|o| o.eq_ignore_ascii_case(&c)) {
            return Err(ServiceError::invalid(
                "choices",
                format!("{c:?} is a choice twice"),
            ));
        }
        out.push(c);
    }
    Ok(out)
}

fn checked_kind(kind: &ProfileFieldKind) -> ServiceResult<ProfileFieldKind> {
    Ok(match kind {
        ProfileFieldKind::Menu { choices } => ProfileFieldKind::Menu {
            choices: checked_choices(choices)?,
        },
        other => other.clone(),
    })
}

impl SiteServices {
    /// The site's profile fields in form order: for any member of the
    /// site (a user's own form lists those visible to them).
    pub fn list_profile_fields(&self, who: &Principal) -> ServiceResult<Vec<ProfileField>> {
        self.read(|t| {
            authorize(&self.site, t, who, Need::SiteMember)?;
            Ok(t.all_profile_fields()?)
        })
    }

    pub fn get_profile_field(
        &self,
        who: &Principal,
        id: ProfileFieldId,
    ) -> ServiceResult<ProfileField> {
        self.read(|t| {
            authorize(&self.site, t, who, Need::SiteAdmin)?;
            t.profile_field(id)?
                .ok_or_else(|| ServiceError::not_found(format!("profile field #{id}")))
        })
    }

    pub fn create_profile_field(
        &self,
        who: &Principal,
        new: NewProfileField,
    ) -> ServiceResult<ProfileField> {
        self.read(|t| authorize(&self.site, t, who, Need::SiteAdmin).map(drop))?;
        let shortname = validate::profile_field_name(&new.shortname).map_err(|_| {
            ServiceError::invalid(
                "shortname",
                format!(
                    "{:?} is not a short name: a-z, 0-9 and _, at most 64",
                    new.shortname
                ),
            )
        })?;
        let name = validate::required_text("name", &new.name, validate::MAX_NAME)?;
        let kind = checked_kind(&new.kind)?;
        self.write(|t| {
            let actor = authorize(&self.site, t, who, Need::SiteAdmin)?;
            let fields = t.all_profile_fields()?;
            if fields.iter().any(|f| f.shortname == shortname) {
                return Err(ServiceError::duplicate(
                    "shortname",
                    format!("the site has a profile field {shortname:?}"),
                ));
            }
            if fields.len() >= MAX_PROFILE_FIELDS {
                return Err(ServiceError::Conflict(format!(
                    "a site has at most {MAX_PROFILE_FIELDS} profile fields"
                )));
            }
            let last = fields.iter().map(|f| f.position).max().unwrap_or(0);
            let field = ProfileField {
                id: t.new_profile_field_id()?,
                shortname,
                name,
                kind,
                required: new.required,
                visible_to_user: new.visible_to_user,
                locked: new.locked,
                position: new.position.unwrap_or(last.saturating_add(1)),
                created_at: t.now,
            };
            t.put_profile_field(&field)?;
            t.audit_log(
                actor,
                "profile_field.created",
                format!("profile field #{} {:?}", field.id, field.shortname),
                format!("{} ({})", field.name, field.kind.as_str()),
            )?;
            Ok(field)
        })
    }

    pub fn update_profile_field(
        &self,
        who: &Principal,
        id: ProfileFieldId,
        update: ProfileFieldUpdate,
    ) -> ServiceResult<ProfileField> {
        self.read(|t| authorize(&self.site, t, who, Need::SiteAdmin).map(drop))?;
        let name = update
            .name
            .as_deref()
            .map(|n| validate::required_text("name", n, validate::MAX_NAME))
            .transpose()?;
        let choices = update.choices.as_deref().map(checked_choices).transpose()?;
        self.write(|t| {
            let actor = authorize(&self.site, t, who, Need::SiteAdmin)?;
            let mut field = t
                .profile_field(id)?
                .ok_or_else(|| ServiceError::not_found(format!("profile field #{id}")))?;
            let before = field.clone();
            if let Some(choices) = choices {
                let ProfileFieldKind::Menu { choices: old } = &field.kind else {
                    return Err(ServiceError::invalid(
                        "choices",
                        format!(
                            "{} is a {} field, not a menu",
                            field.name,
                            field.kind.as_str()
                        ),
                    ));
                };
                // A value is stored as its choice is written: a removed
                // choice some user holds would leave them a value no form
                // offers.
                for gone in old.iter().filter(|o| !choices.contains(o)) {
                    let holders = t.user_ids_by_profile_value(&field.shortname, gone, None, 1)?;
                    if !holders.is_empty() {
                        return Err(ServiceError::Conflict(format!(
                            "users hold the choice {gone:?} of {}; change their values first",
                            field.name
                        )));
                    }
                }
                field.kind = ProfileFieldKind::Menu { choices };
            }
            if let Some(v) = name {
                field.name = v;
            }
            if let Some(v) = update.required {
                field.required = v;
            }
            if let Some(v) = update.visible_to_user {
                field.visible_to_user = v;
            }
            if let Some(v) = update.locked {
                field.locked = v;
            }
            if let Some(v) = update.position {
                field.position = v;
            }
            if field == before {
                return Ok(field);
            }
            t.put_profile_field(&field)?;
            t.audit_log(
                actor,
                "profile_field.updated",
                format!("profile field #{id} {:?}", field.shortname),
                "profile field updated",
            )?;
            Ok(field)
        })
    }

    /// Deletes a profile field and every user's value of it, in one
    /// transaction; how many users had one.
    pub fn delete_profile_field(&self, who: &Principal, id: ProfileFieldId) -> ServiceResult<u64> {
        self.write(|t| {
            let actor = authorize(&self.site, t, who, Need::SiteAdmin)?;
            let field = t
                .profile_field(id)?
                .ok_or_else(|| ServiceError::not_found(format!("profile field #{id}")))?;
            let holders = t.user_ids_with_profile_field(&field.shortname)?;
            for &user_id in &holders {
                let mut user = load_user(t, user_id)?;
                user.profile.remove(&field.shortname);
                user.updated_at = t.now;
                t.put_user(&user)?;
                let changes = UserChanges {
                    profile: true,
                    ..Default::default()
                };
                t.emit(SiteEvent::UserChanged {
                    user: user_id,
                    changes,
                })?;
            }
            t.delete_profile_field_row(id)?;
            t.audit_log(
                actor,
                "profile_field.deleted",
                format!("profile field #{id} {:?}", field.shortname),
                format!("deleted with {} user value(s)", holders.len()),
            )?;
            Ok(holders.len() as u64)
        })
    }

    /// A user's own change to their profile: only fields visible to them
    /// and not locked, and (a form's save) every required one filled in.
    /// Site admins change any field through `update_user`.
    pub fn update_own_profile(
        &self,
        who: &Principal,
        id: UserId,
        values: BTreeMap<String, String>,
    ) -> ServiceResult<User> {
        self.read(|t| authorize(&self.site, t, who, Need::SelfOrAdmin(id)).map(drop))?;
        let changes = clean_profile(&values)?;
        self.write(|t| {
            let actor = authorize(&self.site, t, who, Need::SelfOrAdmin(id))?;
            let rules = ProfileRules::load(t)?;
            for shortname in changes.keys() {
                match rules.field(shortname) {
                    Some(f) if f.visible_to_user && !f.locked => {}
                    Some(f) => {
                        return Err(ServiceError::Forbidden(format!(
                            "{} is not yours to change",
                            f.name
                        )));
                    }
                    None => {
                        return Err(ServiceError::invalid(
                            "profile",
                            format!("{shortname:?} is not a profile field of this site"),
                        ));
                    }
                }
            }
            let mut user = load_user(t, id)?;
            let before = user.clone();
            rules.apply(&mut user.profile, changes)?;
            rules.require_complete_where(&user.profile, |f| f.visible_to_user && !f.locked)?;
            if user == before {
                return Ok(user);
            }
            user.updated_at = t.now;
            t.put_user(&user)?;
            t.audit_log(
                actor,
                "user.updated",
                format!("user #{id}"),
                "own profile updated",
            )?;
            let changes = UserChanges::between(&before, &user);
            t.emit(SiteEvent::UserChanged { user: id, changes })?;
            Ok(user)
        })
    }
}
