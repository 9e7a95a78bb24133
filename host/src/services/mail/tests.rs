//! The mail queue and worker against a real SMTP server (`SmtpSink`:
//! aiosmtpd on loopback), driven pass by pass with an explicit clock:
//! nothing here waits on a duration.

use super::smtp_sink::{ReceivedMail, SmtpSink};
use super::worker::{MAX_ATTEMPTS, backoff};
use super::*;
use crate::domain::*;
use crate::services::testing::TestSite;
use crate::storage::site::prelude::*;

const FROM: &str = "lms@acme.test";

/// Points the fixture's site at `sink` and the links at `http://lms.test`.
pub(crate) fn configure(fx: &TestSite, sink: &SmtpSink) {
    fx.services.set_public_url("http://lms.test/");
    fx.site
        .save_smtp_settings(
            &fx.admin,
            SmtpSettingsInput {
                host: "127.0.0.1".into(),
                port: u32::from(sink.port()),
                security: Some(SmtpSecurity::None),
                from_address: FROM.into(),
                ..Default::default()
            },
        )
        .expect("smtp settings");
}

/// An announcement sent to `recipients` as the send transaction does it.
pub(crate) fn announce(fx: &TestSite, audience: Audience, recipients: &[UserId]) -> AnnouncementId {
    fx.site
        .fixture_sent_announcement(fx.admin_id, audience, recipients)
        .expect("announcement")
}

fn announcement(fx: &TestSite, id: AnnouncementId) -> Announcement {
    fx.site
        .read(|t| Ok(t.announcement(id)?))
        .expect("read")
        .expect("announcement")
}

fn counts(fx: &TestSite) -> crate::storage::site::MailQueueCounts {
    fx.site
        .read(|t| Ok(t.mail_queue_counts(Timestamp::now())?))
        .expect("counts")
}

fn jobs(fx: &TestSite) -> Vec<MailJob> {
    fx.site
        .read(|t| Ok(t.mail_jobs_after(None, usize::MAX)?))
        .expect("jobs")
}

fn email_of(fx: &TestSite, user: UserId) -> String {
    fx.site
        .read(|t| Ok(t.user(user)?))
        .expect("read")
        .expect("user")
        .email
}

/// Each of `users` got exactly one message.
fn assert_one_each(fx: &TestSite, got: &[ReceivedMail], users: &[UserId]) {
    for &u in users {
        let email = email_of(fx, u);
        let n = got.iter().filter(|m| m.rcpt == email).count();
        assert_eq!(n, 1, "{email} got {n} messages");
    }
    assert_eq!(got.len(), users.len(), "no one else got one");
}

fn later(now: Timestamp, by: std::time::Duration) -> Timestamp {
    Timestamp(now.0 + i64::try_from(by.as_millis()).expect("ms") + 1)
}

#[tokio::test]
async fn each_recipient_gets_one_message_with_the_sender_headers_and_both_parts() {
    let fx = TestSite::new();
    let sink = SmtpSink::start(&[]).expect("smtp sink");
    configure(&fx, &sink);
    let (l1, l2, l3) = (fx.learners[0], fx.learners[1], fx.learners[2]);
    fx.site
        .set_message_preferences(
            &fx.learner(2),
            l3,
            MessagePreferences {
                announcement_emails: false,
            },
        )
        .expect("preferences");
    let id = announce(&fx, Audience::Segment(fx.hr), &[l1, l2, l3]);
    assert_eq!(
        announcement(&fx, id).delivery.queued,
        2,
        "learner3 turned e-mail off"
    );

    let report = fx.services.send_due_mail(Timestamp::now()).await;
    assert_eq!(
        (report.sent, report.failed, report.deferred),
        (2, 0, 0),
        "{report:?}"
    );

    let got = sink.messages().expect("messages");
    assert_one_each(&fx, &got, &[l1, l2]);
    for m in &got {
        let user = if m.rcpt == email_of(&fx, l1) { l1 } else { l2 };
        assert_eq!(
            m.header("From").as_deref(),
            Some("\"acme LMS\" <lms@acme.test>")
        );
        assert_eq!(
            m.header("Message-ID"),
            Some(format!("<announcement-{id}.{user}.{}@acme.test>", fx.id()))
        );
        assert_eq!(
            m.header("List-Unsubscribe").as_deref(),
            Some("<http://lms.test/s/acme/preferences>")
        );
        assert_eq!(m.header_count("Message-ID"), 1);
        assert_eq!(
            m.header("Subject").as_deref(),
            Some("Compliance deadline moved")
        );
        assert!(
            m.header("Content-Type")
                .is_some_and(|c| c.starts_with("multipart/alternative"))
        );
        assert!(m.raw.contains("Content-Type: text/plain"), "{}", m.raw);
        assert!(m.raw.contains("Content-Type: text/html"), "{}", m.raw);
        assert!(m.raw.contains("<strong>deadline</strong>"), "{}", m.raw);
        assert!(m.raw.contains("segment HR"), "{}", m.raw);
        assert!(m.raw.contains("http://lms.test/s/acme/inbox"), "{}", m.raw);
        assert!(!m.raw.contains("<script>"), "no raw HTML passes: {}", m.raw);
    }
    let a = announcement(&fx, id);
    assert_eq!(
        (a.delivery.queued, a.delivery.sent, a.delivery.failed),
        (2, 2, 0)
    );
    assert_eq!(counts(&fx).jobs, 0, "the queue is empty");

    // A second pass sends nothing again.
    let again = fx.services.send_due_mail(Timestamp::now()).await;
    assert_eq!(again.sent, 0);
    assert_eq!(sink.messages().expect("messages").len(), 2);
}

