//! The four formats of PRODUCT §5: which columns each reads, what each row
//! means, every rule a row must meet, and how a checked file is applied.
//!
//! [`check`] reads the site through one snapshot (`SiteRead`: a read
//! transaction for a preview, the write transaction itself when applying)
//! and turns the file into a [`Plan`] of resolved ids, recording every
//! problem with its row and column. [`apply`] writes a plan through the
//! services' own write functions. Both count what is already in place as
//! unchanged, so a file applied twice changes nothing the second time.
//!
//! Where Moodle's behaviour differs from ours, ours is the safer one and is
//! said here: a `cohort1` naming no segment is an error (Moodle creates the
//! cohort), a `group1` naming no group of `course1` is an error (Moodle
//! creates the group), and an existing username in a user upload keeps its
//! account as it is while the row's memberships are still added (Moodle's
//! default "add new only, skip existing" also skips the memberships; adding
//! them is what a re-run of a half-done Moodle file needs).

use std::collections::{HashMap, HashSet};

use super::parse::{Row, Table};
use super::{ImportCounts, ImportKind, ImportProgress, Issues, RowIssue, tick};
use crate::domain::*;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::segments::NewSegment;
use crate::services::users::{NewUser, PreparedUser};
use crate::services::{groups, segments, users, validate};
use crate::storage::site::{SiteTables, prelude::*};

/// A user a row names: one the site has, or one the file creates (by its
/// position in [`Plan::users`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum UserRef {
    Existing(UserId),
    New(usize),
}

/// A new user of a user upload, with the row it came from.
struct PlannedUser {
    line: u64,
    user: PreparedUser,
    /// Hashed only when the file is applied (see `import_csv_with`).
    password: Option<String>,
}

/// What applying a checked file writes, with every name resolved to an
/// id; only what is not already in place.
#[derive(Default)]
pub struct Plan {
    /// What the plan changes, and what it found already in place.
    pub counts: ImportCounts,
    segments: Vec<NewSegment>,
    users: Vec<PlannedUser>,
    segment_members: Vec<(SegmentId, UserRef)>,
    enrolments: Vec<(EnrolmentMethodId, UserRef, Role)>,
    group_members: Vec<(CourseGroupId, UserRef)>,
    /// The records the memberships need when applied.
    segment_names: HashMap<SegmentId, String>,
    methods: HashMap<EnrolmentMethodId, EnrolmentMethod>,
    groups: HashMap<CourseGroupId, CourseGroup>,
}

impl Plan {
    /// `(row, password)` of every new user with a password.
    /// How many writes applying the plan takes (for a progress bar).
    pub fn writes(&self) -> usize {
        self.segments.len()
            + self.users.len()
            + self.segment_members.len()
            + self.enrolments.len()
            + self.group_members.len()
    }

    pub fn passwords_to_hash(&self) -> Vec<(u64, &str)> {
        self.users
            .iter()
            .filter_map(|u| Some((u.line, u.password.as_deref()?)))
            .collect()
    }
}

/// The columns of a file that a kind reads, by position.
#[derive(Default)]
struct Columns {
    username: Option<usize>,
    email: Option<usize>,
    firstname: Option<usize>,
    lastname: Option<usize>,
    password: Option<usize>,
    name: Option<usize>,
    idnumber: Option<usize>,
    description: Option<usize>,
    visible: Option<usize>,
    segment: Option<usize>,
    course: Option<usize>,
    group: Option<usize>,
    /// `cohortN`: each names a segment to add the row's user to.
    cohorts: Vec<usize>,
    /// `courseN` with its `groupN` and `roleN`, by N.
    courses: Vec<NumberedCourse>,
    /// `profile_field_<name>`: the profile field's name and the column.
    profile: Vec<(String, usize)>,
}

struct NumberedCourse {
    n: u32,
    course: Option<usize>,
    group: Option<usize>,
    role: Option<usize>,
}

/// The `courseN`/`groupN`/`roleN` columns of one N.
fn slot(k: u32, m: &mut HashMap<u32, NumberedCourse>) -> &mut NumberedCourse {
    m.entry(k).or_insert(NumberedCourse {
        n: k,
        course: None,
        group: None,
        role: None,
    })
}

