//! E-mail copies of announcements through the real binary and a real SMTP
//! server process on loopback (aiosmtpd, `support::smtp_sink`), issue 17:
//! every Finance member gets exactly one message with the sender's
//! headers and both parts, a 550 marks its copy failed with the server's
//! answer; then the SMTP server is down while IT is announced to, the
//! host is killed (SIGKILL) with every copy still queued, and once both are
//! back each IT member gets exactly one message. The test waits on what
//! the host reports (`GET /mail/queue`), never on a duration.

use std::collections::{BTreeMap, BTreeSet};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use serde_json::{Value, json};

use crate::api::create_token;
use crate::support::smtp_sink::{ReceivedMail, SmtpSink};
use crate::support::{ApiClient, TestServer, arg};

const SITE: &str = "/s/default/api/v1";

fn serve_args(port: u16) -> Vec<String> {
    [
        "--demo",
        "--smtp-host",
        "127.0.0.1",
        "--smtp-port",
        &port.to_string(),
        "--smtp-security",
        "none",
        "--smtp-from",
        "lms@example.org",
        // The worker is woken when mail is queued; the short poll and
        // retry only keep the restart below quick.
        "--mail-poll-ms",
        "50",
        "--mail-retry-secs",
        "1",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect()
}

fn start(data: &std::path::Path, port: u16) -> Result<TestServer> {
    let args = serve_args(port);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    TestServer::start_with(data, &args)
}

/// Waits until `check` holds, polling the host's own figures.
fn wait_for(what: &str, mut check: impl FnMut() -> Result<bool>) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !check()? {
        if Instant::now() >= deadline {
            bail!("timed out waiting for {what}");
        }
        thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

/// The e-mail addresses of the segment named `name`.
fn segment_emails(api: &ApiClient, name: &str) -> Result<(u64, BTreeSet<String>)> {
    let segments = api.all(&format!("/segments?q={name}"))?;
    let id = segments
        .iter()
        .find(|s| s["name"] == name)
        .and_then(|s| s["id"].as_u64())
        .with_context(|| format!("segment {name}"))?;
    let members = api.all(&format!("/segments/{id}/members?limit=1000"))?;
    let emails = members
        .iter()
        .filter_map(|u| u["email"].as_str().map(str::to_lowercase))
        .collect();
    Ok((id, emails))
}

fn announce(api: &ApiClient, segment: u64, subject: &str) -> Result<Value> {
    api.expect(
        201,
        "POST",
        "/announcements",
        json!({
            "audience": {"segment": segment},
            "subject": subject,
            "body": "The compliance deadline is now **Friday**.",
        }),
    )
}

/// The sink's messages with `subject`, by recipient.
fn received(sink: &SmtpSink, subject: &str) -> Result<BTreeMap<String, Vec<ReceivedMail>>> {
    let mut out: BTreeMap<String, Vec<ReceivedMail>> = BTreeMap::new();
    for m in sink.messages()? {
        if m.header("Subject").as_deref() == Some(subject) {
            out.entry(m.rcpt.to_lowercase()).or_default().push(m);
        }
    }
    Ok(out)
}

fn queue(api: &ApiClient) -> Result<Value> {
    api.expect(200, "GET", "/mail/queue", Value::Null)
}

#[test]
fn announcement_mail_reaches_each_recipient_once_through_a_refusal_an_outage_and_a_crash()
-> Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    // The demo's Finance members are known before the sink starts only by
    // their addresses' shape; the first one is refused (550).
    let mut sink = SmtpSink::start(&["ada.abbott@example.org"])?;
    let server = start(&data, sink.port())?;
    let (_, secret, _) = create_token(arg(&data)?, &["--name", "mail", "--user", "siteadmin"])?;
    let api = server.api(&secret, SITE);
    let (finance, mut finance_emails) = segment_emails(&api, "Finance")?;
    ensure!(finance_emails.len() > 10, "{finance_emails:?}");
    // Refuse a real Finance member: move the refusal to one of them.
    let refused = finance_emails.iter().next().cloned().context("a member")?;
    drop(sink);
    sink = SmtpSink::start(&[refused.as_str()])?;
    drop(server);
    let server = start(&data, sink.port())?;
    let api = server.api(&secret, SITE);

    // 1. Finance: one message each, the refused one failed with its answer.
    let subject = "Compliance deadline moved";
    let sent = announce(&api, finance, subject)?;
    let id = sent["id"].as_u64().context("id")?;
    ensure!(
        sent["delivery"]["queued"].as_u64() == Some(finance_emails.len() as u64),
        "{sent}"
    );
    wait_for("the Finance copies to leave the queue", || {
        let q = queue(&api)?;
        Ok(q["jobs"] == 0 && q["failures"] == 1)
    })?;
    let got = received(&sink, subject)?;
    finance_emails.remove(&refused);
    ensure!(
        got.keys().cloned().collect::<BTreeSet<_>>() == finance_emails,
        "recipients differ: got {:?}",
        got.keys().collect::<Vec<_>>()
    );
    let mut ids = BTreeSet::new();
    for (rcpt, messages) in &got {
        ensure!(
            messages.len() == 1,
            "{rcpt} got {} messages",
            messages.len()
        );
        let m = &messages[0];
        let from = m.header("From").unwrap_or_default();
        ensure!(from.contains("<lms@example.org>"), "From: {from}");
        ensure!(
            m.header("List-Unsubscribe").is_some(),
            "no List-Unsubscribe for {rcpt}"
        );
        ensure!(
            m.header_count("Message-ID") == 1,
            "one Message-ID for {rcpt}"
        );
        let message_id = m.header("Message-ID").context("Message-ID")?;
        ensure!(
            ids.insert(message_id.clone()),
            "Message-ID {message_id} twice"
        );
        let content_type = m.header("Content-Type").unwrap_or_default();
        ensure!(
            content_type.starts_with("multipart/alternative"),
            "{content_type}"
        );
        ensure!(
            m.raw.contains("text/plain") && m.raw.contains("text/html"),
            "both parts for {rcpt}"
        );
    }
    let q = queue(&api)?;
    let failure = &q["failed"][0];
    ensure!(
        failure["error"].as_str().unwrap_or("").contains("550"),
        "{q}"
    );
    let view = api.expect(200, "GET", &format!("/announcements/{id}"), Value::Null)?;
    ensure!(view["delivery"]["failed"] == 1, "{view}");
    // The announcement's own page (and its API view) says why.
    let why = view["failures"][0]["error"].as_str().unwrap_or("");
    ensure!(why.contains("550"), "{view}");
    ensure!(
        view["delivery"]["sent"].as_u64() == Some(finance_emails.len() as u64),
        "{view}"
    );

    // 2. IT, with the SMTP server down: the worker tries, backs off; the
    //    host is killed with every copy queued, then both come back.
    let (it, it_emails) = segment_emails(&api, "IT")?;
    ensure!(it_emails.len() > 10, "{it_emails:?}");
    sink.stop();
    let outage = "Server room moved";
    announce(&api, it, outage)?;
    wait_for("the worker to back off the IT copies", || {
        let q = queue(&api)?;
        Ok(q["backing_off"].as_u64().unwrap_or(0) >= 1)
    })?;
    let status = server.kill()?;
    ensure!(!status.success(), "killed: {status}");
    sink.restart()?;
    let server = start(&data, sink.port())?;
    let api = server.api(&secret, SITE);
    wait_for("the IT copies to leave the queue after the restart", || {
        Ok(queue(&api)?["jobs"] == 0)
    })?;
    let got = received(&sink, outage)?;
    ensure!(
        got.keys().cloned().collect::<BTreeSet<_>>() == it_emails,
        "IT recipients differ"
    );
    for (rcpt, messages) in &got {
        ensure!(
            messages.len() == 1,
            "{rcpt} got {} messages",
            messages.len()
        );
    }
    eprintln!(
        "Finance: {} delivered once each, 1 refused (550); IT after the outage and the kill: {} delivered once each",
        finance_emails.len(),
        got.len()
    );
    Ok(())
}
