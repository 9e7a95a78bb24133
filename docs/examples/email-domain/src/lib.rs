//! E-mail domain enrolment: enrols every user of the site whose e-mail
//! address ends with `@domain`, and follows them: a new account or a
//! changed address joins or leaves at once (`UserCreated`,
//! `UserUpdated`), and a reconcile catches up with the rest, reading the
//! host's index of users by e-mail domain (contract 0.3.0).

use charon_sdk::*;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The domain, e.g. `acme.example` (no `@`, lower case once saved).
    pub domain: String,
    /// The role users are enrolled with.
    #[serde(default = "learner")]
    pub role: Role,
}

fn learner() -> Role {
    Role::Learner
}

/// Users per reconcile page.
const PAGE: u32 = 500;

pub struct EmailDomain;

impl Plugin for EmailDomain {
    type Config = Config;

    fn manifest() -> Manifest {
        Manifest::new(
            "email-domain",
            "E-mail domain enrolment",
            env!("CARGO_PKG_VERSION"),
        )
        .describe("Enrols every user whose e-mail address ends with @domain.")
        .field(
            ConfigField::new("domain", "E-mail domain", FieldKind::Text)
                .required()
                .help("For example acme.example: every user with an address @acme.example."),
        )
        .field(ConfigField::new("role", "Role", FieldKind::Role).default_json("\"learner\""))
        .handles(&[
            EventKind::UserCreated,
            EventKind::UserUpdated,
            EventKind::MethodAdded,
            EventKind::MethodUpdated,
            EventKind::MethodEnabled,
        ])
        .needs(&[Capability::ReadUsers, Capability::ReadEnrolments])
    }

    fn validate(
        _course: CourseId,
        config: &Config,
        _host: &dyn Host,
    ) -> Result<(), Vec<FieldError>> {
        let d = config.domain.trim();
        let ok = !d.is_empty()
            && !d.contains('@')
            && d.contains('.')
            && d.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
        if ok {
            Ok(())
        } else {
            Err(vec![FieldError::new(
                "domain",
                format!("{d:?} is not a domain such as acme.example"),
            )])
        }
    }

    fn handle_event(ctx: &Context<Config>, event: Event, host: &dyn Host) -> Result<Plan, Refusal> {
        let mut plan = Plan::new();
        match event {
            Event::MethodAdded | Event::MethodUpdated | Event::MethodEnabled => {
                plan.reconcile("the domain's users are enrolled page by page");
            }
            Event::UserCreated(user) => follow(ctx, &mut plan, user, host)?,
            Event::UserUpdated(u) if u.changes.contains(UserChanges::EMAIL) => {
                follow(ctx, &mut plan, u.user, host)?;
            }
            _ => {}
        }
        Ok(plan)
    }

    /// Two passes, each page by page: the domain's users (from the host's
    /// index) are enrolled, then the method's own enrolments whose user
    /// has left the domain are removed. The cursor says which pass and
    /// where: `in:<id>` or `out:<id>`.
    fn reconcile(
        ctx: &Context<Config>,
        cursor: Option<String>,
        host: &dyn Host,
    ) -> Result<ReconcileStep, Refusal> {
        let (pass, after) = parse_cursor(cursor.as_deref())?;
        let mut plan = Plan::new();
        if pass == Pass::In {
            let page = host.users_by_email_domain(&domain(ctx), after, PAGE)?;
            for user in &page.users {
                plan.enrol(user.id, ctx.config.role, reason(ctx));
            }
            let next = match page.next {
                Some(u) => format!("in:{u}"),
                None => "out:0".to_owned(),
            };
            return Ok(ReconcileStep {
                plan,
                next: Some(next),
            });
        }
        let page = host.method_enrolments(after, PAGE)?;
        for e in &page.enrolments {
            let stays = host
                .user(e.user)?
                .is_some_and(|u| in_domain(&u.email, &domain(ctx)));
            if !stays {
                plan.unenrol(e.user, "the e-mail address is no longer in the domain");
            }
        }
        Ok(ReconcileStep {
            plan,
            next: page.next.map(|u| format!("out:{u}")),
        })
    }
}

#[derive(PartialEq)]
enum Pass {
    In,
    Out,
}

fn parse_cursor(cursor: Option<&str>) -> Result<(Pass, Option<UserId>), Refusal> {
    let Some(c) = cursor else {
        return Ok((Pass::In, None));
    };
    let bad = || Refusal::new("bad-cursor", format!("cursor {c:?}"));
    let (pass, id) = c.split_once(':').ok_or_else(bad)?;
    let id: UserId = id.parse().map_err(|_| bad())?;
    let after = (id > 0).then_some(id);
    match pass {
        "in" => Ok((Pass::In, after)),
        "out" => Ok((Pass::Out, after)),
        _ => Err(bad()),
    }
}

