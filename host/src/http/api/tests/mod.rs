//! In-process tests of the JSON API: the real `http::app` over a populated
//! site, one file per resource. `ApiTest::new()` is the one-line set-up.

mod announcements;
mod assignments;
mod audit;
mod authorise_first;
mod content;
mod contract;
mod courses;
mod cross_site;
mod discussions;
mod enrolments;
mod gradebook;
mod groups;
mod imports;
mod mail;
mod mass_enrolments;
mod method_runs;
mod openapi;
mod operator;
mod operator_credential;
mod plugins;
mod profile_fields;
mod secrets;
mod segment_rules;
mod segments;
mod separate_groups;
mod sites;
mod snapshot;
mod support;
mod sync;
mod tidy;
mod tokens;
mod users;

pub(crate) use support::ApiTest;
