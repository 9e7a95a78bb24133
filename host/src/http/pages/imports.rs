//! Bulk CSV imports (PRODUCT §5, issue 7): the four uploads, each with its
//! columns and a template; upload → preview (errors first) → apply with a
//! progress bar → outcome, and the report of any of them as CSV.
//!
//! The file is kept by the services between the preview and the apply
//! (`services::bulk::staged`), so the apply writes exactly what was
//! previewed; this module only reads the upload, calls one service and
//! renders. The progress bar is refreshed by a small script
//! (`static/imports.js`) that polls the progress as JSON; without
//! scripts the page refreshes itself while the import runs.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};
use askama::Template;

use super::super::{HttpError, blocking};
use super::forms::{Empty, render};
use super::session::{SitePage, SitePost};
use super::upload::{Body, content_type, read_upload, upload_fields};
use super::{Layout, Section, page_routes};
use crate::services::ServiceError;
use crate::services::bulk::staged::{ApplyState, ApplyStatus, StagedImport};
use crate::services::bulk::{
    ImportCounts, ImportKind, ImportPhase, ImportReport, RowIssue, size_label, too_large_message,
};

page_routes! {
    get "/imports" => index, SiteAdmin;
    get "/imports/{kind}/template.csv" => template, SiteAdmin;
    post "/imports/{kind}" => upload, SiteAdmin;
    get "/imports/{import}" => show, SiteAdmin;
    post "/imports/{import}/apply" => apply, SiteAdmin;
    get "/imports/{import}/progress" => progress, SiteAdmin;
    get "/imports/{import}/report.csv" => report_csv, SiteAdmin;
}

/// The script of the preview page, bundled like the stylesheet.
pub(crate) const SCRIPT: &str = include_str!("../../../../static/imports.js");

/// Its URL carries a hash of its content (cached for a year, refetched
/// when it changes).
pub(crate) static SCRIPT_URL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "/static/imports.js?v={:016x}",
        super::fnv1a(SCRIPT.as_bytes())
    )
});

/// The preview page runs one script of ours and fetches its progress: its
/// policy allows exactly that, where every other page runs none.
const PREVIEW_CSP: &str = "default-src 'none'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; script-src 'self'; connect-src 'self'; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'";

#[derive(serde::Deserialize)]
pub(crate) struct KindPath {
    kind: String,
}

#[derive(serde::Deserialize)]
pub(crate) struct ImportPath {
    import: String,
}

/// `{kind}` of a path; an unknown one is no page.
fn kind_of(s: &str) -> Result<ImportKind, HttpError> {
    s.parse()
        .map_err(|_| HttpError::NotFoundPath(format!("there is no CSV import called {s:?}")))
}

/// How the upload page presents each kind.
struct About {
    title: &'static str,
    summary: &'static str,
    columns: &'static [(&'static str, &'static str)],
}

fn about(kind: ImportKind) -> About {
    match kind {
        ImportKind::Segments => About {
            title: "Create user segments",
            summary: "One user segment per row (Moodle: upload cohorts). An idnumber already \
                      used in the file or on the site is an error.",
            columns: &[
                ("name", "required"),
                ("idnumber", "optional, unique on the site"),
                ("description", "optional"),
                ("visible", "blank or yes; no, n, 0 or false hides it"),
            ],
        },
        ImportKind::SegmentMembers => About {
            title: "Add users to user segments",
            summary: "Adds each row's user to a segment; a user already in it stays, \
                      unchanged.",
            columns: &[
                ("username or email", "names the user"),
                ("segment", "the segment's idnumber or name"),
                (
                    "cohort1, cohort2, …",
                    "instead of segment, as in a Moodle user upload",
                ),
            ],
        },
        ImportKind::GroupMembers => About {
            title: "Add users to course groups",
            summary: "Puts each row's user into a group of a course. The group must exist \
                      and the user must be enrolled in the course.",
            columns: &[
                ("username or email", "names the user"),
                ("course", "the course's short name"),
                ("group", "the group's name or idnumber"),
            ],
        },
        ImportKind::Users => About {
            title: "Upload users",
            summary: "Creates the users of the file (Moodle: upload users). An existing \
                      username keeps its account; its row's segments, courses and groups \
                      are still added.",
            columns: &[
                ("username, email, firstname, lastname", "required"),
                (
                    "password",
                    "optional; without one the user cannot sign in yet",
                ),
                (
                    "profile_field_<name>",
                    "a profile field, e.g. profile_field_department",
                ),
                (
                    "cohort1…N",
                    "segments to add the user to (idnumber or name); one that does not exist is created",
                ),
                (
                    "course1…N, role1…N, group1…N",
                    "enrol in a course, with a role and a group (created if the course has none of that name)",
                ),
            ],
        },
    }
}

