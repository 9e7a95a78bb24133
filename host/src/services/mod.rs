//! Domain services: the rules of PRODUCT §2, authorisation and
//! transactions.
//!
//! Every public function takes the acting [`Principal`], checks what it
//! needs with [`auth::authorize`] inside the transaction it writes in, and
//! writes in exactly one redb transaction (so a refused call writes
//! nothing). Events of a change are recorded in the site's outbox in that
//! transaction and published on the [`EventBus`] after it commits. HTTP
//! handlers, the CLI and (later) the plugin runtime call only this layer;
//! this layer calls only `storage` (and `runtime` to run plugins).
//!
//! Inside, one file or folder per area (`users`, `segments`, `courses`,
//! `groups`, `enrolments`, `plugins`, `execution`, `bulk`, …) holds the
//! public functions; what several of them write or look up inside a
//! transaction lives below them in `ops`, one file per entity, so no area
//! reaches sideways into another's helpers. `plans` applies a plugin's plan
//! through `ops`; `contract` is the one module that converts to and from
//! the plugin contract's types, and `queries` answers the contract's
//! queries.
//!
//! Architecture invariant: the services' modules import each other without
//! a loop, and none imports `crate::http` (`tests/tidy.rs` checks both).

pub mod announcements;
pub mod assignments;
pub mod auth;
pub mod bulk;
pub mod content;
mod contract;
pub mod course_access;
pub mod courses;
pub mod dashboard;
pub mod discussions;
pub mod enrolments;
pub mod error;
pub mod events;
pub mod execution;
pub mod gradebook;
pub mod groupings;
pub mod groups;
pub mod mail;
pub mod mass_enrolments;
mod ops;
pub mod password;
pub mod plans;
pub mod plugin_settings;
pub mod plugins;
pub mod privacy;
pub mod profile_fields;
mod queries;
pub mod segment_rules;
pub mod segments;
pub mod sessions;
mod sign_in_throttle;
pub mod sites;
pub mod tokens;
pub mod users;
pub mod validate;

#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The one storage type callers see: what a `ServiceError::Storage` holds.
pub use crate::storage::StorageError;
pub use auth::{Ask, Need, Principal};
pub use error::{MethodFailure, ServiceError, ServiceResult};
pub use events::EventBus;

use crate::domain::{AuditEntry, AuditId, EventEnvelope, Site, SiteId, UserId};
use crate::storage::pool::{SitePool, SiteStore};
use crate::storage::registry::{RegistryRead, RegistryStore};
use crate::storage::site::{SiteReadTables, SiteTables, prelude::*};

/// The services of one host: the registry and every site it holds.
/// Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct Services {
    inner: Arc<Inner>,
}

struct Inner {
    data_dir: PathBuf,
    registry: Arc<RegistryStore>,
    pool: SitePool,
    bus: EventBus,
    last_used: tokens::LastUsed,
    plugins: Arc<plugins::PluginCatalog>,
    exec: Arc<execution::Executor>,
    sessions: sessions::SessionKeeper,
    staged: Arc<bulk::staged::StagedImports>,
    due: Arc<announcements::DueAnnouncements>,
    mail: Arc<mail::MailHost>,
}

impl Services {
    /// Opens the data dir (creating it, the registry and the sites folder if
    /// needed). Fails if another process has the registry open.
    pub fn open(data_dir: impl Into<PathBuf>) -> ServiceResult<Self> {
        Self::open_with(data_dir, crate::runtime::RuntimeConfig::default())
    }

    /// [`open`](Self::open) with the plugin runtime's limits set.
    pub fn open_with(
        data_dir: impl Into<PathBuf>,
        runtime: crate::runtime::RuntimeConfig,
    ) -> ServiceResult<Self> {
        let data_dir = data_dir.into();
        crate::storage::private::secure_data_dir(&data_dir)?;
        let registry = Arc::new(RegistryStore::open(&data_dir.join("registry.redb"))?);
        let pool = SitePool::new(data_dir.join("sites"))?;
        Ok(Self {
            inner: Arc::new(Inner {
                registry,
                pool,
                bus: EventBus::new(4096),
                last_used: tokens::LastUsed::default(),
                plugins: Arc::new(plugins::PluginCatalog::new(runtime, &data_dir)),
                exec: Arc::default(),
                sessions: sessions::SessionKeeper::default(),
                staged: Arc::default(),
                due: Arc::default(),
                mail: Arc::default(),
                data_dir,
            }),
        })
    }

