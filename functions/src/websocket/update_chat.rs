//! `updateChat` route: an admin sets a group's name and/or description.

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use shared::lambda::HandlerError;
use shared::protocol::UpdateChatRequest;
use shared::websocket::route;
use shared::{AppContext, messaging};

pub async fn handle(ctx: Arc<AppContext>, event: ApiGatewayWebsocketProxyRequest) -> Result<ApiGatewayProxyResponse, HandlerError> {
    Ok(route::<UpdateChatRequest, _, _>(&event, |who, request| async move { messaging::update_chat(&ctx, &who, request.body).await }).await)
}
