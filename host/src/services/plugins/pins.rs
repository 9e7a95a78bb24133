//! Which plugins a site may use, at which version: enabling, disabling and
//! upgrading a site's pin (operators), with every method's config checked
//! by the version it will run first.

use super::{describe_method, latest, require_operator, version_key};
use crate::domain::*;
use crate::runtime::Plugin;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::ops::methods::disable_method_in;
use crate::services::{Principal, Services, SiteServices};
use crate::storage::registry::RegistryRead;
use crate::storage::site::{SiteTables, prelude::*};

/// A config a plugin normalised, to write back over `before`.
struct Normalised {
    before: EnrolmentMethod,
    config: String,
}

impl Services {
    /// Lets a site use a plugin (operators), pinned to `version` or, by
    /// default, to the version it was pinned to before (if still installed;
    /// a bundled version moves on to the newest bundled one) or the latest
    /// installed. Enabling what is enabled at that version
    /// changes nothing; another version of an enabled plugin is an upgrade.
    /// When the site has methods of the plugin and the version changes
    /// (or the site had no record of it), every method's config is
    /// re-checked with that version first, as [`upgrade_plugin`] does.
    /// Methods that a forced disable turned off stay off: their admins
    /// turn them on.
    ///
    /// [`upgrade_plugin`]: Self::upgrade_plugin
    pub fn enable_plugin(
        &self,
        who: &Principal,
        site_key: &str,
        id: &str,
        version: Option<&str>,
    ) -> ServiceResult<SitePlugin> {
        require_operator(who)?;
        let site = self.find_site(who, site_key)?;
        let (versions, existing) = self.registry().read(|t| {
            Ok::<_, ServiceError>((t.plugin_versions_of(id)?, t.site_plugin(site.id, id)?))
        })?;
        let target = match version {
            Some(v) => versions
                .iter()
                .find(|x| x.version == v)
                .ok_or_else(|| ServiceError::not_found(format!("version {v} of plugin {id:?}")))?,
            None => existing
                .as_ref()
                .and_then(|r| versions.iter().find(|x| x.version == r.version))
                .map(|pinned| {
                    // A bundled pin moves on to what this Charon bundles,
                    // as a start moves the sites that have it enabled.
                    let newest_bundled = versions
                        .iter()
                        .filter(|v| v.bundled)
                        .max_by_key(|v| version_key(&v.version));
                    match newest_bundled {
                        Some(newest) if pinned.bundled => newest,
                        _ => pinned,
                    }
                })
                .or_else(|| latest(&versions))
                .ok_or_else(|| ServiceError::not_found(format!("plugin {id:?}")))?,
        };
        if let Some(r) = &existing
            && r.enabled
        {
            if r.version == target.version {
                return Ok(r.clone());
            }
            return Err(ServiceError::Conflict(format!(
                "plugin {id:?} is already enabled on site {:?} at version {}; upgrade it to {} instead",
                site.slug, r.version, target.version
            )));
        }
        let services = self.site(site.id)?;
        let methods = services.methods_of(id)?;
        let repinned = existing
            .as_ref()
            .is_none_or(|r| r.version != target.version);
        let normalised = if repinned && !methods.is_empty() {
            let plugin = self.inner.plugins.load_installed(target)?;
            let from = existing.as_ref().map(|r| r.version.as_str());
            services.revalidate(&plugin, &methods, from)?
        } else {
            Vec::new()
        };
        let record = SitePlugin {
            site: site.id,
            plugin: id.to_owned(),
            enabled: true,
            version: target.version.clone(),
            changed_at: Timestamp::now(),
        };
        self.put_site_plugin_unchanged(existing.as_ref(), &record)?;
        services.record_plugin_change(
            who.actor(),
            &normalised,
            false,
            "plugin.enabled",
            id,
            format!("enabled at version {}", target.version),
        )?;
        Ok(record)
    }

