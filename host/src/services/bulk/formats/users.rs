//! The rows of a user upload: a new account (or one the site has), with
//! its segments, courses, roles and groups.

use super::super::parse::{Row, Table};
use super::super::{Issues, RowIssue};
use super::columns::{Columns, cell};
use super::rows::{Naming, add_to_segment, new_group, plan_group_member};
use super::site::Site;
use super::{GroupRef, Plan, PlannedUser, Seen, UserRef, field_issue};
use crate::domain::*;
use crate::services::error::ServiceResult;
use crate::services::ops::users::{NewUser, load_user, prepare_user};
use crate::services::validate;
use crate::storage::site::prelude::*;

/// `roleN` in Moodle's role short names (and ours).
fn role(value: &str) -> Option<Role> {
    match value.to_lowercase().as_str() {
        "student" | "learner" => Some(Role::Learner),
        "editingteacher" => Some(Role::Teacher),
        "teacher" | "noneditingteacher" | "non-editing-teacher" => Some(Role::NonEditingTeacher),
        _ => None,
    }
}

pub(super) fn user_row(
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
        // Checked against the site's fields here, row by row, so that a
        // preview names each bad cell; applying checks again.
        let value = cell(row, Some(*i));
        if value.trim().is_empty() {
            continue;
        }
        match site.profile_rules()?.check(field, value) {
            Ok(Some(value)) => {
                profile.insert(field.clone(), value);
            }
            Ok(None) => {}
            Err(why) => issues.error(RowIssue::new(line, Some(table.column_label(*i)), why)),
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
            let known = load_user(site.t, id)?;
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
            match prepare_user(new) {
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
                        let other = load_user(site.t, other)?;
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
            Some(u) => add_to_segment(site, table, row, i, key, u, true, seen, plan, issues)?,
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
                Some(g) => Some(GroupRef::Existing(g)),
                None => {
                    let cell = Naming {
                        key: group_key,
                        line,
                        column: Some(format!("group{n}")),
                    };
                    match new_group((course, shortname), cell, seen, plan, issues) {
                        Some(i) => Some(GroupRef::New(i)),
                        None => continue,
                    }
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
            plan_group_member(site, group, user, seen, plan)?;
        }
    }
    Ok(())
}
