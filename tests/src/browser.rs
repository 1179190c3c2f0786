//! A real headless Chromium driven over the W3C WebDriver protocol through
//! `chromedriver` (Debian's `chromium` and `chromium-driver`, which
//! `scripts/test` installs). The protocol is a handful of JSON-over-HTTP
//! calls, spoken here with the `reqwest` client the tests already build,
//! rather than a WebDriver crate that would add its own HTTP stack to every
//! build of the workspace.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::process::{Child, Command};

use crate::WAIT_ASYNC;

/// The key W3C WebDriver names an element reference by.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Where the browser tests save their screenshots.
pub fn screenshots() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot folder");
    dir
}

/// One window of a browser: its own chromedriver and profile, or a tab
/// opened beside another (`new_tab`: the same profile, so the same storage,
/// Web Locks and BroadcastChannels).
pub struct Browser {
    session: std::sync::Arc<Session>,
    window: String,
}

/// A chromedriver session, and which of its windows commands go to now.
struct Session {
    driver: Child,
    base: String,
    id: String,
    http: reqwest::Client,
    current: std::sync::Mutex<String>,
    _profile: TempDir,
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// WebDriver's codes for the keys that are not text.
pub mod keys {
    pub const TAB: &str = "\u{E004}";
    pub const ENTER: &str = "\u{E007}";
    pub const ESCAPE: &str = "\u{E00C}";
    pub const ARROW_DOWN: &str = "\u{E015}";
}

/// axe-core's browser build, from the project's Node tools.
fn axe_core() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../.tools/node/node_modules/axe-core/axe.min.js")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

impl Browser {
    /// Starts chromedriver and a headless Chromium `width` × `height` pixels.
    pub async fn start(width: u32, height: u32) -> Self {
        let port = free_port();
        let driver = Command::new(std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into()))
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver runs (scripts/test installs Debian's chromium-driver)");
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let ready = http.get(format!("{base}/status")).send().await.ok();
            if let Some(ready) = ready
                && ready.status().is_success()
            {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "chromedriver did not answer within 30 s");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = TempDir(std::env::temp_dir().join(format!("chromium-{}", crate::unique("profile"))));
        let mut args = vec![
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-gpu".to_owned(),
            "--no-first-run".to_owned(),
            format!("--window-size={width},{height}"),
            format!("--user-data-dir={}", profile.0.display()),
        ];
        args.push("--lang=en-US".to_owned());
        let mut options = json!({ "args": args });
        if let Ok(binary) = std::env::var("CHROMIUM") {
            options["binary"] = json!(binary);
        } else if Path::new("/usr/bin/chromium").exists() {
            options["binary"] = json!("/usr/bin/chromium");
        }
        let capabilities = json!({ "capabilities": { "alwaysMatch": { "browserName": "chrome", "goog:chromeOptions": options } } });
        let reply: Value = http.post(format!("{base}/session")).json(&capabilities).send().await.unwrap().json().await.unwrap();
        let id = reply["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no browser session: {reply}")).to_owned();
        let window: Value = http.get(format!("{base}/session/{id}/window")).send().await.unwrap().json().await.unwrap();
        let window = window["value"].as_str().expect("a window handle").to_owned();
        let current = std::sync::Mutex::new(window.clone());
        Self { session: std::sync::Arc::new(Session { driver, base, id, http, current, _profile: profile }), window }
    }

    /// Opens a new tab of this browser (same profile) on `url`.
    pub async fn new_tab(&self, url: &str) -> Browser {
        let opened = self.call(reqwest::Method::POST, "/window/new", Some(json!({ "type": "tab" }))).await;
        let window = opened["handle"].as_str().expect("a tab handle").to_owned();
        let tab = Browser { session: self.session.clone(), window };
        tab.goto(url).await;
        tab
    }

    /// Closes this tab, as a person closing it would (its page goes with it).
    pub async fn close_tab(&self) {
        self.call(reqwest::Method::DELETE, "/window", None).await;
        // No window is current now: the next command of any tab switches.
        self.session.current.lock().unwrap().clear();
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        match self.try_call(method, path, body).await {
            Ok(value) => value,
            Err(error) => panic!("WebDriver {path}: {error}"),
        }
    }

