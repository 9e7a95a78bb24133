//! Queries about one-off mass enrolments: one by id, its user lists, and
//! those of a course or a segment (through their index tables).

use redb::ReadableTable;

use super::{SiteTablesRead, get_record, pair_prefix};
use crate::domain::{CourseId, MassEnrolment, MassEnrolmentId, MassEnrolmentUsers, SegmentId};
use crate::storage::Result;

/// Mass enrolments and what they enrolled.
pub trait MassEnrolmentRead: SiteTablesRead {
    fn mass_enrolment(&self, id: MassEnrolmentId) -> Result<Option<MassEnrolment>> {
        get_record(self.mass_enrolments()?, "mass-enrolments", id.0)
    }

    /// The users `id` enrolled and grouped (absent only with its record).
    fn mass_enrolment_user_lists(&self, id: MassEnrolmentId) -> Result<Option<MassEnrolmentUsers>> {
        get_record(self.mass_enrolment_users()?, "mass-enrolment-users", id.0)
    }

    /// The mass enrolments into `course`, newest first.
    fn course_mass_enrolment_list(&self, course: CourseId) -> Result<Vec<MassEnrolment>> {
        newest_first(self, self.course_mass_enrolments()?, course.0)
    }

    /// The mass enrolments of `segment`'s members, newest first.
    fn segment_mass_enrolment_list(&self, segment: SegmentId) -> Result<Vec<MassEnrolment>> {
        newest_first(self, self.segment_mass_enrolments()?, segment.0)
    }
}

impl<T: SiteTablesRead> MassEnrolmentRead for T {}

/// The records `index` lists under `owner` (`(owner, id) → ()`), newest
/// first; an index row without its record is skipped rather than trusted.
fn newest_first<T: MassEnrolmentRead + ?Sized>(
    t: &T,
    index: &impl ReadableTable<(u64, u64), ()>,
    owner: u64,
) -> Result<Vec<MassEnrolment>> {
    let mut ids = Vec::new();
    for row in index.range(pair_prefix(owner))? {
        ids.push(MassEnrolmentId(row?.0.value().1));
    }
    let mut out = Vec::with_capacity(ids.len());
    for id in ids.into_iter().rev() {
        if let Some(m) = t.mass_enrolment(id)? {
            out.push(m);
        }
    }
    Ok(out)
}
