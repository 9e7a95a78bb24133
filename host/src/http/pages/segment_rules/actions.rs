//! A rule's actions from the segment page: the dry run (a page of who
//! would join and who would leave, with the plugin's reasons, and what the
//! host would refuse), run now, pause and resume, and removal after a
//! confirmation saying the members stay.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::{IdPath, back_with_error, is_run_failure, joined_left, rule_path, segment_path};
use crate::domain::{RuleChange, RuleOutcome, Segment, SegmentId, User, UserId};
use crate::http::pages::forms::{Empty, render, ticked};
use crate::http::pages::session::SitePost;
use crate::http::pages::words::count;
use crate::http::pages::{Layout, Section};
use crate::http::{HttpError, blocking};
use crate::services::ServiceError;

pub(crate) struct ChangeRow {
    pub name: String,
    pub username: String,
    pub href: String,
    pub reason: String,
}

#[derive(Template)]
#[template(path = "pages/segments/rule_dry_run.html")]
pub(crate) struct DryRunPage {
    pub layout: Layout,
    pub heading: String,
    pub segment_href: String,
    pub summary: String,
    pub joined: Vec<ChangeRow>,
    pub left: Vec<ChangeRow>,
    /// Joiners and leavers beyond the rows shown.
    pub more_joined: usize,
    pub more_left: usize,
    pub refused: Vec<String>,
    pub paused: bool,
    pub csrf: String,
    pub run_action: String,
}

/// Most joiners (and most leavers) the dry-run page names; the counts
/// say the rest.
const SHOWN: usize = 500;

/// A dry run with the people it names.
struct DryRun {
    segment: Segment,
    outcome: RuleOutcome,
    paused: bool,
    users: BTreeMap<UserId, User>,
}

pub(super) async fn dry_run(
    post: SitePost<Empty>,
    path: web::Path<IdPath>,
) -> Result<HttpResponse, HttpError> {
    let page = post.page;
    let id = SegmentId(path.segment);
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let result = blocking(move || {
        let outcome = services.run_segment_rule(&who, id, true)?;
        let paused = services
            .segment_rule(&who, id)?
            .is_some_and(|v| !v.rule.enabled);
        // Leavers are members: one read names them all (and the segment).
        let left: Vec<_> = outcome.left.iter().take(SHOWN).map(|c| c.user).collect();
        let found = services.segment_members_among(&who, id, &left)?;
        let mut users: BTreeMap<_, _> = found.users.items.into_iter().map(|u| (u.id, u)).collect();
        for c in outcome.joined.iter().take(SHOWN) {
            // One gone since is shown by its id.
            if let Ok(u) = services.get_user(&who, c.user) {
                users.insert(u.id, u);
            }
        }
        Ok(DryRun {
            segment: found.segment.segment,
            outcome,
            paused,
            users,
        })
    })
    .await;
    let run = match result {
        Ok(run) => run,
        Err(e) if is_run_failure(&e) => {
            return Ok(back_with_error(
                &page,
                id,
                format!("The dry run failed: {e}"),
            ));
        }
        Err(e) => return Err(e),
    };
    let rows = |changes: &[RuleChange]| -> Vec<ChangeRow> {
        changes
            .iter()
            .take(SHOWN)
            .map(|c| {
                let (name, username) = match run.users.get(&c.user) {
                    Some(u) => (u.full_name(), u.username.clone()),
                    None => (format!("User #{}", c.user), String::new()),
                };
                ChangeRow {
                    name,
                    username,
                    href: page.link(&format!("/users/{}", c.user)),
                    reason: c.reason.clone(),
                }
            })
            .collect()
    };
    let o = &run.outcome;
    let heading = format!("Dry run of the rule of {}", run.segment.name);
    let view = DryRunPage {
        layout: Layout::signed_in(&page, &heading, Section::Segments),
        heading,
        segment_href: page.link(&segment_path(id)),
        summary: format!(
            "Run now, the rule would make {} join and {} leave. Nothing has been changed.",
            count(o.joined.len() as u64, "user", "users"),
            count(o.left.len() as u64, "user", "users"),
        ),
        joined: rows(&o.joined),
        left: rows(&o.left),
        more_joined: o.joined.len().saturating_sub(SHOWN),
        more_left: o.left.len().saturating_sub(SHOWN),
        refused: o.refused.clone(),
        paused: run.paused,
        csrf: page.csrf().to_owned(),
        run_action: page.link(&format!("{}/run", rule_path(id))),
    };
    render(&view, StatusCode::OK)
}

