//! `/courses/{id}/grade-items`, `/grade-items/{id}`, `/courses/{id}/grades`
//! (report and bulk save), `/courses/{id}/my-grades`,
//! `/courses/{id}/grade-statistics`, `/courses/{id}/grade-imports` and
//! `/courses/{id}/grade-exports/{format}`: a column saved in one request,
//! a refused save listing each cell and writing nothing, a learner kept to
//! their own grades, the statistics, a CSV import and the exports as
//! attachments.

use actix_web::http::{Method, StatusCode, header};
use actix_web::test::TestRequest;
use serde_json::json;

use super::ApiTest;
use super::support::{call, code};
use crate::http::AppState;
use crate::services::testing::TestSite;

#[actix_web::test]
async fn a_teacher_adds_an_item_saves_a_column_and_reads_the_report() {
    let t = ApiTest::with(TestSite::new().with_teams());
    let course = t.fx.course.0;
    let (status, item) = t
        .teacher()
        .post(
            &format!("/courses/{course}/grade-items"),
            json!({"kind": "manual", "name": "Practical check", "max_grade": 50, "pass_grade": 25}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{item}");
    assert_eq!(item["kind"], "manual");
    let id = item["id"].as_u64().unwrap();
    let l = &t.fx.learners;
    let column: Vec<_> = l[0..4]
        .iter()
        .zip([40, 30, 20, 10])
        .map(|(u, v)| json!({"user": u.0, "item": id, "value": v}))
        .collect();
    let (status, saved) = t
        .teacher()
        .patch(
            &format!("/courses/{course}/grades"),
            json!({"grades": column}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["changed"], 4);
    let (status, report) = t
        .teacher()
        .get(&format!(
            "/courses/{course}/grades?sort={id}&desc=true&per_page=2"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["total"], 4);
    assert_eq!(report["rows"].as_array().unwrap().len(), 2);
    assert_eq!(report["rows"][0]["user"], l[0].0);
    assert_eq!(report["rows"][0]["groups"], json!(["Team A"]));
    // The course total: 40/50 → 80.
    let cells = report["rows"][0]["cells"].as_array().unwrap();
    assert_eq!(cells.last().unwrap()["value"], 80.0);
    assert_eq!(report["means"][0], 25.0);
}

#[actix_web::test]
async fn a_refused_save_lists_each_cell_and_writes_nothing() {
    let t = ApiTest::with(TestSite::new().with_teams());
    let s = t.fx.gradebook_sample();
    let course = t.fx.course.0;
    let l = &t.fx.learners;
    let before = t.fx.snapshot();
    let (status, body) = t
        .teacher()
        .patch(
            &format!("/courses/{course}/grades"),
            json!({"grades": [
                {"user": l[0].0, "item": s.quiz.0, "value": 9},
                {"user": l[1].0, "item": s.quiz.0, "value": 10.5},
                {"user": 999, "item": s.quiz.0, "value": 1},
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(code(&body), "grades_rejected");
    let cells = body["error"]["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 2, "{body}");
    assert_eq!(cells[0]["user"], l[1].0);
    assert!(
        cells[0]["message"]
            .as_str()
            .unwrap()
            .contains("above the maximum 10")
    );
    t.fx.assert_unchanged(&before);
}

#[actix_web::test]
async fn a_learner_reads_only_their_own_grades() {
    let t = ApiTest::with(TestSite::new().with_teams());
    let s = t.fx.gradebook_sample();
    let course = t.fx.course.0;
    for path in [
        format!("/courses/{course}/grades"),
        format!("/courses/{course}/grade-statistics"),
        format!("/courses/{course}/grade-items"),
        format!("/courses/{course}/grade-exports/grades.csv"),
    ] {
        let (status, body) = t.learner().get(&path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
    }
    let (status, body) = t.learner().get(&format!("/grade-items/{}", s.quiz.0)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = t
        .learner()
        .patch(
            &format!("/courses/{course}/grades"),
            json!({"grades": [{"user": t.fx.learners[0].0, "item": s.quiz.0, "value": 10}]}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, mine) = t
        .learner()
        .get(&format!("/courses/{course}/my-grades"))
        .await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    let quiz = mine["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["item"]["name"] == "Quiz")
        .unwrap();
    assert_eq!(quiz["value"], 8.0);
    assert_eq!(quiz["passed"], true);
}

#[actix_web::test]
async fn statistics_imports_and_exports_go_through_the_api() {
    let t = ApiTest::with(TestSite::new().with_teams());
    let s = t.fx.gradebook_sample();
    let course = t.fx.course.0;
    let (status, stats) = t
        .teacher()
        .get(&format!("/courses/{course}/grade-statistics"))
        .await;
    assert_eq!(status, StatusCode::OK, "{stats}");
    assert_eq!(stats["cohorts"][0]["name"], "All participants");
    assert_eq!(stats["cohorts"][1]["name"], "Team A");
    let quiz = stats["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["item"]["id"] == s.quiz.0)
        .unwrap();
    assert_eq!(quiz["cohorts"][1]["mean"], 6.0);
    assert_eq!(quiz["cohorts"][1]["median"], 6.0);

    let import = |dry_run: bool, csv: &'static str| {
        TestRequest::default()
            .method(Method::POST)
            .uri(&format!(
                "/s/acme/api/v1/courses/{course}/grade-imports?dry_run={dry_run}"
            ))
            .insert_header((header::CONTENT_TYPE, "text/csv"))
            .set_payload(csv)
    };
    let (status, report) = t
        .teacher()
        .send(import(true, "username,Quiz\r\nlearner3,2\r\n"))
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(
        (report["applied"].as_bool(), report["changed"].as_u64()),
        (Some(false), Some(1))
    );
    let (_, report) = t
        .teacher()
        .send(import(false, "username,Quiz\r\nlearner3,2\r\n"))
        .await;
    assert_eq!(report["applied"], true, "{report}");
    let before = t.fx.snapshot();
    let (status, report) = t
        .teacher()
        .send(import(false, "username,Quiz\r\nlearner3,x\r\n"))
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["applied"], false);
    assert_eq!(report["errors"][0]["row"], 2);
    assert_eq!(report["errors"][0]["column"], "quiz");
    t.fx.assert_unchanged(&before);

    let (status, headers, bytes) = call(
        AppState::new(t.fx.services.clone()),
        TestRequest::get()
            .uri(&format!(
                "/s/acme/api/v1/courses/{course}/grade-exports/grades.csv?group={}",
                t.fx.team_b.0
            ))
            .insert_header(("Authorization", format!("Bearer {}", t.teacher))),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let disposition = headers
        .get(header::CONTENT_DISPOSITION)
        .unwrap()
        .to_str()
        .unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"grades-COMP101-Team_B.csv\""),
        "{disposition}"
    );
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    assert!(
        text.contains("\r\nlearner3,Test,learner3,learner3@example.org,Team B,10,20,2,"),
        "{text}"
    );
    assert!(!text.contains("learner1"), "{text}");

    let (status, headers, bytes) = call(
        AppState::new(t.fx.services.clone()),
        TestRequest::get()
            .uri(&format!(
                "/s/acme/api/v1/courses/{course}/grade-exports/gradebook.xlsx"
            ))
            .insert_header(("Authorization", format!("Bearer {}", t.teacher))),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers.get(header::CONTENT_TYPE).unwrap(),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert_eq!(&bytes[..2], b"PK");
}
