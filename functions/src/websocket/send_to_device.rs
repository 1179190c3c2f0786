//! `sendToDevice` route: encrypted messages to single devices, through their inboxes.

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use domain::protocol::SendToDeviceRequest;
use domain::{AppContext, messaging};
use transport::lambda::HandlerError;
use transport::websocket::route;

pub async fn handle(ctx: Arc<AppContext>, event: ApiGatewayWebsocketProxyRequest) -> Result<ApiGatewayProxyResponse, HandlerError> {
    Ok(route::<SendToDeviceRequest, _, _>(&event, |who, request| async move { messaging::send_to_device(&ctx, &who, request.body).await })
        .await)
}
