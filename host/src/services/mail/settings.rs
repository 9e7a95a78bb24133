//! A site's SMTP settings and the operator's default: checked with field
//! errors, saved by site admins (audited without the password), shown
//! with whether a password is set and never its text.
//!
//! The password is only ever written: a blank password on save keeps the
//! stored one, `remove_password` clears it, and no view, answer, audit
//! entry or log line carries it (`SmtpSettings`'s `Debug` masks it).

use crate::domain::{SmtpSecurity, SmtpSettings};
use crate::services::auth::{self, Need, Principal};
use crate::services::validate;
use crate::services::{ServiceError, ServiceResult, SiteServices};
use crate::storage::site::prelude::*;

/// Which settings the site's mail goes out with.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum SmtpSource {
    /// The site's own.
    Site,
    /// The operator's default for every site without its own.
    OperatorDefault,
    /// Neither: the site keeps the inbox only.
    None,
}

/// SMTP settings as pages and the API show them: everything but the
/// password, of which only whether one is set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmtpShown {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password_set: bool,
    pub from_address: String,
}

impl From<&SmtpSettings> for SmtpShown {
    fn from(s: &SmtpSettings) -> Self {
        Self {
            host: s.host.clone(),
            port: s.port,
            security: s.security,
            username: s.username.clone(),
            password_set: s.password.is_some(),
            from_address: s.from_address.clone(),
        }
    }
}

/// A site's mail settings page: its own settings, the operator's default
/// and which applies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmtpOverview {
    pub own: Option<SmtpShown>,
    pub operator_default: Option<SmtpShown>,
    pub applies: SmtpSource,
}

/// What a site admin saves. The port is wider than a port so that a
/// number out of range is a field error, not a parse failure.
#[derive(Clone, Debug, Default)]
pub struct SmtpSettingsInput {
    pub host: String,
    pub port: u32,
    pub security: Option<SmtpSecurity>,
    pub username: String,
    /// Blank keeps the stored password.
    pub password: String,
    /// Clears the stored password (wins over a typed one).
    pub remove_password: bool,
    pub from_address: String,
}

/// The field rules of settings, a site's or the operator's.
pub(crate) fn check(s: &SmtpSettings) -> ServiceResult<()> {
    host(&s.host)?;
    if s.port == 0 {
        return Err(ServiceError::invalid("port", "must be 1–65535"));
    }
    from_address(&s.from_address)?;
    Ok(())
}

fn host(value: &str) -> ServiceResult<String> {
    let v = validate::required_text("host", value, 253)?;
    if v.contains(|c: char| c.is_whitespace() || c == '/' || c == '@') {
        return Err(ServiceError::invalid(
            "host",
            format!("{v:?} is not a host name or address"),
        ));
    }
    Ok(v)
}

fn from_address(value: &str) -> ServiceResult<String> {
    let v = validate::email(value).map_err(|e| match e {
        ServiceError::Invalid { message, .. } => ServiceError::invalid("from_address", message),
        other => other,
    })?;
    // The address goes into an envelope as lettre parses it.
    v.parse::<lettre::Address>().map_err(|_| {
        ServiceError::invalid("from_address", format!("{v:?} is not an e-mail address"))
    })?;
    Ok(v)
}

impl SiteServices {
    /// Whether the site's mail can go out: its own settings or the
    /// operator's default. Without, an announcement reaches inboxes only.
    pub fn mail_configured(&self) -> ServiceResult<bool> {
        Ok(self.effective_smtp()?.is_some())
    }

    /// The settings the site's mail goes out with, if any.
    pub(crate) fn effective_smtp(&self) -> ServiceResult<Option<SmtpSettings>> {
        let own = self.read(|t| Ok(t.smtp_settings()?))?;
        Ok(own.or_else(|| self.mail.default_settings()))
    }

    /// The site's mail settings as its page shows them. Site admins.
    pub fn smtp_overview(&self, who: &Principal) -> ServiceResult<SmtpOverview> {
        let own = self.read(|t| {
            auth::authorize(&self.site, t, who, Need::SiteAdmin)?;
            Ok(t.smtp_settings()?)
        })?;
        Ok(self.overview_of(own.as_ref()))
    }

    fn overview_of(&self, own: Option<&SmtpSettings>) -> SmtpOverview {
        let operator_default = self.mail.default_settings();
        let applies = match (own, &operator_default) {
            (Some(_), _) => SmtpSource::Site,
            (None, Some(_)) => SmtpSource::OperatorDefault,
            (None, None) => SmtpSource::None,
        };
        SmtpOverview {
            own: own.map(SmtpShown::from),
            operator_default: operator_default.as_ref().map(SmtpShown::from),
            applies,
        }
    }

    /// Saves the site's own SMTP settings. Site admins; audited (the
    /// password never).
    pub fn save_smtp_settings(
        &self,
        who: &Principal,
        input: SmtpSettingsInput,
    ) -> ServiceResult<SmtpOverview> {
        let saved = self.write(|t| {
            let actor = auth::authorize(&self.site, t, who, Need::SiteAdmin)?;
            let previous = t.smtp_settings()?;
            let port = u16::try_from(input.port)
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| ServiceError::invalid("port", "must be 1–65535"))?;
            let username = validate::optional_text("username", &input.username, 254)?;
            let password = if input.remove_password {
                None
            } else if input.password.is_empty() {
                previous.and_then(|p| p.password)
            } else {
                Some(input.password.clone())
            };
            let settings = SmtpSettings {
                host: host(&input.host)?,
                port,
                security: input
                    .security
                    .ok_or_else(|| ServiceError::invalid("security", "choose how to connect"))?,
                username: Some(username).filter(|u| !u.is_empty()),
                password,
                from_address: from_address(&input.from_address)?,
            };
            t.put_smtp_settings(Some(&settings))?;
            t.audit_log(
                actor,
                "site.smtp_saved",
                format_args!("{}:{}", settings.host, settings.port),
                format_args!(
                    "from {}, password {}",
                    settings.from_address,
                    if settings.password.is_some() {
                        "set"
                    } else {
                        "not set"
                    }
                ),
            )?;
            Ok(settings)
        })?;
        Ok(self.overview_of(Some(&saved)))
    }

    /// Removes the site's own settings: the operator's default applies
    /// again, or none. Site admins; audited.
    pub fn remove_smtp_settings(&self, who: &Principal) -> ServiceResult<SmtpOverview> {
        self.write(|t| {
            let actor = auth::authorize(&self.site, t, who, Need::SiteAdmin)?;
            if t.smtp_settings()?.is_some() {
                t.put_smtp_settings(None)?;
                t.audit_log(actor, "site.smtp_removed", "smtp settings", "")?;
            }
            Ok(())
        })?;
        Ok(self.overview_of(None))
    }
}
