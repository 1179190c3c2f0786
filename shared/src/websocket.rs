//! Translating API Gateway WebSocket events to domain calls and results to frames.

use std::future::Future;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use aws_lambda_events::encodings::Body;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::auth::Identity;
use crate::error::AppError;
use crate::protocol::{Envelope, ServerFrame, parse_request};

/// Keys of the `$connect` authorizer's context, which API Gateway copies into
/// `requestContext.authorizer` of every later event on the connection.
pub const AUTH_USER_ID: &str = "userId";
pub const AUTH_DEVICE_ID: &str = "deviceId";
/// Present (`"unregistered"`) on the connection of a device over the user's
/// device limit: it may only list and unregister devices.
pub const AUTH_DEVICE_STATUS: &str = "deviceStatus";
const UNREGISTERED: &str = "unregistered";

/// The context both authorizers (`$connect` and the HTTP API's) return for a caller.
pub fn authorizer_context(who: &Identity) -> Value {
    serde_json::json!({ AUTH_USER_ID: who.user_id, AUTH_DEVICE_ID: who.device_id })
}

/// The `$connect` authorizer's context for a device over the limit.
pub fn unregistered_device_context(who: &Identity) -> Value {
    let mut context = authorizer_context(who);
    context[AUTH_DEVICE_STATUS] = Value::from(UNREGISTERED);
    context
}

/// Whether the connection belongs to a registered device (see [`AUTH_DEVICE_STATUS`]).
pub fn device_registered(event: &ApiGatewayWebsocketProxyRequest) -> bool {
    event.request_context.authorizer.fields.get(AUTH_DEVICE_STATUS).and_then(Value::as_str) != Some(UNREGISTERED)
}

pub fn identity(event: &ApiGatewayWebsocketProxyRequest) -> Result<Identity, AppError> {
    let context = &event.request_context.authorizer.fields;
    let field = |name: &str| context.get(name).and_then(Value::as_str).map(str::to_owned);
    match (field(AUTH_USER_ID), field(AUTH_DEVICE_ID)) {
        (Some(user_id), Some(device_id)) => Ok(Identity { user_id, device_id }),
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
/// response (sent to the client by API Gateway) is always a frame. Only
/// registered devices get past it.
pub async fn route<T, F, Fut>(event: &ApiGatewayWebsocketProxyRequest, operation: F) -> ApiGatewayProxyResponse
where
    T: DeserializeOwned,
    F: FnOnce(Identity, Envelope<T>) -> Fut,
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
    F: FnOnce(Identity, Envelope<T>) -> Fut,
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
    F: FnOnce(Identity, Envelope<T>) -> Fut,
    Fut: Future<Output = Result<ServerFrame, AppError>>,
{
    let outcome = match (who, parse_request::<T>(event.body.as_deref())) {
        (Err(e), parsed) => Err((e, parsed.ok().and_then(|p| p.request_id))),
        (Ok(_), Err(e)) => Err(e),
        (Ok(who), Ok(envelope)) => {
            let request_id = envelope.request_id.clone();
            operation(who, envelope).await.map(|frame| with_request_id(frame, request_id.clone())).map_err(|e| (e, request_id))
        }
    };
    match outcome {
        Ok(frame) => response(200, frame.to_json()),
        Err((err, request_id)) => {
            log_failure(event, &err);
            response(200, ServerFrame::error(&err, request_id).to_json())
        }
    }
}

pub fn log_failure(event: &ApiGatewayWebsocketProxyRequest, err: &AppError) {
    err.log(event.request_context.route_key.as_deref().unwrap_or("?"));
}

fn with_request_id(mut frame: ServerFrame, id: Option<String>) -> ServerFrame {
    match &mut frame {
        ServerFrame::ChatCreated { request_id, .. }
        | ServerFrame::SendResult { request_id, .. }
        | ServerFrame::Synced { request_id, .. }
        | ServerFrame::Acked { request_id, .. }
        | ServerFrame::ParticipantsModified { request_id, .. }
        | ServerFrame::MarkedRead { request_id, .. }
        | ServerFrame::Chats { request_id, .. }
        | ServerFrame::DeviceUnregistered { request_id, .. }
        | ServerFrame::Devices { request_id, .. }
        | ServerFrame::MessageStatus { request_id, .. }
        | ServerFrame::PushRegistered { request_id, .. }
        | ServerFrame::PushUnregistered { request_id, .. }
        | ServerFrame::ChatMuted { request_id, .. }
        | ServerFrame::HeartbeatAck { request_id, .. }
        | ServerFrame::PresenceList { request_id, .. }
        | ServerFrame::Error { request_id, .. } => *request_id = id,
        ServerFrame::NewMessage(_)
        | ServerFrame::NewChat { .. }
        | ServerFrame::ChatUpdate { .. }
        | ServerFrame::ReadSync { .. }
        | ServerFrame::Receipt { .. }
        | ServerFrame::Presence(_) => {}
    }
    frame
}
