//! `typing` route: the caller is typing in a chat (or stopped), posted to the
//! other members' connected devices and never stored.

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use shared::lambda::HandlerError;
use shared::protocol::TypingRequest;
use shared::websocket::route;
use shared::{AppContext, messaging};

pub async fn handle(ctx: Arc<AppContext>, event: ApiGatewayWebsocketProxyRequest) -> Result<ApiGatewayProxyResponse, HandlerError> {
    Ok(route::<TypingRequest, _, _>(&event, |who, request| async move { messaging::typing(&ctx, &who, request.body).await }).await)
}
