//! One call of a method's plugin, and a failed call recorded as the
//! method's last error.

use std::sync::Arc;

use crate::domain::*;
use crate::services::SiteServices;
use crate::services::contract::{self, Answer, Ask, Refusal};
use crate::services::error::{MethodFailure, ServiceError, ServiceResult};
use crate::services::queries::{SiteView, UsersSeen};
use crate::storage::site::prelude::*;

/// Keeps a plugin's message from growing the run-state record without end.
fn bounded(message: &str) -> String {
    const MAX: usize = 2000;
    if message.len() <= MAX {
        return message.to_owned();
    }
    let mut end = MAX;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &message[..end])
}

impl SiteServices {
    /// Records a failed call as the method's last error, in its own
    /// transaction. Never fails the caller: the failure it records is what
    /// the caller reports.
    pub(in crate::services) fn record_method_error(
        &self,
        id: EnrolmentMethodId,
        code: &MethodFailure,
        message: &str,
    ) {
        tracing::warn!(site = %self.site.slug, method = %id, code = code.as_str(), "enrolment method failed: {message}");
        let recorded = self.write(|t| {
            if t.method(id)?.is_none() {
                return Ok(());
            }
            let mut run = t.method_run(id)?.unwrap_or_default();
            run.error_count += 1;
            run.last_error = Some(MethodError {
                code: code.as_str().to_owned(),
                message: bounded(message),
                at: t.now,
            });
            t.put_method_run(id, &run)?;
            Ok(())
        });
        if let Err(e) = recorded {
            tracing::error!(error = %e, method = %id, "could not record an enrolment method's error");
        }
    }

    /// Records a plugin's refusal of an event or a reconcile page as
    /// method `id`'s last error, under the plugin's own code.
    pub(super) fn record_refusal(&self, id: EnrolmentMethodId, refusal: &Refusal) {
        let code = MethodFailure::Refused(refusal.code.clone());
        self.record_method_error(id, &code, &refusal.message);
    }

    /// One plugin call for method `m`, with queries over a fresh
    /// snapshot, and the users those queries found active (for
    /// `apply_method_plan_with`). A misbehaving plugin is recorded and
    /// reported as `PluginFailed`.
    pub(super) fn call_plugin(
        &self,
        m: &EnrolmentMethod,
        ask: Ask<'_>,
    ) -> ServiceResult<(Result<Answer, Refusal>, Arc<UsersSeen>)> {
        self.call_plugin_in(m, ask, SiteView::AsIs)
    }

    /// As [`call_plugin`](Self::call_plugin), the plugin seeing the site
    /// as `view` says. A call that sees anything but the site as it is
    /// belongs to a dry run: its failure is reported, not recorded.
    pub(super) fn call_plugin_in(
        &self,
        m: &EnrolmentMethod,
        ask: Ask<'_>,
        view: SiteView,
    ) -> ServiceResult<(Result<Answer, Refusal>, Arc<UsersSeen>)> {
        let plugin = self.plugin(&m.plugin)?;
        let runtime = self.runtime()?;
        let (queries, settings, seen) = self.method_call_inputs_in(m, &plugin, view)?;
        let answer = contract::call(runtime, &plugin, queries, m, settings, ask).map_err(|e| {
            let (code, message) = (MethodFailure::from(&e), e.to_string());
            if view == SiteView::AsIs {
                self.record_method_error(m.id, &code, &message);
            }
            ServiceError::PluginFailed {
                code,
                message: format!("enrolment method {:?}: {message}", m.name),
            }
        })?;
        Ok((answer, seen))
    }
}
