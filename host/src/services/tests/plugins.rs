//! The plugin lifecycle (PRODUCT §3): install, enable and pin, upgrade,
//! disable and uninstall, bundled plugins, and methods whose configs
//! their plugin checks.
//!
//! The `capped` test plugin comes in two versions: 1.0.0 takes `{"cap":
//! n}` with n ≥ 0; 2.0.0 also wants n ≤ 50 and adds `"label": ""`.

use std::path::Path;

use crate::storage::registry::RegistryRead;

use super::{refusal, refused, says};
use crate::domain::*;
use crate::services::enrolments::{MethodUpdate, NewMethod};
use crate::services::error::{ConfigFieldError, MethodFailure};
use crate::services::sites::NewSite;
use crate::services::testing::{Changes, TestSite, audited, test_plugin};
use crate::services::{Principal, ServiceError, Services};

fn capped_v1() -> Vec<u8> {
    test_plugin("charon-test-capped-v1")
}

fn capped_v2() -> Vec<u8> {
    test_plugin("charon-test-capped-v2")
}

/// `bytes` with one more custom section: the same component (same id,
/// version and behaviour) with other contents.
fn rebuilt(mut bytes: Vec<u8>) -> Vec<u8> {
    let name = b"rebuilt";
    let payload = b"another build";
    bytes.push(0); // custom section
    bytes.push((1 + name.len() + payload.len()) as u8);
    bytes.push(name.len() as u8);
    bytes.extend_from_slice(name);
    bytes.extend_from_slice(payload);
    bytes
}

/// The component files of the data dir, sorted.
fn component_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("plugins"))
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// What the registry says of plugins, for before/after comparisons.
fn registry_state(fx: &TestSite) -> Vec<crate::services::plugins::InstalledPlugin> {
    fx.services.list_plugins(&fx.operator).unwrap()
}

impl TestSite {
    fn capped(&self, config: serde_json::Value) -> ServiceResultMethod {
        self.site.add_method(
            &self.admin,
            self.course,
            NewMethod {
                plugin: "capped".into(),
                name: String::new(),
                config,
                enabled: true,
            },
        )
    }

    /// A test site with the hostile test plugin installed and enabled.
    fn with_hostile() -> Self {
        let fx = TestSite::new();
        fx.services
            .install_plugin(&fx.operator, &test_plugin("charon-test-hostile"))
            .unwrap();
        fx.services
            .enable_plugin(&fx.operator, "acme", "hostile", None)
            .unwrap();
        fx
    }

    fn install_capped(&self) {
        for bytes in [capped_v1(), capped_v2()] {
            self.services
                .install_plugin(&self.operator, &bytes)
                .unwrap();
        }
    }
}

type ServiceResultMethod = crate::services::ServiceResult<EnrolmentMethod>;

/// A method of the hostile test plugin named `name` that misbehaves as
/// `behaviour` says.
fn hostile(name: &str, behaviour: &str) -> NewMethod {
    NewMethod {
        plugin: "hostile".into(),
        name: name.into(),
        config: serde_json::json!({ "behaviour": behaviour }),
        enabled: true,
    }
}

fn operator_only() -> (&'static str, String) {
    says(
        "Forbidden",
        "not allowed: only an operator may manage plugins",
    )
}

#[test]
fn installing_the_same_component_twice_is_a_no_op_and_a_version_never_changes() {
    let fx = TestSite::new();
    let first = fx
        .services
        .install_plugin(&fx.operator, &capped_v1())
        .unwrap();
    assert_eq!(
        (
            first.id.as_str(),
            first.version.as_str(),
            first.name.as_str()
        ),
        ("capped", "1.0.0", "Capped")
    );
    assert_eq!(first.contract, "0.4.0");
    assert_eq!(first.size, capped_v1().len() as u64);
    assert!(!first.bundled);
    assert_eq!(first.installed_by, Actor::System);
    assert_eq!(
        first.manifest.config[0],
        PluginConfigField {
            key: "cap".into(),
            label: "Cap".into(),
            help: String::new(),
            kind: PluginFieldKind::Integer {
                min: Some(0),
                max: None
            },
            required: false,
            default: Some("10".into()),
        }
    );
    let stored = fx
        .dir
        .path()
        .join("plugins")
        .join(format!("{}.wasm", first.sha256));
    assert_eq!(std::fs::read(&stored).unwrap(), capped_v1());

    let again = fx
        .services
        .install_plugin(&fx.operator, &capped_v1())
        .unwrap();
    assert_eq!(again, first);

    let before = registry_state(&fx);
    let files = component_files(fx.dir.path());
    let other = rebuilt(capped_v1());
    let e = fx
        .services
        .install_plugin(&fx.operator, &other)
        .unwrap_err();
    assert!(
        matches!(&e, ServiceError::Conflict(m) if m.starts_with(
            r#"plugin "capped" version 1.0.0 is already installed with other contents"#
        )),
        "{e}"
    );
    assert_eq!(registry_state(&fx), before);
    assert_eq!(component_files(fx.dir.path()), files);
}

