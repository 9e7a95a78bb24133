//! Page sessions: signing in with a password, the idle timeout, signing
//! out, and throttling of repeated failures.
//!
//! A session is a random 256-bit secret kept only in the browser's cookie;
//! the registry stores a SHA-256 of it beside whom it signs in and the
//! CSRF token every form of the session carries back. Signing in always
//! makes a new secret (and deletes the one the browser brought), so a
//! secret planted before sign-in is worth nothing after it.
//!
//! Throttling of repeated failures is [`super::sign_in_throttle`]'s: an
//! attempt is reserved there before its password is checked.

use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::error::{ServiceError, ServiceResult};
use super::sign_in_throttle::SignInThrottle;
use super::{Principal, Services, SiteServices, auth};
use crate::domain::{Session, SessionSubject, SiteStatus, Timestamp, UserStatus};
use crate::storage::registry::RegistryRead;
use crate::storage::site::prelude::*;

/// How long sessions live and how hard sign-in is throttled (the rule is
/// [`super::sign_in_throttle`]'s).
#[derive(Clone, Debug)]
pub struct SessionPolicy {
    /// A session unused this long is over.
    pub idle_timeout: Duration,
    /// Failed sign-ins one account may have from one address inside the
    /// window; then that pair waits the window out.
    pub pair_failures: usize,
    /// Failed sign-ins one account may have from all addresses inside the
    /// window before attempts from addresses it never signed in from wait
    /// a growing delay.
    pub account_failures: usize,
    /// The longest that growing delay gets.
    pub account_max_delay: Duration,
    /// Failed sign-ins one address may have inside the window, whatever
    /// the accounts.
    pub address_failures: usize,
    pub failure_window: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            // Moodle's default is 8 hours; a site admin's browser left
            // open deserves less.
            idle_timeout: Duration::from_secs(2 * 60 * 60),
            pair_failures: 5,
            account_failures: 10,
            account_max_delay: Duration::from_secs(120),
            address_failures: 30,
            failure_window: Duration::from_secs(15 * 60),
        }
    }
}

/// How often a session's `last_seen_at` is written: every request would
/// make every page view a registry write.
const TOUCH_EVERY_MS: i64 = 60_000;

#[derive(Default)]
pub(crate) struct SessionKeeper {
    policy: Mutex<SessionPolicy>,
    throttle: SignInThrottle,
}

