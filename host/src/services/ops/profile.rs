//! A user's profile values checked against the site's profile fields
//! (`ProfileField`): each key a defined field, each value in its kind's
//! canonical form, and (for forms) every required field given.
//!
//! Read inside the caller's transaction, like the rest of `ops`: the
//! fields a value is checked against are the ones it is written beside.

use std::collections::BTreeMap;

use crate::domain::*;
use crate::services::error::{ServiceError, ServiceResult};
use crate::storage::site::prelude::*;

/// The site's profile fields, by short name.
pub(crate) struct ProfileRules {
    fields: BTreeMap<String, ProfileField>,
}

impl ProfileRules {
    pub(crate) fn load(t: &impl SiteRead) -> ServiceResult<Self> {
        let fields = t
            .all_profile_fields()?
            .into_iter()
            .map(|f| (f.shortname.clone(), f))
            .collect();
        Ok(Self { fields })
    }

    /// `value` of field `shortname` in canonical form (`None`: no value),
    /// or why not, in words that name the field.
    pub(crate) fn check(&self, shortname: &str, value: &str) -> Result<Option<String>, String> {
        let Some(field) = self.fields.get(shortname) else {
            return Err(format!("{shortname:?} is not a profile field of this site"));
        };
        field
            .kind
            .canonical(value)
            .map_err(|why| format!("{}: {why}", field.name))
    }

    /// Applies `changes` (`None` or an empty value removes a value) to
    /// `profile`, each checked.
    pub(crate) fn apply(
        &self,
        profile: &mut BTreeMap<String, String>,
        changes: impl IntoIterator<Item = (String, Option<String>)>,
    ) -> ServiceResult<()> {
        for (shortname, value) in changes {
            let value = self
                .check(&shortname, value.as_deref().unwrap_or(""))
                .map_err(|why| ServiceError::invalid("profile", why))?;
            match value {
                Some(v) => profile.insert(shortname, v),
                None => profile.remove(&shortname),
            };
        }
        Ok(())
    }

    /// Refuses a profile that leaves a required field empty: what a
    /// person saving a form must fill in.
    pub(crate) fn require_complete(&self, profile: &BTreeMap<String, String>) -> ServiceResult<()> {
        self.require_complete_where(profile, |_| true)
    }

    /// As [`require_complete`](Self::require_complete), for the fields
    /// `asked` accepts (those a user's own form shows).
    pub(crate) fn require_complete_where(
        &self,
        profile: &BTreeMap<String, String>,
        asked: impl Fn(&ProfileField) -> bool,
    ) -> ServiceResult<()> {
        match self
            .fields
            .values()
            .find(|f| f.required && asked(f) && !profile.contains_key(&f.shortname))
        {
            Some(f) => Err(ServiceError::invalid(
                "profile",
                format!("{} is required", f.name),
            )),
            None => Ok(()),
        }
    }

    pub(crate) fn field(&self, shortname: &str) -> Option<&ProfileField> {
        self.fields.get(shortname)
    }
}