// ------------------------------------------------------- the upload page

pub(crate) struct FormatView {
    pub kind: &'static str,
    pub title: &'static str,
    pub summary: &'static str,
    pub columns: &'static [(&'static str, &'static str)],
    pub template_href: String,
    pub action: String,
    /// Why the last upload of this kind was refused (beside its field).
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/imports/index.html")]
pub(crate) struct IndexPage {
    pub layout: Layout,
    pub csrf: String,
    pub max_label: String,
    pub formats: Vec<FormatView>,
    /// The kind whose upload was refused, for the summary at the top.
    pub refused: Option<String>,
}

fn index_page(page: &SitePage, max_bytes: usize, error: Option<(ImportKind, String)>) -> IndexPage {
    let formats = ImportKind::ALL
        .into_iter()
        .map(|kind| {
            let a = about(kind);
            FormatView {
                kind: kind.as_str(),
                title: a.title,
                summary: a.summary,
                columns: a.columns,
                template_href: page.link(&format!("/imports/{kind}/template.csv")),
                action: page.link(&format!("/imports/{kind}")),
                error: error
                    .as_ref()
                    .filter(|(k, _)| *k == kind)
                    .map(|(_, m)| m.clone()),
            }
        })
        .collect();
    IndexPage {
        layout: Layout::signed_in(page, "Import from CSV", Section::Imports),
        csrf: page.csrf().to_owned(),
        max_label: size_label(max_bytes),
        refused: error.map(|(k, m)| format!("{}: {m}", about(k).title)),
        formats,
    }
}

/// The upload limit, asking the services whether `page`'s visitor may
/// import at all.
async fn limit_for(page: &SitePage) -> Result<usize, HttpError> {
    let services = page.site.services.clone();
    let who = page.principal().clone();
    blocking(move || services.import_limit(&who)).await
}

async fn index(page: SitePage) -> Result<HttpResponse, HttpError> {
    let max = limit_for(&page).await?;
    render(&index_page(&page, max, None), StatusCode::OK)
}

async fn template(page: SitePage, path: web::Path<KindPath>) -> Result<HttpResponse, HttpError> {
    let kind = kind_of(&path.kind)?;
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let csv = blocking(move || services.import_template(&who, kind)).await?;
    Ok(csv_attachment(
        &format!("{kind}-template.csv"),
        csv.to_owned(),
    ))
}

fn csv_attachment(filename: &str, body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

/// The upload page again, the refusal beside the kind's file field.
async fn refused(
    page: &SitePage,
    kind: ImportKind,
    message: String,
    status: StatusCode,
) -> Result<HttpResponse, HttpError> {
    let max = limit_for(page).await?;
    render(&index_page(page, max, Some((kind, message))), status)
}

/// A sentence for the page: capital first letter and a full stop.
fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    let mut out: String = match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => return String::new(),
    };
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

async fn upload(
    page: SitePage,
    path: web::Path<KindPath>,
    body: web::Payload,
) -> Result<HttpResponse, HttpError> {
    let kind = kind_of(&path.kind)?;
    let max = page.site.services.import_max_bytes();
    let body = match read_upload(&page.request, body, max).await? {
        Body::Within(body) => body,
        // Too large to hold, so its token is not read either: the answer
        // is the upload page, which changes nothing and shows only what
        // an admin may see (`refused` asks the services).
        Body::TooLarge(size) => {
            let message = sentence(&too_large_message(size, max));
            return refused(&page, kind, message, StatusCode::PAYLOAD_TOO_LARGE).await;
        }
    };
    let upload = upload_fields(&content_type(&page.request), &body, "file");
    // The same check as every form's: a missing or wrong token changes
    // nothing, not even the staged files.
    if !upload.token_is(page.csrf()) {
        return Err(HttpError::CsrfRejected);
    }
    let size = upload.file.len();
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let staged =
        blocking(move || services.stage_import(&who, kind, &upload.filename, upload.file)).await;
    match staged {
        Ok(staged) => Ok(HttpResponse::SeeOther()
            .insert_header((
                header::LOCATION,
                page.link(&format!("/imports/{}", staged.id)),
            ))
            .finish()),
        Err(HttpError::Service(ServiceError::Invalid { message, .. })) => {
            let status = if size > max {
                StatusCode::PAYLOAD_TOO_LARGE
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            refused(&page, kind, sentence(&message), status).await
        }
        Err(e) => Err(e),
    }
}

// ------------------------------------------------------ the preview page

pub(crate) struct IssueRow {
    pub row: u64,
    pub column: String,
    pub reason: String,
}

/// Errors or warnings of a report, as the page lists them.
pub(crate) struct IssueList {
    /// "2 errors", "1 warning".
    pub heading: String,
    pub rows: Vec<IssueRow>,
    /// "9,990 more are not listed; the report CSV has 10,000 of them."
    pub more: Option<String>,
}

fn count_label(n: u64, one: &str, many: &str) -> String {
    match n {
        1 => format!("1 {one}"),
        n => format!("{} {many}", thousands(n)),
    }
}

/// `12345` → `12,345`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The page lists this many issues of each kind; the CSV has them all.
const LISTED: usize = 500;

fn issue_list(issues: &[RowIssue], count: u64, one: &str, many: &str) -> Option<IssueList> {
    if count == 0 {
        return None;
    }
    let rows: Vec<IssueRow> = issues
        .iter()
        .take(LISTED)
        .map(|i| IssueRow {
            row: i.row,
            column: i.column.clone().unwrap_or_default(),
            reason: sentence(&i.reason),
        })
        .collect();
    let hidden = count.saturating_sub(rows.len() as u64);
    let more = (hidden > 0).then(|| {
        format!(
            "{} more not listed here; download the report for {}.",
            thousands(hidden),
            if issues.len() as u64 == count {
                "all of them".to_owned()
            } else {
                format!("the first {}", thousands(issues.len() as u64))
            }
        )
    });
    Some(IssueList {
        heading: count_label(count, one, many),
        rows,
        more,
    })
}

/// What a report's counts mean, in words: `would` for a preview, else
/// what was done.
fn changes_in_words(c: &ImportCounts, would: bool) -> Vec<String> {
    let verb = |future: &str, past: &str| if would { future } else { past }.to_owned();
    let mut out = Vec::new();
    let mut line = |n: u64, future: &str, past: &str, one: &str, many: &str| {
        if n > 0 {
            out.push(format!(
                "{} {}",
                verb(future, past),
                count_label(n, one, many)
            ));
        }
    };
    line(c.users_created, "Create", "Created", "user", "users");
    line(
        c.segments_created,
        "Create",
        "Created",
        "user segment",
        "user segments",
    );
    line(
        c.segment_members_added,
        "Add",
        "Added",
        "membership of a user segment",
        "memberships of user segments",
    );
    line(
        c.enrolments_changed,
        "Enrol or update",
        "Enrolled or updated",
        "enrolment",
        "enrolments",
    );
    line(
        c.groups_created,
        "Create",
        "Created",
        "course group",
        "course groups",
    );
    line(
        c.group_members_added,
        "Add",
        "Added",
        "membership of a course group",
        "memberships of course groups",
    );
    if c.unchanged > 0 {
        out.push(format!(
            "{} already in place, left unchanged",
            count_label(c.unchanged, "thing", "things")
        ));
    }
    out
}

/// The apply while it runs.
pub(crate) struct ProgressView {
    pub value: u64,
    pub max: u64,
    pub text: String,
    pub url: String,
}

fn progress_text(phase: ImportPhase, done: u64, total: u64) -> String {
    if total > 0 {
        format!(
            "{}: {} of {}",
            phase.label(),
            thousands(done.min(total)),
            thousands(total)
        )
    } else {
        format!("{}…", phase.label())
    }
}

#[derive(Template)]
#[template(path = "pages/imports/show.html")]
pub(crate) struct ShowPage {
    pub layout: Layout,
    pub heading: String,
    pub kind_title: String,
    pub filename: String,
    pub size: String,
    pub rows: String,
    pub uploaded_at: String,
    /// Which stage the page shows: `preview`, `running`, `applied`,
    /// `unchanged`, `refused` (the site changed since the preview) or
    /// `failed`.
    pub stage: &'static str,
    pub errors: Option<IssueList>,
    pub warnings: Option<IssueList>,
    /// What would change (preview) or changed (applied), in words.
    pub changes: Vec<String>,
    pub progress: Option<ProgressView>,
    pub failure: Option<String>,
    pub apply_action: String,
    pub csrf: String,
    pub report_href: String,
    pub upload_href: String,
    pub script: &'static str,
}

fn show_page(page: &SitePage, s: StagedImport) -> ShowPage {
    let base = format!("/imports/{}", s.id);
    let a = about(s.kind);
    // After an apply its own report is the one that counts.
    let (stage, report, progress, failure): (_, &ImportReport, _, _) = match &s.apply {
        ApplyState::NotStarted => ("preview", &s.preview, None, None),
        ApplyState::Running(p) => {
            let p = p.snapshot();
            let view = ProgressView {
                value: p.done.min(p.total),
                max: p.total,
                text: progress_text(p.phase, p.done, p.total),
                url: page.link(&format!("{base}/progress")),
            };
            ("running", &s.preview, Some(view), None)
        }
        ApplyState::Finished(r) if r.applied && r.changes.changed() > 0 => {
            ("applied", r, None, None)
        }
        ApplyState::Finished(r) if r.applied => ("unchanged", r, None, None),
        ApplyState::Finished(r) => ("refused", r, None, None),
        ApplyState::Failed(m) => ("failed", &s.preview, None, Some(sentence(m))),
    };
    let heading = match stage {
        "applied" | "unchanged" => format!("Imported {}", s.filename),
        "running" => format!("Importing {}", s.filename),
        _ => format!("Check {}", s.filename),
    };
    ShowPage {
        layout: Layout::signed_in(page, &heading, Section::Imports),
        heading,
        kind_title: a.title.to_owned(),
        size: size_label(s.size),
        rows: count_label(report.rows, "row", "rows"),
        uploaded_at: s.uploaded_at.to_string(),
        stage,
        errors: issue_list(&report.errors, report.error_count, "error", "errors"),
        warnings: issue_list(
            &report.warnings,
            report.warning_count,
            "warning",
            "warnings",
        ),
        changes: changes_in_words(&report.changes, stage == "preview" || stage == "running"),
        progress,
        failure,
        apply_action: page.link(&format!("{base}/apply")),
        csrf: page.csrf().to_owned(),
        report_href: page.link(&format!("{base}/report.csv")),
        upload_href: page.link(&format!("/imports#{}", s.kind)),
        script: SCRIPT_URL.as_str(),
        filename: s.filename,
    }
}

async fn staged(page: &SitePage, id: String) -> Result<StagedImport, HttpError> {
    let services = page.site.services.clone();
    let who = page.principal().clone();
    blocking(move || services.staged_import(&who, &id))
        .await
        .map_err(gone)
}

/// A staged file that is not (or no longer) there: say why it may have
/// gone, and what to do.
fn gone(e: HttpError) -> HttpError {
    match e {
        HttpError::Service(ServiceError::NotFound(_)) => HttpError::NotFoundPath(
            "This upload is not here. Uploads are kept for an hour, and only for the admin who              sent them; upload the file again."
                .into(),
        ),
        other => other,
    }
}

async fn show(page: SitePage, path: web::Path<ImportPath>) -> Result<HttpResponse, HttpError> {
    let s = staged(&page, path.into_inner().import).await?;
    let view = show_page(&page, s);
    let mut response = render(&view, StatusCode::OK)?;
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        header::HeaderValue::from_static(PREVIEW_CSP),
    );
    Ok(response)
}

async fn apply(
    post: SitePost<Empty>,
    path: web::Path<ImportPath>,
) -> Result<HttpResponse, HttpError> {
    let page = post.page;
    let id = path.into_inner().import;
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let target = id.clone();
    blocking(move || services.apply_staged_import(&who, &target))
        .await
        .map_err(gone)?;
    // Back to the same page: it shows the progress, or the outcome when a
    // small file is done already.
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, page.link(&format!("/imports/{id}"))))
        .finish())
}

