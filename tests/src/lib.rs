//! Test harness: starts the local runtime (in process, on a free port) against
//! the local AWS servers that `scripts/test` started (DynamoDB Local, moto), and speaks WebSocket to it like
//! a client. Every test makes its own users and chats, so tests share tables.

pub mod browser;
pub mod e2ee;
pub mod fuzz;
pub mod prices;

use std::collections::VecDeque;
use std::time::Duration;

use futures::stream::SplitSink;
use futures::{SinkExt, StreamExt};
use local_runtime::{LocalRuntime, Options, Quotas, repository_template};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

pub const WAIT: Duration = Duration::from_secs(30);
/// For conditions that wait on asynchronous work (stream pollers, pushes,
/// schedules): generous, so the suite passes on a busy machine.
pub const WAIT_ASYNC: Duration = Duration::from_secs(60);
/// How many times `Client::request` retries an `unavailable` answer before
/// handing it to the test.
const UNAVAILABLE_RETRIES: u32 = 3;

/// Polls `check` until it holds; panics naming `what` after [`WAIT_ASYNC`].
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + WAIT_ASYNC;
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "not within {WAIT_ASYNC:?}: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
/// `modifyChatParticipants`: `operation` is ADD, REMOVE, PROMOTE or DEMOTE.
/// Whoever is added has an account (see [`Accounts`]).
pub async fn modify_participants(client: &mut Client, chat: &str, user: &str, operation: &str) -> Value {
    if operation == "ADD" {
        client.sign_up(&[user]).await;
    }
    client.request(json!({ "action": "modifyChatParticipants", "chatId": chat, "userId": user, "operation": operation })).await
}

/// `registerPush` with a fresh token for the GCM platform, checked to succeed.
pub async fn register_push(client: &mut Client) {
    let reply = client.request(json!({ "action": "registerPush", "platform": "GCM", "token": unique("token") })).await;
    assert_eq!(reply["type"], "pushRegistered", "{reply}");
}

/// Added to every received frame: when it arrived, in microseconds since the
/// epoch (so latency does not depend on when a test gets round to reading it).
pub const ARRIVED_AT: &str = "_arrivedAtMicros";

/// `RateLimits` for runs that measure something else (paging, the soak, the
/// latency benchmark) and send faster than one person may: limits far past
/// what they send. The limiter's counter is still written, so its cost counts.
pub const RATE_LIMITS_FOR_LOAD: (&str, &str) = (
    "RateLimits",
    "sendMessage=1000000/60,createChat=1000000/60,uploadMegabytes=1000000/60,subscribePresence=1000000/60,typing=1000000/60,messageChanges=1000000/60,claimKeys=1000000/60,sendToDevice=1000000/60",
);

/// A unique id for this test run: `alice_01jd...`.
pub fn unique(name: &str) -> String {
    format!("{name}_{}", ulid::Ulid::generate().to_string().to_lowercase())
}

pub struct System {
    pub runtime: LocalRuntime,
    /// Whether a test injects faults: then its clients see every `unavailable`
    /// answer, where otherwise they retry it as the protocol says a client does.
    faults_injected: bool,
    accounts: Accounts,
}

/// The people of a test have accounts: a chat can only be started with, and
/// a group joined by, someone who signed in once (`unknown_user` otherwise).
/// The tests' ids are fresh (`unique`), so the helpers that start chats and
/// add members sign the others up first, as the service itself records it:
/// the user's item in the users table, written here straight to the local
/// DynamoDB (no device, so no inbox or connection, nothing a test counts).
/// A test of the refusal sends its `createChat` frame itself.
#[derive(Clone)]
pub struct Accounts {
    dynamo: aws_sdk_dynamodb::Client,
    users_table: String,
}

impl Accounts {
    pub async fn sign_up(&self, users: &[&str]) {
        use aws_sdk_dynamodb::types::AttributeValue;
        for user in users {
            let put = self
                .dynamo
                .put_item()
                .table_name(&self.users_table)
                .item("userId", AttributeValue::S((*user).to_owned()))
                .condition_expression("attribute_not_exists(userId)")
                .send()
                .await;
            if let Err(error) = put {
                let error = error.into_service_error();
                assert!(error.is_conditional_check_failed_exception(), "signing {user} up: {error}");
            }
        }
    }
}

