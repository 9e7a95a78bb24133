//! Users of a site: accounts, status, site role and profile fields.

use std::collections::BTreeMap;

use super::auth::{Need, authorize, authorize_caller};
use super::error::{ServiceError, ServiceResult};
use super::ops::profile::ProfileRules;
use super::ops::users::{check_unique, clean_profile, insert_user, load_user, prepare_user};
use super::{
    Page, Principal, SiteServices, clamp_limit, page_of, password, user_matches, validate,
};
use crate::domain::*;
use crate::storage::site::prelude::*;

pub use super::ops::users::{NewUser, ProfileCheck};

/// Changes to a user; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct UserUpdate {
    pub username: Option<String>,
    pub email: Option<String>,
    pub firstname: Option<String>,
    pub lastname: Option<String>,
    pub site_admin: Option<bool>,
    /// Fields to set; an empty value removes the field.
    pub profile: BTreeMap<String, String>,
    /// A new password, set in the same transaction as the rest (the edit
    /// page changes both at once, and half of it must never land).
    pub password: Option<String>,
}

impl SiteServices {
    /// Creates a user; profile values are checked against the site's
    /// fields, required ones may stay empty (see [`ProfileCheck`]).
    pub fn create_user(&self, who: &Principal, new: NewUser) -> ServiceResult<User> {
        self.create_user_with(who, new, ProfileCheck::AsGiven)
    }

    /// As [`create_user`](Self::create_user), `check` saying whether every
    /// required profile field must be filled in (a form's save).
    pub fn create_user_with(
        &self,
        who: &Principal,
        new: NewUser,
        check: ProfileCheck,
    ) -> ServiceResult<User> {
        // Whoever may not create users hears that, whatever they typed: the
        // input is checked (and the password hashed) outside the write
        // transaction, so the caller is authorised once before too.
        self.read(|t| authorize(&self.site, t, who, Need::SiteAdmin).map(drop))?;
        let prepared = prepare_user(new)?;
        self.write(|t| {
            let actor = authorize(&self.site, t, who, Need::SiteAdmin)?;
            let rules = ProfileRules::load(t)?;
            insert_user(t, actor, prepared, "user created", &rules, check)
        })
    }

    pub fn update_user(
        &self,
        who: &Principal,
        id: UserId,
        update: UserUpdate,
    ) -> ServiceResult<User> {
        self.update_user_with(who, id, update, ProfileCheck::AsGiven)
    }

    /// As [`update_user`](Self::update_user), `check` saying whether every
    /// required profile field must be filled in (a form's save).
    pub fn update_user_with(
        &self,
        who: &Principal,
        id: UserId,
        update: UserUpdate,
        check: ProfileCheck,
    ) -> ServiceResult<User> {
        // As in `create_user`: authorised before the input is checked.
        self.read(|t| authorize(&self.site, t, who, Need::SiteAdmin).map(drop))?;
        let username = update
            .username
            .as_deref()
            .map(validate::username)
            .transpose()?;
        let email = update.email.as_deref().map(validate::email).transpose()?;
        let firstname = update
            .firstname
            .as_deref()
            .map(|v| validate::required_text("firstname", v, validate::MAX_NAME))
            .transpose()?;
        let lastname = update
            .lastname
            .as_deref()
            .map(|v| validate::required_text("lastname", v, validate::MAX_NAME))
            .transpose()?;
        let profile = clean_profile(&update.profile)?;
        if let Some(pw) = &update.password {
            validate::password(pw)?;
        }
        let new_hash = update.password.as_deref().map(password::hash);
        self.write(|t| {
            let actor = authorize(&self.site, t, who, Need::SiteAdmin)?;
            let mut user = load_user(t, id)?;
            let before = user.clone();
            if let Some(h) = new_hash {
                user.password_hash = Some(h);
            }
            if let Some(v) = username {
                user.username = v;
            }
            if let Some(v) = email {
                user.email = v;
            }
            if let Some(v) = firstname {
                user.firstname = v;
            }
            if let Some(v) = lastname {
                user.lastname = v;
            }
            if let Some(admin) = update.site_admin {
                if !admin && who.site_user_id(self.site.id) == Some(id) {
                    return Err(ServiceError::Conflict(
                        "you cannot take the site admin role from yourself".into(),
                    ));
                }
                user.site_role = if admin {
                    SiteRole::SiteAdmin
                } else {
                    SiteRole::User
                };
            }
            let rules = ProfileRules::load(t)?;
            rules.apply(&mut user.profile, profile)?;
            if check == ProfileCheck::Complete {
                rules.require_complete(&user.profile)?;
            }
            if user == before {
                // No change, no audit entry and no event (issue 16).
                return Ok(user);
            }
            user.updated_at = t.now;
            check_unique(t, &user)?;
            t.put_user(&user)?;
            t.audit_log(actor, "user.updated", format!("user #{id}"), "user updated")?;
            let changes = UserChanges::between(&before, &user);
            if changes.any() {
                t.emit(SiteEvent::UserChanged { user: id, changes })?;
            }
            Ok(user)
        })
    }

