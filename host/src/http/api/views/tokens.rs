//! API tokens: whom they act as, never their secret but in the one
//! answer that creates them.

use serde::{Deserialize, Serialize};

use super::{
    ActorView, ApiTokenIdView, Mirror, OperatorIdView, SiteIdView, TimestampView, UserIdView,
    from_mirror, mirror_enum, mirror_struct,
};
use crate::domain::{ApiToken, TokenScope};
use crate::services::tokens::CreatedToken;

/// Whom a token acts as: `{"kind":"operator","operator":1}` on every
/// site, or `{"kind":"site_user","site":2,"user":5}` with that user's
/// roles on that site only.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TokenScopeView {
    Operator { operator: OperatorIdView },
    SiteUser { site: SiteIdView, user: UserIdView },
}

mirror_enum!(
    TokenScope,
    TokenScopeView {
        Operator { operator },
        SiteUser { site, user },
    }
);

/// An API token, never its secret.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TokenView {
    pub id: ApiTokenIdView,
    /// What its owner calls it, e.g. "HR system sync".
    pub name: String,
    pub acts_as: TokenScopeView,
    /// The first characters of the secret, to tell tokens apart.
    pub prefix: String,
    pub created_by: ActorView,
    pub created_at: TimestampView,
    pub last_used_at: Option<TimestampView>,
    /// Set once revoked; a revoked token authenticates nobody.
    pub revoked_at: Option<TimestampView>,
}

impl Mirror<TokenView> for ApiToken {
    fn mirror(self) -> TokenView {
        TokenView {
            id: self.id.mirror(),
            name: self.name,
            acts_as: self.scope.mirror(),
            prefix: self.prefix,
            created_by: self.created_by.into(),
            created_at: self.created_at.mirror(),
            last_used_at: self.last_used_at.mirror(),
            revoked_at: self.revoked_at.mirror(),
        }
    }
}

/// The record a view was made from: a client of the API (the console)
/// gets back what the services returned.
impl Mirror<ApiToken> for TokenView {
    fn mirror(self) -> ApiToken {
        ApiToken {
            id: self.id.mirror(),
            name: self.name,
            scope: self.acts_as.mirror(),
            prefix: self.prefix,
            created_by: self.created_by.into(),
            created_at: self.created_at.mirror(),
            last_used_at: self.last_used_at.mirror(),
            revoked_at: self.revoked_at.mirror(),
        }
    }
}

from_mirror!(ApiToken, TokenView);

/// A new token and its secret.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CreatedTokenView {
    pub token: TokenView,
    /// The bearer secret (`chr_…`) for `Authorization: Bearer …`. Shown
    /// only in this answer: the host keeps only its hash.
    pub secret: String,
}

mirror_struct!(CreatedToken, CreatedTokenView { token, secret });
