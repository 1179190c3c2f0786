//! `messageStatus` route: per-recipient delivered/read state of one of the caller's messages.

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use domain::protocol::MessageStatusRequest;
use domain::{AppContext, messaging};
use transport::lambda::HandlerError;
use transport::websocket::route;

pub async fn handle(ctx: Arc<AppContext>, event: ApiGatewayWebsocketProxyRequest) -> Result<ApiGatewayProxyResponse, HandlerError> {
    Ok(route::<MessageStatusRequest, _, _>(&event, |who, request| async move {
        messaging::message_status(&ctx, &who, &request.body.chat_id, request.body.seq).await
    })
    .await)
}
