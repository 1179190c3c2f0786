//! `registerPush` route: gives this device an SNS platform endpoint for offline push.

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use domain::protocol::RegisterPushRequest;
use domain::{AppContext, messaging};
use transport::lambda::HandlerError;
use transport::websocket::route;

pub async fn handle(ctx: Arc<AppContext>, event: ApiGatewayWebsocketProxyRequest) -> Result<ApiGatewayProxyResponse, HandlerError> {
    Ok(route::<RegisterPushRequest, _, _>(&event, |who, request| async move { messaging::register_push(&ctx, &who, request.body).await })
        .await)
}
