//! The local API Gateway WebSocket API: accepts WebSocket clients, runs the
//! `$connect` authorizer and routes, selects a route per frame by the template's
//! route selection expression, invokes the handlers with the events API Gateway
//! would send, and serves the `@connections` Management API the handlers post to.
//! It enforces API Gateway's quotas: frame size (close 1009), idle timeout and
//! maximum connection age.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerRequestTypeRequest as AuthorizerEvent,
    ApiGatewayCustomAuthorizerRequestTypeRequestContext as AuthorizerContext,
    ApiGatewayCustomAuthorizerRequestTypeRequestIdentity as AuthorizerIdentity, ApiGatewayWebsocketProxyRequest as WebsocketEvent,
    ApiGatewayWebsocketProxyRequestContext as WebsocketContext,
};
use aws_lambda_events::query_map::QueryMap;
use axum::Router;
use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};

use crate::aws_conventions::{LOCAL_ACCOUNT, new_request_id, query_pairs, request_time, rfc3339};
use crate::faults::Fault;
use tokio::sync::mpsc;
use tracing::{info, warn};

use crate::lambda::LambdaHost;

/// A `$connect` authorizer's request context. API Gateway also sends the
/// connection's WebSocket fields (`connectionId`, `routeKey`…); the REST-shaped
/// type has no place for them without its `catch-all-fields` feature, and the
/// authorizer reads none of them.
fn authorizer_context(websocket: WebsocketContext) -> AuthorizerContext {
    let mut context = AuthorizerContext::default();
    context.stage = websocket.stage;
    context.request_id = websocket.request_id;
    context.apiid = websocket.apiid;
    let mut identity = AuthorizerIdentity::default();
    identity.source_ip = websocket.identity.source_ip;
    context.identity = Some(identity);
    context
}

/// A route's event: what API Gateway sends the integration.
fn websocket_event(context: WebsocketContext, body: Option<String>) -> WebsocketEvent {
    let mut event = WebsocketEvent::default();
    event.request_context = context;
    event.body = body;
    event
}
use crate::template::WsApi;

/// API Gateway's WebSocket quotas, configurable so tests need not wait hours.
#[derive(Clone, Debug)]
pub struct Quotas {
    pub max_frame_bytes: usize,
    pub max_post_bytes: usize,
    pub idle_timeout: Duration,
    pub max_connection_age: Duration,
}

impl Default for Quotas {
    fn default() -> Self {
        Self {
            max_frame_bytes: 32 * 1024,
            max_post_bytes: 128 * 1024,
            idle_timeout: Duration::from_secs(10 * 60),
            max_connection_age: Duration::from_secs(2 * 60 * 60),
        }
    }
}

pub const CLOSE_MESSAGE_TOO_BIG: u16 = 1009;
pub const CLOSE_GOING_AWAY: u16 = 1001;
pub const CLOSE_NORMAL: u16 = 1000;

enum Outbound {
    Text(String),
    Binary(Vec<u8>),
    Close(u16, &'static str),
}

struct Connection {
    outbound: mpsc::UnboundedSender<Outbound>,
    connected_at_ms: u64,
    last_active_ms: AtomicU64,
    source_ip: String,
    user_agent: String,
    /// What API Gateway puts in `requestContext.authorizer` for this connection.
    authorizer: HashMap<String, Value>,
}

/// What API Gateway bills a WebSocket API for: messages, each frame in or
/// out counted in 32 KB units, and connection time.
#[derive(Debug, Default)]
pub struct Usage {
    frames_in: AtomicU64,
    frames_out: AtomicU64,
    billed_messages: AtomicU64,
    closed_connection_ms: AtomicU64,
    closed_connection_minutes: AtomicU64,
    connections: AtomicU64,
}

/// A reading of [`Usage`]; subtract two to meter what happened in between.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct UsageReading {
    pub frames_in: u64,
    pub frames_out: u64,
    /// Frames in and out, each counted per started 32 KB as API Gateway bills.
    pub billed_messages: u64,
    /// Connections opened (past `$connect`).
    pub connections: u64,
    /// Connection time of closed connections and, so far, of open ones.
    pub connection_ms: u64,
    /// The same in the minutes API Gateway bills: each connection's time
    /// rounded up to a whole minute.
    pub billed_connection_minutes: u64,
}

