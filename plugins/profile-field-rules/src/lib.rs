//! Profile field rules: a segment rule that keeps its segment equal to the
//! site's users whose fields match a rule, as Moodle's dynamic cohort
//! rules. A site admin writes the rule once; from then on nobody edits
//! the segment's members by hand, and every plugin that follows the
//! segment (segment sync, segment to group) follows the rule.
//!
//! Config (JSON; unknown keys are refused):
//!
//! | key | meaning |
//! |---|---|
//! | `match` | `all` (every condition holds; the default) or `any` (one does) |
//! | `rule` | the conditions, one per line (required) |
//!
//! A condition is `<subject> <operator> [<value>]`; blank lines and lines
//! starting with `#` are skipped:
//!
//! - subject: `profile.<field>` (a custom profile field's short name),
//!   `email-domain` (what follows the `@` of the e-mail address) or
//!   `site-role` (`admin` for a site admin, else `user`);
//! - operator: `equals`, `contains`, `starts-with`, `is-empty` (no
//!   value: true when the user has none) or `in-list` (the value is a
//!   comma-separated list);
//! - value: the rest of the line. Comparisons ignore case, as the host's
//!   profile index does.
//!
//! Behaviour:
//!
//! - **Validate**: every problem of the rule is reported on `rule` with
//!   its line number, all at once.
//! - **A user is created**: added if they match.
//! - **A user is updated**: when their e-mail, profile or site role
//!   changed, added if they now match and are not a member, removed if
//!   they no longer match and are one. Other changes (name, username)
//!   cannot change the answer, so they cost no query.
//! - **Reconcile** (stateless, resumable, in bounded steps): one page of
//!   at most 1,000 users by id and the segment's members in the same
//!   range; matching users who are not members are added and members who
//!   do not match are removed. Asked again once its plans are applied, a
//!   reconcile returns empty plans.
//!
//! Suspended accounts are treated like any other: suspension stops
//! sign-in, it does not change who a user is.
//!
//! Events arrive after the fact, so each is checked against the user as
//! they are now, not as the event describes them.

use std::collections::BTreeSet;

use charon_sdk::*;
use serde::{Deserialize, Serialize};

pub mod rule;

pub use rule::{Condition, Match, Operator, Rule, Subject};

/// Most users a reconcile step asks the host for, per query: the host's
/// own page limit.
pub const PAGE: u32 = 1000;

/// A rule's settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Whether every condition must hold, or one.
    #[serde(rename = "match", default)]
    pub matching: Match,
    /// The conditions, one per line.
    pub rule: String,
}

impl Config {
    /// The parsed rule.
    pub fn parse(&self) -> Result<Rule, Vec<FieldError>> {
        Rule::parse(self.matching, &self.rule)
    }
}

/// The profile-field-rules segment rule.
pub struct ProfileFieldRules;

/// What the `rule` field's help says.
const RULE_HELP: &str = "One condition per line: <subject> <operator> [<value>]. \
Subjects: profile.<field> (a custom profile field's short name), email-domain (what follows the @ of the e-mail address), site-role (admin or user). \
Operators: equals, contains, starts-with, is-empty (takes no value), in-list (values separated by commas). \
Comparisons ignore case; lines starting with # are comments. \
Example, on two lines: \"profile.department in-list HR, Payroll\" then \"email-domain equals acme.example\".";

impl SegmentRule for ProfileFieldRules {
    type Config = Config;

