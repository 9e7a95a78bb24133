//! Runs a built enrolment-method component (`.wasm`) through scripted
//! scenarios in Charon's real runtime (crate `charon-runtime`, through its
//! version-neutral API): the same sandbox, limits, contract versions and
//! capability checks as the host, with the site's data kept in memory.
//!
//! Unit tests with [`charon_sdk::mock::MockHost`] check a method's logic
//! natively; the harness checks the component you will install: that it
//! builds for `wasm32-wasip2`, loads (contract version, imports, manifest),
//! declares the capabilities it uses, and answers the same through the
//! component boundary. A scenario's site *is* a `MockHost`, and plans come
//! back as the SDK's [`Plan`], so both kinds of test read alike.
//!
//! ```no_run
//! use charon_plugin_harness::{Harness, build_plugin};
//! use charon_sdk::{Request, SelfEnrol, mock::MockHost};
//!
//! let harness = Harness::load(build_plugin(env!("CARGO_MANIFEST_DIR")));
//! let mut scenario = harness
//!     .scenario(MockHost::new().user(10, "ada").group(3, "Team A"))
//!     .config(r#"{"enrolment_key":"sesame"}"#)
//!     .applying();
//! let plan = scenario
//!     .request(Request::SelfEnrol(SelfEnrol { user: 10, key: Some("sesame".into()) }))
//!     .unwrap();
//! assert_eq!(plan.lines(), ["enrol #10 as learner: enrolled themselves as Learner with the enrolment key"]);
//! // The plan was applied: asking again is refused.
//! let again = scenario.request(Request::SelfEnrol(SelfEnrol { user: 10, key: Some("sesame".into()) }));
//! assert_eq!(again.unwrap_err().refusal().unwrap().code, "already-enrolled");
//! ```

mod build;
mod convert;
mod rule;

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use charon_domain::{CourseGroupId, CourseId as DomainCourseId, SegmentId, UserId};
use charon_runtime::contract::{self as neutral, HostError, Page};
use charon_runtime::{Queries, Runtime};
use charon_sdk::bindings::charon::enrolment::types as sdk_types;
use charon_sdk::mock::MockHost;
use charon_sdk::{
    CourseId, Event, FieldError, Host, LogLevel, Manifest, MethodId, Plan, Refusal, Request,
    Timestamp,
};

pub use build::{build_plugin, try_build_plugin};
pub use charon_runtime::{PluginError, RuntimeConfig};
pub use rule::RuleScenario;

/// Most pages one [`Scenario::reconcile`] follows before calling the
/// method runaway ([`Failure::Runaway`]).
///
/// ```
/// assert_eq!(charon_plugin_harness::MAX_RECONCILE_PAGES, 10_000);
/// ```
pub const MAX_RECONCILE_PAGES: usize = 10_000;

/// Why a step did not give what a test asked for.
///
/// ```
/// use charon_plugin_harness::Failure;
/// let f = Failure::Refused(charon_sdk::Refusal::new("course-full", "the course is full"));
/// assert_eq!(f.refusal().unwrap().code, "course-full");
/// assert_eq!(f.to_string(), "refused (course-full): the course is full");
/// ```
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The method refused a request, an event or a reconcile.
    #[error("refused ({}): {}", .0.code, .0.message)]
    Refused(Refusal),
    /// `validate-config` refused the config.
    #[error("config refused: {}", field_errors(.0))]
    Invalid(Vec<FieldError>),
    /// The component misbehaved (trap, timeout, memory, plan too large) or
    /// could not be loaded.
    #[error(transparent)]
    Plugin(#[from] PluginError),
    /// The plan could not be applied to the scenario's site: the host
    /// would refuse it too (e.g. it unenrols a user the method never
    /// enrolled, or removes a membership it does not own).
    #[error("the plan cannot be applied: {0}")]
    Apply(String),
    /// Reconcile kept returning a next cursor.
    #[error("reconcile did not finish within {0} pages")]
    Runaway(usize),
}

fn field_errors(errors: &[FieldError]) -> String {
    let parts: Vec<String> = errors
        .iter()
        .map(|e| {
            if e.field.is_empty() {
                e.message.clone()
            } else {
                format!("{}: {}", e.field, e.message)
            }
        })
        .collect();
    parts.join("; ")
}

