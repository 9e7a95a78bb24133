//! `SmtpSink`: a real SMTP server process on loopback for the tests —
//! `smtp_sink.py` (aiosmtpd, pinned and installed by `.ci/run` into
//! `target/smtp-venv`) started on a free port, stopped and started again
//! on the same port, and the messages it accepted listed.
//!
//! Shared by the host's tests (`services::mail::tests`, through `#[path]`)
//! and the end-to-end tests, so it uses std and `tempfile` only. Without
//! the venv it fails and says how to install it; it never skips.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The aiosmtpd `.ci/run` installs; the same pin is there.
pub const AIOSMTPD: &str = "aiosmtpd==1.4.6";

/// A running (or stopped) SMTP sink.
pub struct SmtpSink {
    child: Option<Child>,
    port: u16,
    dir: tempfile::TempDir,
    reject: Vec<String>,
    defer: Vec<String>,
    /// Exit after accepting this many messages (first run only).
    die_after: Option<usize>,
}

/// One message the sink accepted, for one recipient.
#[derive(Clone, Debug)]
pub struct ReceivedMail {
    /// The envelope recipient.
    pub rcpt: String,
    /// The message as received (headers and body, CRLF lines).
    pub raw: String,
}

impl ReceivedMail {
    /// The first header called `name` (case-insensitive), unfolded.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.raw.split("\r\n\r\n").next().unwrap_or("");
        let mut found: Option<String> = None;
        for line in head.split("\r\n") {
            if line.starts_with([' ', '\t']) {
                if let Some(v) = found.as_mut() {
                    v.push(' ');
                    v.push_str(line.trim());
                }
                continue;
            }
            if found.is_some() {
                break;
            }
            if let Some((n, v)) = line.split_once(':')
                && n.eq_ignore_ascii_case(name)
            {
                found = Some(v.trim().to_owned());
            }
        }
        found
    }

    /// How many headers called `name` the message has.
    pub fn header_count(&self, name: &str) -> usize {
        let head = self.raw.split("\r\n\r\n").next().unwrap_or("");
        head.split("\r\n")
            .filter(|l| {
                l.split_once(':')
                    .is_some_and(|(n, _)| n.eq_ignore_ascii_case(name))
            })
            .count()
    }
}

fn python() -> std::io::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let venv = exe
        .ancestors()
        .nth(3)
        .map(|target| target.join("smtp-venv/bin/python"));
    match venv.filter(|p| p.is_file()) {
        Some(p) => Ok(p),
        None => Err(std::io::Error::other(format!(
            "aiosmtpd is not installed; `.ci/run` installs it, or by hand:\n    \
             python3 -m venv target/smtp-venv && target/smtp-venv/bin/pip install '{AIOSMTPD}'"
        ))),
    }
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/e2e/support/smtp_sink.py")
}

impl SmtpSink {
    /// Starts a sink on a free loopback port that answers 550 to RCPT TO
    /// any of `reject`.
    pub fn start(reject: &[&str]) -> std::io::Result<Self> {
        Self::start_with(reject, &[])
    }

    /// As [`start`](Self::start), answering 451 to any of `defer`.
    pub fn start_with(reject: &[&str], defer: &[&str]) -> std::io::Result<Self> {
        Self::launch(reject, defer, None)
    }

    /// A sink that dies (exits) at the first message after it accepted
    /// `n`: a server killed mid-queue at a point the test chose, not after
    /// a timer. [`restart`](Self::restart) brings it back for good.
    pub fn dying_after(n: usize) -> std::io::Result<Self> {
        Self::launch(&[], &[], Some(n))
    }

    fn launch(reject: &[&str], defer: &[&str], die_after: Option<usize>) -> std::io::Result<Self> {
        let mut sink = Self {
            child: None,
            port: 0,
            dir: tempfile::tempdir()?,
            reject: reject.iter().map(|s| (*s).to_owned()).collect(),
            defer: defer.iter().map(|s| (*s).to_owned()).collect(),
            die_after,
        };
        sink.spawn()?;
        Ok(sink)
    }

    fn spawn(&mut self) -> std::io::Result<()> {
        let mut cmd = Command::new(python()?);
        cmd.arg(script())
            .arg("--dir")
            .arg(self.dir.path())
            .arg("--port")
            .arg(self.port.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for r in &self.reject {
            cmd.arg("--reject").arg(r);
        }
        for d in &self.defer {
            cmd.arg("--defer").arg(d);
        }
        if let Some(n) = self.die_after {
            cmd.arg("--die-after").arg(n.to_string());
        }
        let mut child = cmd.spawn()?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| std::io::Error::other("no stdout"))?;
        // Waits for the line the sink prints once it accepts connections.
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let port = line
            .trim()
            .strip_prefix("listening on ")
            .and_then(|p| p.parse().ok());
        match port {
            Some(port) => {
                self.port = port;
                self.child = Some(child);
                Ok(())
            }
            None => {
                let _ = child.kill();
                let _ = child.wait();
                Err(std::io::Error::other(format!(
                    "the SMTP sink did not start: {line:?}"
                )))
            }
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills the server (as a crash would): connections drop, new ones
    /// are refused.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port, keeping what it received.
    pub fn restart(&mut self) -> std::io::Result<()> {
        self.stop();
        self.die_after = None;
        self.spawn()
    }

    /// The messages accepted so far, in order.
    pub fn messages(&self) -> std::io::Result<Vec<ReceivedMail>> {
        let mut names: Vec<String> = std::fs::read_dir(self.dir.path())?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".eml") && !n.starts_with('.'))
            .collect();
        names.sort();
        names
            .into_iter()
            .map(|name| {
                let raw = std::fs::read_to_string(self.dir.path().join(&name))?;
                let rcpt = name
                    .split_once('-')
                    .map_or("", |(_, r)| r)
                    .trim_end_matches(".eml")
                    .to_owned();
                Ok(ReceivedMail { rcpt, raw })
            })
            .collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop();
    }
}