/// `GET …/progress`: where the apply is, for the page's script.
#[derive(serde::Serialize)]
pub(crate) struct ProgressJson {
    /// `not-started`, `running` or `finished`.
    state: &'static str,
    phase: ImportPhase,
    label: String,
    done: u64,
    total: u64,
    text: String,
}

async fn progress(page: SitePage, path: web::Path<ImportPath>) -> Result<HttpResponse, HttpError> {
    let id = path.into_inner().import;
    let services = page.site.services.clone();
    let who = page.principal().clone();
    let status = blocking(move || services.staged_import_status(&who, &id))
        .await
        .map_err(gone)?;
    let (state, phase, done, total) = match status {
        ApplyStatus::NotStarted => ("not-started", ImportPhase::Waiting, 0, 0),
        ApplyStatus::Running(p) => ("running", p.phase, p.done, p.total),
        ApplyStatus::Ended => ("finished", ImportPhase::Done, 0, 0),
    };
    let body = ProgressJson {
        state,
        phase,
        label: phase.label().to_owned(),
        done,
        total,
        text: progress_text(phase, done, total),
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body))
}

async fn report_csv(
    page: SitePage,
    path: web::Path<ImportPath>,
) -> Result<HttpResponse, HttpError> {
    let s = staged(&page, path.into_inner().import).await?;
    let report = match &s.apply {
        ApplyState::Finished(r) => r,
        _ => &s.preview,
    };
    Ok(csv_attachment(
        &format!("{}-import-report.csv", s.kind),
        report.to_csv(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(sentence("the file is empty"), "The file is empty.");
        assert_eq!(sentence("Done."), "Done.");
    }
}
