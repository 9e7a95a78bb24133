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

// Shared with the host's mail tests (by `#[path]`), which use all of it.
#[allow(dead_code)]
pub mod smtp_sink;
use serde_json::Value;

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
        Self::start_with_env(data, extra, &[])
    }

    /// As [`start_with`](Self::start_with), with environment variables
    /// (e.g. `CHARON_FAILPOINTS`, which has no flag).
    pub fn start_with_env(data: &Path, extra: &[&str], env: &[(&str, &str)]) -> Result<Self> {
        let mut child = binary()
            .args(["serve", "--data"])
            .arg(data)
            .args(["--listen", "127.0.0.1:0"])
            .args(extra)
            .envs(env.iter().copied())
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

    /// The word the banner prints after `marker`: a one-time password
    /// (`"one-time password: "`), the demo admin's (`"password: "`).
    pub fn banner_word_after(&self, marker: &str) -> Result<String> {
        let banner = self.banner.join("\n");
        banner
            .split(marker)
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .map(str::to_owned)
            .with_context(|| format!("no {marker:?} in {banner:?}"))
    }

    /// The server's process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
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

    /// `GET path` with the cookie header `cookie` (`name=value`): the
    /// status, the `Content-Disposition` and `Content-Type` headers, and
    /// the body's bytes — a download as a signed-in browser gets it.
    pub fn download(&self, path: &str, cookie: &str) -> Result<(u16, String, String, Vec<u8>)> {
        let mut response = self
            .agent
            .get(format!("{}{path}", self.url))
            .header("Cookie", cookie)
            .call()
            .with_context(|| format!("GET {path}"))?;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        let (disposition, content_type) = (header("content-disposition"), header("content-type"));
        let status = response.status().as_u16();
        let body = response.body_mut().read_to_vec()?;
        Ok((status, disposition, content_type, body))
    }

    /// A JSON API client of this server with a bearer `token`, for paths
    /// under `prefix` (e.g. `/s/default/api/v1`).
    pub fn api(&self, token: &str, prefix: &str) -> ApiClient {
        ApiClient {
            agent: self.agent.clone(),
            base: format!("{}{prefix}", self.url),
            token: token.to_owned(),
        }
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

    /// Kills the server with SIGKILL (what `Child::kill` sends on Unix),
    /// as a crash or the OOM killer would: nothing runs on the way out and
    /// `operator-api.json` stays behind. Returns once the process is gone.
    pub fn kill(mut self) -> Result<ExitStatus> {
        let mut child = self.child.take().context("already stopped")?;
        child.kill().context("SIGKILL charon serve")?;
        wait_with_deadline(&mut child, STOP_TIMEOUT)
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
    finish(spawn(args)?, COMMAND_TIMEOUT).with_context(|| format!("charon {args:?}"))
}

/// Runs another program to completion, its output piped, killed after
/// `timeout`.
pub fn run(mut command: Command, timeout: Duration) -> Result<Finished> {
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("spawn {command:?}"))?;
    finish(child, timeout).with_context(|| format!("{command:?}"))
}

/// Waits for `child` (at most `timeout`) and reads what it printed.
fn finish(mut child: Child, timeout: Duration) -> Result<Finished> {
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let status = wait_with_deadline(&mut child, timeout)?;
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

/// Runs `charon ARGS…` with its stdout a pipe whose reading end is closed
/// before the command writes: a reader that went away (`| head`).
pub fn charon_unread(args: &[&str]) -> Result<Finished> {
    let mut child = spawn(args)?;
    drop(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let status = wait_with_deadline(&mut child, COMMAND_TIMEOUT)
        .with_context(|| format!("charon {args:?}"))?;
    let until = Instant::now() + Duration::from_secs(5);
    while Arc::strong_count(&stderr) > 1 && Instant::now() < until {
        thread::sleep(Duration::from_millis(5));
    }
    let stderr = stderr.lock().map(|t| t.clone()).unwrap_or_default();
    Ok(Finished {
        status,
        stdout: String::new(),
        stderr,
    })
}

/// `charon ARGS…` started with no stdin and its output piped.
fn spawn(args: &[&str]) -> Result<Child> {
    binary()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("spawn charon {args:?}"))
}

/// A path argument as `&str` (temp dirs are UTF-8 on the test machines).
pub fn arg(path: &Path) -> Result<&str> {
    path.to_str()
        .ok_or_else(|| anyhow!("non-UTF-8 path {}", path.display()))
}

/// `DATA/operator-api.json`.
pub fn operator_api_file(data: &Path) -> PathBuf {
    data.join("operator-api.json")
}

/// A script's view of the JSON API: one call, one status and one JSON
/// body (`null` when empty).
pub struct ApiClient {
    agent: ureq::Agent,
    base: String,
    token: String,
}

impl ApiClient {
    pub fn get(&self, path: &str) -> Result<(u16, Value)> {
        self.call("GET", path, None)
    }

    /// Sends `body` (ignored for GET and DELETE) and checks the status.
    pub fn expect(&self, status: u16, method: &str, path: &str, body: Value) -> Result<Value> {
        let body = (method != "GET" && method != "DELETE").then_some(body);
        let (got, answer) = self.call(method, path, body)?;
        if got != status {
            bail!("{method} {path}: expected {status}, got {got}: {answer}");
        }
        Ok(answer)
    }

    /// Every item of a paged collection, following `next_cursor`.
    pub fn all(&self, path: &str) -> Result<Vec<Value>> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        let join = if path.contains('?') { '&' } else { '?' };
        loop {
            let page_path = match &cursor {
                Some(c) => format!("{path}{join}cursor={c}"),
                None => path.to_owned(),
            };
            let page = self.expect(200, "GET", &page_path, Value::Null)?;
            items.extend(page["items"].as_array().cloned().unwrap_or_default());
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return Ok(items),
            }
        }
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<(u16, Value)> {
        let url = format!("{}{path}", self.base);
        let auth = format!("Bearer {}", self.token);
        let response = match (method, body) {
            ("GET", _) => self.agent.get(&url).header("Authorization", &auth).call(),
            ("DELETE", _) => self
                .agent
                .delete(&url)
                .header("Authorization", &auth)
                .call(),
            ("POST", Some(b)) => self
                .agent
                .post(&url)
                .header("Authorization", &auth)
                .send_json(&b),
            ("POST", None) => self
                .agent
                .post(&url)
                .header("Authorization", &auth)
                .send_empty(),
            ("PATCH", Some(b)) => self
                .agent
                .patch(&url)
                .header("Authorization", &auth)
                .send_json(&b),
            (other, _) => bail!("the test client does not send {other}"),
        };
        let mut response = response.with_context(|| format!("{method} {path}"))?;
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string()?;
        let json = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text)
                .with_context(|| format!("{method} {path}: not JSON: {text}"))?
        };
        Ok((status, json))
    }
}
