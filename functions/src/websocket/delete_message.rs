//! `deleteMessage` route: a message deleted for everyone (its sender, or a group admin, within the
//! delete window) or for the caller's own devices.

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use shared::lambda::HandlerError;
use shared::protocol::DeleteMessageRequest;
use shared::websocket::route;
use shared::{AppContext, messaging};

pub async fn handle(ctx: Arc<AppContext>, event: ApiGatewayWebsocketProxyRequest) -> Result<ApiGatewayProxyResponse, HandlerError> {
    Ok(route::<DeleteMessageRequest, _, _>(&event, |who, request| async move { messaging::delete_message(&ctx, &who, request.body).await })
        .await)
}