impl std::ops::Sub for UsageReading {
    type Output = Self;
    fn sub(self, before: Self) -> Self {
        Self {
            frames_in: self.frames_in - before.frames_in,
            frames_out: self.frames_out - before.frames_out,
            billed_messages: self.billed_messages - before.billed_messages,
            connections: self.connections - before.connections,
            connection_ms: self.connection_ms.saturating_sub(before.connection_ms),
            billed_connection_minutes: self.billed_connection_minutes.saturating_sub(before.billed_connection_minutes),
        }
    }
}

/// API Gateway meters WebSocket messages in 32 KB increments.
const BILLED_MESSAGE_BYTES: usize = 32 * 1024;

fn billed_minutes(ms: u64) -> u64 {
    ms.div_ceil(60_000).max(1)
}

impl Usage {
    fn frame(&self, counter: &AtomicU64, bytes: usize) {
        counter.fetch_add(1, Ordering::Relaxed);
        self.billed_messages.fetch_add(bytes.div_ceil(BILLED_MESSAGE_BYTES).max(1) as u64, Ordering::Relaxed);
    }
}

pub struct Gateway {
    pub api: WsApi,
    /// What API Gateway would bill so far.
    pub usage: Usage,
    /// Where the routes' and the authorizer's functions run.
    pub lambda: Arc<LambdaHost>,
    pub quotas: Quotas,
    pub stage: String,
    pub domain_name: String,
    connections: Mutex<HashMap<String, Arc<Connection>>>,
    /// Injected `PostToConnection` failures (see `faults`).
    pub faults: Option<Arc<crate::faults::Faults>>,
    /// Who may call `@connections` (see `iam`); unchecked when `None`.
    pub iam: Option<Arc<crate::iam::Iam>>,
    /// The API id (`requestContext.apiId`, and in ARNs).
    pub api_id: String,
    /// `arn:aws:execute-api:{region}:{account}:{api}/{stage}`, for IAM.
    pub connections_arn: String,
}

fn now_ms() -> u64 {
    domain::time::now_millis()
}

