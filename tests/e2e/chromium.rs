//! A real browser for the end-to-end tests: Debian's headless `chromium`,
//! driven over WebDriver through its `chromedriver` (the `fantoccini`
//! client), against a [`TestServer`](crate::support::TestServer).
//!
//! [`Browser`] reads like a user: `goto`, `fill_by_label`, `click_button`,
//! `click_link`, `heading`, `assert_text_contains`, `screenshot`. Every
//! method blocks (the e2e tests are synchronous, like the rest of this
//! crate) on a small tokio runtime the browser owns. Controls are found by
//! the text of their `<label>`, so a form whose fields have no label fails
//! the walk: the accessibility check comes for free.
//!
//! Screenshots go to `target/browser-artifacts/<test-name>/NN-name.png`,
//! numbered in the order taken, so CI keeps each walk as a picture story.
//!
//! Chromium or chromedriver missing is a failure that says what to
//! install, never a skip: the browser tests are part of `cargo test
//! --workspace`, and `.ci/run` installs both.

use std::fs;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};
use base64::Engine as _;
use fantoccini::wd::{Capabilities, WebDriverCompatibleCommand};
use fantoccini::{Client, ClientBuilder, Locator, elements::Element};
use serde_json::{Value, json};

const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";
const DEFAULT_CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const DRIVER_START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a click may take to load its page, or a resize to lay out.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(15);
/// A laptop: wide enough for the desktop layout, short enough that a
/// screenshot of a long page is still readable.
pub const LAPTOP: (u32, u32) = (1280, 900);
/// A phone held upright (an iPhone 12–15's CSS viewport).
pub const PHONE: (u32, u32) = (390, 844);

