//! A method that claims a contract version the host does not know; the
//! host must refuse it at install with a clear message.

use charon_sdk::*;

struct Future;

impl Plugin for Future {
    type Config = serde_json::Value;

    fn manifest() -> Manifest {
        Manifest::new("from-the-future", "From the future", "1.0.0")
    }
}

#[used]
#[unsafe(link_section = "charon:contract-version")]
static CONTRACT: [u8; 5] = *b"9.9.9";

export_plugin!(@without_version Future);
