//! `sendMessage` route: stores a message, fills the recipients' inboxes, fans it out.

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use shared::lambda::HandlerError;
use shared::protocol::SendMessageRequest;
use shared::websocket::route;
use shared::{AppContext, messaging};

pub async fn handle(ctx: Arc<AppContext>, event: ApiGatewayWebsocketProxyRequest) -> Result<ApiGatewayProxyResponse, HandlerError> {
    Ok(route::<SendMessageRequest, _, _>(&event, |who, request| async move { messaging::send_message(&ctx, &who, request.body).await })
        .await)
}
