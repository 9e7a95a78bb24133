//! What a site lets its participants see of each other (issue 18): by
//! default learners never see other users' e-mail addresses; a site admin
//! may turn that on. Read by the participants and group member lists.

use super::SiteServices;
use super::auth::{Need, Principal, authorize};
use super::error::ServiceResult;
use crate::domain::SitePrivacy;
use crate::storage::site::prelude::*;

impl SiteServices {
    /// The site's privacy settings (site admins).
    pub fn site_privacy(&self, who: &Principal) -> ServiceResult<SitePrivacy> {
        self.read(|t| {
            authorize(&self.site, t, who, Need::SiteAdmin)?;
            Ok(t.site_privacy()?)
        })
    }

    /// Saves the site's privacy settings (site admins), audited.
    pub fn set_site_privacy(
        &self,
        who: &Principal,
        privacy: &SitePrivacy,
    ) -> ServiceResult<SitePrivacy> {
        self.write(|t| {
            let actor = authorize(&self.site, t, who, Need::SiteAdmin)?;
            if t.site_privacy()? != *privacy {
                t.put_site_privacy(privacy)?;
                t.audit_log(
                    actor,
                    "site.privacy_updated",
                    "site privacy",
                    format_args!(
                        "learners see e-mail addresses: {}",
                        if privacy.learners_see_emails {
                            "yes"
                        } else {
                            "no"
                        }
                    ),
                )?;
            }
            Ok(privacy.clone())
        })
    }
}
