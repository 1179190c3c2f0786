//! `uploadKeys` route: a device's end-to-end keys (identity keys once, one-time and fallback keys).

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use domain::protocol::UploadKeysRequest;
use domain::{AppContext, messaging};
use transport::lambda::HandlerError;
use transport::websocket::route;

pub async fn handle(ctx: Arc<AppContext>, event: ApiGatewayWebsocketProxyRequest) -> Result<ApiGatewayProxyResponse, HandlerError> {
    Ok(route::<UploadKeysRequest, _, _>(&event, |who, request| async move { messaging::upload_keys(&ctx, &who, request.body).await }).await)
}
