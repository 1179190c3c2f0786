//! `unregisterPush` route: deletes this device's push endpoint (logout).

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use shared::lambda::HandlerError;
use shared::protocol::UnregisterPushRequest;
use shared::websocket::route;
use shared::{AppContext, messaging};

pub async fn handle(ctx: Arc<AppContext>, event: ApiGatewayWebsocketProxyRequest) -> Result<ApiGatewayProxyResponse, HandlerError> {
    Ok(route::<UnregisterPushRequest, _, _>(&event, |who, _request| async move { messaging::unregister_push(&ctx, &who).await }).await)
}
