//! `listDevices` route: the caller's registered devices; allowed to a device
//! over the limit too, so it can choose one to unregister.

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use shared::lambda::HandlerError;
use shared::protocol::ListDevicesRequest;
use shared::websocket::route_for_any_device;
use shared::{AppContext, messaging};

pub async fn handle(ctx: Arc<AppContext>, event: ApiGatewayWebsocketProxyRequest) -> Result<ApiGatewayProxyResponse, HandlerError> {
    Ok(route_for_any_device::<ListDevicesRequest, _, _>(&event, |who, _| async move { messaging::list_devices(&ctx, &who).await }).await)
}
