//! Self enrolment: a learner enrols themselves.

use charon_sdk::*;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default = "learner")]
    pub role: Role,
}

fn learner() -> Role {
    Role::Learner
}

pub struct SelfEnrolment;

impl EnrolmentMethod for SelfEnrolment {
    type Config = Config;

    fn manifest() -> Manifest {
        Manifest::new("self", "Self enrolment", env!("CARGO_PKG_VERSION"))
    }
}

export_plugin!(SelfEnrolment);
