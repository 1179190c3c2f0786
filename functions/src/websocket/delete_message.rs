//! `deleteMessage` route: a message deleted for everyone (its sender, or a group admin, within the
//! delete window) or for the caller's own devices.

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use domain::protocol::DeleteMessageRequest;
use domain::{AppContext, messaging};
use transport::lambda::HandlerError;
use transport::websocket::route;

pub async fn handle(ctx: Arc<AppContext>, event: ApiGatewayWebsocketProxyRequest) -> Result<ApiGatewayProxyResponse, HandlerError> {
    Ok(route::<DeleteMessageRequest, _, _>(&event, |who, request| async move { messaging::delete_message(&ctx, &who, request.body).await })
        .await)
}
