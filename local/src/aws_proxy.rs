//! The one door between the functions and the local AWS stand-ins. Every AWS
//! client a function builds points here (`ThroughProxy`); each call is judged
//! by IAM against the calling function's policy (`iam`), may meet an injected
//! fault (`faults`), and then goes on to the stand-in that serves its service:
//! DynamoDB Local for DynamoDB, moto for S3, SNS and Secrets Manager. The local runtime's own
//! clients (provisioning, stream pollers) and the tests go straight to the
//! stand-ins, as AWS's machinery and an administrator would.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;

use crate::LocalError;
use crate::capacity::TransactionCapacity;
use crate::faults::{Fault, Faults, injected_error};
use crate::iam::{Decision, Iam, Service, s3_access_denied};

/// Where each service's stand-in listens, from the SDK's own variables:
/// `AWS_ENDPOINT_URL_DYNAMODB` (else `AWS_ENDPOINT_URL`) and `AWS_ENDPOINT_URL`.
#[derive(Clone, Debug)]
pub struct Upstreams {
    pub dynamodb: String,
    pub others: String,
}

impl Upstreams {
    pub fn from_env() -> Result<Self, LocalError> {
        let others = std::env::var("AWS_ENDPOINT_URL").map_err(|_| LocalError::NoLocalEndpoint)?;
        let dynamodb = std::env::var("AWS_ENDPOINT_URL_DYNAMODB").unwrap_or_else(|_| others.clone());
        Ok(Self { dynamodb: dynamodb.trim_end_matches('/').to_owned(), others: others.trim_end_matches('/').to_owned() })
    }
}

/// Points every AWS client built from an `SdkConfig` at the proxy: the SDK
/// prefers `AWS_ENDPOINT_URL[_<SERVICE>]` from the environment over a shared
/// config's endpoint, so the override is made where the environment is read.
#[derive(Debug)]
pub struct ThroughProxy(pub String);

impl aws_types::service_config::LoadServiceConfig for ThroughProxy {
    fn load_config(&self, key: aws_types::service_config::ServiceConfigKey<'_>) -> Option<String> {
        key.env().starts_with("AWS_ENDPOINT_URL").then(|| self.0.clone())
    }
}

struct Proxy {
    iam: Option<Arc<Iam>>,
    faults: Option<Arc<Faults>>,
    upstreams: Upstreams,
    client: reqwest::Client,
    transactions: TransactionCapacity,
}

/// Starts the proxy; returns its URL, for the functions' clients.
pub async fn start(
    iam: Option<Arc<Iam>>,
    faults: Option<Arc<Faults>>,
    upstreams: Upstreams,
) -> Result<(String, tokio::task::JoinHandle<()>), std::io::Error> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let address = listener.local_addr()?;
    let client = reqwest::Client::new();
    let transactions = TransactionCapacity::new(upstreams.dynamodb.clone(), client.clone());
    let proxy = Arc::new(Proxy { iam, faults, upstreams, client, transactions });
    // No body limit of the proxy's own (axum's default is 2 MiB): what reaches
    // AWS's endpoints is bounded by AWS (an S3 PUT by 5 GB, the presigned
    // upload by its signed length), and the stand-ins behind answer as it does.
    let app = Router::new().fallback(forward).layer(axum::extract::DefaultBodyLimit::disable()).with_state(proxy);
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(crate::without_nagle(listener), app).await {
            tracing::error!(error = %e, "AWS proxy stopped");
        }
    });
    Ok((format!("http://{address}"), task))
}

/// The `Service.Operation` an AWS request is (for fault rules), and for a
/// DynamoDB call on one table, `:<table>` with the table's template name
/// (`DynamoDB.UpdateItem:ChatsTable`), so a rule can fail one step of a
/// function and not the others.
fn operation_of(method: &Method, headers: &HeaderMap, body: &[u8]) -> String {
    if let Some(target) = headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        // `DynamoDB_20120810.TransactWriteItems`
        let (service, operation) = target.split_once('.').unwrap_or((target, ""));
        let mut named = format!("{}.{operation}", service.split('_').next().unwrap_or(service));
        let table = serde_json::from_slice::<serde_json::Value>(body).ok().and_then(|b| b["TableName"].as_str().map(str::to_owned));
        if let Some(table) = table {
            // Stack tables are `<stack>-<LogicalId>`.
            named.push(':');
            named.push_str(table.rsplit('-').next().unwrap_or(&table));
        }
        return named;
    }
    let form = String::from_utf8_lossy(body);
    if let Some(action) = form.split('&').find_map(|pair| pair.strip_prefix("Action=")) {
        return format!("SNS.{action}");
    }
    format!("S3.{method}")
}