    pub fn data_dir(&self) -> &Path {
        &self.inner.data_dir
    }

    pub fn events(&self) -> &EventBus {
        &self.inner.bus
    }

    pub(crate) fn registry(&self) -> &RegistryStore {
        &self.inner.registry
    }

    fn last_used(&self) -> &tokens::LastUsed {
        &self.inner.last_used
    }

    /// The services of one site. Opens its file if needed. Authorisation
    /// happens per call, so getting the handle reveals nothing.
    pub fn site(&self, id: SiteId) -> ServiceResult<SiteServices> {
        let site = self
            .inner
            .registry
            .read(|t| Ok::<_, ServiceError>(t.site(id)?))?
            .ok_or_else(|| ServiceError::not_found(format!("site #{id}")))?;
        self.site_services(site)
    }

    /// A site by its slug (the `/s/{slug}/` prefix).
    pub fn site_by_slug(&self, slug: &str) -> ServiceResult<SiteServices> {
        let site = self
            .inner
            .registry
            .read(|t| match t.site_id_by_slug(slug)? {
                Some(id) => Ok::<_, ServiceError>(t.site(id)?),
                None => Ok(None),
            })?
            .ok_or_else(|| ServiceError::not_found(format!("site {slug:?}")))?;
        self.site_services(site)
    }

    /// The site a `Host` header names (port ignored), if any.
    pub fn site_for_host(&self, host: &str) -> ServiceResult<Option<SiteServices>> {
        let name = host_without_port(host);
        let site = self
            .inner
            .registry
            .read(|t| match t.site_id_by_host(name)? {
                Some(id) => Ok::<_, ServiceError>(t.site(id)?),
                None => Ok(None),
            })?;
        site.map(|s| self.site_services(s)).transpose()
    }

    fn site_services(&self, site: Site) -> ServiceResult<SiteServices> {
        let store = self.inner.pool.get(&site)?;
        Ok(SiteServices {
            site,
            store,
            bus: self.inner.bus.clone(),
            plugins: self.inner.plugins.clone(),
            registry: self.inner.registry.clone(),
            exec: self.inner.exec.clone(),
            staged: self.inner.staged.clone(),
            due: self.inner.due.clone(),
            mail: self.inner.mail.clone(),
        })
    }

    /// Sets the largest CSV file an import accepts through the pages and
    /// the JSON API (`serve --import-max-mib`).
    pub fn set_import_max_bytes(&self, max_bytes: usize) {
        self.inner.staged.set_max_bytes(max_bytes);
    }

    pub fn import_max_bytes(&self) -> usize {
        self.inner.staged.max_bytes()
    }

    /// Sets the longest a reconcile's pages go without waiting for the disk
    /// (`serve --reconcile-durable-ms`): what a crash can take back of a
    /// reconcile, redone by the start-up reconcile. Zero makes every page
    /// durable.
    pub fn set_reconcile_durable_every(&self, every: Duration) {
        self.inner.exec.set_durable_every(every);
    }

    /// Closes site files nobody used for `idle`; returns how many.
    pub fn close_idle_sites(&self, idle: Duration) -> usize {
        self.inner.pool.close_idle(idle)
    }

    pub fn open_site_count(&self) -> usize {
        self.inner.pool.open_count()
    }
}

fn host_without_port(host: &str) -> &str {
    if host.starts_with('[') {
        // [::1]:8080
        return host.split(']').next().map_or(host, |h| &h[1..]);
    }
    host.rsplit_once(':').map_or(host, |(h, _)| h)
}

