//! `unregisterDevice` route: removes one of the caller's devices (this one by
//! default) and revokes its tokens; allowed to a device over the limit too.

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use shared::lambda::HandlerError;
use shared::protocol::UnregisterDeviceRequest;
use shared::websocket::{connection_id, route_for_any_device};
use shared::{AppContext, messaging};

pub async fn handle(ctx: Arc<AppContext>, event: ApiGatewayWebsocketProxyRequest) -> Result<ApiGatewayProxyResponse, HandlerError> {
    let connection = connection_id(&event).unwrap_or_default().to_owned();
    Ok(route_for_any_device::<UnregisterDeviceRequest, _, _>(&event, |who, request| async move {
        messaging::unregister_device(&ctx, &who, &connection, request.request_id, request.body.device_id).await
    })
    .await)
}