#[tokio::test]
async fn a_server_killed_mid_queue_backs_the_job_off_and_every_copy_arrives_once_when_it_is_back() {
    let fx = TestSite::new();
    let users = fx.bulk_users(300);
    // The server dies after accepting 100 copies, at the 101st.
    let mut sink = SmtpSink::dying_after(100).expect("smtp sink");
    configure(&fx, &sink);
    let id = announce(&fx, Audience::Course(fx.course), &users);
    assert_eq!(jobs(&fx).len(), 2, "300 copies are two jobs of at most 256");

    let now = Timestamp::now();
    let first = fx.services.send_due_mail(now).await;
    assert_eq!(first.sent, 100, "{first:?}");
    assert_eq!(
        first.deferred, 1,
        "the job backs off; the site's other job waits: {first:?}"
    );
    let job = jobs(&fx)
        .into_iter()
        .next()
        .expect("the first job is still queued");
    assert_eq!(
        job.next, 100,
        "progress up to the last accepted copy is kept"
    );
    assert_eq!(job.attempts, 1);
    assert!(job.last_error.is_some());
    assert_eq!(
        job.not_before,
        later(now, backoff(1))
            .0
            .checked_sub(1)
            .map(Timestamp)
            .expect("time")
    );
    assert_eq!(announcement(&fx, id).delivery.sent, 100);

    // The first job is not due yet: only the site's other job goes out.
    sink.restart().expect("restart");
    let early = fx.services.send_due_mail(now).await;
    assert_eq!((early.jobs, early.sent), (1, 44), "{early:?}");
    assert_eq!(jobs(&fx)[0].next, 100, "the backing-off job was left alone");

    // Past the backoff the rest goes out, each copy once.
    let back = fx.services.send_due_mail(later(now, backoff(1))).await;
    assert_eq!(back.deferred, 0, "{back:?}");
    let got = sink.messages().expect("messages");
    assert_one_each(&fx, &got, &users);
    let a = announcement(&fx, id);
    assert_eq!(
        (a.delivery.queued, a.delivery.sent, a.delivery.failed),
        (300, 300, 0)
    );
    assert_eq!(counts(&fx).jobs, 0);
}

