//! `typing` route: the caller is typing in a chat (or stopped), posted to the
//! other members' connected devices and never stored.

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use domain::protocol::TypingRequest;
use domain::{AppContext, messaging};
use transport::lambda::HandlerError;
use transport::websocket::route;

pub async fn handle(ctx: Arc<AppContext>, event: ApiGatewayWebsocketProxyRequest) -> Result<ApiGatewayProxyResponse, HandlerError> {
    Ok(route::<TypingRequest, _, _>(&event, |who, request| async move { messaging::typing(&ctx, &who, request.body).await }).await)
}
