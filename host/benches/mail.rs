//! Mail throughput (issue 17, BENCHMARKS.md): one pass of the send worker
//! over a queue of 5,000 e-mail copies of one announcement, delivered to a
//! local SMTP sink with connection reuse — the worker's own code path:
//! due jobs read, every copy rendered from the askama templates, handed to
//! lettre's pooled transport, progress saved every 64 copies.
//!
//! The sink is a tiny SMTP server in this file (a thread per connection,
//! answers 250 to everything, reads DATA to its end), so the figure is the
//! host's, not a mail server's. Prints copies per second and how many
//! connections the pass opened.
//!
//! Run: `cargo bench -p charon-host --features bench --bench mail`.

mod common;
use common::machine;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use charon_host::domain::{Audience, SegmentId, SmtpSecurity, Timestamp};
use charon_host::services::mail::SmtpSettingsInput;

const COPIES: usize = 5_000;

/// Counts connections and accepted messages.
#[derive(Default)]
struct SinkCounts {
    connections: AtomicU64,
    messages: AtomicU64,
}

fn serve(stream: TcpStream, counts: &SinkCounts) -> std::io::Result<()> {
    let mut out = stream.try_clone()?;
    let mut lines = BufReader::new(stream);
    out.write_all(b"220 sink ESMTP\r\n")?;
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" => out.write_all(b"250-sink\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")?,
            "DATA" => {
                out.write_all(b"354 go on\r\n")?;
                loop {
                    line.clear();
                    if lines.read_line(&mut line)? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" {
                        break;
                    }
                }
                counts.messages.fetch_add(1, Ordering::Relaxed);
                out.write_all(b"250 accepted\r\n")?;
            }
            "QUIT" => {
                out.write_all(b"221 bye\r\n")?;
                return Ok(());
            }
            _ => out.write_all(b"250 OK\r\n")?,
        }
    }
}

fn start_sink() -> (u16, Arc<SinkCounts>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the sink");
    let port = listener.local_addr().expect("sink address").port();
    let counts = Arc::new(SinkCounts::default());
    let shared = counts.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            shared.connections.fetch_add(1, Ordering::Relaxed);
            let c = shared.clone();
            std::thread::spawn(move || {
                let _ = serve(stream, &c);
            });
        }
    });
    (port, counts)
}

fn main() {
    println!("mail throughput on {}", machine());
    let (_dir, services, site, op, users) = common::host_with_users(COPIES);
    let (port, counts) = start_sink();
    site.save_smtp_settings(
        &op,
        SmtpSettingsInput {
            host: "127.0.0.1".into(),
            port: u32::from(port),
            security: Some(SmtpSecurity::None),
            from_address: "lms@example.org".into(),
            ..Default::default()
        },
    )
    .expect("smtp settings");
    let author = users[0];
    site.fixture_sent_announcement(author, Audience::Segment(SegmentId(1)), &users)
        .expect("announcement");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let started = Instant::now();
    let mut sent = 0;
    // JOBS_PER_PASS bounds one pass; a few passes empty the queue.
    while sent < COPIES as u64 {
        let report = runtime.block_on(services.send_due_mail(Timestamp::now()));
        assert!(report.sent > 0, "a pass sent nothing: {report:?}");
        sent += report.sent;
    }
    let took = started.elapsed();
    assert_eq!(counts.messages.load(Ordering::Relaxed), COPIES as u64);
    println!(
        "{COPIES} copies in {:.2} s: {:.0} messages/s over {} connection(s)",
        took.as_secs_f64(),
        COPIES as f64 / took.as_secs_f64(),
        counts.connections.load(Ordering::Relaxed)
    );
}
