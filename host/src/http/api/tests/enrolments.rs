use actix_web::http::StatusCode;
use serde_json::{Value, json};

use super::ApiTest;
use super::support::code;
use crate::domain::EnrolmentMethodStatus;

/// `(user id, number of enrolments, active)` of each participant of a page.
fn participants(page: &Value) -> Vec<(u64, usize, bool)> {
    page["items"]
        .as_array()
        .expect("a page")
        .iter()
        .map(|p| {
            (
                p["user"]["id"].as_u64().expect("a user id"),
                p["enrolments"].as_array().expect("enrolments").len(),
                p["active"].as_bool().expect("active"),
            )
        })
        .collect()
}

#[actix_web::test]
async fn a_teacher_adds_configures_disables_and_deletes_a_method_of_their_course() {
    let t = ApiTest::new();
    let course = t.fx.course.0;
    let (status, method) = t
        .teacher()
        .post(
            &format!("/courses/{course}/methods"),
            json!({"plugin": "noop", "name": "Self enrolment", "config": {"key": "secret"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{method}");
    assert_eq!(method["course"], course);
    assert_eq!(method["status"], "enabled");
    assert_eq!(
        method["config"],
        json!({"key": "secret"}),
        "config is a JSON object, not text"
    );
    let id = method["id"].as_u64().unwrap();
    // Adding answers with the method's first run too.
    let mut method = method;
    let first_run = method.as_object_mut().unwrap().remove("first_run").unwrap();
    assert_eq!(first_run["outcome"], "done", "{first_run}");
    assert_eq!(first_run["report"]["applied"], true);

    let (status, found) = t.teacher().get(&format!("/methods/{id}")).await;
    assert_eq!((status, &found), (StatusCode::OK, &method));
    let (_, all) = t.teacher().get(&format!("/courses/{course}/methods")).await;
    let plugins: Vec<&Value> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["plugin"])
        .collect();
    assert_eq!(plugins, [&json!("manual"), &json!("noop")]);

    let (status, changed) = t
        .teacher()
        .patch(
            &format!("/methods/{id}"),
            json!({"name": "Walk-ins", "config": {"capacity": 30}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["name"], "Walk-ins");
    assert_eq!(changed["config"], json!({"capacity": 30}));

    let (_, disabled) = t
        .teacher()
        .post(&format!("/methods/{id}/disable"), json!({}))
        .await;
    assert_eq!(disabled["status"], "disabled");
    let (_, enabled) = t
        .teacher()
        .post(&format!("/methods/{id}/enable"), json!({}))
        .await;
    assert_eq!(enabled["status"], "enabled");

    let (status, body) = t.teacher().delete(&format!("/methods/{id}")).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    let (status, body) = t.teacher().get(&format!("/methods/{id}")).await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "not_found"));
}

#[actix_web::test]
async fn participants_are_paged_by_user_with_every_enrolment_and_no_password_hash() {
    let t = ApiTest::new();
    let second = t.fx.add_method("self");
    let [l1, l2, l3, l4, _] = t.fx.learners[..] else {
        panic!("five learners")
    };
    t.fx.site
        .enrol(&t.fx.admin, second, l1, crate::domain::Role::Learner)
        .unwrap();
    let course = t.fx.course.0;
    let (status, first) = t
        .teacher()
        .get(&format!("/courses/{course}/participants?limit=2"))
        .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(
        participants(&first),
        [(t.fx.teacher_id.0, 1, true), (l1.0, 2, true)]
    );
    assert!(first["items"][0]["user"].get("password_hash").is_none());
    assert_eq!(first["next_cursor"], l1.0.to_string());

    let (_, rest) = t
        .teacher()
        .get(&format!("/courses/{course}/participants?cursor={}", l1.0))
        .await;
    assert_eq!(
        participants(&rest),
        [(l2.0, 1, true), (l3.0, 1, true), (l4.0, 1, true)]
    );
    assert_eq!(rest["next_cursor"], Value::Null);
}

#[actix_web::test]
async fn a_suspended_account_stays_enrolled_and_its_account_status_is_shown_beside() {
    let t = ApiTest::new();
    let l2 = t.fx.learners[1];
    t.fx.site.suspend_user(&t.fx.admin, l2).unwrap();
    let course = t.fx.course.0;
    let (status, page) = t
        .teacher()
        .get(&format!("/courses/{course}/participants"))
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let items = page["items"].as_array().expect("a page");
    let of = |id: u64| {
        items
            .iter()
            .find(|p| p["user"]["id"] == id)
            .expect("a participant")
    };
    let suspended = of(l2.0);
    assert_eq!(suspended["account_status"], "suspended");
    assert_eq!(suspended["enrolments"][0]["status"], "active", "unchanged");
    assert_eq!(suspended["active"], false, "not an active participant");
    let other = of(t.fx.learners[0].0);
    assert_eq!(other["account_status"], "active");
    assert_eq!(other["active"], true);
}

#[actix_web::test]
async fn enrolling_one_user_answers_their_enrolment_and_makes_them_a_participant() {
    let t = ApiTest::new();
    let (method, newcomer) = (t.fx.manual.0, t.fx.learners[4].0);
    let (status, enrolment) = t
        .teacher()
        .post(
            &format!("/methods/{method}/enrolments"),
            json!({"user": newcomer, "role": "non_editing_teacher"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{enrolment}");
    assert_eq!(enrolment["user"], newcomer);
    assert_eq!(enrolment["method"], method);
    assert_eq!(enrolment["role"], "non_editing_teacher");
    assert_eq!(enrolment["status"], "active");

    let (_, page) = t
        .teacher()
        .get(&format!(
            "/courses/{}/participants?cursor={}",
            t.fx.course.0,
            newcomer - 1
        ))
        .await;
    assert_eq!(participants(&page), [(newcomer, 1, true)]);
}

#[actix_web::test]
async fn enrolling_many_users_is_one_call_all_or_none() {
    let t = ApiTest::new();
    let method = t.fx.manual.0;
    let (l1, l5) = (t.fx.learners[0].0, t.fx.learners[4].0);
    let before = t.fx.snapshot();
    let (status, body) = t
        .admin()
        .post(
            &format!("/methods/{method}/enrolments"),
            json!({"users": [l5, 999]}),
        )
        .await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "not_found"));
    t.fx.assert_unchanged(&before);

    let (status, change) = t
        .admin()
        .post(
            &format!("/methods/{method}/enrolments"),
            json!({"users": [l1, l5], "role": "learner"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{change}");
    assert_eq!(
        change,
        json!({"changed": 1, "unchanged": 1}),
        "learner1 was enrolled already"
    );
}

#[actix_web::test]
async fn an_enrolment_is_suspended_without_its_role_and_reactivated_with_another_in_one_patch_each()
{
    let t = ApiTest::new();
    let (method, l1) = (t.fx.manual.0, t.fx.learners[0].0);
    let path = format!("/methods/{method}/enrolments/{l1}");
    let (status, e) = t
        .teacher()
        .patch(&path, json!({"status": "suspended", "remove_role": true}))
        .await;
    assert_eq!(status, StatusCode::OK, "{e}");
    assert_eq!(
        (&e["status"], &e["role"]),
        (&json!("suspended"), &Value::Null)
    );

    let (_, e) = t
        .teacher()
        .patch(
            &path,
            json!({"status": "active", "role": "non_editing_teacher"}),
        )
        .await;
    assert_eq!(
        (&e["status"], &e["role"]),
        (&json!("active"), &json!("non_editing_teacher"))
    );
    // The editing teacher role is a site admin's to give (issue 16).
    let (status, e) = t.teacher().patch(&path, json!({"role": "teacher"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{e}");

    let (_, e) = t.teacher().patch(&path, json!({"role": null})).await;
    assert_eq!(
        (&e["status"], &e["role"]),
        (&json!("active"), &Value::Null),
        "null drops the role; an absent status stays"
    );
}

#[actix_web::test]
async fn unenrolling_answers_no_content_and_a_second_time_not_found() {
    let t = ApiTest::new();
    let (method, l1) = (t.fx.manual.0, t.fx.learners[0].0);
    let path = format!("/methods/{method}/enrolments/{l1}");
    let (status, body) = t.teacher().delete(&path).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    let (status, body) = t.teacher().delete(&path).await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "not_found"));
}

#[actix_web::test]
async fn each_way_an_enrolment_request_goes_wrong_has_its_own_status_and_writes_nothing() {
    let t = ApiTest::new();
    let (history, history_manual) = t.fx.other_course("HIST1");
    let disabled = t.fx.add_method("self");
    t.fx.site
        .set_method_status(&t.fx.admin, disabled, EnrolmentMethodStatus::Disabled)
        .unwrap();
    let (course, manual, theirs, their_manual) =
        (t.fx.course.0, t.fx.manual.0, history.0, history_manual.0);
    let (l1, l5) = (t.fx.learners[0].0, t.fx.learners[4].0);
    let enrol = format!("/methods/{manual}/enrolments");
    let before = t.fx.snapshot();
    let cases = [
        (
            t.anonymous()
                .get(&format!("/courses/{course}/methods"))
                .await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        (
            t.client(Some("chr_nope"))
                .post(&enrol, json!({"user": l5}))
                .await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        (
            t.learner().get(&format!("/courses/{course}/methods")).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            t.learner().post(&enrol, json!({"user": l5})).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            t.learner()
                .patch(
                    &format!("/methods/{manual}/enrolments/{l1}"),
                    json!({"role": "teacher"}),
                )
                .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            t.teacher()
                .post(
                    &format!("/courses/{theirs}/methods"),
                    json!({"plugin": "self"}),
                )
                .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            t.teacher().get(&format!("/methods/{their_manual}")).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            t.teacher()
                .post(
                    &format!("/methods/{their_manual}/enrolments"),
                    json!({"user": l5}),
                )
                .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            t.teacher()
                .post(&format!("/methods/{their_manual}/disable"), json!({}))
                .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            t.teacher()
                .delete(&format!("/methods/{their_manual}"))
                .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            t.teacher()
                .get(&format!("/courses/{theirs}/participants"))
                .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            t.admin().get("/courses/999/methods").await,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            t.admin()
                .post("/courses/999/methods", json!({"plugin": "self"}))
                .await,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            t.admin().get("/courses/999/participants").await,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            t.admin().get("/methods/999").await,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            t.admin().patch("/methods/999", json!({"name": "X"})).await,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            t.admin().post("/methods/999/enable", json!({})).await,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            t.admin().delete("/methods/999").await,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            t.admin().post(&enrol, json!({"user": 999})).await,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            t.admin()
                .patch(
                    &format!("/methods/{manual}/enrolments/{l5}"),
                    json!({"status": "suspended"}),
                )
                .await,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            t.admin()
                .delete(&format!("/methods/{manual}/enrolments/{l5}"))
                .await,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            t.admin()
                .post(
                    &format!("/methods/{}/enrolments", disabled.0),
                    json!({"user": l5}),
                )
                .await,
            StatusCode::CONFLICT,
            "conflict",
        ),
        (
            t.admin()
                .post(
                    &format!("/methods/{}/enrolments", disabled.0),
                    json!({"users": [l5]}),
                )
                .await,
            StatusCode::CONFLICT,
            "conflict",
        ),
        (
            t.admin()
                .post(
                    &format!("/courses/{course}/methods"),
                    json!({"plugin": "self", "config": ["key"]}),
                )
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            t.admin()
                .post(&format!("/courses/{course}/methods"), json!({"name": "X"}))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "missing_field",
        ),
        (
            t.admin()
                .patch(&format!("/methods/{manual}"), json!({"status": "disabled"}))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_field",
        ),
        (
            t.admin().post(&enrol, json!({"role": "learner"})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "missing_field",
        ),
        (
            t.admin()
                .post(&enrol, json!({"user": l5, "users": [l5]}))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            t.admin()
                .post(&enrol, json!({"user": l5, "role": "headmaster"}))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            t.admin()
                .patch(
                    &format!("/methods/{manual}/enrolments/{l1}"),
                    json!({"role": "teacher", "remove_role": true}),
                )
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
    ];
    for ((status, body), want_status, want_code) in cases {
        assert_eq!((status, code(&body)), (want_status, want_code), "{body}");
    }
    t.fx.assert_unchanged(&before);
}