/// The services of one site, bound to its open store.
#[derive(Clone)]
pub struct SiteServices {
    site: Site,
    store: Arc<SiteStore>,
    bus: EventBus,
    plugins: Arc<plugins::PluginCatalog>,
    /// Which plugins the site may use, and which version of each.
    registry: Arc<RegistryStore>,
    exec: Arc<execution::Executor>,
    /// The host's uploaded CSV files between preview and apply.
    staged: Arc<bulk::staged::StagedImports>,
    /// When each site's next scheduled announcement is due.
    due: Arc<announcements::DueAnnouncements>,
    /// The operator's default SMTP settings and the mail worker.
    mail: Arc<mail::MailHost>,
}

/// A page of results in a stable order; pass `next` back as `after` to get
/// the following page.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Page<T, C = u64> {
    pub items: Vec<T>,
    pub next: Option<C>,
}

/// What a bulk membership change did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct MembershipChange {
    /// Users whose membership changed.
    pub changed: u64,
    /// Users already in the wanted state (a silent no-op).
    pub unchanged: u64,
}

impl MembershipChange {
    /// Applies `change` to each user in turn, counting those it changed
    /// (it says `true`) and those already as wanted; the first error ends
    /// the call.
    pub(crate) fn tally(
        users: &[UserId],
        mut change: impl FnMut(UserId) -> ServiceResult<bool>,
    ) -> ServiceResult<Self> {
        let mut tally = Self::default();
        for &user in users {
            if change(user)? {
                tally.changed += 1;
            } else {
                tally.unchanged += 1;
            }
        }
        Ok(tally)
    }
}

pub const MAX_PAGE: usize = 1000;

pub(crate) fn clamp_limit(limit: usize) -> usize {
    limit.clamp(1, MAX_PAGE)
}

impl SiteServices {
    pub fn site(&self) -> &Site {
        &self.site
    }

    /// One write transaction; events are published after it commits.
    pub(crate) fn write<T>(
        &self,
        f: impl FnOnce(&mut SiteTables<'_>) -> ServiceResult<T>,
    ) -> ServiceResult<T> {
        let (out, events) = self.store.write(f)?;
        self.bus.publish(events);
        Ok(out)
    }

    pub(crate) fn read<T>(
        &self,
        f: impl FnOnce(&SiteReadTables) -> ServiceResult<T>,
    ) -> ServiceResult<T> {
        self.store.read(f)
    }

    /// The whole site file, byte for byte (see `SiteStore::snapshot`).
    #[cfg(test)]
    pub(crate) fn snapshot(&self) -> crate::storage::site::TableDump {
        self.store.snapshot().expect("snapshot of the site file")
    }

    /// The audit log, newest first, filtered by action prefix and actor.
    pub fn audit_log(
        &self,
        who: &Principal,
        filter: &AuditFilter,
        before: Option<AuditId>,
        limit: usize,
    ) -> ServiceResult<Page<AuditEntry, AuditId>> {
        self.read(|t| {
            auth::authorize(&self.site, t, who, Need::SiteAdmin)?;
            let limit = clamp_limit(limit);
            let items = t.audit_page(before, limit + 1, |e| filter.matches(e))?;
            Ok(page_of(items, limit, |e| e.id))
        })
    }

    /// [`audit_log`](Self::audit_log) with the actor named as people type
    /// it on the audit page: a username, `system`, `operator` (any
    /// operator), or an actor as the log shows it (`user #7`, `operator
    /// #1`, `enrolment method #3`). A name that is none of these is
    /// refused as the `actor` field.
    pub fn audit_log_by_name(
        &self,
        who: &Principal,
        filter: &AuditFilter,
        actor: Option<&str>,
        before: Option<AuditId>,
        limit: usize,
    ) -> ServiceResult<Page<AuditEntry, AuditId>> {
        self.read(|t| {
            auth::authorize(&self.site, t, who, Need::SiteAdmin)?;
            let named = match actor.map(str::trim).filter(|a| !a.is_empty()) {
                None => ActorName::Anyone,
                Some(a) => ActorName::resolve(t, a)?,
            };
            let limit = clamp_limit(limit);
            let items = t.audit_page(before, limit + 1, |e| {
                filter.matches(e) && named.matches(&e.actor)
            })?;
            Ok(page_of(items, limit, |e| e.id))
        })
    }

    /// Committed events after `seq`, oldest first: the catch-up path of the
    /// event stream. Operators and the host only.
    pub fn events_after(
        &self,
        who: &Principal,
        seq: u64,
        limit: usize,
    ) -> ServiceResult<Vec<EventEnvelope>> {
        self.read(|t| {
            auth::authorize(&self.site, t, who, Need::Operator)?;
            Ok(t.events_after(self.site.id, seq, clamp_limit(limit))?)
        })
    }
}

/// Which audit entries to show.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    /// Keep actions starting with this, e.g. `segment.`.
    pub action_prefix: Option<String>,
    pub actor: Option<crate::domain::Actor>,
    /// Keep entries whose target or reason contains this (case-insensitive).
    pub text: Option<String>,
}

