//! `sync` route: posts the device's inbox to its connection, then replies.

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use domain::protocol::SyncRequest;
use domain::{AppContext, messaging};
use transport::lambda::HandlerError;
use transport::websocket::route;

pub async fn handle(ctx: Arc<AppContext>, event: ApiGatewayWebsocketProxyRequest) -> Result<ApiGatewayProxyResponse, HandlerError> {
    Ok(route::<SyncRequest, _, _>(
        &event,
        |who, request| async move { messaging::sync(&ctx, &who, &request.connection_id, request.body).await },
    )
    .await)
}
