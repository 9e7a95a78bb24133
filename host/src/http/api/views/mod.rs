//! The public JSON shapes of the API: every answer, and every value a
//! request body carries, as a type of its own (`serde` +
//! `utoipa::ToSchema`), converted from the domain records and service
//! DTOs the handlers get back (`From<Site> for SiteView`, …).
//!
//! Why apart from the records: a domain record is the stored layout
//! (postcard in redb). Serialised straight into JSON, a field added for
//! storage would appear in the API and its OpenAPI document, and a name
//! changed for clients would need a migration. Here a storage change stops
//! at a conversion the compiler points at, and a change of the public
//! shape shows as a diff of the OpenAPI snapshot (`tests/snapshot.rs`).
//!
//! The value enums that are stored (roles, statuses, owners, actors, …)
//! get views too, although they look alike: their JSON names
//! (`non_editing_teacher`, `{"operator":1}`) would otherwise come from the
//! stored type's serde attributes, which follow what postcard can decode,
//! not what clients read. Ids and times get views for the same reason
//! (and for their schemas' names and docs).
//!
//! Each view keeps the component name the document has always had
//! (`#[schema(as = Site)]` where the Rust name says `…View`), the doc
//! comment that is its description, and the field order of its record, so
//! the document and the bodies stay byte for byte what clients know. The
//! views the `charon` commands read back through [`super::wire`] also
//! derive `Deserialize` and convert back into the records they were made
//! from ([`mirror_struct!`], [`mirror_enum!`]).
//!
//! This module holds shapes and conversions only: never a rule, never a
//! service call; nothing below `http` may name it.

mod announcements;
mod assignments;
mod audit;
mod content;
mod courses;
mod discussions;
mod enrolments;
mod execution;
mod gradebook;
mod groups;
pub(crate) mod ids;
mod imports;
mod mail;
mod mass_enrolments;
mod plugins;
mod profile_fields;
mod segment_rules;
mod segments;
mod sites;
mod tokens;
mod users;

pub use announcements::*;
pub use assignments::*;
pub use audit::*;
pub use content::*;
pub use courses::*;
pub use discussions::*;
pub use enrolments::*;
pub use execution::*;
pub use gradebook::*;
pub use groups::*;
pub use ids::*;
pub use imports::*;
pub use mail::*;
pub use mass_enrolments::*;
pub use plugins::*;
pub use profile_fields::*;
pub use segment_rules::*;
pub use segments::*;
pub use sites::*;
pub use tokens::*;
pub use users::*;

/// A value as its counterpart on the other side of the API's edge: a
/// record's field as its view's, or (for the views the `charon` commands
/// read back) the other way. What the `mirror_…!` macros call on every
/// field, so that a `Vec` or an `Option` of ids converts like one id.
pub trait Mirror<T> {
    fn mirror(self) -> T;
}

impl<A: Mirror<B>, B> Mirror<Vec<B>> for Vec<A> {
    fn mirror(self) -> Vec<B> {
        self.into_iter().map(Mirror::mirror).collect()
    }
}

impl<A: Mirror<B>, B> Mirror<Option<B>> for Option<A> {
    fn mirror(self) -> Option<B> {
        self.map(Mirror::mirror)
    }
}

/// Plain values are the same on both sides.
macro_rules! mirror_as_is {
    ($($ty:ty),* $(,)?) => {
        $(impl Mirror<$ty> for $ty {
            fn mirror(self) -> $ty {
                self
            }
        })*
    };
}

mirror_as_is!(
    String,
    bool,
    u32,
    i64,
    u64,
    usize,
    std::collections::BTreeMap<String, String>,
);

/// `From` both ways between a record and its view, through [`Mirror`].
macro_rules! from_mirror {
    ($record:ty, $view:ty) => {
        impl From<$record> for $view {
            fn from(value: $record) -> Self {
                $crate::http::api::views::Mirror::mirror(value)
            }
        }

        impl From<$view> for $record {
            fn from(value: $view) -> Self {
                $crate::http::api::views::Mirror::mirror(value)
            }
        }
    };
}

/// A view that has exactly its record's fields: each field mirrored, both
/// ways. A field added to the record fails to compile here until the view
/// decides whether to show it.
macro_rules! mirror_struct {
    ($record:ident, $view:ident { $($field:ident),* $(,)? }) => {
        impl $crate::http::api::views::Mirror<$view> for $record {
            fn mirror(self) -> $view {
                $view {
                    $($field: $crate::http::api::views::Mirror::mirror(self.$field)),*
                }
            }
        }

        impl $crate::http::api::views::Mirror<$record> for $view {
            fn mirror(self) -> $record {
                $record {
                    $($field: $crate::http::api::views::Mirror::mirror(self.$field)),*
                }
            }
        }

        $crate::http::api::views::from_mirror!($record, $view);
    };
}

/// A view enum with exactly its record's variants (unit, `{ fields }` or
/// one `(value)`), each mirrored both ways.
macro_rules! mirror_enum {
    ($record:ident, $view:ident {
        $($variant:ident $({ $($field:ident),* })? $(($value:ident))?),* $(,)?
    }) => {
        impl $crate::http::api::views::Mirror<$view> for $record {
            fn mirror(self) -> $view {
                match self {
                    $($record::$variant $({ $($field),* })? $(($value))? => $view::$variant
                        $({ $($field: $crate::http::api::views::Mirror::mirror($field)),* })?
                        $(($crate::http::api::views::Mirror::mirror($value)))?,)*
                }
            }
        }

        impl $crate::http::api::views::Mirror<$record> for $view {
            fn mirror(self) -> $record {
                match self {
                    $($view::$variant $({ $($field),* })? $(($value))? => $record::$variant
                        $({ $($field: $crate::http::api::views::Mirror::mirror($field)),* })?
                        $(($crate::http::api::views::Mirror::mirror($value)))?,)*
                }
            }
        }

        $crate::http::api::views::from_mirror!($record, $view);
    };
}

pub(crate) use {from_mirror, mirror_enum, mirror_struct};
