//! End-to-end: what an outside attacker tried against the real server
//! (issue 16): sign-in bursts, `next` tricks, the data dir's permissions.

use std::path::Path;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use anyhow::{Context, Result, ensure};

use crate::support::TestServer;

/// A browser without redirects, so a test sees each answer itself.
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .proxy(None)
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

/// A sign-in form's double-submit token: its cookie and hidden field.
fn sign_in_token(agent: &ureq::Agent, url: &str) -> Result<String> {
    let mut page = agent.get(url).call()?;
    ensure!(page.status() == 200, "GET {url}: {}", page.status());
    let body = page.body_mut().read_to_string()?;
    body.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(str::to_owned)
        .with_context(|| format!("no token in {body}"))
}

/// One sign-in POST: the status and the `Location`, if any.
fn sign_in(
    agent: &ureq::Agent,
    url: &str,
    token: &str,
    fields: &[(&str, &str)],
) -> Result<(u16, Option<String>)> {
    let mut form = vec![("csrf", token)];
    form.extend_from_slice(fields);
    let answer = agent
        .post(url)
        .header("Cookie", &format!("charon_sign_in={token}"))
        .send_form(form)?;
    let location = answer
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    Ok((answer.status().as_u16(), location))
}

/// `attempts` sign-ins sent at once; their statuses.
fn burst(url: &str, token: &str, attempts: Vec<(String, String)>) -> Result<Vec<u16>> {
    let barrier = Arc::new(Barrier::new(attempts.len()));
    let threads: Vec<_> = attempts
        .into_iter()
        .map(|(username, password)| {
            let (url, token, barrier) = (url.to_owned(), token.to_owned(), barrier.clone());
            thread::spawn(move || {
                let agent = agent();
                barrier.wait();
                sign_in(
                    &agent,
                    &url,
                    &token,
                    &[("username", &username), ("password", &password)],
                )
                .map(|(status, _)| status)
            })
        })
        .collect();
    threads
        .into_iter()
        .map(|t| {
            t.join()
                .map_err(|_| anyhow::anyhow!("a sign-in thread panicked"))?
        })
        .collect()
}

#[test]
fn sign_in_bursts_get_no_more_password_checks_than_the_limits_and_next_stays_local() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let server = TestServer::start_with(&dir.path().join("data"), &["--demo"])?;
    let password = server.banner_word_after("one-time password: ")?;
    let agent = agent();
    let operator = format!("{}/operator/sign-in", server.url);
    let token = sign_in_token(&agent, &operator)?;

    // `next` with a newline or a tab, then the right password: the
    // dashboard, never a 500 or a protocol-relative redirect.
    for next in ["/\n/x", "/\t/evil.example/", "/%0A/x", "/%09/evil.example/"] {
        let (status, location) = sign_in(
            &agent,
            &operator,
            &token,
            &[
                ("username", "admin"),
                ("password", &password),
                ("next", next),
            ],
        )?;
        ensure!(
            (status, location.as_deref()) == (303, Some("/operator")),
            "next {next:?}: {status} {location:?}\n{}",
            server.stderr()
        );
    }
    let site = format!("{}/s/default/sign-in", server.url);
    let site_token = sign_in_token(&agent, &site)?;
    let admin_password = server.banner_word_after("username siteadmin  password: ")?;
    let (status, location) = sign_in(
        &agent,
        &site,
        &site_token,
        &[
            ("username", "siteadmin"),
            ("password", &admin_password),
            ("next", "/s/default/%09/evil.example/"),
        ],
    )?;
    ensure!(
        (status, location.as_deref()) == (303, Some("/s/default/dashboard")),
        "site next: {status} {location:?}"
    );

    // Forty at once for one account from one address, the right password
    // in the middle: five password checks, the rest wait.
    let mut attempts: Vec<_> = (0..39)
        .map(|n| ("admin".to_owned(), format!("wrong {n}")))
        .collect();
    attempts.insert(20, ("admin".to_owned(), password.clone()));
    let statuses = burst(&operator, &token, attempts)?;
    let checked = statuses.iter().filter(|s| **s != 429).count();
    ensure!(
        (1..=5).contains(&checked),
        "{checked} passwords checked: {statuses:?}"
    );
    ensure!(
        statuses.iter().all(|s| [401, 303, 429].contains(s)),
        "{statuses:?}"
    );
    let failed = statuses.iter().filter(|s| **s == 401).count();

    // Forty-five at once from the same address over many accounts of a
    // site: thirty failures in all, those above included.
    let attempts = (0..45)
        .map(|n| (format!("nobody{n}"), "wrong".to_owned()))
        .collect();
    let statuses = burst(&site, &site_token, attempts)?;
    let checked = statuses.iter().filter(|s| **s != 429).count();
    ensure!(
        checked + failed == 30,
        "{checked} + {failed} passwords checked: {statuses:?}"
    );
    Ok(())
}

#[cfg(unix)]
fn mode(path: &Path) -> Result<u32> {
    use std::os::unix::fs::PermissionsExt;
    Ok(std::fs::metadata(path)
        .with_context(|| path.display().to_string())?
        .permissions()
        .mode()
        & 0o777)
}

