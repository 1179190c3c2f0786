//! `listDevices` route: the caller's registered devices; allowed to a device
//! over the limit too, so it can choose one to unregister.

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use domain::protocol::ListDevicesRequest;
use domain::{AppContext, messaging};
use transport::lambda::HandlerError;
use transport::websocket::route_for_any_device;

pub async fn handle(ctx: Arc<AppContext>, event: ApiGatewayWebsocketProxyRequest) -> Result<ApiGatewayProxyResponse, HandlerError> {
    Ok(route_for_any_device::<ListDevicesRequest, _, _>(&event, |who, _| async move { messaging::list_devices(&ctx, &who).await }).await)
}