    pub fn set_user_password(&self, who: &Principal, id: UserId, pw: &str) -> ServiceResult<()> {
        validate::password(pw)?;
        let hash = password::hash(pw);
        self.write(|t| {
            let actor = authorize(&self.site, t, who, Need::SelfOrAdmin(id))?;
            let mut user = load_user(t, id)?;
            user.password_hash = Some(hash);
            user.updated_at = t.now;
            t.put_user(&user)?;
            t.audit_log(
                actor,
                "user.password_set",
                format!("user #{id}"),
                "password changed",
            )?;
            Ok(())
        })
    }

    /// Checks a user's password; unknown users cost a hash too.
    pub fn verify_user_password(&self, username: &str, pw: &str) -> ServiceResult<Option<User>> {
        let user = self.read(|t| match t.user_id_by_username(username)? {
            Some(id) => Ok(t.user(id)?),
            None => Ok(None),
        })?;
        match user {
            Some(u) => match &u.password_hash {
                Some(h) if password::verify(pw, h) => Ok(Some(u)),
                _ => Ok(None),
            },
            None => {
                password::verify(pw, password::dummy_hash());
                Ok(None)
            }
        }
    }

    pub fn suspend_user(&self, who: &Principal, id: UserId) -> ServiceResult<User> {
        self.set_user_status(who, id, UserStatus::Suspended)
    }

    pub fn reactivate_user(&self, who: &Principal, id: UserId) -> ServiceResult<User> {
        self.set_user_status(who, id, UserStatus::Active)
    }

    fn set_user_status(
        &self,
        who: &Principal,
        id: UserId,
        status: UserStatus,
    ) -> ServiceResult<User> {
        self.write(|t| {
            let actor = authorize(&self.site, t, who, Need::SiteAdmin)?;
            if who.site_user_id(self.site.id) == Some(id) && status == UserStatus::Suspended {
                return Err(ServiceError::Conflict("you cannot suspend yourself".into()));
            }
            let mut user = load_user(t, id)?;
            if user.status == status {
                return Ok(user);
            }
            user.status = status;
            user.updated_at = t.now;
            t.put_user(&user)?;
            let (action, event) = match status {
                UserStatus::Suspended => ("user.suspended", SiteEvent::UserSuspended { user: id }),
                UserStatus::Active => ("user.reactivated", SiteEvent::UserReactivated { user: id }),
            };
            t.audit_log(
                actor,
                action,
                format!("user #{id}"),
                action.replace("user.", "user ").replace('_', " "),
            )?;
            t.emit(event)?;
            Ok(user)
        })
    }