impl Failure {
    /// The method's refusal, if that is what this is.
    ///
    /// ```
    /// use charon_plugin_harness::Failure;
    /// assert!(Failure::Runaway(3).refusal().is_none());
    /// ```
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            Failure::Refused(r) => Some(r),
            _ => None,
        }
    }

    /// The config errors, if `validate-config` refused.
    ///
    /// ```
    /// use charon_plugin_harness::Failure;
    /// use charon_sdk::FieldError;
    /// let f = Failure::Invalid(vec![FieldError::new("max_enrolled", "must be 0 or more")]);
    /// assert_eq!(f.field_errors().unwrap()[0].field, "max_enrolled");
    /// ```
    pub fn field_errors(&self) -> Option<&[FieldError]> {
        match self {
            Failure::Invalid(errors) => Some(errors),
            _ => None,
        }
    }
}

/// A loaded component and the runtime that runs it.
///
/// Loading compiles the component, which takes a moment: share one
/// harness between the tests of a file.
///
/// ```no_run
/// use std::sync::LazyLock;
/// use charon_plugin_harness::{Harness, build_plugin};
///
/// static HARNESS: LazyLock<Harness> =
///     LazyLock::new(|| Harness::load(build_plugin(env!("CARGO_MANIFEST_DIR"))));
///
/// assert_eq!(HARNESS.manifest().id, "welcome-group");
/// ```
pub struct Harness {
    runtime: Runtime,
    plugin: charon_runtime::Plugin,
    /// The plugin's manifest as the SDK spells it.
    manifest: Manifest,
}

impl std::fmt::Debug for Harness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Harness")
            .field("plugin", &self.plugin)
            .finish_non_exhaustive()
    }
}

/// The runtime's limits, sized for tests: the host's defaults with fewer
/// concurrent calls, as one test makes one call at a time.
///
/// ```
/// let config = charon_plugin_harness::test_runtime_config();
/// assert_eq!(config.max_concurrent_calls, 4);
/// ```
pub fn test_runtime_config() -> RuntimeConfig {
    RuntimeConfig {
        max_concurrent_calls: 4,
        ..RuntimeConfig::default()
    }
}

impl Harness {
    /// Loads the component at `path` with [`test_runtime_config`], and
    /// panics with the runtime's explanation if it cannot: a test has no
    /// better answer.
    ///
    /// ```no_run
    /// let harness = charon_plugin_harness::Harness::load("target/plugins/wasm32-wasip2/release/my_plugin.wasm");
    /// ```
    pub fn load(path: impl AsRef<Path>) -> Harness {
        let path = path.as_ref();
        Self::try_load(path, test_runtime_config())
            .unwrap_or_else(|e| panic!("loading {}: {e}", path.display()))
    }

    /// Loads the component at `path` with these limits.
    ///
    /// ```no_run
    /// use charon_plugin_harness::{Failure, Harness, RuntimeConfig};
    /// let config = RuntimeConfig { deadline: std::time::Duration::from_millis(100), ..RuntimeConfig::default() };
    /// let harness: Result<Harness, Failure> = Harness::try_load("my_plugin.wasm", config);
    /// ```
    pub fn try_load(path: impl AsRef<Path>, config: RuntimeConfig) -> Result<Harness, Failure> {
        let path = path.as_ref();
        let bytes = std::fs::read(path)
            .map_err(|e| PluginError::Invalid(format!("cannot read {}: {e}", path.display())))?;
        Self::from_bytes(&bytes, config)
    }

    /// Loads a component from its bytes, e.g. to show that the runtime
    /// refuses it.
    ///
    /// ```
    /// use charon_plugin_harness::{Failure, Harness, PluginError, test_runtime_config};
    /// let refused = Harness::from_bytes(b"not wasm", test_runtime_config()).unwrap_err();
    /// assert!(matches!(refused, Failure::Plugin(PluginError::Invalid(_))));
    /// ```
    pub fn from_bytes(bytes: &[u8], config: RuntimeConfig) -> Result<Harness, Failure> {
        let runtime = Runtime::new(config)?;
        let plugin = runtime.load(bytes)?;
        let manifest = convert::manifest_back(&plugin.manifest);
        Ok(Harness {
            runtime,
            plugin,
            manifest,
        })
    }

    /// What the component's `describe` returned (checked by the runtime).
    ///
    /// ```no_run
    /// # let harness = charon_plugin_harness::Harness::load("x.wasm");
    /// assert_eq!(harness.manifest().version, "0.1.0");
    /// ```
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The contract version the component declares.
    ///
    /// ```no_run
    /// # let harness = charon_plugin_harness::Harness::load("x.wasm");
    /// assert_eq!(harness.contract(), charon_sdk::CONTRACT_VERSION);
    /// ```
    pub fn contract(&self) -> &str {
        &self.plugin.contract
    }

