//! Queries about users: records, the username and email indexes, pages
//! of users.

use redb::{ReadableTable, ReadableTableMetadata};

use super::{SiteTablesRead, all_records, get_record};
use crate::domain::{ProfileField, ProfileFieldId, User, UserId, UserStatus};
use crate::storage::{Result, StorageError, decode};

/// Users: records, the username and email indexes, pages of users.
pub trait UserRead: SiteTablesRead {
    fn user(&self, id: UserId) -> Result<Option<User>> {
        get_record(self.users()?, "users", id.0)
    }

    fn user_exists(&self, id: UserId) -> Result<bool> {
        Ok(self.users()?.get(id.0)?.is_some())
    }

    /// A user's status, or `None` when there is no such user. Decodes only
    /// the head of the record (borrowed, no allocation): a plugin's page of
    /// 1,000 segment members asks this 1,000 times.
    fn user_status(&self, id: UserId) -> Result<Option<UserStatus>> {
        Ok(self.user_status_and_address(id)?.map(|(status, _)| status))
    }

    /// A user's status and whether they have an e-mail address, from the
    /// head of the record like [`user_status`](Self::user_status): queuing
    /// an announcement's mail to 100,000 asks this 100,000 times.
    fn user_status_and_address(&self, id: UserId) -> Result<Option<(UserStatus, bool)>> {
        /// `User`'s leading fields, in its order (postcard is positional
        /// and ignores what follows `status`). The texts are read as
        /// bytes: postcard encodes both alike, and bytes need no UTF-8
        /// check.
        #[derive(serde::Deserialize)]
        struct Head<'a> {
            _id: u64,
            _username: &'a [u8],
            email: &'a [u8],
            _firstname: &'a [u8],
            _lastname: &'a [u8],
            status: UserStatus,
        }
        let Some(v) = self.users()?.get(id.0)? else {
            return Ok(None);
        };
        let head: Head<'_> =
            postcard::from_bytes(v.value()).map_err(|e| StorageError::Corrupt {
                table: "users",
                reason: e.to_string(),
            })?;
        let has_address = !head.email.iter().all(u8::is_ascii_whitespace);
        Ok(Some((head.status, has_address)))
    }

    fn user_id_by_username(&self, username: &str) -> Result<Option<UserId>> {
        let key = username.to_lowercase();
        Ok(self
            .users_by_username()?
            .get(key.as_str())?
            .map(|g| UserId(g.value())))
    }

    fn user_id_by_email(&self, email: &str) -> Result<Option<UserId>> {
        let key = email.to_lowercase();
        Ok(self
            .users_by_email()?
            .get(key.as_str())?
            .map(|g| UserId(g.value())))
    }

    /// Users in id order after `after`, keeping those `keep` accepts.
    fn users_page(
        &self,
        after: Option<UserId>,
        limit: usize,
        mut keep: impl FnMut(&User) -> bool,
    ) -> Result<Vec<User>> {
        let start = after.map_or(0, |u| u.0.saturating_add(1));
        let mut out = Vec::new();
        for row in self.users()?.range(start..)? {
            if out.len() >= limit {
                break;
            }
            let (_, v) = row?;
            let user: User = decode("users", v.value())?;
            if keep(&user) {
                out.push(user);
            }
        }
        Ok(out)
    }

    fn user_count(&self) -> Result<u64> {
        Ok(self.users()?.len()?)
    }

    /// Users whose e-mail domain is `domain` (lower case, as
    /// `domain::email_domain` gives it), in id order after `after`.
    fn user_ids_by_email_domain(
        &self,
        domain: &str,
        after: Option<UserId>,
        limit: usize,
    ) -> Result<Vec<UserId>> {
        let start = after.map_or(0, |u| u.0.saturating_add(1));
        let mut out = Vec::new();
        for row in self
            .users_by_email_domain()?
            .range((domain, start)..=(domain, u64::MAX))?
            .take(limit)
        {
            out.push(UserId(row?.0.value().1));
        }
        Ok(out)
    }

    /// Users whose profile field `shortname` holds `value` (compared
    /// without case), in id order after `after`.
    fn user_ids_by_profile_value(
        &self,
        shortname: &str,
        value: &str,
        after: Option<UserId>,
        limit: usize,
    ) -> Result<Vec<UserId>> {
        let value = value.to_lowercase();
        let start = after.map_or(0, |u| u.0.saturating_add(1));
        let mut out = Vec::new();
        let key = |user| (shortname, value.as_str(), user);
        for row in self
            .profile_values()?
            .range(key(start)..=key(u64::MAX))?
            .take(limit)
        {
            out.push(UserId(row?.0.value().2));
        }
        Ok(out)
    }

    /// Users with any value of profile field `shortname`, in (value, id)
    /// order: what deleting the field must clear.
    fn user_ids_with_profile_field(&self, shortname: &str) -> Result<Vec<UserId>> {
        let mut out = Vec::new();
        for row in self.profile_values()?.range((shortname, "", 0)..)? {
            let (key, _) = row?;
            let (field, _, user) = key.value();
            if field != shortname {
                break;
            }
            out.push(UserId(user));
        }
        Ok(out)
    }

    /// The site's profile fields in form order (position, then short name).
    fn all_profile_fields(&self) -> Result<Vec<ProfileField>> {
        let table = SiteTablesRead::profile_fields(self)?;
        let mut all: Vec<ProfileField> = all_records(table, "profile-fields")?;
        all.sort_by(|a, b| (a.position, &a.shortname).cmp(&(b.position, &b.shortname)));
        Ok(all)
    }

    fn profile_field(&self, id: ProfileFieldId) -> Result<Option<ProfileField>> {
        get_record(
            SiteTablesRead::profile_fields(self)?,
            "profile-fields",
            id.0,
        )
    }
}

impl<T: SiteTablesRead> UserRead for T {}
