//! Writes of enrolment methods and what running them keeps:
//! run state, groups created by key, plugins' site-wide settings.

use redb::ReadableTable;

use crate::domain::{CourseGroupId, EnrolmentMethod, EnrolmentMethodId, MethodRun, MethodWarning};
use crate::storage::site::SiteTables;
use crate::storage::site::counters::Counter;
use crate::storage::{Result, encode};

impl SiteTables<'_> {
    pub(crate) fn new_method_id(&mut self) -> Result<EnrolmentMethodId> {
        Ok(EnrolmentMethodId(self.next_id(Counter::Method)?))
    }

    pub(crate) fn put_method(&mut self, method: &EnrolmentMethod) -> Result<()> {
        self.methods
            .insert(method.id.0, encode(method).as_slice())?;
        self.course_methods
            .insert((method.course.0, method.id.0), ())?;
        Ok(())
    }

    pub(crate) fn put_method_run(&mut self, id: EnrolmentMethodId, run: &MethodRun) -> Result<()> {
        self.method_runs.insert(id.0, encode(run).as_slice())?;
        Ok(())
    }

    pub(crate) fn put_method_warning(
        &mut self,
        id: EnrolmentMethodId,
        warning: &MethodWarning,
    ) -> Result<()> {
        self.method_warnings
            .insert(id.0, encode(warning).as_slice())?;
        Ok(())
    }

    /// Removes `id`'s warning; whether it had one.
    pub(crate) fn delete_method_warning(&mut self, id: EnrolmentMethodId) -> Result<bool> {
        Ok(self.method_warnings.remove(id.0)?.is_some())
    }

    pub(crate) fn put_method_group(
        &mut self,
        method: EnrolmentMethodId,
        key: &str,
        group: CourseGroupId,
    ) -> Result<()> {
        self.method_groups.insert((method.0, key), group.0)?;
        Ok(())
    }

    /// Forgets every key that names `group` (the group is being deleted).
    pub(crate) fn forget_method_group(&mut self, group: CourseGroupId) -> Result<()> {
        // Rows are one per method that created a group: a scan is cheap.
        let mut stale = Vec::new();
        for row in self.method_groups.iter()? {
            let (k, v) = row?;
            if v.value() == group.0 {
                let (m, key) = k.value();
                stale.push((m, key.to_owned()));
            }
        }
        for (m, key) in stale {
            self.method_groups.remove((m, key.as_str()))?;
        }
        Ok(())
    }

    pub(crate) fn put_plugin_settings(&mut self, plugin: &str, json: &str) -> Result<()> {
        self.plugin_settings.insert(plugin, json)?;
        Ok(())
    }

    pub(crate) fn delete_method_row(&mut self, method: &EnrolmentMethod) -> Result<()> {
        let mut keys = Vec::new();
        for row in self.method_groups.range((method.id.0, "")..)? {
            let (k, _) = row?;
            let (m, key) = k.value();
            if m != method.id.0 {
                break;
            }
            keys.push(key.to_owned());
        }
        for key in keys {
            self.method_groups.remove((method.id.0, key.as_str()))?;
        }
        self.method_runs.remove(method.id.0)?;
        self.method_warnings.remove(method.id.0)?;
        self.methods.remove(method.id.0)?;
        self.course_methods.remove((method.course.0, method.id.0))?;
        Ok(())
    }
}
