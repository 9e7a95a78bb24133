//! Page tests of the gradebook: the grader report and its inline save (a
//! column in one post, a refused cell marked with nothing written, an
//! override), the limited teacher's view and refusals, the learner's own
//! report, the set-up forms, the analysis with its chart, the exports as
//! attachments, and the import's preview and apply.

use actix_web::http::{StatusCode, header};

use super::assignments::{form_body, post_multipart};
use super::{Answer, Pages};
use crate::domain::*;
use crate::services::gradebook::report::ReportQuery;

fn grades_url(p: &Pages) -> String {
    format!("/s/acme/courses/{}/grades", p.fx.course)
}

/// The field name of a cell of the report as the page wrote it: the
/// previous value travels in the name.
fn cell(user: UserId, item: GradeItemId, previous: &str) -> String {
    format!("g_{user}_{item}_{previous}")
}

/// A learner's stored value of `item`, as the grader report computes it.
fn value_of(p: &Pages, user: UserId, item: GradeItemId) -> Option<f64> {
    let report =
        p.fx.site
            .grader_report(&p.fx.admin, p.fx.course, &ReportQuery::default())
            .expect("report");
    let row = report.rows.iter().find(|r| r.user == user).expect("row");
    row.cells
        .iter()
        .find(|c| c.item == item)
        .expect("cell")
        .value
}