    /// A scenario over `site`: course #1, the enrolment method is `site.method`
    /// (#1 unless [`MockHost::calling`] changed it), config `{}`, enabled,
    /// the clock at the epoch.
    ///
    /// ```no_run
    /// use charon_sdk::mock::MockHost;
    /// # let harness = charon_plugin_harness::Harness::load("x.wasm");
    /// let scenario = harness.scenario(MockHost::new().user(10, "ada")).course(4);
    /// assert_eq!(scenario.method(), 1);
    /// ```
    pub fn scenario(&self, site: MockHost) -> Scenario<'_> {
        Scenario {
            harness: self,
            site,
            course: 1,
            config: "{}".into(),
            settings: "{}".into(),
            enabled: true,
            now: 0,
            apply_plans: false,
            logs: Arc::default(),
        }
    }
}

/// A site and one enrolment method of the plugin in a course, stepped through
/// calls of the real component. Steps take `&mut self` because, once
/// [`applying`](Self::applying), each plan changes [`site`](Self::site).
///
/// ```no_run
/// use charon_sdk::{EnrolmentEvent, Event, Role, mock::MockHost};
/// # let harness = charon_plugin_harness::Harness::load("x.wasm");
/// let mut scenario = harness
///     .scenario(MockHost::new().user(10, "ada").group(3, "Welcome").enrolled(10, 1, Role::Learner))
///     .config(r#"{"group":3}"#);
/// let plan = scenario.event(Event::UserEnrolled(EnrolmentEvent { user: 10, method: 1 })).unwrap();
/// assert_eq!(plan.lines(), ["add #10 to group #3: welcome: newly enrolled"]);
/// ```
pub struct Scenario<'h> {
    harness: &'h Harness,
    /// The site as the method sees it; the calling method is
    /// `site.method`. Change it freely between steps.
    pub site: MockHost,
    /// The method's course.
    pub course: CourseId,
    /// The method's config, JSON, passed as is in every context.
    pub config: String,
    /// The plugin's site-wide settings, a JSON object, passed as is.
    pub settings: String,
    /// Whether the method is enabled.
    pub enabled: bool,
    /// The host's clock for the context, epoch milliseconds.
    pub now: Timestamp,
    /// Whether every plan is applied to `site` before the step returns.
    pub apply_plans: bool,
    logs: Arc<Mutex<Vec<(LogLevel, String)>>>,
}

impl std::fmt::Debug for Scenario<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scenario")
            .field("site", &self.site)
            .field("course", &self.course)
            .field("config", &self.config)
            .field("settings", &self.settings)
            .field("enabled", &self.enabled)
            .field("now", &self.now)
            .field("apply_plans", &self.apply_plans)
            .finish_non_exhaustive()
    }
}

impl<'h> Scenario<'h> {
    /// Sets the course of the method.
    ///
    /// ```no_run
    /// # let harness = charon_plugin_harness::Harness::load("x.wasm");
    /// let scenario = harness.scenario(Default::default()).course(42);
    /// assert_eq!(scenario.course, 42);
    /// ```
    pub fn course(mut self, course: CourseId) -> Self {
        self.course = course;
        self
    }

    /// Sets the config as stored, without validating it (see
    /// [`configure`](Self::configure) for what the host does).
    ///
    /// ```no_run
    /// # let harness = charon_plugin_harness::Harness::load("x.wasm");
    /// let scenario = harness.scenario(Default::default()).config(r#"{"role":"teacher"}"#);
    /// ```
    pub fn config(mut self, json: &str) -> Self {
        self.config = json.into();
        self
    }

    /// Sets the plugin's site-wide settings (a JSON object) as stored.
    ///
    /// ```no_run
    /// # let harness = charon_plugin_harness::Harness::load("x.wasm");
    /// let scenario = harness.scenario(Default::default()).settings(r#"{"removal-action":"suspend"}"#);
    /// assert!(scenario.settings.contains("suspend"));
    /// ```
    pub fn settings(mut self, json: &str) -> Self {
        self.settings = json.into();
        self
    }

    /// Sets the clock of the contexts (epoch milliseconds).
    ///
    /// ```no_run
    /// # let harness = charon_plugin_harness::Harness::load("x.wasm");
    /// let scenario = harness.scenario(Default::default()).now(1_796_115_600_000);
    /// ```
    pub fn now(mut self, now: Timestamp) -> Self {
        self.now = now;
        self
    }

