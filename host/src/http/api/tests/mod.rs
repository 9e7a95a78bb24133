//! In-process tests of the JSON API: the real `http::app` over a populated
//! site, one file per resource. `ApiTest::new()` is the one-line set-up.

mod courses;
mod enrolments;
mod segments;
mod support;
mod users;

pub(crate) use support::{Api, ApiTest};
