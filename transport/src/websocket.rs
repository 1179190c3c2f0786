//! Translating API Gateway WebSocket events to domain calls and results to frames.

use std::future::Future;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use aws_lambda_events::encodings::Body;
use serde::de::DeserializeOwned;
use serde_json::Value;

use domain::auth::{AUTH_DEVICE_ID, AUTH_DEVICE_STATUS, AUTH_USER_ID, Identity, UNREGISTERED};
use domain::error::AppError;
use domain::ids::{DeviceId, UserId};
use domain::protocol::{Reply, Request, ServerFrame, parse_request};

/// Whether the connection belongs to a registered device (see [`AUTH_DEVICE_STATUS`]).
pub fn device_registered(event: &ApiGatewayWebsocketProxyRequest) -> bool {
    event.request_context.authorizer.fields.get(AUTH_DEVICE_STATUS).and_then(Value::as_str) != Some(UNREGISTERED)
}

pub fn identity(event: &ApiGatewayWebsocketProxyRequest) -> Result<Identity, AppError> {
    let context = &event.request_context.authorizer.fields;
    let field = |name: &str| context.get(name).and_then(Value::as_str).map(str::to_owned);
    match (field(AUTH_USER_ID), field(AUTH_DEVICE_ID)) {
        (Some(user_id), Some(device_id)) => match (UserId::parse(user_id), DeviceId::parse(device_id)) {
            (Ok(user_id), Ok(device_id)) => Ok(Identity { user_id, device_id }),
            _ => Err(AppError::Unauthorized),
        },
        _ => Err(AppError::Unauthorized),
    }
}

pub fn connection_id(event: &ApiGatewayWebsocketProxyRequest) -> Result<&str, AppError> {
    event.request_context.connection_id.as_deref().ok_or_else(|| AppError::invalid("event has no connectionId"))
}

pub fn response(status: u16, body: String) -> ApiGatewayProxyResponse {
    let mut response = ApiGatewayProxyResponse::default();
    response.status_code = i64::from(status);
    response.body = Some(Body::Text(body));
    response
}

/// Runs one route: identity and body parsing first, then the operation. Every
/// failure becomes an error frame that echoes the `requestId`; the route's
/// response (sent to the client by API Gateway) is a frame, except for a
/// quiet success (an ack or heartbeat sent without a `requestId`), which
/// gets none. Only registered devices get past it.
pub async fn route<T, F, Fut>(event: &ApiGatewayWebsocketProxyRequest, operation: F) -> ApiGatewayProxyResponse
where
    T: DeserializeOwned,
    F: FnOnce(Identity, Request<T>) -> Fut,
    Fut: Future<Output = Result<ServerFrame, AppError>>,
{
    let who = identity(event).and_then(|who| if device_registered(event) { Ok(who) } else { Err(AppError::DeviceNotRegistered) });
    run_route(event, who, operation).await
}

/// [`route`] for the routes a device over the limit may use too (listing and
/// unregistering devices, so a user whose devices are all lost gets back in).
pub async fn route_for_any_device<T, F, Fut>(event: &ApiGatewayWebsocketProxyRequest, operation: F) -> ApiGatewayProxyResponse
where
    T: DeserializeOwned,
    F: FnOnce(Identity, Request<T>) -> Fut,
    Fut: Future<Output = Result<ServerFrame, AppError>>,
{
    run_route(event, identity(event), operation).await
}

async fn run_route<T, F, Fut>(
    event: &ApiGatewayWebsocketProxyRequest,
    who: Result<Identity, AppError>,
    operation: F,
) -> ApiGatewayProxyResponse
where
    T: DeserializeOwned,
    F: FnOnce(Identity, Request<T>) -> Fut,
    Fut: Future<Output = Result<ServerFrame, AppError>>,
{
    let connection = connection_id(event).map(str::to_owned);
    let (request_id, outcome) = match (who, connection, parse_request::<T>(event.body.as_deref())) {
        // Who is asking comes first: a stranger learns nothing about the frame.
        (Err(e), _, parsed) | (_, Err(e), parsed) => (parsed.ok().and_then(|p| p.request_id), Err(e)),
        (Ok(_), Ok(_), Err((e, request_id))) => (request_id, Err(e)),
        (Ok(who), Ok(connection_id), Ok(envelope)) => {
            let request_id = envelope.request_id.clone();
            let request = Request { request_id: envelope.request_id, connection_id, body: envelope.body };
            (request_id, crate::lambda::before_deadline(operation(who, request)).await)
        }
    };
    let frame = outcome.unwrap_or_else(|err| {
        log_failure(event, &err);
        ServerFrame::error(&err)
    });
    if request_id.is_none() && frame.is_quiet() {
        // No body: API Gateway sends the client nothing.
        let mut silent = ApiGatewayProxyResponse::default();
        silent.status_code = 200;
        return silent;
    }
    response(200, Reply { request_id, frame }.to_json())
}

pub fn log_failure(event: &ApiGatewayWebsocketProxyRequest, err: &AppError) {
    err.log(event.request_context.route_key.as_deref().unwrap_or("?"));
}
