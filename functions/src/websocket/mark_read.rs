//! `markRead` route: moves the caller's read position, syncs it to their other devices and tells senders.

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use domain::protocol::MarkReadRequest;
use domain::{AppContext, messaging};
use transport::lambda::HandlerError;
use transport::websocket::route;

pub async fn handle(ctx: Arc<AppContext>, event: ApiGatewayWebsocketProxyRequest) -> Result<ApiGatewayProxyResponse, HandlerError> {
    Ok(route::<MarkReadRequest, _, _>(&event, |who, request| async move { messaging::mark_read(&ctx, &who, request.body).await }).await)
}
