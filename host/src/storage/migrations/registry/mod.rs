//! The migrations of the registry file, one module per schema version,
//! each holding the frozen table definitions it creates.

mod v1;
mod v2;
mod v3;

#[cfg(test)]
mod fixtures;

use super::Migration;

pub const REGISTRY_MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "create the registry schema",
        apply: v1::create_the_registry_schema,
    },
    Migration {
        version: 2,
        name: "add installed plugin versions and per-site plugin records",
        apply: v2::add_plugin_tables,
    },
    Migration {
        version: 3,
        name: "add page sessions",
        apply: v3::add_session_table,
    },
];
