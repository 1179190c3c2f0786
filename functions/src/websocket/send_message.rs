//! `sendMessage` route: stores a message, fills the recipients' inboxes, fans it out.

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use domain::protocol::SendMessageRequest;
use domain::{AppContext, messaging};
use transport::lambda::HandlerError;
use transport::websocket::route;

pub async fn handle(ctx: Arc<AppContext>, event: ApiGatewayWebsocketProxyRequest) -> Result<ApiGatewayProxyResponse, HandlerError> {
    Ok(route::<SendMessageRequest, _, _>(&event, |who, request| async move { messaging::send_message(&ctx, &who, request.body).await })
        .await)
}
