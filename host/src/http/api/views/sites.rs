//! Sites, the server that serves them, and the demo organisation loaded
//! into one.

use serde::{Deserialize, Serialize};

use super::{SiteIdView, TimestampView, mirror_enum, mirror_struct};
use crate::demo::DemoReport;
use crate::domain::{Site, SiteStatus};
use crate::services::sites::HostStatus;

#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = SiteStatus)]
pub enum SiteStatusView {
    Active,
    /// Serves no pages to anyone but operators; data stays untouched.
    Suspended,
}

mirror_enum!(SiteStatus, SiteStatusView { Active, Suspended });

/// One LMS instance. Its data lives in its own redb file named after `slug`.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = Site)]
pub struct SiteView {
    pub id: SiteIdView,
    /// Unique, immutable, `[a-z0-9-]`; names the path prefix `/s/{slug}/`
    /// and the file `sites/{slug}.redb`.
    pub slug: String,
    pub name: String,
    /// Host names (lower case, no port) that route to this site.
    pub hostnames: Vec<String>,
    pub status: SiteStatusView,
    /// Branding colour as `#rrggbb`.
    pub brand_colour: String,
    pub created_at: TimestampView,
}

mirror_struct!(
    Site,
    SiteView {
        id,
        slug,
        name,
        hostnames,
        status,
        brand_colour,
        created_at,
    }
);

/// Which server process serves the host: what a client of its operator
/// routes checks it talks to.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = HostStatus)]
pub struct HostStatusView {
    /// The version of Charon.
    pub version: String,
    /// The process id of the server.
    pub pid: u32,
    /// The data dir it serves.
    pub data_dir: String,
}

mirror_struct!(
    HostStatus,
    HostStatusView {
        version,
        pid,
        data_dir,
    }
);

/// What a load did. Counts are of things created by this run.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = DemoReport)]
pub struct DemoReportView {
    pub site: String,
    pub users_created: usize,
    pub segments_created: usize,
    pub course_created: bool,
    pub groups_created: usize,
    pub enrolments_created: usize,
    /// Set only when this run created `siteadmin`: its password, to show
    /// once.
    pub site_admin_password: Option<String>,
}

mirror_struct!(
    DemoReport,
    DemoReportView {
        site,
        users_created,
        segments_created,
        course_created,
        groups_created,
        enrolments_created,
        site_admin_password,
    }
);
