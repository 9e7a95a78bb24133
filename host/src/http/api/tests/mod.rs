//! In-process tests of the JSON API: the real `http::app` over a populated
//! site, one file per resource. `ApiTest::new()` is the one-line set-up.

mod segments;
mod support;

pub(crate) use support::{Api, ApiTest};
