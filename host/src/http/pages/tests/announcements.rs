//! Page tests of `announcements` and `inbox`: compose with a preview that
//! writes nothing, send, the inbox with the unread count in the header,
//! marking read and unread, a schedule edited and withdrawn, and a
//! separate-groups course whose non-editing teacher is offered only their
//! own group.

use actix_web::http::StatusCode;

use super::Pages;
use crate::domain::{AnnouncementId, AnnouncementState, SessionSubject};

fn compose_body(token: &str, fields: &[(&str, &str)]) -> String {
    let mut body = format!("csrf={token}");
    for (k, v) in fields {
        body.push_str(&format!(
            "&{k}={}",
            crate::http::pages::session::url_escape(v)
        ));
    }
    body
}

fn latest(p: &Pages) -> crate::domain::Announcement {
    p.fx.site
        .site_announcements(&p.fx.admin, None, 1)
        .unwrap()
        .items
        .remove(0)
        .announcement
}

#[actix_web::test]
async fn a_site_admin_previews_then_sends_to_a_segment_and_a_member_sees_it_unread() {
    let p = Pages::new();
    let url = "/s/acme/announcements";
    let token = p.csrf(&p.admin);
    let finance = format!("segment:{}", p.fx.finance);
    let fields = [
        ("audience", finance.as_str()),
        ("subject", "Compliance deadline moved"),
        (
            "body",
            "The deadline is now **Friday**.\n\n<script>alert(1)</script>",
        ),
        ("action", "preview"),
    ];
    let before = latest(&p).id;
    // No SMTP settings here: the page says so before anything is written.
    let compose = p.get("/s/acme/announcements/new", Some(&p.admin)).await;
    compose.assert_shows(StatusCode::OK, "E-mail is not configured for this site");
    let preview = p
        .post(url, Some(&p.admin), &compose_body(&token, &fields))
        .await;
    preview.assert_shows(StatusCode::OK, "<strong>Friday</strong>");
    assert!(
        preview.body.contains("<strong>2</strong> recipients"),
        "{}",
        preview.body
    );
    assert!(!preview.body.contains("<script>alert"), "{}", preview.body);
    assert_eq!(latest(&p).id, before, "a preview writes nothing");

    let mut send = fields;
    send[3] = ("action", "send");
    let sent = p
        .post(url, Some(&p.admin), &compose_body(&token, &send))
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let a = latest(&p);
    assert_eq!(a.subject, "Compliance deadline moved");
    assert_eq!(a.state, AnnouncementState::Sent);
    assert_eq!(sent.location(), format!("/s/acme/announcements/{}", a.id));
    let page = p.get(sent.location(), Some(&p.admin)).await;
    page.assert_shows(StatusCode::OK, "segment Finance");

    // learner4 (Finance) sees it unread, with the count in the header (the
    // fixture's course announcement is the other unread one).
    let member = p.fx.services.test_session(SessionSubject::SiteUser {
        site: p.fx.id(),
        user: p.fx.learners[3],
    });
    let inbox = p.get("/s/acme/inbox", Some(&member)).await;
    inbox.assert_shows(StatusCode::OK, "Compliance deadline moved");
    assert!(
        inbox.body.contains(r#"aria-label="2 unread">2</span>"#),
        "{}",
        inbox.body
    );
    let opened = p
        .get(&format!("/s/acme/inbox/{}", a.id), Some(&member))
        .await;
    opened.assert_shows(StatusCode::OK, "<strong>Friday</strong>");
    assert_eq!(
        p.fx.site.unread_count(&p.fx.learner(3)).unwrap(),
        1,
        "opening marks it read"
    );
    assert!(
        opened.body.contains(r#"aria-label="1 unread">1</span>"#),
        "{}",
        opened.body
    );
    let again = p.get("/s/acme/inbox", Some(&member)).await;
    assert!(
        again.body.contains(r#"aria-label="1 unread">1</span>"#),
        "{}",
        again.body
    );
    // Marked unread again from the list.
    let token = p.csrf(&member);
    let toggled = p
        .post(
            &format!("/s/acme/inbox/{}/read", a.id),
            Some(&member),
            &format!("csrf={token}&read=0"),
        )
        .await;
    assert_eq!(toggled.status, StatusCode::SEE_OTHER);
    assert_eq!(p.fx.site.unread_count(&p.fx.learner(3)).unwrap(), 2);

    // learner1 (HR) does not have it, and cannot open it.
    let hr = p.get("/s/acme/inbox", Some(&p.learner)).await;
    assert!(
        !hr.body.contains("Compliance deadline moved"),
        "{}",
        hr.body
    );
    let refused = p
        .get(&format!("/s/acme/inbox/{}", a.id), Some(&p.learner))
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn refused_input_comes_back_on_the_form_and_nothing_is_sent() {
    let p = Pages::new();
    let token = p.csrf(&p.admin);
    let before = latest(&p).id;
    let course = format!("course:{}", p.fx.course);
    let long = "x".repeat(70_000);
    for (fields, text) in [
        (
            vec![
                ("audience", course.as_str()),
                ("subject", ""),
                ("body", "b"),
            ],
            "Subject",
        ),
        (
            vec![
                ("audience", course.as_str()),
                ("subject", "s"),
                ("body", long.as_str()),
            ],
            "KiB",
        ),
        (
            vec![
                ("audience", course.as_str()),
                ("subject", "s"),
                ("body", "b"),
                ("send_at", "2001-01-01T09:00"),
            ],
            "in the past",
        ),
        (
            vec![("audience", ""), ("subject", "s"), ("body", "b")],
            "choose a segment or a course",
        ),
        (
            vec![("audience", "segment:999"), ("subject", "s"), ("body", "b")],
            "not a segment of this site",
        ),
        (
            vec![
                ("audience", course.as_str()),
                ("subject", "s"),
                ("body", "b"),
                ("send_at", "tomorrow"),
            ],
            "date and time",
        ),
    ] {
        let mut fields = fields;
        fields.push(("action", "send"));
        let answer = p
            .post(
                "/s/acme/announcements",
                Some(&p.admin),
                &compose_body(&token, &fields),
            )
            .await;
        answer.assert_form_refused(text);
    }
    assert_eq!(latest(&p).id, before);
}

#[actix_web::test]
async fn a_scheduled_announcement_is_edited_then_withdrawn_on_its_page() {
    let p = Pages::new();
    let id = p.scheduled;
    let token = p.csrf(&p.teacher);
    let edit = p
        .get(
            &format!("/s/acme/announcements/{id}/edit"),
            Some(&p.teacher),
        )
        .await;
    edit.assert_shows(StatusCode::OK, "Welcome");
    let body = compose_body(
        &token,
        &[
            ("audience", "course"),
            ("subject", "Welcome, edited"),
            ("body", "Hello"),
            ("send_at", "2099-01-01T09:00"),
            ("action", "send"),
        ],
    );
    let saved = p
        .post(
            &format!("/s/acme/announcements/{id}/edit"),
            Some(&p.teacher),
            &body,
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let view = p.fx.site.announcement(&p.fx.admin, id).unwrap();
    assert_eq!(view.announcement.subject, "Welcome, edited");
    assert_eq!(view.announcement.state, AnnouncementState::Scheduled);

    let withdrawn = p
        .post(
            &format!("/s/acme/announcements/{id}/withdraw"),
            Some(&p.teacher),
            &format!("csrf={token}"),
        )
        .await;
    assert_eq!(withdrawn.status, StatusCode::SEE_OTHER);
    let view = p.fx.site.announcement(&p.fx.admin, id).unwrap();
    assert_eq!(view.announcement.state, AnnouncementState::Withdrawn);
    // A sent one offers no edit, and its edit page refuses.
    let sent = p
        .get(
            &format!("/s/acme/announcements/{}/edit", p.sent),
            Some(&p.teacher),
        )
        .await;
    assert_eq!(sent.status, StatusCode::CONFLICT);
}

#[actix_web::test]
async fn in_separate_groups_a_non_editing_teacher_is_offered_only_their_group() {
    let p = Pages::new();
    let fx = &p.fx;
    let ta = fx.non_editing_teacher_in("ta", fx.team_a);
    let session = fx.services.test_session(SessionSubject::SiteUser {
        site: fx.id(),
        user: ta,
    });
    let url = format!("/s/acme/courses/{}/announcements/new", fx.course);
    let page = p.get(&url, Some(&session)).await;
    page.assert_shows(StatusCode::OK, "Team A");
    assert!(!page.body.contains("Team B"), "{}", page.body);
    assert!(
        !page.body.contains("Everyone in the course"),
        "{}",
        page.body
    );
    // Posting Team B anyway is refused.
    let token = p.csrf(&session);
    let team_b = fx.team_b.to_string();
    let body = compose_body(
        &token,
        &[
            ("audience", "groups"),
            ("group", team_b.as_str()),
            ("subject", "s"),
            ("body", "b"),
            ("action", "send"),
        ],
    );
    let refused = p
        .post(
            &format!("/s/acme/courses/{}/announcements", fx.course),
            Some(&session),
            &body,
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(
        fx.site
            .course_announcements(&fx.admin, fx.course, None, 50)
            .unwrap()
            .items
            .iter()
            .all(|v| v.announcement.id != AnnouncementId(999))
    );
}