    fn manifest() -> Manifest {
        Manifest::new(
            "profile-field-rules",
            "Profile field rules",
            env!("CARGO_PKG_VERSION"),
        )
        .describe("Keeps the segment equal to the site's users whose profile fields, e-mail domain or site role match a rule, as they are created and updated. Suspended accounts are members like any other.")
        .field(
            ConfigField::new(
                "match",
                "Users must match",
                FieldKind::Choice(vec![
                    Choice::new("all", "All conditions (all of)"),
                    Choice::new("any", "Any condition (any of)"),
                ]),
            )
            .default_json(r#""all""#),
        )
        .field(
            ConfigField::new("rule", "Conditions", FieldKind::Multiline)
                .required()
                .help(RULE_HELP),
        )
        .needs(&[Capability::ReadUsers, Capability::ReadSegments])
        .handles(&[EventKind::UserCreated, EventKind::UserUpdated])
    }

    fn validate(
        _segment: SegmentId,
        config: &Config,
        _host: &dyn Host,
    ) -> Result<(), Vec<FieldError>> {
        config.parse().map(|_| ())
    }

    fn handle_event(
        ctx: &RuleContext<Config>,
        event: Event,
        host: &dyn Host,
    ) -> Result<SegmentPlan, Refusal> {
        let mut plan = SegmentPlan::new();
        match event {
            Event::UserCreated(id) => {
                let rule = rule(&ctx.config)?;
                if let Some(user) = host.user(id)?
                    && rule.matches(&user)
                {
                    plan.add(id, joined(&rule));
                }
            }
            Event::UserUpdated(update) => {
                let relevant = UserChanges::EMAIL | UserChanges::PROFILE | UserChanges::SITE_ROLE;
                if !update.changes.intersects(relevant) {
                    return Ok(plan);
                }
                let rule = rule(&ctx.config)?;
                // Deleted since: its own event takes it out of the segment.
                let Some(user) = host.user(update.user)? else {
                    return Ok(plan);
                };
                let matches = rule.matches(&user);
                let member = host.is_segment_member(ctx.segment, user.id)?;
                if matches && !member {
                    plan.add(user.id, joined(&rule));
                } else if !matches && member {
                    plan.remove(user.id, left(&rule));
                }
            }
            _ => {}
        }
        Ok(plan)
    }

    fn reconcile(
        ctx: &RuleContext<Config>,
        cursor: Option<String>,
        host: &dyn Host,
    ) -> Result<SegmentStep, Refusal> {
        let after = parse_cursor(cursor.as_deref())?;
        let rule = rule(&ctx.config)?;
        let page = host.list_users(after, PAGE)?;
        let Some(last) = page.users.last().map(|u| u.id) else {
            return Ok(SegmentStep {
                plan: SegmentPlan::new(),
                next: None,
            });
        };
        let members = members_upto(host, ctx.segment, after, last)?;
        let (joined, left) = (joined(&rule), left(&rule));
        let mut plan = SegmentPlan::new();
        for user in &page.users {
            let matches = rule.matches(user);
            let member = members.contains(&user.id);
            if matches && !member {
                plan.add(user.id, joined.clone());
            } else if !matches && member {
                plan.remove(user.id, left.clone());
            }
        }
        Ok(SegmentStep {
            plan,
            next: page.next.map(|_| last.to_string()),
        })
    }
}

/// The rule of a config the host stored (so validated): a config that
/// no longer parses is refused rather than emptying the segment.
fn rule(config: &Config) -> Result<Rule, Refusal> {
    config.parse().map_err(|errors| {
        let detail = errors
            .into_iter()
            .map(|e| e.message)
            .collect::<Vec<_>>()
            .join("; ");
        Refusal::new("invalid-rule", format!("the rule is invalid: {detail}"))
    })
}

/// Why a user is added.
fn joined(rule: &Rule) -> String {
    format!("matches: {}", rule.describe())
}

/// Why a member is removed.
fn left(rule: &Rule) -> String {
    format!("no longer matches: {}", rule.describe())
}

/// The reconcile cursor: the last user id a step covered, in decimal.
fn parse_cursor(cursor: Option<&str>) -> Result<Option<UserId>, Refusal> {
    cursor
        .map(|text| {
            text.parse().map_err(|_| {
                Refusal::new(
                    "bad-cursor",
                    format!("the reconcile cursor {text:?} is not one this plugin made"),
                )
            })
        })
        .transpose()
}

/// The segment's members with ids after `after` and up to `last`. Members
/// are users, so a step's range holds at most a page of them; a host that
/// pages shorter is read on until the range is passed.
fn members_upto(
    host: &dyn Host,
    segment: SegmentId,
    after: Option<UserId>,
    last: UserId,
) -> Result<BTreeSet<UserId>, Refusal> {
    let mut members = BTreeSet::new();
    let mut cursor = after;
    loop {
        let page = host.segment_members(segment, cursor, PAGE)?;
        members.extend(
            page.members
                .iter()
                .map(|m| m.user)
                .take_while(|u| *u <= last),
        );
        let reached = page.members.last().map(|m| m.user);
        match (page.next, reached) {
            // More to read in the range, and the host moved on (a cursor
            // that does not advance would loop for ever).
            (Some(next), Some(reached)) if reached < last && cursor.is_none_or(|c| next > c) => {
                cursor = Some(next);
            }
            _ => return Ok(members),
        }
    }
}

export_segment_rule!(ProfileFieldRules);

#[cfg(test)]
mod tests;
