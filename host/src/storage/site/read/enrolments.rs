//! Queries about enrolments: by course and user, a method's enrolments
//! (a scan of its course's keys), and a user's courses through the
//! `user-courses` index as this transaction sees it.

use redb::ReadableTable;

use super::{SiteTablesRead, Unflushed};
use crate::domain::{
    CourseGroupId, CourseId, Enrolment, EnrolmentMethodId, EnrolmentStatus, UserId,
};
use crate::storage::site::user_courses;
use crate::storage::{Result, decode};

/// Enrolments, and the courses of a user.
pub trait EnrolmentRead: SiteTablesRead + Unflushed {
    fn enrolment(
        &self,
        course: CourseId,
        user: UserId,
        method: EnrolmentMethodId,
    ) -> Result<Option<Enrolment>> {
        match self.enrolments()?.get((course.0, user.0, method.0))? {
            Some(g) => Ok(Some(decode("enrolments", g.value())?)),
            None => Ok(None),
        }
    }

    /// Every enrolment of `user` in `course`, one per method.
    fn user_course_enrolments(&self, course: CourseId, user: UserId) -> Result<Vec<Enrolment>> {
        let mut out = Vec::new();
        for row in self
            .enrolments()?
            .range((course.0, user.0, 0)..=(course.0, user.0, u64::MAX))?
        {
            let (_, v) = row?;
            out.push(decode("enrolments", v.value())?);
        }
        Ok(out)
    }

    /// Whether `user` has any enrolment in `course` (any status), without
    /// decoding one.
    fn has_enrolment_in(&self, course: CourseId, user: UserId) -> Result<bool> {
        Ok(self
            .enrolments()?
            .range((course.0, user.0, 0)..=(course.0, user.0, u64::MAX))?
            .next()
            .transpose()?
            .is_some())
    }

    /// A participant has at least one active enrolment in the course.
    fn is_participant(&self, course: CourseId, user: UserId) -> Result<bool> {
        Ok(self
            .user_course_enrolments(course, user)?
            .iter()
            .any(|e| e.status == EnrolmentStatus::Active))
    }

    /// Enrolments of a course ordered by user, after user `after`.
    fn course_enrolments_page(
        &self,
        course: CourseId,
        after: Option<UserId>,
        limit: usize,
    ) -> Result<Vec<Enrolment>> {
        let start = after.map_or(0, |u| u.0.saturating_add(1));
        let mut out = Vec::new();
        let mut last_user = None;
        for row in self
            .enrolments()?
            .range((course.0, start, 0)..=(course.0, u64::MAX, u64::MAX))?
        {
            let (k, v) = row?;
            let user = k.value().1;
            // Never cut one user's enrolments across two pages.
            if out.len() >= limit && last_user != Some(user) {
                break;
            }
            last_user = Some(user);
            out.push(decode("enrolments", v.value())?);
        }
        Ok(out)
    }

    /// `method`'s enrolments in `course`, ordered by user, after user
    /// `after`, at most `limit`, each made into a `T` by `row` from its
    /// user and undecoded record: one scan of the course's keys that skips
    /// other methods' rows.
    fn method_enrolment_rows<T>(
        &self,
        course: CourseId,
        method: EnrolmentMethodId,
        after: Option<UserId>,
        limit: usize,
        mut row: impl FnMut(UserId, &[u8]) -> Result<T>,
    ) -> Result<Vec<T>> {
        let start = after.map_or(0, |u| u.0.saturating_add(1));
        let mut out = Vec::new();
        if limit == 0 {
            return Ok(out);
        }
        for entry in self
            .enrolments()?
            .range((course.0, start, 0)..=(course.0, u64::MAX, u64::MAX))?
        {
            let (k, v) = entry?;
            let (_, user, m) = k.value();
            if m == method.0 {
                out.push(row(UserId(user), v.value())?);
                if out.len() >= limit {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// `method`'s enrolments in `course` after user `after`.
    fn method_enrolments_page(
        &self,
        course: CourseId,
        method: EnrolmentMethodId,
        after: Option<UserId>,
        limit: usize,
    ) -> Result<Vec<Enrolment>> {
        self.method_enrolment_rows(course, method, after, limit, |_, v| decode("enrolments", v))
    }

    /// The users `method` enrols in `course` after user `after`, without
    /// decoding a record.
    fn method_enrolment_user_ids(
        &self,
        course: CourseId,
        method: EnrolmentMethodId,
        after: Option<UserId>,
        limit: usize,
    ) -> Result<Vec<UserId>> {
        self.method_enrolment_rows(course, method, after, limit, |u, _| Ok(u))
    }

    /// How many enrolments each method of `course` has: one walk of the
    /// course's keys, no record decoded.
    fn method_enrolment_counts(
        &self,
        course: CourseId,
    ) -> Result<std::collections::HashMap<EnrolmentMethodId, u64>> {
        let mut out = std::collections::HashMap::new();
        for row in self
            .enrolments()?
            .range((course.0, 0, 0)..=(course.0, u64::MAX, u64::MAX))?
        {
            let (k, _) = row?;
            *out.entry(EnrolmentMethodId(k.value().2)).or_default() += 1;
        }
        Ok(out)
    }

    /// The courses `user` has at least one enrolment in, each with the
    /// user's groups there, by course.
    fn user_course_rows(&self, user: UserId) -> Result<Vec<(CourseId, Vec<CourseGroupId>)>> {
        user_courses::rows_of(self, user)
    }

    /// The courses `user` has at least one enrolment in.
    fn user_course_ids(&self, user: UserId) -> Result<Vec<CourseId>> {
        Ok(self
            .user_course_rows(user)?
            .into_iter()
            .map(|(c, _)| c)
            .collect())
    }

    /// Every enrolment of `user`, by course, then method.
    fn user_enrolment_list(&self, user: UserId) -> Result<Vec<Enrolment>> {
        let mut out = Vec::new();
        for course in self.user_course_ids(user)? {
            out.extend(self.user_course_enrolments(course, user)?);
        }
        Ok(out)
    }
}

impl<T: SiteTablesRead + Unflushed> EnrolmentRead for T {}
