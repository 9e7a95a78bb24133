//! Builders for plans, refusals and field errors.

use crate::{
    Action, CreateGroupAction, EnrolAction, FieldError, GroupAction, GroupId, GroupRef, Operation,
    Plan, Refusal, Role, UserId,
};

impl Default for Plan {
    fn default() -> Self {
        Plan {
            actions: Vec::new(),
        }
    }
}

impl Plan {
    /// An empty plan: change nothing.
    ///
    /// ```
    /// assert!(charon_sdk::Plan::new().is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the plan changes nothing.
    ///
    /// ```
    /// let mut plan = charon_sdk::Plan::new();
    /// plan.suspend(4, "left HR");
    /// assert!(!plan.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    /// Appends an operation with its reason.
    ///
    /// ```
    /// use charon_sdk::{Operation, Plan};
    /// let mut plan = Plan::new();
    /// plan.push(Operation::Unenrol(3), "left the segment");
    /// assert_eq!(plan.actions[0].reason, "left the segment");
    /// ```
    pub fn push(&mut self, op: Operation, reason: impl Into<String>) -> &mut Self {
        self.actions.push(Action {
            op,
            reason: reason.into(),
        });
        self
    }

    /// Enrols `user` through the instance, or re-activates their enrolment
    /// with this role.
    ///
    /// ```
    /// use charon_sdk::{Plan, Role};
    /// let mut plan = Plan::new();
    /// plan.enrol(7, Role::Learner, "joined HR");
    /// assert_eq!(plan.actions.len(), 1);
    /// ```
    pub fn enrol(&mut self, user: UserId, role: Role, reason: impl Into<String>) -> &mut Self {
        self.push(Operation::Enrol(EnrolAction { user, role }), reason)
    }

    /// Suspends the instance's enrolment of `user`, keeping its role.
    ///
    /// ```
    /// let mut plan = charon_sdk::Plan::new();
    /// plan.suspend(7, "left HR");
    /// ```
    pub fn suspend(&mut self, user: UserId, reason: impl Into<String>) -> &mut Self {
        self.push(Operation::Suspend(user), reason)
    }

    /// Removes the instance's enrolment of `user` (and the memberships the
    /// instance owns).
    ///
    /// ```
    /// let mut plan = charon_sdk::Plan::new();
    /// plan.unenrol(7, "left HR");
    /// ```
    pub fn unenrol(&mut self, user: UserId, reason: impl Into<String>) -> &mut Self {
        self.push(Operation::Unenrol(user), reason)
    }

    /// Sets (or, with `None`, removes) the role of the instance's enrolment.
    ///
    /// ```
    /// use charon_sdk::{Plan, Role};
    /// let mut plan = Plan::new();
    /// plan.set_role(7, Some(Role::Teacher), "promoted");
    /// ```
    pub fn set_role(
        &mut self,
        user: UserId,
        role: Option<Role>,
        reason: impl Into<String>,
    ) -> &mut Self {
        self.push(Operation::SetRole(crate::RoleAction { user, role }), reason)
    }

    /// Adds `user` to a group; the instance owns the membership.
    ///
    /// ```
    /// use charon_sdk::{GroupRef, Plan};
    /// let mut plan = Plan::new();
    /// plan.add_to_group(7, GroupRef::Existing(2), "member of HR");
    /// ```
    pub fn add_to_group(
        &mut self,
        user: UserId,
        group: GroupRef,
        reason: impl Into<String>,
    ) -> &mut Self {
        self.push(Operation::AddToGroup(GroupAction { user, group }), reason)
    }

    /// Removes a membership the instance owns.
    ///
    /// ```
    /// let mut plan = charon_sdk::Plan::new();
    /// plan.remove_from_group(7, 2, "left HR");
    /// ```
    pub fn remove_from_group(
        &mut self,
        user: UserId,
        group: GroupId,
        reason: impl Into<String>,
    ) -> &mut Self {
        self.push(
            Operation::RemoveFromGroup(GroupAction {
                user,
                group: GroupRef::Existing(group),
            }),
            reason,
        )
    }

    /// Creates a group in the course; later actions name it
    /// `GroupRef::Created(key)`.
    ///
    /// ```
    /// use charon_sdk::{GroupRef, Plan};
    /// let mut plan = Plan::new();
    /// plan.create_group("hr", "HR segment", "group for segment HR");
    /// plan.add_to_group(7, GroupRef::Created("hr".into()), "member of HR");
    /// ```
    pub fn create_group(&mut self, key: &str, name: &str, reason: impl Into<String>) -> &mut Self {
        self.push(
            Operation::CreateGroup(CreateGroupAction {
                key: key.into(),
                name: name.into(),
                idnumber: None,
            }),
            reason,
        )
    }

    /// Appends every action of another plan.
    ///
    /// ```
    /// let mut a = charon_sdk::Plan::new();
    /// let mut b = charon_sdk::Plan::new();
    /// b.unenrol(1, "gone");
    /// a.extend(b);
    /// assert_eq!(a.actions.len(), 1);
    /// ```
    pub fn extend(&mut self, other: Plan) -> &mut Self {
        self.actions.extend(other.actions);
        self
    }
}

