//! `unregisterDevice` route: forgets one of the caller's devices (this one by default).

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use shared::lambda::HandlerError;
use shared::protocol::UnregisterDeviceRequest;
use shared::websocket::route;
use shared::{AppContext, messaging};

pub async fn handle(ctx: Arc<AppContext>, event: ApiGatewayWebsocketProxyRequest) -> Result<ApiGatewayProxyResponse, HandlerError> {
    Ok(route::<UnregisterDeviceRequest, _, _>(&event, |who, request| async move { messaging::unregister_device(&ctx, &who, request.body.device_id).await }).await)
}
