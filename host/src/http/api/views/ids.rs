//! Ids and times as the API shows them: plain JSON numbers, each with the
//! schema name and description the document has always given it.

use serde::{Deserialize, Serialize};

use super::{Mirror, from_mirror};
use crate::domain;

/// An id view: a JSON number, mirrored with its domain id.
macro_rules! id_view {
    ($(#[$doc:meta])* $view:ident as $name:ident) => {
        $(#[$doc])*
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(transparent)]
        #[schema(as = $name)]
        pub struct $view(pub u64);

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
