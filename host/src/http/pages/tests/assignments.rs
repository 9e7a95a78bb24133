//! Page tests of `assignments`: a teacher creates an assignment with the
//! form, a learner saves and submits text and a file through the
//! multipart form, a file over the limit comes back on the page naming
//! the limit with nothing written, the teacher filters and grades, the
//! learner sees grade and feedback (never a script), and downloads are
//! attachments that never render uploaded HTML.

use actix_web::http::{StatusCode, header};
use actix_web::test::TestRequest;

use super::Pages;
use crate::domain::*;
use crate::services::assignments::AssignmentInput;

pub(super) fn form_body(token: &str, fields: &[(&str, &str)]) -> String {
    let mut body = format!("csrf={token}");
    for (k, v) in fields {
        body.push_str(&format!(
            "&{k}={}",
            crate::http::pages::session::url_escape(v)
        ));
    }
    body
}

/// A `multipart/form-data` body of `fields` and one file, as a browser
/// sends the submission form.
fn multipart(fields: &[(&str, &str)], file: Option<(&str, &str, &[u8])>) -> (String, Vec<u8>) {
    let boundary = "----charonTestBoundary";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    if let Some((name, ty, bytes)) = file {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: {ty}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

pub(super) async fn post_multipart(
    p: &Pages,
    url: &str,
    secret: &str,
    fields: &[(&str, &str)],
    file: Option<(&str, &str, &[u8])>,
) -> super::Answer {
    let (content_type, body) = multipart(fields, file);
    let req = TestRequest::post()
        .uri(url)
        .insert_header((header::CONTENT_TYPE, content_type))
        .cookie(actix_web::cookie::Cookie::new(
            "charon_session",
            secret.to_owned(),
        ))
        .set_payload(body);
    p.call(req).await
}

#[actix_web::test]
async fn a_teacher_creates_an_assignment_a_learner_submits_and_sees_the_grade() {
    let p = Pages::new();
    let token = p.csrf(&p.teacher);
    let new = format!("/s/acme/sections/{}/assignments/new", p.fx.section);
    p.get(&new, Some(&p.teacher))
        .await
        .assert_shows(StatusCode::OK, "Group submission (one per group)");
    let create = format!("/s/acme/sections/{}/assignments", p.fx.section);
    // A bad maximum grade comes back on the form, nothing written.
    let before = p.fx.snapshot();
    let fields = [
        ("name", "Policy summary"),
        ("description", "Summarise the **policy**."),
        ("visible", "1"),
        ("max_grade", "-3"),
        ("online_text", "1"),
        ("file_submissions", "1"),
        ("max_file_mib", "0.0009765625"),
        ("max_files", "2"),
    ];
    p.post(&create, Some(&p.teacher), &form_body(&token, &fields))
        .await
        .assert_form_refused("must be a number above 0");
    p.fx.assert_unchanged(&before);
    let mut fields = fields;
    fields[3] = ("max_grade", "10");
    let created = p
        .post(&create, Some(&p.teacher), &form_body(&token, &fields))
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let page_url = created.location().to_owned();
    let id: u64 = page_url.rsplit('/').next().unwrap().parse().unwrap();

    // The learner: not submitted, then a draft with a file, then submitted.
    let learner_page = p.get(&page_url, Some(&p.learner)).await;
    learner_page.assert_shows(StatusCode::OK, "id=\"submission-status\">Not submitted");
    assert!(learner_page.body.contains("<strong>policy</strong>"));
    let submit_url = format!("/s/acme/assignments/{id}/submission");
    let ltoken = p.csrf(&p.learner);
    // Over the limit (1 KiB here): the page again, naming the limit.
    let before = p.fx.snapshot();
    let big = vec![b'x'; 4096];
    let refused = post_multipart(
        &p,
        &submit_url,
        &p.learner,
        &[("csrf", &ltoken), ("text", "draft"), ("action", "draft")],
        Some(("big.pdf", "application/pdf", &big)),
    )
    .await;
    refused.assert_form_refused("accepts files of at most 1 KiB");
    p.fx.assert_unchanged(&before);
    // Without the token: refused, nothing written.
    let no_token = post_multipart(&p, &submit_url, &p.learner, &[("text", "x")], None).await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);
    p.fx.assert_unchanged(&before);

    let saved = post_multipart(
        &p,
        &submit_url,
        &p.learner,
        &[
            ("csrf", &ltoken),
            ("text", "My *summary*"),
            ("action", "draft"),
        ],
        Some(("page.html", "text/html", b"<script>alert(1)</script>")),
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let draft = p.get(&page_url, Some(&p.learner)).await;
    draft.assert_shows(StatusCode::OK, "id=\"submission-status\">Draft");
    assert!(draft.body.contains("page.html"));
    let submitted = post_multipart(
        &p,
        &submit_url,
        &p.learner,
        &[
            ("csrf", &ltoken),
            ("text", "My *summary*"),
            ("action", "submit"),
        ],
        None,
    )
    .await;
    assert_eq!(
        submitted.status,
        StatusCode::SEE_OTHER,
        "{}",
        submitted.body
    );
    let done = p.get(&page_url, Some(&p.learner)).await;
    done.assert_shows(StatusCode::OK, "id=\"submission-status\">Submitted");
    assert!(
        !done.body.contains("id=\"submission-form\""),
        "no form once submitted"
    );

    // The uploaded HTML downloads as an attachment of the generic type.
    let view =
        p.fx.site
            .assignment(&p.fx.learner(0), ActivityId(id), None)
            .unwrap();
    let submission = view.learner.unwrap().submission.unwrap().submission;
    let file = format!(
        "/s/acme/submissions/{}/files/{}",
        submission.id,
        submission.files[0].sha256_hex()
    );
    let download = p.get(&file, Some(&p.learner)).await;
    assert_eq!(download.status, StatusCode::OK);
    assert_eq!(
        download.headers.get(header::CONTENT_TYPE).unwrap(),
        "application/octet-stream"
    );
    let disposition = download
        .headers
        .get(header::CONTENT_DISPOSITION)
        .unwrap()
        .to_str()
        .unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"page.html\""),
        "{disposition}"
    );
    assert_eq!(download.body, "<script>alert(1)</script>");
    // Another learner of the course: not found, for the page and the file.
    let other = p.fx.services.test_session(SessionSubject::SiteUser {
        site: p.fx.id(),
        user: p.fx.learners[1],
    });
    let sub_url = format!("/s/acme/submissions/{}", submission.id);
    assert_eq!(
        p.get(&sub_url, Some(&other)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        p.get(&file, Some(&other)).await.status,
        StatusCode::NOT_FOUND
    );

    // The teacher lists, grades, and a script in the feedback never renders.
    let list = p
        .get(
            &format!("/s/acme/assignments/{id}/submissions"),
            Some(&p.teacher),
        )
        .await;
    list.assert_shows(StatusCode::OK, "learner1 Test");
    let grade_url = format!("/s/acme/submissions/{}/grade", submission.id);
    p.post(
        &grade_url,
        Some(&p.teacher),
        &form_body(&token, &[("grade", "11"), ("feedback", "")]),
    )
    .await
    .assert_form_refused("grades lie between 0 and 10");
    let graded = p
        .post(
            &grade_url,
            Some(&p.teacher),
            &form_body(
                &token,
                &[
                    ("grade", "8.5"),
                    ("feedback", "<script>alert(2)</script>\n\n**Clear**"),
                ],
            ),
        )
        .await;
    assert_eq!(graded.status, StatusCode::SEE_OTHER, "{}", graded.body);
    let mine = p.get(&page_url, Some(&p.learner)).await;
    mine.assert_shows(StatusCode::OK, "id=\"grade-value\">8.5 / 10");
    assert!(mine.body.contains("<strong>Clear</strong>"));
    assert!(!mine.body.contains("<script>alert(2)"), "{}", mine.body);
}

#[actix_web::test]
async fn a_non_editing_teacher_filters_submissions_by_their_own_groups_only() {
    let p = Pages::new();
    let fx = &p.fx;
    fx.site
        .add_group_members(&fx.admin, fx.team_b, &[fx.learners[2]])
        .unwrap();
    let id = fx.assignment("Report", AssignmentInput::default());
    fx.site
        .save_submission(
            &fx.learner(2),
            id,
            crate::services::assignments::SubmissionInput {
                text: Some("B's work".into()),
                submit: true,
                ..Default::default()
            },
        )
        .unwrap();
    let ta = fx.non_editing_teacher_in("ta", fx.team_a);
    let ta = fx.services.test_session(SessionSubject::SiteUser {
        site: fx.id(),
        user: ta,
    });
    let url = format!("/s/acme/assignments/{id}/submissions");
    let mine = p.get(&url, Some(&ta)).await;
    mine.assert_shows(StatusCode::OK, "No submissions");
    assert!(!mine.body.contains("learner3"), "{}", mine.body);
    assert!(
        !mine.body.contains("Team B"),
        "the filter offers only their groups"
    );
    let b = p
        .get(&format!("{url}?group={}", fx.team_b), Some(&ta))
        .await;
    assert_eq!(b.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", b.body);
    let teacher = p
        .get(&format!("{url}?group={}", fx.team_b), Some(&p.teacher))
        .await;
    teacher.assert_shows(StatusCode::OK, "learner3 Test");
}