/// `N` of a column named `{prefix}N` (N ≥ 1).
fn numbered(name: &str, prefix: &str) -> Option<u32> {
    let rest = name.strip_prefix(prefix)?;
    if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    rest.parse().ok().filter(|&n| n >= 1)
}

impl Columns {
    /// Finds the columns `kind` reads. Every other column is a warning
    /// (ignored); a missing required one is an error of the header row.
    /// `None` when the rows cannot be read for want of a column.
    fn of(kind: ImportKind, table: &Table, issues: &mut Issues) -> Option<Columns> {
        let mut c = Columns::default();
        let mut numbered_courses: HashMap<u32, NumberedCourse> = HashMap::new();
        for (i, name) in table.columns.iter().enumerate() {
            let known = match (kind, name.as_str()) {
                (
                    ImportKind::SegmentMembers | ImportKind::GroupMembers | ImportKind::Users,
                    "username",
                ) => set(&mut c.username, i),
                (
                    ImportKind::SegmentMembers | ImportKind::GroupMembers | ImportKind::Users,
                    "email",
                ) => set(&mut c.email, i),
                (ImportKind::Users, "firstname") => set(&mut c.firstname, i),
                (ImportKind::Users, "lastname") => set(&mut c.lastname, i),
                (ImportKind::Users, "password") => set(&mut c.password, i),
                (ImportKind::Segments, "name") => set(&mut c.name, i),
                (ImportKind::Segments, "idnumber") => set(&mut c.idnumber, i),
                (ImportKind::Segments, "description") => set(&mut c.description, i),
                (ImportKind::Segments, "visible") => set(&mut c.visible, i),
                (ImportKind::SegmentMembers, "segment") => set(&mut c.segment, i),
                (ImportKind::GroupMembers, "course") => set(&mut c.course, i),
                (ImportKind::GroupMembers, "group") => set(&mut c.group, i),
                (ImportKind::SegmentMembers | ImportKind::Users, n)
                    if numbered(n, "cohort").is_some() =>
                {
                    c.cohorts.push(i);
                    true
                }
                (ImportKind::Users, n) => {
                    if let Some(k) = numbered(n, "course") {
                        slot(k, &mut numbered_courses).course = Some(i);
                        true
                    } else if let Some(k) = numbered(n, "group") {
                        slot(k, &mut numbered_courses).group = Some(i);
                        true
                    } else if let Some(k) = numbered(n, "role") {
                        slot(k, &mut numbered_courses).role = Some(i);
                        true
                    } else if let Some(field) = n.strip_prefix("profile_field_") {
                        match validate::profile_field_name(field) {
                            Ok(field) => {
                                c.profile.push((field, i));
                                true
                            }
                            Err(_) => false,
                        }
                    } else {
                        false
                    }
                }
                _ => false,
            };
            if !known {
                issues.warning(RowIssue::new(
                    header_row(table),
                    Some(table.column_label(i)),
                    format!("the {kind} import does not read this column; it is ignored"),
                ));
            }
        }
        let mut courses: Vec<NumberedCourse> = numbered_courses.into_values().collect();
        courses.sort_by_key(|c| c.n);
        c.courses = courses;

        let header = header_row(table);
        let mut missing = |what: &str| {
            issues.error(RowIssue::new(
                header,
                None,
                format!("the file has no {what} column"),
            ))
        };
        let mut ok = true;
        match kind {
            ImportKind::Segments => {
                if c.name.is_none() {
                    missing("`name`");
                    ok = false;
                }
            }
            ImportKind::SegmentMembers => {
                if c.username.is_none() && c.email.is_none() {
                    missing("`username` or `email`");
                    ok = false;
                }
                if c.segment.is_none() && c.cohorts.is_empty() {
                    missing("`segment` (or `cohort1`)");
                    ok = false;
                }
            }
            ImportKind::GroupMembers => {
                for (col, what) in [
                    (c.username.or(c.email), "`username` or `email`"),
                    (c.course, "`course`"),
                    (c.group, "`group`"),
                ] {
                    if col.is_none() {
                        missing(what);
                        ok = false;
                    }
                }
            }
            ImportKind::Users => {
                for (col, what) in [
                    (c.username, "`username`"),
                    (c.email, "`email`"),
                    (c.firstname, "`firstname`"),
                    (c.lastname, "`lastname`"),
                ] {
                    if col.is_none() {
                        missing(what);
                        ok = false;
                    }
                }
                for nc in &c.courses {
                    if nc.course.is_none() {
                        let n = nc.n;
                        issues.error(RowIssue::new(
                            header,
                            None,
                            format!("group{n} or role{n} needs a course{n} column"),
                        ));
                        ok = false;
                    }
                }
            }
        }
        ok.then_some(c)
    }
}

