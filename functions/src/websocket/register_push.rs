//! `registerPush` route: gives this device an SNS platform endpoint for offline push.

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use shared::lambda::HandlerError;
use shared::protocol::RegisterPushRequest;
use shared::websocket::route;
use shared::{AppContext, messaging};

pub async fn handle(ctx: Arc<AppContext>, event: ApiGatewayWebsocketProxyRequest) -> Result<ApiGatewayProxyResponse, HandlerError> {
    Ok(route::<RegisterPushRequest, _, _>(&event, |who, request| async move { messaging::register_push(&ctx, &who, request.body).await })
        .await)
}
