//! Fault injection: chosen AWS calls of the functions fail or stall, the way
//! they do in production, so tests can prove nothing acknowledged is lost.
//!
//! With faults on, the proxy every function's AWS clients (DynamoDB, S3, SNS)
//! reach the stand-ins through (`aws_proxy`), per rule and probability,
//! answers instead of the server — a throttling error or a 500 that the SDK retries,
//! a stall, or a call that is *applied and then lost*: the server commits it
//! and the function never hears back (the proxy drops that request's answer,
//! and its retries'), so the function fails right after its transaction, as
//! one that dies there would. The `@connections` API of the local gateway
//! answers `PostToConnection` with 410 (the connection looks gone) or 500.
//! The stream pollers and schedules are AWS's own machinery and are not
//! faulted; the functions they invoke are.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rand::Rng;

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
        let fault =
            rules.iter().filter(|r| operation.starts_with(&r.operation)).find(|r| rng.random_bool(r.probability.clamp(0.0, 1.0)))?.fault;
        *self.injected.lock().expect("counts").entry(format!("{}: {operation}", fault.name())).or_default() += 1;
        Some(fault)
    }

    pub(crate) fn lose(&self, body: &[u8]) {
        let mut lost = self.lost.lock().expect("lost");
        let now = Instant::now();
        lost.retain(|_, until| *until > now);
        lost.insert(body.to_vec(), now + LOST_FOR);
    }

    pub(crate) fn is_lost(&self, body: &[u8]) -> bool {
        self.lost.lock().expect("lost").get(body).is_some_and(|until| *until > Instant::now())
    }
}

fn aws_json_error(status: StatusCode, kind: &str, message: &str) -> Response {
    let body = serde_json::json!({ "__type": format!("com.amazonaws.dynamodb.v20120810#{kind}"), "message": message }).to_string();
    (status, [("content-type", "application/x-amz-json-1.0"), ("x-amzn-errortype", kind)], body).into_response()
}

pub(crate) fn injected_error(fault: Fault, operation: &str) -> Response {
    let query = !operation.starts_with("DynamoDB.");
    match (fault, query) {
        (Fault::Throttle, false) => {
            aws_json_error(StatusCode::BAD_REQUEST, "ThrottlingException", "Rate of requests exceeds the allowed throughput.")
        }
        (Fault::Throttle, true) => xml_error(StatusCode::SERVICE_UNAVAILABLE, "SlowDown", "Please reduce your request rate."),
        (_, false) => aws_json_error(StatusCode::INTERNAL_SERVER_ERROR, "InternalServerError", "Internal server error (injected)"),
        (_, true) => xml_error(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", "We encountered an internal error (injected)."),
    }
}

fn xml_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{message}</Message></Error>");
    (status, [("content-type", "application/xml")], body).into_response()
}
