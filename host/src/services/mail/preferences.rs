//! A user's message preferences: whether announcements also come as
//! e-mail (the inbox copy always stays). A user changes their own; a site
//! admin may see and change anyone's.
//!
//! A change applies to copies queued from then on, and to queued copies
//! not yet sent (the worker asks again before each one).

use crate::domain::{MessagePreferences, UserId};
use crate::services::auth::{self, Need, Principal};
use crate::services::{ServiceError, ServiceResult, SiteServices};
use crate::storage::site::prelude::*;

impl SiteServices {
    pub fn message_preferences(
        &self,
        who: &Principal,
        user: UserId,
    ) -> ServiceResult<MessagePreferences> {
        self.read(|t| {
            auth::authorize(&self.site, t, who, Need::SelfOrAdmin(user))?;
            if !t.user_exists(user)? {
                return Err(ServiceError::not_found(format!("user #{user}")));
            }
            Ok(t.preferences_of(user)?)
        })
    }

    /// Saves `user`'s preferences. Audited when they change.
    pub fn set_message_preferences(
        &self,
        who: &Principal,
        user: UserId,
        preferences: MessagePreferences,
    ) -> ServiceResult<MessagePreferences> {
        self.write(|t| {
            let actor = auth::authorize(&self.site, t, who, Need::SelfOrAdmin(user))?;
            if !t.user_exists(user)? {
                return Err(ServiceError::not_found(format!("user #{user}")));
            }
            if t.preferences_of(user)? != preferences {
                t.put_message_preferences(user, &preferences)?;
                t.audit_log(
                    actor,
                    "user.preferences_changed",
                    format_args!("user #{user}"),
                    if preferences.announcement_emails {
                        "announcement e-mails on"
                    } else {
                        "announcement e-mails off"
                    },
                )?;
            }
            Ok(preferences)
        })
    }
}
