//! Registry schema version 1, frozen: sites, operators and API tokens.

use redb::{TableDefinition, WriteTransaction};

use crate::storage::Result;

/// `name → u64`: `schema_version` and the counters `next.{kind}`.
const META: TableDefinition<&str, u64> = TableDefinition::new("meta-v1");
/// `SiteId → Site`.
const SITES: TableDefinition<u64, &[u8]> = TableDefinition::new("sites-v1");
/// `slug → SiteId`.
const SITES_BY_SLUG: TableDefinition<&str, u64> = TableDefinition::new("sites-by-slug-v1");
/// `lower-case host name → SiteId`.
const SITES_BY_HOST: TableDefinition<&str, u64> = TableDefinition::new("sites-by-host-v1");
/// `OperatorId → Operator`.
const OPERATORS: TableDefinition<u64, &[u8]> = TableDefinition::new("operators-v1");
/// `lower-case username → OperatorId`.
const OPERATORS_BY_USERNAME: TableDefinition<&str, u64> =
    TableDefinition::new("operators-by-username-v1");
/// `ApiTokenId → ApiToken`.
const API_TOKENS: TableDefinition<u64, &[u8]> = TableDefinition::new("api-tokens-v1");
/// `SHA-256 of the secret → ApiTokenId`.
const API_TOKENS_BY_HASH: TableDefinition<&[u8], u64> =
    TableDefinition::new("api-tokens-by-hash-v1");

/// Creates every table of version 1, empty.
pub(super) fn create_the_registry_schema(tx: &WriteTransaction) -> Result<()> {
    tx.open_table(API_TOKENS)?;
    tx.open_table(API_TOKENS_BY_HASH)?;
    tx.open_table(META)?;
    tx.open_table(SITES)?;
    tx.open_table(SITES_BY_SLUG)?;
    tx.open_table(SITES_BY_HOST)?;
    tx.open_table(OPERATORS)?;
    tx.open_table(OPERATORS_BY_USERNAME)?;
    Ok(())
}
