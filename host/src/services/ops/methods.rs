//! Enrolment methods inside a transaction: looking one up,
//! deleting one with everything it holds, and disabling one, shared by
//! `enrolments`, `courses`, `plugins` and plans (a method may disable or
//! delete itself).
//!
//! Never authorises (callers do, with their principal) and never opens a
//! transaction: every write takes the caller's `SiteTables`.

use super::enrolments::unenrol_in;
use super::groups::remove_group_member_in;
use crate::domain::*;
use crate::services::error::{ServiceError, ServiceResult};
use crate::storage::site::{SiteTables, prelude::*};

pub(crate) fn load_method(
    t: &impl SiteRead,
    id: EnrolmentMethodId,
) -> ServiceResult<EnrolmentMethod> {
    t.method(id)?
        .ok_or_else(|| ServiceError::not_found(format!("enrolment method #{id}")))
}

/// A method's warning as its pages show it: none once dismissed.
pub(crate) fn shown_warning(
    t: &impl SiteRead,
    id: EnrolmentMethodId,
) -> ServiceResult<Option<MethodWarning>> {
    Ok(t.method_warning(id)?.filter(|w| !w.dismissed))
}

/// Deletes a method with its enrolments (used by course deletion too).
/// `actor` is who deleted it: the audit log records them, not the method,
/// on every enrolment and membership that goes with it.
pub(crate) fn delete_method_in(
    t: &mut SiteTables<'_>,
    actor: Actor,
    method: &EnrolmentMethod,
) -> ServiceResult<()> {
    let reason = format!("enrolment method {:?} deleted", method.name);
    loop {
        let batch = t.method_enrolment_user_ids(method.course, method.id, None, 4096)?;
        if batch.is_empty() {
            break;
        }
        for user in batch {
            unenrol_in(t, actor, method.course, user, method.id, &reason)?;
        }
    }
    // A method may own memberships of users it did not enrol ("segment
    // members to group" enrols nobody); they go with it too, or they would
    // be left owned by a method that no longer exists and that alone may
    // remove them.
    let owner = MembershipOwner::Method(method.id);
    for group in t.course_group_list(method.course)? {
        let mut after = None;
        loop {
            let page = t.group_members_page(group.id, after, 4096)?;
            let Some(last) = page.last() else {
                break;
            };
            after = Some(last.user);
            for m in page.iter().filter(|m| m.owner == owner) {
                remove_group_member_in(t, actor, method.course, group.id, m.user, &reason)?;
            }
        }
    }
    t.delete_method_row(method)?;
    t.emit(SiteEvent::MethodDeleted {
        course: method.course,
        method: method.id,
    })?;
    Ok(())
}

/// Disables `m` (audited, evented) unless it already is; whether it
/// changed. Its enrolments stay.
pub(crate) fn disable_method_in(
    t: &mut SiteTables<'_>,
    actor: Actor,
    m: &mut EnrolmentMethod,
    reason: &str,
) -> ServiceResult<bool> {
    if m.status == EnrolmentMethodStatus::Disabled {
        return Ok(false);
    }
    m.status = EnrolmentMethodStatus::Disabled;
    t.put_method(m)?;
    t.audit_log(
        actor,
        "method.disabled",
        format!("enrolment method #{}", m.id),
        reason.to_owned(),
    )?;
    t.emit(SiteEvent::MethodDisabled {
        course: m.course,
        method: m.id,
    })?;
    Ok(true)
}

/// What a method of the deleted group's course held of it.
struct GroupUse {
    /// Its config with every reference to the group cleared, when it had
    /// one.
    cleared: Option<String>,
    /// The key it had created the group under, if it created it.
    key: Option<String>,
}

/// Clears `group` from a config: a `group-choice` field that offers "no
/// group" becomes `"none"`, any other group field loses its value. A field
/// refers to the group by its id, or by `"new"` when the method created
/// it. `None` when the config does not refer to it.
fn config_without_group(
    config: &str,
    fields: &[PluginConfigField],
    group: CourseGroupId,
    created_by_it: bool,
) -> Option<String> {
    let mut value: serde_json::Value = serde_json::from_str(config).ok()?;
    let object = value.as_object_mut()?;
    let mut changed = false;
    for field in fields {
        let offers_none = match field.kind {
            PluginFieldKind::Group => false,
            PluginFieldKind::GroupChoice { none, .. } => none,
            _ => continue,
        };
        let names_it = match object.get(&field.key) {
            Some(serde_json::Value::Number(n)) => n.as_u64() == Some(group.0),
            Some(serde_json::Value::String(s)) => {
                s.trim() == group.0.to_string() || (created_by_it && s.trim() == "new")
            }
            _ => false,
        };
        if !names_it {
            continue;
        }
        changed = true;
        if offers_none {
            object.insert(field.key.clone(), serde_json::Value::from("none"));
        } else {
            object.remove(&field.key);
        }
    }
    changed.then(|| value.to_string())
}

/// In the transaction that deletes `group` (before its row goes): every
/// method of its course whose config names it, or that created it, stops
/// grouping into it and gets a warning its staff see until they act.
/// A config that named it is saved without it (audited as `actor`,
/// evented as an update, so its plugin reads the new config); the
/// warning holds the method to that even if its plugin asks again (see
/// `plans`), until a person saves the method's config. `fields` gives the
/// config form of a plugin (the version the site pins), `None` when the
/// site has none: then only a group the method created counts.
/// Returns the methods warned.
pub(crate) fn orphan_methods_of_group_in(
    t: &mut SiteTables<'_>,
    actor: Actor,
    group: &CourseGroup,
    fields: impl Fn(&str) -> Option<Vec<PluginConfigField>>,
) -> ServiceResult<Vec<EnrolmentMethodId>> {
    let creators = t.methods_that_created(group.id)?;
    let mut warned = Vec::new();
    for mut method in t.course_methods_list(group.course)? {
        let key = creators
            .iter()
            .find(|(m, _)| *m == method.id)
            .map(|(_, key)| key.clone());
        let fields = fields(&method.plugin).unwrap_or_default();
        let using = GroupUse {
            cleared: config_without_group(&method.config, &fields, group.id, key.is_some()),
            key,
        };
        // A method that created the group but has since been given another
        // keeps grouping into that one: nothing to warn of.
        let makes_groups = fields
            .iter()
            .any(|f| matches!(f.kind, PluginFieldKind::GroupChoice { new: true, .. }));
        if using.cleared.is_none() && (using.key.is_none() || makes_groups) {
            continue;
        }
        let reason = format!(
            "its group {:?} was deleted: it groups no one until a group is chosen again",
            group.name
        );
        if let Some(config) = using.cleared {
            method.config = config;
            t.put_method(&method)?;
            t.audit_log(
                actor,
                "method.updated",
                format!("enrolment method #{}", method.id),
                reason.as_str(),
            )?;
            t.emit(SiteEvent::MethodUpdated {
                course: method.course,
                method: method.id,
            })?;
        }
        t.put_method_warning(
            method.id,
            &MethodWarning {
                kind: MethodWarningKind::GroupDeleted {
                    group: group.id,
                    name: group.name.clone(),
                    key: using.key,
                },
                at: t.now,
                dismissed: false,
            },
        )?;
        warned.push(method.id);
    }
    Ok(warned)
}
