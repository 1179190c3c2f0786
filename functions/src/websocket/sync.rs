//! `sync` route: posts the device's inbox to its connection, then replies.

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use shared::lambda::HandlerError;
use shared::protocol::SyncRequest;
use shared::websocket::route;
use shared::{AppContext, messaging};

pub async fn handle(ctx: Arc<AppContext>, event: ApiGatewayWebsocketProxyRequest) -> Result<ApiGatewayProxyResponse, HandlerError> {
    Ok(route::<SyncRequest, _, _>(
        &event,
        |who, request| async move { messaging::sync(&ctx, &who, &request.connection_id, request.body).await },
    )
    .await)
}
