//! Queries about enrolment methods and what running them keeps:
//! each method's run state, the groups it created by key, its plugin's
//! site-wide settings, and the event dispatcher's cursor.

use redb::ReadableTable;

use super::{SiteTablesRead, all_records, get_record, pair_prefix};
use crate::domain::{
    CourseGroupId, CourseId, EnrolmentMethod, EnrolmentMethodId, MethodRun, MethodWarning,
};
use crate::storage::Result;

/// Enrolment methods and their run state.
pub trait MethodRead: SiteTablesRead {
    fn method(&self, id: EnrolmentMethodId) -> Result<Option<EnrolmentMethod>> {
        get_record(self.methods()?, "enrolment-methods", id.0)
    }

    /// Every enrolment method of the site (site-wide events reach them all).
    fn all_methods(&self) -> Result<Vec<EnrolmentMethod>> {
        all_records(self.methods()?, "enrolment-methods")
    }

    fn method_run(&self, id: EnrolmentMethodId) -> Result<Option<MethodRun>> {
        get_record(self.method_runs()?, "method-runs", id.0)
    }

    /// What `method`'s course staff must act on, if anything.
    fn method_warning(&self, id: EnrolmentMethodId) -> Result<Option<MethodWarning>> {
        get_record(self.method_warnings()?, "method-warnings", id.0)
    }

    /// Every method with a warning, with it, in method id order.
    fn all_method_warnings(&self) -> Result<Vec<(EnrolmentMethodId, MethodWarning)>> {
        let mut out = Vec::new();
        for row in self.method_warnings()?.iter()? {
            let (k, v) = row?;
            out.push((
                EnrolmentMethodId(k.value()),
                crate::storage::decode("method-warnings", v.value())?,
            ));
        }
        Ok(out)
    }

    /// The methods that created `group` (a plan's `create-group`), each
    /// with the key it gave it.
    fn methods_that_created(
        &self,
        group: CourseGroupId,
    ) -> Result<Vec<(EnrolmentMethodId, String)>> {
        // One row per group a method created: a scan is cheap.
        let mut out = Vec::new();
        for row in self.method_groups()?.iter()? {
            let (k, v) = row?;
            if v.value() == group.0 {
                let (m, key) = k.value();
                out.push((EnrolmentMethodId(m), key.to_owned()));
            }
        }
        Ok(out)
    }

    /// The group `method` created under `key`, if it recorded one.
    fn method_group(&self, method: EnrolmentMethodId, key: &str) -> Result<Option<CourseGroupId>> {
        Ok(self
            .method_groups()?
            .get((method.0, key))?
            .map(|g| CourseGroupId(g.value())))
    }

    /// A plugin's site-wide settings as saved (a JSON object), if any.
    fn plugin_settings_json(&self, plugin: &str) -> Result<Option<String>> {
        Ok(self
            .plugin_settings()?
            .get(plugin)?
            .map(|v| v.value().to_owned()))
    }

    /// The last outbox seq the event dispatcher delivered.
    fn dispatch_cursor(&self) -> Result<u64> {
        Ok(self.dispatch()?.get("cursor")?.map_or(0, |g| g.value()))
    }

    fn course_methods_list(&self, course: CourseId) -> Result<Vec<EnrolmentMethod>> {
        let mut out = Vec::new();
        for row in self.course_methods()?.range(pair_prefix(course.0))? {
            let (k, _) = row?;
            if let Some(m) = self.method(EnrolmentMethodId(k.value().1))? {
                out.push(m);
            }
        }
        Ok(out)
    }
}

impl<T: SiteTablesRead> MethodRead for T {}
