//! The local API Gateway HTTP API: matches requests to the template's HttpApi
//! routes, runs the Lambda authorizer as API Gateway does (401 without asking
//! when the identity header is missing, 403 when it says no, answers cached
//! per token for `ReauthorizeEvery`), and invokes the `lambda_http` handlers
//! with payload format 2.0 events. With a `CorsConfiguration` it answers
//! preflights itself and adds the CORS headers, as API Gateway does.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_lambda_events::apigw::{
    ApiGatewayRequestAuthorizer, ApiGatewayV2CustomAuthorizerV2Request as AuthorizerEvent, ApiGatewayV2httpRequest as HttpEvent,
    ApiGatewayV2httpRequestContext as HttpContext,
};
use aws_lambda_events::query_map::QueryMap;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use percent_encoding::percent_decode_str;
use serde_json::{Value, json};

use crate::aws_conventions::{LOCAL_ACCOUNT, new_request_id, query_pairs, request_time};
use crate::lambda::LambdaHost;
use crate::template::{HttpApi, HttpRoute};

/// API Gateway's HTTP API payload limit.
pub const MAX_PAYLOAD_BYTES: usize = 10 * 1024 * 1024;
/// How long an authorizer's answer is reused for the same identity (`ReauthorizeEvery: 60`).
const AUTHORIZER_CACHE_TTL: Duration = Duration::from_secs(60);

pub struct HttpGateway {
    api: HttpApi,
    lambda: Arc<LambdaHost>,
    stage: String,
    domain_name: String,
    authorized: Mutex<HashMap<String, (Instant, Value)>>,
}

fn gateway_message(status: StatusCode, message: &str) -> Response {
    (status, [("content-type", "application/json")], json!({ "message": message }).to_string()).into_response()
}

/// Matches `/chats/{chatId}/messages` against a request path, returning the
/// path parameters (percent-decoded, as API Gateway passes them).
fn match_path(template: &str, path: &str) -> Option<BTreeMap<String, String>> {
    let mut parameters = BTreeMap::new();
    let wanted: Vec<&str> = template.trim_matches('/').split('/').collect();
    let given: Vec<&str> = path.trim_matches('/').split('/').collect();
    if wanted.len() != given.len() {
        return None;
    }
    for (w, g) in wanted.iter().zip(&given) {
        match w.strip_prefix('{').and_then(|n| n.strip_suffix('}')) {
            Some(name) if !g.is_empty() => {
                parameters.insert(name.to_owned(), percent_decode_str(g).decode_utf8().ok()?.into_owned());
            }
            Some(_) => return None,
            None if w == g => {}
            None => return None,
        }
    }
    Some(parameters)
}

/// API Gateway's single-value view of the query string (repeats joined by commas).
/// HTTP API (payload 2.0) joins a repeated parameter's values with commas.
fn query_parameters(raw: &str) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in query_pairs(raw) {
        out.entry(k).and_modify(|e| *e = format!("{e},{v}")).or_insert(v);
    }
    out
}

impl HttpGateway {
    pub fn new(api: HttpApi, lambda: Arc<LambdaHost>, stage: String, domain_name: String) -> Self {
        Self { api, lambda, stage, domain_name, authorized: Mutex::default() }
    }

    pub fn router(self: Arc<Self>) -> Router {
        // axum's own 2 MB body limit would answer before API Gateway's 10 MB one.
        Router::new().fallback(handle).layer(DefaultBodyLimit::disable()).with_state(self)
    }

    fn find_route(&self, method: &Method, path: &str) -> Option<(&HttpRoute, BTreeMap<String, String>)> {
        self.api.routes.iter().filter(|r| r.method == method.as_str()).find_map(|r| Some((r, match_path(&r.path, path)?)))
    }

    fn request_context(&self, route_key: &str, method: &Method, path: &str, source: SocketAddr, headers: &HeaderMap) -> HttpContext {
        let now = domain::time::now_millis();
        let mut context = HttpContext::default();
        context.account_id = Some(LOCAL_ACCOUNT.into());
        context.apiid = Some("local".into());
        context.domain_name = Some(self.domain_name.clone());
        context.domain_prefix = Some("local".into());
        context.http.method = method.clone();
        context.http.path = Some(path.into());
        context.http.protocol = Some("HTTP/1.1".into());
        context.http.source_ip = Some(source.ip().to_string());
        context.http.user_agent = headers.get("user-agent").and_then(|v| v.to_str().ok()).map(str::to_owned);
        context.request_id = Some(new_request_id());
        context.route_key = Some(route_key.into());
        context.stage = Some(self.stage.clone());
        context.time = Some(request_time(now));
        context.time_epoch = now as i64;
        context
    }

