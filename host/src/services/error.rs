//! The error type of every service call.

use crate::domain::{CourseId, UserId};
use crate::runtime::PluginError;
use crate::storage::StorageError;

/// Why a service call was refused or failed. Every variant but `Storage`
/// is the caller's to fix and carries a message fit to show them; the HTTP
/// layer maps each variant to one status code in one place.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The principal may not do this (wrong site, wrong role, suspended).
    #[error("not allowed: {0}")]
    Forbidden(String),
    /// Something named by id or key does not exist in this site.
    #[error("{0} not found")]
    NotFound(String),
    /// A field's value is unacceptable; `field` names the input field.
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// A value that must be unique is taken.
    #[error("{field}: {message}")]
    Duplicate {
        field: &'static str,
        message: String,
    },
    /// A group member must be enrolled in the group's course.
    #[error(
        "user #{user} is not enrolled in course #{course}; enrol them before adding them to a group"
    )]
    NotEnrolled { user: UserId, course: CourseId },
    /// The change conflicts with the current state (e.g. a membership
    /// owned by an enrolment method, a segment managed by a plugin).
    #[error("{0}")]
    Conflict(String),
    /// A plugin refused an enrolment method's config. `context` says which
    /// config (e.g. the method an upgrade re-checked); each error names
    /// the plugin's config key (empty: the config as a whole).
    #[error("{context}: {}", describe_field_errors(errors))]
    ConfigRejected {
        context: String,
        errors: Vec<ConfigFieldError>,
    },
    /// An enrolment-method plugin declined a request (e.g. a wrong
    /// enrolment key); `code` and `field` are the plugin's.
    #[error("{message}")]
    Refused {
        code: String,
        message: String,
        field: Option<String>,
    },
    /// An enrolment-method plugin failed (stopped for time or memory,
    /// crashed, returned a plan too large) or returned a plan the host
    /// rejected. Recorded as the method's last error; `code` says how.
    #[error("{message}")]
    PluginFailed {
        code: MethodFailure,
        message: String,
    },
    /// Grades entered in bulk were refused, each cell with its reason;
    /// nothing was written.
    #[error("{} grade(s) refused: {}", .0.len(), .0.first().map_or("", |e| e.message.as_str()))]
    GradesRejected(Vec<GradeCellError>),
    /// The host failed in a way the caller cannot fix (e.g. the plugin
    /// runtime could not start); the detail is logged and shown.
    #[error("internal error: {0}")]
    Internal(String),
    /// The store failed; the detail is logged, not shown.
    #[error("internal error")]
    Storage(#[from] StorageError),
}

/// Why one grade of a bulk save was refused (the gradebook's; here so
/// the error type depends on no service).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GradeCellError {
    pub user: UserId,
    pub item: crate::domain::GradeItemId,
    pub message: String,
}

/// One complaint of a plugin about a config: the config key it concerns
/// (empty for the whole config) and why.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ConfigFieldError {
    pub field: String,
    pub message: String,
}

fn describe_field_errors(errors: &[ConfigFieldError]) -> String {
    let parts: Vec<String> = errors
        .iter()
        .map(|e| match e.field.as_str() {
            "" => e.message.clone(),
            field => format!("{field}: {}", e.message),
        })
        .collect();
    match parts.as_slice() {
        [] => "the plugin refuses the config".to_owned(),
        _ => parts.join("; "),
    }
}

impl ServiceError {
    pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        ServiceError::Invalid {
            field,
            message: message.into(),
        }
    }

    pub(crate) fn duplicate(field: &'static str, message: impl Into<String>) -> Self {
        ServiceError::Duplicate {
            field,
            message: message.into(),
        }
    }

    pub(crate) fn not_found(what: impl std::fmt::Display) -> Self {
        ServiceError::NotFound(what.to_string())
    }

    /// The input field this error is about, if any (for forms and JSON).
    pub fn field(&self) -> Option<&'static str> {
        match self {
            ServiceError::Invalid { field, .. } | ServiceError::Duplicate { field, .. } => {
                Some(field)
            }
            ServiceError::ConfigRejected { .. } => Some("config"),
            _ => None,
        }
    }
}

pub type ServiceResult<T> = Result<T, ServiceError>;

/// How a call of an enrolment method failed: the stable code the
/// API answers with (`ServiceError::PluginFailed`) and the method's last
/// error keeps (`MethodError::code`, stored as [`as_str`](Self::as_str)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MethodFailure {
    /// The component is not a usable plugin.
    InvalidPlugin,
    /// Stopped at its deadline.
    Timeout,
    /// Stopped at its memory limit.
    OutOfMemory,
    /// Stopped on a stack overflow.
    StackOverflow,
    /// Trapped or panicked.
    Crashed,
    /// Returned more than a plan may hold.
    PlanTooLarge,
    /// The sandbox itself failed.
    Runtime,
    /// Returned a plan the host rejected (an action out of the method's
    /// scope).
    PlanRejected,
    /// A reconcile whose cursor repeated or never ended.
    ReconcileEndless,
    /// An event caused by too long a chain of plans, not delivered.
    CascadeLimit,
    /// The plugin declined an event or a reconcile; the code is its own.
    Refused(String),
}

impl MethodFailure {
    /// The stable code, as stored and as the API shows it.
    pub fn as_str(&self) -> &str {
        match self {
            MethodFailure::InvalidPlugin => "invalid_plugin",
            MethodFailure::Timeout => "plugin_timeout",
            MethodFailure::OutOfMemory => "plugin_out_of_memory",
            MethodFailure::StackOverflow => "plugin_stack_overflow",
            MethodFailure::Crashed => "plugin_crashed",
            MethodFailure::PlanTooLarge => "plan_too_large",
            MethodFailure::Runtime => "runtime_error",
            MethodFailure::PlanRejected => "plan_rejected",
            MethodFailure::ReconcileEndless => "reconcile_endless",
            MethodFailure::CascadeLimit => "cascade_limit",
            MethodFailure::Refused(code) => code,
        }
    }
}

impl From<&PluginError> for MethodFailure {
    fn from(e: &PluginError) -> Self {
        match e {
            PluginError::Invalid(_) => MethodFailure::InvalidPlugin,
            PluginError::Timeout(_) => MethodFailure::Timeout,
            PluginError::OutOfMemory(_) => MethodFailure::OutOfMemory,
            PluginError::StackOverflow => MethodFailure::StackOverflow,
            PluginError::Crashed(_) => MethodFailure::Crashed,
            PluginError::PlanTooLarge { .. } => MethodFailure::PlanTooLarge,
            PluginError::Host(_) => MethodFailure::Runtime,
        }
    }
}

impl std::fmt::Display for MethodFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for MethodFailure {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The runtime names its failures too (`PluginError::code`, what the
    /// plugin harness shows); the method's last error must say the same.
    #[test]
    fn a_runtime_failure_keeps_the_runtimes_code() {
        let failures = [
            PluginError::Invalid(String::new()),
            PluginError::Timeout(std::time::Duration::from_secs(1)),
            PluginError::OutOfMemory(1 << 20),
            PluginError::StackOverflow,
            PluginError::Crashed(String::new()),
            PluginError::PlanTooLarge {
                actions: 2,
                bytes: 2,
                max_actions: 1,
                max_bytes: 1,
            },
            PluginError::Host(String::new()),
        ];
        for e in &failures {
            assert_eq!(MethodFailure::from(e).as_str(), e.code(), "{e:?}");
        }
    }
}