    /// Stops a site from using a plugin (operators). Refused while the site
    /// has methods of it, unless `force`: then every method is
    /// disabled with it (status `disabled`; configs and enrolments kept),
    /// and its admins can turn them on again once the plugin is enabled.
    /// The pin is remembered for a later enable.
    pub fn disable_plugin(
        &self,
        who: &Principal,
        site_key: &str,
        id: &str,
        force: bool,
    ) -> ServiceResult<SitePlugin> {
        require_operator(who)?;
        let site = self.find_site(who, site_key)?;
        let existing = self
            .registry()
            .read(|t| Ok::<_, ServiceError>(t.site_plugin(site.id, id)?))?
            .ok_or_else(|| not_enabled(id, &site.slug))?;
        if !existing.enabled {
            return Ok(existing);
        }
        let services = self.site(site.id)?;
        let methods = services.methods_of(id)?;
        if !methods.is_empty() && !force {
            return Err(ServiceError::Conflict(format!(
                "site {:?} has {} enrolment method(s) of plugin {id:?} ({}); delete them first, \
                 or force it to disable them with the plugin (their settings and enrolments are kept)",
                site.slug,
                methods.len(),
                methods
                    .iter()
                    .map(describe_method)
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let record = SitePlugin {
            enabled: false,
            changed_at: Timestamp::now(),
            ..existing.clone()
        };
        self.put_site_plugin_unchanged(Some(&existing), &record)?;
        let reason = format!("plugin {id:?} disabled on the site");
        services.write(|t| {
            disable_methods_in(t, who.actor(), id, &reason)?;
            t.audit_log(
                who.actor(),
                "plugin.disabled",
                format!("plugin {id:?}"),
                format!("disabled (was at version {})", existing.version),
            )?;
            Ok(())
        })?;
        Ok(record)
    }

    /// Moves a site's pin of a plugin to a newer installed version
    /// (operators). Every method of the plugin on the site is checked
    /// with the new version first; if one config is refused, nothing
    /// changes and the error names the method and the field. Otherwise
    /// the methods stay, with the configs the new version normalised,
    /// and each learns of the change through `method-updated`.
    pub fn upgrade_plugin(
        &self,
        who: &Principal,
        site_key: &str,
        id: &str,
        version: &str,
    ) -> ServiceResult<SitePlugin> {
        require_operator(who)?;
        let site = self.find_site(who, site_key)?;
        let (target, existing) = self.registry().read(|t| {
            Ok::<_, ServiceError>((t.plugin_version(id, version)?, t.site_plugin(site.id, id)?))
        })?;
        let target = target.ok_or_else(|| {
            ServiceError::not_found(format!("version {version} of plugin {id:?}"))
        })?;
        let existing = match existing {
            Some(r) if r.enabled => r,
            _ => return Err(not_enabled(id, &site.slug)),
        };
        if version_key(&target.version) <= version_key(&existing.version) {
            return Err(ServiceError::invalid(
                "version",
                format!(
                    "{} is not newer than the version site {:?} runs ({}); only upgrades are supported",
                    target.version, site.slug, existing.version
                ),
            ));
        }
        let reason = format!("upgraded from {} to {}", existing.version, target.version);
        self.repin(who.actor(), site.id, &existing, &target, reason)
    }

    /// Moves the enabled pin `existing` of a site to `target`: every
    /// method of the plugin checked with `target` first (the first refusal
    /// changes nothing), then the pin, the normalised configs and a
    /// `method-updated` for each method, audited as `actor` with `reason`.
    pub(super) fn repin(
        &self,
        actor: Actor,
        site: SiteId,
        existing: &SitePlugin,
        target: &PluginVersion,
        reason: String,
    ) -> ServiceResult<SitePlugin> {
        let plugin = self.inner.plugins.load_installed(target)?;
        let services = self.site(site)?;
        let methods = services.methods_of(&existing.plugin)?;
        let normalised = services.revalidate(&plugin, &methods, Some(&existing.version))?;
        let record = SitePlugin {
            version: target.version.clone(),
            changed_at: Timestamp::now(),
            ..existing.clone()
        };
        self.put_site_plugin_unchanged(Some(existing), &record)?;
        services.record_plugin_change(
            actor,
            &normalised,
            true,
            "plugin.upgraded",
            &existing.plugin,
            reason,
        )?;
        Ok(record)
    }

    /// Writes a site's plugin record, refused if it is no longer
    /// `existing` (what the caller decided from): two operators changing
    /// one pin at once must not both win.
    fn put_site_plugin_unchanged(
        &self,
        existing: Option<&SitePlugin>,
        record: &SitePlugin,
    ) -> ServiceResult<()> {
        self.registry().write(|t| {
            if t.site_plugin(record.site, &record.plugin)?.as_ref() != existing {
                return Err(changed_meanwhile(&record.plugin));
            }
            t.put_site_plugin(record)?;
            Ok(())
        })
    }
}

pub(super) fn not_enabled(id: &str, slug: &str) -> ServiceError {
    ServiceError::Conflict(format!(
        "plugin {id:?} is not enabled on site {slug:?}; an operator enables it with \
         `charon --data DIR plugin enable --site {slug} {id}` (DIR: the host's data directory)"
    ))
}

pub(super) fn changed_meanwhile(id: &str) -> ServiceError {
    ServiceError::Conflict(format!(
        "the records of plugin {id:?} changed while this ran; try again"
    ))
}

/// Turns off every enabled method of `plugin` in the site, auditing each.
pub(super) fn disable_methods_in(
    t: &mut SiteTables<'_>,
    actor: Actor,
    plugin: &str,
    reason: &str,
) -> ServiceResult<()> {
    for course in t.all_courses()? {
        for mut m in t.course_methods_list(course.id)? {
            if m.plugin == plugin {
                disable_method_in(t, actor, &mut m, reason)?;
            }
        }
    }
    Ok(())
}

impl SiteServices {
    /// Every method of `plugin` in the site, in course order.
    fn methods_of(&self, plugin: &str) -> ServiceResult<Vec<EnrolmentMethod>> {
        self.read(|t| {
            let mut out = Vec::new();
            for course in t.all_courses()? {
                out.extend(
                    t.course_methods_list(course.id)?
                        .into_iter()
                        .filter(|m| m.plugin == plugin),
                );
            }
            Ok(out)
        })
    }

    /// Checks every method's config with `plugin`, after the plugin
    /// migrated it from version `from` (contract 0.4.0 on); the first
    /// refusal names the method and stops.
    fn revalidate(
        &self,
        plugin: &Plugin,
        methods: &[EnrolmentMethod],
        from: Option<&str>,
    ) -> ServiceResult<Vec<Normalised>> {
        let mut out = Vec::with_capacity(methods.len());
        for m in methods {
            let config = match from {
                Some(from) if from != plugin.manifest.version => {
                    self.migrated_config(plugin, m, from)?
                }
                _ => m.config.clone(),
            };
            match self.validate_method_config(plugin, m.course, Some(m.id), &config) {
                Ok(config) => out.push(Normalised {
                    before: m.clone(),
                    config,
                }),
                Err(ServiceError::ConfigRejected { errors, .. }) => {
                    return Err(ServiceError::ConfigRejected {
                        context: format!(
                            "plugin {:?} {} refuses the config of enrolment method {}",
                            plugin.manifest.id,
                            plugin.manifest.version,
                            describe_method(m)
                        ),
                        errors,
                    });
                }
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// Method `m`'s config as `plugin` migrates it from version `from`.
    fn migrated_config(
        &self,
        plugin: &Plugin,
        m: &EnrolmentMethod,
        from: &str,
    ) -> ServiceResult<String> {
        let queries = self.course_queries(m.course, Some(m.id), &plugin.manifest.id)?;
        let answer = self
            .runtime()?
            .migrate_config(plugin, queries, m.course, from, &m.config);
        match answer {
            Ok(None) => Ok(m.config.clone()),
            Ok(Some(Ok(config))) => Ok(config),
            Ok(Some(Err(errors))) => Err(ServiceError::ConfigRejected {
                context: format!(
                    "plugin {:?} {} cannot migrate the config of enrolment method {} from {from}",
                    plugin.manifest.id,
                    plugin.manifest.version,
                    describe_method(m)
                ),
                errors: errors
                    .into_iter()
                    .map(|e| crate::services::error::ConfigFieldError {
                        field: e.field,
                        message: e.message,
                    })
                    .collect(),
            }),
            Err(crate::runtime::PluginError::Host(e)) => Err(ServiceError::Internal(format!(
                "the plugin runtime failed: {e}"
            ))),
            Err(e) => Err(ServiceError::PluginFailed {
                code: crate::services::error::MethodFailure::from(&e),
                message: format!(
                    "plugin {:?} failed while migrating the config of enrolment method {}: {e}",
                    plugin.manifest.id,
                    describe_method(m)
                ),
            }),
        }
    }

    /// Writes the configs a plugin normalised (refusing if a method
    /// changed since it was checked) and audits the plugin action, in one
    /// transaction. `notify_all` emits `MethodUpdated` for every checked
    /// method, not only those whose config changed.
    fn record_plugin_change(
        &self,
        actor: Actor,
        normalised: &[Normalised],
        notify_all: bool,
        action: &str,
        plugin: &str,
        reason: String,
    ) -> ServiceResult<()> {
        self.write(|t| {
            for n in normalised {
                let Some(mut m) = t.method(n.before.id)? else {
                    continue;
                };
                if m != n.before {
                    return Err(ServiceError::Conflict(format!(
                        "enrolment method {} changed while its config was checked; try again",
                        describe_method(&m)
                    )));
                }
                let changed = m.config != n.config;
                if changed {
                    m.config = n.config.clone();
                    t.put_method(&m)?;
                    t.audit_log(
                        actor,
                        "method.updated",
                        format!("enrolment method #{}", m.id),
                        format!("config normalised by plugin {plugin:?}"),
                    )?;
                }
                if changed || notify_all {
                    t.emit(SiteEvent::MethodUpdated {
                        course: m.course,
                        method: m.id,
                    })?;
                }
            }
            t.audit_log(actor, action, format!("plugin {plugin:?}"), reason)?;
            Ok(())
        })
    }
}
