//! Writes of users and their username and email indexes.

use crate::domain::{User, UserId};
use crate::storage::site::SiteTables;
use crate::storage::site::counters::Counter;
use crate::storage::site::read::UserRead;
use crate::storage::{Result, encode};

impl SiteTables<'_> {
    pub(crate) fn new_user_id(&mut self) -> Result<UserId> {
        Ok(UserId(self.next_id(Counter::User)?))
    }

    /// Inserts or replaces a user, moving its username/email index entries.
    pub(crate) fn put_user(&mut self, user: &User) -> Result<()> {
        if let Some(old) = self.user(user.id)? {
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
        Ok(())
    }

    pub(crate) fn delete_user_row(&mut self, user: &User) -> Result<()> {
        self.users.remove(user.id.0)?;
        self.users_by_username
            .remove(user.username.to_lowercase().as_str())?;
        self.users_by_email
            .remove(user.email.to_lowercase().as_str())?;
        Ok(())
    }
}