    /// Marks the method disabled in the contexts.
    ///
    /// ```no_run
    /// # let harness = charon_plugin_harness::Harness::load("x.wasm");
    /// assert!(!harness.scenario(Default::default()).disabled().enabled);
    /// ```
    pub fn disabled(mut self) -> Self {
        self.enabled = false;
        self
    }

    /// Applies every plan to the site before the step returns, so later
    /// steps see its effects (as the host applies plans).
    ///
    /// ```no_run
    /// # let harness = charon_plugin_harness::Harness::load("x.wasm");
    /// assert!(harness.scenario(Default::default()).applying().apply_plans);
    /// ```
    pub fn applying(mut self) -> Self {
        self.apply_plans = true;
        self
    }

    /// The calling enrolment method's id (`site.method`).
    ///
    /// ```no_run
    /// # let harness = charon_plugin_harness::Harness::load("x.wasm");
    /// let scenario = harness.scenario(charon_sdk::mock::MockHost::new().calling(9));
    /// assert_eq!(scenario.method(), 9);
    /// ```
    pub fn method(&self) -> MethodId {
        self.site.method
    }

    /// The context every call of the method receives.
    ///
    /// ```no_run
    /// # let harness = charon_plugin_harness::Harness::load("x.wasm");
    /// let ctx = harness.scenario(Default::default()).course(3).context();
    /// assert_eq!(ctx.course, 3);
    /// ```
    pub fn context(&self) -> sdk_types::Context {
        sdk_types::Context {
            method: self.site.method,
            course: self.course,
            config: self.config.clone(),
            settings: self.settings.clone(),
            enabled: self.enabled,
            now: self.now,
        }
    }