// ------------------------------------------------------------- the actions

pub(super) async fn run_now(
    post: SitePost<Empty>,
    path: web::Path<IdPath>,
) -> Result<HttpResponse, HttpError> {
    let page = post.page;
    let id = SegmentId(path.segment);
    let services = page.site.services.clone();
    let who = page.principal().clone();
    match blocking(move || services.run_segment_rule(&who, id, false)).await {
        Ok(o) => Ok(page.done(
            &segment_path(id),
            format!(
                "The rule ran: {}.",
                joined_left(o.joined.len() as u64, o.left.len() as u64)
            ),
        )),
        Err(e) if is_run_failure(&e) => Ok(back_with_error(
            &page,
            id,
            format!("The rule's run failed: {e}"),
        )),
        Err(e) => Err(e),
    }
}

pub(super) async fn pause(
    post: SitePost<Empty>,
    path: web::Path<IdPath>,
) -> Result<HttpResponse, HttpError> {
    let page = post.page;
    let id = SegmentId(path.segment);
    let services = page.site.services.clone();
    let who = page.principal().clone();
    blocking(move || services.set_segment_rule_enabled(&who, id, false)).await?;
    Ok(page.done(
        &segment_path(id),
        "Rule paused: the members stay as they are and nobody joins or leaves until it is resumed.",
    ))
}

pub(super) async fn resume(
    post: SitePost<Empty>,
    path: web::Path<IdPath>,
) -> Result<HttpResponse, HttpError> {
    let page = post.page;
    let id = SegmentId(path.segment);
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let rule = blocking(move || services.set_segment_rule_enabled(&who, id, true)).await?;
    // Resuming runs the rule to catch up; its run is the last one unless
    // it was resumed already.
    let caught_up = rule.last_run.filter(|r| r.at >= rule.updated_at);
    Ok(match caught_up {
        Some(run) => match run.error {
            Some(e) => back_with_error(&page, id, format!("Rule resumed, but its run failed: {e}")),
            None => page.done(
                &segment_path(id),
                format!(
                    "Rule resumed and run: {}.",
                    joined_left(run.joined, run.left)
                ),
            ),
        },
        None => page.done(&segment_path(id), "Rule resumed."),
    })
}

#[derive(Template)]
#[template(path = "pages/segments/rule_remove.html")]
pub(crate) struct RemovePage {
    pub layout: Layout,
    pub heading: String,
    pub effects: Vec<String>,
    pub action: String,
    pub csrf: String,
    pub cancel: String,
}

#[derive(serde::Deserialize)]
pub(crate) struct RemoveForm {
    confirm: Option<String>,
}

/// "Remove rule…" shows the confirmation; the confirmation's own form
/// (with `confirm=1`) removes.
pub(super) async fn remove(
    post: SitePost<RemoveForm>,
    path: web::Path<IdPath>,
) -> Result<HttpResponse, HttpError> {
    let SitePost { page, form } = post;
    let id = SegmentId(path.segment);
    let services = page.site.services.clone();
    let who = page.principal().clone();
    if ticked(&form.confirm) {
        blocking(move || services.remove_segment_rule(&who, id)).await?;
        return Ok(page.done(
            &segment_path(id),
            "Rule removed. The members stay; from now on they are managed by hand.",
        ));
    }
    let (view, summary) = blocking(move || {
        let Some(view) = services.segment_rule(&who, id)? else {
            return Err(ServiceError::NotFound(format!("the rule of segment #{id}")));
        };
        let summary = services.get_segment(&who, id)?;
        Ok((view, summary))
    })
    .await?;
    let heading = format!("Remove the rule of {}?", summary.segment.name);
    let page_view = RemovePage {
        layout: Layout::signed_in(&page, &heading, Section::Segments),
        heading,
        effects: vec![
            format!(
                "Detach the rule of plugin {} from the segment.",
                view.plugin_name
            ),
            format!(
                "Keep its {}: nobody leaves the segment, and what it is synced into stays as it is.",
                count(summary.members, "member", "members")
            ),
            "From then on, members are added and removed by hand: changes to users no longer move anyone in or out."
                .to_owned(),
        ],
        action: page.link(&format!("{}/remove", rule_path(id))),
        csrf: page.csrf().to_owned(),
        cancel: page.link(&segment_path(id)),
    };
    render(&page_view, StatusCode::OK)
}