fn header_row(table: &Table) -> u64 {
    table.header_line
}

fn set(slot: &mut Option<usize>, i: usize) -> bool {
    *slot = Some(i);
    true
}

/// A trimmed cell, empty when the column is absent.
fn cell(row: &Row, col: Option<usize>) -> &str {
    col.and_then(|i| row.cells.get(i)).map_or("", |s| s.trim())
}

/// A refusal of a field rule as an issue of `column`; a storage failure
/// stays a failure of the whole call.
fn field_issue(line: u64, column: &str, e: ServiceError) -> ServiceResult<RowIssue> {
    match e {
        ServiceError::Invalid { message, .. } | ServiceError::Duplicate { message, .. } => {
            Ok(RowIssue::new(line, Some(column.to_owned()), message))
        }
        ServiceError::Storage(_) => Err(e),
        other => Ok(RowIssue::new(
            line,
            Some(column.to_owned()),
            other.to_string(),
        )),
    }
}

/// Everything a file's rows look up, read once per file where a lookup is
/// shared by many rows.
struct Site<'t, T> {
    t: &'t T,
    segments: Vec<Segment>,
    segment_by_idnumber: HashMap<String, usize>,
    segments_by_name: HashMap<String, Vec<usize>>,
    courses: HashMap<String, Option<CourseId>>,
    groups: HashMap<(CourseId, String), Option<CourseGroupId>>,
    manual: HashMap<CourseId, Option<EnrolmentMethod>>,
}

impl<'t, T: SiteRead> Site<'t, T> {
    fn new(t: &'t T, kind: ImportKind) -> ServiceResult<Self> {
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
        })
    }

    /// The segment a cell names: its idnumber, else its name (which must
    /// then be unique). A segment managed by a plugin is refused: its
    /// members change only through that plugin.
    fn segment(&self, key: &str) -> Result<&Segment, String> {
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
                _ => return Err(format!("no segment has the idnumber or name {key:?}")),
            },
        };
        match &found.managed_by {
            Some(plugin) => Err(format!(
                "segment {:?} is managed by {plugin:?}; its members change only through it",
                found.name
            )),
            None => Ok(found),
        }
    }

    fn course(&mut self, shortname: &str) -> ServiceResult<Option<CourseId>> {
        if let Some(&c) = self.courses.get(shortname) {
            return Ok(c);
        }
        let c = self.t.course_id_by_shortname(shortname)?;
        self.courses.insert(shortname.to_owned(), c);
        Ok(c)
    }

    /// A group of `course` by idnumber, else by name (as
    /// `SiteServices::find_group`).
    fn group(&mut self, course: CourseId, key: &str) -> ServiceResult<Option<CourseGroupId>> {
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
    fn manual_method(&mut self, course: CourseId) -> ServiceResult<Option<EnrolmentMethod>> {
        if let Some(m) = self.manual.get(&course) {
            return Ok(m.clone());
        }
        let m = self
            .t
            .course_methods_list(course)?
            .into_iter()
            .find(|m| m.plugin == crate::services::courses::MANUAL_PLUGIN);
        self.manual.insert(course, m.clone());
        Ok(m)
    }
}

