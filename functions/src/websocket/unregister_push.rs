//! `unregisterPush` route: deletes this device's push endpoint (logout).

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use domain::protocol::UnregisterPushRequest;
use domain::{AppContext, messaging};
use transport::lambda::HandlerError;
use transport::websocket::route;

pub async fn handle(ctx: Arc<AppContext>, event: ApiGatewayWebsocketProxyRequest) -> Result<ApiGatewayProxyResponse, HandlerError> {
    Ok(route::<UnregisterPushRequest, _, _>(&event, |who, _request| async move { messaging::unregister_push(&ctx, &who).await }).await)
}