/// Frames a `syncBatch` or live delivery carries, in order.
pub fn unpack(frame: Value) -> Vec<Value> {
    if frame["type"] == "syncBatch" { frame["frames"].as_array().cloned().unwrap_or_default() } else { vec![frame] }
}

/// Where cargo put the function binaries of `profile`, checked to be newer
/// than the code they are built from: `cargo test` does not build another
/// package's binaries (`scripts/test` does, with `cargo build --all-targets`).
pub fn function_binaries(profile: &str) -> std::path::PathBuf {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), std::path::PathBuf::from);
    let directory = target.join(profile);
    fn newest(path: &std::path::Path) -> std::time::SystemTime {
        let Ok(meta) = std::fs::metadata(path) else { return std::time::SystemTime::UNIX_EPOCH };
        if !meta.is_dir() {
            return meta.modified().unwrap_or(std::time::SystemTime::UNIX_EPOCH);
        }
        std::fs::read_dir(path)
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| newest(&entry.path()))
            .max()
            .unwrap_or(std::time::SystemTime::UNIX_EPOCH)
    }
    let sources =
        ["functions/src", "domain/src", "store/src", "aws/src", "transport/src", "Cargo.lock"].iter().map(|p| newest(&root.join(p))).max();
    let binary = directory.join("bootstrap");
    let built = std::fs::metadata(&binary).and_then(|m| m.modified()).ok();
    let build = if profile == "release" {
        "cargo build --release -p functions --bin bootstrap"
    } else {
        "cargo build -p functions --bin bootstrap"
    };
    assert!(built.is_some(), "no function binary in {} (build it: {build})", directory.display());
    assert!(built >= sources, "the function binary in {} is older than its code (rebuild: {build})", directory.display());
    directory
}

/// How a test's system starts: `System::start()` for the repository's
/// template as deployed, or `System::builder()` to change one thing.
#[must_use]
pub struct SystemBuilder {
    template: Option<String>,
    quotas: Quotas,
    parameters: Vec<(String, String)>,
    faults: Option<std::sync::Arc<local_runtime::faults::Faults>>,
    processes: Option<std::path::PathBuf>,
    web: bool,
}

impl SystemBuilder {
    /// API Gateway's quotas (connection lifetime, idle timeout, ...).
    pub fn quotas(mut self, quotas: Quotas) -> Self {
        self.quotas = quotas;
        self
    }

    /// Template parameters overridden (`PushCollapseSeconds`, ...).
    pub fn parameters(mut self, parameters: &[(&str, &str)]) -> Self {
        self.parameters.extend(parameters.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        self
    }

    /// Another template's text (e.g. the repository's with a change).
    pub fn template(mut self, text: &str) -> Self {
        self.template = Some(text.to_owned());
        self
    }

    /// Fault injection through this handle (no faults until rules are set on it).
    pub fn faults(mut self, faults: std::sync::Arc<local_runtime::faults::Faults>) -> Self {
        self.faults = Some(faults);
        self
    }

    /// Every function run as its own process (the `bootstrap` of `profile`,
    /// `debug` or `release`, under the target directory) behind the local
    /// Lambda Runtime API.
    pub fn processes(mut self, profile: &str) -> Self {
        self.processes = Some(function_binaries(profile));
        self
    }

    /// The web app served too (`LocalRuntime::web_url`), as `scripts/dev` serves it.
    pub fn web(mut self) -> Self {
        self.web = true;
        self
    }

    /// Started with fault injection on, and the handle to set faults with.
    pub async fn start_with_faults(self) -> (System, std::sync::Arc<local_runtime::faults::Faults>) {
        let faults = std::sync::Arc::new(local_runtime::faults::Faults::default());
        (self.faults(faults.clone()).start().await, faults)
    }

    pub async fn start(self) -> System {
        // Logs for debugging a failing test: RUST_LOG=info cargo test ...
        if std::env::var("RUST_LOG").is_ok() {
            let _ =
                tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).with_test_writer().try_init();
        }
        let copy = self.template.as_ref().map(|text| {
            let path = std::env::temp_dir().join(format!("{}.yaml", unique("template")));
            std::fs::write(&path, text).expect("template copy written");
            path
        });
        let mut options = Options::new(copy.clone().unwrap_or_else(repository_template));
        // Tables of its own: stream pollers must not see another runtime's records.
        options.table_prefix = unique("e2e").replace('_', "-");
        options.quotas = self.quotas;
        options.parameters.extend(self.parameters);
        let faults_injected = self.faults.is_some();
        options.faults = self.faults;
        options.processes = self.processes;
        if self.web {
            options.web_bind = Some(([127, 0, 0, 1], 0).into());
        }
        let runtime =
            LocalRuntime::start(options).await.expect("local runtime starts (are DynamoDB Local and moto running? use scripts/test)");
        if let Some(path) = copy {
            let _ = std::fs::remove_file(path);
        }
        let dynamo = aws_sdk_dynamodb::Client::new(&aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await);
        let users_table = local_runtime::provision::local_table_name(&runtime.table_prefix, "UsersTable");
        System { runtime, faults_injected, accounts: Accounts { dynamo, users_table } }
    }
}

