//! The enrolment methods of a course: adding one (its plugin
//! checks the config first), renaming and re-configuring, enabling and
//! disabling, deleting with its enrolments, and listing.

use super::super::auth::{Ask, Need, authorize, authorized_method};
use super::super::error::{ServiceError, ServiceResult};
use super::super::ops::courses::load_course;
use super::super::ops::methods::delete_method_in;
use super::super::{Principal, SiteServices, validate};
use super::secrets::keep_secrets;
use crate::domain::*;
use crate::storage::site::prelude::*;

#[derive(Clone, Debug)]
pub struct NewMethod {
    pub plugin: String,
    /// Blank means the plugin id.
    pub name: String,
    /// A JSON object; the plugin checks it and may normalise it.
    pub config: serde_json::Value,
    pub enabled: bool,
}

impl NewMethod {
    /// The name the method gets: the one given, checked, or the plugin's
    /// id when blank. Adding and previewing name it alike.
    pub(crate) fn checked_name(&self) -> ServiceResult<String> {
        match self.name.trim() {
            "" => Ok(self.plugin.trim().to_owned()),
            n => validate::required_text("name", n, validate::MAX_NAME),
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct MethodUpdate {
    pub name: Option<String>,
    pub config: Option<serde_json::Value>,
}

fn config_text(config: &serde_json::Value) -> ServiceResult<String> {
    if !config.is_object() {
        return Err(ServiceError::invalid("config", "must be a JSON object"));
    }
    let text = config.to_string();
    if text.len() > validate::MAX_CONFIG_BYTES {
        return Err(ServiceError::invalid("config", "is larger than 64 KiB"));
    }
    Ok(text)
}

impl SiteServices {
    /// Adds a method of a plugin to a course. The plugin must be enabled
    /// on the site; it checks the config (and may normalise it) before
    /// anything is written, and its field errors come back as
    /// [`ServiceError::ConfigRejected`]. Calls the plugin: HTTP handlers run
    /// this on the blocking pool.
    pub fn add_method(
        &self,
        who: &Principal,
        course: CourseId,
        new: NewMethod,
    ) -> ServiceResult<EnrolmentMethod> {
        // Authorises the caller before anything of the input is checked.
        let (plugin_id, config) = self.checked_new_method(who, course, &new)?;
        let name = new.checked_name()?;
        self.write(|t| {
            let actor = authorize(&self.site, t, who, Need::ConfigureCourse(course))?;
            load_course(t, course)?;
            let method = EnrolmentMethod {
                id: t.new_method_id()?,
                course,
                plugin: plugin_id,
                name,
                status: if new.enabled {
                    EnrolmentMethodStatus::Enabled
                } else {
                    EnrolmentMethodStatus::Disabled
                },
                config,
                created_at: t.now,
            };
            t.put_method(&method)?;
            t.audit_log(
                actor,
                "method.added",
                format!("enrolment method #{} in course #{course}", method.id),
                format!("{:?} added", method.name),
            )?;
            t.emit(SiteEvent::MethodAdded {
                course,
                method: method.id,
            })?;
            Ok(method)
        })
    }

    /// The plugin id and the config as the plugin normalised it, for a new
    /// method in `course`, once the caller may configure the course.
    pub(crate) fn checked_new_method(
        &self,
        who: &Principal,
        course: CourseId,
        new: &NewMethod,
    ) -> ServiceResult<(String, String)> {
        // Who may ask, and about what, is settled before the input is
        // checked and the plugin runs: a refusal must depend neither on
        // what was sent nor on which plugins the site has.
        self.read(|t| {
            authorize(&self.site, t, who, Need::ConfigureCourse(course))?;
            load_course(t, course).map(drop)
        })?;
        let plugin_id = validate::required_text("plugin", &new.plugin, validate::MAX_IDNUMBER)?;
        // A marker or a blank secret of a new method is no secret at all.
        let secrets = self.secret_config_keys(&plugin_id)?;
        let config = config_text(&keep_secrets(&new.config, None, &secrets))?;
        let plugin = self.plugin_for_method(&plugin_id)?;
        let config = self.validate_method_config(&plugin, course, None, &config)?;
        self.check_config_roles(who, &plugin, &config)?;
        Ok((plugin_id, config))
    }

    /// A method gives the roles its config names: whoever saves the config
    /// must be allowed to give them (see `authorize_role_assignment`).
    fn check_config_roles(
        &self,
        who: &Principal,
        plugin: &crate::runtime::Plugin,
        config: &str,
    ) -> ServiceResult<()> {
        let values: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(config).unwrap_or_default();
        let teacher = plugin.manifest.config.iter().any(|field| {
            field.kind == PluginFieldKind::Role
                && values.get(&field.key).and_then(|v| v.as_str()) == Some("teacher")
        });
        if !teacher {
            return Ok(());
        }
        self.read(|t| {
            super::super::auth::authorize_role_assignment(&self.site, t, who, Role::Teacher)
        })
    }

    /// Renames a method and/or replaces its config; a new config is
    /// checked by the plugin first, as in [`add_method`](Self::add_method).
    pub fn update_method(
        &self,
        who: &Principal,
        id: EnrolmentMethodId,
        update: MethodUpdate,
    ) -> ServiceResult<EnrolmentMethod> {
        self.authorize_ask(who, Ask::Method(id, Need::ConfigureCourse))?;
        let name = update
            .name
            .as_deref()
            .map(|v| validate::required_text("name", v, validate::MAX_NAME))
            .transpose()?;
        let config = match &update.config {
            Some(incoming) => {
                let checked = self.read(|t| {
                    authorized_method(&self.site, t, who, id, Need::ConfigureCourse).map(|(m, _)| m)
                })?;
                // A secret the caller never saw is kept unless cleared.
                let secrets = self.secret_config_keys(&checked.plugin)?;
                let incoming = keep_secrets(incoming, Some(&checked.config), &secrets);
                let config = config_text(&incoming)?;
                let plugin = self.plugin_for_method(&checked.plugin)?;
                let config =
                    self.validate_method_config(&plugin, checked.course, Some(id), &config)?;
                self.check_config_roles(who, &plugin, &config)?;
                Some((checked.plugin, config))
            }
            None => None,
        };
        self.write(|t| {
            let (mut method, actor) =
                authorized_method(&self.site, t, who, id, Need::ConfigureCourse)?;
            let before = method.clone();
            if let Some(v) = name {
                method.name = v;
            }
            if let Some((plugin, v)) = config {
                // The plugin of a method never changes; the check holds
                // for the method that is written.
                if plugin != method.plugin {
                    return Err(ServiceError::Conflict(format!(
                        "enrolment method #{id} changed while its config was checked; try again"
                    )));
                }
                method.config = v;
                // A person chose again: whatever the warning held the
                // method to (a deleted group), the config now says.
                t.delete_method_warning(id)?;
            }
            if method == before {
                return Ok(method);
            }
            t.put_method(&method)?;
            t.audit_log(
                actor,
                "method.updated",
                format!("enrolment method #{id}"),
                "settings changed",
            )?;
            t.emit(SiteEvent::MethodUpdated {
                course: method.course,
                method: id,
            })?;
            Ok(method)
        })
    }

    pub fn set_method_status(
        &self,
        who: &Principal,
        id: EnrolmentMethodId,
        status: EnrolmentMethodStatus,
    ) -> ServiceResult<EnrolmentMethod> {
        self.write(|t| {
            let (mut method, actor) =
                authorized_method(&self.site, t, who, id, Need::ConfigureCourse)?;
            if method.status == status {
                return Ok(method);
            }
            method.status = status;
            t.put_method(&method)?;
            let (action, event) = match status {
                EnrolmentMethodStatus::Enabled => (
                    "method.enabled",
                    SiteEvent::MethodEnabled {
                        course: method.course,
                        method: id,
                    },
                ),
                EnrolmentMethodStatus::Disabled => (
                    "method.disabled",
                    SiteEvent::MethodDisabled {
                        course: method.course,
                        method: id,
                    },
                ),
            };
            t.audit_log(
                actor,
                action,
                format!("enrolment method #{id}"),
                action.replace("method.", "method "),
            )?;
            t.emit(event)?;
            Ok(method)
        })
    }

    /// Hides a method's warning from its pages and the dashboard. The
    /// host still holds the method to it (a deleted group is not made
    /// again) until a person saves the method's config. `false` when it
    /// had none to hide.
    pub fn dismiss_method_warning(
        &self,
        who: &Principal,
        id: EnrolmentMethodId,
    ) -> ServiceResult<bool> {
        self.write(|t| {
            let (method, actor) = authorized_method(&self.site, t, who, id, Need::ConfigureCourse)?;
            let Some(mut warning) = t.method_warning(id)?.filter(|w| !w.dismissed) else {
                return Ok(false);
            };
            warning.dismissed = true;
            t.put_method_warning(id, &warning)?;
            t.audit_log(
                actor,
                "method.warning_dismissed",
                format!("enrolment method #{id} in course #{}", method.course),
                warning.message(),
            )?;
            Ok(true)
        })
    }

    pub fn delete_method(&self, who: &Principal, id: EnrolmentMethodId) -> ServiceResult<()> {
        self.write(|t| {
            let (method, actor) = authorized_method(&self.site, t, who, id, Need::ConfigureCourse)?;
            delete_method_in(t, actor, &method)?;
            t.audit_log(
                actor,
                "method.deleted",
                format!("enrolment method #{id} in course #{}", method.course),
                format!("{:?} deleted", method.name),
            )?;
            Ok(())
        })
    }

    pub fn list_methods(
        &self,
        who: &Principal,
        course: CourseId,
    ) -> ServiceResult<Vec<EnrolmentMethod>> {
        self.read(|t| {
            authorize(&self.site, t, who, Need::ManageCourse(course))?;
            load_course(t, course)?;
            Ok(t.course_methods_list(course)?)
        })
    }

    pub fn get_method(
        &self,
        who: &Principal,
        id: EnrolmentMethodId,
    ) -> ServiceResult<EnrolmentMethod> {
        self.read(|t| {
            let (method, _) = authorized_method(&self.site, t, who, id, Need::ManageCourse)?;
            Ok(method)
        })
    }
}
