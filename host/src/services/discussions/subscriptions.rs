//! Following a forum or one of its discussions: subscribe and
//! unsubscribe (Moodle's "optional subscription": nobody is subscribed to
//! a forum until they choose to; a discussion's author follows it).
//!
//! Only the principal's own subscriptions, and only to what they may see.

use super::{author_of, discussion_for, forum_for};
use crate::domain::*;
use crate::services::error::ServiceResult;
use crate::services::{Principal, SiteServices};

impl SiteServices {
    /// Subscribes `who` to `target` or unsubscribes them; whether it
    /// changed. NotFound when they may not see it.
    pub fn set_subscription(
        &self,
        who: &Principal,
        target: SubscriptionTarget,
        subscribed: bool,
    ) -> ServiceResult<bool> {
        self.write(|t| {
            let course = match target {
                SubscriptionTarget::Forum(forum) => forum_for(self, t, who, forum)?.0.course,
                SubscriptionTarget::Discussion { forum, discussion } => {
                    let (d, ..) = discussion_for(self, t, who, discussion)?;
                    if d.forum != forum {
                        return Err(crate::services::error::ServiceError::not_found(format!(
                            "discussion #{discussion} in forum #{forum}"
                        )));
                    }
                    d.course
                }
            };
            let user = author_of(self, who)?;
            let changed = t.set_subscription(target, user, subscribed)?;
            if changed {
                let what = match target {
                    SubscriptionTarget::Forum(f) => format!("forum #{f}"),
                    SubscriptionTarget::Discussion { discussion, .. } => {
                        format!("discussion #{discussion}")
                    }
                };
                t.audit_log(
                    Actor::User(user),
                    if subscribed {
                        "forum.subscribed"
                    } else {
                        "forum.unsubscribed"
                    },
                    what,
                    "",
                )?;
                t.emit(SiteEvent::SubscriptionChanged {
                    course,
                    target,
                    user,
                    subscribed,
                })?;
            }
            Ok(changed)
        })
    }
}
