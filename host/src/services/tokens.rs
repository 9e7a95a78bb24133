//! API tokens: bearer credentials for the JSON API.
//!
//! A token is 32 random bytes shown once as `chr_` + hex. The registry keeps
//! only its SHA-256 (a fast hash is right here: the secret has 256 bits of
//! entropy, so there is nothing to brute-force, and every API request
//! verifies one). A token acts as an operator or as one user of one site;
//! the service layer's authorisation then applies unchanged, so a token
//! of site A can do on site B exactly what its user could: nothing.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::auth::{Need, Principal, authorize};
use super::error::{ServiceError, ServiceResult};
use super::{Services, validate};
use crate::domain::*;
use crate::storage::registry::RegistryRead;

pub const TOKEN_PREFIX: &str = "chr_";

/// How often a token's last-used time is written back at most: every API
/// request must not become a registry write.
const LAST_USED_RESOLUTION: Duration = Duration::from_secs(60);

/// What a caller asks for when creating a token.
#[derive(Clone, Debug)]
pub struct NewToken {
    pub name: String,
    pub scope: TokenScope,
}

/// A created token and its secret, which is never shown again.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct CreatedToken {
    pub token: ApiToken,
    pub secret: String,
}

fn hash_secret(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

fn generate_secret() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{TOKEN_PREFIX}{hex}")
}

/// Whom a token made at the console acts as, named the way the console
/// names things: a site by slug or id, a user by username.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenTarget {
    /// The operator who asks.
    Operator,
    SiteUser {
        site: String,
        username: String,
    },
}

/// Last-used times not yet written, per token.
#[derive(Default)]
pub(crate) struct LastUsed {
    written: Mutex<HashMap<ApiTokenId, Instant>>,
}

impl Services {
    /// Creates a token. Operators may create any token; a site admin only
    /// tokens acting as users of their own site.
    pub fn create_token(&self, who: &Principal, new: NewToken) -> ServiceResult<CreatedToken> {
        let name = validate::required_text("name", &new.name, validate::MAX_NAME)?;
        match new.scope {
            TokenScope::Operator { operator } => {
                // An operator creates tokens acting as themselves only.
                if !who.is_operator() || who.operator_id().is_some_and(|me| me != operator) {
                    return Err(ServiceError::Forbidden(
                        "only an operator may create a token acting as themselves".into(),
                    ));
                }
                let exists = self
                    .registry()
                    .read(|t| Ok::<_, ServiceError>(t.operator(operator)?.is_some()))?;
                if !exists {
                    return Err(ServiceError::not_found(format!("operator #{operator}")));
                }
            }
            TokenScope::SiteUser { site, user } => {
                let s = self.site(site)?;
                s.read(|t| {
                    authorize(s.site(), t, who, Need::SiteAdmin)?;
                    super::ops::users::require_user(t, user)
                })?;
            }
        }
        let secret = generate_secret();
        let hash = hash_secret(&secret);
        let token = self.registry().write(|t| {
            let token = ApiToken {
                id: t.new_api_token_id()?,
                name,
                scope: new.scope,
                prefix: secret.chars().take(TOKEN_PREFIX.len() + 6).collect(),
                created_by: who.actor(),
                created_at: Timestamp::now(),
                last_used_at: None,
                revoked_at: None,
            };
            t.put_api_token(&token, Some(&hash))?;
            Ok::<_, ServiceError>(token)
        })?;
        self.audit_in_token_site(who, &token, "token.created", "API token created")?;
        Ok(CreatedToken { token, secret })
    }

