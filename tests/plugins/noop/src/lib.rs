//! An enrolment method that asks for every event and plans nothing.

use charon_sdk::*;

struct Noop;

impl Plugin for Noop {
    type Config = serde_json::Value;

    fn manifest() -> Manifest {
        Manifest::new("noop", "No-op", "1.0.0")
            .describe("Plans nothing; for tests and benchmarks.")
            .handles(&[EventKind::UserEnrolled, EventKind::SegmentMemberAdded])
    }
}

export_plugin!(Noop);
