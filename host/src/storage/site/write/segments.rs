//! Writes of segments, their idnumber index, members, the reverse index
//! of a user's segments and the member counts.

use redb::ReadableTable;

use crate::domain::{Segment, SegmentId, SegmentRule, UserId};
use crate::storage::site::SiteTables;
use crate::storage::site::counters::Counter;
use crate::storage::site::read::SegmentRead;
use crate::storage::{Result, encode};

impl SiteTables<'_> {
    pub(crate) fn new_segment_id(&mut self) -> Result<SegmentId> {
        Ok(SegmentId(self.next_id(Counter::Segment)?))
    }

    pub(crate) fn put_segment(&mut self, segment: &Segment) -> Result<()> {
        if let Some(old) = self.segment(segment.id)?
            && let Some(idn) = &old.idnumber
        {
            self.segments_by_idnumber.remove(idn.as_str())?;
        }
        self.segments
            .insert(segment.id.0, encode(segment).as_slice())?;
        if let Some(idn) = &segment.idnumber {
            self.segments_by_idnumber
                .insert(idn.as_str(), segment.id.0)?;
        }
        Ok(())
    }

    pub(crate) fn put_segment_rule(&mut self, rule: &SegmentRule) -> Result<()> {
        self.segment_rules
            .insert(rule.segment.0, encode(rule).as_slice())?;
        Ok(())
    }

    pub(crate) fn delete_segment_rule_row(&mut self, segment: SegmentId) -> Result<()> {
        self.segment_rules.remove(segment.0)?;
        Ok(())
    }

    pub(crate) fn delete_segment_row(&mut self, segment: &Segment) -> Result<()> {
        self.segments.remove(segment.id.0)?;
        self.segment_rules.remove(segment.id.0)?;
        self.segment_member_counts.remove(segment.id.0)?;
        self.segment_count_deltas.remove(&segment.id.0);
        if let Some(idn) = &segment.idnumber {
            self.segments_by_idnumber.remove(idn.as_str())?;
        }
        Ok(())
    }

    /// Returns false when the user already was a member.
    pub(crate) fn insert_segment_member(
        &mut self,
        segment: SegmentId,
        user: UserId,
    ) -> Result<bool> {
        // Re-adding is a no-op: the member keeps the time they joined.
        if self.segment_members.get((segment.0, user.0))?.is_some() {
            return Ok(false);
        }
        self.segment_members
            .insert((segment.0, user.0), self.now.0)?;
        self.user_segments.insert((user.0, segment.0), ())?;
        *self.segment_count_deltas.entry(segment.0).or_default() += 1;
        Ok(true)
    }

    /// Returns false when the user was not a member.
    pub(crate) fn remove_segment_member(
        &mut self,
        segment: SegmentId,
        user: UserId,
    ) -> Result<bool> {
        let existed = self.segment_members.remove((segment.0, user.0))?.is_some();
        if existed {
            self.user_segments.remove((user.0, segment.0))?;
            *self.segment_count_deltas.entry(segment.0).or_default() -= 1;
        }
        Ok(existed)
    }
}
