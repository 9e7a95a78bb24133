//! Paging of short collections that a service returns whole (the sites of
//! a host, API tokens): the API still answers them as a [`Page`], so every
//! collection reads the same way, with an offset as the cursor.

use serde::{Deserialize, Serialize};

use super::Page;
use crate::http::HttpError;
use crate::services::clamp_limit;

/// `?cursor=…&limit=…` of a collection that cannot be searched.
#[derive(Debug, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `next_cursor` of the previous page; absent for the first page.
    pub cursor: Option<String>,
    /// Page size, 1 to 1000 (default 50).
    pub limit: Option<usize>,
}

impl<T> Page<T> {
    /// The page of `all` that `query` asks for, each item mapped by `map`.
    pub fn from_list<U>(
        all: Vec<U>,
        query: &ListQuery,
        map: impl FnMut(U) -> T,
    ) -> Result<Self, HttpError> {
        let offset = match query.cursor.as_deref() {
            None => 0,
            Some(c) => c.parse::<usize>().map_err(|_| HttpError::BadField {
                field: Some("cursor".into()),
                message: format!("{c:?} is not a cursor of this collection"),
            })?,
        };
        let limit = clamp_limit(query.limit.unwrap_or(super::DEFAULT_LIMIT));
        let total = all.len();
        let items = all.into_iter().skip(offset).take(limit).map(map).collect();
        let end = offset.saturating_add(limit);
        Ok(Page {
            items,
            next_cursor: (end < total).then(|| end.to_string()),
        })
    }
}
