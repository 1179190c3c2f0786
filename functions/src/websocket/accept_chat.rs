//! `acceptChat` route: the caller accepts a message request or group invitation.

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use domain::protocol::AcceptChatRequest;
use domain::{AppContext, messaging};
use transport::lambda::HandlerError;
use transport::websocket::route;

pub async fn handle(ctx: Arc<AppContext>, event: ApiGatewayWebsocketProxyRequest) -> Result<ApiGatewayProxyResponse, HandlerError> {
    Ok(route::<AcceptChatRequest, _, _>(&event, |who, request| async move { messaging::accept_chat(&ctx, &who, request.body).await }).await)
}