#[test]
fn hostile_or_broken_components_are_refused_at_install_and_write_nothing() {
    let fx = TestSite::new();
    let before = (
        registry_state(&fx),
        component_files(fx.dir.path()),
        fx.snapshot(),
    );
    let cases: [(Vec<u8>, &str); 5] = [
        (test_plugin("charon-test-forbidden-import"), "wasi:sockets"),
        // A manifest whose boolean field defaults to the text "yes".
        (
            test_plugin("charon-test-broken-manifest"),
            r#"config field "active": its default "yes" must be true or false"#,
        ),
        (
            test_plugin("charon-test-unknown-version"),
            r#"contract version "9.9.9""#,
        ),
        (b"MZ\x90\0 not a component".to_vec(), "not WebAssembly"),
        (b"\0asm\x01\0\0\0".to_vec(), "core WebAssembly module"),
    ];
    for (bytes, says_why) in cases {
        let e = fx
            .services
            .install_plugin(&fx.operator, &bytes)
            .unwrap_err();
        assert!(
            matches!(&e, ServiceError::Invalid { field: "plugin", message } if message.contains(says_why)),
            "{says_why}: {e}"
        );
    }
    assert_eq!(
        (registry_state(&fx), component_files(fx.dir.path())),
        (before.0, before.1)
    );
    fx.assert_unchanged(&before.2);
}

#[test]
fn only_operators_install_enable_and_upgrade_plugins() {
    let fx = TestSite::new();
    fx.services
        .install_plugin(&fx.operator, &capped_v1())
        .unwrap();
    let before = (
        registry_state(&fx),
        component_files(fx.dir.path()),
        fx.snapshot(),
    );
    for who in [
        fx.admin.clone(),
        fx.teacher.clone(),
        fx.as_method(fx.manual),
    ] {
        assert_eq!(
            refusal(&fx.services.install_plugin(&who, &capped_v2()).unwrap_err()),
            operator_only()
        );
        assert_eq!(
            refusal(
                &fx.services
                    .enable_plugin(&who, "acme", "capped", None)
                    .unwrap_err()
            ),
            operator_only()
        );
        assert_eq!(
            refusal(&fx.services.list_plugins(&who).unwrap_err()),
            operator_only()
        );
    }
    assert_eq!(
        (registry_state(&fx), component_files(fx.dir.path())),
        (before.0, before.1)
    );
    fx.assert_unchanged(&before.2);
}

#[test]
fn a_new_site_has_the_bundled_plugins_enabled_and_its_admin_sees_their_forms() {
    let fx = TestSite::new();
    let mut ids: Vec<String> = fx
        .site
        .site_plugins(&fx.admin)
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        [
            "manual",
            "noop",
            "profile-field-rules",
            "segment-group",
            "segment-sync",
            "self"
        ]
    );
    let bundled: Vec<String> = registry_state(&fx)
        .into_iter()
        .filter(|p| p.plugin.bundled)
        .map(|p| p.plugin.id)
        .collect();
    assert_eq!(
        bundled,
        [
            "manual",
            "profile-field-rules",
            "segment-group",
            "segment-sync",
            "self"
        ]
    );
    let manual = fx.site.plugin("manual").unwrap();
    assert_eq!(manual.manifest.id, "manual");
    // The admin's audit log says so.
    let entries = fx
        .site
        .audit_log(&fx.admin, &Default::default(), None, 100)
        .unwrap()
        .items;
    assert!(
        entries.iter().any(|e| e.action == "plugin.enabled"
            && e.target == r#"plugin "manual""#
            && e.actor == Actor::System),
        "{entries:?}"
    );
}

