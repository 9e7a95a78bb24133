//! User segments: with their member count (the segment routes), or
//! without (a user's segments).

use serde::{Deserialize, Serialize};

use super::{SegmentIdView, TimestampView, mirror_struct};
use crate::domain::Segment;
use crate::services::segments::SegmentSummary;

/// A user segment with its member count.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SegmentView {
    pub id: SegmentIdView,
    pub name: String,
    pub idnumber: Option<String>,
    pub description: String,
    pub visible: bool,
    /// The plugin that alone changes the members, if any.
    pub managed_by: Option<String>,
    pub members: u64,
    pub created_at: TimestampView,
}

impl From<SegmentSummary> for SegmentView {
    fn from(s: SegmentSummary) -> Self {
        let PlainSegmentView {
            id,
            name,
            idnumber,
            description,
            visible,
            managed_by,
            created_at,
        } = s.segment.into();
        Self {
            id,
            name,
            idnumber,
            description,
            visible,
            managed_by,
            members: s.members,
            created_at,
        }
    }
}

// The document's `Segment`: a segment without its member count, as a
// user's segments list it.
/// A site-wide set of users (Moodle: cohort).
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = Segment)]
pub struct PlainSegmentView {
    pub id: SegmentIdView,
    pub name: String,
    /// Optional external key, unique in the site; CSV files name segments by it.
    pub idnumber: Option<String>,
    pub description: String,
    pub visible: bool,
    /// When set, the component (a plugin id) that alone changes the members.
    pub managed_by: Option<String>,
    pub created_at: TimestampView,
}

mirror_struct!(
    Segment,
    PlainSegmentView {
        id,
        name,
        idnumber,
        description,
        visible,
        managed_by,
        created_at,
    }
);
