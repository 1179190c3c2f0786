//! The HTTP API side of a handler (`lambda_http`): who is asking (from the
//! Lambda authorizer's context), path and query parameters, JSON bodies, and
//! responses — JSON with `Cache-Control: private`, errors as `{code, message}`
//! with the HTTP status that means them.

use std::future::Future;

use aws_lambda_events::apigw::ApiGatewayV2httpResponse;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use domain::auth::{AUTH_EXPIRES_AT, AUTH_USER_ID, still_valid};
use domain::error::AppError;
use domain::ids::UserId;
use domain::protocol::HttpError;

pub type HttpResponse = Response<Body>;

/// User data must never sit in a shared cache.
pub const CACHE_CONTROL: &str = "private, no-store";

/// The user the authorizer let in (its context arrives as `requestContext.authorizer.lambda`),
/// while the token it checked has not expired.
pub fn caller(request: &Request) -> Result<UserId, AppError> {
    let context = request.request_context_ref().ok_or(AppError::Unauthorized)?;
    let authorizer = context.authorizer().ok_or(AppError::Unauthorized)?;
    let user_id = authorizer.fields.get(AUTH_USER_ID).and_then(Value::as_str).ok_or(AppError::Unauthorized)?;
    // API Gateway reuses the authorizer's yes for `ReauthorizeEvery`, even past the token's expiry.
    let expires_at = authorizer.fields.get(AUTH_EXPIRES_AT).and_then(Value::as_u64).ok_or(AppError::Unauthorized)?;
    if !still_valid(expires_at) {
        return Err(AppError::Unauthorized);
    }
    UserId::parse(user_id).map_err(|_| AppError::Unauthorized)
}

pub fn path_parameter(request: &Request, name: &str) -> Result<String, AppError> {
    let value = request.path_parameters_ref().and_then(|p| p.first(name)).map(str::to_owned);
    // Path parameters are chat, user and attachment ids: all keys.
    value
        .filter(|v| domain::ids::check_chat_id(v).is_ok())
        .ok_or_else(|| AppError::invalid(format!("path parameter {name} is missing, too long or not an id")))
}

pub fn query_parameter<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request.query_string_parameters_ref().and_then(|q| q.first(name))
}

/// An optional non-negative integer query parameter.
pub fn query_number<T: std::str::FromStr>(request: &Request, name: &str) -> Result<Option<T>, AppError> {
    query_parameter(request, name)
        .map(|v| v.parse().map_err(|_| AppError::invalid(format!("{name} must be a non-negative integer"))))
        .transpose()
}

pub fn json_body<T: DeserializeOwned>(request: &Request) -> Result<T, AppError> {
    let bytes: &[u8] = match request.body() {
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => b"",
    };
    let value: Value = serde_json::from_slice(bytes).map_err(|_| AppError::MalformedJson)?;
    serde_json::from_value(value).map_err(|e| AppError::invalid(e.to_string()))
}

fn json_response(status: u16, body: String) -> HttpResponse {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("cache-control", CACHE_CONTROL)
        .body(Body::Text(body))
        .expect("status and headers are valid")
}

pub fn error_response(err: &AppError) -> HttpResponse {
    let body = HttpError { code: err.code().to_owned(), message: err.to_string(), retry_after: err.retry_after_secs() };
    let mut response = json_response(err.http_status(), serde_json::to_string(&body).expect("errors serialise"));
    if let Some(seconds) = err.retry_after_secs() {
        response.headers_mut().insert("retry-after", seconds.into());
    }
    response
}

/// Runs one route: the caller first, then the operation; `status` on success.
pub async fn respond<T, F, Fut>(request: Request, status: u16, operation: F) -> HttpResponse
where
    T: Serialize,
    F: FnOnce(UserId, Request) -> Fut,
    Fut: Future<Output = Result<T, AppError>>,
{
    let route = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context.route_key.clone().unwrap_or_default(),
        _ => String::new(),
    };
    let result = match caller(&request) {
        Ok(user_id) => crate::lambda::before_deadline(operation(user_id, request)).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(value) => json_response(status, serde_json::to_string(&value).expect("responses serialise")),
        Err(err) => {
            err.log(&route);
            error_response(&err)
        }
    }
}

/// What `lambda_http` hands API Gateway for a response (payload format 2.0);
/// the local runtime uses it to answer exactly as the deployed API would.
pub fn to_gateway_response(response: HttpResponse) -> ApiGatewayV2httpResponse {
    let (parts, body) = response.into_parts();
    let mut out = ApiGatewayV2httpResponse::default();
    out.status_code = i64::from(parts.status.as_u16());
    out.headers = parts.headers;
    match body {
        Body::Text(text) => out.body = Some(Body::Text(text)),
        Body::Binary(bytes) => {
            out.body = Some(Body::Binary(bytes));
            out.is_base64_encoded = true;
        }
        _ => {}
    }
    out
}