    /// Tokens the principal may see: every token for operators, the
    /// tokens of their site for site admins. Never the secrets.
    pub fn list_tokens(
        &self,
        who: &Principal,
        site: Option<SiteId>,
    ) -> ServiceResult<Vec<ApiToken>> {
        let all = self
            .registry()
            .read(|t| Ok::<_, ServiceError>(t.api_tokens()?))?;
        match site {
            None if who.is_operator() => Ok(all),
            None => Err(ServiceError::Forbidden(
                "only an operator may list every token".into(),
            )),
            Some(site) => {
                self.authorize_site_admin(who, site)?;
                Ok(all
                    .into_iter()
                    .filter(
                        |t| matches!(t.scope, TokenScope::SiteUser { site: s, .. } if s == site),
                    )
                    .collect())
            }
        }
    }

    /// Revokes a token at once; later requests with it get 401.
    pub fn revoke_token(&self, who: &Principal, id: ApiTokenId) -> ServiceResult<ApiToken> {
        let token = self
            .registry()
            .read(|t| Ok::<_, ServiceError>(t.api_token(id)?))?
            .ok_or_else(|| ServiceError::not_found(format!("API token #{id}")))?;
        match token.scope {
            TokenScope::Operator { .. } if !who.is_operator() => {
                return Err(ServiceError::Forbidden(
                    "only an operator may revoke an operator token".into(),
                ));
            }
            TokenScope::SiteUser { site, .. } if !who.is_operator() => {
                self.authorize_site_admin(who, site)?;
            }
            _ => {}
        }
        let token = self.registry().write(|t| {
            let mut token = t
                .api_token(id)?
                .ok_or_else(|| ServiceError::not_found(format!("API token #{id}")))?;
            if token.revoked_at.is_none() {
                token.revoked_at = Some(Timestamp::now());
                t.put_api_token(&token, None)?;
            }
            Ok::<_, ServiceError>(token)
        })?;
        self.audit_in_token_site(who, &token, "token.revoked", "API token revoked")?;
        Ok(token)
    }

    /// Creates a token on one site (its `POST /tokens`): site admins and
    /// operators only. The token acts as `user`, by default as the caller.
    /// The caller is authorised on the site before anything else, so a
    /// principal of another site learns nothing about this one.
    pub fn create_site_token(
        &self,
        who: &Principal,
        site: SiteId,
        name: &str,
        user: Option<UserId>,
    ) -> ServiceResult<CreatedToken> {
        self.authorize_site_admin(who, site)?;
        let user = match user.or_else(|| who.site_user_id(site)) {
            Some(user) => user,
            None => {
                return Err(ServiceError::invalid(
                    "user",
                    "name the user the token acts as (you are not a user of this site)",
                ));
            }
        };
        self.create_token(
            who,
            NewToken {
                name: name.to_owned(),
                scope: TokenScope::SiteUser { site, user },
            },
        )
    }

    /// Creates a token acting as the calling operator.
    pub fn create_operator_token(
        &self,
        who: &Principal,
        name: &str,
    ) -> ServiceResult<CreatedToken> {
        let operator = who.operator_id().ok_or_else(|| {
            ServiceError::Forbidden("only an operator may create an operator token".into())
        })?;
        self.create_token(
            who,
            NewToken {
                name: name.to_owned(),
                scope: TokenScope::Operator { operator },
            },
        )
    }

    /// Creates a token for the console (`charon token create`): for the
    /// operator who asks, or for a user of a site named by username.
    pub fn create_token_for(
        &self,
        who: &Principal,
        name: &str,
        target: &TokenTarget,
    ) -> ServiceResult<CreatedToken> {
        match target {
            TokenTarget::Operator => self.create_operator_token(who, name),
            TokenTarget::SiteUser { site, username } => {
                let site = self.find_site(who, site)?;
                let user = self.site(site.id)?.user_by_username(who, username)?;
                self.create_site_token(who, site.id, name, Some(user.id))
            }
        }
    }

    /// Tokens of every site (operators only), or of the site with this
    /// slug or id.
    pub fn list_tokens_by_key(
        &self,
        who: &Principal,
        site: Option<&str>,
    ) -> ServiceResult<Vec<ApiToken>> {
        let site = site.map(|key| self.find_site(who, key)).transpose()?;
        self.list_tokens(who, site.map(|s| s.id))
    }