/// Checks every row of `table` as a file of `kind`, recording each problem
/// in `issues`, and returns what applying it would write.
pub fn check(
    kind: ImportKind,
    table: &Table,
    t: &impl SiteRead,
    issues: &mut Issues,
    progress: Option<&ImportProgress>,
) -> ServiceResult<Plan> {
    let mut plan = Plan::default();
    let Some(cols) = Columns::of(kind, table, issues) else {
        return Ok(plan);
    };
    let mut site = Site::new(t, kind)?;
    let mut seen = Seen::default();
    for (i, row) in table.rows.iter().enumerate() {
        tick(progress, i);
        match kind {
            ImportKind::Segments => segment_row(&site, &cols, row, &mut seen, &mut plan, issues)?,
            ImportKind::SegmentMembers => {
                if let Some(user) = named_user(&site, &cols, row, issues)? {
                    let mut keys: Vec<(usize, &str)> = Vec::new();
                    if let Some(i) = cols.segment {
                        keys.push((i, cell(row, Some(i))));
                    }
                    keys.extend(cols.cohorts.iter().map(|&i| (i, cell(row, Some(i)))));
                    if keys.iter().all(|(_, k)| k.is_empty()) {
                        issues.error(RowIssue::new(
                            row.line,
                            Some(table.column_label(keys.first().map_or(0, |k| k.0))),
                            "is required: name a segment by its idnumber or name".into(),
                        ));
                    }
                    for (i, key) in keys {
                        add_to_segment(
                            &site,
                            table,
                            row,
                            i,
                            key,
                            UserRef::Existing(user),
                            &mut seen,
                            &mut plan,
                            issues,
                        )?;
                    }
                }
            }
            ImportKind::GroupMembers => {
                group_member_row(&mut site, &cols, row, &mut seen, &mut plan, issues)?
            }
            ImportKind::Users => {
                user_row(&mut site, table, &cols, row, &mut seen, &mut plan, issues)?
            }
        }
    }
    Ok(plan)
}

/// What earlier rows of the file claimed, to find duplicates within it.
#[derive(Default)]
struct Seen {
    /// idnumber → row of a segments file.
    idnumbers: HashMap<String, u64>,
    /// username / e-mail (lower case) → row of a users file.
    usernames: HashMap<String, u64>,
    emails: HashMap<String, u64>,
    segment_members: HashSet<(SegmentId, UserRef)>,
    enrolments: HashSet<(EnrolmentMethodId, UserRef)>,
    group_members: HashSet<(CourseGroupId, UserRef)>,
}

fn segment_row(
    site: &Site<'_, impl SiteRead>,
    cols: &Columns,
    row: &Row,
    seen: &mut Seen,
    plan: &mut Plan,
    issues: &mut Issues,
) -> ServiceResult<()> {
    let line = row.line;
    let errors_before = issues.error_count;
    let name = match validate::required_text("name", cell(row, cols.name), validate::MAX_NAME) {
        Ok(v) => v,
        Err(e) => {
            issues.error(field_issue(line, "name", e)?);
            String::new()
        }
    };
    let idnumber = match validate::idnumber("idnumber", Some(cell(row, cols.idnumber))) {
        Ok(v) => v,
        Err(e) => {
            issues.error(field_issue(line, "idnumber", e)?);
            None
        }
    };
    let description = match validate::optional_text(
        "description",
        cell(row, cols.description),
        validate::MAX_DESCRIPTION,
    ) {
        Ok(v) => v,
        Err(e) => {
            issues.error(field_issue(line, "description", e)?);
            String::new()
        }
    };
    let visible = match cell(row, cols.visible).to_lowercase().as_str() {
        "" | "yes" | "y" | "1" | "true" => true,
        "no" | "n" | "0" | "false" => false,
        other => {
            issues.error(RowIssue::new(
                line,
                Some("visible".into()),
                format!("{other:?} is not yes or no (blank means yes)"),
            ));
            true
        }
    };
    let same = |s: &Segment| s.name == name && s.description == description && s.visible == visible;
    if let Some(idn) = &idnumber {
        if let Some(first) = seen.idnumbers.get(idn) {
            issues.error(RowIssue::new(
                line,
                Some("idnumber".into()),
                format!("the idnumber {idn:?} is also on row {first}"),
            ));
        } else {
            seen.idnumbers.insert(idn.clone(), line);
        }
        if let Some(&i) = site.segment_by_idnumber.get(idn) {
            let existing = &site.segments[i];
            if !same(existing) {
                issues.error(RowIssue::new(
                    line,
                    Some("idnumber".into()),
                    format!(
                        "segment #{} {:?} already has the idnumber {idn:?}",
                        existing.id, existing.name
                    ),
                ));
            } else if issues.error_count == errors_before {
                // The same segment as this row: a file applied before.
                plan.counts.unchanged += 1;
            }
            return Ok(());
        }
    } else if let Some(list) = site.segments_by_name.get(&name.to_lowercase())
        && list
            .iter()
            .any(|&i| site.segments[i].idnumber.is_none() && same(&site.segments[i]))
    {
        // Without an idnumber, a segment just like the row is taken to be
        // the one an earlier run of this file created.
        plan.counts.unchanged += 1;
        return Ok(());
    }
    if issues.error_count == errors_before {
        plan.counts.segments_created += 1;
        plan.segments.push(NewSegment {
            name,
            idnumber,
            description,
            visible,
            managed_by: None,
        });
    }
    Ok(())
}

