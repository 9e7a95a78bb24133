//! `capped` 1.0.0: an enrolment method whose config is a number, `cap`,
//! that must not be negative. Version 2.0.0 (`tests/plugins/capped-v2`)
//! is stricter, so the host's upgrade tests have configs that survive the
//! upgrade and configs that do not.

use charon_sdk::*;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default = "ten")]
    pub cap: i64,
}

fn ten() -> i64 {
    10
}

struct Capped;

impl Plugin for Capped {
    type Config = Config;

    fn manifest() -> Manifest {
        Manifest::new("capped", "Capped", "1.0.0")
            .describe("A test plugin with one bounded number.")
            .field(
                ConfigField::new("cap", "Cap", FieldKind::Integer((Some(0), None)))
                    .default_json("10"),
            )
    }

    fn validate(_: CourseId, config: &Config, _: &dyn Host) -> Result<(), Vec<FieldError>> {
        if config.cap < 0 {
            return Err(vec![FieldError::new("cap", "must not be negative")]);
        }
        Ok(())
    }
}

export_plugin!(Capped);