/// A headless Chromium with its chromedriver, both ended on drop (also
/// when the test panics).
pub struct Browser {
    runtime: tokio::runtime::Runtime,
    client: Option<Client>,
    driver: Option<Child>,
    driver_log: Arc<Mutex<String>>,
    /// The server's `http://127.0.0.1:PORT`; `goto` paths are relative to it.
    base: String,
    artifacts: PathBuf,
    shots: usize,
    // Dropped after the processes: Chromium writes into it until it exits.
    profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver on a free port and a headless Chromium session
    /// at the [`LAPTOP`] size. `test` names the artifacts folder; whatever
    /// an earlier run left there is removed first.
    pub fn start(base_url: &str, test: &str) -> Result<Self> {
        let chromium = tool("CHARON_CHROMIUM", DEFAULT_CHROMIUM, "chromium")?;
        let chromedriver = tool("CHARON_CHROMEDRIVER", DEFAULT_CHROMEDRIVER, "chromedriver")?;

        let artifacts = target_dir()?.join("browser-artifacts").join(test);
        if artifacts.exists() {
            fs::remove_dir_all(&artifacts)
                .with_context(|| format!("clear {}", artifacts.display()))?;
        }
        fs::create_dir_all(&artifacts)
            .with_context(|| format!("create {}", artifacts.display()))?;

        let profile = tempfile::Builder::new()
            .prefix("charon-chromium-")
            .tempdir()
            .context("temp dir for the Chromium profile")?;
        let port = free_port()?;
        let mut driver = Command::new(&chromedriver);
        driver
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group, so drop can end chromedriver and every
            // Chromium process it started in one signal, even when the
            // session could not be closed politely.
            .process_group(0);
        let mut driver = driver
            .spawn()
            .with_context(|| format!("spawn {}", chromedriver.display()))?;
        let driver_log = Arc::new(Mutex::new(String::new()));
        for pipe in [
            driver
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
            driver
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let sink = driver_log.clone();
            thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    if let Ok(mut log) = sink.lock() {
                        log.push_str(&line);
                        log.push('\n');
                    }
                }
            });
        }

        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("tokio runtime for the WebDriver client")?;
        let mut browser = Browser {
            runtime,
            client: None,
            driver: Some(driver),
            driver_log,
            base: base_url.trim_end_matches('/').to_owned(),
            artifacts,
            shots: 0,
            profile,
        };
        let client = browser
            .connect(port, &chromium)
            .map_err(|e| anyhow!("{e:#}\nchromedriver said:\n{}", browser.driver_log()))?;
        browser.client = Some(client);
        Ok(browser)
    }

    /// Waits for chromedriver to answer, then opens a session whose
    /// Chromium runs headless with a fresh profile.
    fn connect(&mut self, port: u16, chromium: &Path) -> Result<Client> {
        let webdriver = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + DRIVER_START_TIMEOUT;
        while !listening(port) {
            if let Some(driver) = self.driver.as_mut()
                && let Some(status) = driver.try_wait()?
            {
                bail!("chromedriver exited before listening: {status}");
            }
            ensure!(
                Instant::now() < deadline,
                "chromedriver did not listen on port {port} within {DRIVER_START_TIMEOUT:?}"
            );
            thread::sleep(Duration::from_millis(50));
        }
        let profile = self.profile.path().to_str().context("UTF-8 temp path")?;
        let chromium = chromium.to_str().context("UTF-8 chromium path")?;
        let (width, height) = LAPTOP;
        let args = vec![
            "--headless".to_owned(),
            // Root in a container: Chromium's sandbox needs user namespaces
            // that CI does not grant.
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            // No background traffic to Google: nothing outside is reachable,
            // and waiting on it slows every start.
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            // /dev/shm is small in containers; Chromium crashes when it fills.
            "--disable-dev-shm-usage".to_owned(),
            // The server is on loopback: a proxy from the environment must
            // not stand between.
            "--no-proxy-server".to_owned(),
            format!("--user-data-dir={profile}"),
            format!("--window-size={width},{height}"),
        ];
        let mut caps = Capabilities::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert(
            "goog:chromeOptions".into(),
            json!({ "binary": chromium, "args": args }),
        );
        // Keeps the page's console for `console_errors`.
        caps.insert("goog:loggingPrefs".into(), json!({ "browser": "ALL" }));
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = self
            .runtime
            .block_on(
                ClientBuilder::new(connector)
                    .capabilities(caps)
                    .connect(&webdriver),
            )
            .context("open a WebDriver session in chromium")?;
        Ok(client)
    }

    fn client(&self) -> Result<&Client> {
        self.client
            .as_ref()
            .context("the browser session is closed")
    }

    /// What chromedriver printed (for failure messages).
    pub fn driver_log(&self) -> String {
        self.driver_log
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default()
    }

    /// Opens `path` of the server (`/`, `/s/default/segments`, …) and
    /// waits for the page to load.
    pub fn goto(&self, path: &str) -> Result<()> {
        let url = format!("{}{path}", self.base);
        self.runtime
            .block_on(self.client()?.goto(&url))
            .with_context(|| format!("open {url}"))
    }

    /// The path (and query) of the page shown, e.g. `/s/default/`.
    pub fn path(&self) -> Result<String> {
        self.runtime.block_on(self.current_path())
    }

    async fn current_path(&self) -> Result<String> {
        let url = self.client()?.current_url().await?;
        Ok(match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        })
    }

    /// The page's `<title>`.
    pub fn title(&self) -> Result<String> {
        Ok(self.runtime.block_on(self.client()?.title())?)
    }

    /// The rendered text of the page, as a user reads it (hidden text left
    /// out).
    pub fn text(&self) -> Result<String> {
        let client = self.client()?;
        self.runtime.block_on(async {
            let body = client.find(Locator::Css("body")).await?;
            Ok(body.text().await?)
        })
    }

    /// The text of the page's one `<h1>`.
    pub fn heading(&self) -> Result<String> {
        let client = self.client()?;
        self.runtime.block_on(async {
            let h1s = client.find_all(Locator::Css("h1")).await?;
            ensure!(h1s.len() == 1, "{} <h1> on the page, not one", h1s.len());
            Ok(h1s[0].text().await?)
        })
    }

    /// Fails, quoting the page, unless its rendered text contains `wanted`.
    pub fn assert_text_contains(&self, wanted: &str) -> Result<()> {
        let text = self.text()?;
        ensure!(
            text.contains(wanted),
            "{wanted:?} is not on the page {}; it reads:\n{text}",
            self.path().unwrap_or_default()
        );
        Ok(())
    }

    /// Types `value` into the `<input>` or `<textarea>` labelled `label`,
    /// replacing what it held.
    pub fn fill_by_label(&self, label: &str, value: &str) -> Result<()> {
        self.runtime.block_on(async {
            let control = self.control_by_label(label).await?;
            let tag = control.tag_name().await?;
            ensure!(
                tag == "input" || tag == "textarea",
                "the control labelled {label:?} is a <{tag}>, not a text field"
            );
            control.clear().await?;
            control.send_keys(value).await?;
            Ok(())
        })
    }

    /// Chooses `file` (an absolute path) in the `<input type=file>`
    /// labelled `label`, as a user picking it in the file dialog.
    /// WebDriver does that by typing the path into the input.
    pub fn upload_by_label(&self, label: &str, file: &Path) -> Result<()> {
        ensure!(
            file.is_absolute(),
            "{} is not an absolute path",
            file.display()
        );
        let path = file.to_str().context("a UTF-8 path")?;
        self.runtime.block_on(async {
            let control = self.control_by_label(label).await?;
            let kind = control.attr("type").await?.unwrap_or_default();
            ensure!(
                kind == "file",
                "the control labelled {label:?} is not a file input (type {kind:?})"
            );
            control.send_keys(path).await?;
            Ok(())
        })
    }

    /// Chooses the option whose text is `option` in the `<select>`
    /// labelled `label`.
    pub fn select_by_label(&self, label: &str, option: &str) -> Result<()> {
        self.runtime.block_on(async {
            let control = self.control_by_label(label).await?;
            let tag = control.tag_name().await?;
            ensure!(
                tag == "select",
                "the control labelled {label:?} is a <{tag}>, not a <select>"
            );
            control
                .select_by_label(option)
                .await
                .with_context(|| format!("no option {option:?} in the select {label:?}"))?;
            Ok(())
        })
    }

    /// Ticks the checkbox (or radio button) labelled `label`; one already
    /// ticked stays so.
    pub fn check_by_label(&self, label: &str) -> Result<()> {
        self.runtime.block_on(async {
            let control = self.control_by_label(label).await?;
            let kind = control.attr("type").await?.unwrap_or_default();
            ensure!(
                kind == "checkbox" || kind == "radio",
                "the control labelled {label:?} is not a checkbox or radio (type {kind:?})"
            );
            if !control.is_selected().await? {
                control.click().await?;
            }
            ensure!(control.is_selected().await?, "{label:?} did not tick");
            Ok(())
        })
    }

    /// Clicks the one button (`<button>` or `<input type=submit>`) whose
    /// text is `text`, and waits for the page it leads to.
    pub fn click_button(&self, text: &str) -> Result<()> {
        let t = xpath_literal(text);
        let xpath = format!(
            "//button[normalize-space(.)={t}] | \
             //input[(@type='submit' or @type='button') and normalize-space(@value)={t}]"
        );
        self.runtime.block_on(async {
            let buttons = self.visible(&xpath).await?;
            match buttons.as_slice() {
                [button] => self.click_to_new_page(button, "button", text).await,
                [] => bail!(
                    "no button {text:?} on {}; the buttons are {:?}",
                    self.current_path().await.unwrap_or_default(),
                    self.texts("//button | //input[@type='submit']").await?
                ),
                more => bail!(
                    "{} buttons {text:?} on the page: which one is meant?",
                    more.len()
                ),
            }
        })
    }

    /// Clicks the link whose text is `text` and waits for its page. Several
    /// links of that text are fine when they all lead to the same place.
    pub fn click_link(&self, text: &str) -> Result<()> {
        let xpath = format!("//a[normalize-space(.)={}]", xpath_literal(text));
        self.runtime.block_on(async {
            let links = self.visible(&xpath).await?;
            let Some(first) = links.first() else {
                bail!(
                    "no link {text:?} on {}; the links are {:?}",
                    self.current_path().await.unwrap_or_default(),
                    self.texts("//a").await?
                );
            };
            let mut targets = Vec::new();
            for link in &links {
                targets.push(link.attr("href").await?.unwrap_or_default());
            }
            targets.dedup();
            ensure!(
                targets.len() == 1,
                "links {text:?} lead to different places: {targets:?}"
            );
            self.click_to_new_page(first, "link", text).await
        })
    }

    /// Types `value` into the one input matching `css` (e.g. a grade
    /// cell labelled by `aria-label` only), replacing what it held.
    pub fn fill_by_css(&self, css: &str, value: &str) -> Result<()> {
        self.runtime.block_on(async {
            let control = self
                .client()?
                .find(Locator::Css(css))
                .await
                .with_context(|| format!("no element {css:?}"))?;
            control.clear().await?;
            control.send_keys(value).await?;
            Ok(())
        })
    }

    /// The value of the browser's cookie `name` (also an `HttpOnly` one),
    /// to fetch a download as the signed-in user outside the browser.
    pub fn cookie(&self, name: &str) -> Result<String> {
        let cookie = self
            .runtime
            .block_on(self.client()?.get_named_cookie(name))
            .with_context(|| format!("no cookie {name}"))?;
        Ok(cookie.value().to_owned())
    }

    /// The text of the element with `id`, trimmed, if the page has one.
    pub fn text_by_id(&self, id: &str) -> Result<Option<String>> {
        let found = self.eval(
            "const e = document.getElementById(arguments[0]); return e ? e.textContent.trim() : null;",
            vec![serde_json::json!(id)],
        )?;
        Ok(found.as_str().map(str::to_owned))
    }

    /// Runs `script` (a function body: `return …;`) in the page with
    /// `args` as `arguments[i]`, and returns its JSON result. WebDriver
    /// scripts are not page scripts: the site's CSP does not apply.
    pub fn eval(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        self.runtime
            .block_on(self.client()?.execute(script, args))
            .with_context(|| format!("run script {script:?}"))
    }

    /// `getComputedStyle(first element matching css)[property]`, e.g.
    /// `("header.site-header", "background-color")` → `rgb(31, 95, 139)`.
    pub fn computed_style(&self, css: &str, property: &str) -> Result<String> {
        let value = self.eval(
            "const e = document.querySelector(arguments[0]);\n\
             return e ? getComputedStyle(e).getPropertyValue(arguments[1]) : null;",
            vec![json!(css), json!(property)],
        )?;
        value
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("no element matches {css:?}"))
    }

    /// Resizes the window (and so the viewport, in headless Chromium).
    /// Returns once the page has been laid out at the new width: Chromium
    /// answers the resize before its renderer has caught up.
    pub fn set_size(&self, (width, height): (u32, u32)) -> Result<()> {
        let client = self.client()?;
        self.runtime.block_on(async {
            client
                .set_window_size(width, height)
                .await
                .with_context(|| format!("resize to {width}x{height}"))?;
            let deadline = Instant::now() + SETTLE_TIMEOUT;
            loop {
                let shown = client.execute("return window.innerWidth;", vec![]).await?;
                if shown == json!(width) {
                    return Ok(());
                }
                ensure!(
                    Instant::now() < deadline,
                    "the viewport is {shown} px wide {SETTLE_TIMEOUT:?} after a resize to {width}"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    }

    /// Saves the whole page (not only the viewport) as
    /// `target/browser-artifacts/<test>/NN-name.png`, `NN` counting the
    /// screenshots of this test from 01, and returns the file's path.
    pub fn screenshot(&mut self, name: &str) -> Result<PathBuf> {
        ensure!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
            "screenshot name {name:?}: use letters, digits, - and _"
        );
        self.shots += 1;
        let file = self.artifacts.join(format!("{:02}-{name}.png", self.shots));
        let png = self.full_page_png()?;
        fs::write(&file, png).with_context(|| format!("write {}", file.display()))?;
        Ok(file)
    }

    /// Chromium's DevTools `Page.captureScreenshot` beyond the viewport
    /// (through chromedriver's CDP passthrough): WebDriver's own screenshot
    /// stops at the fold, which would cut a long member list.
    fn full_page_png(&self) -> Result<Vec<u8>> {
        let client = self.client()?;
        self.runtime.block_on(async {
            let metrics = client
                .issue_cmd(Cdp::new("Page.getLayoutMetrics", json!({})))
                .await?;
            let size = &metrics["cssContentSize"];
            let (width, height) = (
                size["width"].as_f64().context("content width")?,
                size["height"].as_f64().context("content height")?,
            );
            let shot = client
                .issue_cmd(Cdp::new(
                    "Page.captureScreenshot",
                    json!({
                        "format": "png",
                        "captureBeyondViewport": true,
                        "clip": { "x": 0, "y": 0, "width": width, "height": height, "scale": 1 },
                    }),
                ))
                .await?;
            let data = shot["data"].as_str().context("screenshot data")?;
            Ok(base64::engine::general_purpose::STANDARD.decode(data)?)
        })
    }

    /// The console messages of level SEVERE since the last call: failed
    /// loads (a 404 stylesheet), CSP violations, script errors.
    pub fn console_errors(&self) -> Result<Vec<String>> {
        let logs = self
            .runtime
            .block_on(self.client()?.issue_cmd(BrowserLog))
            .context("read the browser console")?;
        Ok(logs
            .as_array()
            .map(|entries| {
                entries
                    .iter()
                    .filter(|e| e["level"] == "SEVERE")
                    .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_default())
    }

    /// The control of the `<label>` whose text is `label`: the element its
    /// `for` names, or the control inside it. Exactly one label may match.
    /// The text is what a screen reader announces: parts marked
    /// `aria-hidden` (the asterisk of a required field) do not count.
    async fn control_by_label(&self, label: &str) -> Result<Element> {
        let client = self.client()?;
        let announced = client
            .execute(
                "const norm = s => s.replace(/\\s+/g, ' ').trim();
                 return [...document.querySelectorAll('label')].map(l => {
                   const c = l.cloneNode(true);
                   c.querySelectorAll('[aria-hidden=\"true\"]').forEach(e => e.remove());
                   return norm(c.textContent);
                 });",
                vec![],
            )
            .await?;
        let announced: Vec<String> = announced
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|v| v.as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_default();
        let labels = client.find_all(Locator::Css("label")).await?;
        let matching: Vec<&Element> = labels
            .iter()
            .zip(&announced)
            .filter(|(_, text)| text.as_str() == label)
            .map(|(l, _)| l)
            .collect();
        let found = match matching.as_slice() {
            [one] => *one,
            [] => bail!(
                "no label {label:?} on {}; the labels are {announced:?}",
                self.current_path().await.unwrap_or_default(),
            ),
            more => bail!(
                "{} labels read {label:?}: which field is meant?",
                more.len()
            ),
        };
        if let Some(id) = found.attr("for").await? {
            return client
                .find(Locator::Id(&id))
                .await
                .with_context(|| format!("label {label:?} is for #{id}, which is not there"));
        }
        found
            .find(Locator::XPath(".//input | .//select | .//textarea"))
            .await
            .with_context(|| format!("label {label:?} has no `for` and no control inside"))
    }

    /// Clicks `element` and waits until another page has loaded: the
    /// pages are server-rendered, so every button and link of a walk leads
    /// to one, and chromedriver's own wait after a click is not a promise
    /// on a loaded machine. A click that loads nothing (a form the browser
    /// refuses to send, say) fails here, by name.
    async fn click_to_new_page(&self, element: &Element, kind: &str, text: &str) -> Result<()> {
        let client = self.client()?;
        // A mark on the old document; the new one does not have it.
        client
            .execute("window.charonBeforeClick = true;", vec![])
            .await?;
        element.click().await?;
        let deadline = Instant::now() + SETTLE_TIMEOUT;
        loop {
            let loaded = client
                .execute(
                    "return !window.charonBeforeClick && document.readyState === 'complete';",
                    vec![],
                )
                .await;
            // Mid-navigation a script may find no document to run in.
            if matches!(loaded, Ok(Value::Bool(true))) {
                return Ok(());
            }
            ensure!(
                Instant::now() < deadline,
                "clicking the {kind} {text:?} loaded no new page within {SETTLE_TIMEOUT:?} \
                 (still on {})",
                self.current_path().await.unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The displayed elements matching `xpath`.
    async fn visible(&self, xpath: &str) -> Result<Vec<Element>> {
        let mut shown = Vec::new();
        for element in self.client()?.find_all(Locator::XPath(xpath)).await? {
            if element.is_displayed().await? {
                shown.push(element);
            }
        }
        Ok(shown)
    }

    /// The texts of what `xpath` matches (for failure messages).
    async fn texts(&self, xpath: &str) -> Result<Vec<String>> {
        let mut texts = Vec::new();
        for element in self.client()?.find_all(Locator::XPath(xpath)).await? {
            let text = element.text().await?;
            texts.push(if text.is_empty() {
                element.attr("value").await?.unwrap_or_default()
            } else {
                text
            });
        }
        Ok(texts)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Politely first: ending the session makes chromedriver quit
        // Chromium and clean up after it.
        if let Some(client) = self.client.take() {
            let closed = self.runtime.block_on(async {
                tokio::time::timeout(Duration::from_secs(10), client.close()).await
            });
            if !matches!(closed, Ok(Ok(()))) {
                eprintln!("closing the browser session failed: {closed:?}");
            }
        }
        // Then the whole process group: chromedriver and any Chromium
        // process a failed close left behind.
        if let Some(mut driver) = self.driver.take() {
            let group = format!("-{}", driver.id());
            let _ = Command::new("kill")
                .args(["-KILL", "--", &group])
                .stderr(Stdio::null())
                .status();
            let _ = driver.kill();
            let _ = driver.wait();
        }
    }
}

/// `CHARON_<NAME>` or the Debian path, checked to exist so a missing
/// browser fails with what to do about it.
fn tool(env: &str, default: &str, what: &str) -> Result<PathBuf> {
    let path = std::env::var_os(env)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(default));
    if !path.is_file() {
        bail!(
            "{what} not found at {} (set {env} to use another): the browser tests need \
             Debian's `chromium` and `chromium-driver` packages; install them with \
             `apt-get install chromium chromium-driver` (.ci/run does)",
            path.display()
        );
    }
    Ok(path)
}

/// The workspace's target dir: the nearest folder above this test binary
/// that cargo marked with `CACHEDIR.TAG` (so `CARGO_TARGET_DIR` and
/// `--target` builds work alike), else `CARGO_TARGET_DIR` when absolute.
fn target_dir() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("path of the test binary")?;
    if let Some(dir) = exe.ancestors().find(|d| d.join("CACHEDIR.TAG").is_file()) {
        return Ok(dir.to_path_buf());
    }
    match std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from) {
        Some(dir) if dir.is_absolute() => Ok(dir),
        // Cargo tags only a target dir it created itself; a copied or
        // pre-made one has no tag, but test binaries still live in
        // `<target>/<profile>/deps/`.
        _ if exe.parent().and_then(|d| d.file_name()) == Some(std::ffi::OsStr::new("deps")) => exe
            .ancestors()
            .nth(3)
            .map(Path::to_path_buf)
            .with_context(|| format!("no cargo target dir above {}", exe.display())),
        _ => bail!("no cargo target dir above {}", exe.display()),
    }
}

/// A port nothing listens on now. Another process could take it before
/// chromedriver does; then chromedriver fails to start and says so.
fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("find a free port")?;
    Ok(listener.local_addr()?.port())
}

/// Whether something accepts connections on loopback `port`.
fn listening(port: u16) -> bool {
    TcpStream::connect_timeout(
        &SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(200),
    )
    .is_ok()
}

/// `text` as an XPath 1.0 string literal (which has no escapes: a text
/// holding both quote kinds is spliced with `concat`).
fn xpath_literal(text: &str) -> String {
    if !text.contains('\'') {
        format!("'{text}'")
    } else if !text.contains('"') {
        format!("\"{text}\"")
    } else {
        let parts: Vec<String> = text.split('\'').map(|p| format!("'{p}'")).collect();
        format!("concat({})", parts.join(", \"'\", "))
    }
}

/// chromedriver's passthrough to the DevTools protocol:
/// `POST /session/{id}/goog/cdp/execute`.
#[derive(Debug)]
struct Cdp {
    cmd: &'static str,
    params: Value,
}

impl Cdp {
    fn new(cmd: &'static str, params: Value) -> Self {
        Cdp { cmd, params }
    }
}

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> std::result::Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or("")
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({ "cmd": self.cmd, "params": self.params });
        (http::Method::POST, Some(body.to_string()))
    }
}

/// chromedriver's console log (`goog:loggingPrefs`), which the W3C
/// protocol leaves out: `POST /session/{id}/se/log`.
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> std::result::Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/se/log", session_id.unwrap_or("")))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(json!({ "type": "browser" }).to_string()),
        )
    }
}