/// The existing user a row names by `username`, else by `email`.
fn named_user(
    site: &Site<'_, impl SiteRead>,
    cols: &Columns,
    row: &Row,
    issues: &mut Issues,
) -> ServiceResult<Option<UserId>> {
    let username = cell(row, cols.username);
    let email = cell(row, cols.email);
    let by_username = if username.is_empty() {
        None
    } else {
        match site.t.user_id_by_username(username)? {
            Some(u) => Some(u),
            None => {
                issues.error(RowIssue::new(
                    row.line,
                    Some("username".into()),
                    format!("no user has the username {username:?}"),
                ));
                return Ok(None);
            }
        }
    };
    if email.is_empty() {
        if by_username.is_none() {
            let column = if cols.username.is_some() {
                "username"
            } else {
                "email"
            };
            issues.error(RowIssue::new(
                row.line,
                Some(column.into()),
                "is required: name the user by username or email".into(),
            ));
        }
        return Ok(by_username);
    }
    match (site.t.user_id_by_email(email)?, by_username) {
        (None, _) => {
            issues.error(RowIssue::new(
                row.line,
                Some("email".into()),
                format!("no user has the e-mail {email:?}"),
            ));
            Ok(None)
        }
        (Some(a), Some(b)) if a != b => {
            issues.error(RowIssue::new(
                row.line,
                Some("email".into()),
                format!("{email:?} is the e-mail of another user than {username:?}"),
            ));
            Ok(None)
        }
        (Some(u), _) => Ok(Some(u)),
    }
}

#[allow(clippy::too_many_arguments)]
fn add_to_segment(
    site: &Site<'_, impl SiteRead>,
    table: &Table,
    row: &Row,
    col: usize,
    key: &str,
    user: UserRef,
    seen: &mut Seen,
    plan: &mut Plan,
    issues: &mut Issues,
) -> ServiceResult<()> {
    if key.is_empty() {
        return Ok(());
    }
    let segment = match site.segment(key) {
        Ok(s) => s,
        Err(reason) => {
            issues.error(RowIssue::new(
                row.line,
                Some(table.column_label(col)),
                reason,
            ));
            return Ok(());
        }
    };
    if !seen.segment_members.insert((segment.id, user)) {
        plan.counts.unchanged += 1;
        return Ok(());
    }
    let member = match user {
        UserRef::Existing(u) => site.t.is_segment_member(segment.id, u)?,
        UserRef::New(_) => false,
    };
    if member {
        plan.counts.unchanged += 1;
    } else {
        plan.counts.segment_members_added += 1;
        plan.segment_members.push((segment.id, user));
        plan.segment_names
            .entry(segment.id)
            .or_insert_with(|| segment.name.clone());
    }
    Ok(())
}

