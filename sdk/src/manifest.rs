//! Builders for the manifest and its config form.

use crate::{Capability, Choice, ConfigField, EventKind, FieldKind, Manifest, RequestKind};

impl Manifest {
    /// A manifest with no config, no events, no requests and no
    /// capabilities.
    ///
    /// ```
    /// let m = charon_sdk::Manifest::new("self", "Self enrolment", "1.0.0");
    /// assert!(m.config.is_empty());
    /// ```
    pub fn new(id: &str, name: &str, version: &str) -> Self {
        Manifest {
            id: id.into(),
            kind: crate::PluginKind::EnrolmentMethod,
            name: name.into(),
            version: version.into(),
            description: String::new(),
            config: Vec::new(),
            events: Vec::new(),
            requests: Vec::new(),
            capabilities: Vec::new(),
            settings: Vec::new(),
        }
    }

    /// Sets the description shown when an admin picks a method.
    ///
    /// ```
    /// let m = charon_sdk::Manifest::new("x", "X", "1.0.0").describe("Does X");
    /// assert_eq!(m.description, "Does X");
    /// ```
    pub fn describe(mut self, text: &str) -> Self {
        self.description = text.into();
        self
    }

    /// Adds a field to the config form.
    ///
    /// ```
    /// use charon_sdk::{ConfigField, FieldKind, Manifest};
    /// let m = Manifest::new("x", "X", "1.0.0").field(ConfigField::new("key", "Enrolment key", FieldKind::Secret));
    /// assert_eq!(m.config[0].key, "key");
    /// ```
    pub fn field(mut self, field: ConfigField) -> Self {
        self.config.push(field);
        self
    }

    /// Adds a site-wide setting: a site admin sets it once for every
    /// enrolment method of the plugin in the site; calls read it from
    /// [`Context::settings`](crate::Context::settings).
    ///
    /// ```
    /// use charon_sdk::{Choice, ConfigField, FieldKind, Manifest};
    /// let m = Manifest::new("x", "X", "1.0.0").setting(
    ///     ConfigField::new("removal", "When a member leaves", FieldKind::Choice(vec![
    ///         Choice::new("unenrol", "Unenrol"), Choice::new("suspend", "Suspend"),
    ///     ])).default_json(r#""unenrol""#),
    /// );
    /// assert_eq!(m.settings[0].key, "removal");
    /// ```
    pub fn setting(mut self, field: ConfigField) -> Self {
        self.settings.push(field);
        self
    }

    /// Asks for these events.
    ///
    /// ```
    /// use charon_sdk::{EventKind, Manifest};
    /// let m = Manifest::new("x", "X", "1.0.0").handles(&[EventKind::SegmentMemberAdded]);
    /// assert_eq!(m.events, vec![EventKind::SegmentMemberAdded]);
    /// ```
    pub fn handles(mut self, events: &[EventKind]) -> Self {
        self.events.extend_from_slice(events);
        self
    }

    /// Says which people's requests the plugin answers
    /// ([`Plugin::handle_request`](crate::Plugin::handle_request)). The
    /// host looks for a method that answers a kind among these, e.g. the
    /// one a course's "enrol me" goes to.
    ///
    /// ```
    /// use charon_sdk::{Manifest, RequestKind};
    /// let m = Manifest::new("x", "X", "1.0.0").answers(&[RequestKind::SelfEnrol, RequestKind::SelfUnenrol]);
    /// assert_eq!(m.requests, vec![RequestKind::SelfEnrol, RequestKind::SelfUnenrol]);
    /// ```
    pub fn answers(mut self, requests: &[RequestKind]) -> Self {
        self.requests.extend_from_slice(requests);
        self
    }

    /// Declares the host queries the plugin uses.
    ///
    /// ```
    /// use charon_sdk::{Capability, Manifest};
    /// let m = Manifest::new("x", "X", "1.0.0").needs(&[Capability::ReadUsers]);
    /// assert_eq!(m.capabilities, vec![Capability::ReadUsers]);
    /// ```
    pub fn needs(mut self, capabilities: &[Capability]) -> Self {
        self.capabilities.extend_from_slice(capabilities);
        self
    }
}

impl ConfigField {
    /// An optional field without help text or default.
    ///
    /// ```
    /// use charon_sdk::{ConfigField, FieldKind};
    /// let f = ConfigField::new("max", "Maximum enrolled", FieldKind::Integer((Some(0), None)));
    /// assert!(!f.required);
    /// ```
    pub fn new(key: &str, label: &str, kind: FieldKind) -> Self {
        ConfigField {
            key: key.into(),
            label: label.into(),
            help: String::new(),
            kind,
            required: false,
            default: None,
        }
    }

    /// Marks the field required.
    ///
    /// ```
    /// use charon_sdk::{ConfigField, FieldKind};
    /// assert!(ConfigField::new("segment", "Segment", FieldKind::Segment).required().required);
    /// ```
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// Sets the help text shown under the field.
    ///
    /// ```
    /// use charon_sdk::{ConfigField, FieldKind};
    /// let f = ConfigField::new("key", "Key", FieldKind::Secret).help("Leave blank for none");
    /// assert_eq!(f.help, "Leave blank for none");
    /// ```
    pub fn help(mut self, text: &str) -> Self {
        self.help = text.into();
        self
    }

    /// Sets the default, as JSON.
    ///
    /// ```
    /// use charon_sdk::{ConfigField, FieldKind};
    /// let f = ConfigField::new("role", "Role", FieldKind::Role).default_json("\"learner\"");
    /// assert_eq!(f.default.as_deref(), Some("\"learner\""));
    /// ```
    pub fn default_json(mut self, json: &str) -> Self {
        self.default = Some(json.into());
        self
    }
}

impl Choice {
    /// A choice of a [`FieldKind::Choice`] field.
    ///
    /// ```
    /// let c = charon_sdk::Choice::new("unenrol", "Unenrol");
    /// assert_eq!(c.value, "unenrol");
    /// ```
    pub fn new(value: &str, label: &str) -> Self {
        Choice {
            value: value.into(),
            label: label.into(),
        }
    }
}