async fn forward(State(proxy): State<Arc<Proxy>>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let service = Service::of(&headers, &uri);
    // A browser's CORS preflight carries no credentials: S3 answers it from
    // the bucket's CORS rules alone (moto holds them, from the template).
    let preflight = service == Service::S3 && method == Method::OPTIONS;
    let decision = proxy.iam.as_ref().filter(|_| !preflight).map(|iam| iam.decide(&method, &uri, &headers, &body));
    let may_list = match decision {
        Some(Decision::Denied(answer)) => return answer,
        Some(Decision::Allowed) => false,
        Some(Decision::AllowedMayList) | None => true,
    };
    let mut fault = None;
    if let Some(faults) = &proxy.faults {
        if faults.is_lost(&body) {
            return lost_answer().await;
        }
        let operation = operation_of(&method, &headers, &body);
        fault = faults.pick(&operation);
        match fault {
            Some(answer @ (Fault::Throttle | Fault::ServerError | Fault::Gone)) => return injected_error(answer, &operation),
            Some(Fault::Stall(how_long)) => tokio::time::sleep(how_long).await,
            _ => {}
        }
    }
    let upstream = if service == Service::DynamoDb { &proxy.upstreams.dynamodb } else { &proxy.upstreams.others };
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut request = proxy.client.request(method.clone(), format!("{upstream}{path}"));
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
        if let Some(faults) = &proxy.faults {
            faults.lose(&body);
        }
        return lost_answer().await;
    }
    let status = answer.status();
    // Worked out once the transaction is done, so reading the items does not
    // widen the window in which concurrent senders contend for them.
    let capacity = match service {
        Service::DynamoDb if status.is_success() => transaction_capacity(&proxy, &headers, &body).await,
        _ => None,
    };
    // S3 tells a caller that may not list the bucket nothing about which keys
    // exist: a missing object is 403 AccessDenied, not 404.
    if service == Service::S3
        && status == StatusCode::NOT_FOUND
        && !may_list
        && matches!(method, Method::GET | Method::HEAD)
        && uri.path().trim_matches('/').contains('/')
    {
        return if method == Method::HEAD { StatusCode::FORBIDDEN.into_response() } else { s3_access_denied("Access Denied") };
    }
    let mut headers = answer.headers().clone();
    let mut bytes = answer.bytes().await.unwrap_or_default();
    if let Some(capacity) = capacity {
        bytes = with_capacity(&bytes, capacity);
        // The SDK checks DynamoDB's CRC32 of the body it receives.
        headers.insert("x-amz-crc32", crc32fast::hash(&bytes).into());
        headers.insert("content-length", bytes.len().into());
    }
    let mut response = (status, bytes).into_response();
    for (name, value) in &headers {
        // Content-Length included: a HEAD answer's is the object's size.
        if name != "transfer-encoding" {
            response.headers_mut().insert(name, value.clone());
        }
    }
    response
}

/// AWS's units for a `TransactWriteItems` that asked for them (DynamoDB
/// Local misreports these: see `capacity`), from the items it left.
async fn transaction_capacity(proxy: &Proxy, headers: &HeaderMap, body: &[u8]) -> Option<serde_json::Value> {
    let target = headers.get("x-amz-target")?.to_str().ok()?;
    if !target.ends_with(".TransactWriteItems") {
        return None;
    }
    let request: serde_json::Value = serde_json::from_slice(body).ok()?;
    if matches!(request["ReturnConsumedCapacity"].as_str(), None | Some("NONE")) {
        return None;
    }
    let authorization = headers.get("authorization")?.to_str().ok()?;
    proxy.transactions.of(authorization, &request).await
}

fn with_capacity(body: &[u8], capacity: serde_json::Value) -> Bytes {
    let Ok(serde_json::Value::Object(mut answer)) = serde_json::from_slice(body) else { return Bytes::copy_from_slice(body) };
    answer.insert("ConsumedCapacity".into(), capacity);
    Bytes::from(serde_json::Value::Object(answer).to_string())
}

/// What a function sees of an answer that never comes: its connection is cut
/// (an I/O error the SDK treats as transient, so it retries — into the same).
async fn lost_answer() -> Response {
    (StatusCode::SERVICE_UNAVAILABLE, [("connection", "close")], "").into_response()
}
