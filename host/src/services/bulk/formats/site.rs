//! What the rows of one file look up in the site, read once per file where
//! many rows share a lookup.

use std::collections::HashMap;

use super::super::ImportKind;
use crate::domain::*;
use crate::services::error::ServiceResult;
use crate::services::ops::courses::MANUAL_PLUGIN;
use crate::services::ops::profile::ProfileRules;
use crate::storage::site::prelude::*;

/// Everything a file's rows look up, read once per file where a lookup is
/// shared by many rows.
pub(super) struct Site<'t, T> {
    pub(super) t: &'t T,
    pub(super) segments: Vec<Segment>,
    pub(super) segment_by_idnumber: HashMap<String, usize>,
    pub(super) segments_by_name: HashMap<String, Vec<usize>>,
    courses: HashMap<String, Option<CourseId>>,
    groups: HashMap<(CourseId, String), Option<CourseGroupId>>,
    manual: HashMap<CourseId, Option<EnrolmentMethod>>,
    profile: Option<ProfileRules>,
}

impl<'t, T: SiteRead> Site<'t, T> {
    pub(super) fn new(t: &'t T, kind: ImportKind) -> ServiceResult<Self> {
        let segments = match kind {
            ImportKind::Segments | ImportKind::SegmentMembers | ImportKind::Users => {
                t.all_segments()?
            }
            ImportKind::GroupMembers => Vec::new(),
        };
        let mut segment_by_idnumber = HashMap::new();
        let mut segments_by_name: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, s) in segments.iter().enumerate() {
            if let Some(idn) = &s.idnumber {
                segment_by_idnumber.insert(idn.clone(), i);
            }
            segments_by_name
                .entry(s.name.to_lowercase())
                .or_default()
                .push(i);
        }
        Ok(Self {
            t,
            segments,
            segment_by_idnumber,
            segments_by_name,
            courses: HashMap::new(),
            groups: HashMap::new(),
            manual: HashMap::new(),
            profile: None,
        })
    }

    /// The segment a cell names: its idnumber, else its name (which must
    /// then be unique); `None` when no segment has either. A segment
    /// managed by a plugin is refused: its members change only through
    /// that plugin.
    pub(super) fn segment(&self, key: &str) -> Result<Option<&Segment>, String> {
        let found = match self.segment_by_idnumber.get(key) {
            Some(&i) => &self.segments[i],
            None => match self
                .segments_by_name
                .get(&key.to_lowercase())
                .map(Vec::as_slice)
            {
                Some([i]) => &self.segments[*i],
                Some([_, _, ..]) => {
                    return Err(format!(
                        "several segments are named {key:?}; name it by its idnumber"
                    ));
                }
                _ => return Ok(None),
            },
        };
        match &found.managed_by {
            Some(plugin) => Err(format!(
                "segment {:?} is managed by {plugin:?}; its members change only through it",
                found.name
            )),
            None => Ok(Some(found)),
        }
    }

    /// The site's profile fields, read at the first row that needs them.
    pub(super) fn profile_rules(&mut self) -> ServiceResult<&ProfileRules> {
        let rules = match self.profile.take() {
            Some(rules) => rules,
            None => ProfileRules::load(self.t)?,
        };
        Ok(self.profile.insert(rules))
    }

    pub(super) fn course(&mut self, shortname: &str) -> ServiceResult<Option<CourseId>> {
        if let Some(&c) = self.courses.get(shortname) {
            return Ok(c);
        }
        let c = self.t.course_id_by_shortname(shortname)?;
        self.courses.insert(shortname.to_owned(), c);
        Ok(c)
    }

    /// A group of `course` by idnumber, else by name (as
    /// `SiteServices::find_group`).
    pub(super) fn group(
        &mut self,
        course: CourseId,
        key: &str,
    ) -> ServiceResult<Option<CourseGroupId>> {
        if let Some(&g) = self.groups.get(&(course, key.to_owned())) {
            return Ok(g);
        }
        let g = match self.t.group_id_by_idnumber(course, key)? {
            Some(g) => Some(g),
            None => self.t.group_id_by_name(course, key)?,
        };
        self.groups.insert((course, key.to_owned()), g);
        Ok(g)
    }

    /// The course's first manual enrolment method, which `course1` enrols
    /// through (as Moodle's user upload does).
    pub(super) fn manual_method(
        &mut self,
        course: CourseId,
    ) -> ServiceResult<Option<EnrolmentMethod>> {
        if let Some(m) = self.manual.get(&course) {
            return Ok(m.clone());
        }
        let m = self
            .t
            .course_methods_list(course)?
            .into_iter()
            .find(|m| m.plugin == MANUAL_PLUGIN);
        self.manual.insert(course, m.clone());
        Ok(m)
    }
}