impl System {
    /// The repository's template as deployed.
    pub async fn start() -> Self {
        Self::builder().start().await
    }

    pub fn builder() -> SystemBuilder {
        SystemBuilder { template: None, quotas: Quotas::default(), parameters: Vec::new(), faults: None, processes: None, web: false }
    }

    pub fn url_with_token(&self, token: &str) -> String {
        format!("{}?token={token}", self.runtime.websocket_url())
    }

    pub async fn connect(&self, user: &str, device: &str) -> Client {
        self.try_connect(user, device).await.unwrap_or_else(|status| panic!("{user}/{device} could not connect: HTTP {status}"))
    }

    /// A connection with a fresh token, or the handshake's HTTP status.
    async fn try_connect(&self, user: &str, device: &str) -> Result<Client, u16> {
        let token = self.runtime.issue_token(user, device);
        let mut client = Client::open(&self.url_with_token(&token)).await?;
        client.retries_unavailable = !self.faults_injected;
        client.accounts = Some(self.accounts.clone());
        Ok(client)
    }

    /// Connects as a real client does: a `$connect` answered 5xx (a cold
    /// start that ran out of time on a loaded machine) is tried again after
    /// a backoff, up to five times. For the benchmark's crowds; the tests
    /// use [`System::connect`], which takes any failure as one.
    pub async fn connect_retrying(&self, user: &str, device: &str) -> Client {
        for attempt in 1.. {
            match self.try_connect(user, device).await {
                Err(status) if status >= 500 && attempt < 5 => {
                    eprintln!("{user}/{device}: $connect answered {status}, connecting again (attempt {attempt})");
                    tokio::time::sleep(Duration::from_millis(500 << attempt)).await;
                }
                result => return result.unwrap_or_else(|status| panic!("{user}/{device} could not connect: HTTP {status}")),
            }
        }
        unreachable!()
    }