impl AuditFilter {
    fn matches(&self, e: &AuditEntry) -> bool {
        self.action_prefix
            .as_ref()
            .is_none_or(|p| e.action.starts_with(p.as_str()))
            && self.actor.is_none_or(|a| a == e.actor)
            && self.text.as_ref().is_none_or(|q| {
                let q = q.to_lowercase();
                e.target.to_lowercase().contains(&q) || e.reason.to_lowercase().contains(&q)
            })
    }
}

/// An actor as named on the audit page, resolved against the site.
enum ActorName {
    Anyone,
    AnyOperator,
    Exactly(crate::domain::Actor),
    /// As the log shows an actor (`user #7`), compared as text.
    Shown(String),
}

impl ActorName {
    fn resolve(t: &impl SiteRead, name: &str) -> ServiceResult<Self> {
        let lower = name.to_lowercase();
        Ok(match lower.as_str() {
            "system" => Self::Exactly(crate::domain::Actor::System),
            "operator" | "operators" => Self::AnyOperator,
            shown if shown.contains('#') => {
                Self::Shown(shown.split_whitespace().collect::<Vec<_>>().join(" "))
            }
            username => match t.user_id_by_username(username)? {
                Some(id) => Self::Exactly(crate::domain::Actor::User(id)),
                None => {
                    return Err(ServiceError::invalid(
                        "actor",
                        format!(
                            "no user has the username {name:?}; type a username, \"system\" or \"operator\""
                        ),
                    ));
                }
            },
        })
    }

    fn matches(&self, actor: &crate::domain::Actor) -> bool {
        match self {
            Self::Anyone => true,
            Self::AnyOperator => matches!(actor, crate::domain::Actor::Operator(_)),
            Self::Exactly(a) => a == actor,
            Self::Shown(text) => actor.to_string() == *text,
        }
    }
}

/// Turns `limit + 1` fetched items into a page whose `next` is set only
/// when there is more.
pub(crate) fn page_of<T, C>(mut items: Vec<T>, limit: usize, key: impl Fn(&T) -> C) -> Page<T, C> {
    let next = if items.len() > limit {
        items.truncate(limit);
        items.last().map(key)
    } else {
        None
    };
    Page { items, next }
}

/// The window `offset .. offset + limit` of an already sorted list, each
/// item turned into what the page shows; `next` is the following offset
/// when more items remain.
pub(crate) fn offset_page<T, U>(
    all: Vec<T>,
    offset: usize,
    limit: usize,
    map: impl FnMut(T) -> ServiceResult<U>,
) -> ServiceResult<Page<U, usize>> {
    let total = all.len();
    let items = all
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(map)
        .collect::<ServiceResult<_>>()?;
    let end = offset.saturating_add(limit);
    Ok(Page {
        items,
        next: (end < total).then_some(end),
    })
}

/// The search of every list of users: full name (so first and last name
/// too), username and e-mail.
pub(crate) fn user_matches(query: Option<&str>, u: &crate::domain::User) -> bool {
    matches_query(query, &[&u.full_name(), &u.username, &u.email])
}

/// Case-insensitive "contains" used by every search box.
pub(crate) fn matches_query(query: Option<&str>, fields: &[&str]) -> bool {
    match query.map(str::trim) {
        None | Some("") => true,
        Some(q) => {
            let q = q.to_lowercase();
            fields.iter().any(|f| f.to_lowercase().contains(&q))
        }
    }
}