    /// Revokes a token of one site (its `DELETE /tokens/{id}`). A token of
    /// another site, or an operator token, is not found here.
    pub fn revoke_site_token(
        &self,
        who: &Principal,
        site: SiteId,
        id: ApiTokenId,
    ) -> ServiceResult<ApiToken> {
        self.authorize_site_admin(who, site)?;
        let token = self
            .registry()
            .read(|t| Ok::<_, ServiceError>(t.api_token(id)?))?;
        match token {
            Some(t) if matches!(t.scope, TokenScope::SiteUser { site: s, .. } if s == site) => {
                self.revoke_token(who, id)
            }
            _ => Err(ServiceError::not_found(format!("API token #{id}"))),
        }
    }

    /// Revokes any token; operators only (the operator API and console).
    pub fn revoke_token_as_operator(
        &self,
        who: &Principal,
        id: ApiTokenId,
    ) -> ServiceResult<ApiToken> {
        if !who.is_operator() {
            return Err(ServiceError::Forbidden(
                "only an operator may revoke tokens outside a site".into(),
            ));
        }
        self.revoke_token(who, id)
    }

    /// The principal a bearer secret stands for, or `None` for an unknown
    /// or revoked token. Records the last-used time (at most once a minute).
    pub fn authenticate_token(&self, secret: &str) -> ServiceResult<Option<(ApiToken, Principal)>> {
        if !secret.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        let hash = hash_secret(secret);
        let Some(token) = self
            .registry()
            .read(|t| Ok::<_, ServiceError>(t.api_token_by_hash(&hash)?))?
        else {
            return Ok(None);
        };
        if token.revoked_at.is_some() {
            return Ok(None);
        }
        self.touch_token(&token)?;
        let principal = match token.scope {
            TokenScope::Operator { operator } => Principal::operator(operator),
            TokenScope::SiteUser { site, user } => Principal::site_user(site, user),
        };
        Ok(Some((token, principal)))
    }

    /// Checks that `who` is an admin of `site` (or an operator).
    fn authorize_site_admin(&self, who: &Principal, site: SiteId) -> ServiceResult<()> {
        let s = self.site(site)?;
        s.read(|t| authorize(s.site(), t, who, Need::SiteAdmin))?;
        Ok(())
    }

    /// Writes `action` on `token` into the audit log of the site it acts
    /// in: a site's admins see its tokens come and go. An operator token
    /// belongs to no site and is not audited there.
    fn audit_in_token_site(
        &self,
        who: &Principal,
        token: &ApiToken,
        action: &str,
        reason: &str,
    ) -> ServiceResult<()> {
        if let TokenScope::SiteUser { site, .. } = token.scope {
            self.site(site)?.write(|t| {
                t.audit_log(
                    who.actor(),
                    action,
                    format!("API token #{} {:?}", token.id, token.name),
                    reason,
                )?;
                Ok(())
            })?;
        }
        Ok(())
    }