fn group_member_row(
    site: &mut Site<'_, impl SiteRead>,
    cols: &Columns,
    row: &Row,
    seen: &mut Seen,
    plan: &mut Plan,
    issues: &mut Issues,
) -> ServiceResult<()> {
    let line = row.line;
    let user = named_user(site, cols, row, issues)?;
    let shortname = cell(row, cols.course);
    let group_key = cell(row, cols.group);
    if shortname.is_empty() {
        issues.error(RowIssue::new(
            line,
            Some("course".into()),
            "is required: the course's short name".into(),
        ));
        return Ok(());
    }
    let Some(course) = site.course(shortname)? else {
        issues.error(RowIssue::new(
            line,
            Some("course".into()),
            format!("no course has the short name {shortname:?}"),
        ));
        return Ok(());
    };
    if group_key.is_empty() {
        issues.error(RowIssue::new(
            line,
            Some("group".into()),
            "is required: the group's name or idnumber".into(),
        ));
        return Ok(());
    }
    let Some(group) = site.group(course, group_key)? else {
        issues.error(RowIssue::new(
            line,
            Some("group".into()),
            format!("course {shortname:?} has no group with the idnumber or name {group_key:?}"),
        ));
        return Ok(());
    };
    let Some(user) = user else { return Ok(()) };
    if !site.t.has_enrolment_in(course, user)? {
        issues.error(RowIssue::new(
            line,
            Some(if cell(row, cols.username).is_empty() { "email" } else { "username" }.into()),
            format!("the user is not enrolled in course {shortname:?}; enrol them before adding them to a group"),
        ));
        return Ok(());
    }
    plan_group_member(site, course, group, UserRef::Existing(user), seen, plan)
}

fn plan_group_member(
    site: &Site<'_, impl SiteRead>,
    _course: CourseId,
    group: CourseGroupId,
    user: UserRef,
    seen: &mut Seen,
    plan: &mut Plan,
) -> ServiceResult<()> {
    if !seen.group_members.insert((group, user)) {
        plan.counts.unchanged += 1;
        return Ok(());
    }
    let member = match user {
        UserRef::Existing(u) => site.t.group_membership(group, u)?.is_some(),
        UserRef::New(_) => false,
    };
    if member {
        plan.counts.unchanged += 1;
        return Ok(());
    }
    if let std::collections::hash_map::Entry::Vacant(slot) = plan.groups.entry(group) {
        slot.insert(groups::load_group(site.t, group)?);
    }
    plan.counts.group_members_added += 1;
    plan.group_members.push((group, user));
    Ok(())
}

/// `roleN` in Moodle's role short names (and ours).
fn role(value: &str) -> Option<Role> {
    match value.to_lowercase().as_str() {
        "student" | "learner" => Some(Role::Learner),
        "editingteacher" => Some(Role::Teacher),
        "teacher" | "noneditingteacher" | "non-editing-teacher" => Some(Role::NonEditingTeacher),
        _ => None,
    }
}

