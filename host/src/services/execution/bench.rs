//! For the sync benchmarks only (`--features bench`): the same reconcile
//! with each page computed natively instead of in the sandbox, from the
//! same queries and context a plugin gets, and applied the same way; the
//! difference between the two is what the sandbox costs.

use std::sync::Arc;

use super::apply::ApplyMode;
use super::pager::{PageSource, Sandbox};
use super::reconcile::{Applied, ReconcileReport};
use crate::domain::*;
use crate::runtime::contract::{Context, ReconcileStep};
use crate::runtime::{Plugin, Queries};
use crate::services::SiteServices;
use crate::services::contract::{self, Answer, Refusal};
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::ops::methods::load_method;
use crate::services::queries::UsersSeen;

/// A reconcile page computed by native code, as a plugin would compute it.
/// The method's plugin (for its settings form) is looked up once per
/// reconcile: a registry read per page would be measured as part of the
/// native figure, which only the page's own work should be.
struct Native<F> {
    step: F,
    plugin: Option<Arc<Plugin>>,
}

impl<F> Native<F> {
    fn new(step: F) -> Self {
        Native { step, plugin: None }
    }
}

impl<F> PageSource for Native<F>
where
    F: FnMut(&Context, Option<String>, Box<dyn Queries>) -> ReconcileStep,
{
    fn page(
        &mut self,
        site: &SiteServices,
        m: &EnrolmentMethod,
        cursor: Option<&str>,
    ) -> ServiceResult<(Result<Answer, Refusal>, Arc<UsersSeen>)> {
        let plugin = match &self.plugin {
            Some(p) => p.clone(),
            None => self.plugin.insert(site.plugin(&m.plugin)?).clone(),
        };
        let (queries, settings, seen) =
            site.method_call_inputs_in(m, &plugin, crate::services::queries::SiteView::AsIs)?;
        let step = (self.step)(
            &contract::context(m, settings),
            cursor.map(str::to_owned),
            queries,
        );
        Ok((Ok(Answer::from(step)), seen))
    }
}

impl SiteServices {
    /// The first page of `id`'s reconcile computed and returned but not
    /// applied, in the sandbox (`native: None`) or natively: the plugin's
    /// part of a page alone. Returns the number of actions.
    #[allow(clippy::type_complexity)]
    pub fn bench_reconcile_page(
        &self,
        id: EnrolmentMethodId,
        native: Option<&mut dyn FnMut(&Context, Option<String>, Box<dyn Queries>) -> ReconcileStep>,
    ) -> ServiceResult<usize> {
        let m = self.read(|t| load_method(t, id))?;
        let (answer, _) = match native {
            None => Sandbox.page(self, &m, None)?,
            Some(step) => Native::new(step).page(self, &m, None)?,
        };
        Ok(answer.map_err(ServiceError::from)?.plan.actions.len())
    }

    pub fn bench_native_reconcile(
        &self,
        id: EnrolmentMethodId,
        step: impl FnMut(&Context, Option<String>, Box<dyn Queries>) -> ReconcileStep,
    ) -> ServiceResult<ReconcileReport> {
        let m = self.read(|t| load_method(t, id))?;
        Applied::new(self, ApplyMode::Apply, &mut |_| {}).run(self, &m, &mut Native::new(step))
    }
}