#[test]
fn a_site_admin_sees_only_the_plugins_of_their_own_site() {
    let (a, b) = TestSite::two_sites();
    a.install_capped();
    a.services
        .enable_plugin(&a.operator, "acme", "capped", None)
        .unwrap();
    let ids = |fx: &TestSite| -> Vec<String> {
        let mut ids: Vec<String> = fx
            .site
            .site_plugins(&fx.admin)
            .unwrap()
            .into_iter()
            .map(|m| format!("{} {}", m.id, m.version))
            .collect();
        ids.sort();
        ids
    };
    assert!(ids(&a).contains(&"capped 2.0.0".to_owned()));
    assert!(!ids(&b).iter().any(|i| i.starts_with("capped")));
    assert_eq!(
        refused(b.site.site_plugins(&a.admin)),
        says(
            "Forbidden",
            r#"not allowed: you act for another site and cannot touch site "globex""#
        )
    );
    assert_eq!(
        refused(a.site.site_plugins(&a.teacher)),
        says("Forbidden", "not allowed: this needs the site admin role")
    );
}

#[test]
fn an_instance_needs_its_plugin_enabled_on_the_site() {
    let fx = TestSite::new();
    fx.services
        .install_plugin(&fx.operator, &capped_v1())
        .unwrap();
    let before = fx.snapshot();
    assert_eq!(
        refused(fx.capped(serde_json::json!({}))),
        says(
            "Invalid",
            r#"plugin: no plugin "capped" is enabled on site "acme""#
        )
    );
    assert_eq!(
        refused(fx.site.add_method(
            &fx.admin,
            fx.course,
            NewMethod {
                plugin: "nope".into(),
                name: String::new(),
                config: serde_json::json!({}),
                enabled: true,
            },
        )),
        says(
            "Invalid",
            r#"plugin: no plugin "nope" is enabled on site "acme""#
        )
    );
    fx.assert_unchanged(&before);
    assert_eq!(
        refusal(&fx.site.plugin("capped").unwrap_err()),
        says(
            "Conflict",
            r#"no plugin "capped" is enabled on site "acme""#
        )
    );
}