    /// A WebDriver command's value, or its error (`{"error": …, "message": …}`).
    async fn try_call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value, Value> {
        let session = &self.session;
        let switch = *session.current.lock().unwrap() != self.window;
        if switch {
            let url = format!("{}/session/{}/window", session.base, session.id);
            session.http.post(url).json(&json!({ "handle": self.window })).send().await.expect("chromedriver answers");
            *session.current.lock().unwrap() = self.window.clone();
        }
        let url = format!("{}/session/{}{path}", session.base, session.id);
        let mut request = session.http.request(method, url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let reply: Value = request.send().await.expect("chromedriver answers").json().await.expect("JSON");
        if reply["value"].get("error").is_some() { Err(reply["value"].clone()) } else { Ok(reply["value"].clone()) }
    }

    /// Takes the browser off the network (`true`) or back on, as Chromium's
    /// DevTools emulate it: new connections fail, the page stays.
    pub async fn set_offline(&self, offline: bool) {
        let conditions = json!({ "offline": offline, "latency": 0, "download_throughput": -1, "upload_throughput": -1 });
        self.call(reqwest::Method::POST, "/chromium/network_conditions", Some(json!({ "network_conditions": conditions }))).await;
    }

    /// Shows the page as a system in dark mode would (`prefers-color-scheme:
    /// dark`, through Chromium's DevTools protocol), or back in light.
    pub async fn prefer_dark(&self, dark: bool) {
        let features = json!([{ "name": "prefers-color-scheme", "value": if dark { "dark" } else { "light" } }]);
        let body = json!({ "cmd": "Emulation.setEmulatedMedia", "params": { "features": features } });
        self.call(reqwest::Method::POST, "/goog/cdp/execute", Some(body)).await;
    }

    /// Makes requests to URLs matching `patterns` fail, as a network that
    /// cannot reach them would (DevTools' `Network.setBlockedURLs`; empty:
    /// none blocked). The page's own origin stays reachable.
    pub async fn block_urls(&self, patterns: &[String]) {
        let enable = json!({ "cmd": "Network.enable", "params": {} });
        self.call(reqwest::Method::POST, "/goog/cdp/execute", Some(enable)).await;
        let block = json!({ "cmd": "Network.setBlockedURLs", "params": { "urls": patterns } });
        self.call(reqwest::Method::POST, "/goog/cdp/execute", Some(block)).await;
    }

    pub async fn reload(&self) {
        self.call(reqwest::Method::POST, "/refresh", Some(json!({}))).await;
    }

    /// Sends a Chrome DevTools Protocol command (`{"cmd": …, "params": …}`).
    pub async fn cdp(&self, command: Value) -> Value {
        self.call(reqwest::Method::POST, "/goog/cdp/execute", Some(command)).await
    }

    pub async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({ "url": url }))).await;
    }

    /// Runs `script` (a function body; `arguments` are `args`) and returns its value.
    pub async fn run(&self, script: &str, args: Value) -> Value {
        self.call(reqwest::Method::POST, "/execute/sync", Some(json!({ "script": script, "args": args }))).await
    }

    /// Runs `script` (a function body whose last argument is the callback to
    /// call with the result) and returns what it was called with.
    pub async fn run_async(&self, script: &str, args: Value) -> Value {
        self.call(reqwest::Method::POST, "/execute/async", Some(json!({ "script": script, "args": args }))).await
    }

    /// Presses keys on the keyboard, to whatever has the focus, as a person
    /// types them: text, and WebDriver's codes for keys (see [`keys`]).
    pub async fn press(&self, keys: &str) {
        let mut actions = Vec::new();
        for key in keys.chars() {
            actions.push(json!({ "type": "keyDown", "value": key.to_string() }));
            actions.push(json!({ "type": "keyUp", "value": key.to_string() }));
        }
        let body = json!({ "actions": [{ "type": "key", "id": "keyboard", "actions": actions }] });
        self.call(reqwest::Method::POST, "/actions", Some(body)).await;
    }

    /// Presses `key` while holding Shift (Shift+Enter, Shift+Tab).
    pub async fn press_with_shift(&self, key: &str) {
        let actions = json!([
            { "type": "keyDown", "value": "\u{E008}" },
            { "type": "keyDown", "value": key },
            { "type": "keyUp", "value": key },
            { "type": "keyUp", "value": "\u{E008}" },
        ]);
        let body = json!({ "actions": [{ "type": "key", "id": "keyboard", "actions": actions }] });
        self.call(reqwest::Method::POST, "/actions", Some(body)).await;
    }

    /// Presses Tab until `condition` (an expression about
    /// `document.activeElement`) holds, at most `max` times: as a keyboard
    /// user moves to a control. Fails if it never does.
    pub async fn tab_to(&self, what: &str, condition: &str, max: usize) {
        for _ in 0..max {
            self.press(keys::TAB).await;
            let here = self.run(&format!("const e = document.activeElement; return !!(e && ({condition}));"), json!([])).await;
            if here == json!(true) {
                return;
            }
        }
        let at = self.run("const e = document.activeElement; return e ? e.outerHTML.slice(0, 200) : null", json!([])).await;
        panic!("Tab did not reach {what} in {max} presses (focus on {at})");
    }

    /// Gives the file input that has the keyboard's focus a file, as the
    /// system's file picker would once a person chose it there.
    pub async fn choose_file_in_focused_input(&self, path: &Path) {
        let element = self.call(reqwest::Method::GET, "/element/active", None).await;
        let id = element.as_object().and_then(|o| o.values().next()).and_then(Value::as_str).expect("an element has the focus").to_owned();
        let text = path.to_str().expect("a UTF-8 path");
        self.call(reqwest::Method::POST, &format!("/element/{id}/value"), Some(json!({ "text": text }))).await;
    }

    /// Every axe-core violation of `serious` or `critical` impact in the page
    /// as it is now (axe-core from npm, injected: scripts/aws-local.sh installs it).
    pub async fn serious_accessibility_violations(&self) -> Vec<Value> {
        let axe = std::fs::read_to_string(axe_core()).expect("axe-core installed (scripts/test installs it into .tools/node)");
        self.run(&axe, json!([])).await;
        let result = self
            .run_async(
                "const done = arguments[arguments.length - 1]; axe.run(document, { resultTypes: ['violations'] }).then(r => done(r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' ') + ': ' + (n.failureSummary || '')).slice(0, 5) })))).catch(e => done([{ id: 'axe-failed', impact: 'critical', help: String(e) }]));",
                json!([]),
            )
            .await;
        result
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|v| v["impact"] == "serious" || v["impact"] == "critical")
            .collect()
    }

    /// Waits until the expression `condition` is true in the page.
    pub async fn until(&self, what: &str, condition: &str) {
        let deadline = tokio::time::Instant::now() + WAIT_ASYNC;
        let script = format!("try {{ return !!({condition}); }} catch (e) {{ return false; }}");
        loop {
            if self.run(&script, json!([])).await == json!(true) {
                return;
            }
            if tokio::time::Instant::now() >= deadline {
                let body = self.run("return document.body.innerText", json!([])).await;
                let errors = self.run("return document.body.dataset.errors ?? ''", json!([])).await;
                panic!(
                    "not within {WAIT_ASYNC:?}: {what} ({condition}); errors shown:\n{}\nthe page shows:\n{}",
                    errors.as_str().unwrap_or(""),
                    body.as_str().unwrap_or("")
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn element(&self, css: &str) -> String {
        self.until(&format!("{css} is on the page"), &format!("document.querySelector({})", json!(css))).await;
        let found = self.call(reqwest::Method::POST, "/element", Some(json!({ "using": "css selector", "value": css }))).await;
        found[ELEMENT].as_str().expect("an element reference").to_owned()
    }

    /// Clicks the element, found again if the app re-rendered it between
    /// finding and clicking (WebDriver's "stale element reference"), as a
    /// person's click lands on what is there.
    pub async fn click(&self, css: &str) {
        for _ in 0..20 {
            let id = self.element(css).await;
            match self.try_call(reqwest::Method::POST, &format!("/element/{id}/click"), Some(json!({}))).await {
                Ok(_) => return,
                Err(error) if error["error"] == "stale element reference" => continue,
                Err(error) => panic!("WebDriver click on {css}: {error}"),
            }
        }
        panic!("{css} was re-rendered under every one of 20 clicks");
    }

    /// Types into a field (for a file input: the file's path).
    pub async fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css).await;
        self.call(reqwest::Method::POST, &format!("/element/{id}/value"), Some(json!({ "text": text }))).await;
    }

    pub async fn text_of(&self, css: &str) -> String {
        self.run("const e = document.querySelector(arguments[0]); return e ? e.innerText : null", json!([css]))
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Saves a PNG of the window to `target/screenshots/<name>.png`; returns its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        use base64::Engine;
        let data = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let bytes = base64::engine::general_purpose::STANDARD.decode(data.as_str().unwrap_or_default()).expect("base64 PNG");
        let path = screenshots().join(format!("{name}.png"));
        std::fs::write(&path, bytes).expect("screenshot written");
        path
    }

    /// Signs in through the app's form and waits until it is connected.
    pub async fn sign_in(&self, app_url: &str, user: &str, device: &str) {
        self.goto(app_url).await;
        self.type_into("#signin-user", user).await;
        self.run("document.querySelector('#signin-device').value = ''", json!([])).await;
        self.type_into("#signin-device", device).await;
        self.click("#signin-button").await;
        self.until("the app is connected", "document.querySelector('#connection').dataset.status === 'open'").await;
    }

    /// Opens the chat in the list and waits for its conversation.
    pub async fn open_chat(&self, chat_id: &str) {
        self.click(&format!(".chat-item[data-chat-id='{chat_id}']")).await;
        self.until("the conversation is open", "document.querySelector('#conversation').dataset.open === 'true'").await;
    }

    /// Types a message and sends it.
    pub async fn send(&self, text: &str) {
        self.type_into("#text", text).await;
        self.click("#send").await;
    }

    /// The texts of the open conversation's bubbles, in order.
    pub async fn bubbles(&self) -> Vec<String> {
        let texts = self.run("return [...document.querySelectorAll('#messages .bubble .text')].map(e => e.innerText)", json!([])).await;
        texts.as_array().into_iter().flatten().filter_map(|t| t.as_str().map(str::to_owned)).collect()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // Ends the session, so Chromium exits with it (a plain blocking HTTP
        // DELETE: drop cannot await); chromedriver is killed after.
        use std::io::{Read, Write};
        let address = self.base.trim_start_matches("http://").to_owned();
        if let Ok(mut stream) = std::net::TcpStream::connect(&address) {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
            let request =
                format!("DELETE /session/{} HTTP/1.1\r\nHost: {address}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", self.id);
            if stream.write_all(request.as_bytes()).is_ok() {
                let _ = stream.read_to_end(&mut Vec::new());
            }
        }
        let _ = self.driver.start_kill();
    }
}