fn user_row(
    site: &mut Site<'_, impl SiteRead>,
    table: &Table,
    cols: &Columns,
    row: &Row,
    seen: &mut Seen,
    plan: &mut Plan,
    issues: &mut Issues,
) -> ServiceResult<()> {
    let line = row.line;
    let errors_before = issues.error_count;
    let username = cell(row, cols.username);
    let email = cell(row, cols.email);
    let password = cell(row, cols.password);
    let mut profile = std::collections::BTreeMap::new();
    for (field, i) in &cols.profile {
        let value = cell(row, Some(*i));
        if !value.is_empty() {
            profile.insert(field.clone(), value.to_owned());
        }
    }
    let new = NewUser {
        username: username.to_owned(),
        email: email.to_owned(),
        firstname: cell(row, cols.firstname).to_owned(),
        lastname: cell(row, cols.lastname).to_owned(),
        // Checked and hashed apart (hashing waits until the file is known
        // to be good).
        password: None,
        site_admin: false,
        profile,
    };
    let existing = match validate::username(username) {
        Ok(u) => site.t.user_id_by_username(&u)?,
        Err(_) => None,
    };
    let user = match existing {
        Some(id) => {
            // An account the site has keeps its details; the row's
            // memberships are still added.
            let known = crate::services::users::load_user(site.t, id)?;
            if !known.email.eq_ignore_ascii_case(email)
                || known.firstname != new.firstname.trim()
                || known.lastname != new.lastname.trim()
                || !password.is_empty()
            {
                issues.warning(RowIssue::new(
                    line,
                    Some("username".into()),
                    format!(
                        "user {:?} exists; their details are not changed by an upload",
                        known.username
                    ),
                ));
            }
            if let Some(first) = seen.usernames.insert(known.username.clone(), line) {
                issues.error(RowIssue::new(
                    line,
                    Some("username".into()),
                    format!("the username is also on row {first}"),
                ));
            }
            plan.counts.unchanged += 1;
            Some(UserRef::Existing(id))
        }
        None => {
            let mut prepared = None;
            match users::prepare_user(new) {
                Ok(p) => prepared = Some(p),
                Err(e) => {
                    let column = e.field().unwrap_or("username");
                    issues.error(field_issue(line, column, e)?);
                }
            }
            if !password.is_empty()
                && let Err(e) = validate::password(password)
            {
                issues.error(field_issue(line, "password", e)?);
            }
            match prepared {
                Some(p) => {
                    if let Some(first) = seen.usernames.insert(p.username.clone(), line) {
                        issues.error(RowIssue::new(
                            line,
                            Some("username".into()),
                            format!("the username is also on row {first}"),
                        ));
                    }
                    let email_key = p.email.to_lowercase();
                    if let Some(first) = seen.emails.insert(email_key.clone(), line) {
                        issues.error(RowIssue::new(
                            line,
                            Some("email".into()),
                            format!("the e-mail is also on row {first}"),
                        ));
                    } else if let Some(other) = site.t.user_id_by_email(&email_key)? {
                        let other = crate::services::users::load_user(site.t, other)?;
                        issues.error(RowIssue::new(
                            line,
                            Some("email".into()),
                            format!("e-mail {:?} is taken by user {:?}", p.email, other.username),
                        ));
                    }
                    if issues.error_count == errors_before {
                        plan.counts.users_created += 1;
                        plan.users.push(PlannedUser {
                            line,
                            user: p,
                            password: (!password.is_empty()).then(|| password.to_owned()),
                        });
                        Some(UserRef::New(plan.users.len() - 1))
                    } else {
                        None
                    }
                }
                None => None,
            }
        }
    };

    for &i in &cols.cohorts {
        let key = cell(row, Some(i));
        match user {
            Some(u) => add_to_segment(site, table, row, i, key, u, seen, plan, issues)?,
            // The user is in error: still report a segment that does not
            // exist, so one pass shows every mistake of the row.
            None if !key.is_empty() => {
                if let Err(reason) = site.segment(key) {
                    issues.error(RowIssue::new(line, Some(table.column_label(i)), reason));
                }
            }
            None => {}
        }
    }
    for nc in &cols.courses {
        let n = nc.n;
        let shortname = cell(row, nc.course);
        let group_key = cell(row, nc.group);
        let role_cell = cell(row, nc.role);
        if shortname.is_empty() {
            if !group_key.is_empty() || !role_cell.is_empty() {
                issues.error(RowIssue::new(
                    line,
                    Some(format!("course{n}")),
                    format!("is required when group{n} or role{n} is given"),
                ));
            }
            continue;
        }
        let wanted = if role_cell.is_empty() {
            None
        } else {
            match role(role_cell) {
                Some(r) => Some(r),
                None => {
                    issues.error(RowIssue::new(
                        line,
                        Some(format!("role{n}")),
                        format!("{role_cell:?} is not a role: use student, teacher (non-editing) or editingteacher"),
                    ));
                    continue;
                }
            }
        };
        let Some(course) = site.course(shortname)? else {
            issues.error(RowIssue::new(
                line,
                Some(format!("course{n}")),
                format!("no course has the short name {shortname:?}"),
            ));
            continue;
        };
        let method = match site.manual_method(course)? {
            Some(m) if m.status == EnrolmentMethodStatus::Enabled => m,
            Some(_) => {
                issues.error(RowIssue::new(
                    line,
                    Some(format!("course{n}")),
                    format!("the manual enrolment method of course {shortname:?} is disabled"),
                ));
                continue;
            }
            None => {
                issues.error(RowIssue::new(
                    line,
                    Some(format!("course{n}")),
                    format!("course {shortname:?} has no manual enrolment method to enrol through"),
                ));
                continue;
            }
        };
        let group = if group_key.is_empty() {
            None
        } else {
            match site.group(course, group_key)? {
                Some(g) => Some(g),
                None => {
                    issues.error(RowIssue::new(
                        line,
                        Some(format!("group{n}")),
                        format!("course {shortname:?} has no group with the idnumber or name {group_key:?}"),
                    ));
                    continue;
                }
            }
        };
        let Some(user) = user else { continue };
        if seen.enrolments.insert((method.id, user)) {
            let current = match user {
                UserRef::Existing(u) => site.t.enrolment(course, u, method.id)?,
                UserRef::New(_) => None,
            };
            match current {
                Some(e)
                    if e.status == EnrolmentStatus::Active
                        && wanted.is_none_or(|r| e.role == Some(r)) =>
                {
                    plan.counts.unchanged += 1;
                }
                current => {
                    let role = wanted
                        .or(current.and_then(|e| e.role))
                        .unwrap_or(Role::Learner);
                    plan.counts.enrolments_changed += 1;
                    plan.enrolments.push((method.id, user, role));
                    plan.methods.entry(method.id).or_insert(method);
                }
            }
        } else {
            plan.counts.unchanged += 1;
        }
        if let Some(group) = group {
            plan_group_member(site, course, group, user, seen, plan)?;
        }
    }
    Ok(())
}

