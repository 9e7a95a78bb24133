//! In-process tests of the JSON API: the real `http::app` over a populated
//! site, one file per resource. `ApiTest::new()` is the one-line set-up.

mod courses;
mod enrolments;
mod audit;
mod cross_site;
mod groups;
mod openapi;
mod segments;
mod sites;
mod support;
mod users;
mod tokens;

pub(crate) use support::{Api, ApiTest};
