//! The CSV import pages: upload → preview (errors first) → apply with a
//! progress → outcome, the report and template downloads, the size limit,
//! and staged files kept to their uploader.

use std::time::{Duration, Instant};

use actix_web::http::{StatusCode, header};
use actix_web::test::TestRequest;

use super::{Answer, Pages};
use crate::domain::SessionSubject;
use crate::services::bulk::staged::ApplyState;
use crate::services::bulk::{ImportKind, template_csv};
use crate::services::users::NewUser;

const BOUNDARY: &str = "----charonTestBoundary7MA4YWxk";

/// A browser's multipart body of the upload form.
fn multipart(token: &str, filename: &str, file: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{token}\r\n\
         --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n\
         Content-Type: text/csv\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn upload(p: &Pages, kind: &str, secret: &str, token: &str, file: &[u8]) -> Answer {
    let req = TestRequest::post()
        .uri(&format!("/s/acme/imports/{kind}"))
        .insert_header((
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        ))
        .set_payload(multipart(token, "people.csv", file));
    p.call(p.with_cookie(req, Some(secret))).await
}

/// Uploads as the admin and returns the preview's path.
async fn staged(p: &Pages, kind: &str, file: &str) -> String {
    let token = p.csrf(&p.admin);
    let answer = upload(p, kind, &p.admin, &token, file.as_bytes()).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let location = answer.location().to_owned();
    assert!(location.starts_with("/s/acme/imports/"), "{location}");
    location
}

fn id_of(path: &str) -> String {
    path.rsplit('/').next().unwrap_or_default().to_owned()
}

/// Posts, as `who`, the form of the staged import at `path` that applies it.
async fn apply(p: &Pages, path: &str, who: &str) -> Answer {
    let token = p.csrf(who);
    p.post(
        &format!("{path}/apply"),
        Some(who),
        &format!("csrf={token}"),
    )
    .await
}

/// Waits for the background apply of `id` to end.
fn wait_for_apply(p: &Pages, id: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let s = p.fx.site.staged_import(&p.fx.admin, id).expect("staged");
        if !matches!(s.apply, ApplyState::Running(_) | ApplyState::NotStarted) {
            return;
        }
        assert!(Instant::now() < deadline, "the apply never ended");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn header_of(a: &Answer, name: header::HeaderName) -> &str {
    a.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

fn segment_members(p: &Pages) -> Vec<String> {
    p.fx.site
        .find_segment_members(&p.fx.admin, p.fx.hr, None, None, 100)
        .expect("members")
        .users
        .items
        .into_iter()
        .map(|u| u.username)
        .collect()
}

#[actix_web::test]
async fn the_upload_page_offers_every_format_with_its_columns_template_and_a_labelled_field() {
    let p = Pages::new();
    let page = p.get("/s/acme/imports", Some(&p.admin)).await;
    assert_eq!(page.status, StatusCode::OK);
    for kind in ImportKind::ALL {
        assert!(
            page.body
                .contains(&format!("href=\"/s/acme/imports/{kind}/template.csv\"")),
            "template of {kind}"
        );
        assert!(
            page.body
                .contains(&format!("action=\"/s/acme/imports/{kind}\"")),
            "form of {kind}"
        );
        assert!(
            page.body
                .contains(&format!("<label for=\"f-file-{kind}\">")),
            "the file field of {kind} has a label"
        );
    }
    for title in [
        "Create user segments",
        "Add users to user segments",
        "Add users to course groups",
        "Upload users",
        "at most 10 MiB",
    ] {
        assert!(page.body.contains(title), "{title}");
    }
    assert!(
        page.body.contains("enctype=\"multipart/form-data\""),
        "the forms send files"
    );
    assert!(
        page.body.contains("aria-current=\"page\">Imports</a>"),
        "the nav marks the section"
    );
    let dashboard = p.get("/s/acme/dashboard", Some(&p.admin)).await;
    assert!(dashboard.body.contains("href=\"/s/acme/imports\""));
    let learner = p.get("/s/acme/dashboard", Some(&p.learner)).await;
    assert!(
        !learner.body.contains("/s/acme/imports"),
        "no link for those who cannot import"
    );
}

#[actix_web::test]
async fn a_file_with_errors_shows_them_first_offers_no_apply_and_writes_nothing() {
    let p = Pages::new();
    let before = p.fx.snapshot();
    let path = staged(
        &p,
        "group-members",
        "username,course,group,notes\r\nlearner1,COMP101,Team B,x\r\nnobody,COMP101,Team B,y\r\nlearner2,COMP101,Team Z,z\r\n",
    )
    .await;
    let page = p.get(&path, Some(&p.admin)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let body = &page.body;
    assert!(body.contains("people.csv"), "the file's name");
    assert!(body.contains("Add users to course groups"), "the kind");
    assert!(body.contains("3 rows"), "{body}");
    assert!(body.contains("2 errors"), "{body}");
    assert!(body.contains("Nothing will be written"), "{body}");
    assert!(
        body.contains("<td class=\"num\">3</td>"),
        "the row of the unknown user"
    );
    assert!(body.contains("<code>username</code>"), "its column");
    assert!(
        body.contains("<code>group</code>"),
        "the unknown group's column"
    );
    let errors_at = body.find("errors-heading").expect("errors");
    let warnings_at = body.find("warnings-heading").expect("warnings");
    assert!(errors_at < warnings_at, "errors come first");
    assert!(body.contains("1 warning"), "the ignored column");
    assert!(!body.contains(">Apply</button>"), "no Apply with errors");
    assert!(body.contains("upload the corrected file"));
    assert!(body.contains("Download report (CSV)"));

    // Applying anyway (a forged form) is refused, and writes nothing.
    let id = id_of(&path);
    let forced = apply(&p, &path, &p.admin).await;
    assert_eq!(forced.status, StatusCode::CONFLICT, "{}", forced.body);
    let s = p.fx.site.staged_import(&p.fx.admin, &id).expect("staged");
    assert!(matches!(s.apply, ApplyState::NotStarted));
    p.fx.assert_unchanged(&before);
}

#[actix_web::test]
async fn a_file_with_a_header_and_no_rows_is_refused_with_no_apply() {
    let p = Pages::new();
    let path = staged(&p, "segments", "name,idnumber\r\n").await;
    let page = p.get(&path, Some(&p.admin)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("he file has a header but no rows"),
        "{}",
        page.body
    );
    assert!(!page.body.contains(">Apply</button>"), "{}", page.body);
}

#[actix_web::test]
async fn a_good_file_is_previewed_then_applied_with_progress_and_its_changes_are_on_the_site() {
    let p = Pages::new();
    let before = p.fx.snapshot();
    let path = staged(
        &p,
        "segment-members",
        "username,segment\nlearner4,hr\nlearner5,hr\nlearner1,hr\n",
    )
    .await;
    let preview = p.get(&path, Some(&p.admin)).await;
    assert_eq!(preview.status, StatusCode::OK);
    assert!(
        preview.body.contains("Applying the file would"),
        "{}",
        preview.body
    );
    assert!(
        preview.body.contains("Add 2 memberships of user segments"),
        "{}",
        preview.body
    );
    assert!(
        preview
            .body
            .contains("1 thing already in place, left unchanged")
    );
    assert!(preview.body.contains(">Apply</button>"));
    assert!(
        !preview.body.contains("<progress"),
        "no bar before the apply"
    );
    p.fx.assert_unchanged(&before);

    let progress = p.get(&format!("{path}/progress"), Some(&p.admin)).await;
    assert_eq!(progress.status, StatusCode::OK);
    assert!(header_of(&progress, header::CONTENT_TYPE).starts_with("application/json"));
    let json: serde_json::Value = serde_json::from_str(&progress.body).expect("json");
    assert_eq!(json["state"], "not-started", "{json}");

    let applied = apply(&p, &path, &p.admin).await;
    assert_eq!(applied.status, StatusCode::SEE_OTHER, "{}", applied.body);
    assert_eq!(applied.location(), path, "back to the same page");
    wait_for_apply(&p, &id_of(&path));

    let mut members = segment_members(&p);
    members.sort();
    assert_eq!(
        members,
        ["learner1", "learner2", "learner3", "learner4", "learner5"]
    );
    let done = p.get(&path, Some(&p.admin)).await;
    assert!(done.body.contains("The file is imported."), "{}", done.body);
    assert!(done.body.contains("What changed"));
    assert!(done.body.contains("Added 2 memberships of user segments"));
    assert!(!done.body.contains(">Apply</button>"), "applied once");
    let progress = p.get(&format!("{path}/progress"), Some(&p.admin)).await;
    let json: serde_json::Value = serde_json::from_str(&progress.body).expect("json");
    assert_eq!(json["state"], "finished", "{json}");
    assert_eq!(json["phase"], "done", "{json}");

    // A resent form applies nothing more.
    let after = p.fx.snapshot();
    let again = apply(&p, &path, &p.admin).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    p.fx.assert_unchanged(&after);
}

#[actix_web::test]
async fn the_running_page_shows_a_progress_bar_polled_by_a_script_or_a_refresh() {
    let p = Pages::new();
    let path = staged(&p, "segment-members", "username,segment\nlearner4,hr\n").await;
    let id = id_of(&path);
    // A running apply, as the page sees it between two polls.
    let progress = std::sync::Arc::new(crate::services::bulk::ImportProgress::default());
    progress.start(crate::services::bulk::ImportPhase::Applying, 2000);
    progress.advance(512);
    p.fx.site.pretend_running(&id, progress);
    let page = p.get(&path, Some(&p.admin)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains("<progress id=\"import-progress\" max=\"2000\" value=\"512\">"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Writing changes: 512 of 2,000"));
    assert!(page.body.contains("<noscript><meta http-equiv=\"refresh\""));
    assert!(page.body.contains("<script src=\"/static/imports.js?v="));
    assert!(
        page.body
            .contains(&format!("data-progress-url=\"{path}/progress\""))
    );
    let csp = header_of(&page, header::CONTENT_SECURITY_POLICY);
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline'; script") && !csp.contains("script-src 'unsafe"));
    let json = p.get(&format!("{path}/progress"), Some(&p.admin)).await;
    let json: serde_json::Value = serde_json::from_str(&json.body).expect("json");
    assert_eq!(json["state"], "running");
    assert_eq!(json["phase"], "applying");
    assert_eq!(
        (json["done"].as_u64(), json["total"].as_u64()),
        (Some(512), Some(2000))
    );

    let script = p.get("/static/imports.js", None).await;
    assert_eq!(script.status, StatusCode::OK);
    assert!(header_of(&script, header::CONTENT_TYPE).starts_with("text/javascript"));
    // Other pages still run no script at all.
    let index = p.get("/s/acme/imports", Some(&p.admin)).await;
    let csp = header_of(&index, header::CONTENT_SECURITY_POLICY);
    assert!(!csp.contains("script-src"), "{csp}");
}

#[actix_web::test]
async fn reports_and_templates_download_as_csv_attachments_with_formulas_escaped() {
    let p = Pages::new();
    for kind in ImportKind::ALL {
        let t = p
            .get(
                &format!("/s/acme/imports/{kind}/template.csv"),
                Some(&p.admin),
            )
            .await;
        assert_eq!(t.status, StatusCode::OK);
        assert!(header_of(&t, header::CONTENT_TYPE).starts_with("text/csv"));
        assert_eq!(
            header_of(&t, header::CONTENT_DISPOSITION),
            format!("attachment; filename=\"{kind}-template.csv\"")
        );
        assert_eq!(t.body, template_csv(kind));
    }
    let unknown = p
        .get("/s/acme/imports/grades/template.csv", Some(&p.admin))
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    let path = staged(
        &p,
        "segment-members",
        "username,segment,=1+2\nnobody,hr,x\n",
    )
    .await;
    let report = p.get(&format!("{path}/report.csv"), Some(&p.admin)).await;
    assert_eq!(report.status, StatusCode::OK);
    assert!(header_of(&report, header::CONTENT_TYPE).starts_with("text/csv"));
    assert_eq!(
        header_of(&report, header::CONTENT_DISPOSITION),
        "attachment; filename=\"segment-members-import-report.csv\""
    );
    let mut lines = report.body.lines();
    assert_eq!(lines.next(), Some("row,column,severity,reason"));
    assert!(report.body.contains("2,username,error,"), "{}", report.body);
    assert!(
        report.body.contains("1,'=1+2,warning,"),
        "a formula is text: {}",
        report.body
    );
}

#[actix_web::test]
async fn a_file_over_the_limit_is_refused_beside_its_field_and_nothing_is_kept() {
    let p = Pages::new();
    p.fx.services.set_import_max_bytes(1024);
    let before = p.fx.snapshot();
    let token = p.csrf(&p.admin);
    let mut file = b"username,segment\n".to_vec();
    while file.len() < 3000 {
        file.extend_from_slice(b"learner4,hr\n");
    }
    let answer = upload(&p, "segment-members", &p.admin, &token, &file).await;
    assert_eq!(
        answer.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        answer.body
    );
    assert!(
        answer
            .body
            .contains("The file is 2.9 KiB; the largest upload is 1 KiB."),
        "{}",
        answer.body
    );
    assert!(answer.body.contains("id=\"f-file-segment-members-error\""));
    assert!(answer.body.contains("aria-invalid=\"true\""));
    assert!(answer.body.contains("at most 1 KiB"));

    // Far over: refused by its declared length, without holding it.
    let huge = vec![b'a'; 300 * 1024];
    let answer = upload(&p, "segment-members", &p.admin, &token, &huge).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        answer.body.contains("the largest upload is 1 KiB"),
        "{}",
        answer.body
    );

    // The JSON API has the same limit.
    p.fx.assert_unchanged(&before);
}

#[actix_web::test]
async fn an_upload_without_its_token_or_file_is_refused() {
    let p = Pages::new();
    let before = p.fx.snapshot();
    for token in ["", "wrong", &p.csrf(&p.teacher)] {
        let answer = upload(&p, "segments", &p.admin, token, b"name\nX\n").await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "token {token:?}");
        assert!(answer.body.contains("nothing was changed"));
    }
    let token = p.csrf(&p.admin);
    let empty = upload(&p, "segments", &p.admin, &token, b"").await;
    empty.assert_shows(
        StatusCode::UNPROCESSABLE_ENTITY,
        "Choose a CSV file to upload",
    );
    let teacher = upload(
        &p,
        "segments",
        &p.teacher,
        &p.csrf(&p.teacher),
        b"name\nX\n",
    )
    .await;
    assert_eq!(teacher.status, StatusCode::FORBIDDEN);
    p.fx.assert_unchanged(&before);
}

#[actix_web::test]
async fn a_staged_file_is_its_uploaders_alone() {
    let p = Pages::new();
    let path = staged(&p, "segment-members", "username,segment\nlearner4,hr\n").await;
    let id = id_of(&path);
    // Another admin of the same site.
    let other =
        p.fx.site
            .create_user(
                &p.fx.operator,
                NewUser {
                    username: "admin2".into(),
                    email: "admin2@example.org".into(),
                    firstname: "Other".into(),
                    lastname: "Admin".into(),
                    site_admin: true,
                    ..Default::default()
                },
            )
            .expect("admin2")
            .id;
    let other = p.fx.services.test_session(SessionSubject::SiteUser {
        site: p.fx.id(),
        user: other,
    });
    let before = p.fx.snapshot();
    for suffix in ["", "/progress", "/report.csv"] {
        let a = p.get(&format!("{path}{suffix}"), Some(&other)).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{path}{suffix}");
    }
    let a = apply(&p, &path, &other).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    // The other site's admin, on their own site, with this id.
    let beta = p
        .get(&format!("/s/beta/imports/{id}"), Some(&p.beta_admin))
        .await;
    assert!(
        beta.status == StatusCode::NOT_FOUND || beta.sends_to_sign_in(),
        "{}",
        beta.status
    );
    let beta_site = p.beta.site.staged_import(&p.beta.admin, &id);
    assert!(
        matches!(beta_site, Err(crate::services::ServiceError::NotFound(_))),
        "{beta_site:?}"
    );
    // An unknown id says the same.
    let unknown = p.get("/s/acme/imports/0123abcd", Some(&p.admin)).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(
        unknown.body.contains("Uploads are kept for an hour"),
        "says why it may be gone: {}",
        unknown.body
    );
    p.fx.assert_unchanged(&before);
    let mine = p.get(&path, Some(&p.admin)).await;
    assert_eq!(mine.status, StatusCode::OK);
}

#[actix_web::test]
async fn a_file_the_site_outgrew_since_its_preview_writes_nothing_and_says_why() {
    let p = Pages::new();
    let path = staged(&p, "segment-members", "username,segment\nlearner4,hr\n").await;
    // Between the preview and the apply, someone deletes the segment.
    p.fx.site
        .delete_segment(&p.fx.admin, p.fx.hr)
        .expect("delete");
    let before = p.fx.snapshot();
    let applied = apply(&p, &path, &p.admin).await;
    assert_eq!(applied.status, StatusCode::SEE_OTHER);
    wait_for_apply(&p, &id_of(&path));
    p.fx.assert_unchanged(&before);
    let page = p.get(&path, Some(&p.admin)).await;
    assert!(page.body.contains("Nothing was written"), "{}", page.body);
    assert!(page.body.contains("The site changed since the preview"));
    assert!(page.body.contains("1 error"), "the apply's own errors");
    let report = p.get(&format!("{path}/report.csv"), Some(&p.admin)).await;
    assert!(report.body.contains("2,segment,error,"), "{}", report.body);
}
