//! The fixture's rule-based segments: departments to match, and a
//! segment managed by the bundled `profile-field-rules` in one line.

use super::TestSite;
use crate::domain::*;
use crate::services::segments::NewSegment;

impl TestSite {
    /// Sets `user`'s department (the fixture's text profile field), as a
    /// site admin does; dispatching is the caller's.
    pub fn set_department(&self, user: UserId, department: &str) {
        self.site
            .update_user(
                &self.admin,
                user,
                crate::services::users::UserUpdate {
                    profile: [("department".to_owned(), department.to_owned())].into(),
                    ..Default::default()
                },
            )
            .expect("department");
    }

    /// A new segment `name` managed by the bundled `profile-field-rules`
    /// plugin with `rule` (its conditions, all of them to match), filled
    /// by the rule's first run.
    pub fn rule_segment(&self, name: &str, rule: &str) -> SegmentId {
        let segment = self
            .site
            .create_segment(
                &self.admin,
                NewSegment {
                    name: name.into(),
                    ..Default::default()
                },
            )
            .expect("segment")
            .id;
        let set = self
            .site
            .set_segment_rule(
                &self.admin,
                segment,
                "profile-field-rules",
                &serde_json::json!({"match": "all", "rule": rule}),
            )
            .expect("rule");
        set.outcome.expect("the rule's first run");
        segment
    }
}