    /// A DynamoDB client on the same local server, to check what was stored.
    pub async fn dynamo(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await)
    }

    /// An S3 client on the local S3 (moto) itself, past the functions' IAM
    /// policies, to read what the bucket holds.
    pub async fn s3(&self) -> aws_sdk_s3::Client {
        let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build())
    }

    pub async fn sns(&self) -> aws_sdk_sns::Client {
        aws_sdk_sns::Client::new(&aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await)
    }

    /// Messages SNS published to the platform endpoints of `user#device`, read
    /// from moto's state (`/moto-api/data.json`; in no particular order).
    pub async fn pushes_to(&self, user: &str, device: &str) -> Vec<Value> {
        let state = moto_state().await;
        let owner = format!("{user}#{device}");
        let endpoints = state["sns"]["PlatformEndpoint"].as_array().cloned().unwrap_or_default();
        endpoints
            .iter()
            .filter(|e| e["custom_user_data"] == owner.as_str())
            .flat_map(|e| e["messages"].as_object().cloned().unwrap_or_default().into_values())
            .map(|m| serde_json::from_str(m.as_str().unwrap_or("null")).unwrap_or(Value::Null))
            .collect()
    }

    /// The items of one partition of a table (by logical id), strongly consistent.
    pub async fn partition(
        &self,
        table: &str,
        key: &str,
        value: &str,
    ) -> Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        let out = self
            .dynamo()
            .await
            .query()
            .table_name(self.table(table))
            .key_condition_expression("#k = :v")
            .expression_attribute_names("#k", key)
            .expression_attribute_values(":v", aws_sdk_dynamodb::types::AttributeValue::S(value.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .expect("the local DynamoDB answers");
        out.items.unwrap_or_default()
    }

    /// Entry ids in a device's inbox.
    pub async fn inbox_of(&self, user: &str, device: &str) -> Vec<String> {
        let items = self.partition("InboxTable", "deviceKey", &domain::ids::device_key(user, device)).await;
        items.iter().filter_map(|i| i.get("entryId")?.as_s().ok().cloned()).collect()
    }

    /// Stream records a function has finished handling (retries count again).
    pub fn records_handled(&self, function: &str) -> usize {
        self.runtime.invocations().iter().filter(|i| i.function == function).map(|i| i.records).sum()
    }

    /// An HTTP API client acting as `user` (with a valid token).
    pub fn http(&self, user: &str) -> Http {
        Http::new(self.http_url(), Some(self.runtime.issue_token(user, "phone")))
    }

    pub fn http_url(&self) -> String {
        self.runtime.http_api_url().expect("the template has an HTTP API")
    }

    /// The context a template function runs with (its configuration and AWS clients).
    pub fn function_context(&self, logical_id: &str) -> std::sync::Arc<domain::AppContext> {
        self.runtime.lambda.function(logical_id).unwrap_or_else(|| panic!("no function {logical_id}")).ctx.clone()
    }

    /// The AWS configuration of a function (its role's credentials, through
    /// the local IAM proxy), for calling AWS as that function does.
    pub fn function_sdk(&self, logical_id: &str) -> aws_config::SdkConfig {
        self.runtime.lambda.function(logical_id).unwrap_or_else(|| panic!("no function {logical_id}")).sdk.clone()
    }

    /// Gives `users` accounts (see [`Accounts`]).
    pub async fn sign_up(&self, users: &[&str]) {
        self.accounts.sign_up(users).await;
    }

    pub fn table(&self, logical_id: &str) -> String {
        local_runtime::provision::local_table_name(&self.runtime.table_prefix, logical_id)
    }
}

/// moto's whole state, through its inspection API (a plain HTTP GET).
pub async fn moto_state() -> Value {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let endpoint = std::env::var("AWS_ENDPOINT_URL").expect("AWS_ENDPOINT_URL points at moto");
    let host = endpoint.trim_start_matches("http://").trim_end_matches('/').to_owned();
    let mut stream = TcpStream::connect(&host).await.expect("moto answers");
    let request = format!("GET /moto-api/data.json HTTP/1.0\r\nHost: {host}\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8_lossy(&response);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
    serde_json::from_str(body).expect("moto state is JSON")
}

/// A plain HTTP client for the HTTP API, as an app (or curl) would use it.
pub struct Http {
    pub base: String,
    pub token: Option<String>,
    client: reqwest::Client,
}

/// Status, headers and JSON body (`Null` when the body is not JSON).
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }
}

impl Http {
    pub fn new(base: String, token: Option<String>) -> Self {
        Self { base, token, client: reqwest::Client::new() }
    }

    async fn reply(response: reqwest::Response) -> Reply {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("response body");
        Reply { status, headers, body: serde_json::from_slice(&bytes).unwrap_or(Value::Null) }
    }

    fn authorized(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        let request = self.authorized(self.client.get(format!("{}{path}", self.base)));
        Self::reply(request.send().await.expect("HTTP API answers")).await
    }

