//! `acceptChat` route: the caller accepts a message request or group invitation.

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use shared::lambda::HandlerError;
use shared::protocol::AcceptChatRequest;
use shared::websocket::route;
use shared::{AppContext, messaging};

pub async fn handle(ctx: Arc<AppContext>, event: ApiGatewayWebsocketProxyRequest) -> Result<ApiGatewayProxyResponse, HandlerError> {
    Ok(route::<AcceptChatRequest, _, _>(&event, |who, request| async move { messaging::accept_chat(&ctx, &who, request.body).await }).await)
}