    /// Deletes a user with their segment memberships, enrolments, group
    /// memberships and inbox, in one transaction.
    pub fn delete_user(&self, who: &Principal, id: UserId) -> ServiceResult<()> {
        self.write(|t| {
            let actor = authorize(&self.site, t, who, Need::SiteAdmin)?;
            if who.site_user_id(self.site.id) == Some(id) {
                return Err(ServiceError::Conflict("you cannot delete yourself".into()));
            }
            let user = load_user(t, id)?;
            let reason = format!("user {:?} deleted", user.username);
            for segment in t.user_segment_ids(id)? {
                t.remove_segment_member(segment, id)?;
                t.emit(SiteEvent::SegmentMemberRemoved { segment, user: id })?;
            }
            for (course, groups) in t.user_course_rows(id)? {
                for group in groups {
                    t.delete_group_member(course, group, id)?;
                    t.emit(SiteEvent::GroupMemberRemoved { group, user: id })?;
                }
            }
            for e in t.user_enrolment_list(id)? {
                t.delete_enrolment_row(e.course, id, e.method)?;
                t.emit(SiteEvent::UserUnenrolled {
                    course: e.course,
                    user: id,
                    method: e.method,
                })?;
            }
            t.delete_user_messages(id)?;
            t.delete_user_subscriptions(id)?;
            super::ops::assignments::delete_user_work_in(t, id)?;
            t.delete_user_row(&user)?;
            t.audit_log(
                actor,
                "user.deleted",
                format!("user #{id} {:?}", user.username),
                reason,
            )?;
            t.emit(SiteEvent::UserDeleted { user: id })?;
            Ok(())
        })
    }

    pub fn get_user(&self, who: &Principal, id: UserId) -> ServiceResult<User> {
        self.read(|t| {
            authorize(&self.site, t, who, Need::SelfOrAdmin(id))?;
            load_user(t, id)
        })
    }

    pub fn user_by_username(&self, who: &Principal, username: &str) -> ServiceResult<User> {
        self.read(|t| {
            authorize_caller(&self.site, t, who)?;
            let id = t
                .user_id_by_username(username)?
                .ok_or_else(|| ServiceError::not_found(format!("user {username:?}")))?;
            authorize(&self.site, t, who, Need::SelfOrAdmin(id))?;
            load_user(t, id)
        })
    }

    /// Users in id order, searched by username, names and e-mail.
    pub fn list_users(
        &self,
        who: &Principal,
        query: Option<&str>,
        after: Option<UserId>,
        limit: usize,
    ) -> ServiceResult<Page<User, UserId>> {
        self.read(|t| {
            authorize(&self.site, t, who, Need::SiteAdmin)?;
            let limit = clamp_limit(limit);
            let items = t.users_page(after, limit + 1, |u| user_matches(query, u))?;
            Ok(page_of(items, limit, |u| u.id))
        })
    }
}

impl SiteServices {
    /// Creates many users in one transaction: all or none. An error names
    /// the (0-based) position of the first bad entry.
    pub fn create_users(&self, who: &Principal, new: Vec<NewUser>) -> ServiceResult<Vec<UserId>> {
        let at = |i: usize| {
            move |e: ServiceError| match e {
                ServiceError::Invalid { field, message } => ServiceError::Invalid {
                    field,
                    message: format!("entry {i}: {message}"),
                },
                ServiceError::Duplicate { field, message } => ServiceError::Duplicate {
                    field,
                    message: format!("entry {i}: {message}"),
                },
                other => other,
            }
        };
        let prepared = new
            .into_iter()
            .enumerate()
            .map(|(i, n)| prepare_user(n).map_err(at(i)))
            .collect::<ServiceResult<Vec<_>>>()?;
        self.write(|t| {
            let actor = authorize(&self.site, t, who, Need::SiteAdmin)?;
            let mut ids = Vec::with_capacity(prepared.len());
            let rules = ProfileRules::load(t)?;
            for (i, p) in prepared.into_iter().enumerate() {
                ids.push(
                    insert_user(
                        t,
                        actor,
                        p,
                        "user created (bulk)",
                        &rules,
                        ProfileCheck::AsGiven,
                    )
                    .map_err(at(i))?
                    .id,
                );
            }
            Ok(ids)
        })
    }
}