    /// POSTs a body as given (it need not be JSON).
    pub async fn post_text(&self, path: &str, body: String) -> Reply {
        let request =
            self.authorized(self.client.post(format!("{}{path}", self.base)).header("content-type", "application/json").body(body));
        Self::reply(request.send().await.expect("HTTP API answers")).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        let request = self.authorized(self.client.post(format!("{}{path}", self.base)).json(body));
        Self::reply(request.send().await.expect("HTTP API answers")).await
    }
}

/// PUTs bytes to a presigned URL with the given headers, as curl would; returns
/// S3's status and body text.
pub async fn put_presigned(url: &str, headers: &Value, body: Vec<u8>) -> (u16, String) {
    let mut request = reqwest::Client::new().put(url);
    // Content-Length and Host come from the body and the URL, as with curl.
    for (name, value) in headers.as_object().into_iter().flatten().filter(|(n, _)| !matches!(n.as_str(), "content-length" | "host")) {
        request = request.header(name.as_str(), value.as_str().unwrap_or_default());
    }
    let response = request.body(body).send().await.expect("S3 answers");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

/// Bytes that look like a PNG and differ per call.
pub fn image(size: usize, seed: u8) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend((0..size - 8).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)));
    bytes
}

pub fn upload_request(bytes: &[u8], content_type: &str) -> Value {
    json!({ "fileName": "holiday.png", "contentType": content_type, "size": bytes.len(), "sha256": sha256_base64(bytes) })
}

/// Asks for an upload URL and PUTs the bytes; returns the attachment id.
pub async fn upload(http: &Http, chat: &str, bytes: &[u8]) -> String {
    upload_as(http, chat, &upload_request(bytes, "image/png"), bytes).await
}

/// [`upload`] with the request (name, type, size, checksum) as given.
pub async fn upload_as(http: &Http, chat: &str, request: &Value, bytes: &[u8]) -> String {
    let reply = http.post(&format!("/chats/{chat}/attachments"), request).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let (status, body) = put_presigned(text(&reply.body, "uploadUrl"), &reply.body["uploadHeaders"], bytes.to_vec()).await;
    assert_eq!(status, 200, "S3 accepts the declared bytes: {body}");
    text(&reply.body, "attachmentId").to_owned()
}

/// Uploads `bytes` (a PNG) as `user`'s avatar through `POST /users/me/avatar`
/// and its presigned URL; returns the upload's id (set it with `updateProfile`).
pub async fn upload_avatar(http: &Http, bytes: &[u8]) -> String {
    let reply =
        http.post("/users/me/avatar", &json!({ "contentType": "image/png", "size": bytes.len(), "sha256": sha256_base64(bytes) })).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let (status, body) = put_presigned(text(&reply.body, "uploadUrl"), &reply.body["uploadHeaders"], bytes.to_vec()).await;
    assert_eq!(status, 200, "S3 accepts the declared bytes: {body}");
    text(&reply.body, "attachmentId").to_owned()
}

/// Sends a message carrying these attachments; the reply.
pub async fn send_with(client: &mut Client, chat: &str, attachments: &[&str]) -> Value {
    client
        .request(json!({ "action": "sendMessage", "chatId": chat, "clientMessageId": unique("m"), "message": "look", "attachments": attachments }))
        .await
}

/// GETs a presigned URL: status and bytes.
pub async fn get_presigned(url: &str) -> (u16, Vec<u8>) {
    let response = reqwest::get(url).await.expect("S3 answers");
    let status = response.status().as_u16();
    (status, response.bytes().await.map(|b| b.to_vec()).unwrap_or_default())
}

/// Base64 SHA-256, as S3's `x-amz-checksum-sha256` wants it.
pub fn sha256_base64(bytes: &[u8]) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(bytes))
}

enum Incoming {
    Frame(Value),
    Closed(Option<u16>),
}

type Sink = SplitSink<WebSocketStream<MaybeTlsStream<TcpStream>>, Message>;

pub struct Client {
    sink: Sink,
    incoming: mpsc::UnboundedReceiver<Incoming>,
    pending: VecDeque<Value>,
    closed: Option<Option<u16>>,
    next_request: u64,
    /// How long `wait_for` waits ([`WAIT`] unless a test needs more).
    pub patience: Duration,
    /// Whether `request` retries an `unavailable` answer (a busy machine can
    /// run a function out of its time) after its `retryAfter`, with the same
    /// frame, as docs/protocol.md tells clients to; off where faults are
    /// injected, whose tests check that answer.
    pub retries_unavailable: bool,
    /// Where the helpers that start chats sign their people up (a client
    /// opened by [`System::connect`]).
    pub accounts: Option<Accounts>,
}