/// Every path under `dir` with a group or other permission bit.
#[cfg(unix)]
fn open_to_others(dir: &Path) -> Result<Vec<String>> {
    let mut open = Vec::new();
    if mode(dir)? & 0o077 != 0 {
        open.push(format!("{} {:o}", dir.display(), mode(dir)?));
    }
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            open.extend(open_to_others(&entry.path())?);
        } else if mode(&entry.path())? & 0o077 != 0 {
            open.push(format!(
                "{} {:o}",
                entry.path().display(),
                mode(&entry.path())?
            ));
        }
    }
    Ok(open)
}

#[cfg(unix)]
#[test]
fn the_data_dir_and_its_files_are_readable_by_their_owner_only() -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("data");
    let server = TestServer::start_with(&data, &["--demo"])?;
    ensure!(mode(&data)? == 0o700, "data dir {:o}", mode(&data)?);
    ensure!(mode(&data.join("registry.redb"))? == 0o600);
    ensure!(mode(&data.join("sites/default.redb"))? == 0o600);
    let open = open_to_others(&data)?;
    ensure!(open.is_empty(), "open to others: {open:?}");
    server.terminate()?;

    // A data dir an older Charon left open is tightened at start, and
    // the log says so.
    for path in [data.clone(), data.join("sites")] {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
    }
    for file in ["registry.redb", "sites/default.redb"] {
        std::fs::set_permissions(data.join(file), std::fs::Permissions::from_mode(0o644))?;
    }
    let server = TestServer::start(&data)?;
    let open = open_to_others(&data)?;
    ensure!(open.is_empty(), "open to others after a start: {open:?}");
    // The line was logged before the server listened; its pipe is read
    // by another thread, so give that thread a moment to catch up.
    let said = "took group and other permissions away from 4 path(s)";
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !server.stderr().contains(said) {
        ensure!(
            std::time::Instant::now() < deadline,
            "no {said:?} in {}",
            server.stderr()
        );
        thread::sleep(Duration::from_millis(50));
    }
    server.terminate()?;
    Ok(())
}

/// The status of the answer to `head` (a request line and headers) sent
/// on a fresh connection, followed by `body`; `None` when the server
/// closed the connection without an answer. Write errors end the body
/// (the server may refuse it before it is sent).
fn raw_exchange(addr: &str, head: &str, body: &[u8]) -> Result<Option<u16>> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(90)))?;
    stream.write_all(head.as_bytes())?;
    for chunk in body.chunks(64 * 1024) {
        if stream.write_all(chunk).is_err() {
            break;
        }
    }
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                answer.extend_from_slice(&buf[..n]);
                if answer.windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => return Err(e).context("no answer in 90 s: the connection was left open"),
        }
    }
    let text = String::from_utf8_lossy(&answer);
    Ok(text
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok()))
}

/// The server's resident memory in KiB (Linux's `/proc`).
fn rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .context("VmRSS")
}

#[cfg(target_os = "linux")]
#[test]
fn slow_and_oversized_bodies_are_cut_and_leave_no_memory_behind() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let server = TestServer::start_with(&data, &["--body-timeout-secs", "2"])?;
    let addr = server.url.trim_start_matches("http://").to_owned();
    let (_, token, _) = crate::api::create_token(
        crate::support::arg(&data)?,
        &["--name", "bodies", "--operator"],
    )?;

    // Many clients trickling a body that never ends: each is answered 408
    // (or cut) once the body deadline passes, none is held open.
    let trickling: Vec<_> = (0..50)
        .map(|_| {
            let addr = addr.clone();
            thread::spawn(move || {
                raw_exchange(
                    &addr,
                    "POST /s/default/sign-in HTTP/1.1\r\nHost: x\r\n\
                     Content-Type: application/x-www-form-urlencoded\r\n\
                     Content-Length: 1000\r\n\r\n",
                    b"csrf=abc&user",
                )
            })
        })
        .collect();
    for t in trickling {
        let status = t.join().map_err(|_| anyhow::anyhow!("panicked"))??;
        ensure!(matches!(status, Some(408) | None), "{status:?}");
    }

    // A body declared larger than the limit is refused before it is sent.
    let head = format!(
        "POST /api/v1/operator/plugins HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/wasm\r\nContent-Length: 52428800\r\n\r\n"
    );
    ensure!(raw_exchange(&addr, &head, b"")? == Some(413));

    // Rounds of 50 MB bodies sent whole to the largest upload there is
    // (a 32 MiB component): nothing of them stays in memory.
    let pid = server.pid().context("pid")?;
    let before = rss_kib(pid)?;
    let body = vec![b'x'; 50 << 20];
    let body = Arc::new(body);
    for _ in 0..3 {
        let round: Vec<_> = (0..8)
            .map(|_| {
                let (addr, head, body) = (addr.clone(), head.clone(), body.clone());
                thread::spawn(move || raw_exchange(&addr, &head, &body))
            })
            .collect();
        for t in round {
            let status = t.join().map_err(|_| anyhow::anyhow!("panicked"))??;
            ensure!(matches!(status, Some(413) | None), "{status:?}");
        }
    }
    let after = rss_kib(pid)?;
    ensure!(
        after.saturating_sub(before) < 64 * 1024,
        "resident memory grew from {before} KiB to {after} KiB"
    );
    server.terminate()?;
    Ok(())
}
