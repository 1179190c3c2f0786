//! `updateChat` route: an admin sets a group's name and/or description.

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use domain::protocol::UpdateChatRequest;
use domain::{AppContext, messaging};
use transport::lambda::HandlerError;
use transport::websocket::route;

pub async fn handle(ctx: Arc<AppContext>, event: ApiGatewayWebsocketProxyRequest) -> Result<ApiGatewayProxyResponse, HandlerError> {
    Ok(route::<UpdateChatRequest, _, _>(&event, |who, request| async move { messaging::update_chat(&ctx, &who, request.body).await }).await)
}