    /// What the component wrote with `log` so far, in order.
    ///
    /// ```no_run
    /// # let harness = charon_plugin_harness::Harness::load("x.wasm");
    /// let scenario = harness.scenario(Default::default());
    /// assert!(scenario.logs().is_empty());
    /// ```
    pub fn logs(&self) -> Vec<(LogLevel, String)> {
        self.logs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn queries(&self) -> Box<dyn Queries> {
        let mut site = self.site.clone();
        // The runtime checks the manifest's capabilities itself.
        site.capabilities = None;
        Box::new(SiteQueries {
            site,
            scope: convert::Scope {
                course: DomainCourseId(self.course),
            },
            plugin: self.harness.manifest.id.clone(),
            logs: self.logs.clone(),
        })
    }

    /// Calls `validate-config` for the scenario's course: the config the
    /// host would store, or the field errors.
    ///
    /// ```no_run
    /// # let harness = charon_plugin_harness::Harness::load("x.wasm");
    /// let scenario = harness.scenario(Default::default());
    /// let errors = scenario.validate(r#"{"max_enrolled":-1}"#).unwrap_err();
    /// assert_eq!(errors.field_errors().unwrap()[0].field, "max_enrolled");
    /// ```
    pub fn validate(&self, json: &str) -> Result<String, Failure> {
        let rt = &self.harness.runtime;
        rt.validate_config(
            &self.harness.plugin,
            self.queries(),
            DomainCourseId(self.course),
            json,
        )?
        .map_err(|errors| {
            Failure::Invalid(errors.into_iter().map(convert::field_error_back).collect())
        })
    }

    /// Calls `migrate-config` as an upgrade from version `from_version`
    /// does: the config the host would then check with `validate-config`,
    /// or the field errors; `json` unchanged for a plugin whose contract
    /// has no migration (before 0.4.0).
    ///
    /// ```no_run
    /// # let harness = charon_plugin_harness::Harness::load("x.wasm");
    /// let scenario = harness.scenario(Default::default());
    /// assert_eq!(scenario.migrate("1.0.0", "{}").unwrap(), "{}");
    /// ```
    pub fn migrate(&self, from_version: &str, json: &str) -> Result<String, Failure> {
        let rt = &self.harness.runtime;
        match rt.migrate_config(
            &self.harness.plugin,
            self.queries(),
            DomainCourseId(self.course),
            from_version,
            json,
        )? {
            None => Ok(json.to_owned()),
            Some(out) => out.map_err(|errors| {
                Failure::Invalid(errors.into_iter().map(convert::field_error_back).collect())
            }),
        }
    }

    /// Validates `json` and, if the method accepts it, stores what it
    /// returned as the method's config, as the host does when an admin
    /// saves the form.
    ///
    /// ```no_run
    /// # let harness = charon_plugin_harness::Harness::load("x.wasm");
    /// let mut scenario = harness.scenario(Default::default());
    /// scenario.configure("{}").unwrap();
    /// assert_eq!(scenario.config, r#"{"role":"learner"}"#);
    /// ```
    pub fn configure(&mut self, json: &str) -> Result<(), Failure> {
        self.config = self.validate(json)?;
        Ok(())
    }

    /// Sends an event to the method: its plan, or why not.
    ///
    /// ```no_run
    /// use charon_sdk::Event;
    /// # let harness = charon_plugin_harness::Harness::load("x.wasm");
    /// let mut scenario = harness.scenario(Default::default());
    /// assert!(scenario.event(Event::UserDeleted(4)).unwrap().is_empty());
    /// ```
    pub fn event(&mut self, event: Event) -> Result<Plan, Failure> {
        let rt = &self.harness.runtime;
        let out = rt.handle_event(
            &self.harness.plugin,
            self.queries(),
            &convert::context(&self.context()),
            &convert::event(event),
        )?;
        self.planned(out)
    }

    /// Makes a request through the method: its plan, or why not.
    ///
    /// ```no_run
    /// use charon_sdk::Request;
    /// # let harness = charon_plugin_harness::Harness::load("x.wasm");
    /// let mut scenario = harness.scenario(Default::default());
    /// let refused = scenario.request(Request::SelfUnenrol(4)).unwrap_err();
    /// assert_eq!(refused.refusal().unwrap().code, "no-self-enrolment");
    /// ```
    pub fn request(&mut self, request: Request) -> Result<Plan, Failure> {
        let rt = &self.harness.runtime;
        let out = rt.handle_request(
            &self.harness.plugin,
            self.queries(),
            &convert::context(&self.context()),
            &convert::request(request),
        )?;
        self.planned(out)
    }

    /// Reconciles the method from the first page to the last: one plan
    /// per page (applied page by page when [`applying`](Self::applying),
    /// as the host does).
    ///
    /// ```no_run
    /// # let harness = charon_plugin_harness::Harness::load("x.wasm");
    /// let mut scenario = harness.scenario(Default::default()).applying();
    /// let pages = scenario.reconcile().unwrap();
    /// // Once applied, a second reconcile changes nothing.
    /// assert!(scenario.reconcile().unwrap().iter().all(|p| p.is_empty()));
    /// ```
    pub fn reconcile(&mut self) -> Result<Vec<Plan>, Failure> {
        let mut pages = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            if pages.len() >= MAX_RECONCILE_PAGES {
                return Err(Failure::Runaway(pages.len()));
            }
            let rt = &self.harness.runtime;
            let step = rt.reconcile(
                &self.harness.plugin,
                self.queries(),
                &convert::context(&self.context()),
                cursor.as_deref(),
            )?;
            let step = step.map_err(|r| Failure::Refused(convert::refusal_back(r)))?;
            let plan = convert::plan_back(step.plan);
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

    /// Applies a plan of the method to the site, all or nothing (see
    /// [`MockHost::apply`]).
    ///
    /// ```no_run
    /// use charon_sdk::{Plan, Role, mock::MockHost};
    /// # let harness = charon_plugin_harness::Harness::load("x.wasm");
    /// let mut scenario = harness.scenario(MockHost::new().user(10, "ada"));
    /// let mut plan = Plan::new();
    /// plan.enrol(10, Role::Learner, "test");
    /// scenario.apply(&plan).unwrap();
    /// assert_eq!(scenario.site.enrolments.len(), 1);
    /// ```
    pub fn apply(&mut self, plan: &Plan) -> Result<(), Failure> {
        let method = self.site.method;
        self.site.apply(method, plan).map_err(Failure::Apply)
    }

    fn planned(
        &mut self,
        out: Result<charon_domain::Plan, neutral::Refusal>,
    ) -> Result<Plan, Failure> {
        let plan = convert::plan_back(out.map_err(|r| Failure::Refused(convert::refusal_back(r)))?);
        if self.apply_plans {
            self.apply(&plan)?;
        }
        Ok(plan)
    }
}

/// The runtime's queries over a snapshot of the scenario's site.
struct SiteQueries {
    site: MockHost,
    /// The scenario's course, which the runtime's records name.
    scope: convert::Scope,
    /// The plugin's id: its sibling methods are enrolment methods of it.
    plugin: String,
    logs: Arc<Mutex<Vec<(LogLevel, String)>>>,
}

impl Queries for SiteQueries {
    fn user(&mut self, id: UserId) -> Result<Option<charon_domain::User>, HostError> {
        Host::user(&self.site, id.0)
            .map(|u| u.map(convert::user))
            .map_err(convert::host_error)
    }
    fn list_users(
        &mut self,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Page<charon_domain::User>, HostError> {
        self.site
            .list_users(after.map(|u| u.0), limit)
            .map(convert::user_page)
            .map_err(convert::host_error)
    }
    fn users_by_email_domain(
        &mut self,
        domain: &str,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Page<charon_domain::User>, HostError> {
        self.site
            .users_by_email_domain(domain, after.map(|u| u.0), limit)
            .map(convert::user_page)
            .map_err(convert::host_error)
    }
    fn users_by_profile_value(
        &mut self,
        field: &str,
        value: &str,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Page<charon_domain::User>, HostError> {
        self.site
            .users_by_profile_field(field, value, after.map(|u| u.0), limit)
            .map(convert::user_page)
            .map_err(convert::host_error)
    }
    fn segment_exists(&mut self, segment: SegmentId) -> Result<Option<String>, HostError> {
        self.site
            .segment_exists(segment.0)
            .map_err(convert::host_error)
    }
    fn segment_members(
        &mut self,
        segment: SegmentId,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Page<neutral::SegmentMember>, HostError> {
        self.site
            .segment_members(segment.0, after.map(|u| u.0), limit)
            .map(convert::segment_member_page)
            .map_err(convert::host_error)
    }
    fn is_segment_member(&mut self, segment: SegmentId, user: UserId) -> Result<bool, HostError> {
        self.site
            .is_segment_member(segment.0, user.0)
            .map_err(convert::host_error)
    }
    fn course_enrolments(
        &mut self,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Page<charon_domain::Enrolment>, HostError> {
        self.site
            .course_enrolments(after.map(|u| u.0), limit)
            .map(|p| convert::enrolment_page(self.scope, p))
            .map_err(convert::host_error)
    }
    fn user_enrolments(
        &mut self,
        user: UserId,
    ) -> Result<Vec<charon_domain::Enrolment>, HostError> {
        self.site
            .user_enrolments(user.0)
            .map(|list| {
                list.into_iter()
                    .map(|e| convert::enrolment(self.scope, e))
                    .collect()
            })
            .map_err(convert::host_error)
    }
    fn method_enrolments(
        &mut self,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Page<charon_domain::Enrolment>, HostError> {
        self.site
            .method_enrolments(after.map(|u| u.0), limit)
            .map(|p| convert::enrolment_page(self.scope, p))
            .map_err(convert::host_error)
    }
    fn method_enrolment_count(&mut self) -> Result<u64, HostError> {
        self.site
            .method_enrolment_count()
            .map_err(convert::host_error)
    }
    fn sibling_methods(&mut self) -> Result<Vec<charon_domain::EnrolmentMethod>, HostError> {
        self.site
            .sibling_methods()
            .map(|list| {
                list.into_iter()
                    .map(|s| convert::sibling(self.scope, &self.plugin, s))
                    .collect()
            })
            .map_err(convert::host_error)
    }
    fn method_group(&mut self, key: &str) -> Result<Option<CourseGroupId>, HostError> {
        self.site
            .method_group(key)
            .map(|g| g.map(CourseGroupId))
            .map_err(convert::host_error)
    }
    fn course_groups(&mut self) -> Result<Vec<charon_domain::CourseGroup>, HostError> {
        self.site
            .course_groups()
            .map(|list| {
                list.into_iter()
                    .map(|g| convert::group(self.scope, g))
                    .collect()
            })
            .map_err(convert::host_error)
    }
    fn group_members(
        &mut self,
        group: CourseGroupId,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Page<charon_domain::GroupMembership>, HostError> {
        self.site
            .group_members(group.0, after.map(|u| u.0), limit)
            .map(|p| convert::member_page(group, p))
            .map_err(convert::host_error)
    }
    fn group_membership(
        &mut self,
        group: CourseGroupId,
        user: UserId,
    ) -> Result<Option<charon_domain::GroupMembership>, HostError> {
        self.site
            .group_membership(group.0, user.0)
            .map(|m| m.map(|m| convert::member(group, m)))
            .map_err(convert::host_error)
    }
    fn log(&mut self, level: neutral::LogLevel, message: &str) {
        self.logs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((convert::log_level_back(level), message.to_owned()));
    }
}
