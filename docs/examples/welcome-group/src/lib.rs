//! Welcome group: puts every user enrolled in the course into one group.

use charon_sdk::*;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The group newcomers join.
    pub group: GroupId,
}

pub struct WelcomeGroup;

impl Plugin for WelcomeGroup {
    type Config = Config;

    fn manifest() -> Manifest {
        Manifest::new("welcome-group", "Welcome group", env!("CARGO_PKG_VERSION"))
            .describe("Puts every user enrolled in the course into one group.")
            .field(
                ConfigField::new("group", "Welcome group", FieldKind::Group)
                    .required()
                    .help("Every enrolled user joins this group."),
            )
            .handles(&[EventKind::UserEnrolled])
            .needs(&[Capability::ReadEnrolments, Capability::ReadGroups])
    }

    fn validate(
        _course: CourseId,
        config: &Config,
        host: &dyn Host,
    ) -> Result<(), Vec<FieldError>> {
        let groups = host
            .course_groups()
            .map_err(|e| vec![FieldError::new("group", e.to_string())])?;
        if groups.iter().any(|g| g.id == config.group) {
            Ok(())
        } else {
            Err(vec![FieldError::new(
                "group",
                format!("group #{} is not a group of this course", config.group),
            )])
        }
    }

    fn handle_event(ctx: &Context<Config>, event: Event, host: &dyn Host) -> Result<Plan, Refusal> {
        let mut plan = Plan::new();
        if let Event::UserEnrolled(e) = event {
            welcome(&mut plan, ctx.config.group, e.user, host)?;
        }
        Ok(plan)
    }

    /// Catches up with users enrolled before the method was added, one
    /// page of enrolments at a time.
    fn reconcile(
        ctx: &Context<Config>,
        cursor: Option<String>,
        host: &dyn Host,
    ) -> Result<ReconcileStep, Refusal> {
        let after = match cursor {
            Some(c) => Some(
                c.parse()
                    .map_err(|_| Refusal::new("bad-cursor", "bad cursor"))?,
            ),
            None => None,
        };
        let page = host.course_enrolments(after, 500)?;
        let mut plan = Plan::new();
        let mut last = None;
        for e in page.enrolments {
            // A user enrolled by two methods appears twice.
            if last != Some(e.user) && e.status == EnrolmentStatus::Active {
                welcome(&mut plan, ctx.config.group, e.user, host)?;
            }
            last = Some(e.user);
        }
        Ok(ReconcileStep {
            plan,
            next: page.next.map(|u| u.to_string()),
        })
    }
}

/// Adds `user` to the group unless they are in it already.
fn welcome(plan: &mut Plan, group: GroupId, user: UserId, host: &dyn Host) -> Result<(), Refusal> {
    if host.group_membership(group, user)?.is_none() {
        plan.add_to_group(user, GroupRef::Existing(group), "welcome: newly enrolled");
    }
    Ok(())
}

export_plugin!(WelcomeGroup);

#[cfg(test)]
mod tests {
    use super::*;
    use charon_sdk::mock::{self, MockHost};

    fn ctx() -> Context<Config> {
        Context {
            method: 1,
            course: 2,
            config: Config { group: 3 },
            settings: Default::default(),
            enabled: true,
            now: 0,
        }
    }

    fn site() -> MockHost {
        MockHost::new()
            .user(10, "ada")
            .user(11, "bob")
            .group(3, "Welcome")
            // As the real host: only the manifest's capabilities.
            .only(&WelcomeGroup::manifest().capabilities)
    }

    #[test]
    fn the_group_must_belong_to_the_course() {
        assert!(mock::validate::<WelcomeGroup>(2, r#"{"group":3}"#, &site()).is_ok());
        let errors = mock::validate::<WelcomeGroup>(2, r#"{"group":9}"#, &site()).unwrap_err();
        assert_eq!(errors[0].field, "group");
        let errors = mock::validate::<WelcomeGroup>(2, "{}", &site()).unwrap_err();
        assert_eq!(errors[0].message, "missing field `group`");
    }

    #[test]
    fn a_newly_enrolled_user_joins_the_group_once() {
        let mut host = site().enrolled(10, 5, Role::Learner);
        let event = Event::UserEnrolled(EnrolmentEvent {
            user: 10,
            method: 5,
        });
        let plan = WelcomeGroup::handle_event(&ctx(), event, &host).unwrap();
        assert_eq!(
            plan.lines(),
            ["add #10 to group #3: welcome: newly enrolled"]
        );

        host.apply(1, &plan).unwrap();
        assert!(
            WelcomeGroup::handle_event(&ctx(), event, &host)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn reconcile_welcomes_active_users_already_enrolled() {
        let host = site().enrolled(10, 5, Role::Learner).enrolment(
            11,
            5,
            Some(Role::Learner),
            EnrolmentStatus::Suspended,
        );
        let step = WelcomeGroup::reconcile(&ctx(), None, &host).unwrap();
        assert_eq!(
            step.plan.lines(),
            ["add #10 to group #3: welcome: newly enrolled"]
        );
        assert_eq!(step.next, None);
    }
}
