//! Page tests of the mail pages: a copy a real SMTP server refused shows
//! on the mail-queue page with the server's answer and can be retried; the
//! settings page never renders the password; a user turns e-mail copies
//! off on their preferences page.

use actix_web::http::StatusCode;

use super::Pages;
use crate::domain::{Audience, Timestamp};
use crate::services::mail::smtp_sink::SmtpSink;
use crate::services::mail::tests::{announce, configure};
use crate::storage::site::prelude::*;

#[actix_web::test]
async fn a_refused_copy_shows_on_the_mail_queue_page_with_the_servers_answer_and_is_retried() {
    let p = Pages::new();
    let sink = SmtpSink::start(&["learner2@example.org"]).expect("smtp sink");
    configure(&p.fx, &sink);
    let (l1, l2) = (p.fx.learners[0], p.fx.learners[1]);
    let id = announce(&p.fx, Audience::Segment(p.fx.hr), &[l1, l2]);
    let report = p.fx.services.send_due_mail(Timestamp::now()).await;
    assert_eq!((report.sent, report.failed), (1, 1), "{report:?}");

    // The announcement's own page says which copy failed, and why.
    let own = p
        .get(&format!("/s/acme/announcements/{id}"), Some(&p.admin))
        .await;
    own.assert_shows(StatusCode::OK, "E-mail copies not delivered");
    assert!(
        own.body.contains("learner2") && own.body.contains("550"),
        "{}",
        own.body
    );

    let page = p.get("/s/acme/mail", Some(&p.admin)).await;
    page.assert_shows(StatusCode::OK, "Failed copies");
    assert!(page.body.contains("learner2"), "{}", page.body);
    assert!(page.body.contains("550"), "{}", page.body);
    assert!(page.body.contains("mailbox unavailable"), "{}", page.body);
    assert!(
        page.body.contains("Compliance deadline moved"),
        "{}",
        page.body
    );

    let token = p.csrf(&p.admin);
    let done = p
        .post(
            "/s/acme/mail/retry",
            Some(&p.admin),
            &format!("csrf={token}&announcement={id}&user={l2}"),
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let after = p.get("/s/acme/mail", Some(&p.admin)).await;
    assert!(after.body.contains("No copy failed."), "{}", after.body);
    assert!(
        !after.body.contains("Nothing is waiting"),
        "queued again: {}",
        after.body
    );
}

#[actix_web::test]
async fn the_settings_page_saves_without_ever_rendering_the_password() {
    let p = Pages::new();
    let before = p.get("/s/acme/mail/settings", Some(&p.admin)).await;
    before.assert_shows(StatusCode::OK, "E-mail is not configured");
    let token = p.csrf(&p.admin);
    let body = format!(
        "csrf={token}&host=smtp.example.org&port=587&security=starttls&username=lms&password=hunter2-secret&from_address=lms%40example.org"
    );
    let saved = p.post("/s/acme/mail/settings", Some(&p.admin), &body).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let page = p.get("/s/acme/mail/settings", Some(&p.admin)).await;
    page.assert_shows(StatusCode::OK, "A password is set");
    assert!(!page.body.contains("hunter2"), "{}", page.body);
    assert!(page.body.contains("smtp.example.org"));

    let bad = p
        .post(
            "/s/acme/mail/settings",
            Some(&p.admin),
            &format!("csrf={token}&host=smtp.example.org&port=70000&security=starttls&from_address=nobody"),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("must be 1–65535"), "{}", bad.body);
    assert!(!bad.body.contains("hunter2"));
}

#[actix_web::test]
async fn a_learner_turns_announcement_e_mails_off_on_their_preferences_page() {
    let p = Pages::new();
    let page = p.get("/s/acme/preferences", Some(&p.learner)).await;
    page.assert_shows(StatusCode::OK, "Send me announcements by e-mail too");
    let token = p.csrf(&p.learner);
    let done = p
        .post(
            "/s/acme/preferences",
            Some(&p.learner),
            &format!("csrf={token}"),
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let prefs =
        p.fx.site
            .read(|t| Ok(t.preferences_of(p.fx.learners[0])?))
            .expect("read");
    assert!(!prefs.announcement_emails);
}

#[actix_web::test]
async fn the_operator_sees_the_host_wide_mail_figures() {
    let p = Pages::new();
    let page = p.get("/operator/mail", Some(&p.operator)).await;
    page.assert_shows(StatusCode::OK, "Queues of the active sites");
    assert!(page.body.contains("acme"), "{}", page.body);
    assert!(page.body.contains("No default SMTP server is set"));
}