mod tests {
    use std::io::{Read, Write};

    use super::*;

    #[test]
    fn xpath_literals_quote_any_text() {
        assert_eq!(xpath_literal("HR"), "'HR'");
        assert_eq!(xpath_literal("Sam's"), "\"Sam's\"");
        assert_eq!(xpath_literal(r#"a'b"c"#), r#"concat('a', "'", 'b"c')"#);
    }

    /// The harness itself, on a fixture page served from a socket here:
    /// each step finds what a user would, and refuses what is missing or
    /// ambiguous (the page walks rely on both).
    #[test]
    fn the_browser_fills_labelled_forms_follows_links_and_refuses_ambiguity() -> Result<()> {
        let base = serve_fixture()?;
        let mut browser = Browser::start(&base, "harness_fixture")?;

        browser.goto("/start")?;
        ensure!(browser.heading()? == "Form fixture");
        ensure!(browser.path()? == "/start", "{}", browser.path()?);
        browser.fill_by_label("Name", "HR")?;
        browser.fill_by_label(r#"Sam's "notes""#, "two words")?;
        browser.select_by_label("Kind", "Segment sync")?;
        browser.check_by_label("Active")?;
        browser.check_by_label("Active")?;
        let first = browser.screenshot("filled")?;

        let missing = browser
            .fill_by_label("Surname", "x")
            .err()
            .context("no such label")?;
        ensure!(
            format!("{missing:#}").contains("the labels are"),
            "{missing:#}"
        );
        ensure!(
            browser.fill_by_label("Kind", "x").is_err(),
            "a select is no text field"
        );
        ensure!(
            browser.fill_by_label("Twice", "x").is_err(),
            "two labels read Twice"
        );
        ensure!(browser.click_button("Delete").is_err(), "no such button");
        ensure!(browser.click_link("Twin").is_err(), "two places");
        ensure!(browser.assert_text_contains("not there").is_err());

        browser.click_button("Save")?;
        let sent = "/saved?name=HR&notes=two+words&kind=Segment+sync&active=on";
        ensure!(browser.path()? == sent, "{}", browser.path()?);
        browser.assert_text_contains(&format!("GET {sent}"))?;
        browser.click_link("Next page")?;
        ensure!(browser.path()? == "/next", "{}", browser.path()?);
        let second = browser.screenshot("next")?;

        ensure!(
            first.ends_with("harness_fixture/01-filled.png"),
            "{}",
            first.display()
        );
        ensure!(
            second.ends_with("harness_fixture/02-next.png"),
            "{}",
            second.display()
        );
        ensure!(
            fs::read(&second)?.starts_with(b"\x89PNG\r\n\x1a\n"),
            "a PNG"
        );
        let errors = browser.console_errors()?;
        ensure!(errors.is_empty(), "{errors:?}");
        Ok(())
    }

    /// Answers every request on a loopback port with the fixture form,
    /// quoting the request line. The thread lives as long as the test
    /// binary: it only ever blocks in `accept`.
    fn serve_fixture() -> Result<String> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let base = format!("http://{}", listener.local_addr()?);
        thread::spawn(move || {
            for mut stream in listener.incoming().map_while(Result::ok) {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).is_ok_and(|n| n == 1) {
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head);
                let request = head.lines().next().unwrap_or_default();
                let request = request.trim_end_matches(" HTTP/1.1").replace('&', "&amp;");
                let page = FIXTURE.replace("REQUEST", &request.replace('<', "&lt;"));
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\n\
                     content-length: {}\r\nconnection: close\r\n\r\n{page}",
                    page.len()
                );
            }
        });
        Ok(base)
    }

    const FIXTURE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Fixture</title>
<link rel="icon" href="data:,"></head>
<body>
<h1>Form fixture</h1>
<p>Last request: <code>REQUEST</code></p>
<nav><a href="/next">Next page</a> <a href="/next">Next page</a>
<a href="/a">Twin</a> <a href="/b">Twin</a></nav>
<form method="get" action="/saved">
  <label for="name">Name</label> <input id="name" name="name" value="old">
  <label>Sam's "notes" <textarea name="notes"></textarea></label>
  <label for="kind">Kind</label>
  <select id="kind" name="kind"><option>Static</option><option>Segment sync</option></select>
  <label><input type="checkbox" name="active"> Active</label>
  <label for="t1">Twice</label><input id="t1"><label for="t2">Twice</label><input id="t2">
  <button>Save</button>
</form>
</body></html>
"#;
}
