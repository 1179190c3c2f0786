//! `unregisterDevice` route: removes one of the caller's devices (this one by
//! default) and revokes its tokens; allowed to a device over the limit too.

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use domain::protocol::UnregisterDeviceRequest;
use domain::{AppContext, messaging};
use transport::lambda::HandlerError;
use transport::websocket::route_for_any_device;

pub async fn handle(ctx: Arc<AppContext>, event: ApiGatewayWebsocketProxyRequest) -> Result<ApiGatewayProxyResponse, HandlerError> {
    Ok(route_for_any_device::<UnregisterDeviceRequest, _, _>(&event, |who, request| async move {
        messaging::unregister_device(&ctx, &who, &request.connection_id, request.request_id, request.body.device_id).await
    })
    .await)
}
