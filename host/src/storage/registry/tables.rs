//! The tables of the registry file, each with its key/value layout.
//!
//! Keys and values are encoded as in a site file (big-endian integer keys,
//! postcard records). A change to any line needs a migration; this module
//! declares and never reads or writes a row. Fields end in `_table` so the
//! raw accessors never shadow a query of the same name (`sites()` is the
//! list of sites, `sites_table()` its table).

type Bytes = &'static [u8];

crate::storage::tables::tables! {
    /// Table definitions of the registry file (the live ones: migrations
    /// keep frozen copies of their own).
    pub mod defs;

    /// Every table of the registry, opened once in a write transaction.
    pub struct RegistryTables<'tx>() {}

    /// Every table of the registry in one read snapshot, each opened when
    /// first read.
    pub struct RegistryReadTables;

    /// Raw table access for the queries of [`super::RegistryRead`].
    pub trait RegistryTablesRead;

    /// `name → u64`: `schema_version` and the counters `next.site`,
    /// `next.operator`, `next.api_token`.
    meta_table: META = ("meta-v1", &'static str, u64);
    /// `SiteId → Site`.
    sites_table: SITES = ("sites-v1", u64, Bytes);
    /// `slug → SiteId`.
    sites_by_slug_table: SITES_BY_SLUG = ("sites-by-slug-v1", &'static str, u64);
    /// `lower-case host name → SiteId`.
    sites_by_host_table: SITES_BY_HOST = ("sites-by-host-v1", &'static str, u64);
    /// `OperatorId → Operator`.
    operators_table: OPERATORS = ("operators-v1", u64, Bytes);
    /// `lower-case username → OperatorId`.
    operators_by_username_table: OPERATORS_BY_USERNAME =
        ("operators-by-username-v1", &'static str, u64);
    /// `ApiTokenId → ApiToken`.
    api_tokens_table: API_TOKENS = ("api-tokens-v1", u64, Bytes);
    /// `SHA-256 of the secret → ApiTokenId`.
    api_tokens_by_hash_table: API_TOKENS_BY_HASH = ("api-tokens-by-hash-v1", Bytes, u64);
    /// `(plugin id, version) → PluginVersion`.
    plugin_versions_table: PLUGIN_VERSIONS = ("plugin-versions-v1", (&'static str, &'static str), Bytes);
    /// `(SiteId, plugin id) → SitePlugin`.
    site_plugins_table: SITE_PLUGINS = ("site-plugins-v1", (u64, &'static str), Bytes);
    /// `SHA-256(session secret) → Session`: the page sessions of operators
    /// and site users. The secret itself lives only in the cookie.
    sessions_table: SESSIONS = ("sessions-v1", Bytes, Bytes);
}