#[tokio::test]
async fn a_550_marks_the_copy_failed_with_the_servers_answer_and_a_retry_queues_it_again() {
    let fx = TestSite::new();
    let (l1, l2) = (fx.learners[0], fx.learners[1]);
    let sink = SmtpSink::start(&["learner2@example.org"]).expect("smtp sink");
    configure(&fx, &sink);
    let id = announce(&fx, Audience::Segment(fx.hr), &[l1, l2]);

    let report = fx.services.send_due_mail(Timestamp::now()).await;
    assert_eq!((report.sent, report.failed), (1, 1), "{report:?}");
    assert_one_each(&fx, &sink.messages().expect("messages"), &[l1]);
    let failure = fx
        .site
        .read(|t| Ok(t.mail_failure(id, l2)?))
        .expect("read")
        .expect("a failure is recorded");
    assert!(failure.error.contains("550"), "{}", failure.error);
    assert!(
        failure.error.contains("mailbox unavailable"),
        "{}",
        failure.error
    );
    let a = announcement(&fx, id);
    assert_eq!((a.delivery.sent, a.delivery.failed), (1, 1));

    let page = fx
        .site
        .mail_queue(&fx.admin, None, None, 50)
        .expect("queue");
    assert_eq!(page.failures.items, vec![failure]);
    assert_eq!(
        page.recipients.get(&l2).map(String::as_str),
        Some("learner2")
    );
    assert!(
        fx.site.mail_queue(&fx.teacher, None, None, 50).is_err(),
        "site admins only"
    );

    fx.site
        .retry_mail_failure(&fx.admin, id, l2)
        .expect("retry");
    assert_eq!(announcement(&fx, id).delivery.failed, 0);
    assert_eq!(counts(&fx).failures, 0);
    assert_eq!(jobs(&fx).len(), 1, "queued again in a new job");
    let again = fx.services.send_due_mail(Timestamp::now()).await;
    assert_eq!(again.failed, 1, "still refused: {again:?}");
    assert_eq!(
        fx.site
            .retry_all_mail_failures(&fx.admin)
            .expect("retry all"),
        1
    );
}

#[tokio::test]
async fn a_4xx_for_one_recipient_retries_with_backoff_and_is_given_up_after_the_cap() {
    let fx = TestSite::new();
    let l1 = fx.learners[0];
    let sink = SmtpSink::start_with(&[], &["learner1@example.org"]).expect("smtp sink");
    configure(&fx, &sink);
    let id = announce(&fx, Audience::Segment(fx.hr), &[l1]);
    let mut now = Timestamp::now();
    for attempt in 1..MAX_ATTEMPTS {
        let r = fx.services.send_due_mail(now).await;
        assert_eq!(r.deferred, 1, "attempt {attempt}: {r:?}");
        let job = &jobs(&fx)[0];
        assert_eq!(job.attempts, attempt);
        assert!(
            job.last_error.as_deref().is_some_and(|e| e.contains("451")),
            "{job:?}"
        );
        now = later(now, backoff(attempt));
    }
    let last = fx.services.send_due_mail(now).await;
    assert_eq!(last.failed, 1, "{last:?}");
    let failure = fx
        .site
        .read(|t| Ok(t.mail_failure(id, l1)?))
        .expect("read")
        .expect("failure");
    assert!(
        failure
            .error
            .starts_with(&format!("given up after {MAX_ATTEMPTS} attempts")),
        "{}",
        failure.error
    );
    assert_eq!(counts(&fx).jobs, 0);
    assert!(sink.messages().expect("messages").is_empty());
}

#[test]
fn queuing_skips_suspended_users_and_those_without_e_mail_and_writes_a_job_per_256() {
    let fx = TestSite::new();
    let users = fx.bulk_users(600);
    fx.site.suspend_user(&fx.admin, users[0]).expect("suspend");
    fx.site
        .set_message_preferences(
            &fx.admin,
            users[1],
            MessagePreferences {
                announcement_emails: false,
            },
        )
        .expect("preferences");
    let id = announce(&fx, Audience::Course(fx.course), &users);
    assert_eq!(announcement(&fx, id).delivery.queued, 598);
    let jobs = jobs(&fx);
    assert_eq!(
        jobs.iter().map(|j| j.recipients.len()).collect::<Vec<_>>(),
        vec![256, 256, 86]
    );
    assert!(
        !jobs
            .iter()
            .any(|j| j.recipients.contains(&users[0]) || j.recipients.contains(&users[1]))
    );
    assert_eq!(counts(&fx).copies, 598);
}

#[test]
fn backoff_doubles_from_thirty_seconds_up_to_an_hour() {
    use std::time::Duration;
    assert_eq!(backoff(1), Duration::from_secs(30));
    assert_eq!(backoff(2), Duration::from_secs(60));
    assert_eq!(backoff(5), Duration::from_secs(480));
    assert_eq!(backoff(9), Duration::from_secs(3600));
}