impl Client {
    /// Connects, or returns the HTTP status the handshake was refused with.
    pub async fn open(url: &str) -> Result<Self, u16> {
        let (socket, _) = connect_async(url).await.map_err(|e| match e {
            tokio_tungstenite::tungstenite::Error::Http(response) => response.status().as_u16(),
            other => panic!("connect failed: {other}"),
        })?;
        let (sink, mut stream) = socket.split();
        let (tx, incoming) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Some(message) = stream.next().await {
                match message {
                    Ok(Message::Text(text)) => {
                        let mut frame = serde_json::from_str(&text).unwrap_or_else(|_| json!({ "unparsed": text.to_string() }));
                        if let Some(object) = frame.as_object_mut() {
                            object.insert(ARRIVED_AT.into(), json!(domain::time::now_micros()));
                        }
                        let _ = tx.send(Incoming::Frame(frame));
                    }
                    Ok(Message::Close(frame)) => {
                        let _ = tx.send(Incoming::Closed(frame.map(|f| u16::from(f.code))));
                        return;
                    }
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            let _ = tx.send(Incoming::Closed(None));
        });
        Ok(Self {
            sink,
            incoming,
            pending: VecDeque::new(),
            closed: None,
            next_request: 0,
            patience: WAIT,
            retries_unavailable: false,
            accounts: None,
        })
    }

    pub async fn send_text(&mut self, text: String) {
        self.sink.send(Message::Text(text.into())).await.expect("frame sent");
    }

    pub async fn send(&mut self, frame: Value) {
        self.send_text(frame.to_string()).await;
    }

    /// Sends a frame with a fresh `requestId` and waits for the frame that
    /// echoes it (retrying `unavailable` when `retries_unavailable`).
    pub async fn request(&mut self, mut frame: Value) -> Value {
        let mut retries = 0;
        loop {
            self.next_request += 1;
            let id = format!("req-{}", self.next_request);
            frame["requestId"] = json!(id);
            self.send(frame.clone()).await;
            let answer = self.wait_for(|f| f["requestId"] == id.as_str()).await;
            if !(self.retries_unavailable && answer["code"] == "unavailable" && retries < UNAVAILABLE_RETRIES) {
                return answer;
            }
            retries += 1;
            eprintln!("retrying {} after: {answer}", frame["action"]);
            tokio::time::sleep(Duration::from_secs(answer["retryAfter"].as_u64().unwrap_or(1))).await;
        }
    }

    async fn receive(&mut self, timeout: Duration) -> Option<Value> {
        if self.closed.is_some() {
            return None;
        }
        match tokio::time::timeout(timeout, self.incoming.recv()).await {
            Ok(Some(Incoming::Frame(frame))) => Some(frame),
            Ok(Some(Incoming::Closed(code))) => {
                self.closed = Some(code);
                None
            }
            Ok(None) => {
                self.closed = Some(None);
                None
            }
            Err(_) => None,
        }
    }

    /// The next frame not yet consumed, waiting up to `timeout`; `None` when
    /// none came or the connection is closed.
    pub async fn next_frame(&mut self, timeout: Duration) -> Option<Value> {
        match self.pending.pop_front() {
            Some(frame) => Some(frame),
            None => self.receive(timeout).await,
        }
    }

    pub fn is_closed(&self) -> bool {
        self.closed.is_some()
    }

