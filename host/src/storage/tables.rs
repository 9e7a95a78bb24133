//! The `tables!` macro: one list of a file's tables gives its table
//! definitions and the typed handles both kinds of file are read and
//! written through.
//!
//! Both the site file (`site/tables.rs`) and the registry file
//! (`registry/tables.rs`) are declared with it, so a table is added in one
//! line with its key/value layout beside it, and no accessor is written by
//! hand. The definitions are the *live* ones: a migration never names
//! them, it keeps frozen copies of its own (`migrations/`), so changing a
//! line here needs a new migration, never an edit of an old one.
//!
//! From a list of `field: DEF = ("name-vN", Key, Value);` lines it makes:
//! - `pub mod <defs>`: a `TableDefinition` per line, with the line's doc;
//! - the write side `<Write><'tx>`: every table opened once per write
//!   transaction (plus extra fields for the transaction's own state, each
//!   with its initial value), `open(tx, …)`;
//! - the read side `<Read>`: one read snapshot that owns its transaction
//!   and opens a table when it is first read, `open(tx)`;
//! - `<Access>`: the raw `&impl ReadableTable` of each table, implemented
//!   by both sides, so a query written once serves reads and writes;
//! - in tests, `dump_all_tables`: every row of every table as bytes.
//!
//! It must never hold a query or a write: those are written against the
//! access trait and the write struct in the file's own modules.

macro_rules! tables {
    (
        $(#[$defs_doc:meta])*
        pub mod $defs:ident;

        $(#[$write_doc:meta])*
        pub struct $Write:ident<'tx>($($arg:ident: $Arg:ty),* $(,)?) {
            $(
                $(#[$extra_doc:meta])*
                $extra_vis:vis $extra:ident: $Extra:ty = $init:expr,
            )*
        }

        $(#[$read_doc:meta])*
        pub struct $Read:ident;

        $(#[$access_doc:meta])*
        pub trait $Access:ident;

        $(
            $(#[$doc:meta])*
            $field:ident: $def:ident = ($name:literal, $K:ty, $V:ty);
        )*
    ) => {
        $(#[$defs_doc])*
        pub mod $defs {
            #[allow(unused_imports)]
            use super::*;
            $(
                $(#[$doc])*
                pub const $def: redb::TableDefinition<'static, $K, $V> =
                    redb::TableDefinition::new($name);
            )*
        }

        $(#[$write_doc])*
        pub struct $Write<'tx> {
            $(pub(crate) $field: redb::Table<'tx, $K, $V>,)*
            $(
                $(#[$extra_doc])*
                $extra_vis $extra: $Extra,
            )*
        }

        impl<'tx> $Write<'tx> {
            pub fn open(
                tx: &'tx redb::WriteTransaction,
                $($arg: $Arg),*
            ) -> $crate::storage::Result<Self> {
                Ok(Self {
                    $($field: tx.open_table($defs::$def)?,)*
                    $($extra: $init,)*
                })
            }
        }

        $(#[$read_doc])*
        pub struct $Read {
            tx: redb::ReadTransaction,
            $($field: std::sync::OnceLock<redb::ReadOnlyTable<$K, $V>>,)*
        }

        impl $Read {
            pub fn open(tx: redb::ReadTransaction) -> Self {
                Self { tx, $($field: std::sync::OnceLock::new(),)* }
            }
        }

        $(#[$access_doc])*
        pub trait $Access {
            $(fn $field(&self) -> $crate::storage::Result<&impl redb::ReadableTable<$K, $V>>;)*
        }

        impl $Access for $Write<'_> {
            $(fn $field(&self) -> $crate::storage::Result<&impl redb::ReadableTable<$K, $V>> {
                Ok(&self.$field)
            })*
        }

        impl $Access for $Read {
            $(fn $field(&self) -> $crate::storage::Result<&impl redb::ReadableTable<$K, $V>> {
                if let Some(table) = self.$field.get() {
                    return Ok(table);
                }
                let table = self.tx.open_table($defs::$def)?;
                Ok(self.$field.get_or_init(|| table))
            })*
        }

        /// Every row of every table as raw key and value bytes, table by
        /// table in name order: a byte-exact picture of a file for tests
        /// that assert a refused call changed nothing. Opening each table
        /// by its typed definition also checks its key and value types.
        #[cfg(test)]
        pub(crate) fn dump_all_tables(
            tx: &redb::ReadTransaction,
        ) -> $crate::storage::Result<$crate::storage::tables::TableDump> {
            let mut out = vec![$($crate::storage::tables::dump_table(tx, $defs::$def)?,)*];
            out.sort_by(|a, b| a.0.cmp(&b.0));
            Ok(out)
        }
    };
}

pub(crate) use tables;

/// The record stored under `key` in a table of postcard records, decoded.
pub(crate) fn get_record<'k, K: redb::Key + 'static, T: serde::de::DeserializeOwned>(
    table: &impl redb::ReadableTable<K, &'static [u8]>,
    name: &'static str,
    key: impl std::borrow::Borrow<K::SelfType<'k>>,
) -> super::Result<Option<T>> {
    match table.get(key)? {
        Some(guard) => Ok(Some(super::decode(name, guard.value())?)),
        None => Ok(None),
    }
}

/// Every record of a table of postcard records, in key order.
pub(crate) fn all_records<K: redb::Key + 'static, T: serde::de::DeserializeOwned>(
    table: &impl redb::ReadableTable<K, &'static [u8]>,
    name: &'static str,
) -> super::Result<Vec<T>> {
    let mut out = Vec::new();
    for row in table.iter()? {
        let (_, v) = row?;
        out.push(super::decode(name, v.value())?);
    }
    Ok(out)
}

/// Rows of each table as `(table name, [(key bytes, value bytes)])`.
#[cfg(test)]
pub(crate) type TableDump = Vec<TableRows>;

/// One table's name and its rows as `(key bytes, value bytes)`.
#[cfg(test)]
pub(crate) type TableRows = (String, Vec<(Vec<u8>, Vec<u8>)>);

#[cfg(test)]
pub(crate) fn dump_table<K: redb::Key + 'static, V: redb::Value + 'static>(
    tx: &redb::ReadTransaction,
    def: redb::TableDefinition<'static, K, V>,
) -> super::Result<TableRows> {
    use redb::{ReadableTable, TableHandle};
    let table = tx.open_table(def)?;
    let mut rows = Vec::new();
    for row in table.iter()? {
        let (k, v) = row?;
        rows.push((
            K::as_bytes(&k.value()).as_ref().to_vec(),
            V::as_bytes(&v.value()).as_ref().to_vec(),
        ));
    }
    Ok((def.name().to_owned(), rows))
}

/// The names of the tables a file holds, sorted.
#[cfg(test)]
pub(crate) fn stored_table_names(tx: &redb::ReadTransaction) -> super::Result<Vec<String>> {
    use redb::TableHandle;
    let mut names: Vec<String> = tx.list_tables()?.map(|t| t.name().to_owned()).collect();
    names.sort();
    Ok(names)
}