/// Writes a checked plan in the caller's transaction, through the same
/// functions the single-change services use, and counts what changed.
/// `hashes` holds the password hash of each new user's row that has one.
pub fn apply(
    t: &mut SiteTables<'_>,
    actor: Actor,
    kind: ImportKind,
    plan: Plan,
    hashes: &HashMap<u64, String>,
    progress: Option<&ImportProgress>,
) -> ServiceResult<ImportCounts> {
    let reason_tail = format!("(CSV import of {kind})");
    let mut done = ImportCounts {
        unchanged: plan.counts.unchanged,
        ..ImportCounts::default()
    };
    // Writes so far, across the loops below, for the progress bar.
    let mut written = 0usize;
    let mut step = || {
        tick(progress, written);
        written += 1;
    };
    let created_reason = format!("segment created {reason_tail}");
    for new in plan.segments {
        step();
        segments::create_segment_in(t, actor, new, &created_reason)?;
        done.segments_created += 1;
    }
    let user_reason = format!("user created {reason_tail}");
    let mut new_ids = Vec::with_capacity(plan.users.len());
    for planned in plan.users {
        step();
        let mut user = planned.user;
        if planned.password.is_some() {
            // The hashes were made from a read of the site just before;
            // a new user without one means the site changed in between.
            let hash = hashes.get(&planned.line).ok_or_else(|| {
                ServiceError::Conflict(
                    "the site changed while the file was being checked; import it again".into(),
                )
            })?;
            user.password_hash = Some(hash.clone());
        }
        new_ids.push(users::insert_user(t, actor, user, &user_reason)?.id);
        done.users_created += 1;
    }
    let resolve = |u: UserRef| -> ServiceResult<UserId> {
        match u {
            UserRef::Existing(id) => Ok(id),
            UserRef::New(i) => new_ids
                .get(i)
                .copied()
                .ok_or_else(|| ServiceError::Internal(format!("import plan names new user {i}"))),
        }
    };
    for (segment, user) in plan.segment_members {
        step();
        let name = plan.segment_names.get(&segment).map_or("", String::as_str);
        let reason = format!("added to segment {name:?} {reason_tail}");
        if segments::add_segment_member_in(t, actor, segment, resolve(user)?, &reason)? {
            done.segment_members_added += 1;
        } else {
            done.unchanged += 1;
        }
    }
    for (method, user, role) in plan.enrolments {
        step();
        let m = plan
            .methods
            .get(&method)
            .ok_or_else(|| ServiceError::Internal(format!("import plan lacks method #{method}")))?;
        let reason = format!("enrolled as {} {reason_tail}", role.label());
        let user = resolve(user)?;
        if crate::services::enrolments::enrol_existing_user(
            t,
            actor,
            m,
            user,
            role,
            Some(reason.as_str()),
        )?
        .1
        {
            done.enrolments_changed += 1;
        } else {
            done.unchanged += 1;
        }
    }
    for (group, user) in plan.group_members {
        step();
        let g = plan
            .groups
            .get(&group)
            .ok_or_else(|| ServiceError::Internal(format!("import plan lacks group #{group}")))?;
        let reason = format!("added to group {:?} {reason_tail}", g.name);
        if groups::add_group_member_in(
            t,
            actor,
            MembershipOwner::Manual,
            g,
            resolve(user)?,
            &reason,
        )? {
            done.group_members_added += 1;
        } else {
            done.unchanged += 1;
        }
    }
    Ok(done)
}
