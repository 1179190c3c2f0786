//! `sync` route: posts the device's inbox to its connection, then replies.

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use shared::lambda::HandlerError;
use shared::protocol::SyncRequest;
use shared::websocket::{connection_id, route};
use shared::{AppContext, messaging};

pub async fn handle(ctx: Arc<AppContext>, event: ApiGatewayWebsocketProxyRequest) -> Result<ApiGatewayProxyResponse, HandlerError> {
    let connection = connection_id(&event).unwrap_or_default().to_owned();
    Ok(route::<SyncRequest, _, _>(&event, |who, request| async move { messaging::sync(&ctx, &who, &connection, request.body).await }).await)
}