fn new_connection_id() -> String {
    // Same shape as API Gateway's ids (e.g. "L0SM9cOFvHcCIhw="): URL-safe here.
    let id: String = (0..15)
        .map(|_| rand::random_range(0..62_u8))
        .map(|n| (b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"[n as usize]) as char)
        .collect();
    format!("{id}=")
}

impl Gateway {
    pub fn new(api: WsApi, lambda: Arc<LambdaHost>, quotas: Quotas, stage: String, domain_name: String) -> Self {
        Self {
            api,
            usage: Usage::default(),
            lambda,
            quotas,
            stage,
            domain_name,
            connections: Mutex::default(),
            faults: None,
            iam: None,
            api_id: "local".into(),
            connections_arn: String::new(),
        }
    }

    pub fn router(self: Arc<Self>) -> Router {
        Router::new()
            .route("/", get(websocket_entry))
            .route("/{stage}", get(websocket_entry))
            .route("/@connections/{connection_id}", any(management_api))
            .route("/{stage}/@connections/{connection_id}", any(management_api_with_stage))
            .with_state(self)
    }

    fn route(&self, route_key: &str) -> Option<&crate::template::WsRoute> {
        self.api.routes.iter().find(|r| r.route_key == route_key)
    }

    /// Route selection for `$request.body.<field>`: the field's value when the
    /// body is a JSON object naming an existing route, otherwise `$default`.
    fn select_route(&self, body: &str) -> String {
        let field = self.api.route_selection_expression.strip_prefix("$request.body.").unwrap_or("action");
        let selected = serde_json::from_str::<Value>(body)
            .ok()
            .and_then(|v| v.get(field).and_then(Value::as_str).map(str::to_owned))
            .filter(|key| !key.starts_with('$') && self.route(key).is_some());
        selected.unwrap_or_else(|| "$default".to_owned())
    }

    fn request_context(&self, connection_id: &str, route_key: &str, event_type: &str, connection: &Connection) -> WebsocketContext {
        let now = now_ms();
        let mut context = WebsocketContext::default();
        context.route_key = Some(route_key.into());
        context.event_type = Some(event_type.into());
        context.message_direction = Some("IN".into());
        context.message_id = Some(new_request_id());
        context.extended_request_id = Some(new_request_id());
        context.request_id = Some(new_request_id());
        context.request_time = Some(request_time(now));
        context.request_time_epoch = now as i64;
        context.connected_at = connection.connected_at_ms as i64;
        context.connection_id = Some(connection_id.into());
        context.domain_name = Some(self.domain_name.clone());
        context.stage = Some(self.stage.clone());
        context.apiid = Some(self.api_id.clone());
        context.identity.source_ip = Some(connection.source_ip.clone());
        context.identity.user_agent = Some(connection.user_agent.clone());
        context.authorizer.fields = connection.authorizer.clone();
        context
    }

    fn connection(&self, connection_id: &str) -> Option<Arc<Connection>> {
        self.connections.lock().ok()?.get(connection_id).cloned()
    }

    fn remove_connection(&self, connection_id: &str) -> Option<Arc<Connection>> {
        self.connections.lock().ok()?.remove(connection_id)
    }

    pub fn usage(&self) -> UsageReading {
        let now = now_ms();
        let open: Vec<u64> =
            self.connections.lock().map(|all| all.values().map(|c| now.saturating_sub(c.connected_at_ms)).collect()).unwrap_or_default();
        UsageReading {
            frames_in: self.usage.frames_in.load(Ordering::Relaxed),
            frames_out: self.usage.frames_out.load(Ordering::Relaxed),
            billed_messages: self.usage.billed_messages.load(Ordering::Relaxed),
            connections: self.usage.connections.load(Ordering::Relaxed),
            connection_ms: self.usage.closed_connection_ms.load(Ordering::Relaxed) + open.iter().sum::<u64>(),
            billed_connection_minutes: self.usage.closed_connection_minutes.load(Ordering::Relaxed)
                + open.iter().map(|ms| billed_minutes(*ms)).sum::<u64>(),
        }
    }

    pub fn connection_count(&self) -> usize {
        self.connections.lock().map(|c| c.len()).unwrap_or(0)
    }
}

fn status_of(response: &Value) -> u16 {
    response.get("statusCode").and_then(Value::as_u64).map(|s| s as u16).unwrap_or(200)
}

fn body_of(response: &Value) -> Option<String> {
    response.get("body").and_then(Value::as_str).filter(|b| !b.is_empty()).map(str::to_owned)
}

/// A WebSocket API's query parameters as API Gateway passes them: the last
/// value of each name, and every value in `multiValueQueryStringParameters`.
fn websocket_query(raw: &str) -> (QueryMap, QueryMap) {
    let mut last = HashMap::new();
    let mut all: HashMap<String, Vec<String>> = HashMap::new();
    for (name, value) in query_pairs(raw) {
        last.insert(name.clone(), value.clone());
        all.entry(name).or_default().push(value);
    }
    (QueryMap::from(last), QueryMap::from(all))
}

/// `GET /` with an Upgrade: the `$connect` phase. The handshake answers with the
/// authorizer's or the `$connect` handler's refusal, or upgrades.
async fn websocket_entry(
    State(gateway): State<Arc<Gateway>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    RawQuery(raw_query): RawQuery,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let (query, multi_query) = websocket_query(raw_query.as_deref().unwrap_or_default());
    let connection_id = new_connection_id();
    let user_agent = headers.get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let mut connection = Connection {
        outbound: mpsc::unbounded_channel().0,
        connected_at_ms: now_ms(),
        last_active_ms: AtomicU64::new(now_ms()),
        source_ip: peer.ip().to_string(),
        user_agent,
        authorizer: HashMap::new(),
    };
    let Some(connect_route) = gateway.route("$connect").cloned() else {
        return (StatusCode::FORBIDDEN, "no $connect route").into_response();
    };
    if let Some(authorizer) = &connect_route.authorizer {
        let mut event = AuthorizerEvent::default();
        event.type_ = Some("REQUEST".into());
        event.method_arn = Some(format!("arn:aws:execute-api:us-east-1:{}:{}/{}/$connect", LOCAL_ACCOUNT, gateway.api_id, gateway.stage));
        event.headers = headers.clone();
        event.multi_value_headers = headers.clone();
        event.query_string_parameters = query.clone();
        event.multi_value_query_string_parameters = multi_query.clone();
        event.request_context = authorizer_context(gateway.request_context(&connection_id, "$connect", "CONNECT", &connection));
        let policy = match gateway.lambda.invoke(authorizer, "$connect", &connection_id, event).await {
            Ok(policy) => policy,
            // API Gateway maps the authorizer's "Unauthorized" error to 401, any other failure to 500.
            Err(e) if e == "Unauthorized" => return (StatusCode::UNAUTHORIZED, "Unauthorized").into_response(),
            Err(e) => {
                warn!(error = %e, "authorizer failed");
                return (StatusCode::INTERNAL_SERVER_ERROR, "Internal server error").into_response();
            }
        };
        let allowed =
            policy["policyDocument"]["Statement"].as_array().is_some_and(|s| !s.is_empty() && s.iter().all(|st| st["Effect"] == "Allow"));
        if !allowed {
            return (StatusCode::FORBIDDEN, "Forbidden").into_response();
        }
        let mut context: HashMap<String, Value> =
            policy.get("context").and_then(Value::as_object).map(|c| c.clone().into_iter().collect()).unwrap_or_default();
        context.insert("principalId".into(), policy.get("principalId").cloned().unwrap_or(Value::Null));
        context.insert("integrationLatency".into(), json!(0));
        connection.authorizer = context;
    }
    let mut event = websocket_event(gateway.request_context(&connection_id, "$connect", "CONNECT", &connection), None);
    event.headers = headers.clone();
    event.multi_value_headers = headers;
    event.query_string_parameters = query;
    event.multi_value_query_string_parameters = multi_query;
    match gateway.lambda.invoke(&connect_route.function, "$connect", &connection_id, event).await {
        Ok(response) if (200..300).contains(&status_of(&response)) => {}
        Ok(response) => {
            let status = StatusCode::from_u16(status_of(&response)).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return (status, body_of(&response).unwrap_or_default()).into_response();
        }
        Err(e) => {
            warn!(error = %e, "$connect handler failed");
            return (StatusCode::INTERNAL_SERVER_ERROR, "Internal server error").into_response();
        }
    }
    // Registered before the upgrade completes: posts made meanwhile are queued.
    let (outbound, receiver) = mpsc::unbounded_channel();
    connection.outbound = outbound;
    let connection = Arc::new(connection);
    if let Ok(mut all) = gateway.connections.lock() {
        all.insert(connection_id.clone(), connection.clone());
    }
    info!(connection_id, "connected");
    // tungstenite's own limits sit above the quota so oversized frames reach us and get 1009.
    let limit = gateway.quotas.max_frame_bytes.max(gateway.quotas.max_post_bytes) * 8;
    upgrade
        .max_frame_size(limit)
        .max_message_size(limit)
        .on_upgrade(move |socket| run_connection(gateway, connection_id, connection, socket, receiver))
}

async fn run_connection(
    gateway: Arc<Gateway>,
    connection_id: String,
    connection: Arc<Connection>,
    socket: WebSocket,
    mut receiver: mpsc::UnboundedReceiver<Outbound>,
) {
    let (mut sink, mut stream) = socket.split();
    gateway.usage.connections.fetch_add(1, Ordering::Relaxed);
    let meter = gateway.clone();
    let writer = tokio::spawn(async move {
        let usage = &meter.usage;
        while let Some(out) = receiver.recv().await {
            let result = match out {
                Outbound::Text(text) => {
                    usage.frame(&usage.frames_out, text.len());
                    sink.send(Message::Text(text.into())).await
                }
                Outbound::Binary(bytes) => {
                    usage.frame(&usage.frames_out, bytes.len());
                    sink.send(Message::Binary(bytes.into())).await
                }
                Outbound::Close(code, reason) => {
                    let _ = sink.send(Message::Close(Some(CloseFrame { code, reason: Utf8Bytes::from_static(reason) }))).await;
                    break;
                }
            };
            if result.is_err() {
                break;
            }
        }
        let _ = sink.close().await;
    });
    let quotas = gateway.quotas.clone();
    let deadline = tokio::time::Instant::now() + quotas.max_connection_age;
    let close = |code, reason| {
        let _ = connection.outbound.send(Outbound::Close(code, reason));
    };
    let (status, reason) = loop {
        let next = tokio::select! {
            next = tokio::time::timeout(quotas.idle_timeout, stream.next()) => next,
            _ = tokio::time::sleep_until(deadline) => {
                close(CLOSE_GOING_AWAY, "Going away");
                break (CLOSE_GOING_AWAY, "maximum connection duration");
            }
        };
        let frame = match next {
            Err(_) => {
                close(CLOSE_GOING_AWAY, "Going away");
                break (CLOSE_GOING_AWAY, "idle timeout");
            }
            Ok(None) | Ok(Some(Err(_))) => break (1006, "connection lost"),
            Ok(Some(Ok(frame))) => frame,
        };
        connection.last_active_ms.store(now_ms(), Ordering::Relaxed);
        let body = match frame {
            Message::Text(text) => text.to_string(),
            Message::Binary(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Message::Close(_) => break (CLOSE_NORMAL, "client closed"),
            Message::Ping(_) | Message::Pong(_) => continue,
        };
        gateway.usage.frame(&gateway.usage.frames_in, body.len());
        if body.len() > quotas.max_frame_bytes {
            close(CLOSE_MESSAGE_TOO_BIG, "Message too big");
            break (CLOSE_MESSAGE_TOO_BIG, "frame too large");
        }
        // Each frame is its own invocation, running concurrently like Lambda.
        tokio::spawn(dispatch(gateway.clone(), connection_id.clone(), connection.clone(), body));
    };
    gateway.remove_connection(&connection_id);
    let lasted = now_ms().saturating_sub(connection.connected_at_ms);
    gateway.usage.closed_connection_ms.fetch_add(lasted, Ordering::Relaxed);
    gateway.usage.closed_connection_minutes.fetch_add(billed_minutes(lasted), Ordering::Relaxed);
    // Ends the writer whichever side closed (a second close frame is ignored).
    let _ = connection.outbound.send(Outbound::Close(CLOSE_NORMAL, "Bye"));
    let _ = tokio::time::timeout(Duration::from_secs(2), writer).await;
    info!(connection_id, status, reason, "disconnected");
    // `$disconnect` comes after the socket is gone, as in API Gateway (best effort).
    if let Some(route) = gateway.route("$disconnect").cloned() {
        let mut context = gateway.request_context(&connection_id, "$disconnect", "DISCONNECT", &connection);
        context.disconnect_status_code = Some(i64::from(status));
        context.disconnect_reason = Some(reason.into());
        let event = websocket_event(context, None);
        if let Err(e) = gateway.lambda.invoke(&route.function, "$disconnect", &connection_id, event).await {
            warn!(error = %e, "$disconnect handler failed");
        }
    }
}

async fn dispatch(gateway: Arc<Gateway>, connection_id: String, connection: Arc<Connection>, body: String) {
    let route_key = gateway.select_route(&body);
    let Some(route) = gateway.route(&route_key).cloned() else {
        // No route and no $default: API Gateway answers with this frame.
        let _ = connection.outbound.send(Outbound::Text(json!({"message": "Forbidden", "connectionId": connection_id}).to_string()));
        return;
    };
    let context = gateway.request_context(&connection_id, &route_key, "MESSAGE", &connection);
    let request_id = context.request_id.clone();
    let event = websocket_event(context, Some(body));
    let failed = || Some(json!({"message": "Internal server error", "connectionId": connection_id, "requestId": request_id}).to_string());
    let reply = match gateway.lambda.invoke(&route.function, &route_key, &connection_id, event).await {
        // API Gateway delivers no WebSocket message over 128 KB, a route's
        // response included: the reply is lost, as a failed integration's is.
        Ok(response) if body_of(&response).is_some_and(|body| body.len() > gateway.quotas.max_post_bytes) => {
            warn!(route = %route_key, limit = gateway.quotas.max_post_bytes, "route response over the message size limit: not delivered");
            failed()
        }
        Ok(response) => body_of(&response),
        Err(e) => {
            warn!(route = %route_key, error = %e, "handler failed");
            failed()
        }
    };
    if let (true, Some(reply)) = (route.has_route_response, reply) {
        let _ = connection.outbound.send(Outbound::Text(reply));
    }
}

fn aws_error(status: StatusCode, kind: &str, message: &str) -> Response {
    (status, [("x-amzn-errortype", kind), ("content-type", "application/json")], json!({ "message": message }).to_string()).into_response()
}

async fn management_api_with_stage(
    State(gateway): State<Arc<Gateway>>,
    Path((_stage, connection_id)): Path<(String, String)>,
    method: http::Method,
    uri: http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    management_api(State(gateway), Path(connection_id), method, uri, headers, body).await
}

/// `@connections/{id}`: POST sends data, GET describes, DELETE closes; an
/// unknown connection answers 410 GoneException like API Gateway.
async fn management_api(
    State(gateway): State<Arc<Gateway>>,
    Path(connection_id): Path<String>,
    method: http::Method,
    uri: http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(iam) = &gateway.iam {
        let arn = format!("{}/{method}/@connections/{connection_id}", gateway.connections_arn);
        if let Some(denied) = iam.refuse_manage_connections(&headers, &uri, &arn) {
            return denied;
        }
    }
    let Some(connection) = gateway.connection(&connection_id) else {
        return aws_error(StatusCode::GONE, "GoneException", "connection is gone");
    };
    match method.as_str() {
        "POST" => {
            match gateway.faults.as_ref().and_then(|f| f.pick("ApiGatewayManagementApi.PostToConnection")) {
                Some(Fault::Gone) => return aws_error(StatusCode::GONE, "GoneException", "connection is gone (injected)"),
                Some(Fault::ServerError) => {
                    return aws_error(StatusCode::INTERNAL_SERVER_ERROR, "InternalServerErrorException", "injected");
                }
                Some(Fault::Stall(how_long)) => tokio::time::sleep(how_long).await,
                _ => {}
            }
            if body.len() > gateway.quotas.max_post_bytes {
                return aws_error(StatusCode::PAYLOAD_TOO_LARGE, "PayloadTooLargeException", "payload too large");
            }
            let out = match String::from_utf8(body.to_vec()) {
                Ok(text) => Outbound::Text(text),
                Err(e) => Outbound::Binary(e.into_bytes()),
            };
            if connection.outbound.send(out).is_err() {
                return aws_error(StatusCode::GONE, "GoneException", "connection is gone");
            }
            StatusCode::OK.into_response()
        }
        "GET" => {
            let description = json!({
                "connectedAt": rfc3339(connection.connected_at_ms),
                "lastActiveAt": rfc3339(connection.last_active_ms.load(Ordering::Relaxed)),
                "identity": { "sourceIp": connection.source_ip, "userAgent": connection.user_agent },
            });
            ([("content-type", "application/json")], description.to_string()).into_response()
        }
        "DELETE" => {
            gateway.remove_connection(&connection_id);
            let _ = connection.outbound.send(Outbound::Close(CLOSE_NORMAL, "Connection deleted"));
            StatusCode::NO_CONTENT.into_response()
        }
        _ => StatusCode::METHOD_NOT_ALLOWED.into_response(),
    }
}