impl SessionKeeper {
    fn policy(&self) -> SessionPolicy {
        self.policy
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// What a sign-in attempt came to.
#[derive(Debug)]
pub enum SignIn {
    /// The browser gets `secret` as its cookie.
    SignedIn { secret: String, session: Session },
    /// Unknown name, wrong password, or an account that cannot sign in by
    /// password. One answer for all, so it names no account.
    WrongCredentials,
    /// The password was right but the account is suspended.
    Suspended,
    /// Too many failures; try again after this long.
    Throttled { retry_after: Duration },
}

/// A live session and whom it signs in.
#[derive(Clone, Debug)]
pub struct ActiveSession {
    pub session: Session,
    pub principal: Principal,
    /// Whom to greet: the user's full name or the operator's username.
    pub display_name: String,
    /// Operators and site admins; for what a page offers, never for what
    /// it allows (the services decide that on every call).
    pub is_site_admin: bool,
    /// Unread messages in the user's inbox (0 for an operator), read with
    /// the session so the header shows it without another call.
    pub unread: u64,
}

fn hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// 256 random bits as hex: session secrets, CSRF tokens.
pub(crate) fn random_hex() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn account_key(prefix: &str, username: &str) -> String {
    format!("{prefix}:{}", username.trim().to_lowercase())
}

impl Services {
    pub fn set_session_policy(&self, policy: SessionPolicy) {
        *self
            .inner
            .sessions
            .policy
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = policy;
    }

    /// Signs a user of `site` in by password. `replacing` is the secret the
    /// browser already holds, if any: it is deleted.
    pub fn sign_in_site_user(
        &self,
        site: &SiteServices,
        username: &str,
        password: &str,
        address: Option<IpAddr>,
        replacing: Option<&str>,
    ) -> ServiceResult<SignIn> {
        let account = account_key(&format!("site{}", site.site().id), username);
        let reservation = match self.reserve_attempt(&account, address) {
            Ok(r) => r,
            Err(throttled) => return Ok(throttled),
        };
        let Some(user) = site.verify_user_password(username, password)? else {
            tracing::info!(site = %site.site().slug, "sign-in refused: wrong credentials");
            return Ok(SignIn::WrongCredentials);
        };
        self.inner.sessions.throttle.succeeded(reservation);
        if user.status != UserStatus::Active || site.site().status != SiteStatus::Active {
            return Ok(SignIn::Suspended);
        }
        let subject = SessionSubject::SiteUser {
            site: site.site().id,
            user: user.id,
        };
        let signed_in = self.start_session(subject, replacing)?;
        site.record_sign_in(&user)?;
        Ok(signed_in)
    }

    /// Signs an operator in by password; the session enters every site.
    pub fn sign_in_operator(
        &self,
        username: &str,
        password: &str,
        address: Option<IpAddr>,
        replacing: Option<&str>,
    ) -> ServiceResult<SignIn> {
        let account = account_key("operator", username);
        let reservation = match self.reserve_attempt(&account, address) {
            Ok(r) => r,
            Err(throttled) => return Ok(throttled),
        };
        let Some(op) = self.verify_operator(username, password)? else {
            tracing::info!("operator sign-in refused: wrong credentials");
            return Ok(SignIn::WrongCredentials);
        };
        self.inner.sessions.throttle.succeeded(reservation);
        self.start_session(SessionSubject::Operator(op.id), replacing)
    }

    /// An attempt allowed to check its password, reserved before the
    /// check so that parallel attempts cannot all pass the limits.
    fn reserve_attempt(
        &self,
        account: &str,
        address: Option<IpAddr>,
    ) -> Result<super::sign_in_throttle::Reservation, SignIn> {
        let policy = self.inner.sessions.policy();
        let limits = super::sign_in_throttle::Limits {
            pair_failures: policy.pair_failures,
            address_failures: policy.address_failures,
            account_failures: policy.account_failures,
            account_max_delay: policy.account_max_delay,
            failure_window: policy.failure_window,
        };
        self.inner
            .sessions
            .throttle
            .reserve(&limits, account, address)
            .map_err(|retry_after| {
                tracing::info!(%account, ?address, "sign-in throttled");
                SignIn::Throttled { retry_after }
            })
    }

    fn start_session(
        &self,
        subject: SessionSubject,
        replacing: Option<&str>,
    ) -> ServiceResult<SignIn> {
        let secret = random_hex();
        let now = Timestamp::now();
        let session = Session {
            subject,
            csrf: random_hex(),
            created_at: now,
            last_seen_at: now,
        };
        let idle_ms = self.idle_ms();
        self.registry().write(|t| {
            if let Some(old) = replacing {
                t.delete_session(&hash(old))?;
            }
            // Sign-in is rare next to page views: a fine moment to sweep
            // sessions that timed out without a sign-out.
            t.delete_sessions_where(|s| now.0 - s.last_seen_at.0 >= idle_ms)?;
            t.put_session(&hash(&secret), &session)?;
            Ok::<_, ServiceError>(())
        })?;
        Ok(SignIn::SignedIn { secret, session })
    }

    fn idle_ms(&self) -> i64 {
        i64::try_from(self.inner.sessions.policy().idle_timeout.as_millis()).unwrap_or(i64::MAX)
    }

    /// The live session of `secret`, touched; `None` when unknown, timed
    /// out (then deleted), or when its account or site can no longer sign
    /// in. `site` is the site the request is for: a site user's session
    /// counts only on its own site.
    pub fn session(
        &self,
        secret: &str,
        site: Option<&SiteServices>,
    ) -> ServiceResult<Option<ActiveSession>> {
        let key = hash(secret);
        let Some(mut session) = self
            .registry()
            .read(|t| Ok::<_, ServiceError>(t.session(&key)?))?
        else {
            return Ok(None);
        };
        let now = Timestamp::now();
        if now.0 - session.last_seen_at.0 >= self.idle_ms() {
            self.registry().write(|t| {
                t.delete_session(&key)?;
                Ok::<_, ServiceError>(())
            })?;
            return Ok(None);
        }
        let (principal, display_name, is_site_admin, unread) = match session.subject {
            SessionSubject::Operator(id) => {
                let Some(op) = self
                    .registry()
                    .read(|t| Ok::<_, ServiceError>(t.operator(id)?))?
                else {
                    return Ok(None);
                };
                (Principal::operator(id), op.username, true, 0)
            }
            SessionSubject::SiteUser { site: sid, user } => {
                let Some(site) = site.filter(|s| s.site().id == sid) else {
                    return Ok(None);
                };
                let Some((user, unread)) = site.session_user(user)? else {
                    return Ok(None);
                };
                let name = format!("{} {}", user.firstname, user.lastname);
                let admin = user.site_role == crate::domain::SiteRole::SiteAdmin;
                (
                    Principal::site_user(sid, user.id),
                    name.trim().to_owned(),
                    admin,
                    unread,
                )
            }
        };
        if now.0 - session.last_seen_at.0 >= TOUCH_EVERY_MS {
            session.last_seen_at = now;
            self.registry().write(|t| {
                t.put_session(&key, &session)?;
                Ok::<_, ServiceError>(())
            })?;
        }
        Ok(Some(ActiveSession {
            session,
            principal,
            display_name,
            is_site_admin,
            unread,
        }))
    }

    /// Ends the session of `secret` (nothing happens for an unknown one).
    pub fn sign_out(&self, secret: &str) -> ServiceResult<()> {
        self.registry().write(|t| {
            t.delete_session(&hash(secret))?;
            Ok::<_, ServiceError>(())
        })
    }
}

impl SiteServices {
    /// The user a session names, if they may still be signed in: exists,
    /// active, on an active site.
    fn session_user(
        &self,
        id: crate::domain::UserId,
    ) -> ServiceResult<Option<(crate::domain::User, u64)>> {
        if self.site.status != SiteStatus::Active {
            return Ok(None);
        }
        self.read(|t| match t.user(id)? {
            Some(u) if u.status == UserStatus::Active => Ok(Some((u, t.unread_count(id)?))),
            _ => Ok(None),
        })
    }

    /// Audits a sign-in in the site's log, as Moodle's `user_loggedin`.
    fn record_sign_in(&self, user: &crate::domain::User) -> ServiceResult<()> {
        let who = Principal::site_user(self.site.id, user.id);
        self.write(|t| {
            let actor = auth::authorize(&self.site, t, &who, auth::Need::SiteMember)?;
            t.audit_log(
                actor,
                "user.signed_in",
                format!("user #{}", user.id),
                format!("{} signed in", user.username),
            )?;
            Ok(())
        })
    }
}

#[cfg(test)]
impl Services {
    /// A session for `subject` without a password check (argon2 would
    /// make every page test slow); returns the cookie's secret.
    pub(crate) fn test_session(&self, subject: SessionSubject) -> String {
        match self.start_session(subject, None) {
            Ok(SignIn::SignedIn { secret, .. }) => secret,
            other => panic!("test session: {other:?}"),
        }
    }

    /// The CSRF token of a session.
    pub(crate) fn test_csrf(&self, secret: &str) -> String {
        self.registry()
            .read(|t| Ok::<_, ServiceError>(t.session(&hash(secret))?))
            .ok()
            .flatten()
            .map(|s| s.csrf)
            .unwrap_or_default()
    }
}
