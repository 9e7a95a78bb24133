//! Writes of users and the indexes kept beside them: username, e-mail,
//! e-mail domain and profile values; and of profile field definitions.

use crate::domain::{ProfileField, ProfileFieldId, User, UserId, email_domain};
use crate::storage::site::SiteTables;
use crate::storage::site::counters::Counter;
use crate::storage::site::read::UserRead;
use crate::storage::{Result, encode};

impl SiteTables<'_> {
    pub(crate) fn new_user_id(&mut self) -> Result<UserId> {
        Ok(UserId(self.next_id(Counter::User)?))
    }

    /// Inserts or replaces a user, moving its index entries.
    pub(crate) fn put_user(&mut self, user: &User) -> Result<()> {
        let old = self.user(user.id)?;
        if let Some(old) = &old {
            self.users_by_username
                .remove(old.username.to_lowercase().as_str())?;
            self.users_by_email
                .remove(old.email.to_lowercase().as_str())?;
        }
        self.users.insert(user.id.0, encode(user).as_slice())?;
        self.users_by_username
            .insert(user.username.to_lowercase().as_str(), user.id.0)?;
        self.users_by_email
            .insert(user.email.to_lowercase().as_str(), user.id.0)?;
        self.index_user(old.as_ref(), Some(user))
    }

    pub(crate) fn delete_user_row(&mut self, user: &User) -> Result<()> {
        self.users.remove(user.id.0)?;
        self.users_by_username
            .remove(user.username.to_lowercase().as_str())?;
        self.users_by_email
            .remove(user.email.to_lowercase().as_str())?;
        self.index_user(Some(user), None)
    }

    /// Moves a user's e-mail domain and profile value entries from `old`
    /// to `new` (either absent), touching only what changed: most updates
    /// change neither.
    fn index_user(&mut self, old: Option<&User>, new: Option<&User>) -> Result<()> {
        let id = old.or(new).map_or(0, |u| u.id.0);
        let domain = |u: Option<&User>| u.and_then(|u| email_domain(&u.email));
        let (old_domain, new_domain) = (domain(old), domain(new));
        if old_domain != new_domain {
            if let Some(d) = &old_domain {
                self.users_by_email_domain.remove((d.as_str(), id))?;
            }
            if let Some(d) = &new_domain {
                self.users_by_email_domain.insert((d.as_str(), id), ())?;
            }
        }
        let empty = Default::default();
        let old_profile = old.map_or(&empty, |u| &u.profile);
        let new_profile = new.map_or(&empty, |u| &u.profile);
        if old_profile == new_profile {
            return Ok(());
        }
        for (field, value) in old_profile {
            if new_profile.get(field) != Some(value) {
                let value = value.to_lowercase();
                self.profile_values
                    .remove((field.as_str(), value.as_str(), id))?;
            }
        }
        for (field, value) in new_profile {
            if old_profile.get(field) != Some(value) {
                let value = value.to_lowercase();
                self.profile_values
                    .insert((field.as_str(), value.as_str(), id), ())?;
            }
        }
        Ok(())
    }

    pub(crate) fn new_profile_field_id(&mut self) -> Result<ProfileFieldId> {
        Ok(ProfileFieldId(self.next_id(Counter::ProfileField)?))
    }

    pub(crate) fn put_profile_field(&mut self, field: &ProfileField) -> Result<()> {
        self.profile_fields
            .insert(field.id.0, encode(field).as_slice())?;
        Ok(())
    }

    /// Removes a field's definition; its values are the caller's to clear
    /// first (each user's record changes).
    pub(crate) fn delete_profile_field_row(&mut self, id: ProfileFieldId) -> Result<()> {
        self.profile_fields.remove(id.0)?;
        Ok(())
    }
}
