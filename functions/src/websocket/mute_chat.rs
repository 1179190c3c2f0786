//! `muteChat` route: mutes or unmutes a chat's push previews for the caller.

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use domain::protocol::MuteChatRequest;
use domain::{AppContext, messaging};
use transport::lambda::HandlerError;
use transport::websocket::route;

pub async fn handle(ctx: Arc<AppContext>, event: ApiGatewayWebsocketProxyRequest) -> Result<ApiGatewayProxyResponse, HandlerError> {
    Ok(route::<MuteChatRequest, _, _>(&event, |who, request| async move { messaging::mute_chat(&ctx, &who, request.body).await }).await)
}