    /// The authorizer's context for this request, or the response API Gateway gives instead.
    async fn authorize(
        &self,
        route_key: &str,
        method: &Method,
        uri: &Uri,
        source: SocketAddr,
        headers: &HeaderMap,
    ) -> Result<Value, Response> {
        let Some(authorizer) = &self.api.authorizer else { return Ok(Value::Null) };
        let mut identity = Vec::new();
        for name in &authorizer.identity_headers {
            match headers.get(name.as_str()).and_then(|v| v.to_str().ok()).filter(|v| !v.is_empty()) {
                Some(value) => identity.push(value.to_owned()),
                None => return Err(gateway_message(StatusCode::UNAUTHORIZED, "Unauthorized")),
            }
        }
        let cache_key = identity.join("\n");
        if let Some((at, context)) = self.authorized.lock().ok().and_then(|c| c.get(&cache_key).cloned())
            && at.elapsed() < AUTHORIZER_CACHE_TTL
        {
            return Ok(context);
        }
        let mut event = AuthorizerEvent::default();
        event.version = Some("2.0".into());
        event.type_ = Some("REQUEST".into());
        event.route_arn = Some(format!("arn:aws:execute-api:us-east-1:{}:local/{}/{}{}", LOCAL_ACCOUNT, self.stage, method, uri.path()));
        event.identity_source = Some(identity);
        event.route_key = Some(route_key.into());
        event.raw_path = Some(uri.path().into());
        event.raw_query_string = Some(uri.query().unwrap_or_default().into());
        event.headers = headers.clone();
        event.query_string_parameters = query_parameters(uri.query().unwrap_or_default()).into_iter().collect();
        event.request_context = self.request_context(route_key, method, uri.path(), source, headers);
        let answer = self.lambda.invoke(&authorizer.function, &format!("{route_key} (authorizer)"), "", event).await;
        match answer {
            Ok(answer) if answer.get("isAuthorized").and_then(Value::as_bool) == Some(true) => {
                let context = answer.get("context").cloned().unwrap_or_else(|| json!({}));
                if let Ok(mut cache) = self.authorized.lock() {
                    cache.insert(cache_key, (Instant::now(), context.clone()));
                }
                Ok(context)
            }
            Ok(_) => Err(gateway_message(StatusCode::FORBIDDEN, "Forbidden")),
            Err(e) => {
                tracing::warn!(error = %e, "HTTP authorizer failed");
                Err(gateway_message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"))
            }
        }
    }
}

async fn handle(
    State(gateway): State<Arc<HttpGateway>>,
    ConnectInfo(source): ConnectInfo<SocketAddr>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let origin = headers.get("origin").and_then(|o| o.to_str().ok()).map(str::to_owned);
    // What `Access-Control-Allow-Origin` says to this origin, if it is allowed.
    let allowed_origin = match (&gateway.api.cors, origin) {
        (Some(cors), Some(_)) if cors.allow_origins.iter().any(|o| o == "*") => Some("*".to_owned()),
        (Some(cors), Some(origin)) if cors.allow_origins.contains(&origin) => Some(origin),
        _ => None,
    };
    if method == Method::OPTIONS
        && headers.contains_key("access-control-request-method")
        && let (Some(cors), Some(origin)) = (&gateway.api.cors, &allowed_origin)
    {
        return preflight(cors, origin);
    }
    let mut response = route_request(&gateway, source, method, uri, headers, body).await;
    if let Some(origin) = allowed_origin.and_then(|o| HeaderValue::from_str(&o).ok()) {
        response.headers_mut().insert("access-control-allow-origin", origin);
    }
    response
}

fn preflight(cors: &crate::template::Cors, origin: &str) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::NO_CONTENT;
    let headers = response.headers_mut();
    let mut set = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    set("access-control-allow-origin", origin.to_owned());
    set("access-control-allow-methods", cors.allow_methods.join(","));
    set("access-control-allow-headers", cors.allow_headers.join(","));
    if let Some(max_age) = cors.max_age {
        set("access-control-max-age", max_age.to_string());
    }
    response
}

