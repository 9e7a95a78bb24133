//! `broken-manifest`: builds and runs, but its manifest declares a boolean
//! field whose default is the string "yes" — the mistake a plugin author
//! reported (issue 20) — so the host must refuse it at install and say
//! which field and why.

use charon_sdk::*;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
pub struct Config {
    #[serde(default)]
    pub active: bool,
}

struct Broken;

impl Plugin for Broken {
    type Config = Config;

    fn manifest() -> Manifest {
        Manifest::new("broken-manifest", "Broken manifest", "1.0.0")
            .describe("Declares a boolean field whose default is text.")
            .field(
                ConfigField::new("active", "Active", FieldKind::Boolean).default_json(r#""yes""#),
            )
    }

    fn validate(_: CourseId, _: &Config, _: &dyn Host) -> Result<(), Vec<FieldError>> {
        Ok(())
    }
}

export_plugin!(Broken);
