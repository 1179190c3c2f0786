//! Fault injection: chosen AWS calls of the functions fail or stall, the way
//! they do in production, so tests can prove nothing acknowledged is lost.
//!
//! With faults on, every function's AWS clients (DynamoDB, S3, SNS) reach the
//! local AWS server through a proxy that, per rule and probability, answers
//! instead of the server — a throttling error or a 500 that the SDK retries,
//! a stall, or a call that is *applied and then lost*: the server commits it
//! and the function never hears back (the proxy drops that request's answer,
//! and its retries'), so the function fails right after its transaction, as
//! one that dies there would. The `@connections` API of the local gateway
//! answers `PostToConnection` with 410 (the connection looks gone) or 500.
//! The stream pollers and schedules are AWS's own machinery and are not
//! faulted; the functions they invoke are.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use rand::Rng;
use tokio::net::TcpListener;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    /// The service's throttling error (DynamoDB `ThrottlingException`, HTTP 400).
    Throttle,
    /// HTTP 500 `InternalServerError`.
    ServerError,
    /// The call is held this long before it goes on.
    Stall(Duration),
    /// Applied by the server, then the answer is lost (the connection drops).
    LoseResponse,
    /// `PostToConnection` answers 410 `GoneException`.
    Gone,
}

impl Fault {
    pub fn name(&self) -> &'static str {
        match self {
            Fault::Throttle => "throttled",
            Fault::ServerError => "server error (500)",
            Fault::Stall(_) => "stalled",
            Fault::LoseResponse => "applied, answer lost (function fails after it)",
            Fault::Gone => "PostToConnection 410",
        }
    }
}

/// `operation` is `Service.Operation` (`DynamoDB.TransactWriteItems`,
/// `ApiGatewayManagementApi.PostToConnection`, `SNS.Publish`, `S3.PUT`) or a
/// prefix of it (`DynamoDB.`; empty matches every call).
#[derive(Clone, Debug)]
pub struct FaultRule {
    pub operation: String,
    pub fault: Fault,
    pub probability: f64,
}

/// How long a lost answer stays lost for the same request (the SDK's retries).
const LOST_FOR: Duration = Duration::from_secs(20);

#[derive(Debug, Default)]
pub struct Faults {
    rules: Mutex<Vec<FaultRule>>,
    injected: Mutex<BTreeMap<String, u64>>,
    /// Requests whose answer was lost, by body, until when.
    lost: Mutex<BTreeMap<Vec<u8>, Instant>>,
}

impl Faults {
    pub fn set_rules(&self, rules: Vec<FaultRule>) {
        *self.rules.lock().expect("rules") = rules;
    }

    /// Faults injected so far, by `<fault>: <operation>`.
    pub fn injected(&self) -> BTreeMap<String, u64> {
        self.injected.lock().expect("counts").clone()
    }

    /// The fault to inject into this call, if any (each matching rule rolls its own dice).
    pub fn pick(&self, operation: &str) -> Option<Fault> {
        let rules = self.rules.lock().expect("rules");
        let mut rng = rand::rng();
        let fault = rules.iter().filter(|r| operation.starts_with(&r.operation)).find(|r| rng.random_bool(r.probability.clamp(0.0, 1.0)))?.fault;
        *self.injected.lock().expect("counts").entry(format!("{}: {operation}", fault.name())).or_default() += 1;
        Some(fault)
    }

    fn lose(&self, body: &[u8]) {
        let mut lost = self.lost.lock().expect("lost");
        let now = Instant::now();
        lost.retain(|_, until| *until > now);
        lost.insert(body.to_vec(), now + LOST_FOR);
    }

    fn is_lost(&self, body: &[u8]) -> bool {
        self.lost.lock().expect("lost").get(body).is_some_and(|until| *until > Instant::now())
    }
}

/// The `Service.Operation` an AWS request is.
fn operation_of(method: &Method, headers: &HeaderMap, body: &[u8]) -> String {
    if let Some(target) = headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        // `DynamoDB_20120810.TransactWriteItems`
        let (service, operation) = target.split_once('.').unwrap_or((target, ""));
        return format!("{}.{operation}", service.split('_').next().unwrap_or(service));
    }
    let form = String::from_utf8_lossy(body);
    if let Some(action) = form.split('&').find_map(|pair| pair.strip_prefix("Action=")) {
        return format!("SNS.{action}");
    }
    format!("S3.{method}")
}

