//! The rows of the segment, segment-member and group-member files: each
//! checked against the site and the rows before it, and planned.

use super::super::parse::{Row, Table};
use super::super::{Issues, RowIssue};
use super::columns::{Columns, cell};
use super::site::Site;
use super::{Plan, Seen, UserRef, field_issue};
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

#[allow(clippy::too_many_arguments)]
pub(super) fn add_to_segment(
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
    plan_group_member(site, course, group, UserRef::Existing(user), seen, plan)
}

pub(super) fn plan_group_member(
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
        slot.insert(load_group(site.t, group)?);
    }
    plan.counts.group_members_added += 1;
    plan.group_members.push((group, user));
    Ok(())
}
