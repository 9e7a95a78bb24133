//! Queries about segments and their members (the member lists, the
//! reverse index of a user's segments, the kept member counts).

use redb::ReadableTable;

use super::{SiteTablesRead, all_records, get_record, pair_after, pair_prefix};
use crate::domain::{Segment, SegmentId, SegmentRule, UserId};
use crate::storage::Result;

/// Segments and their members.
pub trait SegmentRead: SiteTablesRead {
    fn segment(&self, id: SegmentId) -> Result<Option<Segment>> {
        get_record(self.segments()?, "segments", id.0)
    }

    fn segment_id_by_idnumber(&self, idnumber: &str) -> Result<Option<SegmentId>> {
        Ok(self
            .segments_by_idnumber()?
            .get(idnumber)?
            .map(|g| SegmentId(g.value())))
    }

    fn all_segments(&self) -> Result<Vec<Segment>> {
        all_records(self.segments()?, "segments")
    }

    /// The rule that manages a segment, if one is attached.
    fn segment_rule(&self, segment: SegmentId) -> Result<Option<SegmentRule>> {
        get_record(self.segment_rules()?, "segment-rules", segment.0)
    }

    /// Every rule of the site, by segment id: what the dispatcher delivers
    /// user events to.
    fn all_segment_rules(&self) -> Result<Vec<SegmentRule>> {
        all_records(self.segment_rules()?, "segment-rules")
    }

    fn is_segment_member(&self, segment: SegmentId, user: UserId) -> Result<bool> {
        Ok(self.segment_members()?.get((segment.0, user.0))?.is_some())
    }

    /// Member ids of a segment in id order, after `after`.
    fn segment_member_ids(
        &self,
        segment: SegmentId,
        after: Option<UserId>,
        limit: usize,
    ) -> Result<Vec<UserId>> {
        let mut out = Vec::with_capacity(limit.min(4096));
        for row in self
            .segment_members()?
            .range(pair_after(segment.0, after.map(|u| u.0)))?
        {
            if out.len() >= limit {
                break;
            }
            let (k, _) = row?;
            out.push(UserId(k.value().1));
        }
        Ok(out)
    }

    fn segment_member_count(&self, segment: SegmentId) -> Result<u64> {
        Ok(self
            .segment_member_counts()?
            .get(segment.0)?
            .map_or(0, |g| g.value()))
    }

    fn user_segment_ids(&self, user: UserId) -> Result<Vec<SegmentId>> {
        let mut out = Vec::new();
        for row in self.user_segments()?.range(pair_prefix(user.0))? {
            let (k, _) = row?;
            out.push(SegmentId(k.value().1));
        }
        Ok(out)
    }
}

impl<T: SiteTablesRead> SegmentRead for T {}
