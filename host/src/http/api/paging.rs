//! The paging parameters every collection shares, `?cursor=` and
//! `?limit=`, read the one way the OpenAPI document declares: a cursor is
//! a number (empty or absent for the first page) and a limit is a whole
//! number from 1 to [`MAX_PAGE`](crate::services::MAX_PAGE). Anything else
//! is a 422 that names the parameter and its range, never a 400 of the
//! query parser ("number too large") nor a silently clamped page.
//!
//! Both are read from the query as text and checked here, because a serde
//! refusal of the query string cannot name the parameter. The document
//! declares `cursor` with the pattern `^[0-9]{0,19}$`: every cursor the API
//! hands out is an offset or an id, and 19 digits always fit.

use serde::{Deserialize, Serialize};

use crate::http::HttpError;
use crate::services::MAX_PAGE;

/// `?limit=` as sent. Serialised as the number it holds, so the console
/// asks for a page with the very type the handlers read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Limit(String);

impl From<usize> for Limit {
    fn from(n: usize) -> Self {
        Limit(n.to_string())
    }
}

impl Limit {
    /// The page size `limit` asks for, or `default` without one.
    pub fn checked(limit: Option<&Limit>, default: usize) -> Result<usize, HttpError> {
        let Some(Limit(text)) = limit else {
            return Ok(default);
        };
        match text.parse::<usize>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
            _ => Err(HttpError::BadField {
                field: Some("limit".into()),
                message: format!("limit must be a whole number from 1 to {MAX_PAGE}, not {text:?}"),
            }),
        }
    }
}

/// The cursor as a number, `None` for the first page (no cursor, or an
/// empty one), or a 422 naming the parameter.
pub fn cursor<T: std::str::FromStr>(
    cursor: Option<&str>,
    of: &str,
) -> Result<Option<T>, HttpError> {
    match cursor {
        None | Some("") => Ok(None),
        Some(c) => c.parse().map(Some).map_err(|_| HttpError::BadField {
            field: Some("cursor".into()),
            message: format!("{c:?} is not a cursor of {of}"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_outside_one_to_the_largest_page_is_refused_naming_the_range() {
        for bad in ["0", "1001", "12700941059718681460736", "-1", "ten", ""] {
            let refused = Limit::checked(Some(&Limit(bad.into())), 50).expect_err(bad);
            let HttpError::BadField { field, message } = refused else {
                panic!("{bad}: not a field error");
            };
            assert_eq!(field.as_deref(), Some("limit"));
            assert!(message.contains("from 1 to 1000"), "{message}");
        }
        assert_eq!(Limit::checked(Some(&Limit::from(1000)), 50).unwrap(), 1000);
        assert_eq!(Limit::checked(Some(&Limit::from(1)), 50).unwrap(), 1);
        assert_eq!(Limit::checked(None, 50).unwrap(), 50);
    }

    #[test]
    fn an_empty_cursor_is_the_first_page_and_a_word_is_refused() {
        assert_eq!(cursor::<u64>(Some(""), "this collection").unwrap(), None);
        assert_eq!(cursor::<u64>(None, "this collection").unwrap(), None);
        assert_eq!(
            cursor::<u64>(Some("7"), "this collection").unwrap(),
            Some(7)
        );
        assert!(cursor::<u64>(Some("x"), "this collection").is_err());
        // The longest cursor the pattern lets through fits both kinds.
        let longest = "9".repeat(19);
        assert!(cursor::<u64>(Some(&longest), "this collection").is_ok());
        assert!(cursor::<usize>(Some(&longest), "this collection").is_ok());
    }
}
