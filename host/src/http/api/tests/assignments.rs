//! `/sections/{id}/assignments`, `/assignments/{id}[/…]` and
//! `/submissions/{id}[/…]`: an assignment created and read back, a
//! learner's text and a 10 MiB file as a raw `PUT`, a file over the limit
//! (422 naming it, nothing written), another learner's submission and file
//! as 404, grading within bounds with sanitised feedback, and the
//! learner's grade.

use actix_web::http::{Method, StatusCode, header};
use actix_web::test::TestRequest;
use serde_json::json;

use super::ApiTest;
use super::support::call;
use crate::http::AppState;

fn settings(max_file_bytes: u64) -> serde_json::Value {
    json!({
        "max_grade": 20,
        "online_text": true,
        "file_submissions": true,
        "max_file_bytes": max_file_bytes,
        "max_files": 2,
        "group_submission": false,
    })
}

fn put_file(path: &str, ty: &str, bytes: Vec<u8>) -> TestRequest {
    TestRequest::default()
        .method(Method::PUT)
        .uri(&format!("/s/acme/api/v1{path}"))
        .insert_header((header::CONTENT_TYPE, ty.to_owned()))
        .set_payload(bytes)
}

#[actix_web::test]
async fn a_learner_submits_text_and_a_ten_mib_file_and_reads_the_teachers_grade() {
    let t = ApiTest::new();
    let section = t.fx.section(t.fx.course, "Week 1").0;
    let (status, created) = t
        .teacher()
        .post(
            &format!("/sections/{section}/assignments"),
            json!({"name": "Report", "instructions": "Write *it*.", "settings": settings(16 << 20)}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["instructions_html"], "<p>Write <em>it</em>.</p>\n");
    assert_eq!(created["counts"]["submitted"], 0);
    let id = created["id"].as_u64().unwrap();

    let (status, mine) = t
        .learner()
        .get(&format!("/assignments/{id}/submission"))
        .await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    assert_eq!(mine["state"], "not_submitted");

    // The file's bytes as the body; its name in the path.
    let big: Vec<u8> = (0..10 << 20).map(|i: u32| (i % 251) as u8).collect();
    let (status, mine) = t
        .learner()
        .send(put_file(
            &format!("/assignments/{id}/submission/files/report.pdf"),
            "application/pdf",
            big.clone(),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    assert_eq!(mine["state"], "draft");
    let file = &mine["submission"]["files"][0];
    assert_eq!(file["bytes"], 10 << 20);
    let sha = file["sha256"].as_str().unwrap().to_owned();
    let submission = mine["submission"]["id"].as_u64().unwrap();

    let (status, mine) = t
        .learner()
        .put(
            &format!("/assignments/{id}/submission"),
            json!({"text": "See the *file*.", "submit": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    assert_eq!(mine["state"], "submitted");
    assert_eq!(mine["submission"]["files"][0]["sha256"], sha.as_str());

    // Read back, byte for byte, as an attachment.
    let req = TestRequest::get()
        .uri(&format!(
            "/s/acme/api/v1/submissions/{submission}/files/{sha}"
        ))
        .insert_header(("Authorization", format!("Bearer {}", t.teacher)));
    let (status, headers, body) = call(AppState::new(t.fx.services.clone()), req).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body.as_ref(), big.as_slice());
    assert_eq!(
        headers.get(header::CONTENT_TYPE).unwrap(),
        "application/pdf"
    );
    assert!(
        headers
            .get(header::CONTENT_DISPOSITION)
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );

    // Another learner of the course: 404 for the submission and the file.
    let other = t.token_of(t.fx.learners[1]);
    let (status, _) = t
        .client(Some(&other))
        .get(&format!("/submissions/{submission}"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = t
        .client(Some(&other))
        .get(&format!("/submissions/{submission}/files/{sha}"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Grading: out of bounds is 422 naming the field, nothing written.
    let before = t.fx.snapshot();
    for bad in [json!(20.5), json!(-1)] {
        let (status, err) = t
            .teacher()
            .put(
                &format!("/submissions/{submission}/grade"),
                json!({"grade": bad}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
        assert_eq!(err["error"]["field"], "grade");
    }
    t.fx.assert_unchanged(&before);
    let (status, err) = t
        .learner()
        .put(
            &format!("/submissions/{submission}/grade"),
            json!({"grade": 20}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{err}");
    let (status, graded) = t
        .teacher()
        .put(
            &format!("/submissions/{submission}/grade"),
            json!({"grade": 17.5, "feedback": "<script>x()</script>\n\n**Thorough**"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{graded}");
    assert_eq!(graded[0]["grade"], 17.5);
    let (status, mine) = t
        .learner()
        .get(&format!("/assignments/{id}/submission"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(mine["grade"]["grade"], 17.5);
    let html = mine["grade"]["feedback_html"].as_str().unwrap();
    assert!(
        html.contains("<strong>Thorough</strong>") && !html.contains("<script"),
        "{html}"
    );
    let (status, grades) = t.teacher().get(&format!("/assignments/{id}/grades")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(grades["grades"].as_array().unwrap().len(), 1);
    let (_, list) = t
        .teacher()
        .get(&format!("/assignments/{id}/submissions"))
        .await;
    assert_eq!(list["submissions"][0]["grade"], 17.5);
}

#[actix_web::test]
async fn a_file_over_the_assignments_limit_is_422_naming_it_and_writes_nothing() {
    let t = ApiTest::new();
    let section = t.fx.section(t.fx.course, "Week 1").0;
    let (_, created) = t
        .teacher()
        .post(
            &format!("/sections/{section}/assignments"),
            json!({"name": "Small", "settings": settings(1024)}),
        )
        .await;
    let id = created["id"].as_u64().unwrap();
    let before = t.fx.snapshot();
    let (status, err) = t
        .learner()
        .send(put_file(
            &format!("/assignments/{id}/submission/files/big.bin"),
            "application/octet-stream",
            vec![0; 2048],
        ))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert_eq!(err["error"]["field"], "file");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("at most 1 KiB"),
        "{err}"
    );
    t.fx.assert_unchanged(&before);
    // The teacher does not submit.
    let (status, _) = t
        .teacher()
        .put(
            &format!("/assignments/{id}/submission"),
            json!({"text": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    t.fx.assert_unchanged(&before);
}
