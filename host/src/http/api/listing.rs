//! Paging of short collections that a service returns whole (the sites of
//! a host, API tokens): the API still answers them as a [`Page`], so every
//! collection reads the same way, with an offset as the cursor.

use serde::{Deserialize, Serialize};

use super::Page;
use super::paging::{Limit, cursor};
use crate::http::HttpError;

/// `?cursor=…&limit=…` of a collection that cannot be searched.
#[derive(Debug, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `next_cursor` of the previous page; empty or absent for the first page.
    #[param(pattern = "^[0-9]{0,19}$")]
    pub cursor: Option<String>,
    /// Page size, 1 to 1000 (default 50); anything else is refused (422).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    pub limit: Option<Limit>,
}

impl<T> Page<T> {
    /// The page of `all` that `query` asks for, each item mapped by `map`.
    pub fn from_list<U>(
        all: Vec<U>,
        query: &ListQuery,
        map: impl FnMut(U) -> T,
    ) -> Result<Self, HttpError> {
        let offset = cursor::<usize>(query.cursor.as_deref(), "this collection")?.unwrap_or(0);
        let limit = Limit::checked(query.limit.as_ref(), super::DEFAULT_LIMIT)?;
        let total = all.len();
        let items = all.into_iter().skip(offset).take(limit).map(map).collect();
        let end = offset.saturating_add(limit);
        Ok(Page {
            items,
            next_cursor: (end < total).then(|| end.to_string()),
        })
    }
}
