//! `listChats` route: the caller's chats, most recently active first, with unread and mention counts.

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use domain::protocol::ListChatsRequest;
use domain::{AppContext, messaging};
use transport::lambda::HandlerError;
use transport::websocket::route;

pub async fn handle(ctx: Arc<AppContext>, event: ApiGatewayWebsocketProxyRequest) -> Result<ApiGatewayProxyResponse, HandlerError> {
    Ok(route::<ListChatsRequest, _, _>(&event, |who, request| async move { messaging::list_chats(&ctx, &who, request.body).await }).await)
}
