//! `deleteChat` route: the chat leaves the caller's list and history.

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use domain::protocol::DeleteChatRequest;
use domain::{AppContext, messaging};
use transport::lambda::HandlerError;
use transport::websocket::route;

pub async fn handle(ctx: Arc<AppContext>, event: ApiGatewayWebsocketProxyRequest) -> Result<ApiGatewayProxyResponse, HandlerError> {
    Ok(route::<DeleteChatRequest, _, _>(&event, |who, request| async move { messaging::delete_chat(&ctx, &who, request.body).await }).await)
}
