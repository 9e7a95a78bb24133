//! Manual enrolment: an admin or teacher enrols and unenrols chosen users.

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

pub struct Manual;

impl EnrolmentMethod for Manual {
    type Config = Config;

    fn manifest() -> Manifest {
        Manifest::new("manual", "Manual enrolment", env!("CARGO_PKG_VERSION"))
    }
}

export_plugin!(Manual);