fn aws_json_error(status: StatusCode, kind: &str, message: &str) -> Response {
    let body = serde_json::json!({ "__type": format!("com.amazonaws.dynamodb.v20120810#{kind}"), "message": message }).to_string();
    (status, [("content-type", "application/x-amz-json-1.0"), ("x-amzn-errortype", kind)], body).into_response()
}

fn injected_error(fault: Fault, operation: &str) -> Response {
    let query = !operation.starts_with("DynamoDB.");
    match (fault, query) {
        (Fault::Throttle, false) => aws_json_error(StatusCode::BAD_REQUEST, "ThrottlingException", "Rate of requests exceeds the allowed throughput."),
        (Fault::Throttle, true) => xml_error(StatusCode::SERVICE_UNAVAILABLE, "SlowDown", "Please reduce your request rate."),
        (_, false) => aws_json_error(StatusCode::INTERNAL_SERVER_ERROR, "InternalServerError", "Internal server error (injected)"),
        (_, true) => xml_error(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", "We encountered an internal error (injected)."),
    }
}

fn xml_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{message}</Message></Error>");
    (status, [("content-type", "application/xml")], body).into_response()
}

/// Points every AWS client built from an `SdkConfig` at the fault proxy: the
/// SDK prefers `AWS_ENDPOINT_URL` from the environment over a shared config's
/// endpoint, so the override is made where the environment is read.
#[derive(Debug)]
pub struct ThroughProxy(pub String);

impl aws_types::service_config::LoadServiceConfig for ThroughProxy {
    fn load_config(&self, key: aws_types::service_config::ServiceConfigKey<'_>) -> Option<String> {
        (key.env() == "AWS_ENDPOINT_URL").then(|| self.0.clone())
    }
}

struct Proxy {
    faults: Arc<Faults>,
    upstream: String,
    client: reqwest::Client,
}

/// Starts the fault proxy in front of `upstream` (the local AWS server);
/// returns its URL, for the functions' `endpoint_url`.
pub async fn start_proxy(faults: Arc<Faults>, upstream: String) -> Result<(String, tokio::task::JoinHandle<()>), std::io::Error> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let address = listener.local_addr()?;
    let proxy = Arc::new(Proxy { faults, upstream: upstream.trim_end_matches('/').to_owned(), client: reqwest::Client::new() });
    let app = Router::new().fallback(forward).with_state(proxy);
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "fault proxy stopped");
        }
    });
    Ok((format!("http://{address}"), task))
}

async fn forward(State(proxy): State<Arc<Proxy>>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let operation = operation_of(&method, &headers, &body);
    if proxy.faults.is_lost(&body) {
        return lost_answer().await;
    }
    let fault = proxy.faults.pick(&operation);
    match fault {
        Some(answer @ (Fault::Throttle | Fault::ServerError | Fault::Gone)) => return injected_error(answer, &operation),
        Some(Fault::Stall(how_long)) => tokio::time::sleep(how_long).await,
        _ => {}
    }
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut request = proxy.client.request(method, format!("{}{path}", proxy.upstream));
    for (name, value) in &headers {
        // The Host the client signed stays as it was (presigned URLs sign it).
        if name != "content-length" {
            request = request.header(name, value);
        }
    }
    let answer = match request.body(body.clone()).send().await {
        Ok(answer) => answer,
        Err(e) => return (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    };
    if fault == Some(Fault::LoseResponse) && answer.status().is_success() {
        proxy.faults.lose(&body);
        return lost_answer().await;
    }
    let status = answer.status();
    let headers = answer.headers().clone();
    let bytes = answer.bytes().await.unwrap_or_default();
    let mut response = (status, bytes).into_response();
    for (name, value) in &headers {
        if name != "content-length" && name != "transfer-encoding" {
            response.headers_mut().insert(name, value.clone());
        }
    }
    response
}

/// What a function sees of an answer that never comes: its connection is cut
/// (an I/O error the SDK treats as transient, so it retries — into the same).
async fn lost_answer() -> Response {
    (StatusCode::SERVICE_UNAVAILABLE, [("connection", "close")], "").into_response()
}
