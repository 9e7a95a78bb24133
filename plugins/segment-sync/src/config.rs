//! A method's config: the segment, the role and the group choice, and how
//! each reads from and writes to the JSON the host stores.

use charon_sdk::*;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::MethodRemoval;

/// A method's settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// The segment whose members are enrolled.
    pub segment: SegmentId,
    /// The role members get.
    #[serde(default = "learner")]
    pub role: Role,
    /// The group members are added to.
    #[serde(default)]
    pub group: GroupChoice,
    /// What happens to a member who leaves the segment.
    #[serde(default)]
    pub removal_action: MethodRemoval,
}

impl Config {
    /// A config for `segment` with every default: learners, no group, the
    /// site's removal action.
    ///
    /// ```
    /// let c = charon_plugin_segment_sync::Config::new(5);
    /// assert_eq!(c.role, charon_sdk::Role::Learner);
    /// ```
    pub fn new(segment: SegmentId) -> Self {
        Config {
            segment,
            role: Role::Learner,
            group: GroupChoice::None,
            removal_action: MethodRemoval::SiteDefault,
        }
    }
}

fn learner() -> Role {
    Role::Learner
}

/// Which group members go into: `"none"`, `"new"` or a group id in JSON.
///
/// ```
/// use charon_plugin_segment_sync::GroupChoice;
/// let g: GroupChoice = serde_json::from_str("7").unwrap();
/// assert_eq!(g, GroupChoice::Existing(7));
/// assert_eq!(serde_json::to_string(&GroupChoice::New).unwrap(), r#""new""#);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum GroupChoice {
    /// No group.
    #[default]
    None,
    /// A group the method creates, named after the segment.
    New,
    /// A group of the course.
    Existing(GroupId),
}

impl Serialize for GroupChoice {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            GroupChoice::None => s.serialize_str("none"),
            GroupChoice::New => s.serialize_str("new"),
            GroupChoice::Existing(id) => s.serialize_u64(*id),
        }
    }
}

impl<'de> Deserialize<'de> for GroupChoice {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(GroupChoiceVisitor)
    }
}

struct GroupChoiceVisitor;

/// serde names no field for a value it cannot read (the SDK reports such
/// an error on the whole form), so the message names it.
const GROUP_EXPECTED: &str = r#"group: "none", "new" or the id of a group of the course"#;

impl Visitor<'_> for GroupChoiceVisitor {
    type Value = GroupChoice;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(GROUP_EXPECTED)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<GroupChoice, E> {
        // A form may send the id as text, and a blank choice as nothing.
        match v.trim() {
            "" | "none" => Ok(GroupChoice::None),
            "new" => Ok(GroupChoice::New),
            id => id
                .parse()
                .map(GroupChoice::Existing)
                .map_err(|_| E::custom(format!("{GROUP_EXPECTED}, not {v:?}"))),
        }
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<GroupChoice, E> {
        Ok(GroupChoice::Existing(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<GroupChoice, E> {
        u64::try_from(v)
            .map(GroupChoice::Existing)
            .map_err(|_| E::custom(format!("{GROUP_EXPECTED}, not {v}")))
    }

    fn visit_unit<E: de::Error>(self) -> Result<GroupChoice, E> {
        Ok(GroupChoice::None)
    }
}
