//! Spawning the real `charon` binary: a [`TestServer`] that is killed when
//! dropped, and [`charon`] for one-shot commands. Every wait has a
//! deadline, so a hung process fails the test instead of hanging it.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};

const START_TIMEOUT: Duration = Duration::from_secs(60);
const STOP_TIMEOUT: Duration = Duration::from_secs(30);
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// The binary cargo built for this test run.
fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_charon"));
    // The test names everything on the command line; settings of the
    // machine running the tests must not change what is tested.
    for (key, _) in std::env::vars() {
        if key.starts_with("CHARON_") {
            command.env_remove(key);
        }
    }
    command
}

/// A running `charon serve` on a free port.
pub struct TestServer {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT`, as the server printed it.
    pub url: String,
    /// What the server printed to stdout before it listened.
    pub banner: Vec<String>,
    stderr: Arc<Mutex<String>>,
    agent: ureq::Agent,
}

impl TestServer {
    /// Starts `charon serve --data DATA --listen 127.0.0.1:0` and waits for
    /// its `listening on http://…` line.
    pub fn start(data: &Path) -> Result<Self> {
        Self::start_with(data, &[])
    }

    /// As [`start`](Self::start), with more `serve` arguments.
    pub fn start_with(data: &Path, extra: &[&str]) -> Result<Self> {
        let mut child = binary()
            .args(["serve", "--data"])
            .arg(data)
            .args(["--listen", "127.0.0.1:0"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .context("spawn charon serve")?;
        let stderr = drain(child.stderr.take());
        let (lines_tx, lines) = mpsc::channel();
        let stdout = child.stdout.take().context("stdout of charon serve")?;
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                // The receiver stops listening once the server is up; the
                // pipe must still be drained.
                let _ = lines_tx.send(line);
            }
        });
        let mut server = TestServer {
            child: Some(child),
            url: String::new(),
            banner: Vec::new(),
            stderr,
            agent: ureq::Agent::config_builder()
                .proxy(None)
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(30)))
                .build()
                .into(),
        };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(url) = line.strip_prefix("listening on ") {
                        server.url = url.trim().to_owned();
                        server.banner.push(line);
                        return Ok(server);
                    }
                    server.banner.push(line);
                }
                Err(_) => bail!(
                    "charon serve did not print `listening on` within {START_TIMEOUT:?}\n\
                     stdout: {:?}\nstderr: {}",
                    server.banner,
                    server.stderr()
                ),
            }
        }
    }

    /// What the server logged so far (for failure messages).
    pub fn stderr(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// `GET path`: the status and the body.
    pub fn get(&self, path: &str) -> Result<(u16, String)> {
        let mut response = self
            .agent
            .get(format!("{}{path}", self.url))
            .call()
            .with_context(|| format!("GET {path}"))?;
        let status = response.status().as_u16();
        let body = response.body_mut().read_to_string()?;
        Ok((status, body))
    }

    /// Sends SIGTERM and waits for the process to exit.
    pub fn terminate(mut self) -> Result<ExitStatus> {
        let mut child = self.child.take().context("already stopped")?;
        let sent = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .context("run kill")?;
        if !sent.success() {
            let _ = child.kill();
            let _ = child.wait();
            bail!("kill -TERM failed: {sent}");
        }
        let status = wait_with_deadline(&mut child, STOP_TIMEOUT)
            .map_err(|e| anyhow!("{e}\nstderr: {}", self.stderr()))?;
        Ok(status)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Reads a pipe to its end on a thread, into a shared string.
fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> Arc<Mutex<String>> {
    let text = Arc::new(Mutex::new(String::new()));
    if let Some(pipe) = pipe {
        let sink = text.clone();
        thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                if let Ok(mut s) = sink.lock() {
                    s.push_str(&line);
                    s.push('\n');
                }
            }
        });
    }
    text
}

/// Waits for `child`, killing it after `timeout`.
fn wait_with_deadline(child: &mut Child, timeout: Duration) -> Result<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            bail!("process {} did not exit within {timeout:?}", child.id());
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// What a finished `charon` command left.
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `charon ARGS…` to completion (killed after a minute).
pub fn charon(args: &[&str]) -> Result<Finished> {
    let mut child = binary()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("spawn charon {args:?}"))?;
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let status = wait_with_deadline(&mut child, COMMAND_TIMEOUT)
        .with_context(|| format!("charon {args:?}"))?;
    // The reader threads finish once the pipes close; give them a moment.
    let read = |s: &Arc<Mutex<String>>| {
        let until = Instant::now() + Duration::from_secs(5);
        loop {
            let done = Arc::strong_count(s) == 1;
            if done || Instant::now() >= until {
                return s.lock().map(|t| t.clone()).unwrap_or_default();
            }
            thread::sleep(Duration::from_millis(5));
        }
    };
    Ok(Finished {
        status,
        stdout: read(&stdout),
        stderr: read(&stderr),
    })
}

/// A path argument as `&str` (temp dirs are UTF-8 on the test machines).
pub fn arg(path: &Path) -> Result<&str> {
    path.to_str()
        .ok_or_else(|| anyhow!("non-UTF-8 path {}", path.display()))
}

/// `DATA/control.json`.
pub fn control_file(data: &Path) -> PathBuf {
    data.join("control.json")
}