#[test]
fn smtp_settings_keep_a_blank_password_clear_on_request_and_never_show_it() {
    let fx = TestSite::new();
    assert!(!fx.site.mail_configured().expect("configured"));
    let input = SmtpSettingsInput {
        host: "smtp.example.org".into(),
        port: 587,
        security: Some(SmtpSecurity::StartTls),
        username: "lms".into(),
        password: "s3cret-pass".into(),
        remove_password: false,
        from_address: "lms@example.org".into(),
    };
    let shown = fx
        .site
        .save_smtp_settings(&fx.admin, input.clone())
        .expect("save");
    assert_eq!(shown.applies, SmtpSource::Site);
    assert!(shown.own.as_ref().is_some_and(|s| s.password_set));
    assert!(
        !format!("{shown:?}").contains("s3cret"),
        "no view carries the password"
    );
    assert!(fx.site.mail_configured().expect("configured"));

    let kept = fx
        .site
        .save_smtp_settings(
            &fx.admin,
            SmtpSettingsInput {
                password: String::new(),
                ..input.clone()
            },
        )
        .expect("save");
    assert!(
        kept.own.as_ref().is_some_and(|s| s.password_set),
        "a blank password keeps it"
    );
    let stored = fx
        .site
        .read(|t| Ok(t.smtp_settings()?))
        .expect("read")
        .expect("settings");
    assert_eq!(stored.password.as_deref(), Some("s3cret-pass"));
    assert!(!format!("{stored:?}").contains("s3cret"), "Debug masks it");

    let cleared = fx
        .site
        .save_smtp_settings(
            &fx.admin,
            SmtpSettingsInput {
                remove_password: true,
                ..input.clone()
            },
        )
        .expect("save");
    assert!(cleared.own.as_ref().is_some_and(|s| !s.password_set));
    let audit = format!(
        "{:?}",
        fx.site
            .audit_log(&fx.admin, &Default::default(), None, 50)
            .expect("audit")
    );
    assert!(
        audit.contains("site.smtp_saved") && !audit.contains("s3cret"),
        "{audit}"
    );

    assert!(
        fx.site
            .save_smtp_settings(&fx.teacher, input.clone())
            .is_err(),
        "site admins only"
    );
    for (bad, field) in [
        (
            SmtpSettingsInput {
                host: " ".into(),
                ..input.clone()
            },
            "host",
        ),
        (
            SmtpSettingsInput {
                port: 0,
                ..input.clone()
            },
            "port",
        ),
        (
            SmtpSettingsInput {
                port: 65_536,
                ..input.clone()
            },
            "port",
        ),
        (
            SmtpSettingsInput {
                from_address: "nobody".into(),
                ..input.clone()
            },
            "from_address",
        ),
    ] {
        let e = fx.site.save_smtp_settings(&fx.admin, bad).expect_err(field);
        assert_eq!(e.field(), Some(field), "{e}");
    }
}

#[test]
fn a_site_without_settings_uses_the_operators_default_until_it_has_its_own() {
    let fx = TestSite::new();
    let default = SmtpSettings {
        host: "relay.example.org".into(),
        port: 25,
        security: SmtpSecurity::None,
        username: None,
        password: Some("operator-secret".into()),
        from_address: "noreply@example.org".into(),
    };
    fx.services
        .set_default_smtp(Some(default))
        .expect("default");
    assert!(fx.site.mail_configured().expect("configured"));
    let o = fx.site.smtp_overview(&fx.admin).expect("overview");
    assert_eq!(o.applies, SmtpSource::OperatorDefault);
    assert!(o.own.is_none());
    assert!(
        o.operator_default
            .is_some_and(|d| d.password_set && d.host == "relay.example.org")
    );
    let removed = fx.site.remove_smtp_settings(&fx.admin).expect("remove");
    assert_eq!(removed.applies, SmtpSource::OperatorDefault);
    assert!(
        fx.services
            .set_default_smtp(Some(SmtpSettings {
                port: 0,
                ..fx.services.mail().default_settings().expect("d")
            }))
            .is_err()
    );
}

#[test]
fn preferences_are_a_users_own_or_a_site_admins() {
    let fx = TestSite::new();
    let l1 = fx.learners[0];
    let off = MessagePreferences {
        announcement_emails: false,
    };
    assert!(
        fx.site
            .message_preferences(&fx.learner(0), l1)
            .expect("own")
            .announcement_emails
    );
    fx.site
        .set_message_preferences(&fx.learner(0), l1, off)
        .expect("own");
    assert_eq!(
        fx.site.message_preferences(&fx.admin, l1).expect("admin"),
        off
    );
    assert!(
        fx.site
            .set_message_preferences(&fx.learner(1), l1, off)
            .is_err(),
        "not another's"
    );
}