#[test]
fn the_plugin_checks_and_normalises_an_instance_config() {
    let fx = TestSite::new();
    fx.services
        .install_plugin(&fx.operator, &capped_v1())
        .unwrap();
    fx.services
        .enable_plugin(&fx.operator, "acme", "capped", None)
        .unwrap();
    let before = fx.snapshot();
    // The host checks values against the declared kinds first (cap is an
    // integer of at least 0), naming the field; the plugin never sees them.
    let e = fx.capped(serde_json::json!({"cap": -1})).unwrap_err();
    assert_eq!(
        refusal(&e),
        says(
            "ConfigRejected",
            r#"the config does not fit plugin "capped"'s form: cap: must be at least 0"#
        )
    );
    assert!(
        matches!(&e, ServiceError::ConfigRejected { errors, .. } if errors == &[ConfigFieldError {
            field: "cap".into(),
            message: "must be at least 0".into(),
        }])
    );
    assert!(matches!(
        fx.capped(serde_json::json!({"cap": "ten"})).unwrap_err(),
        ServiceError::ConfigRejected { errors, .. } if errors[0].field == "cap"
            && errors[0].message == "must be a whole number"
    ));
    assert_eq!(
        refused(fx.capped(serde_json::json!({"cap": 1, "colour": "red"}))).1,
        "plugin \"capped\" refuses the config: colour: unknown field `colour`, expected `cap`"
    );
    fx.assert_unchanged(&before);

    let m = fx.capped(serde_json::json!({})).unwrap();
    assert_eq!(m.config, r#"{"cap":10}"#);
    assert_eq!(m.name, "capped");

    // A changed config is checked again; a refused one changes nothing.
    let before = fx.snapshot();
    let update = |config| MethodUpdate {
        config: Some(config),
        ..Default::default()
    };
    assert_eq!(
        refused(
            fx.site
                .update_method(&fx.admin, m.id, update(serde_json::json!({"cap": -5})))
        )
        .0,
        "ConfigRejected"
    );
    fx.assert_unchanged(&before);
    let changed = fx
        .site
        .update_method(&fx.admin, m.id, update(serde_json::json!({"cap": 7})))
        .unwrap();
    assert_eq!(changed.config, r#"{"cap":7}"#);
}

#[test]
fn a_plugin_that_crashes_while_checking_a_config_fails_as_a_crash() {
    let fx = TestSite::with_hostile();
    let before = fx.snapshot();
    let e = fx
        .site
        .add_method(&fx.admin, fx.course, hostile("", "validate-panic"))
        .unwrap_err();
    // A crash is the plugin's failure (502 plugin_crashed), not a refusal
    // of the admin's config.
    assert!(
        matches!(&e, ServiceError::PluginFailed { code: MethodFailure::Crashed, message }
            if message.starts_with(r#"plugin "hostile" failed while checking the config: the plugin crashed"#)),
        "{e:?}"
    );
    fx.assert_unchanged(&before);
}

#[test]
fn a_preview_names_an_unnamed_method_as_adding_it_would() {
    let fx = TestSite::with_hostile();
    let e = fx
        .site
        .preview_method(&fx.admin, fx.course, hostile(" ", "panic"))
        .unwrap_err();
    let message = e.to_string();
    assert!(
        message.contains(r#"enrolment method "hostile""#) && !message.contains(r#"method """#),
        "{message}"
    );
}

#[test]
fn enabling_pins_the_latest_version_or_the_one_asked_for() {
    let fx = TestSite::new();
    fx.install_capped();
    let pinned = fx
        .services
        .enable_plugin(&fx.operator, "acme", "capped", None)
        .unwrap();
    assert_eq!((pinned.enabled, pinned.version.as_str()), (true, "2.0.0"));
    assert_eq!(fx.site.plugin("capped").unwrap().manifest.version, "2.0.0");
    // Enabling again changes nothing.
    let again = fx
        .services
        .enable_plugin(&fx.operator, "acme", "capped", Some("2.0.0"))
        .unwrap();
    assert_eq!(again, pinned);

    let b = fx.another_site("globex");
    let old = fx
        .services
        .enable_plugin(&fx.operator, "globex", "capped", Some("1.0.0"))
        .unwrap();
    assert_eq!(old.version, "1.0.0");
    assert_eq!(b.site.plugin("capped").unwrap().manifest.version, "1.0.0");
    assert_eq!(
        refused(
            fx.services
                .enable_plugin(&fx.operator, "globex", "capped", Some("2.0.0"))
        ),
        says(
            "Conflict",
            r#"plugin "capped" is already enabled on site "globex" at version 1.0.0; upgrade it to 2.0.0 instead"#
        )
    );
    assert_eq!(
        refused(
            fx.services
                .enable_plugin(&fx.operator, "globex", "capped", Some("3.0.0"))
        ),
        says("NotFound", r#"version 3.0.0 of plugin "capped" not found"#)
    );
    assert_eq!(
        refused(
            fx.services
                .enable_plugin(&fx.operator, "globex", "nope", None)
        ),
        says("NotFound", r#"plugin "nope" not found"#)
    );
}

#[test]
fn an_upgrade_keeps_the_instances_with_the_configs_the_new_version_normalised() {
    let fx = TestSite::new();
    fx.install_capped();
    fx.services
        .enable_plugin(&fx.operator, "acme", "capped", Some("1.0.0"))
        .unwrap();
    let small = fx.capped(serde_json::json!({"cap": 20})).unwrap();
    let (other_course, _) = fx.other_course("HIST1");
    let other = fx
        .site
        .add_method(
            &fx.admin,
            other_course,
            NewMethod {
                plugin: "capped".into(),
                name: "Evening".into(),
                config: serde_json::json!({}),
                enabled: false,
            },
        )
        .unwrap();
    let mark = fx.mark();
    let pinned = fx
        .services
        .upgrade_plugin(&fx.operator, "acme", "capped", "2.0.0")
        .unwrap();
    assert_eq!((pinned.enabled, pinned.version.as_str()), (true, "2.0.0"));
    assert_eq!(fx.site.plugin("capped").unwrap().manifest.version, "2.0.0");
    let get = |id| fx.site.get_method(&fx.admin, id).unwrap();
    assert_eq!(
        get(small.id),
        EnrolmentMethod {
            config: r#"{"cap":20,"label":"from 1.0.0"}"#.into(),
            ..small.clone()
        }
    );
    assert_eq!(
        get(other.id),
        EnrolmentMethod {
            config: r#"{"cap":10,"label":"from 1.0.0"}"#.into(),
            ..other.clone()
        }
    );
    let op = Actor::System;
    let normalised = r#"config normalised by plugin "capped""#;
    assert_eq!(
        fx.changes_since(&mark),
        Changes {
            audit: vec![
                audited(op, "method.updated", "enrolment method #2", normalised),
                audited(op, "method.updated", "enrolment method #4", normalised),
                audited(
                    op,
                    "plugin.upgraded",
                    r#"plugin "capped""#,
                    "upgraded from 1.0.0 to 2.0.0"
                ),
            ],
            events: vec![
                SiteEvent::MethodUpdated {
                    course: fx.course,
                    method: small.id
                },
                SiteEvent::MethodUpdated {
                    course: other_course,
                    method: other.id
                },
            ],
        }
    );
}

#[test]
fn an_upgrade_that_one_config_fails_changes_nothing_and_names_the_instance_and_field() {
    let fx = TestSite::new();
    fx.install_capped();
    fx.services
        .enable_plugin(&fx.operator, "acme", "capped", Some("1.0.0"))
        .unwrap();
    fx.capped(serde_json::json!({"cap": 20})).unwrap();
    let big = fx.capped(serde_json::json!({"cap": 100})).unwrap();
    let before = (fx.snapshot(), registry_state(&fx));
    let e = fx
        .services
        .upgrade_plugin(&fx.operator, "acme", "capped", "2.0.0")
        .unwrap_err();
    assert_eq!(
        refusal(&e),
        says(
            "ConfigRejected",
            &format!(
                r#"plugin "capped" 2.0.0 refuses the config of enrolment method #{} "capped" in course #1: cap: must be between 0 and 50"#,
                big.id
            )
        )
    );
    fx.assert_unchanged(&before.0);
    assert_eq!(registry_state(&fx), before.1);
    assert_eq!(fx.site.plugin("capped").unwrap().manifest.version, "1.0.0");

    // Only forward, and only to an installed version.
    fx.services
        .upgrade_plugin(&fx.operator, "acme", "capped", "1.0.0")
        .map(drop)
        .expect_err("same version");
    assert_eq!(
        refused(
            fx.services
                .upgrade_plugin(&fx.operator, "acme", "capped", "1.0.0")
        ),
        says(
            "Invalid",
            r#"version: 1.0.0 is not newer than the version site "acme" runs (1.0.0); only upgrades are supported"#
        )
    );
    assert_eq!(
        refused(
            fx.services
                .upgrade_plugin(&fx.operator, "acme", "capped", "9.0.0")
        )
        .0,
        "NotFound"
    );
    fx.assert_unchanged(&before.0);
}

#[test]
fn disabling_a_plugin_with_instances_needs_force_which_disables_them_and_keeps_their_data() {
    let fx = TestSite::new();
    let sync = fx.add_method("noop");
    fx.site
        .enrol(&fx.admin, sync, fx.learners[4], Role::Learner)
        .unwrap();
    let before = (fx.snapshot(), registry_state(&fx));
    let e = fx
        .services
        .disable_plugin(&fx.operator, "acme", "noop", false)
        .unwrap_err();
    assert_eq!(
        refusal(&e),
        says(
            "Conflict",
            &format!(
                r#"site "acme" has 1 enrolment method(s) of plugin "noop" (#{sync} "noop" in course #1); delete them first, or force it to disable them with the plugin (their settings and enrolments are kept)"#
            )
        )
    );
    fx.assert_unchanged(&before.0);
    assert_eq!(registry_state(&fx), before.1);

    let mark = fx.mark();
    let record = fx
        .services
        .disable_plugin(&fx.operator, "acme", "noop", true)
        .unwrap();
    assert_eq!((record.enabled, record.version.as_str()), (false, "1.0.0"));
    let method = fx.site.get_method(&fx.admin, sync).unwrap();
    assert_eq!(method.status, EnrolmentMethodStatus::Disabled);
    assert_eq!(method.config, "{}");
    assert_eq!(
        fx.site
            .participants(&fx.admin, fx.course, None, 10)
            .unwrap()
            .items
            .len(),
        6,
        "enrolments are kept"
    );
    assert_eq!(
        fx.changes_since(&mark),
        Changes {
            audit: vec![
                audited(
                    Actor::System,
                    "method.disabled",
                    &format!("enrolment method #{sync}"),
                    r#"plugin "noop" disabled on the site"#
                ),
                audited(
                    Actor::System,
                    "plugin.disabled",
                    r#"plugin "noop""#,
                    "disabled (was at version 1.0.0)"
                ),
            ],
            events: vec![SiteEvent::MethodDisabled {
                course: fx.course,
                method: sync
            }],
        }
    );
    assert_eq!(refused(fx.site.plugin("noop")).0, "Conflict");
    assert_eq!(refused(fx.capped_like("noop")).0, "Invalid");

    // Enabled again at its old pin; the method stays off until its admin
    // turns it on.
    let again = fx
        .services
        .enable_plugin(&fx.operator, "acme", "noop", None)
        .unwrap();
    assert_eq!((again.enabled, again.version.as_str()), (true, "1.0.0"));
    assert_eq!(
        fx.site.get_method(&fx.admin, sync).unwrap().status,
        EnrolmentMethodStatus::Disabled
    );
}

impl TestSite {
    fn capped_like(&self, plugin: &str) -> ServiceResultMethod {
        self.site.add_method(
            &self.admin,
            self.course,
            NewMethod {
                plugin: plugin.into(),
                name: String::new(),
                config: serde_json::json!({}),
                enabled: true,
            },
        )
    }
}

#[test]
fn disabling_a_plugin_without_instances_needs_no_force() {
    let fx = TestSite::new();
    let record = fx
        .services
        .disable_plugin(&fx.operator, "acme", "self", false)
        .unwrap();
    assert!(!record.enabled);
    assert!(
        !fx.site
            .site_plugins(&fx.admin)
            .unwrap()
            .iter()
            .any(|m| m.id == "self")
    );
}

#[test]
fn uninstalling_a_pinned_version_needs_force_which_disables_the_plugin_there() {
    let fx = TestSite::new();
    fx.install_capped();
    fx.services
        .enable_plugin(&fx.operator, "acme", "capped", Some("1.0.0"))
        .unwrap();
    let capped = fx.capped(serde_json::json!({"cap": 3})).unwrap();
    let v1 = fx
        .services
        .get_plugin(&fx.operator, "capped")
        .unwrap()
        .remove(0)
        .plugin;
    let before = (
        fx.snapshot(),
        registry_state(&fx),
        component_files(fx.dir.path()),
    );
    assert_eq!(
        refused(
            fx.services
                .uninstall_plugin(&fx.operator, "capped", "1.0.0", false)
        ),
        says(
            "Conflict",
            r#"plugin "capped" 1.0.0 is enabled on site(s) "acme"; upgrade or disable it there first, or force it to disable the plugin and its enrolment methods on those sites"#
        )
    );
    fx.assert_unchanged(&before.0);
    assert_eq!(
        (registry_state(&fx), component_files(fx.dir.path())),
        (before.1, before.2)
    );

    // 2.0.0 is pinned nowhere: it goes without force.
    let v2 = fx
        .services
        .uninstall_plugin(&fx.operator, "capped", "2.0.0", false)
        .unwrap();
    assert!(!component_files(fx.dir.path()).contains(&format!("{}.wasm", v2.sha256)));

    let removed = fx
        .services
        .uninstall_plugin(&fx.operator, "capped", "1.0.0", true)
        .unwrap();
    assert_eq!(removed, v1);
    assert_eq!(
        refused(fx.services.get_plugin(&fx.operator, "capped")),
        says("NotFound", r#"plugin "capped" not found"#)
    );
    assert!(!component_files(fx.dir.path()).contains(&format!("{}.wasm", v1.sha256)));
    let kept = fx.site.get_method(&fx.admin, capped.id).unwrap();
    assert_eq!(
        kept,
        EnrolmentMethod {
            status: EnrolmentMethodStatus::Disabled,
            ..capped
        }
    );
    assert_eq!(refused(fx.site.plugin("capped")).0, "Conflict");

    // Installed again, it is enabled at the version there is, and the
    // method's config is checked by it.
    fx.services
        .install_plugin(&fx.operator, &capped_v2())
        .unwrap();
    let back = fx
        .services
        .enable_plugin(&fx.operator, "acme", "capped", None)
        .unwrap();
    assert_eq!(back.version, "2.0.0");
    assert_eq!(
        fx.site.get_method(&fx.admin, capped.id).unwrap().config,
        r#"{"cap":3,"label":"from 1.0.0"}"#
    );
}

#[test]
fn a_version_bundled_with_this_charon_cannot_be_uninstalled() {
    let fx = TestSite::new();
    let manual = fx.site.plugin("manual").unwrap();
    assert_eq!(
        refused(fx.services.uninstall_plugin(
            &fx.operator,
            "manual",
            &manual.manifest.version,
            true
        )),
        says(
            "Conflict",
            &format!(
                r#"plugin "manual" {} is bundled with this Charon and would be installed again at the next start"#,
                manual.manifest.version
            )
        )
    );
}

#[test]
fn installed_components_are_loaded_from_the_data_dir_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let op = Principal::system();
    let site = {
        let services = Services::open(dir.path()).unwrap();
        services.first_run().unwrap();
        services.install_plugin(&op, &capped_v1()).unwrap();
        services
            .enable_plugin(&op, "default", "capped", None)
            .unwrap();
        services.find_site(&op, "default").unwrap()
    };
    let services = Services::open(dir.path()).unwrap();
    assert!(services.first_run().unwrap().site.is_none());
    let plugin = services.site(site.id).unwrap().plugin("capped").unwrap();
    assert_eq!(
        (
            plugin.manifest.id.as_str(),
            plugin.manifest.version.as_str()
        ),
        ("capped", "1.0.0")
    );
    // Every start checks the bundled plugins again; nothing changes.
    let pins = services.list_plugins(&op).unwrap();
    assert!(services.install_bundled_plugins().unwrap().is_empty());
    assert_eq!(services.list_plugins(&op).unwrap(), pins);
}

#[test]
fn the_first_run_enables_the_bundled_plugins_on_the_default_site() {
    let dir = tempfile::tempdir().unwrap();
    let services = Services::open(dir.path()).unwrap();
    let first = services.first_run().unwrap();
    let site = services.site(first.site.unwrap().id).unwrap();
    let op = Principal::system();
    let mut ids: Vec<String> = site
        .site_plugins(&op)
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        [
            "manual",
            "profile-field-rules",
            "segment-group",
            "segment-sync",
            "self"
        ]
    );
}

#[test]
fn sites_of_the_previous_release_get_the_bundled_plugins_at_the_first_start() {
    // The release before plugins had no plugin records: its sites must
    // keep running their manual enrolments once it is upgraded.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/registry-v1.redb"
        ),
        dir.path().join("registry.redb"),
    )
    .unwrap();
    let services = Services::open(dir.path()).unwrap();
    let first = services.first_run().unwrap();
    assert!(first.operator.is_none() && first.site.is_none());
    let installed: Vec<String> = services
        .install_bundled_plugins()
        .unwrap()
        .into_iter()
        .map(|v| v.id)
        .collect();
    assert!(installed.is_empty(), "installed by first_run already");
    let op = Principal::system();
    for slug in ["default", "acme"] {
        let site = services.site_by_slug(slug).unwrap();
        assert_eq!(site.plugin("manual").unwrap().manifest.id, "manual");
        assert_eq!(site.site_plugins(&op).unwrap().len(), 5, "{slug}");
    }
    // An operator's choice survives the next start: a disabled bundled
    // plugin stays disabled.
    services.disable_plugin(&op, "acme", "self", false).unwrap();
    services.install_bundled_plugins().unwrap();
    assert_eq!(
        services
            .site_by_slug("acme")
            .unwrap()
            .site_plugins(&op)
            .unwrap()
            .len(),
        4
    );
}

#[test]
fn deleting_a_site_forgets_its_plugin_records() {
    let fx = TestSite::new();
    let b = fx.another_site("globex");
    let globex = b.id();
    drop(b);
    fx.services.delete_site(&fx.operator, "globex").unwrap();
    let pinned_by_globex = registry_state(&fx)
        .into_iter()
        .flat_map(|p| p.sites)
        .any(|s| s.site == globex);
    assert!(!pinned_by_globex);
    // A new site of that name starts with the bundled plugins only.
    let site = fx
        .services
        .create_site(
            &fx.operator,
            NewSite {
                slug: "globex".into(),
                name: "Globex".into(),
                ..Default::default()
            },
        )
        .unwrap();
    let ids: Vec<String> = fx
        .services
        .site(site.id)
        .unwrap()
        .site_plugins(&fx.operator)
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(ids.len(), 5, "{ids:?}");
}

#[test]
fn a_new_courses_manual_method_has_the_config_the_manual_plugin_gives_it() {
    use crate::services::courses::MANUAL_DEFAULT_CONFIG;
    let fx = TestSite::new();
    let manual = fx.site.plugin("manual").unwrap();
    let normalised = fx
        .site
        .validate_method_config(&manual, fx.course, None, "{}")
        .unwrap();
    assert_eq!(normalised, MANUAL_DEFAULT_CONFIG);
    assert_eq!(
        fx.site.get_method(&fx.admin, fx.manual).unwrap().config,
        MANUAL_DEFAULT_CONFIG
    );
}

#[test]
fn a_method_form_offers_the_plugins_fields_the_sites_segments_and_the_courses_groups() {
    let fx = TestSite::new();
    let form = fx
        .site
        .new_method_form(&fx.teacher, fx.course, "segment-sync")
        .unwrap();
    assert_eq!(form.manifest.id, "segment-sync");
    assert!(form.manifest.config.iter().any(|f| f.key == "group"));
    assert_eq!(form.segments.len(), 2);
    assert_eq!(form.groups.len(), 2);
    assert_eq!(form.method, None);
    let edit = fx.site.method_form(&fx.teacher, fx.manual).unwrap();
    assert_eq!(edit.manifest.id, "manual");
    assert_eq!(edit.method.map(|m| m.id), Some(fx.manual));
    let (kind, _) = super::refused(fx.site.new_method_form(&fx.teacher, fx.course, "nope"));
    assert_eq!(kind, "Invalid");
    let learner = fx.learner(0);
    let (kind, _) = super::refused(fx.site.new_method_form(&learner, fx.course, "segment-sync"));
    assert_eq!(kind, "Forbidden");
    let (kind, _) = super::refused(fx.site.method_form(&learner, fx.manual));
    assert_eq!(kind, "Forbidden");
}

#[test]
fn the_plugins_overview_is_for_operators() {
    let fx = TestSite::new();
    let o = fx.services.plugins_overview(&fx.operator).unwrap();
    assert_eq!(o.versions, fx.services.list_plugins(&fx.operator).unwrap());
    assert_eq!(o.sites.len(), 1);
    let (kind, _) = super::refused(fx.services.plugins_overview(&fx.admin));
    assert_eq!(kind, "Forbidden");
}

/// Pins the fixture's site to `version` of `plugin`, recorded as installed
/// (`bundled` or by an operator) the way a previous release left it.
fn pin_previous_release(fx: &TestSite, plugin: &str, version: &str, bundled: bool, enabled: bool) {
    let current = fx
        .services
        .registry()
        .read(|t| Ok::<_, ServiceError>(t.plugin_versions_of(plugin)?))
        .unwrap()
        .pop()
        .expect("bundled plugin installed");
    let old = PluginVersion {
        version: version.into(),
        contract: "0.1.0".into(),
        // Never loaded: the upgrade runs only the version it moves to.
        sha256: "0".repeat(64),
        bundled,
        ..current
    };
    let pin = SitePlugin {
        site: fx.id(),
        plugin: plugin.into(),
        enabled,
        version: version.into(),
        changed_at: Timestamp::now(),
    };
    fx.services
        .registry()
        .write(|t| {
            t.put_plugin_version(&old)?;
            t.put_site_plugin(&pin)?;
            Ok::<_, ServiceError>(())
        })
        .unwrap();
}

#[test]
fn a_start_moves_sites_from_an_older_bundled_version_to_the_bundled_one() {
    let fx = TestSite::new();
    let bundled = |id: &str| {
        fx.services
            .registry()
            .read(|t| Ok::<_, ServiceError>(t.plugin_versions_of(id)?))
            .unwrap()
            .into_iter()
            .find(|v| v.bundled && v.version != "0.0.9")
            .unwrap()
            .version
    };
    let (manual_now, self_now) = (bundled("manual"), bundled("self"));
    // The previous release's bundled manual plugin, and an operator's own
    // older build of segment-sync, and a disabled bundled self plugin.
    pin_previous_release(&fx, "manual", "0.0.9", true, true);
    pin_previous_release(&fx, "segment-sync", "0.0.9", false, true);
    pin_previous_release(&fx, "self", "0.0.9", true, false);
    let mark = fx.mark();

    fx.services.install_bundled_plugins().unwrap();

    let pin = |id: &str| {
        fx.services
            .registry()
            .read(|t| Ok::<_, ServiceError>(t.site_plugin(fx.id(), id)?))
            .unwrap()
            .map(|p| (p.enabled, p.version))
    };
    assert_eq!(pin("manual"), Some((true, manual_now.clone())));
    assert_eq!(pin("segment-sync"), Some((true, "0.0.9".into())));
    assert_eq!(pin("self"), Some((false, "0.0.9".into())));
    // The manual method learns of it as of any upgrade.
    assert_eq!(
        fx.changes_since(&mark),
        Changes {
            audit: vec![audited(
                Actor::System,
                "plugin.upgraded",
                r#"plugin "manual""#,
                &format!("bundled with Charon; upgraded from 0.0.9 to {manual_now}"),
            )],
            events: vec![SiteEvent::MethodUpdated {
                course: fx.course,
                method: fx.manual,
            }],
        }
    );
    // The next start finds nothing to move.
    let mark = fx.mark();
    fx.services.install_bundled_plugins().unwrap();
    assert_eq!(fx.changes_since(&mark), Changes::none());
    // The disabled one moves on when it is enabled again.
    fx.services
        .enable_plugin(&fx.operator, "acme", "self", None)
        .unwrap();
    assert_eq!(pin("self"), Some((true, self_now)));
}
