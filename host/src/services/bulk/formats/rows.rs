//! The rows of the segment, segment-member and group-member files: each
//! checked against the site and the rows before it, and planned.

use super::super::parse::{Row, Table};
use super::super::{Issues, RowIssue};
use super::columns::{Columns, cell};
use super::site::Site;
use super::{GroupRef, NewImportGroup, Plan, Seen, SegmentRef, UserRef, field_issue};
use crate::domain::*;
use crate::services::error::ServiceResult;
use crate::services::ops::groups::load_group;
use crate::services::ops::segments::NewSegment;
use crate::services::validate;
use crate::storage::site::prelude::*;

pub(super) fn segment_row(
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
pub(super) fn named_user(
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

/// Plans `user` into the segment `key` names. A user upload
/// (`create_missing`) plans a segment no one has yet, once per file, named
/// and with the idnumber as the cell says; other formats refuse the row.
#[allow(clippy::too_many_arguments)]
pub(super) fn add_to_segment(
    site: &Site<'_, impl SiteRead>,
    table: &Table,
    row: &Row,
    col: usize,
    key: &str,
    user: UserRef,
    create_missing: bool,
    seen: &mut Seen,
    plan: &mut Plan,
    issues: &mut Issues,
) -> ServiceResult<()> {
    if key.is_empty() {
        return Ok(());
    }
    let column = || Some(table.column_label(col));
    let segment = match site.segment(key) {
        Ok(Some(s)) => {
            plan.segment_names
                .entry(s.id)
                .or_insert_with(|| s.name.clone());
            SegmentRef::Existing(s.id)
        }
        Ok(None) if create_missing => {
            let cell = Naming {
                key,
                line: row.line,
                column: column(),
            };
            match new_segment(cell, seen, plan, issues) {
                Some(i) => SegmentRef::New(i),
                None => return Ok(()),
            }
        }
        Ok(None) => {
            issues.error(RowIssue::new(
                row.line,
                column(),
                format!("no segment has the idnumber or name {key:?}"),
            ));
            return Ok(());
        }
        Err(reason) => {
            issues.error(RowIssue::new(row.line, column(), reason));
            return Ok(());
        }
    };
    if !seen.segment_members.insert((segment, user)) {
        plan.counts.unchanged += 1;
        return Ok(());
    }
    let member = match (segment, user) {
        (SegmentRef::Existing(s), UserRef::Existing(u)) => site.t.is_segment_member(s, u)?,
        _ => false,
    };
    if member {
        plan.counts.unchanged += 1;
    } else {
        plan.counts.segment_members_added += 1;
        plan.segment_members.push((segment, user));
    }
    Ok(())
}

/// A cell naming something a user upload creates: its text, row and
/// column.
pub(super) struct Naming<'a> {
    pub key: &'a str,
    pub line: u64,
    pub column: Option<String>,
}

impl Naming<'_> {
    /// The labels of what the cell creates, with a warning saying so
    /// (`missing` says what is missing); an error when the cell cannot
    /// name it.
    fn labels(
        &self,
        idnumber: bool,
        missing: String,
        issues: &mut Issues,
    ) -> Option<validate::Labels> {
        let idnumber = idnumber.then_some(self.key);
        match validate::labels(self.key, idnumber, "") {
            Ok(labels) => {
                issues.warning(RowIssue::new(
                    self.line,
                    self.column.clone(),
                    format!("{missing}: it will be created"),
                ));
                Some(labels)
            }
            Err(e) => {
                issues.error(RowIssue::new(self.line, self.column.clone(), e.to_string()));
                None
            }
        }
    }
}

/// The segment a user upload creates for a cell: planned on the first row
/// that names it (with a warning saying so), found again on later rows
/// however it is capitalised; `None` when the cell cannot name a segment
/// (the row has an error then).
fn new_segment(
    cell: Naming<'_>,
    seen: &mut Seen,
    plan: &mut Plan,
    issues: &mut Issues,
) -> Option<usize> {
    let folded = cell.key.to_lowercase();
    if let Some(&i) = seen.created_segments.get(&folded) {
        return Some(i);
    }
    let missing = format!("no segment has the idnumber or name {:?}", cell.key);
    let labels = cell.labels(true, missing, issues)?;
    plan.segments.push(NewSegment {
        name: labels.name,
        idnumber: labels.idnumber,
        description: "Created by a user upload.".into(),
        ..NewSegment::default()
    });
    plan.counts.segments_created += 1;
    seen.created_segments
        .insert(folded, plan.segments.len() - 1);
    Some(plan.segments.len() - 1)
}

/// The group a user upload creates in `course` (short name `shortname`)
/// for a cell, planned once per file as [`new_segment`] plans a segment.
pub(super) fn new_group(
    (course, shortname): (CourseId, &str),
    cell: Naming<'_>,
    seen: &mut Seen,
    plan: &mut Plan,
    issues: &mut Issues,
) -> Option<usize> {
    let folded = (course, cell.key.to_lowercase());
    if let Some(&i) = seen.created_groups.get(&folded) {
        return Some(i);
    }
    let missing = format!(
        "course {shortname:?} has no group with the idnumber or name {:?}",
        cell.key
    );
    let name = cell.labels(false, missing, issues)?.name;
    plan.new_groups.push(NewImportGroup { course, name });
    plan.counts.groups_created += 1;
    seen.created_groups
        .insert(folded, plan.new_groups.len() - 1);
    Some(plan.new_groups.len() - 1)
}

pub(super) fn group_member_row(
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
    plan_group_member(
        site,
        GroupRef::Existing(group),
        UserRef::Existing(user),
        seen,
        plan,
    )
}

pub(super) fn plan_group_member(
    site: &Site<'_, impl SiteRead>,
    group: GroupRef,
    user: UserRef,
    seen: &mut Seen,
    plan: &mut Plan,
) -> ServiceResult<()> {
    if !seen.group_members.insert((group, user)) {
        plan.counts.unchanged += 1;
        return Ok(());
    }
    let member = match (group, user) {
        (GroupRef::Existing(g), UserRef::Existing(u)) => site.t.group_membership(g, u)?.is_some(),
        _ => false,
    };
    if member {
        plan.counts.unchanged += 1;
        return Ok(());
    }
    if let GroupRef::Existing(id) = group
        && let std::collections::hash_map::Entry::Vacant(slot) = plan.groups.entry(id)
    {
        slot.insert(load_group(site.t, id)?);
    }
    plan.counts.group_members_added += 1;
    plan.group_members.push((group, user));
    Ok(())
}
