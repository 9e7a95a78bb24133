//! Running enrolment methods: events, requests, reconcile.
//!
//! Three paths call a plugin, and all end the same way: the plugin returns
//! a plan, `plans::apply_plan` checks and applies it in one transaction as
//! `Actor::Method(method)`, or rejects it whole (`apply`).
//!
//! - **Events** (`dispatch`). `SiteServices::dispatch_pending` reads
//!   the site's outbox after the dispatcher's cursor and delivers each
//!   event to the methods it concerns whose plugin asked for its kind:
//!   course events to the enabled methods of that course, segment and
//!   user events to every enabled method of the site, a method's own
//!   lifecycle events (added, enabled, disabled, updated) to that method
//!   whatever its status. Contract 0.1.0's `instance-deleted` is never
//!   sent (0.2.0 has no such event): the host deletes the method, its
//!   enrolments and its memberships in one
//!   transaction, so when the event is read there is no method left to
//!   call (the contract's "about to be deleted" would need a call inside
//!   that transaction, which a plugin that may run for its whole deadline
//!   must not hold). The dispatcher job (`crate::jobs`) drives it from the
//!   event bus on the blocking pool, off the HTTP workers.
//! - **Requests** (`requests`, `SiteServices::method_request`):
//!   authorised before the plugin is called; a plugin's refusal becomes
//!   `ServiceError::Refused`.
//! - **Reconcile** (`reconcile`, `SiteServices::reconcile_method`):
//!   page by page, each page's plan in its own transaction, so an
//!   interrupted reconcile keeps what it did and the next run resumes from
//!   the state it left. One page loop (`pager`) serves the reconcile, its
//!   dry run, the preview of a new method and the native benchmark; when
//!   a page waits for the disk is `pacing`'s.
//! - **Foresight** (`foresight`, `SiteServices::foresee_segment_deletion`):
//!   what deleting a segment would do to a method, from a dry run of its
//!   plugin's answer to `segment-deleted` (and of the reconcile it asks
//!   for) with the queries answering as if the segment were gone; nothing
//!   written, no failure recorded.
//!
//! A plugin that fails (timeout, memory, crash, a plan too large) or whose
//! plan is rejected gets the failure recorded as its method's last error,
//! with a running count, in a small transaction of its own
//! (`method-runs-v1`, `calls`); the failure is logged and the host
//! carries on. How a method is doing is `status`'s.
//!
//! Plans cause events, which are dispatched too (that is how "segment
//! members to group" reacts to enrolments another method makes). Plugins
//! must be idempotent so this converges; as a guard against two methods
//! that undo each other forever, an event caused by a chain of
//! [`MAX_CASCADE`] plans is not delivered and the methods it would have
//! reached get a `cascade_limit` error.
//!
//! Speaks to plugins only through `services::contract`; never names the
//! contract's types.

mod apply;
#[cfg(feature = "bench")]
mod bench;
mod calls;
mod dispatch;
mod first_run;
mod foresight;
mod pacing;
mod pager;
mod reconcile;
mod requests;
mod status;

pub use crate::services::plans::{MAX_LISTED_REFUSALS, RefusedAction};
pub(crate) use dispatch::Executor;
pub use dispatch::{DispatchReport, MAX_CASCADE};
pub use first_run::{AddedMethod, FirstRun};
pub use foresight::{Foreseen, ForeseenCounts};
pub use pacing::DEFAULT_DURABLE_EVERY;
pub use pager::MAX_RECONCILE_PAGES;
pub use reconcile::{MAX_REPORTED_ACTIONS, MethodPreview, MethodReconcile, ReconcileReport};
pub use requests::{MethodRequest, RequestOutcome};
pub use status::{CourseMethods, MethodOverview, MethodRunStatus};
