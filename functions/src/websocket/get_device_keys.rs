//! `getDeviceKeys` route: the devices of a chat's members with their identity keys.

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use domain::protocol::GetDeviceKeysRequest;
use domain::{AppContext, messaging};
use transport::lambda::HandlerError;
use transport::websocket::route;

pub async fn handle(ctx: Arc<AppContext>, event: ApiGatewayWebsocketProxyRequest) -> Result<ApiGatewayProxyResponse, HandlerError> {
    Ok(route::<GetDeviceKeysRequest, _, _>(
        &event,
        |who, request| async move { messaging::get_device_keys(&ctx, &who, request.body).await },
    )
    .await)
}
