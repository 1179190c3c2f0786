//! `muteChat` route: mutes or unmutes a chat's push previews for the caller.

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use shared::lambda::HandlerError;
use shared::protocol::MuteChatRequest;
use shared::websocket::route;
use shared::{AppContext, messaging};

pub async fn handle(ctx: Arc<AppContext>, event: ApiGatewayWebsocketProxyRequest) -> Result<ApiGatewayProxyResponse, HandlerError> {
    Ok(route::<MuteChatRequest, _, _>(&event, |who, request| async move { messaging::mute_chat(&ctx, &who, request.body).await }).await)
}