fn header_of(a: &Answer, name: header::HeaderName) -> &str {
    a.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

#[actix_web::test]
async fn a_teacher_gets_the_grader_report_and_saves_a_column_in_one_post() {
    let p = Pages::new();
    let g = &p.grades;
    let l = &p.fx.learners;
    let page = p
        .get(&format!("{}?edit=1", grades_url(&p)), Some(&p.teacher))
        .await;
    // Each input is named by its column's and its learner's headers:
    // "Quiz for Test, learner1".
    page.assert_shows(
        StatusCode::OK,
        &format!(r#"aria-labelledby="i{} gfor u{}""#, g.quiz, l[0]),
    );
    for text in [
        format!(r#"id="i{}">Quiz</a>"#, g.quiz),
        format!(r#"<span id="u{}">Test, learner1</span>"#, l[0]),
        r#"<span id="gfor" hidden>for</span>"#.to_owned(),
    ] {
        assert!(page.body.contains(&text), "{text:?} not in {}", page.body);
    }
    for text in [
        "Practical check",
        "max 50",
        "course total",
        "category total",
        "Overall average",
        "Export CSV",
        "Per-group analysis",
    ] {
        assert!(page.body.contains(text), "{text:?} not in {}", page.body);
    }
    // Tab goes down a column: the quiz cells of learners 1 and 2 follow
    // each other.
    let quiz = |u: UserId| format!(r#"name="g_{u}_{}_"#, g.quiz);
    let tab = |u: UserId| {
        let at = page.body.find(&quiz(u)).expect("cell");
        let rest = &page.body[at..];
        let t = rest.split("tabindex=\"").nth(1).expect("tabindex");
        t[..t.find('"').expect("end")]
            .parse::<usize>()
            .expect("number")
    };
    assert_eq!(tab(l[1]), tab(l[0]) + 1);
    // The quiz column: learners 3 and 4 get grades, learner 1's stays.
    let token = p.csrf(&p.teacher);
    let (c1, c3, c4) = (
        cell(l[0], g.quiz, "8"),
        cell(l[2], g.quiz, ""),
        cell(l[3], g.quiz, ""),
    );
    let body = form_body(
        &token,
        &[
            ("group", ""),
            ("sort", "name"),
            ("dir", "desc"),
            ("page", "1"),
            ("per_page", "50"),
            (&c1, "8"),
            (&c3, "7"),
            (&c4, "9,5"),
        ],
    );
    let saved = p.post(&grades_url(&p), Some(&p.teacher), &body).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert!(
        saved.location().ends_with(&format!(
            "/courses/{}/grades?sort=name&dir=desc&per_page=50&page=1",
            p.fx.course
        )),
        "{}",
        saved.location()
    );
    assert_eq!(value_of(&p, l[2], g.quiz), Some(7.0));
    assert_eq!(value_of(&p, l[3], g.quiz), Some(9.5));
    assert_eq!(value_of(&p, l[0], g.quiz), Some(8.0));
}

#[actix_web::test]
async fn the_report_opens_as_text_and_edit_mode_keeps_the_view() {
    let p = Pages::new();
    let (g, l) = (&p.grades, &p.fx.learners);
    let url = format!("{}?sort=name&dir=desc&per_page=50", grades_url(&p));
    let read = p.get(&url, Some(&p.teacher)).await;
    read.assert_shows(StatusCode::OK, "Turn editing on");
    for absent in ["<input name=\"g_", r#"id="grades-form""#, "Save grades"] {
        assert!(!read.body.contains(absent), "{absent}: {}", read.body);
    }
    // Learner 1's quiz grade, 8, as text in their row; the course total
    // computed.
    let row = read
        .body
        .split(&format!(r#"<span id="u{}">"#, l[0]))
        .nth(1)
        .and_then(|rest| rest.split("</tr>").next())
        .expect("learner 1's row");
    assert!(row.contains("<td>8</td>"), "{row}");
    assert!(row.contains(r#"<td class="total-column">80</td>"#), "{row}");
    assert!(row.contains("<td>–</td>"), "a missing grade: {row}");
    // The toggle keeps the view's sort and page size, and so does the
    // way back.
    let edit = format!(
        "/s/acme/courses/{}/grades?sort=name&#38;dir=desc&#38;per_page=50&#38;page=1&#38;edit=1",
        p.fx.course
    );
    assert!(read.body.contains(&edit), "{}", read.body);
    let editing = p.get(&edit.replace("&#38;", "&"), Some(&p.teacher)).await;
    editing.assert_shows(StatusCode::OK, "Turn editing off");
    assert!(editing.body.contains(&cell(l[0], g.quiz, "8")));
    assert!(
        editing
            .body
            .contains(r#"<input type="hidden" name="edit" value="1">"#)
    );
    assert!(editing.body.contains(&edit.replace("&#38;edit=1", "")));
}

#[actix_web::test]
async fn a_refused_cell_comes_back_marked_with_the_typed_values_and_nothing_written() {
    let p = Pages::new();
    let g = &p.grades;
    let l = &p.fx.learners;
    let token = p.csrf(&p.teacher);
    let before = p.fx.snapshot();
    let (over, fine) = (cell(l[2], g.quiz, ""), cell(l[3], g.quiz, ""));
    let body = form_body(&token, &[(&over, "12"), (&fine, "9")]);
    let refused = p.post(&grades_url(&p), Some(&p.teacher), &body).await;
    refused.assert_form_refused("is above the maximum 10");
    assert!(refused.body.contains(r#"value="12""#), "{}", refused.body);
    assert!(refused.body.contains(r#"value="9""#), "{}", refused.body);
    let id = format!("g-{}-{}", l[2], g.quiz);
    assert!(
        refused.body.contains(&format!(
            r#"aria-invalid="true" aria-describedby="{id}-error""#
        )),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("learner3 Test, Quiz:"));
    p.fx.assert_unchanged(&before);
    // Text that is no number is refused the same way, before the service.
    let body = form_body(&token, &[(&over, "seven"), (&fine, "9")]);
    let refused = p.post(&grades_url(&p), Some(&p.teacher), &body).await;
    refused.assert_form_refused("must be a number");
    assert!(refused.body.contains(r#"value="seven""#));
    p.fx.assert_unchanged(&before);
}

#[actix_web::test]
async fn an_overridden_total_is_marked_and_an_empty_one_removes_the_override() {
    let p = Pages::new();
    let (g, l) = (&p.grades, &p.fx.learners);
    let token = p.csrf(&p.teacher);
    let total = cell(l[0], g.total, "");
    let body = form_body(&token, &[(&total, "55")]);
    let saved = p.post(&grades_url(&p), Some(&p.teacher), &body).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let page = p.get(&grades_url(&p), Some(&p.teacher)).await;
    page.assert_shows(StatusCode::OK, "overridden");
    assert!(page.body.contains("(computed 80)"), "{}", page.body);
    let body = form_body(&token, &[(&cell(l[0], g.total, "55"), "")]);
    let saved = p.post(&grades_url(&p), Some(&p.teacher), &body).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let page = p.get(&grades_url(&p), Some(&p.teacher)).await;
    assert!(!page.body.contains("overridden<"), "{}", page.body);
}

#[actix_web::test]
async fn a_limited_teacher_sees_only_their_group_and_cannot_grade_another() {
    let p = Pages::new();
    let fx = &p.fx;
    fx.site
        .add_group_members(&fx.admin, fx.team_a, &fx.learners[0..2])
        .unwrap();
    fx.site
        .add_group_members(&fx.admin, fx.team_b, &fx.learners[2..4])
        .unwrap();
    let nelly = fx.non_editing_teacher_in("nelly", fx.team_a);
    let secret = fx.services.test_session(SessionSubject::SiteUser {
        site: fx.id(),
        user: nelly,
    });
    let report = p.get(&grades_url(&p), Some(&secret)).await;
    report.assert_shows(StatusCode::OK, "learner1");
    assert!(report.body.contains("your own groups only"));
    for hidden in ["learner3", "learner4", "Team B"] {
        assert!(!report.body.contains(hidden), "{hidden}: {}", report.body);
    }
    let of_b = p
        .get(
            &format!("{}?group={}", grades_url(&p), fx.team_b),
            Some(&secret),
        )
        .await;
    assert_eq!(of_b.status, StatusCode::NOT_FOUND);
    for path in ["analysis", "export.csv", "statistics.csv"] {
        let a = p
            .get(&format!("{}/{path}", grades_url(&p)), Some(&secret))
            .await;
        assert_eq!(a.status, StatusCode::OK, "{path}: {}", a.body);
        for hidden in ["learner3", "Team B"] {
            assert!(
                !a.body.contains(hidden),
                "{path} shows {hidden}: {}",
                a.body
            );
        }
    }
    // A post for a learner of Team B writes nothing.
    let before = fx.snapshot();
    let token = p.csrf(&secret);
    let body = form_body(&token, &[(&cell(fx.learners[2], p.grades.quiz, ""), "5")]);
    let refused = p.post(&grades_url(&p), Some(&secret), &body).await;
    refused.assert_form_refused("is not a learner you may grade");
    fx.assert_unchanged(&before);
    // The set-up is read-only to a non-editing teacher.
    let setup = p
        .get(&format!("{}/setup", grades_url(&p)), Some(&secret))
        .await;
    setup.assert_shows(StatusCode::OK, r#"id="read-only""#);
    assert!(!setup.body.contains(r#"id="add-item""#));
}

#[actix_web::test]
async fn a_learner_gets_their_own_report_and_no_one_elses_grades() {
    let p = Pages::new();
    let mine = p.get(&grades_url(&p), Some(&p.learner)).await;
    mine.assert_shows(StatusCode::OK, "My grades");
    for text in ["Practical check", "80 %", "Passed", "0–50"] {
        assert!(mine.body.contains(text), "{text:?} not in {}", mine.body);
    }
    for other in [
        "learner2",
        "learner3",
        "Overall average",
        "<input name=\"g_",
    ] {
        assert!(!mine.body.contains(other), "{other}: {}", mine.body);
    }
    let token = p.csrf(&p.learner);
    let body = form_body(
        &token,
        &[(&cell(p.fx.learners[0], p.grades.quiz, "8"), "10")],
    );
    let before = p.fx.snapshot();
    let refused = p.post(&grades_url(&p), Some(&p.learner), &body).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    p.fx.assert_unchanged(&before);
    // The course page links the gradebook for everyone.
    let course = p
        .get(
            &format!("/s/acme/courses/{}", p.fx.course),
            Some(&p.learner),
        )
        .await;
    course.assert_shows(StatusCode::OK, r#"id="grades-link""#);
}

#[actix_web::test]
async fn the_exports_answer_attachments_with_the_services_names() {
    let p = Pages::new();
    let csv = p
        .get(&format!("{}/export.csv", grades_url(&p)), Some(&p.teacher))
        .await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.body);
    assert!(header_of(&csv, header::CONTENT_TYPE).starts_with("text/csv"));
    assert_eq!(
        header_of(&csv, header::CONTENT_DISPOSITION),
        "attachment; filename=\"grades-COMP101.csv\"; filename*=UTF-8''grades-COMP101.csv"
    );
    assert!(csv.body.starts_with("First name,Last name,Username"));
    assert!(csv.body.contains("learner1,"));
    let team = p
        .get(
            &format!("{}/export.csv?group={}", grades_url(&p), p.fx.team_a),
            Some(&p.teacher),
        )
        .await;
    assert!(header_of(&team, header::CONTENT_DISPOSITION).contains("grades-COMP101-Team_A.csv"));
    let stats = p
        .get(
            &format!("{}/statistics.csv", grades_url(&p)),
            Some(&p.teacher),
        )
        .await;
    assert!(header_of(&stats, header::CONTENT_DISPOSITION).contains("statistics.csv"));
    assert!(stats.body.contains("All participants"));
    let xlsx = p
        .get(&format!("{}/export.xlsx", grades_url(&p)), Some(&p.teacher))
        .await;
    assert_eq!(xlsx.status, StatusCode::OK);
    assert!(header_of(&xlsx, header::CONTENT_TYPE).contains("spreadsheetml"));
    assert!(header_of(&xlsx, header::CONTENT_DISPOSITION).contains("grades-COMP101.xlsx"));
    assert!(xlsx.body.starts_with("PK"));
    let template = p
        .get(
            &format!("{}/import/template.csv", grades_url(&p)),
            Some(&p.teacher),
        )
        .await;
    assert!(template.body.starts_with("username,"), "{}", template.body);
    assert!(
        template.body.contains(",Practical check,Quiz"),
        "{}",
        template.body
    );
    assert!(!template.body.contains("Course total"), "{}", template.body);
}

#[actix_web::test]
async fn an_import_is_previewed_then_applied_and_a_bad_file_writes_nothing() {
    let p = Pages::new();
    let l = &p.fx.learners;
    let token = p.csrf(&p.teacher);
    let url = format!("{}/import", grades_url(&p));
    p.get(&url, Some(&p.teacher))
        .await
        .assert_shows(StatusCode::OK, "Download a template");
    let before = p.fx.snapshot();
    let file: &[u8] = b"username,Quiz\nlearner3,6\n";
    let preview = post_multipart(
        &p,
        &url,
        &p.teacher,
        &[("csrf", &token)],
        Some(("grades.csv", "text/csv", file)),
    )
    .await;
    preview.assert_shows(StatusCode::OK, "1 grade(s) would change");
    assert!(preview.body.contains(r#"id="apply-import""#));
    p.fx.assert_unchanged(&before);
    // The Apply form carries the file's text back: no new upload.
    let text = preview
        .body
        .split(r#"<textarea name="csv" hidden aria-hidden="true">"#)
        .nth(1)
        .and_then(|s| s.split("</textarea>").next())
        .expect("the file in the form")
        .to_owned();
    let applied = post_multipart(
        &p,
        &format!("{url}/apply"),
        &p.teacher,
        &[("csrf", &token), ("csv", &text)],
        None,
    )
    .await;
    applied.assert_shows(StatusCode::OK, "Imported");
    assert_eq!(value_of(&p, l[2], p.grades.quiz), Some(6.0));
    // Errors: an unknown user and a grade above the maximum; nothing
    // written, row and column named.
    let before = p.fx.snapshot();
    let bad: &[u8] = b"username,Quiz\nnobody,6\nlearner4,11\n";
    let refused = post_multipart(
        &p,
        &format!("{url}/apply"),
        &p.teacher,
        &[("csrf", &token), ("csv", std::str::from_utf8(bad).unwrap())],
        None,
    )
    .await;
    refused.assert_shows(StatusCode::UNPROCESSABLE_ENTITY, "nothing was written");
    assert!(refused.body.contains(r#"id="import-errors""#));
    assert!(!refused.body.contains(r#"id="apply-import""#));
    p.fx.assert_unchanged(&before);
}

#[actix_web::test]
async fn the_setup_adds_edits_and_deletes_items() {
    let p = Pages::new();
    let token = p.csrf(&p.teacher);
    let setup = format!("{}/setup", grades_url(&p));
    let page = p.get(&setup, Some(&p.teacher)).await;
    page.assert_shows(StatusCode::OK, "Mean of grades");
    assert!(page.body.contains("the default"));
    let add = format!("{}/items", grades_url(&p));
    let before = p.fx.snapshot();
    let bad = form_body(
        &token,
        &[("kind", "manual"), ("name", "Essay"), ("max_grade", "lots")],
    );
    p.post(&add, Some(&p.teacher), &bad)
        .await
        .assert_form_refused("must be a number");
    p.fx.assert_unchanged(&before);
    let good = form_body(
        &token,
        &[
            ("kind", "manual"),
            ("name", "Essay"),
            ("max_grade", "20"),
            ("pass_grade", "12"),
            ("category", &p.grades.category.to_string()),
            ("weight", "1"),
            ("due_at", ""),
        ],
    );
    let added = p.post(&add, Some(&p.teacher), &good).await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let category = form_body(
        &token,
        &[
            ("kind", "category"),
            ("name", "Theory"),
            ("aggregation", "sum"),
            ("weight", "2"),
        ],
    );
    let added = p.post(&add, Some(&p.teacher), &category).await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let page = p.get(&setup, Some(&p.teacher)).await;
    assert!(page.body.contains("Essay") && page.body.contains("Sum of grades"));
    // Edit the quiz: a pass grade above its maximum is refused.
    let edit = format!("/s/acme/grade-items/{}/edit", p.grades.quiz);
    p.get(&edit, Some(&p.teacher))
        .await
        .assert_shows(StatusCode::OK, "Edit: Quiz");
    let too_high = form_body(&token, &[("name", "Quiz"), ("pass_grade", "11")]);
    p.post(&edit, Some(&p.teacher), &too_high)
        .await
        .assert_form_refused("must be a number from 0 to 10");
    let renamed = form_body(
        &token,
        &[
            ("name", "Policy quiz"),
            ("pass_grade", "6"),
            ("has_hidden", "1"),
            ("hidden", "1"),
        ],
    );
    let saved = p.post(&edit, Some(&p.teacher), &renamed).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let page = p.get(&setup, Some(&p.teacher)).await;
    assert!(page.body.contains("Policy quiz") && page.body.contains(">Hidden<"));
    // Delete with a confirmation step.
    let delete = format!("/s/acme/grade-items/{}/delete", p.grades.quiz);
    p.get(&delete, Some(&p.teacher))
        .await
        .assert_shows(StatusCode::OK, "every grade entered for it go");
    let gone = p
        .post(&delete, Some(&p.teacher), &form_body(&token, &[]))
        .await;
    assert_eq!(gone.status, StatusCode::SEE_OTHER, "{}", gone.body);
    let page = p.get(&setup, Some(&p.teacher)).await;
    assert!(!page.body.contains("Policy quiz"));
}

#[actix_web::test]
async fn the_analysis_shows_the_chart_and_the_table_per_group() {
    let p = Pages::new();
    let fx = &p.fx;
    fx.site
        .add_group_members(&fx.admin, fx.team_a, &fx.learners[0..3])
        .unwrap();
    fx.site
        .add_group_members(&fx.admin, fx.team_b, &fx.learners[2..4])
        .unwrap();
    let url = format!("{}/analysis", grades_url(&p));
    let page = p.get(&url, Some(&p.teacher)).await;
    page.assert_shows(
        StatusCode::OK,
        "A learner who is in several groups counts in each.",
    );
    for text in [
        r#"role="img""#,
        "Course total: mean by group",
        "All participants (",
        r#"id="group-statistics""#,
        r#"id="group-overview""#,
    ] {
        assert!(page.body.contains(text), "{text:?} not in {}", page.body);
    }
    // One bar per cohort with a grade: everyone, Team A, Team B.
    assert_eq!(page.body.matches(r#"<rect class="bar""#).count(), 3);
    let quiz = p
        .get(&format!("{url}?item={}", p.grades.quiz), Some(&p.teacher))
        .await;
    quiz.assert_shows(StatusCode::OK, "Quiz: mean by group");
    assert!(
        quiz.body.contains(r#"class="pass""#),
        "the quiz has a pass grade"
    );
    // Team B (learners 3 and 4) has no quiz grade: a labelled row.
    assert!(quiz.body.contains("Team B (0/2 graded)"), "{}", quiz.body);
    assert!(quiz.body.contains("no grades"));
}

/// A page of 500 learners × 50 items posts about 550 KB: the grader
/// report takes up to 2 MiB, every other form still 256 KiB.
#[actix_web::test]
async fn a_full_page_of_cells_saves_though_other_forms_stay_small() {
    let p = Pages::new();
    let g = &p.grades;
    let l = &p.fx.learners;
    let token = p.csrf(&p.teacher);
    let mut fields: Vec<(String, String)> = vec![("page".into(), "1".into())];
    // 40,000 unchanged cells (more than a full page), then one change.
    let unchanged = cell(l[0], g.quiz, "8");
    fields.extend((0..40_000).map(|_| (unchanged.clone(), "8".to_owned())));
    fields.push((cell(l[2], g.quiz, ""), "6".into()));
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let body = form_body(&token, &pairs);
    assert!(body.len() > 300 * 1024, "{} bytes", body.len());
    let saved = p.post(&grades_url(&p), Some(&p.teacher), &body).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(value_of(&p, l[2], g.quiz), Some(6.0));

    let padded = form_body(
        &token,
        &[("name", "x"), ("padding", &"x".repeat(300 * 1024))],
    );
    let refused = p
        .post(
            &format!("/s/acme/courses/{}/grades/items", p.fx.course),
            Some(&p.teacher),
            &padded,
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        refused.body
    );
}
