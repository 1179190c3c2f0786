//! `claimKeys` route: one one-time key per device, each handed out once.

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use domain::protocol::ClaimKeysRequest;
use domain::{AppContext, messaging};
use transport::lambda::HandlerError;
use transport::websocket::route;

pub async fn handle(ctx: Arc<AppContext>, event: ApiGatewayWebsocketProxyRequest) -> Result<ApiGatewayProxyResponse, HandlerError> {
    Ok(route::<ClaimKeysRequest, _, _>(&event, |who, request| async move { messaging::claim_keys(&ctx, &who, request.body).await }).await)
}