    /// The first frame (already received or arriving within `WAIT`) that matches.
    pub async fn wait_for(&mut self, matches: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.pending.iter().position(&matches) {
            return self.pending.remove(i).expect("index is valid");
        }
        let deadline = tokio::time::Instant::now() + self.patience;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.receive(left).await {
                Some(frame) if matches(&frame) => return frame,
                Some(frame) => self.pending.push_back(frame),
                None => panic!("no matching frame within {:?}; closed: {:?}; received: {:?}", self.patience, self.closed, self.pending),
            }
        }
    }

    /// The next `count` frames of type `kind` delivered live or by sync, in
    /// arrival order (other frames in a sync batch are kept for later).
    pub async fn frames_of(&mut self, kind: &str, count: usize) -> Vec<Value> {
        let mut out = Vec::new();
        while out.len() < count {
            let frame = self
                .wait_for(|f| {
                    f["type"] == kind
                        || (f["type"] == "syncBatch" && f["frames"].as_array().is_some_and(|a| a.iter().any(|x| x["type"] == kind)))
                })
                .await;
            for inner in unpack(frame) {
                if inner["type"] == kind {
                    out.push(inner);
                } else {
                    self.pending.push_back(inner);
                }
            }
        }
        out
    }

    /// The next `count` messages delivered live or by sync, in arrival order.
    pub async fn messages(&mut self, count: usize) -> Vec<Value> {
        self.frames_of("newMessage", count).await
    }

    /// Every frame that arrives within `window` (plus any not yet consumed).
    pub async fn drain(&mut self, window: Duration) -> Vec<Value> {
        let mut out: Vec<Value> = self.pending.drain(..).collect();
        let deadline = tokio::time::Instant::now() + window;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return out;
            }
            match self.receive(left).await {
                Some(frame) => out.push(frame),
                None if self.closed.is_some() => return out,
                None => {}
            }
        }
    }

    /// Waits for the server to close the connection; returns its close code.
    pub async fn closed(&mut self) -> Option<u16> {
        let deadline = tokio::time::Instant::now() + WAIT;
        while self.closed.is_none() {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            assert!(!left.is_zero(), "connection was not closed within {WAIT:?}");
            if let Some(frame) = self.receive(left).await {
                self.pending.push_back(frame);
            }
        }
        self.closed.flatten()
    }

    pub async fn close(mut self) {
        let _ = self.sink.send(Message::Close(None)).await;
        let _ = self.closed().await;
    }

    // ---- protocol helpers

    /// `createChat` with people who have accounts (see [`Accounts`]).
    pub async fn create_chat(&mut self, participants: &[&str], name: Option<&str>) -> Value {
        self.sign_up(participants).await;
        let mut frame = json!({ "action": "createChat", "participants": participants });
        if let Some(name) = name {
            frame["name"] = json!(name);
        }
        self.request(frame).await
    }

    /// Gives `users` accounts, where this client knows the system's.
    pub async fn sign_up(&self, users: &[&str]) {
        if let Some(accounts) = &self.accounts {
            accounts.sign_up(users).await;
        }
    }

    /// Creates (or finds, for a 1-1) a chat and returns its id.
    pub async fn chat_with(&mut self, participants: &[&str], name: Option<&str>) -> String {
        text(&self.create_chat(participants, name).await, "chatId").to_owned()
    }

    /// Accepts a chat this user was requested into (a message request or
    /// group invitation from someone they never accepted).
    pub async fn accept(&mut self, chat_id: &str) {
        let reply = self.request(json!({ "action": "acceptChat", "chatId": chat_id })).await;
        assert_eq!(reply["type"], "chatAccepted", "{reply}");
    }

    pub async fn send_message(&mut self, chat_id: &str, client_message_id: &str, text: &str) -> Value {
        self.request(json!({ "action": "sendMessage", "chatId": chat_id, "clientMessageId": client_message_id, "message": text })).await
    }

    pub async fn ack(&mut self, message_ids: &[&str]) -> Value {
        self.request(json!({ "action": "ack", "messageIds": message_ids })).await
    }

    pub async fn sync(&mut self) -> Value {
        self.request(json!({ "action": "sync" })).await
    }
}

/// Field of a frame as text (panics with the frame when missing).
pub fn text<'a>(frame: &'a Value, field: &str) -> &'a str {
    frame[field].as_str().unwrap_or_else(|| panic!("frame has no string {field}: {frame}"))
}

pub fn number(frame: &Value, field: &str) -> u64 {
    frame[field].as_u64().unwrap_or_else(|| panic!("frame has no number {field}: {frame}"))
}
