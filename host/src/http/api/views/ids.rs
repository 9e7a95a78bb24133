//! Ids and times as the API shows them: plain JSON numbers, each with the
//! schema name and description the document has always given it.

use serde::{Deserialize, Serialize};

use super::{Mirror, from_mirror};
use crate::domain;

/// The largest id the API declares (`format: int64`) and accepts: ids are
/// counted from 1 and clients in many languages read JSON numbers as
/// signed 64-bit integers.
pub const MAX_ID: u64 = i64::MAX as u64;

/// The schema names of the id views below, whose range the document
/// declares (`shared_responses::declare_id_ranges`).
pub const ID_SCHEMAS: &[&str] = &[
    "SiteId",
    "OperatorId",
    "UserId",
    "SegmentId",
    "CourseId",
    "CourseGroupId",
    "EnrolmentMethodId",
    "AuditId",
    "ApiTokenId",
    "AnnouncementId",
    "MassEnrolmentId",
    "CourseSectionId",
    "ActivityId",
    "GroupingId",
    "DiscussionId",
    "PostId",
    "SubmissionId",
    "GradeItemId",
    "ProfileFieldId",
];

/// An id view: a JSON number, mirrored with its domain id.
///
/// Read as JSON Schema reads `"type": "integer"`: a number with no
/// fractional part, so `115.0` is the id 115, as the document promises;
/// `115.5`, 0 and anything above [`MAX_ID`] are refused with a message
/// that says the range (422 from a body).
macro_rules! id_view {
    ($(#[$doc:meta])* $view:ident as $name:ident) => {
        $(#[$doc])*
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
        #[serde(transparent)]
        #[schema(as = $name)]
        pub struct $view(pub u64);

        impl<'de> Deserialize<'de> for $view {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_any(IdVisitor).map($view)
            }
        }

        impl Mirror<$view> for domain::$name {
            fn mirror(self) -> $view {
                $view(self.0)
            }
        }

        impl Mirror<domain::$name> for $view {
            fn mirror(self) -> domain::$name {
                domain::$name(self.0)
            }
        }

        from_mirror!(domain::$name, $view);
    };
}

/// Reads an id from a JSON integer or an integral float (see [`id_view!`]).
struct IdVisitor;

impl IdVisitor {
    fn in_range<E: serde::de::Error>(n: u64) -> Result<u64, E> {
        if (1..=MAX_ID).contains(&n) {
            Ok(n)
        } else {
            Err(E::custom(format_args!(
                "{n} is not an id: ids are whole numbers from 1 to {MAX_ID}"
            )))
        }
    }
}

impl serde::de::Visitor<'_> for IdVisitor {
    type Value = u64;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "an id: a whole number from 1 to {MAX_ID}")
    }

    fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<u64, E> {
        Self::in_range(n)
    }

    fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<u64, E> {
        match u64::try_from(n) {
            Ok(n) => Self::in_range(n),
            Err(_) => Err(E::invalid_value(serde::de::Unexpected::Signed(n), &self)),
        }
    }

    fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<u64, E> {
        // Below 2^63 every integral f64 converts exactly.
        if n.fract() == 0.0 && (1.0..9_223_372_036_854_775_808.0).contains(&n) {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            Ok(n as u64)
        } else {
            Err(E::invalid_value(serde::de::Unexpected::Float(n), &self))
        }
    }
}

id_view!(
    /// A site in the registry. Unique on one host.
    SiteIdView as SiteId
);
id_view!(
    /// An operator account in the registry.
    OperatorIdView as OperatorId
);
id_view!(
    /// A user of one site. Only meaningful together with its site.
    UserIdView as UserId
);
id_view!(
    /// A user segment of one site.
    SegmentIdView as SegmentId
);
id_view!(
    /// A course of one site.
    CourseIdView as CourseId
);
id_view!(
    /// A course group; it belongs to exactly one course.
    CourseGroupIdView as CourseGroupId
);
id_view!(
    /// An enrolment method: one plugin attached to one course.
    EnrolmentMethodIdView as EnrolmentMethodId
);
id_view!(
    /// An entry of a site's audit log; increases with time.
    AuditIdView as AuditId
);
id_view!(
    /// An API token in the registry.
    ApiTokenIdView as ApiTokenId
);
id_view!(
    /// A one-off mass enrolment of a segment's members into a course.
    MassEnrolmentIdView as MassEnrolmentId
);

id_view!(
    /// An announcement of one site.
    AnnouncementIdView as AnnouncementId
);

id_view!(
    /// A discussion of a forum.
    DiscussionIdView as DiscussionId
);

id_view!(
    /// A post of a discussion.
    PostIdView as PostId
);

id_view!(
    /// A submission to an assignment (a user's or a group's).
    SubmissionIdView as SubmissionId
);
id_view!(
    /// A gradebook item (column) of a course.
    GradeItemIdView as GradeItemId
);
id_view!(
    /// A custom user profile field of a site.
    ProfileFieldIdView as ProfileFieldId
);

/// Milliseconds since the Unix epoch, UTC.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
#[schema(as = Timestamp)]
pub struct TimestampView(pub i64);

impl Mirror<TimestampView> for domain::Timestamp {
    fn mirror(self) -> TimestampView {
        TimestampView(self.0)
    }
}

impl Mirror<domain::Timestamp> for TimestampView {
    fn mirror(self) -> domain::Timestamp {
        domain::Timestamp(self.0)
    }
}

from_mirror!(domain::Timestamp, TimestampView);
id_view!(
    /// A section of a course's content.
    CourseSectionIdView as CourseSectionId
);
id_view!(
    /// An activity of a course: a page, a discussion forum or an assignment.
    ActivityIdView as ActivityId
);
id_view!(
    /// A named set of a course's groups.
    GroupingIdView as GroupingId
);
