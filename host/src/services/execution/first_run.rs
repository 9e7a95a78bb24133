//! A method's first run: adding one answers with its first reconcile, so
//! that whoever added it learns at once whether its plugin works.

use super::ReconcileReport;
use crate::domain::*;
use crate::services::enrolments::NewMethod;
use crate::services::error::ServiceResult;
use crate::services::{Principal, SiteServices};
use crate::storage::site::prelude::*;

/// What adding a method did: the method, and how its first run went.
#[derive(Clone, Debug, PartialEq)]
pub struct AddedMethod {
    pub method: EnrolmentMethod,
    pub first_run: FirstRun,
}

/// The first reconcile of a method just added, run before the answer so
/// that whoever added it learns at once whether its plugin works (a
/// failure is also recorded as the method's last error, shown on its
/// course's methods page and the dashboard).
#[derive(Clone, Debug, PartialEq)]
pub enum FirstRun {
    /// Added disabled: nothing runs until it is enabled.
    NotRun,
    Done(ReconcileReport),
    Failed(MethodError),
}

impl SiteServices {
    /// Adds a method as [`add_method`](Self::add_method) does, then runs
    /// its first reconcile (when it is added enabled) and reports how that
    /// went. The method stays added whatever the run did. Its plugin's
    /// `method-added` event still reaches it through the dispatcher; a
    /// reconcile it asks for then finds nothing left to do.
    pub fn add_method_and_run(
        &self,
        who: &Principal,
        course: CourseId,
        new: NewMethod,
    ) -> ServiceResult<AddedMethod> {
        let method = self.add_method(who, course, new)?;
        if method.status != EnrolmentMethodStatus::Enabled {
            return Ok(AddedMethod {
                method,
                first_run: FirstRun::NotRun,
            });
        }
        let run = self.with_dispatch_held(|| self.run_reconcile(&method, false, &mut |_| {}));
        let first_run = match run {
            Ok(report) => FirstRun::Done(report),
            Err(e) => {
                // The plugin's failures are recorded as the run went;
                // anything else (a storage error) is said as it is.
                let recorded = self.read(|t| Ok(t.method_run(method.id)?))?;
                let error = recorded
                    .and_then(|run| run.last_error)
                    .unwrap_or(MethodError {
                        code: "failed".to_owned(),
                        message: e.to_string(),
                        at: Timestamp::now(),
                    });
                FirstRun::Failed(error)
            }
        };
        Ok(AddedMethod { method, first_run })
    }
}
