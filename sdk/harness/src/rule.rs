//! Segment rules (contract 0.4.0) in the real runtime: a [`RuleScenario`]
//! is a site and one segment the rule manages, stepped through calls of
//! the component's `segment-rule` interface.

use charon_domain::{SegmentId, SegmentOp};
use charon_runtime::Queries;
use charon_runtime::contract as neutral;
use charon_sdk::mock::MockHost;
use charon_sdk::{Event, SegmentPlan, Timestamp};

use crate::{Failure, Harness, MAX_RECONCILE_PAGES, SiteQueries, convert};

impl Harness {
    /// A scenario over `site` for the rule of segment `segment` (which
    /// `site` should hold, e.g. `.segment(9, "HR", [])`), config `{}`,
    /// the clock at the epoch.
    ///
    /// ```no_run
    /// use charon_sdk::mock::MockHost;
    /// # let harness = charon_plugin_harness::Harness::load("x.wasm");
    /// let scenario = harness.rule_scenario(MockHost::new().segment(9, "HR", []), 9);
    /// assert_eq!(scenario.segment, 9);
    /// ```
    pub fn rule_scenario(&self, site: MockHost, segment: u64) -> RuleScenario<'_> {
        RuleScenario {
            harness: self,
            site,
            segment,
            config: "{}".into(),
            settings: "{}".into(),
            now: 0,
            apply_plans: false,
        }
    }
}

/// A site and the rule of one of its segments, stepped through calls of
/// the real component. Once [`applying`](Self::applying), each plan
/// changes the segment's members in [`site`](Self::site), as the host
/// would.
///
/// ```no_run
/// use charon_sdk::mock::MockHost;
/// # let harness = charon_plugin_harness::Harness::load("x.wasm");
/// let site = MockHost::new().user(1, "ada").profile(1, "department", "HR").segment(9, "HR", []);
/// let mut scenario = harness.rule_scenario(site, 9).applying();
/// scenario.configure(r#"{"rule":"profile.department equals HR"}"#).unwrap();
/// scenario.reconcile().unwrap();
/// assert!(scenario.site.segments[&9].1.contains(&1));
/// ```
pub struct RuleScenario<'h> {
    harness: &'h Harness,
    /// The site the rule sees; change it freely between steps.
    pub site: MockHost,
    /// The segment the rule manages.
    pub segment: u64,
    /// The rule's config, JSON, passed as is in every context.
    pub config: String,
    /// The plugin's site-wide settings, a JSON object.
    pub settings: String,
    /// The host's clock for the context, epoch milliseconds.
    pub now: Timestamp,
    /// Whether every plan is applied to `site` before the step returns.
    pub apply_plans: bool,
}

impl RuleScenario<'_> {
    /// Applies every plan to the site's segment before returning it.
    pub fn applying(mut self) -> Self {
        self.apply_plans = true;
        self
    }

    /// Calls `validate-rule` for the segment: the config the host would
    /// store, or the field errors.
    pub fn validate(&self, json: &str) -> Result<String, Failure> {
        self.harness
            .runtime
            .validate_rule(
                &self.harness.plugin,
                self.queries(),
                SegmentId(self.segment),
                json,
            )?
            .map_err(|errors| {
                Failure::Invalid(errors.into_iter().map(convert::field_error_back).collect())
            })
    }

    /// Validates `json` and stores what the rule returned as its config.
    pub fn configure(&mut self, json: &str) -> Result<(), Failure> {
        self.config = self.validate(json)?;
        Ok(())
    }

    /// Sends an event to the rule: its plan, or why not.
    pub fn event(&mut self, event: Event) -> Result<SegmentPlan, Failure> {
        let out = self.harness.runtime.rule_event(
            &self.harness.plugin,
            self.queries(),
            &self.context(),
            &convert::event(event),
        )?;
        let plan = segment_plan_back(out.map_err(|r| Failure::Refused(convert::refusal_back(r)))?);
        if self.apply_plans {
            self.apply(&plan)?;
        }
        Ok(plan)
    }

    /// Reconciles the rule from the first page to the last: one plan per
    /// page (applied page by page when [`applying`](Self::applying)).
    pub fn reconcile(&mut self) -> Result<Vec<SegmentPlan>, Failure> {
        let mut pages = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            if pages.len() >= MAX_RECONCILE_PAGES {
                return Err(Failure::Runaway(pages.len()));
            }
            let step = self.harness.runtime.rule_reconcile(
                &self.harness.plugin,
                self.queries(),
                &self.context(),
                cursor.as_deref(),
            )?;
            let step = step.map_err(|r| Failure::Refused(convert::refusal_back(r)))?;
            let plan = segment_plan_back(step.plan);
            if self.apply_plans {
                self.apply(&plan)?;
            }
            pages.push(plan);
            match step.next {
                Some(next) => cursor = Some(next),
                None => return Ok(pages),
            }
        }
    }

    /// Applies a plan to the segment, all or nothing: an `add` of a user
    /// the site does not have refuses it, as the host does.
    pub fn apply(&mut self, plan: &SegmentPlan) -> Result<(), Failure> {
        let Some((_, members)) = self.site.segments.get(&self.segment) else {
            return Err(Failure::Apply(format!(
                "the site has no segment #{}",
                self.segment
            )));
        };
        let mut members = members.clone();
        for a in &plan.actions {
            match a.op {
                charon_sdk::SegmentOperation::Add(u) => {
                    if !self.site.users.contains_key(&u) {
                        return Err(Failure::Apply(format!("user #{u} does not exist")));
                    }
                    members.insert(u);
                }
                charon_sdk::SegmentOperation::Remove(u) => {
                    members.remove(&u);
                }
            }
        }
        if let Some(entry) = self.site.segments.get_mut(&self.segment) {
            entry.1 = members;
        }
        Ok(())
    }

    fn context(&self) -> neutral::RuleContext {
        neutral::RuleContext {
            segment: SegmentId(self.segment),
            config: self.config.clone(),
            settings: self.settings.clone(),
            now: charon_domain::Timestamp(self.now),
        }
    }

    fn queries(&self) -> Box<dyn Queries> {
        let mut site = self.site.clone();
        site.capabilities = None;
        Box::new(SiteQueries {
            site,
            // A rule has no course; course queries answer for none.
            scope: convert::Scope {
                course: charon_domain::CourseId(0),
            },
            plugin: self.harness.manifest.id.clone(),
            logs: Default::default(),
        })
    }
}

fn segment_plan_back(p: charon_domain::SegmentPlan) -> SegmentPlan {
    let mut plan = SegmentPlan::new();
    for a in p.actions {
        match a.op {
            SegmentOp::Add(u) => plan.add(u.0, a.reason),
            SegmentOp::Remove(u) => plan.remove(u.0, a.reason),
        };
    }
    plan
}