    fn touch_token(&self, token: &ApiToken) -> ServiceResult<()> {
        {
            let mut written = self
                .last_used()
                .written
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if written
                .get(&token.id)
                .is_some_and(|at| at.elapsed() < LAST_USED_RESOLUTION)
            {
                return Ok(());
            }
            written.insert(token.id, Instant::now());
        }
        self.registry().write(|t| {
            if let Some(mut current) = t.api_token(token.id)? {
                current.last_used_at = Some(Timestamp::now());
                t.put_api_token(&current, None)?;
            }
            Ok::<_, ServiceError>(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::testing::TestSite;

    /// `who` asks for a token named `name` acting as `user` of `site`.
    fn mint(
        fx: &TestSite,
        who: &Principal,
        site: SiteId,
        user: UserId,
        name: &str,
    ) -> ServiceResult<CreatedToken> {
        let scope = TokenScope::SiteUser { site, user };
        let name = name.into();
        fx.services.create_token(who, NewToken { name, scope })
    }

    #[track_caller]
    fn assert_authenticates_nobody(fx: &TestSite, secret: &str) {
        let found = fx.services.authenticate_token(secret).unwrap();
        assert!(found.is_none(), "{secret:?} authenticates {found:?}");
    }

    fn site_token(fx: &TestSite) -> CreatedToken {
        mint(fx, &fx.admin, fx.site.site().id, fx.admin_id, "HR sync").unwrap()
    }

    #[test]
    fn a_token_authenticates_as_its_user_until_revoked() {
        let fx = TestSite::new();
        let created = site_token(&fx);
        assert!(created.secret.starts_with(TOKEN_PREFIX));
        let (token, principal) = fx
            .services
            .authenticate_token(&created.secret)
            .unwrap()
            .unwrap();
        assert_eq!(principal, fx.admin);
        assert_eq!(token.id, created.token.id);
        let listed = fx
            .services
            .list_tokens(&fx.admin, Some(fx.site.site().id))
            .unwrap();
        assert!(listed[0].last_used_at.is_some(), "last use is recorded");

        fx.services
            .revoke_token(&fx.admin, created.token.id)
            .unwrap();
        assert_authenticates_nobody(&fx, &created.secret);
    }

    #[test]
    fn unknown_and_malformed_secrets_authenticate_nobody() {
        let fx = TestSite::new();
        site_token(&fx);
        assert_authenticates_nobody(&fx, "chr_0000");
        assert_authenticates_nobody(&fx, "Bearer x");
    }

    #[test]
    fn learners_cannot_mint_tokens_and_admins_not_for_other_sites() {
        let fx = TestSite::new();
        let site = fx.site.site().id;
        forbidden(mint(&fx, &fx.learner(0), site, fx.learners[0], "x"));

        let other = fx
            .services
            .create_site(
                &Principal::system(),
                crate::services::sites::NewSite {
                    slug: "other".into(),
                    name: "Other".into(),
                    ..Default::default()
                },
            )
            .unwrap();
        forbidden(mint(&fx, &fx.admin, other.id, fx.admin_id, "x"));
        forbidden(fx.services.list_tokens(&fx.admin, Some(other.id)));
    }

    fn forbidden<T: std::fmt::Debug>(result: ServiceResult<T>) {
        match result {
            Err(ServiceError::Forbidden(_)) => {}
            other => panic!("expected Forbidden, got {other:?}"),
        }
    }

    fn not_found<T: std::fmt::Debug>(result: ServiceResult<T>) {
        match result {
            Err(ServiceError::NotFound(_)) => {}
            other => panic!("expected NotFound, got {other:?}"),
        }
    }

    #[test]
    fn a_site_token_acts_as_its_creator_unless_a_user_is_named() {
        let fx = TestSite::new();
        let site = fx.site.site().id;
        let own = fx
            .services
            .create_site_token(&fx.admin, site, "own", None)
            .unwrap();
        assert_eq!(
            own.token.scope,
            TokenScope::SiteUser {
                site,
                user: fx.admin_id
            }
        );
        let theirs = fx
            .services
            .create_site_token(&fx.admin, site, "kiosk", Some(fx.learners[0]))
            .unwrap();
        assert_eq!(
            theirs.token.scope,
            TokenScope::SiteUser {
                site,
                user: fx.learners[0]
            }
        );
        fx.services.first_run().unwrap();
        let operator = fx.services.console_operator().unwrap();
        let err = fx
            .services
            .create_site_token(&operator, site, "x", None)
            .unwrap_err();
        assert_eq!(err.field(), Some("user"), "{err}");
        forbidden(
            fx.services
                .create_site_token(&fx.learner(0), site, "x", None),
        );
    }

    #[test]
    fn a_site_revokes_only_its_own_tokens() {
        let (a, b) = TestSite::two_sites();
        let of_b = b
            .services
            .create_site_token(&b.admin, b.id(), "b", None)
            .unwrap()
            .token
            .id;
        let of_a = site_token(&a).token.id;
        // Site A's admin on site B: refused before anything is looked up.
        forbidden(a.services.revoke_site_token(&a.admin, b.id(), of_b));
        // Site B's token named on site A: not one of A's.
        not_found(a.services.revoke_site_token(&a.admin, a.id(), of_b));
        forbidden(a.services.revoke_site_token(&a.learner(0), a.id(), of_a));
        let revoked = a
            .services
            .revoke_site_token(&a.admin, a.id(), of_a)
            .unwrap();
        assert!(revoked.revoked_at.is_some());
        let live = b.services.list_tokens(&b.admin, Some(b.id())).unwrap();
        assert!(live[0].revoked_at.is_none(), "B's token still works");
    }

    #[test]
    fn only_operators_mint_operator_tokens_and_revoke_outside_a_site() {
        let fx = TestSite::new();
        let own = site_token(&fx).token.id;
        forbidden(fx.services.create_operator_token(&fx.admin, "root"));
        forbidden(fx.services.revoke_token_as_operator(&fx.admin, own));
        fx.services.first_run().unwrap();
        let operator = fx.services.console_operator().unwrap();
        let created = fx.services.create_operator_token(&operator, "ops").unwrap();
        assert_eq!(
            created.token.scope,
            TokenScope::Operator {
                operator: operator.operator_id().unwrap()
            }
        );
        fx.services
            .revoke_token_as_operator(&operator, created.token.id)
            .unwrap();
        fx.services
            .revoke_token_as_operator(&operator, own)
            .unwrap();
        assert!(
            fx.services
                .list_tokens(&operator, None)
                .unwrap()
                .iter()
                .all(|t| t.revoked_at.is_some())
        );
    }

    #[test]
    fn the_console_names_sites_and_users_as_people_do() {
        let fx = TestSite::new();
        fx.services.first_run().unwrap();
        let operator = fx.services.console_operator().unwrap();
        let target = TokenTarget::SiteUser {
            site: "acme".into(),
            username: "teacher".into(),
        };
        let created = fx
            .services
            .create_token_for(&operator, "ci", &target)
            .unwrap();
        assert_eq!(
            created.token.scope,
            TokenScope::SiteUser {
                site: fx.id(),
                user: fx.teacher_id
            }
        );
        fx.services
            .create_token_for(&operator, "ops", &TokenTarget::Operator)
            .unwrap();
        let names = |key: Option<&str>| -> Vec<String> {
            fx.services
                .list_tokens_by_key(&operator, key)
                .unwrap()
                .into_iter()
                .map(|t| t.name)
                .collect()
        };
        assert_eq!(names(None), ["ci", "ops"]);
        assert_eq!(names(Some("acme")), ["ci"]);
        assert_eq!(names(Some(&fx.id().to_string())), ["ci"]);
        not_found(fx.services.list_tokens_by_key(&operator, Some("nowhere")));
        let nobody = TokenTarget::SiteUser {
            site: "acme".into(),
            username: "nobody".into(),
        };
        not_found(fx.services.create_token_for(&operator, "x", &nobody));
        forbidden(fx.services.create_token_for(&fx.admin, "x", &target));
        forbidden(fx.services.list_tokens_by_key(&fx.admin, Some("acme")));
    }

    #[test]
    fn deleting_a_site_deletes_its_tokens() {
        let fx = TestSite::new();
        let created = site_token(&fx);
        fx.services
            .delete_site(&Principal::system(), &fx.site.site().slug)
            .unwrap();
        assert_authenticates_nobody(&fx, &created.secret);
        assert!(
            fx.services
                .list_tokens(&Principal::system(), None)
                .unwrap()
                .is_empty()
        );
    }
}