fn domain(ctx: &Context<Config>) -> String {
    ctx.config.domain.trim().to_ascii_lowercase()
}

fn in_domain(email: &str, domain: &str) -> bool {
    email
        .rsplit_once('@')
        .is_some_and(|(_, d)| d.eq_ignore_ascii_case(domain))
}

fn reason(ctx: &Context<Config>) -> String {
    format!("e-mail address @{}", domain(ctx))
}

/// Enrols a new or changed user whose address is in the domain, and
/// unenrols one of this method's users whose address left it.
fn follow(
    ctx: &Context<Config>,
    plan: &mut Plan,
    user: UserId,
    host: &dyn Host,
) -> Result<(), Refusal> {
    let Some(u) = host.user(user)? else {
        return Ok(());
    };
    if in_domain(&u.email, &domain(ctx)) {
        plan.enrol(user, ctx.config.role, reason(ctx));
    } else if host
        .user_enrolments(user)?
        .iter()
        .any(|e| e.method == ctx.method)
    {
        plan.unenrol(user, "the e-mail address is no longer in the domain");
    }
    Ok(())
}

export_plugin!(EmailDomain);

#[cfg(test)]
mod tests {
    use super::*;
    use charon_sdk::mock::MockHost;

    /// Every page of a reconcile, as the host would ask for them.
    fn reconcile_all(host: &MockHost) -> Vec<String> {
        let mut lines = Vec::new();
        let mut cursor = None;
        loop {
            let step = EmailDomain::reconcile(&ctx(), cursor, host).unwrap();
            lines.extend(step.plan.lines());
            match step.next {
                Some(next) => cursor = Some(next),
                None => return lines,
            }
        }
    }

    fn ctx() -> Context<Config> {
        Context {
            method: 1,
            course: 2,
            config: Config {
                domain: "Acme.example".into(),
                role: Role::Learner,
            },
            settings: Default::default(),
            enabled: true,
            now: 0,
        }
    }

    fn site() -> MockHost {
        MockHost::new()
            .user(10, "ada")
            .email(10, "ada@acme.example")
            .user(11, "bo")
            .email(11, "bo@other.example")
            .user(12, "cy")
            .email(12, "cy@ACME.example")
            .only(&EmailDomain::manifest().capabilities)
    }

    #[test]
    fn a_reconcile_enrols_the_domains_users_from_the_index() {
        assert_eq!(
            reconcile_all(&site()),
            [
                "enrol #10 as learner: e-mail address @acme.example",
                "enrol #12 as learner: e-mail address @acme.example",
            ]
        );
    }

    #[test]
    fn a_reconcile_unenrols_its_users_who_left_the_domain() {
        let host = site()
            .enrolled(10, 1, Role::Learner)
            .enrolled(11, 1, Role::Learner)
            // Another method's enrolment is not this method's to end.
            .enrolled(11, 2, Role::Learner);
        let lines = reconcile_all(&host);
        assert_eq!(
            lines.last().map(String::as_str),
            Some("unenrol #11: the e-mail address is no longer in the domain")
        );
        assert_eq!(lines.iter().filter(|l| l.starts_with("unenrol")).count(), 1);
    }

    #[test]
    fn a_new_account_in_the_domain_is_enrolled_at_once() {
        let site = site().user(13, "di").email(13, "di@acme.example");
        let plan = EmailDomain::handle_event(&ctx(), Event::UserCreated(13), &site).unwrap();
        assert_eq!(
            plan.lines(),
            ["enrol #13 as learner: e-mail address @acme.example"]
        );
        let plan = EmailDomain::handle_event(&ctx(), Event::UserCreated(11), &site).unwrap();
        assert!(plan.is_empty());
    }

    #[test]
    fn an_address_that_leaves_the_domain_unenrols_and_other_changes_are_ignored() {
        let site = site()
            .enrolled(10, 1, Role::Learner)
            .email(10, "ada@elsewhere.example");
        let moved = UserUpdate {
            user: 10,
            changes: UserChanges::EMAIL,
        };
        let plan = EmailDomain::handle_event(&ctx(), Event::UserUpdated(moved), &site).unwrap();
        assert_eq!(
            plan.lines(),
            ["unenrol #10: the e-mail address is no longer in the domain"]
        );
        let renamed = UserUpdate {
            user: 10,
            changes: UserChanges::NAME,
        };
        let plan = EmailDomain::handle_event(&ctx(), Event::UserUpdated(renamed), &site).unwrap();
        assert!(plan.is_empty());
    }

    #[test]
    fn a_domain_must_look_like_one() {
        for bad in ["", "acme", "@acme.example", "acme example.org"] {
            let config = Config {
                domain: bad.into(),
                role: Role::Learner,
            };
            assert!(EmailDomain::validate(2, &config, &site()).is_err(), "{bad}");
        }
    }
}