impl Plan {
    /// The plan as one line per action, `"<what>: <reason>"`, for tests
    /// that compare plans at a glance (see [`Action`]'s `Display`).
    ///
    /// ```
    /// use charon_sdk::{GroupRef, Plan, Role};
    /// let mut plan = Plan::new();
    /// plan.enrol(7, Role::Learner, "joined HR");
    /// plan.add_to_group(7, GroupRef::Existing(2), "member of HR");
    /// assert_eq!(plan.lines(), ["enrol #7 as learner: joined HR", "add #7 to group #2: member of HR"]);
    /// ```
    pub fn lines(&self) -> Vec<String> {
        self.actions.iter().map(ToString::to_string).collect()
    }
}

impl std::fmt::Display for GroupRef {
    /// `group #2`, or `new group "hr"` for one the plan creates.
    ///
    /// ```
    /// use charon_sdk::GroupRef;
    /// assert_eq!(GroupRef::Existing(2).to_string(), "group #2");
    /// assert_eq!(GroupRef::Created("hr".into()).to_string(), "new group \"hr\"");
    /// ```
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GroupRef::Existing(id) => write!(f, "group #{id}"),
            GroupRef::Created(key) => write!(f, "new group {key:?}"),
        }
    }
}

impl std::fmt::Display for Action {
    /// One line: what the action does, then its reason.
    ///
    /// ```
    /// use charon_sdk::Plan;
    /// let mut plan = Plan::new();
    /// plan.set_role(7, None, "suspended and role removed");
    /// plan.create_group("hr", "HR", "group for segment HR");
    /// assert_eq!(plan.actions[0].to_string(), "remove the role of #7: suspended and role removed");
    /// assert_eq!(plan.actions[1].to_string(), "create group \"hr\" named \"HR\": group for segment HR");
    /// ```
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.op {
            Operation::Enrol(a) => write!(f, "enrol #{} as {}", a.user, a.role.as_str())?,
            Operation::Suspend(user) => write!(f, "suspend #{user}")?,
            Operation::Unenrol(user) => write!(f, "unenrol #{user}")?,
            Operation::SetRole(a) => match a.role {
                Some(role) => write!(f, "set the role of #{} to {}", a.user, role.as_str())?,
                None => write!(f, "remove the role of #{}", a.user)?,
            },
            Operation::AddToGroup(a) => write!(f, "add #{} to {}", a.user, a.group)?,
            Operation::RemoveFromGroup(a) => write!(f, "remove #{} from {}", a.user, a.group)?,
            Operation::CreateGroup(a) => write!(f, "create group {:?} named {:?}", a.key, a.name)?,
        }
        write!(f, ": {}", self.reason)
    }
}

impl Refusal {
    /// A refusal with a stable code and a message for the person who asked.
    ///
    /// ```
    /// let r = charon_sdk::Refusal::new("course-full", "the course is full");
    /// assert_eq!(r.field, None);
    /// ```
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Refusal {
            code: code.into(),
            message: message.into(),
            field: None,
        }
    }

    /// The same refusal, pointing at a form field.
    ///
    /// ```
    /// let r = charon_sdk::Refusal::new("wrong-key", "the key is wrong").on_field("key");
    /// assert_eq!(r.field.as_deref(), Some("key"));
    /// ```
    pub fn on_field(mut self, field: &str) -> Self {
        self.field = Some(field.into());
        self
    }
}

impl FieldError {
    /// An error on one config field.
    ///
    /// ```
    /// let e = charon_sdk::FieldError::new("segment", "no such segment");
    /// assert_eq!(e.field, "segment");
    /// ```
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl Role {
    /// The role's name for people (`Learner`, `Non-editing teacher`,
    /// `Teacher`), as the host's pages show it: for reasons and messages.
    ///
    /// ```
    /// assert_eq!(charon_sdk::Role::NonEditingTeacher.label(), "Non-editing teacher");
    /// ```
    pub fn label(self) -> &'static str {
        match self {
            Role::Learner => "Learner",
            Role::NonEditingTeacher => "Non-editing teacher",
            Role::Teacher => "Teacher",
        }
    }

    /// The role's JSON name (`learner`, `non-editing-teacher`, `teacher`).
    ///
    /// ```
    /// assert_eq!(charon_sdk::Role::NonEditingTeacher.as_str(), "non-editing-teacher");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Learner => "learner",
            Role::NonEditingTeacher => "non-editing-teacher",
            Role::Teacher => "teacher",
        }
    }
}

impl serde::Serialize for Role {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Role {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        match text.as_str() {
            "learner" | "student" => Ok(Role::Learner),
            "non-editing-teacher" | "non_editing_teacher" => Ok(Role::NonEditingTeacher),
            "teacher" | "editingteacher" => Ok(Role::Teacher),
            other => Err(serde::de::Error::custom(format!(
                "unknown role {other:?}; expected learner, non-editing-teacher or teacher"
            ))),
        }
    }
}
