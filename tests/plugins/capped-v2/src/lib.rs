//! `capped` 2.0.0: as 1.0.0 (`tests/plugins/capped-v1`), but `cap` may be
//! at most 50, and a new field `label` defaults to `""`; a config migrated
//! from 1.x gets the label `from <version>` (contract 0.4.0's
//! `migrate-config`), so a test sees the old version reach the plugin.

use charon_sdk::*;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default = "ten")]
    pub cap: i64,
    #[serde(default)]
    pub label: String,
}

fn ten() -> i64 {
    10
}

struct Capped;

impl Plugin for Capped {
    type Config = Config;

    fn manifest() -> Manifest {
        Manifest::new("capped", "Capped", "2.0.0")
            .describe("A test plugin with one bounded number and a label.")
            .field(
                ConfigField::new("cap", "Cap", FieldKind::Integer((Some(0), Some(50))))
                    .default_json("10"),
            )
            .field(ConfigField::new("label", "Label", FieldKind::Text))
    }

    fn migrate_config(
        from_version: &str,
        mut config: serde_json::Value,
    ) -> Result<serde_json::Value, Vec<FieldError>> {
        if let Some(fields) = config.as_object_mut()
            && !fields.contains_key("label")
        {
            fields.insert("label".into(), format!("from {from_version}").into());
        }
        Ok(config)
    }

    fn validate(_: CourseId, config: &Config, _: &dyn Host) -> Result<(), Vec<FieldError>> {
        if !(0..=50).contains(&config.cap) {
            return Err(vec![FieldError::new("cap", "must be between 0 and 50")]);
        }
        Ok(())
    }
}

export_plugin!(Capped);
