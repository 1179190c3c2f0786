//! `$default` route: frames whose `action` names no route, or that are not
//! JSON at all (API Gateway cannot select a route for those either).

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use domain::protocol::{Reply, ServerFrame, request_id_of};
use domain::{AppContext, AppError};
use serde_json::Value;
use transport::lambda::HandlerError;
use transport::websocket::{log_failure, response};

pub async fn handle(_ctx: Arc<AppContext>, event: ApiGatewayWebsocketProxyRequest) -> Result<ApiGatewayProxyResponse, HandlerError> {
    let body = event.body.as_deref();
    let err = match body.map(serde_json::from_str::<Value>) {
        None | Some(Err(_)) => AppError::MalformedJson,
        Some(Ok(value)) => match value.get("action") {
            Some(Value::String(action)) => AppError::UnknownAction(action.clone()),
            _ => AppError::invalid("a frame needs an \"action\""),
        },
    };
    log_failure(&event, &err);
    Ok(response(200, Reply { request_id: request_id_of(body), frame: ServerFrame::error(&err) }.to_json()))
}