async fn route_request(gateway: &HttpGateway, source: SocketAddr, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    // The deployed URL carries the stage (`/prod/chats`); routes do not.
    let stage_prefix = format!("/{}", gateway.stage);
    let path = uri.path().strip_prefix(&stage_prefix).filter(|p| p.is_empty() || p.starts_with('/')).unwrap_or(uri.path());
    let path = if path.is_empty() { "/" } else { path };
    let Some((route, path_parameters)) = gateway.find_route(&method, path) else {
        return gateway_message(StatusCode::NOT_FOUND, "Not Found");
    };
    if body.len() > MAX_PAYLOAD_BYTES {
        return gateway_message(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large");
    }
    let route_key = format!("{} {}", route.method, route.path);
    let context = match gateway.authorize(&route_key, &method, &uri, source, &headers).await {
        Ok(context) => context,
        Err(response) => return response,
    };
    let mut request_context = gateway.request_context(&route_key, &method, uri.path(), source, &headers);
    if let Value::Object(fields) = context {
        let mut authorizer = ApiGatewayRequestAuthorizer::default();
        authorizer.fields = fields.into_iter().collect();
        request_context.authorizer = Some(authorizer);
    }
    let (body, is_base64) = match std::str::from_utf8(&body) {
        Ok(text) => (text.to_owned(), false),
        Err(_) => (STANDARD.encode(&body), true),
    };
    let raw_query = uri.query().unwrap_or_default();
    let mut event = HttpEvent::default();
    event.version = Some("2.0".into());
    event.route_key = Some(route_key.clone());
    event.raw_path = Some(uri.path().into());
    event.raw_query_string = Some(raw_query.into());
    event.headers = headers;
    event.query_string_parameters = QueryMap::from(query_parameters(raw_query).into_iter().collect::<HashMap<_, _>>());
    event.path_parameters = path_parameters.into_iter().collect();
    event.request_context = request_context;
    event.is_base64_encoded = is_base64;
    event.body = (!body.is_empty()).then_some(body);
    match gateway.lambda.invoke(&route.function, &route_key, "", event).await {
        Ok(output) => lambda_output_to_response(&output),
        Err(e) => {
            tracing::warn!(function = %route.function, error = %e, "HTTP handler failed");
            gateway_message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
        }
    }
}

/// A payload 2.0 response (`statusCode`, `headers`, `body`, `isBase64Encoded`, `cookies`) as HTTP.
fn lambda_output_to_response(output: &Value) -> Response {
    let status = output.get("statusCode").and_then(Value::as_u64).and_then(|s| StatusCode::from_u16(s as u16).ok());
    let Some(status) = status else {
        return gateway_message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
    };
    let body = output.get("body").and_then(Value::as_str).unwrap_or_default();
    let body = if output.get("isBase64Encoded").and_then(Value::as_bool) == Some(true) {
        STANDARD.decode(body).unwrap_or_default()
    } else {
        body.as_bytes().to_vec()
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    for (name, value) in output.get("headers").and_then(Value::as_object).into_iter().flatten() {
        if let (Ok(name), Some(Ok(value))) = (HeaderName::try_from(name.as_str()), value.as_str().map(HeaderValue::from_str)) {
            response.headers_mut().insert(name, value);
        }
    }
    for cookie in output.get("cookies").and_then(Value::as_array).into_iter().flatten() {
        if let Some(Ok(value)) = cookie.as_str().map(HeaderValue::from_str) {
            response.headers_mut().append("set-cookie", value);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_match_templates_and_decode_parameters() {
        let found = match_path("/chats/{chatId}/messages", "/chats/dm-a%2Eb/messages").unwrap();
        assert_eq!(found["chatId"], "dm-a.b");
        assert!(match_path("/chats/{chatId}/messages", "/chats//messages").is_none());
        assert!(match_path("/chats/{chatId}", "/chats/x/messages").is_none());
        assert_eq!(match_path("/chats", "/chats").unwrap().len(), 0);
    }

    #[test]
    fn repeated_query_parameters_are_joined_like_api_gateway() {
        let q = query_parameters("limit=5&a=1&a=2&cursor=x%3D");
        assert_eq!(q["limit"], "5");
        assert_eq!(q["a"], "1,2");
        assert_eq!(q["cursor"], "x=");
    }
}
